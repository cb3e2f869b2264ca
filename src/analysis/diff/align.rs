//! Aligning two step sequences.
//!
//! Two passes of Myers' algorithm (the `similar` crate): first over the steps' full keys, so that
//! an extra step on one side leaves everything after it aligned; then, inside each stretch the
//! first pass could not match, over the steps' kinds (type and tool), so that the same tool
//! called with another input is one *changed* step rather than one removed and one added. What
//! still does not match inside such a stretch is paired up in order as changed steps, and the
//! longer side's remainder is only in that side.
//!
//! [`align`] aligns two whole sequences; `window` aligns two streams the same way, a window at a
//! time.

use rustc_hash::FxHashMap;
use serde::Serialize;
use similar::{Algorithm, DiffTag, capture_diff_deadline};
use std::ops::{Index, Range};
use std::time::Instant;

use super::signature::Step;

/// What alignment reads of a step: its digest and its kind.
pub trait Keyed {
    fn key(&self) -> &u64;
    fn kind(&self) -> &str;
}

impl Keyed for Step<'_> {
    fn key(&self) -> &u64 {
        &self.key
    }
    fn kind(&self) -> &str {
        &self.kind
    }
}

/// How a pair of aligned steps compares.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Op {
    Equal,
    Changed,
    OnlyInA,
    OnlyInB,
}

impl Op {
    pub fn as_str(self) -> &'static str {
        match self {
            Op::Equal => "equal",
            Op::Changed => "changed",
            Op::OnlyInA => "only_in_a",
            Op::OnlyInB => "only_in_b",
        }
    }
}

/// One row of the alignment: indices into the two step sequences.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Row {
    pub op: Op,
    pub a: Option<usize>,
    pub b: Option<usize>,
}

/// Aligns `a` with `b`. With a `deadline`, a very long, very different pair gets a quick
/// alignment that may not be the shortest once the deadline passes.
pub fn align<S: Keyed>(a: &[S], b: &[S], deadline: Option<Instant>) -> Vec<Row> {
    let (ca, cb) = intern(a, b, |s| s.kind());
    let mut rows = Vec::with_capacity(a.len().max(b.len()));
    each_row(
        &Keys(a),
        a.len(),
        &Keys(b),
        b.len(),
        (&|i| ca[i], &|j| cb[j]),
        deadline,
        &mut |r| rows.push(r),
    );
    rows
}

/// The keys of steps, as the diff reads them.
struct Keys<'s, S>(&'s [S]);

impl<S: Keyed> Index<usize> for Keys<'_, S> {
    type Output = u64;
    fn index(&self, i: usize) -> &u64 {
        self.0[i].key()
    }
}

/// The kind of each side's step by position, as numbers shared by both sides.
type Kinds<'k> = (&'k dyn Fn(usize) -> u32, &'k dyn Fn(usize) -> u32);

/// The two passes: by key over the whole, then by kind inside each stretch that did not match.
fn each_row<A, B>(
    a: &A,
    na: usize,
    b: &B,
    nb: usize,
    kinds: Kinds<'_>,
    deadline: Option<Instant>,
    emit: &mut dyn FnMut(Row),
) where
    A: Index<usize, Output = u64> + ?Sized,
    B: Index<usize, Output = u64> + ?Sized,
{
    for op in capture_diff_deadline(Algorithm::Myers, a, 0..na, b, 0..nb, deadline) {
        let (tag, ra, rb) = op.as_tag_tuple();
        match tag {
            DiffTag::Equal => ra.zip(rb).for_each(|(i, j)| {
                emit(Row {
                    op: Op::Equal,
                    a: Some(i),
                    b: Some(j),
                })
            }),
            DiffTag::Delete => only(emit, ra, Op::OnlyInA),
            DiffTag::Insert => only(emit, rb, Op::OnlyInB),
            DiffTag::Replace => {
                let ca: Vec<u32> = ra.clone().map(kinds.0).collect();
                let cb: Vec<u32> = rb.clone().map(kinds.1).collect();
                by_kind(emit, &ca, &cb, ra, rb, deadline);
            }
        }
    }
}

/// Each distinct key (a digest or a text) as a small number, the same on both sides.
fn intern<'s, S, K: std::hash::Hash + Eq>(
    a: &'s [S],
    b: &'s [S],
    text: impl Fn(&'s S) -> K,
) -> (Vec<u32>, Vec<u32>) {
    let mut ids: FxHashMap<K, u32> = FxHashMap::default();
    let mut id = |s: &'s S| {
        let next = ids.len() as u32;
        *ids.entry(text(s)).or_insert(next)
    };
    let ka = a.iter().map(&mut id).collect();
    let kb = b.iter().map(&mut id).collect();
    (ka, kb)
}

pub(super) fn only(emit: &mut dyn FnMut(Row), range: Range<usize>, op: Op) {
    range.for_each(|i| {
        emit(match op {
            Op::OnlyInB => Row {
                op,
                a: None,
                b: Some(i),
            },
            _ => Row {
                op,
                a: Some(i),
                b: None,
            },
        })
    });
}

/// The second pass over a stretch that did not match: align by kind of step (`ca` and `cb`:
/// the kinds of the stretch's steps).
pub(super) fn by_kind(
    emit: &mut dyn FnMut(Row),
    ca: &[u32],
    cb: &[u32],
    ra: Range<usize>,
    rb: Range<usize>,
    deadline: Option<Instant>,
) {
    let (a0, b0) = (ra.start, rb.start);
    for op in similar::capture_diff_slices_deadline(Algorithm::Myers, ca, cb, deadline) {
        let (tag, ra, rb) = op.as_tag_tuple();
        let ra = ra.start + a0..ra.end + a0;
        let rb = rb.start + b0..rb.end + b0;
        match tag {
            DiffTag::Delete => only(emit, ra, Op::OnlyInA),
            DiffTag::Insert => only(emit, rb, Op::OnlyInB),
            DiffTag::Equal | DiffTag::Replace => {
                // Equal kinds, or different kinds in the same place: changed, paired in order.
                let n = ra.len().min(rb.len());
                ra.clone().zip(rb.clone()).for_each(|(i, j)| {
                    emit(Row {
                        op: Op::Changed,
                        a: Some(i),
                        b: Some(j),
                    })
                });
                only(emit, ra.start + n..ra.end, Op::OnlyInA);
                only(emit, rb.start + n..rb.end, Op::OnlyInB);
            }
        }
    }
}
