//! What the streamed transcripts (markdown and HTML) need from the whole session before they
//! write, gathered in one pass over its events that keeps no event text ([`Survey`]), and the
//! verdict at each session-level idle as the writing pass reaches it ([`IdleVerdicts`]), folded
//! from the store's scans exactly as `flow::idle_verdicts` folds a whole document.
//!
//! Nothing here grows with the session's events but the ids more than one row carries (copies
//! from a second stream; none when one stream recorded it): the events a verdict carries across
//! turns are folded as the window passes them, and only those of the last two turns are kept.

use std::collections::{BTreeSet, HashMap, VecDeque};

use serde_json::Value;

use super::flow::Facts;
use super::stream::Session;
use crate::analysis::capture::CaptureReport;
use crate::analysis::explain::{At, ExplainInput, Explanation, explain};
use crate::analysis::state::{StateBuilder, VERDICT_PREFIX_TYPES, idle_ends_turn};
use crate::model::time::{format_duration_micros, format_micros};
use crate::model::typed::Event;
use crate::store::{CaptureEntry, EventRow, Result, TimelineQuery};

/// A session status change the timeline draws: (event index, time, status).
pub type StatusChange = (usize, i64, &'static str);

/// A marker the timeline draws: (event index, time, CSS class, event type).
pub type Marker = (usize, i64, &'static str, String);

/// The small facts of a session, from one pass over its (redacted) events.
pub struct Survey {
    pub facts: Facts,
    /// The newest processed event's time (µs).
    pub end_ts: Option<i64>,
    /// The verdict at the end of the recording.
    pub explanation: Explanation,
    /// The types of the events shown (once each).
    pub types: BTreeSet<String>,
    /// The ids more than one row carries (`Store::repeated_ids`; none in a session recorded
    /// from one stream), each with the rows of it that are shown: the first at each time. The
    /// others are another stream's copies (the same id at the same time, the stream-copy rule of
    /// every fold); a reused id at another time (placeholder ids) is another event, shown. Every
    /// other event with an id is the only one of its id, and shown.
    repeated: HashMap<String, Shown>,
    /// The last event with no id (each is shown).
    last_without_id: Option<usize>,
    /// The capture log, redacted, and the report made from it.
    pub capture: Vec<CaptureEntry>,
    pub capture_report: CaptureReport,
}

impl Survey {
    /// Reads `s` once. `now` (µs) ages a running session; `stuck_after` (µs) is how long a
    /// silent running session takes to count as stalled.
    pub fn read(s: &Session<'_>, now: i64, stuck_after: i64) -> Result<Survey> {
        let capture = s.capture()?;
        let capture_report = s.capture_report(&capture)?;
        let mut state = StateBuilder::new(s.id());
        let (mut n, mut end_ts) = (0usize, None::<i64>);
        let mut agent: Option<Value> = None;
        let mut types = BTreeSet::new();
        let mut repeated: HashMap<String, Shown> = s
            .store
            .repeated_ids(s.id())?
            .into_iter()
            .map(|id| (id, Shown::default()))
            .collect();
        let mut last_without_id = None;
        s.each_event(|e| {
            let i = n;
            n += 1;
            state.push(&e.as_ref());
            end_ts = end_ts.max(e.ts);
            if e.event_type == "session.updated"
                && let Some(a) = agent_of(&e.raw)
            {
                agent = Some(a);
            }
            if e.event_id.is_empty() {
                last_without_id = Some(i);
            } else if let Some(shown) = repeated.get_mut(&e.event_id) {
                // In session order a copy comes among its id's rows right after the one shown.
                if shown.at.last().is_some_and(|&(ts, _)| ts == e.ts) {
                    return Ok(());
                }
                shown.at.push((e.ts, i));
                shown.seqs.push(e.seq);
            }
            if !types.contains(&e.event_type) {
                types.insert(e.event_type.clone());
            }
            Ok(())
        })?;
        for shown in repeated.values_mut() {
            shown.seqs.sort_unstable();
        }
        let agent = s.object.as_ref().and_then(|o| agent_of(&o.raw)).or(agent);
        let explanation = explain(
            &state.finish(end_ts),
            &ExplainInput {
                session_id: s.id(),
                at: None,
                capture: Some(&capture_report),
                now,
                stuck_after,
            },
        );
        Ok(Survey {
            facts: facts(s, n, agent),
            end_ts,
            explanation,
            types,
            repeated,
            last_without_id,
            capture,
            capture_report,
        })
    }

    /// Whether the event at index `i` with `id` is shown (not another stream's copy).
    pub fn is_shown(&self, i: usize, id: &str) -> bool {
        match self.repeated.get(id) {
            Some(shown) => shown.at.binary_search_by_key(&i, |&(_, f)| f).is_ok(),
            None => true,
        }
    }

    /// Whether the row `seq` with `id` is shown (not another stream's copy).
    pub fn is_shown_seq(&self, seq: i64, id: &str) -> bool {
        match self.repeated.get(id) {
            Some(shown) => shown.seqs.binary_search(&seq).is_ok(),
            None => true,
        }
    }

    /// The index of the event shown for the row at index `i` carrying `id`: its own, or for a
    /// copy the one it copies (the events with no id: the last of them).
    pub fn index_at(&self, i: usize, id: &str) -> Option<usize> {
        if id.is_empty() {
            return self.last_without_id;
        }
        match self.repeated.get(id) {
            Some(shown) => {
                let k = shown.at.partition_point(|&(_, f)| f <= i);
                k.checked_sub(1)
                    .and_then(|k| shown.at.get(k))
                    .map(|&(_, f)| f)
            }
            None => Some(i),
        }
    }
}

/// The shown rows of a repeated id: (time, index) in session order, and their seqs sorted.
#[derive(Default)]
struct Shown {
    at: Vec<(Option<i64>, usize)>,
    seqs: Vec<i64>,
}

fn agent_of(raw: &str) -> Option<Value> {
    serde_json::from_str::<Value>(raw)
        .ok()
        .and_then(|v| v.get("agent").filter(|a| a.is_object()).cloned())
}

/// The status a session status event sets.
pub fn status_of(event_type: &str) -> Option<&'static str> {
    Some(match event_type {
        "session.status_running" => "running",
        "session.status_idle" => "idle",
        "session.status_rescheduled" => "rescheduling",
        "session.status_terminated" => "terminated",
        "session.deleted" => "deleted",
        _ => return None,
    })
}

/// The facts as `flow::facts` gives them for the whole document.
fn facts(s: &Session<'_>, events: usize, agent: Option<Value>) -> Facts {
    let text = |v: Option<&Value>| v.and_then(Value::as_str).map(str::to_string);
    let model = agent.as_ref().and_then(|a| match a.get("model") {
        Some(Value::String(m)) => Some(m.clone()),
        Some(m) => text(m.get("id")),
        None => None,
    });
    let sum = &s.summary;
    Facts {
        id: sum.id.clone(),
        title: sum.title.clone(),
        status: sum.status.clone().unwrap_or_else(|| "unknown".into()),
        stop_reason: sum.stop_reason.clone(),
        started: sum.first_ts.map(format_micros),
        ended: sum.last_ts.map(format_micros),
        duration: sum
            .first_ts
            .zip(sum.last_ts)
            .map(|(a, b)| format_duration_micros(b - a)),
        events,
        agent: agent.as_ref().and_then(|a| text(a.get("name"))),
        model,
    }
}

/// The verdict at each session-level idle, as the writing pass reaches it: the session as it
/// stood at that idle, folded like `flightrec explain --at IDLE` (every event since the
/// second-newest turn-ending idle, and before it only the types that carry across turns), each
/// read again from the store (redacted), so memory holds one fold.
pub struct IdleVerdicts<'a, 's> {
    session: &'a Session<'s>,
    capture: &'a CaptureReport,
    stuck_after: i64,
    /// The times of the two newest turn-ending idles passed so far, older first.
    turn_ends: [Option<i64>; 2],
    /// The fold of the events of the types that carry across turns (thread creations and
    /// statuses, workflow marks) from before the window of the newest verdict: each verdict
    /// starts from a copy of it. Windows only move forward.
    before: StateBuilder,
    /// Those events passed since, not yet before a window.
    pending: VecDeque<EventRow>,
}

impl<'a, 's> IdleVerdicts<'a, 's> {
    pub fn new(session: &'a Session<'s>, capture: &'a CaptureReport, stuck_after: i64) -> Self {
        IdleVerdicts {
            session,
            capture,
            stuck_after,
            turn_ends: [None, None],
            before: StateBuilder::for_verdict(session.id()),
            pending: VecDeque::new(),
        }
    }

    /// The verdict at `e` when it is a session-level idle that is shown (`shown`); call it for
    /// every event, in session order.
    pub fn at(&mut self, e: &EventRow, shown: bool) -> Result<Option<Explanation>> {
        if VERDICT_PREFIX_TYPES.contains(&e.event_type.as_str()) {
            self.pending.push_back(e.clone());
        }
        let Some(ts) = e.ts else { return Ok(None) };
        if !shown || e.event_type != "session.status_idle" || !e.thread_id.is_empty() {
            return Ok(None);
        }
        if idle_ends_turn(&e.raw) {
            self.turn_ends = [self.turn_ends[1], Some(ts)];
        }
        let start = self.turn_ends[0];
        let budget = Event::parse(&e.raw)
            .kind
            .stop_reason()
            .is_some_and(|s| s.kind.as_str() == "budget_reached");
        // The spend needs the full fold (the ledger), from the first event.
        let (mut b, start) = if budget {
            (StateBuilder::new(self.session.id()), None)
        } else if let Some(start) = start {
            // Before the window only the types that carry across turns, folded as the window
            // passes them (a scan of them per idle would walk the whole index up to the window).
            while let Some(p) = self.pending.front()
                && p.ts.is_some_and(|t| t < start)
            {
                self.before.push(&p.as_ref());
                self.pending.pop_front();
            }
            (self.before.clone(), Some(start))
        } else {
            (StateBuilder::for_verdict(self.session.id()), None)
        };
        let q = TimelineQuery {
            since_ts: start,
            until_ts: Some(ts),
            ..TimelineQuery::default()
        };
        self.session.scan_redacted(&q, |row| {
            if row.ts.is_some() {
                b.push(&row);
            }
            row.seq != e.seq
        })?;
        let state = b.finish(e.ts);
        let at = At {
            event_id: Some(e.event_id.clone()),
            time: e.processed_at.clone(),
            ts: e.ts,
        };
        Ok(Some(explain(
            &state,
            &ExplainInput {
                session_id: self.session.id(),
                at: Some(at),
                capture: Some(self.capture),
                now: ts,
                stuck_after: self.stuck_after,
            },
        )))
    }
}
