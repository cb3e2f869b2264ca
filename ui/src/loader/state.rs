//! The state and the explanation at a point, read as `flightrec state` and `flightrec explain`
//! read them: every event from the second-newest turn-ending idle before the point, and only the
//! prefix types the fold needs before that (see `flightrec::analysis::state`).

use std::collections::BTreeMap;

use flightrec::analysis::Point;
use flightrec::analysis::capture::capture_report;
use flightrec::analysis::explain::{At, ExplainInput, Explanation, explain};
use flightrec::analysis::spans::SLIM_TYPES;
use flightrec::analysis::state::{FULL_PREFIX_TYPES, State, StateBuilder, idle_ends_turn};
use flightrec::model::time::format_micros;
use flightrec::store::{SessionSummary, Store, TimelineQuery};

/// The first window searched back from the point for turn-ending idles; it grows eightfold.
const FIRST_WINDOW_US: i64 = 15 * 60 * 1_000_000;

/// A running session silent this long is stalled (as `flightrec explain`'s default).
const STUCK_AFTER_US: i64 = 10 * 60 * 1_000_000;

fn owned(types: &[&str]) -> Vec<String> {
    types.iter().map(|t| t.to_string()).collect()
}

fn err(e: impl std::fmt::Display) -> String {
    e.to_string()
}

/// The time of the second-newest turn-ending idle at or before `point`.
fn turn_start(
    store: &Store,
    summary: &SessionSummary,
    point: Option<Point>,
) -> Result<Option<i64>, String> {
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
        store
            .scan_events(&summary.id, &q, |ev| {
                if point.is_none_or(|p| p.includes_ref(&ev)) && idle_ends_turn(ev.raw) {
                    ends.push(ev.ts);
                }
                true
            })
            .map_err(err)?;
        if ends.len() >= 2 {
            return Ok(ends[ends.len() - 2]);
        }
        if summary.first_ts.is_none_or(|f| since <= f) {
            return Ok(None);
        }
        window = window.saturating_mul(8);
    }
}

/// The full state of the session at `point` (the end of the recording for `None`).
pub fn state_at(
    store: &Store,
    summary: &SessionSummary,
    point: Option<Point>,
) -> Result<State, String> {
    let mut b = StateBuilder::new(&summary.id);
    let start = turn_start(store, summary, point)?;
    if let Some(start) = start {
        let q = TimelineQuery {
            types: owned(FULL_PREFIX_TYPES),
            until_ts: Some(start - 1),
            ..TimelineQuery::default()
        };
        store
            .scan_events(&summary.id, &q, |ev| {
                b.push(&ev);
                true
            })
            .map_err(err)?;
    }
    let q = TimelineQuery {
        since_ts: start,
        until_ts: point.and_then(|p| p.time()),
        slim_types: owned(SLIM_TYPES),
        ..TimelineQuery::default()
    };
    store
        .scan_events(&summary.id, &q, |ev| {
            let within = point.is_none_or(|p| p.includes_ref(&ev));
            if within {
                b.push(&ev);
            }
            within
        })
        .map_err(err)?;
    Ok(b.finish(point.and_then(|p| p.time()).or(summary.last_ts)))
}

fn wall_clock() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_micros()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

/// The explanation and the state at `point`.
pub fn explain_at(
    store: &Store,
    session: &str,
    point: Option<Point>,
) -> Result<(Explanation, State), String> {
    let summary = store.require_session(session).map_err(err)?;
    let state = state_at(store, &summary, point)?;
    let capture = capture_report(&store.capture_log(session).map_err(err)?, BTreeMap::new());
    let at = point.map(|p| At {
        event_id: None,
        time: p.time().map(format_micros),
        ts: p.time(),
    });
    let x = explain(
        &state,
        &ExplainInput {
            session_id: session,
            at,
            capture: Some(&capture),
            now: wall_clock(),
            stuck_after: STUCK_AFTER_US,
        },
    );
    Ok((x, state))
}
