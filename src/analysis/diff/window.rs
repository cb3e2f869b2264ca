//! Aligning two step sequences as they stream in, holding a window of each instead of both
//! whole.
//!
//! Steps whose keys are equal at the front of both sides align as equal one by one (the common
//! start every alignment takes). Where they differ, up to [`WINDOW`] steps of each side are
//! aligned as [`align`](super::align()) aligns two whole sequences (the same two passes), and the
//! rows are kept up to the furthest point at most half of each window in: the end of a window is
//! not the end of its side, so what lines up near it may line up differently with what follows.
//! A side that has ended is aligned to its end. Then the common start is taken again.
//!
//! When both sides fit in a window past their common start, this is the whole alignment; a pair
//! whose stretches of difference are shorter than half a window gets the same rows as the whole
//! alignment (tested); past that, the rows are a valid alignment (every step once, in order,
//! equal rows on equal keys) that may not be the shortest. The memory is two windows of 16-byte
//! signatures and Myers' arrays for them (about 4 MiB), however long the sessions.

use similar::{Algorithm, DiffTag, capture_diff_deadline};
use std::collections::VecDeque;
use std::ops::{Index, Range};
use std::time::{Duration, Instant};

use super::align::{Op, Row, by_kind, only};
use super::signature::Sig;

/// Steps of each side aligned at once past the common start.
pub const WINDOW: usize = 1 << 16;

/// A row with the signatures of its steps (`kind` numbered alike on both sides).
pub type Emit<'e> = dyn FnMut(Row, Option<&Sig>, Option<&Sig>) + 'e;

/// Aligns the signatures `a` and `b` yield, their kinds numbered alike on both sides, in
/// windows of `window` steps (at least 2; [`WINDOW`] for `flightrec diff`), handing each row to
/// `emit` in order. `budget` bounds the time spent searching for the shortest alignment (not the
/// time spent waiting for steps); past it, stretches that differ are paired up in order.
pub fn align_windows(
    a: impl Iterator<Item = Sig>,
    b: impl Iterator<Item = Sig>,
    window: usize,
    budget: Option<Duration>,
    emit: &mut Emit<'_>,
) {
    let window = window.max(2);
    let (mut a, mut b) = (Side::new(a), Side::new(b));
    let mut spent = Duration::ZERO;
    loop {
        // The common start.
        loop {
            a.fill(1);
            b.fill(1);
            match (a.buf.front(), b.buf.front()) {
                (Some(x), Some(y)) if x.key == y.key => {
                    let row = Row {
                        op: Op::Equal,
                        a: Some(a.start),
                        b: Some(b.start),
                    };
                    emit(row, Some(x), Some(y));
                    a.take(1);
                    b.take(1);
                }
                _ => break,
            }
        }
        a.fill(window);
        b.fill(window);
        if a.buf.is_empty() && b.buf.is_empty() {
            return;
        }
        let started = Instant::now();
        let deadline = budget.map(|b| started + b.saturating_sub(spent));
        let (na, nb) = (a.buf.len(), b.buf.len());
        let ops = capture_diff_deadline(
            Algorithm::Myers,
            &Keys(&a.buf),
            0..na,
            &Keys(&b.buf),
            0..nb,
            deadline,
        );
        let (kept, ta, tb) = cut(ops.iter().map(|op| op.as_tag_tuple()), a.reach(), b.reach());
        let (wa, wb) = (&a.buf, &b.buf);
        let (a0, b0) = (a.start, b.start);
        let mut rows = |r: Row| {
            let (sa, sb) = (r.a.map(|i| &wa[i]), r.b.map(|j| &wb[j]));
            let row = Row {
                op: r.op,
                a: r.a.map(|i| i + a0),
                b: r.b.map(|j| j + b0),
            };
            emit(row, sa, sb);
        };
        for (tag, ra, rb) in kept {
            match tag {
                DiffTag::Equal => ra.zip(rb).for_each(|(i, j)| {
                    rows(Row {
                        op: Op::Equal,
                        a: Some(i),
                        b: Some(j),
                    })
                }),
                DiffTag::Delete => only(&mut rows, ra, Op::OnlyInA),
                DiffTag::Insert => only(&mut rows, rb, Op::OnlyInB),
                DiffTag::Replace => {
                    let ca: Vec<u32> = ra.clone().map(|i| wa[i].kind).collect();
                    let cb: Vec<u32> = rb.clone().map(|j| wb[j].kind).collect();
                    by_kind(&mut rows, &ca, &cb, ra, rb, deadline);
                }
            }
        }
        spent += started.elapsed();
        a.take(ta);
        b.take(tb);
    }
}

/// An operation of Myers' alignment: what it is, and the steps of each side it covers.
type Stretch = (DiffTag, Range<usize>, Range<usize>);

/// The operations up to the furthest point at most `reach_a` steps into A's window and
/// `reach_b` into B's, cutting an equal run, a removal or an addition where it crosses that
/// point; and how many steps of each side they take. A replaced stretch is kept whole or not at
/// all, unless it comes first: then the part of it within reach is kept, so that every cut takes
/// a step.
fn cut(
    ops: impl Iterator<Item = Stretch>,
    reach_a: usize,
    reach_b: usize,
) -> (Vec<Stretch>, usize, usize) {
    let mut kept = Vec::new();
    // Where the operations kept so far end. Counted from their lengths: the empty side of a
    // removal or an addition does not always start where the one before ended.
    let (mut i, mut j) = (0, 0);
    for (tag, ra, rb) in ops {
        let (la, lb) = (ra.len(), rb.len());
        // How far into this operation each side goes.
        let (ka, kb) = if i + la <= reach_a && j + lb <= reach_b {
            (la, lb)
        } else {
            match tag {
                DiffTag::Equal => {
                    let k = (reach_a - i).min(reach_b - j);
                    (k, k)
                }
                DiffTag::Delete => (reach_a - i, 0),
                DiffTag::Insert => (0, reach_b - j),
                DiffTag::Replace if kept.is_empty() => (la.min(reach_a - i), lb.min(reach_b - j)),
                DiffTag::Replace => (0, 0),
            }
        };
        if ka + kb > 0 {
            kept.push((tag, i..i + ka, j..j + kb));
        }
        (i, j) = (i + ka, j + kb);
        if (ka, kb) != (la, lb) {
            break;
        }
    }
    (kept, i, j)
}

/// One side's steps: the window read so far and where it starts.
struct Side<I> {
    steps: I,
    buf: VecDeque<Sig>,
    /// The position of `buf[0]` among the side's steps.
    start: usize,
    ended: bool,
}

impl<I: Iterator<Item = Sig>> Side<I> {
    fn new(steps: I) -> Side<I> {
        Side {
            steps,
            buf: VecDeque::new(),
            start: 0,
            ended: false,
        }
    }

    /// Reads steps until the window holds `n` or the side ends.
    fn fill(&mut self, n: usize) {
        while self.buf.len() < n && !self.ended {
            match self.steps.next() {
                Some(s) => self.buf.push_back(s),
                None => self.ended = true,
            }
        }
    }

    /// How far into the window rows may be kept: all of it at the side's end, else half.
    fn reach(&self) -> usize {
        if self.ended {
            self.buf.len()
        } else {
            self.buf.len().div_ceil(2)
        }
    }

    fn take(&mut self, n: usize) {
        self.buf.drain(..n);
        self.start += n;
    }
}

/// The keys of a window, as Myers reads them.
struct Keys<'w>(&'w VecDeque<Sig>);

impl Index<usize> for Keys<'_> {
    type Output = u64;
    fn index(&self, i: usize) -> &u64 {
        &self.0[i].key
    }
}
