//! Two sessions' steps aligned before any event is read back: [`Alignment`] counts the rows as
//! the alignment hands them over and keeps only the first that is not equal and the rows around
//! it, with their steps' signatures, for [`report`](super::report) to read their events.

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use super::align::{Op, Row};
use super::signature::{SharedKinds, Sig, Sigs};
use super::{AlignmentSummary, DiffOptions, window};

/// Two sessions' steps aligned, before any event is read back: the rows are counted as they
/// come, and only the first that is not equal and the rows around it are kept, with their
/// steps' signatures.
pub struct Alignment {
    pub(super) counts: AlignmentSummary,
    /// The position of the first row that is not equal, and the rows shown around it.
    pub(super) first: Option<usize>,
    pub(super) shown: Vec<Row>,
    /// The steps at the divergence: A's and B's (for a step only one side has, what the other
    /// side does next; `None` at its end).
    pub(super) at: (Option<usize>, Option<usize>),
    /// The signatures of the steps shown, by position, on each side.
    pub(super) sigs: (BTreeMap<usize, Sig>, BTreeMap<usize, Sig>),
    /// The names of the kinds the signatures number.
    pub(super) kinds: Vec<Box<str>>,
}

impl Alignment {
    /// Aligns two sessions' signatures, both in memory.
    pub fn new(sa: &Sigs, sb: &Sigs, opts: &DiffOptions) -> Alignment {
        // The kinds as numbers shared by both sides.
        let kinds = SharedKinds::default();
        let shared = |s: &Sigs| -> Vec<u32> { s.kinds.iter().map(|k| kinds.number(k)).collect() };
        let (ka, kb) = (shared(sa), shared(sb));
        let renumber = |ks: &[u32], s: &Sig| Sig {
            kind: ks.get(s.kind as usize).copied().unwrap_or(u32::MAX),
            ..*s
        };
        Alignment::streamed(
            sa.steps.iter().map(|s| renumber(&ka, s)),
            sb.steps.iter().map(|s| renumber(&kb, s)),
            opts,
            &kinds,
        )
    }

    /// Aligns two sessions' signatures as they come (from [`Signer`](super::Signer)s sharing `kinds`), holding
    /// a window of each ([`window`]).
    pub fn streamed(
        a: impl Iterator<Item = Sig>,
        b: impl Iterator<Item = Sig>,
        opts: &DiffOptions,
        kinds: &SharedKinds,
    ) -> Alignment {
        Alignment::in_windows(a, b, opts, kinds, window::WINDOW)
    }

    /// [`Alignment::streamed`] with windows of `window` steps.
    pub fn in_windows(
        a: impl Iterator<Item = Sig>,
        b: impl Iterator<Item = Sig>,
        opts: &DiffOptions,
        kinds: &SharedKinds,
        window: usize,
    ) -> Alignment {
        let mut al = Alignment {
            counts: AlignmentSummary::default(),
            first: None,
            shown: Vec::new(),
            at: (None, None),
            sigs: (BTreeMap::new(), BTreeMap::new()),
            kinds: Vec::new(),
        };
        // Rows kept before the divergence (the last `context`), and still to keep after it.
        let mut before = VecDeque::with_capacity(opts.context + 1);
        let mut after = 0;
        let mut n = 0;
        window::align_windows(a, b, window, opts.budget, &mut |r, sa, sb| {
            match r.op {
                Op::Equal => al.counts.equal += 1,
                Op::Changed => al.counts.changed += 1,
                Op::OnlyInA => al.counts.only_in_a += 1,
                Op::OnlyInB => al.counts.only_in_b += 1,
            }
            let row = (r, sa.copied(), sb.copied());
            if al.first.is_none() {
                if r.op == Op::Equal {
                    before.push_back(row);
                    if before.len() > opts.context {
                        before.pop_front();
                    }
                } else {
                    al.first = Some(n);
                    for kept in before.drain(..).chain([row]) {
                        al.keep(kept);
                    }
                    al.at = (r.a, r.b);
                    after = opts.context;
                }
            } else {
                if after > 0 {
                    al.keep(row);
                    after -= 1;
                }
                if al.at.0.is_none() && r.a.is_some() {
                    al.at.0 = r.a;
                    al.keep_sigs(row);
                }
                if al.at.1.is_none() && r.b.is_some() {
                    al.at.1 = r.b;
                    al.keep_sigs(row);
                }
            }
            n += 1;
        });
        al.kinds = kinds.names();
        al
    }

    fn keep(&mut self, row: (Row, Option<Sig>, Option<Sig>)) {
        self.shown.push(row.0);
        self.keep_sigs(row);
    }

    fn keep_sigs(&mut self, (r, sa, sb): (Row, Option<Sig>, Option<Sig>)) {
        if let (Some(i), Some(s)) = (r.a, sa) {
            self.sigs.0.insert(i, s);
        }
        if let (Some(j), Some(s)) = (r.b, sb) {
            self.sigs.1.insert(j, s);
        }
    }

    /// The indices among A's and B's events of the steps the report shows.
    pub fn shown_events(&self) -> (BTreeSet<usize>, BTreeSet<usize>) {
        let events = |m: &BTreeMap<usize, Sig>| m.values().map(|s| s.index as usize).collect();
        (events(&self.sigs.0), events(&self.sigs.1))
    }

    /// How many steps each side has.
    pub fn steps(&self) -> (usize, usize) {
        let c = &self.counts;
        let both = c.equal + c.changed;
        ((both + c.only_in_a) as usize, (both + c.only_in_b) as usize)
    }
}
