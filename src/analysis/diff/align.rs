//! Aligning two step sequences.
//!
//! Two passes of Myers' algorithm (the `similar` crate): first over the steps' full keys, so that
//! an extra step on one side leaves everything after it aligned; then, inside each stretch the
//! first pass could not match, over the steps' kinds (type and tool), so that the same tool
//! called with another input is one *changed* step rather than one removed and one added. What
//! still does not match inside such a stretch is paired up in order as changed steps, and the
//! longer side's remainder is only in that side.

use rustc_hash::FxHashMap;
use serde::Serialize;
use similar::{Algorithm, DiffTag, capture_diff_slices_deadline};
use std::ops::Range;
use std::time::Instant;

use super::signature::{Sig, Step};

/// What alignment reads of a step: its digest and its kind.
pub trait Keyed {
    fn key(&self) -> u128;
    fn kind(&self) -> &str;
}

impl Keyed for Step<'_> {
    fn key(&self) -> u128 {
        self.key
    }
    fn kind(&self) -> &str {
        &self.kind
    }
}

impl Keyed for Sig {
    fn key(&self) -> u128 {
        self.key
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
    let (ka, kb) = intern(a, b, |s| s.key());
    let (ca, cb) = intern(a, b, |s| s.kind());
    let mut rows = Vec::with_capacity(a.len().max(b.len()));
    for op in capture_diff_slices_deadline(Algorithm::Myers, &ka, &kb, deadline) {
        let (tag, ra, rb) = op.as_tag_tuple();
        match tag {
            DiffTag::Equal => rows.extend(ra.zip(rb).map(|(i, j)| Row {
                op: Op::Equal,
                a: Some(i),
                b: Some(j),
            })),
            DiffTag::Delete => only(&mut rows, ra, Op::OnlyInA),
            DiffTag::Insert => only(&mut rows, rb, Op::OnlyInB),
            DiffTag::Replace => by_kind(&mut rows, &ca, &cb, ra, rb, deadline),
        }
    }
    rows
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

fn only(rows: &mut Vec<Row>, range: Range<usize>, op: Op) {
    rows.extend(range.map(|i| match op {
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
    }));
}

/// The second pass over a stretch that did not match: align by kind of step.
fn by_kind(
    rows: &mut Vec<Row>,
    ca: &[u32],
    cb: &[u32],
    ra: Range<usize>,
    rb: Range<usize>,
    deadline: Option<Instant>,
) {
    let (a0, b0) = (ra.start, rb.start);
    for op in capture_diff_slices_deadline(Algorithm::Myers, &ca[ra], &cb[rb], deadline) {
        let (tag, ra, rb) = op.as_tag_tuple();
        let ra = ra.start + a0..ra.end + a0;
        let rb = rb.start + b0..rb.end + b0;
        match tag {
            DiffTag::Delete => only(rows, ra, Op::OnlyInA),
            DiffTag::Insert => only(rows, rb, Op::OnlyInB),
            DiffTag::Equal | DiffTag::Replace => {
                // Equal kinds, or different kinds in the same place: changed, paired in order.
                let n = ra.len().min(rb.len());
                rows.extend(ra.clone().zip(rb.clone()).map(|(i, j)| Row {
                    op: Op::Changed,
                    a: Some(i),
                    b: Some(j),
                }));
                only(rows, ra.start + n..ra.end, Op::OnlyInA);
                only(rows, rb.start + n..rb.end, Op::OnlyInB);
            }
        }
    }
}
