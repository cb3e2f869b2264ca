//! One function per status and stop reason: the verdict's code, summary, evidence and advice.

use super::idle as stop;
use super::unblock::{J, send_event};
use super::{Evidence, ExplainInput, Explanation, Verdict, advice};
use crate::analysis::explain::blocking::Blocking;
use crate::analysis::spans::SpanKind;
use crate::analysis::state::{ErrorMark, State, Turn};
use crate::model::parse_timestamp_micros;
use crate::model::time::format_duration_micros;

pub(super) fn ms(v: i64) -> String {
    format_duration_micros(v.saturating_mul(1000))
}

pub(super) fn at(t: &Option<String>) -> String {
    t.clone().unwrap_or_else(|| "(queued)".into())
}

/// What a blocking event is, in a few words.
pub(super) fn describe(b: &Blocking) -> String {
    let name = b.name.as_deref().unwrap_or("?");
    match b.event_type.as_deref() {
        Some("agent.custom_tool_use") => format!("custom tool {name}"),
        Some("agent.mcp_tool_use") => {
            format!(
                "MCP tool {}.{name}",
                b.mcp_server_name.as_deref().unwrap_or("?")
            )
        }
        Some("agent.tool_use") => format!("tool {name}"),
        _ => format!("event {} (not in the recording)", b.event_id),
    }
}

pub(super) fn error_note(e: &ErrorMark) -> String {
    match &e.retry_status {
        Some(r) => format!("{} ({r})", e.error_type),
        None => e.error_type.clone(),
    }
}

pub(super) fn blocking_evidence(b: &Blocking, note: String) -> Evidence {
    Evidence {
        event_id: b.event_id.clone(),
        event_type: b.event_type.clone().unwrap_or_else(|| "unknown".into()),
        at: b.waiting_since.clone(),
        note,
        ts: b.waiting_since.as_deref().and_then(parse_timestamp_micros),
    }
}

pub(super) fn decide(
    x: &mut Explanation,
    state: &State,
    turn: &Turn,
    silent_too_long: bool,
    input: &ExplainInput<'_>,
) {
    let idle = state.newest_idle.as_ref().filter(|_| x.state == "idle");
    if let (Some(s), None) = (&state.session_status, idle) {
        x.evidence.push(Evidence::of(
            &s.mark,
            format!("newest session status: {}", s.status),
        ));
    }
    match (x.state.as_str(), idle) {
        ("idle", Some(idle)) => {
            let reason = match (idle.stop_reason.as_deref(), idle.stop_reason_problem) {
                (Some(r), _) => r,
                (None, Some("invalid")) => "(invalid)",
                (None, _) => "(missing)",
            };
            let shown = match reason {
                "(missing)" => "no stop_reason".to_string(),
                "(invalid)" => format!(
                    "invalid stop_reason {}",
                    idle.stop_reason_raw.as_deref().unwrap_or("?")
                ),
                r => r.to_string(),
            };
            x.evidence
                .push(Evidence::of(&idle.mark, format!("session idle: {shown}")));
            match reason {
                "(missing)" | "(invalid)" => {
                    x.verdict = Verdict::UnknownStopReason;
                    x.attention = true;
                    x.summary = format!(
                        "Idle since {} with {}: the API requires a stop reason on every session.status_idle, so why the session stopped is not recorded; clients treat it as the end of the turn.",
                        at(&idle.mark.at),
                        if reason == "(missing)" {
                            "no stop_reason (the field is missing or null)".to_string()
                        } else {
                            format!("{shown} (not an object with a string type)")
                        }
                    );
                    x.advice.push(format!(
                        "Read the idle's own fields (flightrec timeline {} --json, event {}) and check the live status with the API.",
                        input.session_id, idle.mark.event_id
                    ));
                }
                "requires_action" => stop::requires_action(x, idle, silent_too_long),
                "end_turn" => stop::end_turn(x, idle, turn),
                "retries_exhausted" => stop::retries_exhausted(x, idle, turn),
                "refusal" => stop::refusal(x, idle, turn),
                "budget_reached" => stop::budget_reached(x, state, idle, input.session_id),
                other => {
                    x.verdict = Verdict::UnknownStopReason;
                    x.attention = true;
                    x.summary = format!(
                        "Idle since {} with stop reason “{other}”, which this flightrec does not know; clients treat it as the end of the turn.",
                        at(&idle.mark.at)
                    );
                    x.advice.push(format!(
                        "Read the idle's own fields: flightrec timeline {} --json (event {}).",
                        input.session_id, idle.mark.event_id
                    ));
                }
            }
        }
        ("running" | "rescheduling", _) => running(x, state, turn, silent_too_long, input),
        ("terminated", _) => terminated(x, turn),
        ("deleted", _) => {
            x.verdict = Verdict::Deleted;
            let when = state
                .session_status
                .as_ref()
                .map(|s| at(&s.mark.at))
                .unwrap_or_default();
            x.summary = format!("The session was deleted at {when}; nothing follows a deletion.");
        }
        _ => {
            x.verdict = Verdict::Unknown;
            x.attention = true;
            x.summary = match &state.last_event {
                None => "No events at this point.".into(),
                Some(m) => format!(
                    "No session status event yet (last event: {} at {}): the session has not been seen running.",
                    m.event_type,
                    at(&m.at)
                ),
            };
        }
    }
}

fn running(
    x: &mut Explanation,
    state: &State,
    turn: &Turn,
    silent_too_long: bool,
    input: &ExplainInput<'_>,
) {
    let rescheduling = x.state == "rescheduling";
    let last = state.last_event.as_ref();
    let silent = ms(x.silent_ms.unwrap_or(0));
    let mut in_flight: Vec<String> = x
        .open_spans
        .iter()
        .filter(|s| {
            !matches!(
                s.kind,
                SpanKind::Thread | SpanKind::WorkflowRun | SpanKind::WorkflowPhase
            )
        })
        .map(|s| format!("{} {} since {}", s.kind, s.name, at(&s.started_at)))
        .collect();
    in_flight.truncate(3);
    let doing = if in_flight.is_empty() {
        String::new()
    } else {
        format!(" In flight: {}.", in_flight.join("; "))
    };
    let what = if rescheduling {
        "Rescheduling after a retryable error"
    } else {
        "Running"
    };
    let last_text = last
        .map(|m| format!("{} {} at {}", m.event_type, m.event_id, at(&m.at)))
        .unwrap_or_default();
    if silent_too_long {
        x.verdict = Verdict::Stalled;
        x.attention = true;
        x.summary = if x.recording_live || x.at.is_some() {
            format!("{what}, but no event for {silent} (the last: {last_text}).{doing}")
        } else {
            // The silence after the recording ended is not the session's: say what is known.
            format!(
                "The recording ends while the session {}: its last event is {last_text}, and nothing after it is recorded. That was {silent} before {}: the session may have finished or stalled since.{doing}",
                if rescheduling {
                    "is rescheduling"
                } else {
                    "runs"
                },
                x.now
            )
        };
        if let Some(m) = last {
            x.evidence.push(Evidence::of(m, "the last event"));
        }
        x.advice.push(format!(
            "Check the live status (GET /v1/sessions/{}): the session may have moved on after the recording stopped.",
            input.session_id
        ));
        x.advice.push("If it is stuck, interrupt it (the request is under `requests`) and send the prompt again.".into());
        x.requests.push(send_event(
            input.session_id,
            "interrupt",
            J::Obj(vec![("type", J::s("user.interrupt"))]),
        ));
    } else {
        x.verdict = if rescheduling {
            Verdict::Rescheduling
        } else {
            Verdict::Running
        };
        x.summary = format!(
            "{what}; the last event was {silent} before {} ({last_text}).{doing}",
            x.now
        );
    }
    let n = turn.reschedules.len();
    if n >= 3 {
        x.attention = true;
        x.summary
            .push_str(&format!(" Rescheduled {n} times this turn."));
        x.advice.push(format!(
            "Rescheduled {n} times this turn: the server keeps failing and retrying; see the errors for why."
        ));
    }
    for r in &turn.reschedules {
        x.evidence.push(Evidence::of(r, "rescheduled"));
    }
    for e in &turn.errors {
        x.evidence.push(Evidence::of(&e.mark, error_note(e)));
        let a = advice::for_error(e);
        if !x.advice.contains(&a) {
            x.advice.push(a);
        }
    }
}

fn terminated(x: &mut Explanation, turn: &Turn) {
    x.verdict = Verdict::Terminated;
    let when = x.evidence.first().and_then(|e| e.at.clone());
    let terminal = turn
        .errors
        .iter()
        .rev()
        .find(|e| e.retry_status.as_deref() == Some("terminal"));
    x.summary = match (terminal, turn.errors.len()) {
        (Some(e), _) => format!(
            "Terminated at {} after {} (terminal: “{}”).",
            at(&when),
            e.error_type,
            e.message.as_deref().unwrap_or("")
        ),
        (None, 0) => format!("Terminated at {}.", at(&when)),
        (None, n) => format!("Terminated at {} after {n} error(s).", at(&when)),
    };
    x.attention = !turn.errors.is_empty();
    let abandoned: Vec<String> = x
        .open_spans
        .iter()
        .filter(|s| {
            !matches!(
                s.kind,
                SpanKind::Thread | SpanKind::WorkflowRun | SpanKind::WorkflowPhase
            )
        })
        .map(|s| format!("{} {} ({})", s.kind, s.name, s.start_id))
        .collect();
    if !abandoned.is_empty() {
        x.summary
            .push_str(&format!(" Still open then: {}.", abandoned.join("; ")));
    }
    for e in &turn.errors {
        x.evidence.push(Evidence::of(&e.mark, error_note(e)));
    }
    // Only what ended it matters now: the terminal error, else the last one.
    if let Some(e) = terminal.or(turn.errors.last()) {
        x.advice.push(advice::for_error(e));
    }
    x.advice
        .push("Termination is irreversible: start a new session for the remaining work.".into());
}
