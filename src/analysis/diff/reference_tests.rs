//! The diff from step signatures and the few events read back equals, on pairs of every sample,
//! the diff as it was computed before, with both sessions' events in memory.

use super::*;
use crate::analysis::explain::ExplainInput;
use crate::analysis::state::StateBuilder;
use crate::analysis::stats::StatsBuilder;
use crate::inspect::diff::{shown_events, step_signatures};

/// `diff` as it was before it streamed: every event in memory, steps holding their events.
fn whole(a: &Side<'_>, b: &Side<'_>, opts: &DiffOptions) -> SessionDiff {
    let sa = steps(a.events);
    let sb = steps(b.events);
    let rows = align(&sa, &sb, None);
    let mut alignment = AlignmentSummary::default();
    for r in &rows {
        match r.op {
            Op::Equal => alignment.equal += 1,
            Op::Changed => alignment.changed += 1,
            Op::OnlyInA => alignment.only_in_a += 1,
            Op::OnlyInB => alignment.only_in_b += 1,
        }
    }
    let first = rows.iter().position(|r| r.op != Op::Equal);
    let refer_a = |i: usize| step_ref(&sa[i], i, a.summary.first_ts);
    let refer_b = |i: usize| step_ref(&sb[i], i, b.summary.first_ts);
    let (first_divergence, context) = match first {
        None => (None, Vec::new()),
        Some(at) => {
            let row = rows[at];
            // For a step only one side has, show what the other side does next.
            let ia = row.a.or_else(|| rows[at..].iter().find_map(|r| r.a));
            let ib = row.b.or_else(|| rows[at..].iter().find_map(|r| r.b));
            let (differs, changes) = match (ia, ib) {
                (Some(i), Some(j)) => compare(&sa[i], &sb[j]),
                _ => (Vec::new(), Changes::default()),
            };
            let divergence = Divergence {
                op: row.op,
                a: ia.map(refer_a),
                b: ib.map(refer_b),
                differs,
                changes: changes.listed,
                more_changes: changes.more,
            };
            let from = at.saturating_sub(opts.context);
            let to = (at + opts.context + 1).min(rows.len());
            let context = rows[from..to]
                .iter()
                .map(|r| AlignedStep {
                    op: r.op,
                    a: r.a.map(refer_a),
                    b: r.b.map(refer_b),
                })
                .collect();
            (Some(divergence), context)
        }
    };
    let sizes = |s: &Side<'_>, n: usize| Sizes {
        events: s.events.len() as u64,
        steps: n as u64,
        duration_ms: s
            .summary
            .first_ts
            .zip(s.summary.last_ts)
            .map(|(f, l)| (l - f) as f64 / 1000.0),
    };
    SessionDiff {
        a: whole_side_info(a, sa.len()),
        b: whole_side_info(b, sb.len()),
        same: first_divergence.is_none(),
        alignment,
        first_divergence,
        context,
        deltas: deltas::deltas(a.stats, b.stats, sizes(a, sa.len()), sizes(b, sb.len())),
    }
}

fn whole_side_info(s: &Side<'_>, steps: usize) -> SideInfo {
    let x = s.explanation;
    SideInfo {
        session_id: s.summary.id.clone(),
        title: s.summary.title.clone(),
        event_count: s.events.len() as u64,
        steps: steps as u64,
        first_event_at: s.summary.first_ts.map(format_micros),
        last_event_at: s.summary.last_ts.map(format_micros),
        status: x.state.clone(),
        stop_reason: x.stop_reason.clone(),
        verdict: x.verdict.as_str().to_string(),
        verdict_summary: x.summary.clone(),
        attention: x.attention,
    }
}

type Parts = (SessionSummary, Vec<EventRow>, Stats, Explanation);

fn parts(store: &crate::store::Store, id: &str) -> Parts {
    let summary = store.require_session(id).unwrap();
    let events = store
        .events(id, &crate::store::TimelineQuery::default())
        .unwrap();
    let mut sb = StatsBuilder::new(id, None);
    let mut st = StateBuilder::new(id);
    for e in &events {
        sb.push(&e.as_ref());
        st.push(&e.as_ref());
    }
    let stats = sb.finish(summary.last_ts).report();
    let x = crate::analysis::explain::explain(
        &st.finish(summary.last_ts),
        &ExplainInput {
            session_id: id,
            at: None,
            capture: None,
            now: summary.last_ts.unwrap_or(0),
            stuck_after: 60_000_000,
        },
    );
    (summary, events, stats, x)
}

fn side(p: &Parts) -> Side<'_> {
    Side {
        summary: &p.0,
        events: &p.1,
        stats: &p.2,
        explanation: &p.3,
    }
}

fn fact(p: &Parts, event_count: u64) -> SideFacts<'_> {
    SideFacts {
        summary: &p.0,
        event_count,
        stats: &p.2,
        explanation: &p.3,
    }
}

/// Every sample's parts, in the store's order of sessions.
fn sample_sides(store: &crate::store::Store) -> (Vec<String>, Vec<Parts>) {
    let ids: Vec<String> = store
        .sessions()
        .unwrap()
        .into_iter()
        .map(|s| s.id)
        .collect();
    assert!(ids.len() >= 20);
    let sides = ids.iter().map(|id| parts(store, id)).collect();
    (ids, sides)
}

#[test]
fn the_streamed_diff_equals_the_whole_one_on_pairs_of_every_sample() {
    let (_dir, store) = crate::export::streaming_tests::every_sample();
    let (ids, sides) = sample_sides(&store);
    let sigs: Vec<(u64, Sigs)> = ids
        .iter()
        .map(|id| step_signatures(&store, id).unwrap())
        .collect();
    let mut diverged = 0;
    for context in [0, 3] {
        let opts = DiffOptions {
            context,
            budget: None,
        };
        // Each sample against itself, the next one and one further on, on both sides.
        let n = sides.len();
        let pairs = (0..n).flat_map(|i| [(i, i), (i, (i + 1) % n), (i, (i + 7) % n)]);
        for (i, j) in pairs {
            let ((a, (na, sa)), (b, (nb, sb))) = ((&sides[i], &sigs[i]), (&sides[j], &sigs[j]));
            {
                let want = whole(&side(a), &side(b), &opts);
                assert_eq!(diff(&side(a), &side(b), &opts), want);
                let al = Alignment::new(sa, sb, &opts);
                let (shown_a, shown_b) = al.shown_events();
                let ea = shown_events(&store, &a.0.id, &shown_a).unwrap();
                let eb = shown_events(&store, &b.0.id, &shown_b).unwrap();
                let (fa, fb) = (fact(a, *na), fact(b, *nb));
                let got = report(&al, (&fa, &|i| ea.get(&i)), (&fb, &|i| eb.get(&i)));
                assert_eq!(got.as_ref(), Some(&want), "{} vs {}", a.0.id, b.0.id);
                diverged += usize::from(!want.same);
            }
        }
    }
    assert!(diverged > 50, "{diverged}");
}

#[test]
fn sample_pairs_aligned_in_tiny_windows_as_they_stream_diverge_where_the_whole_diff_does() {
    use crate::inspect::diff::sign_steps;
    let (_dir, store) = crate::export::streaming_tests::every_sample();
    let (_, sides) = sample_sides(&store);
    let opts = DiffOptions {
        context: 2,
        budget: None,
    };
    let n = sides.len();
    let mut diverged = 0;
    for window in [2, 5, 16] {
        for (i, j) in (0..n).flat_map(|i| [(i, i), (i, (i + 1) % n), (i, (i + 3) % n)]) {
            let (a, b) = (&sides[i], &sides[j]);
            let want = whole(&side(a), &side(b), &opts);
            // As `flightrec diff` reads them: signers sharing one table of kinds, in chunks.
            let kinds = SharedKinds::default();
            let signed = |id: &str| {
                let mut steps = Vec::new();
                let events = sign_steps(&store, id, &kinds, |c| {
                    steps.push(c);
                    true
                })
                .unwrap();
                (events, steps)
            };
            let ((na, sa), (nb, sb)) = (signed(&a.0.id), signed(&b.0.id));
            let flat = |s: Vec<Vec<Sig>>| s.into_iter().flatten();
            let al = Alignment::in_windows(flat(sa), flat(sb), &opts, &kinds, window);
            let (shown_a, shown_b) = al.shown_events();
            let ea = shown_events(&store, &a.0.id, &shown_a).unwrap();
            let eb = shown_events(&store, &b.0.id, &shown_b).unwrap();
            let (fa, fb) = (fact(a, na), fact(b, nb));
            let got = report(&al, (&fa, &|i| ea.get(&i)), (&fb, &|i| eb.get(&i)))
                .unwrap_or_else(|| panic!("an event shown was not read: {i} vs {j}"));
            let what = format!("{} vs {} in windows of {window}", a.0.id, b.0.id);
            // The same sides, steps and verdicts, and the same point of divergence: the end of
            // the common start, whatever the alignment makes of what follows.
            assert_eq!(
                (&got.a, &got.b, got.same),
                (&want.a, &want.b, want.same),
                "{what}"
            );
            assert_eq!(got.deltas, want.deltas, "{what}");
            let at = |d: &SessionDiff| {
                d.first_divergence.as_ref().map(|f| {
                    let step = |s: &Option<StepRef>| s.as_ref().map(|s| (s.step, s.index));
                    (step(&f.a), step(&f.b))
                })
            };
            assert_eq!(at(&got), at(&want), "{what}");
            let c = got.alignment;
            assert_eq!(c.equal + c.changed + c.only_in_a, got.a.steps, "{what}");
            assert_eq!(c.equal + c.changed + c.only_in_b, got.b.steps, "{what}");
            if i == j {
                assert_eq!(got, want, "{what}");
            }
            diverged += usize::from(!got.same);
        }
    }
    assert!(diverged > 30, "{diverged}");
}
