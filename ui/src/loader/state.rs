//! The state and the explanation at a point, read as `flightrec state` and `flightrec explain`
//! read them (`flightrec::inspect`).

use flightrec::analysis::Point;
use flightrec::analysis::explain::{At, Explanation};
use flightrec::analysis::session_facts::SessionFacts;
use flightrec::analysis::state::State;
use flightrec::analysis::threads::ThreadTree;
use flightrec::inspect::{
    ExplainAt, Scope, explain_state, reconstruct, session_object_facts, thread_tree,
};
use flightrec::model::time::format_micros;
use flightrec::store::{SessionSummary, Store};

/// A running session silent this long is stalled (as `flightrec explain`'s default).
const STUCK_AFTER_US: i64 = 10 * 60 * 1_000_000;

fn err(e: impl std::fmt::Display) -> String {
    e.to_string()
}

/// The full state of the session at `point` (the end of the recording for `None`).
pub fn state_at(
    store: &Store,
    summary: &SessionSummary,
    point: Option<Point>,
) -> Result<State, String> {
    reconstruct(store, summary, point, Scope::Full).map_err(err)
}

fn wall_clock() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_micros()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

/// What the viewer shows beside the verdict: the thread tree at the point and what the stored
/// session object says.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Extras {
    pub threads: ThreadTree,
    pub facts: Option<SessionFacts>,
}

/// The explanation, the state and the [`Extras`] at `point`.
pub fn explain_at(
    store: &Store,
    session: &str,
    point: Option<Point>,
) -> Result<(Explanation, State, Extras), String> {
    let summary = store.require_session(session).map_err(err)?;
    let state = state_at(store, &summary, point)?;
    let at = point.map(|p| At {
        event_id: None,
        time: p.time().map(format_micros),
        ts: p.time(),
    });
    let x = ExplainAt {
        point,
        at,
        now: wall_clock(),
        stuck_after_us: STUCK_AFTER_US,
    };
    let explanation = explain_state(store, &summary, &state, &x).map_err(err)?;
    let extras = Extras {
        threads: thread_tree(store, &summary, point).map_err(err)?,
        facts: session_object_facts(store, session).map_err(err)?,
    };
    Ok((explanation, state, extras))
}
