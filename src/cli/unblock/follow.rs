//! `flightrec unblock … --follow`: after sending, record the session from the API (as `tail
//! --record` does) and show its events as they are stored, one line each, until it ends its
//! turn: the first `session.status_idle` newer than the idle it was blocked on that is not the
//! same wait again (a `requires_action` naming only events still unanswered), or its end
//! (terminated, deleted). Then explain's text report, and exit 1 when the verdict needs
//! attention (as `check` and `tail --until-idle` do), 0 otherwise. Past `--follow-timeout` it
//! gives up with a one-line error and exit 7 (`exit::TIMED_OUT`).

use std::path::Path;
use std::time::{Duration, Instant};

use serde_json::Value;

use super::super::api_args::ApiArgs;
use super::super::args::{DEFAULT_STUCK_AFTER, parse_duration_micros};
use super::super::tail::{self, End, FollowArgs, Start};
use super::super::{Outcome, attach, open_existing};
use flightrec::model::time::format_duration_micros;
use flightrec::store::{EventRow, Store};

/// Where the session stood before the answer was sent.
pub struct Before {
    /// The newest `seq` of the database: what is stored after it is shown.
    cursor: i64,
    /// The idle it was blocked on (id and time), when there was one.
    idle: Option<(String, Option<i64>)>,
    /// The ids that idle waited on, less the one answered now.
    still_waiting: Vec<String>,
}

/// Events read back to find the idle a session is blocked on.
const LOOK_BACK: u64 = 200;

impl Before {
    /// The session as stored now; `answered` is the blocking event the answer is for.
    pub fn of(store: &Store, session: &str, answered: Option<&str>) -> anyhow::Result<Before> {
        let cursor = store.max_seq()?;
        let last = store.last_events(session, LOOK_BACK, cursor)?;
        let idle = last
            .iter()
            .rev()
            .find(|e| e.event_type == "session.status_idle");
        let still_waiting = idle
            .map(|e| waits_on(&e.raw))
            .unwrap_or_default()
            .into_iter()
            .filter(|id| Some(id.as_str()) != answered)
            .collect();
        Ok(Before {
            cursor,
            idle: idle.map(|e| (e.event_id.clone(), e.ts)),
            still_waiting,
        })
    }

    /// Whether a stored event ends the turn the answer started.
    fn ends_turn(&self, e: &EventRow) -> bool {
        if e.event_type != "session.status_idle" {
            return false;
        }
        if let Some((id, ts)) = &self.idle
            && (&e.event_id == id || e.ts.zip(*ts).is_some_and(|(t, at)| t < at))
        {
            return false;
        }
        let waits = waits_on(&e.raw);
        // The same wait again (the rest of a partly answered set): not a new turn's end.
        waits.is_empty() || !waits.iter().all(|w| self.still_waiting.contains(w))
    }
}

/// The ids a `requires_action` idle waits on (none for any other idle).
fn waits_on(raw: &str) -> Vec<String> {
    let Ok(v) = serde_json::from_str::<Value>(raw) else {
        return Vec::new();
    };
    let reason = &v["stop_reason"];
    if reason["type"] != "requires_action" {
        return Vec::new();
    }
    reason["event_ids"]
        .as_array()
        .map(|ids| {
            ids.iter()
                .filter_map(Value::as_str)
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default()
}

/// Records `session` and follows it from `before` to the end of its turn (or the timeout).
pub fn run(db: &Path, session: &str, before: &Before, api: &ApiArgs, timeout: Duration) -> Outcome {
    let rec = attach::start(db, session, api, false)?;
    let store = open_existing(db)?;
    let from = Start {
        summary: store.require_session(session)?,
        backlog: Vec::new(),
        cursor: before.cursor,
    };
    let opts = FollowArgs {
        until_idle: true,
        stuck_after: parse_duration_micros(DEFAULT_STUCK_AFTER).map_err(anyhow::Error::msg)?,
        record: false,
        api: api.clone(),
    };
    let ends = |e: &EventRow| before.ends_turn(e);
    let waited = format_duration_micros(i64::try_from(timeout.as_micros()).unwrap_or(i64::MAX));
    let end = End {
        arrival: &ends,
        deadline: Some((
            Instant::now() + timeout,
            format!("{session} did not reach its next idle within {waited} (--follow-timeout)"),
        )),
        // The recorder records until stopped: stop it as soon as the idle is stored.
        grace: Duration::ZERO,
    };
    let code = tail::follow_to(&store, from, &[], &opts, Some(rec), &end)?;
    Ok(code)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn idle(id: &str, ts: i64, reason: &str) -> EventRow {
        EventRow {
            seq: 0,
            event_id: id.into(),
            event_type: "session.status_idle".into(),
            processed_at: None,
            ts: Some(ts),
            thread_id: String::new(),
            link_id: None,
            source: String::new(),
            received_at: String::new(),
            revision: 0,
            raw: format!(r#"{{"type":"session.status_idle","stop_reason":{reason}}}"#),
        }
    }

    #[test]
    fn the_turn_ends_at_a_newer_idle_that_is_not_the_same_wait() {
        let b = Before {
            cursor: 0,
            idle: Some(("sevt_idle".into(), Some(10))),
            still_waiting: vec!["sevt_b".into()],
        };
        let end_turn = r#"{"type":"end_turn"}"#;
        let rest = r#"{"type":"requires_action","event_ids":["sevt_b"]}"#;
        let other = r#"{"type":"requires_action","event_ids":["sevt_c"]}"#;
        assert!(
            !b.ends_turn(&idle("sevt_idle", 10, rest)),
            "the idle it was on"
        );
        assert!(
            !b.ends_turn(&idle("sevt_old", 5, end_turn)),
            "an older idle"
        );
        assert!(!b.ends_turn(&idle("sevt_again", 20, rest)), "the same wait");
        assert!(b.ends_turn(&idle("sevt_next", 20, end_turn)));
        assert!(b.ends_turn(&idle("sevt_next", 20, other)), "a new wait");
        assert_eq!(waits_on("not json"), Vec::<String>::new());
    }
}
