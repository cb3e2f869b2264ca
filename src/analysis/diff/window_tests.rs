//! Aligning in windows: always a valid alignment, and the whole alignment's rows on pairs that
//! differ in scattered short stretches.

use proptest::prelude::*;
use proptest::test_runner::TestCaseError;
use std::time::Duration;

use super::align::{Keyed, Op, Row, align};
use super::signature::Sig;
use super::window::align_windows;
use crate::props::check;

/// A step for the whole alignment, made of the same key and kind as a signature.
struct Whole {
    key: u64,
    kind: String,
}

impl Keyed for Whole {
    fn key(&self) -> &u64 {
        &self.key
    }
    fn kind(&self) -> &str {
        &self.kind
    }
}

/// Signatures of `keys`: kind `key % 3`, index the position.
fn sigs(keys: &[u64]) -> Vec<Sig> {
    keys.iter()
        .enumerate()
        .map(|(i, &key)| Sig {
            key,
            index: i as u32,
            kind: (key % 3) as u32,
        })
        .collect()
}

fn windowed(a: &[u64], b: &[u64], window: usize, budget: Option<Duration>) -> Vec<Row> {
    let (sa, sb) = (sigs(a), sigs(b));
    let mut rows = Vec::new();
    align_windows(
        sa.iter().copied(),
        sb.iter().copied(),
        window,
        budget,
        &mut |r, x, y| {
            // The signatures handed with a row are the row's steps.
            assert_eq!(x.map(|s| s.index as usize), r.a);
            assert_eq!(y.map(|s| s.index as usize), r.b);
            rows.push(r)
        },
    );
    rows
}

fn whole(a: &[u64], b: &[u64]) -> Vec<Row> {
    let steps = |keys: &[u64]| -> Vec<Whole> {
        keys.iter()
            .map(|&key| Whole {
                key,
                kind: (key % 3).to_string(),
            })
            .collect()
    };
    align(&steps(a), &steps(b), None)
}

/// Every step once and in order on each side, and rows whose op fits their steps.
fn valid(a: &[u64], b: &[u64], rows: &[Row]) -> Result<(), TestCaseError> {
    let ia: Vec<usize> = rows.iter().filter_map(|r| r.a).collect();
    let ib: Vec<usize> = rows.iter().filter_map(|r| r.b).collect();
    prop_assert_eq!(ia, (0..a.len()).collect::<Vec<_>>());
    prop_assert_eq!(ib, (0..b.len()).collect::<Vec<_>>());
    for r in rows {
        match (r.op, r.a, r.b) {
            (Op::Equal, Some(i), Some(j)) => prop_assert_eq!(a[i], b[j]),
            (Op::Changed, Some(_), Some(_)) | (Op::OnlyInA, Some(_), None) => {}
            (Op::OnlyInB, None, Some(_)) => {}
            other => prop_assert!(false, "row {other:?}"),
        }
    }
    Ok(())
}

#[test]
fn windows_of_any_size_give_a_valid_alignment_of_any_pair() {
    // Few distinct keys: many ways to line them up, and windows cut through long differences.
    let keys = || prop::collection::vec(0u64..5, 0..150);
    let strategy = (keys(), keys(), 2usize..48, any::<bool>());
    check("windows_valid", 256, strategy, |(a, b, window, hurry)| {
        let budget = hurry.then_some(Duration::ZERO);
        valid(&a, &b, &windowed(&a, &b, window, budget))
    });
}

#[test]
fn a_window_holding_both_sides_is_the_whole_alignment() {
    let keys = || prop::collection::vec(0u64..5, 0..60);
    check("windows_whole", 256, (keys(), keys()), |(a, b)| {
        prop_assert_eq!(windowed(&a, &b, 64, None), whole(&a, &b));
        Ok(())
    });
}

/// An edit of `b` from `a`: at a position, remove, add or change up to 3 steps.
#[derive(Debug, Clone)]
enum Edit {
    Remove(usize),
    Add(usize),
    Change(usize),
}

/// `a` with `edits`, each at least 8 steps after the one before; added and changed steps get
/// keys `a` does not have.
fn edited(a: &[u64], edits: &[(usize, Edit)]) -> Vec<u64> {
    let mut b = Vec::new();
    let mut fresh = 1_000_000;
    let mut i = 0;
    for (gap, edit) in edits {
        let to = (i + 8 + gap).min(a.len());
        b.extend_from_slice(&a[i..to]);
        i = to;
        match *edit {
            Edit::Remove(n) => i = (i + n).min(a.len()),
            Edit::Add(n) | Edit::Change(n) => {
                for _ in 0..n {
                    b.push(fresh);
                    fresh += 1;
                }
                if let Edit::Change(n) = *edit {
                    i = (i + n).min(a.len());
                }
            }
        }
    }
    b.extend_from_slice(&a[i..]);
    b
}

#[test]
fn scattered_short_differences_align_in_windows_as_in_the_whole() {
    let edit = prop_oneof![
        (1usize..4).prop_map(Edit::Remove),
        (1usize..4).prop_map(Edit::Add),
        (1usize..4).prop_map(Edit::Change),
    ];
    let strategy = (
        10usize..400,
        prop::collection::vec((0usize..30, edit), 0..20),
        32usize..80,
    );
    check("windows_alike", 128, strategy, |(n, edits, window)| {
        // Distinct keys: the steps that were not edited are the one longest match.
        let a: Vec<u64> = (0..n as u64).collect();
        let b = edited(&a, &edits);
        prop_assert_eq!(windowed(&a, &b, window, None), whole(&a, &b));
        Ok(())
    });
}

#[test]
fn a_side_that_ended_is_aligned_to_its_end_however_long_the_other() {
    // B adds 5 steps in the middle and 200 at the end; windows of 16.
    let a: Vec<u64> = (0..40).collect();
    let b: Vec<u64> = (0..20)
        .chain(500..505)
        .chain(20..40)
        .chain(700..900)
        .collect();
    let rows = windowed(&a, &b, 16, None);
    let count = |op| rows.iter().filter(|r| r.op == op).count();
    assert_eq!(count(Op::Equal), 40);
    assert_eq!(count(Op::OnlyInB), 205);
    assert_eq!(count(Op::OnlyInA) + count(Op::Changed), 0);
    assert_eq!(rows, whole(&a, &b));
}
