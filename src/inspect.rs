//! A session read through the store and folded with the analyses: the entry points both shells
//! (the CLI and the viewer) use to answer "what was the state, and why is it idle or stuck" at a
//! point, reading as little of a large session as the answer needs, and a session's statistics.
//!
//! The fold of a point needs every event since the second-newest turn-ending idle before it, and
//! before that only the few types that carry across turns (threads, workflow runs, session
//! updates and usage): a 100,000-event session is answered in milliseconds.

pub mod checkpoints;
pub mod derive;
pub mod diff;
pub mod fleet;
pub mod stats_cache;
mod stats_fold;

use std::collections::BTreeMap;

use crate::analysis::Point;
use crate::analysis::capture::{Gap, capture_report};
use crate::analysis::explain::{At, ExplainInput, Explanation, explain};
use crate::analysis::findings::{Findings, FindingsBuilder, attach};
use crate::analysis::session_facts::{SessionFacts, session_facts};
use crate::analysis::spans::SLIM_TYPES;
use crate::analysis::state::{
    State, StateBuilder, VERDICT_PREFIX_TYPES, full_prefix_types, idle_ends_turn,
};
use crate::analysis::threads::{THREAD_TYPES, ThreadTree, ThreadTreeBuilder};
use crate::store::{EventRef, EventRow, Result, SessionSummary, Store, TimelineQuery};

mod requests;
mod rule_cache;
mod rules;
mod spans;
pub use requests::{requests_of, session_requests};
pub use rule_cache::{RuleCache, underived_sessions};
pub use rules::{recent_findings, rule_hits, workspace_tool_p99};
pub use spans::{open_spans, session_spans};
pub use stats_fold::session_stats;
pub(crate) use stats_fold::{StatsFold, session_stats_and_calls};

/// How much of the fold to compute.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// Status, turns, blocking, open spans: what a verdict needs.
    Verdict,
    /// Also usage, messages and every error so far.
    Full,
}

/// The first window searched back from the point for turn-ending idles; it grows eightfold.
const FIRST_WINDOW_US: i64 = 15 * 60 * 1_000_000;

/// The time of the second-newest turn-ending idle at or before `point`: the fold reads every
/// event from there. `None`: from the start.
pub fn turn_start(
    store: &Store,
    summary: &SessionSummary,
    point: Option<Point>,
) -> Result<Option<i64>> {
    let Some(end) = point.and_then(|p| p.time()).or(summary.last_ts) else {
        return Ok(None);
    };
    let mut window = FIRST_WINDOW_US;
    loop {
        let since = end.saturating_sub(window);
        let q = TimelineQuery {
            types: vec!["session.status_idle".into()],
            since_ts: Some(since),
            until_ts: Some(end),
            ..TimelineQuery::default()
        };
        let mut ends: Vec<Option<i64>> = Vec::new();
        store.scan_events(&summary.id, &q, |ev| {
            if point.is_none_or(|p| p.includes_ref(&ev)) && idle_ends_turn(ev.raw) {
                ends.push(ev.ts);
            }
            true
        })?;
        if ends.len() >= 2 {
            return Ok(ends[ends.len() - 2]);
        }
        if summary.first_ts.is_none_or(|f| since <= f) {
            return Ok(None);
        }
        window = window.saturating_mul(8);
    }
}

fn owned(types: &[&str]) -> Vec<String> {
    types.iter().map(|t| t.to_string()).collect()
}

/// The state of a session at `point` (the end of the recording for `None`).
pub fn reconstruct(
    store: &Store,
    summary: &SessionSummary,
    point: Option<Point>,
    scope: Scope,
) -> Result<State> {
    let b = fold(store, summary, point, scope)?;
    Ok(b.finish(point.and_then(|p| p.time()).or(summary.last_ts)))
}

/// [`reconstruct`]'s fold before it finishes: what the rules' cache keeps (`rule_cache.rs`).
fn fold(
    store: &Store,
    summary: &SessionSummary,
    point: Option<Point>,
    scope: Scope,
) -> Result<StateBuilder> {
    let start = turn_start(store, summary, point)?;
    if scope == Scope::Full {
        let at = point.map_or((i64::MAX, i64::MAX), |p| (p.ts, p.seq));
        if let Some((b, from)) = checkpoints::load(store, &summary.id, at)? {
            return resume(store, summary, point, start, b, from);
        }
    }
    let mut b = match scope {
        Scope::Verdict => StateBuilder::for_verdict(&summary.id),
        Scope::Full => StateBuilder::new(&summary.id),
    };
    if let Some(start) = start {
        let until = Some(start - 1);
        match scope {
            // One scan: with many types SQLite reads the session's prefix in time order anyway.
            Scope::Full => {
                let q = TimelineQuery {
                    types: full_prefix_types().map(str::to_string).collect(),
                    until_ts: until,
                    ..TimelineQuery::default()
                };
                store.scan_events(&summary.id, &q, |ev| {
                    b.push(&ev);
                    true
                })?;
            }
            // Rare types: one indexed scan each, merged in time order.
            Scope::Verdict => {
                let before = Point::at_time(start - 1);
                for r in &rare_events(store, &summary.id, VERDICT_PREFIX_TYPES, Some(before))? {
                    b.push(&r.as_ref());
                }
            }
        }
    }
    let q = TimelineQuery {
        since_ts: start,
        until_ts: point.and_then(|p| p.time()),
        slim_types: owned(SLIM_TYPES),
        ..TimelineQuery::default()
    };
    scan_to_point(store, &summary.id, &q, point, |ev| b.push(ev))?;
    Ok(b)
}

/// [`reconstruct`]'s full fold gone on from a checkpoint `b` (the fold of every event up to
/// `from`): before the turn start, only the types that carry across turns, as from the start.
fn resume(
    store: &Store,
    summary: &SessionSummary,
    point: Option<Point>,
    start: Option<i64>,
    mut b: StateBuilder,
    from: checkpoints::Position,
) -> Result<StateBuilder> {
    let after = |ev: &EventRef<'_>| (ev.ts.unwrap_or(i64::MAX), ev.seq) > from;
    let main_from = match start.filter(|&s| s > from.0) {
        Some(s) => {
            let q = TimelineQuery {
                types: full_prefix_types().map(str::to_string).collect(),
                since_ts: Some(from.0),
                until_ts: Some(s - 1),
                ..TimelineQuery::default()
            };
            store.scan_events(&summary.id, &q, |ev| {
                if after(&ev) {
                    b.push(&ev);
                }
                true
            })?;
            s
        }
        None => from.0,
    };
    let q = TimelineQuery {
        since_ts: Some(main_from),
        until_ts: point.and_then(|p| p.time()),
        slim_types: owned(SLIM_TYPES),
        ..TimelineQuery::default()
    };
    scan_to_point(store, &summary.id, &q, point, |ev| {
        if after(ev) {
            b.push(ev)
        }
    })?;
    Ok(b)
}

/// The thread tree of a session at `point` (the end of the recording for `None`): its thread
/// events up to the point (read by type, through the index) merged with its stored thread
/// objects.
pub fn thread_tree(
    store: &Store,
    summary: &SessionSummary,
    point: Option<Point>,
) -> Result<ThreadTree> {
    let mut b = ThreadTreeBuilder::new();
    for r in &rare_events(store, &summary.id, THREAD_TYPES, point)? {
        b.push(&r.as_ref());
    }
    let objects = store.thread_objects(&summary.id)?;
    Ok(b.finish(&objects, point.and_then(|p| p.time())))
}

/// What the session's stored object says (stats, deployment, outcome evaluations, usage);
/// `None` when no object was stored.
pub fn session_object_facts(store: &Store, session_id: &str) -> Result<Option<SessionFacts>> {
    Ok(store
        .session_object(session_id)?
        .map(|o| session_facts(&o.raw, o.fetched_at.as_deref())))
}

/// What `explain` needs besides the session: the point, the current time, and when a running
/// session counts as stalled.
#[derive(Debug, Clone)]
pub struct ExplainAt {
    pub point: Option<Point>,
    /// The point as reports show it.
    pub at: Option<At>,
    /// µs since the epoch.
    pub now: i64,
    pub stuck_after_us: i64,
}

/// The explanation of a session at a point, with the state it was read from: a verdict fold,
/// and the full one when the verdict needs the spend (`budget_reached`).
pub fn explain_session(
    store: &Store,
    summary: &SessionSummary,
    x: &ExplainAt,
) -> Result<(Explanation, State)> {
    let state = verdict_fold(store, summary, x.point)?
        .finish(x.point.and_then(|p| p.time()).or(summary.last_ts));
    let explanation = explain_state(store, summary, &state, x)?;
    Ok((explanation, state))
}

/// The fold [`explain_session`] explains: the verdict's, and the full one when the verdict needs
/// the spend (`budget_reached`).
fn verdict_fold(
    store: &Store,
    summary: &SessionSummary,
    point: Option<Point>,
) -> Result<StateBuilder> {
    let b = fold(store, summary, point, Scope::Verdict)?;
    if b.idle_with("budget_reached") {
        return fold(store, summary, point, Scope::Full);
    }
    Ok(b)
}

/// The findings of a session up to `point` (all of it for `None`): one streaming pass over every
/// event after the newest checkpoint at or before the point (see [`checkpoints`]), large tool
/// results read as just `{is_error}`. `gaps`: the capture's unproven intervals
/// at or before the point (an `Explanation`'s `capture_gaps`).
pub fn findings(
    store: &Store,
    summary: &SessionSummary,
    point: Option<Point>,
    gaps: &[Gap],
) -> Result<Findings> {
    let at = point.map_or((i64::MAX, i64::MAX), |p| (p.ts, p.seq));
    let (mut b, from) = match checkpoints::load_findings(store, &summary.id, at)? {
        Some((b, from)) => (b, Some(from)),
        None => (FindingsBuilder::new(), None),
    };
    let q = TimelineQuery {
        since_ts: from.map(|f| f.0),
        until_ts: point.and_then(|p| p.time()),
        slim_types: owned(SLIM_TYPES),
        ..TimelineQuery::default()
    };
    scan_to_point(store, &summary.id, &q, point, |ev| {
        if from.is_none_or(|f| (ev.ts.unwrap_or(i64::MAX), ev.seq) > f) {
            b.push(ev)
        }
    })?;
    Ok(b.finish(gaps))
}

/// [`explain_session`] with the whole-session findings attached: what `flightrec explain` and
/// `check` print. The verdict reads the end of the session; the findings read all of it.
pub fn explain_with_findings(
    store: &Store,
    summary: &SessionSummary,
    x: &ExplainAt,
) -> Result<(Explanation, State)> {
    let (mut explanation, state) = explain_session(store, summary, x)?;
    let gaps = explanation.capture_gaps.clone().unwrap_or_default();
    let f = findings(store, summary, x.point, &gaps)?;
    attach(&mut explanation, f);
    Ok((explanation, state))
}

/// The explanation of `state` (folded at `x.point`), weighed against the session's capture.
pub fn explain_state(
    store: &Store,
    summary: &SessionSummary,
    state: &State,
    x: &ExplainAt,
) -> Result<Explanation> {
    // Event counts per source are not needed for the gaps, and cost a pass over the session.
    let capture = capture_report(&store.capture_log(&summary.id)?, BTreeMap::new());
    Ok(explain(
        state,
        &ExplainInput {
            session_id: &summary.id,
            at: x.at.clone(),
            capture: Some(&capture),
            now: x.now,
            stuck_after: x.stuck_after_us,
        },
    ))
}

/// The session's events of a few rare `types` up to `point`, in time order: one scan of the
/// `events_type` index per type, merged. A scan of all of them at once would walk every event
/// of the session in time order (SQLite picks `events_time` for a long `IN` list).
fn rare_events(
    store: &Store,
    session_id: &str,
    types: &[&str],
    point: Option<Point>,
) -> Result<Vec<EventRow>> {
    let mut rows: Vec<EventRow> = Vec::new();
    for t in types {
        let q = TimelineQuery {
            types: vec![t.to_string()],
            until_ts: point.and_then(|p| p.time()),
            ..TimelineQuery::default()
        };
        rows.extend(
            store
                .events(session_id, &q)?
                .into_iter()
                .filter(|r| point.is_none_or(|p| p.includes(r))),
        );
    }
    rows.sort_by_key(|r| (r.ts.unwrap_or(i64::MAX), r.seq));
    Ok(rows)
}

/// Feeds `push` the session's events that `q` reads, in order, up to `point` (all of them for
/// `None`), and stops reading at the first one past it.
fn scan_to_point(
    store: &Store,
    session_id: &str,
    q: &TimelineQuery,
    point: Option<Point>,
    mut push: impl FnMut(&EventRef<'_>),
) -> Result<()> {
    store.scan_events(session_id, q, |ev| {
        let within = point.is_none_or(|p| p.includes_ref(&ev));
        if within {
            push(&ev);
        }
        within
    })
}

#[cfg(test)]
mod checkpoint_tests;
#[cfg(test)]
mod tests {
    // Test code: a failed unwrap is a failed test.
    #![allow(clippy::unwrap_used)]

    use super::*;
    use crate::record::{ImportOptions, import_file};

    /// The fold fed every event up to the point: what the fast reads must agree with.
    pub(super) fn naive(store: &Store, summary: &SessionSummary, point: Option<Point>) -> State {
        let mut b = StateBuilder::new(&summary.id);
        for r in store
            .events(&summary.id, &TimelineQuery::default())
            .unwrap()
        {
            if point.is_none_or(|p| p.includes(&r)) {
                b.push(&r.as_ref());
            }
        }
        b.finish(point.and_then(|p| p.time()).or(summary.last_ts))
    }

    /// Every file of `sample-logs/` (its top folder), sorted.
    pub(super) fn sample_files() -> Vec<std::path::PathBuf> {
        crate::analysis::testing::sample_files(false)
    }

    #[test]
    fn fast_reads_equal_the_full_fold_at_every_event_of_every_sample() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(&dir.path().join("s.db")).unwrap();
        for f in &sample_files() {
            import_file(&mut store, f, &ImportOptions::default(), &mut |_, _| {}).unwrap();
        }
        let mut prefixed = 0;
        for summary in store.sessions().unwrap() {
            let events = store
                .events(&summary.id, &TimelineQuery::default())
                .unwrap();
            let points =
                std::iter::once(None).chain(events.iter().map(|r| Some(Point::at_event(r))));
            for point in points {
                let want = naive(&store, &summary, point);
                let full = reconstruct(&store, &summary, point, Scope::Full).unwrap();
                assert_eq!(full, want, "{} at {point:?}", summary.id);
                let verdict = reconstruct(&store, &summary, point, Scope::Verdict).unwrap();
                assert_eq!(verdict.ledger, None);
                assert_eq!(
                    State {
                        ledger: want.ledger.clone(),
                        ..verdict
                    },
                    want,
                    "{} at {point:?}",
                    summary.id
                );
                prefixed += usize::from(turn_start(&store, &summary, point).unwrap().is_some());
            }
        }
        assert!(
            prefixed >= 10,
            "the prefix path was exercised only {prefixed} times"
        );
    }
}
