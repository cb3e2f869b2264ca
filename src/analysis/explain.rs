//! Why a session is where it is, and what to do now: a verdict with its evidence, read from the
//! [`State`] at a point. Pure: the clock (`now`) and the capture report are inputs.
//!
//! The verdict follows the newest session-level status (§3): an idle is explained by its stop
//! reason (for `requires_action`, by what it is blocked on and the requests that answer it); a
//! running session that has been silent for longer than `stuck_after` is `stalled`.

pub mod advice;
pub mod blocking;
mod idle;
pub mod unblock;
mod verdicts;

#[cfg(test)]
mod tests;

use serde::Serialize;

use crate::analysis::capture::{CaptureReport, Gap};
use crate::analysis::findings::{Finding, OutcomeReport};
use crate::analysis::spans::{Span, SpanKind};
use crate::analysis::state::{ErrorMark, Mark, Message, State, TokenSums, Turn, UsageMark};
use crate::model::parse_timestamp_micros;
use crate::model::time::format_micros;
use crate::model::typed::Budget;
use blocking::Blocking;
use unblock::Unblock;

/// The verdict: a stable, machine-readable code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// Idle: the turn finished (normally, or after an interrupt).
    EndTurn,
    /// Idle, blocked on events that need a client's answer.
    RequiresAction,
    /// Idle after `requires_action`, every blocking event answered; running should follow.
    Resuming,
    /// Idle: the turn died after errors used up the retries.
    RetriesExhausted,
    /// Idle: the model's output was refused.
    Refusal,
    /// Idle: the spend reached the session's budget.
    BudgetReached,
    /// Idle with a stop reason this flightrec does not know.
    UnknownStopReason,
    /// Running, with recent events.
    Running,
    /// Running, rescheduling or resuming, but silent for longer than `stuck_after`.
    Stalled,
    /// Recovering from a retryable error.
    Rescheduling,
    Terminated,
    Deleted,
    /// No session status event in the recording.
    Unknown,
}

impl Verdict {
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::EndTurn => "end_turn",
            Verdict::RequiresAction => "requires_action",
            Verdict::Resuming => "resuming",
            Verdict::RetriesExhausted => "retries_exhausted",
            Verdict::Refusal => "refusal",
            Verdict::BudgetReached => "budget_reached",
            Verdict::UnknownStopReason => "unknown_stop_reason",
            Verdict::Running => "running",
            Verdict::Stalled => "stalled",
            Verdict::Rescheduling => "rescheduling",
            Verdict::Terminated => "terminated",
            Verdict::Deleted => "deleted",
            Verdict::Unknown => "unknown",
        }
    }
}

impl std::fmt::Display for Verdict {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.pad(self.as_str())
    }
}

/// The point explained: `--at` as given, and its time.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct At {
    pub event_id: Option<String>,
    pub time: Option<String>,
    #[serde(skip)]
    pub ts: Option<i64>,
}

pub struct ExplainInput<'a> {
    pub session_id: &'a str,
    /// `None`: the end of the recording.
    pub at: Option<At>,
    pub capture: Option<&'a CaptureReport>,
    /// The current time, µs (ignored when `at` has a time: events after it do not exist).
    pub now: i64,
    /// A running session silent for longer than this (µs) is stalled.
    pub stuck_after: i64,
}

/// An event that supports the verdict.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Evidence {
    pub event_id: String,
    #[serde(rename = "type")]
    pub event_type: String,
    pub at: Option<String>,
    pub note: String,
    #[serde(skip)]
    pub ts: Option<i64>,
}

impl Evidence {
    pub fn of(m: &Mark, note: impl Into<String>) -> Evidence {
        Evidence {
            event_id: m.event_id.clone(),
            event_type: m.event_type.clone(),
            at: m.at.clone(),
            note: note.into(),
            ts: m.ts,
        }
    }
}

/// A span open at the point.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OpenSpan {
    pub kind: SpanKind,
    pub name: String,
    pub start_id: String,
    pub start_type: String,
    pub started_at: Option<String>,
    /// How long it had been open at the point (or the end of the recording).
    pub age_ms: Option<i64>,
    pub thread_id: Option<String>,
}

impl OpenSpan {
    pub fn of(s: &Span) -> OpenSpan {
        OpenSpan {
            kind: s.kind,
            name: s.name.clone(),
            start_id: s.start_id.clone(),
            start_type: s.start_type.to_string(),
            started_at: s.started_at.clone(),
            age_ms: s.age_ms.map(|a| a as i64),
            thread_id: s.thread_id.clone(),
        }
    }
}

/// An error with what to do about it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ErrorReport {
    #[serde(flatten)]
    pub error: ErrorMark,
    pub advice: String,
}

/// The turn the verdict is about.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TurnReport {
    pub started_at: Option<String>,
    /// The idle that ended it; null while in progress.
    pub ended_by: Option<String>,
    /// The `user.interrupt` that ended it (an interrupted turn ends `end_turn`); `""` when the
    /// server sent it without an id.
    pub interrupted_by: Option<String>,
    pub interrupted_at: Option<String>,
    pub reschedules: usize,
    pub last_user_message: Option<Message>,
    pub last_agent_message: Option<Message>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Refusal {
    pub category: Option<String>,
    pub explanation: Option<String>,
    /// The request that drew it: the turn's last user message.
    pub request: Option<Message>,
}

/// The spend, for `budget_reached`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct UsageReport {
    /// Summed over `span.model_request_end.model_usage`.
    pub model_requests: TokenSums,
    /// The newest `session.usage` (the server's cumulative figures, `list_cost` included).
    pub session_usage: Option<UsageMark>,
    pub spent: Option<String>,
    pub budget: Option<Budget>,
    pub budget_display: Option<String>,
    pub budget_set_by: Option<Mark>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Explanation {
    pub session_id: String,
    pub at: Option<At>,
    pub now: String,
    /// The newest session status: running | idle | rescheduling | terminated | deleted | unknown.
    pub state: String,
    /// `stop_reason.type` of the newest session idle, while the session is idle.
    pub stop_reason: Option<String>,
    /// The newest idle's stop reason once the session has moved on (running, terminated, …).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub previous_stop_reason: Option<String>,
    pub verdict: Verdict,
    /// Whether someone should act (what `flightrec check` exits 1 on).
    pub attention: bool,
    pub summary: String,
    pub last_event: Option<Mark>,
    /// Time from the last event to now (or to the point).
    pub silent_ms: Option<i64>,
    /// When the recording ends (its newest event), when explaining the end of the recording;
    /// null with `--at`. Waits and open spans are measured to it.
    pub recording_ended_at: Option<String>,
    /// Whether the session is still being recorded: its capture log has a stream connection
    /// that never closed (a recorder connected now, or one that died connected).
    pub recording_live: bool,
    pub blocking: Vec<Blocking>,
    pub errors: Vec<ErrorReport>,
    pub open_spans: Vec<OpenSpan>,
    pub turn: Option<TurnReport>,
    pub refusal: Option<Refusal>,
    pub usage: Option<UsageReport>,
    /// Requests that move the session on (budget updates, an interrupt); a blocking event's
    /// requests are on the event.
    pub requests: Vec<Unblock>,
    /// Unproven intervals of a live capture before the point; null when the session was only
    /// imported (flightrec cannot vouch for a file).
    pub capture_gaps: Option<Vec<Gap>>,
    pub capture_note: String,
    pub evidence: Vec<Evidence>,
    pub advice: Vec<String>,
    /// The outcome of the turn the verdict is about (`findings::attach` sets it).
    pub outcome: Option<OutcomeReport>,
    /// Every problem anywhere in the session up to the point, in time order (`findings::attach`
    /// sets them; empty when only the end state was read).
    pub findings: Vec<Finding>,
}

/// The turn the verdict is about: the one the newest idle ended, else the one in progress.
fn verdict_turn(state: &State) -> &Turn {
    let newest = state.newest_idle.as_ref().map(|i| &i.mark.event_id);
    match &state.last_turn {
        Some(t)
            if state
                .session_status
                .as_ref()
                .is_some_and(|s| s.status == "idle")
                && t.ended_by.as_ref().map(|i| &i.mark.event_id) == newest =>
        {
            t
        }
        _ => &state.turn,
    }
}

fn capture_facts(c: Option<&CaptureReport>, point: Option<i64>) -> (Option<Vec<Gap>>, String) {
    let Some(c) = c else {
        return (
            None,
            "no capture report: flightrec cannot vouch that the recording is complete".into(),
        );
    };
    match &c.gaps {
        None => (
            None,
            "imported from files: flightrec cannot vouch that they held every event".into(),
        ),
        Some(gaps) => {
            let before: Vec<Gap> = gaps
                .iter()
                .filter(|g| {
                    point.is_none_or(|p| parse_timestamp_micros(&g.from).is_none_or(|f| f <= p))
                })
                .cloned()
                .collect();
            let note = if before.is_empty() {
                "recorded live with no unproven interval".to_string()
            } else {
                let secs: f64 = before.iter().map(|g| g.seconds).sum();
                format!(
                    "the capture has {} unproven interval(s) ({secs:.1}s in all): events there may be missing, which weakens this verdict",
                    before.len()
                )
            };
            (Some(before), note)
        }
    }
}

/// Explains `state` (folded up to the point, or to the end of the recording).
pub fn explain(state: &State, input: &ExplainInput<'_>) -> Explanation {
    let now = input.at.as_ref().and_then(|a| a.ts).unwrap_or(input.now);
    let last_ts = state.last_event.as_ref().and_then(|m| m.ts);
    let silent_ms = last_ts.map(|t| (now - t).max(0) / 1000);
    let (capture_gaps, capture_note) =
        capture_facts(input.capture, input.at.as_ref().and_then(|a| a.ts));
    let turn = verdict_turn(state);
    let live = input
        .capture
        .is_some_and(|c| c.connections.iter().any(|c| c.closed_at.is_none()));
    let recording_ended_at = match (&input.at, state.end_ts) {
        (None, Some(end)) => Some(format_micros(end)),
        _ => None,
    };
    let mut blocking = state.blocking.clone();
    if live && input.at.is_none() {
        for b in blocking.iter_mut().filter(|b| !b.resolved) {
            b.waited_until_now_ms = b
                .waiting_since
                .as_deref()
                .and_then(parse_timestamp_micros)
                .map(|t| (now - t).max(0) / 1000);
        }
    }
    let mut x = Explanation {
        session_id: input.session_id.to_string(),
        at: input.at.clone(),
        now: format_micros(now),
        state: state
            .session_status
            .as_ref()
            .map_or_else(|| "unknown".to_string(), |s| s.status.clone()),
        stop_reason: state.stop_reason().map(str::to_string),
        previous_stop_reason: state.previous_stop_reason().map(str::to_string),
        verdict: Verdict::Unknown,
        attention: false,
        summary: String::new(),
        last_event: state.last_event.clone(),
        silent_ms,
        recording_ended_at,
        recording_live: live,
        blocking,
        errors: turn
            .errors
            .iter()
            .map(|e| ErrorReport {
                error: e.clone(),
                advice: advice::for_error(e),
            })
            .collect(),
        open_spans: state.open_spans.iter().map(OpenSpan::of).collect(),
        turn: Some(TurnReport {
            started_at: turn.started.as_ref().and_then(|m| m.at.clone()),
            ended_by: turn.ended_by.as_ref().map(|i| i.mark.event_id.clone()),
            interrupted_by: turn
                .ended_by
                .as_ref()
                .and(turn.interrupts.last())
                .map(|m| m.event_id.clone()),
            interrupted_at: turn
                .ended_by
                .as_ref()
                .and(turn.interrupts.last())
                .and_then(|m| m.at.clone()),
            reschedules: turn.reschedules.len(),
            last_user_message: turn.last_user_message.clone(),
            last_agent_message: turn.last_agent_message.clone(),
        }),
        refusal: None,
        usage: None,
        requests: Vec::new(),
        capture_gaps,
        capture_note,
        evidence: Vec::new(),
        advice: Vec::new(),
        outcome: None,
        findings: Vec::new(),
    };
    let silent_too_long = silent_ms.is_some_and(|s| s * 1000 > input.stuck_after);
    verdicts::decide(&mut x, state, turn, silent_too_long, input);
    if x.capture_gaps.as_ref().is_some_and(|g| !g.is_empty()) {
        x.summary
            .push_str(" The capture has unproven intervals: events may be missing.");
        x.advice.push(format!(
            "Record it again (flightrec record {}): a history pass fills what the capture missed.",
            input.session_id
        ));
    }
    x.evidence = merge(std::mem::take(&mut x.evidence));
    x
}

/// Evidence in time order, one entry per event (notes joined).
fn merge(mut all: Vec<Evidence>) -> Vec<Evidence> {
    all.sort_by_key(|e| e.ts.unwrap_or(i64::MAX));
    let mut out: Vec<Evidence> = Vec::new();
    for e in all {
        let same = |o: &&mut Evidence| {
            !e.event_id.is_empty() && o.event_id == e.event_id && o.event_type == e.event_type
        };
        match out.iter_mut().find(same) {
            Some(o) if o.note.contains(&e.note) => {}
            Some(o) => o.note = format!("{}; {}", o.note, e.note),
            None => out.push(e),
        }
    }
    out
}
