//! Rules: what makes a session worth someone's attention now, each with its own threshold. One
//! engine for `flightrec check` (offline, over the database) and `flightrec watch` (on every
//! commit and on a clock), turning a session's [`Explanation`] (and, as rules are added, its
//! findings and the workspace's own figures) into [`Hit`]s.
//!
//! A hit names the event that blocks or shows the problem: an alert is one per (session, rule,
//! event), so a second tool call waiting after the first is a second alert, while the same one
//! seen again is not.

use serde::Serialize;

use crate::analysis::explain::unblock::Unblock;
use crate::analysis::explain::{Explanation, Verdict};
use crate::model::time::parse_timestamp_micros;

/// A rule. The code (`as_str`) is what alerts, metrics labels and JSON carry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Rule {
    /// Idle in `requires_action` for longer than `stuck_after`.
    RequiresAction,
    /// Running, rescheduling or resuming with no event for longer than `silent_after`.
    RunningSilent,
    /// Rescheduled `reschedule_count` times within `reschedule_window`.
    RescheduleLoop,
    /// Idle after the retries were used up.
    RetriesExhausted,
    /// Idle: the spend reached the budget.
    BudgetReached,
    /// Idle: the model's output was refused.
    Refusal,
    /// A turn that ended without output.
    EmptyTurn,
    /// A child thread blocked while the primary thread is idle.
    ChildBlocked,
    /// A tool or MCP call open longer than this workspace's p99 for that tool (with a floor).
    ToolOverdue,
    /// A deployment run failed: the session never started.
    DeploymentRunFailed,
}

impl Rule {
    pub const ALL: [Rule; 10] = [
        Rule::RequiresAction,
        Rule::RunningSilent,
        Rule::RescheduleLoop,
        Rule::RetriesExhausted,
        Rule::BudgetReached,
        Rule::Refusal,
        Rule::EmptyTurn,
        Rule::ChildBlocked,
        Rule::ToolOverdue,
        Rule::DeploymentRunFailed,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Rule::RequiresAction => "requires_action",
            Rule::RunningSilent => "running_silent",
            Rule::RescheduleLoop => "reschedule_loop",
            Rule::RetriesExhausted => "retries_exhausted",
            Rule::BudgetReached => "budget_reached",
            Rule::Refusal => "refusal",
            Rule::EmptyTurn => "empty_turn",
            Rule::ChildBlocked => "child_blocked",
            Rule::ToolOverdue => "tool_overdue",
            Rule::DeploymentRunFailed => "deployment_run_failed",
        }
    }

    pub fn parse(code: &str) -> Option<Rule> {
        Rule::ALL.into_iter().find(|r| r.as_str() == code)
    }
}

impl std::fmt::Display for Rule {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Each rule's threshold (µs where a duration).
#[derive(Debug, Clone, PartialEq)]
pub struct Thresholds {
    /// `requires_action` waiting longer than this fires (default 10 minutes).
    pub stuck_after_us: i64,
    /// Running with no event for longer than this fires (default 10 minutes).
    pub silent_after_us: i64,
}

impl Default for Thresholds {
    fn default() -> Thresholds {
        Thresholds {
            stuck_after_us: 10 * 60 * 1_000_000,
            silent_after_us: 10 * 60 * 1_000_000,
        }
    }
}

/// One rule firing on one session, about one event.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Hit {
    pub session_id: String,
    pub rule: Rule,
    /// The event the hit is about (the blocking call, the idle, the last event before a
    /// silence); with the session and rule, what makes an alert one alert.
    pub event_id: Option<String>,
    /// That event's time as received.
    pub at: Option<String>,
    /// One line for a person.
    pub summary: String,
    /// The request that unblocks the session, where there is one (the event sent to
    /// `POST /v1/sessions/{id}/events`, or a session update), with its curl and Python forms.
    pub unblock: Option<Unblock>,
}

/// The hits of the rules an explanation decides: `requires_action` past `stuck_after` (one per
/// unanswered blocking event), a silent running session, `retries_exhausted`, `budget_reached`
/// and `refusal`. `x` must be an explanation of the end of the recording at `now` (µs), made
/// with `stuck_after` = `th.silent_after_us` (what makes a running session `stalled`). A blocking
/// event has waited from its time (else the first idle naming it) to `now`.
pub fn from_explanation(x: &Explanation, now: i64, th: &Thresholds) -> Vec<Hit> {
    let hit = |rule: Rule, event_id: Option<String>, at: Option<String>, unblock| Hit {
        session_id: x.session_id.clone(),
        rule,
        event_id,
        at,
        summary: x.summary.clone(),
        unblock,
    };
    let last = || {
        x.last_event
            .as_ref()
            .map(|m| (m.event_id.clone(), m.at.clone()))
    };
    let mut hits = Vec::new();
    match x.verdict {
        Verdict::RequiresAction => {
            for b in x.blocking.iter().filter(|b| !b.resolved) {
                let since = b.waiting_since.as_deref().and_then(parse_timestamp_micros);
                if since.is_none_or(|t| now - t <= th.stuck_after_us) {
                    continue;
                }
                let unblock = b.unblock.first().cloned();
                hits.push(hit(
                    Rule::RequiresAction,
                    Some(b.event_id.clone()),
                    b.waiting_since.clone(),
                    unblock,
                ));
            }
        }
        Verdict::Stalled if x.silent_ms.is_some_and(|ms| ms * 1000 > th.silent_after_us) => {
            let (id, at) = last().unzip();
            hits.push(hit(Rule::RunningSilent, id, at.flatten(), None));
        }
        Verdict::RetriesExhausted | Verdict::BudgetReached | Verdict::Refusal => {
            let rule = match x.verdict {
                Verdict::RetriesExhausted => Rule::RetriesExhausted,
                Verdict::BudgetReached => Rule::BudgetReached,
                _ => Rule::Refusal,
            };
            let unblock = x.requests.first().cloned();
            let (id, at) = last().unzip();
            hits.push(hit(rule, id, at.flatten(), unblock));
        }
        _ => {}
    }
    hits
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::explain::unblock::J;
    use crate::analysis::explain::{ExplainInput, explain};
    use crate::analysis::state::StateBuilder;
    use crate::analysis::testing::rows;

    fn ts(s: &str) -> i64 {
        parse_timestamp_micros(s).unwrap()
    }

    /// The hits on `jsonl` at `now` with the default thresholds.
    fn hits(jsonl: &str, now: &str) -> Vec<Hit> {
        let events = rows(jsonl);
        let mut b = StateBuilder::new("sesn_1");
        for r in &events {
            b.push(&r.as_ref());
        }
        let state = b.finish(events.last().and_then(|r| r.ts));
        let th = Thresholds::default();
        let input = ExplainInput {
            session_id: "sesn_1",
            at: None,
            capture: None,
            now: ts(now),
            stuck_after: th.silent_after_us,
        };
        from_explanation(&explain(&state, &input), ts(now), &th)
    }

    const BLOCKED: &str = r#"{"type":"user.message","id":"u1","processed_at":"2026-01-01T00:00:00.000Z","content":[{"type":"text","text":"Look it up."}]}
{"type":"session.status_running","id":"r1","processed_at":"2026-01-01T00:00:00.100Z"}
{"type":"agent.custom_tool_use","id":"t1","processed_at":"2026-01-01T00:00:01.000Z","name":"lookup","input":{"q":"x"}}
{"type":"session.status_idle","id":"i1","processed_at":"2026-01-01T00:00:02.000Z","stop_reason":{"type":"requires_action","event_ids":["t1"]}}"#;

    #[test]
    fn requires_action_fires_only_past_stuck_after_and_names_the_call() {
        assert!(hits(BLOCKED, "2026-01-01T00:09:00Z").is_empty());
        let h = hits(BLOCKED, "2026-01-01T00:11:00Z");
        assert_eq!(h.len(), 1, "{h:?}");
        assert_eq!(h[0].rule, Rule::RequiresAction);
        assert_eq!(h[0].event_id.as_deref(), Some("t1"));
        let body = &h[0].unblock.as_ref().expect("an unblock request").body;
        assert_eq!(body.get("type"), Some(&J::s("user.custom_tool_result")));
        assert_eq!(body.get("custom_tool_use_id"), Some(&J::s("t1")));
    }

    #[test]
    fn end_turn_never_fires_and_silence_fires_past_its_threshold() {
        let done = BLOCKED.replace(
            r#""stop_reason":{"type":"requires_action","event_ids":["t1"]}"#,
            r#""stop_reason":{"type":"end_turn"}"#,
        );
        assert!(hits(&done, "2026-01-02T00:00:00Z").is_empty());
        let running: String = BLOCKED.lines().take(3).collect::<Vec<_>>().join("\n");
        assert!(hits(&running, "2026-01-01T00:05:00Z").is_empty());
        let h = hits(&running, "2026-01-01T00:11:00Z");
        assert_eq!(h.len(), 1, "{h:?}");
        assert_eq!(h[0].rule, Rule::RunningSilent);
        assert_eq!(h[0].event_id.as_deref(), Some("t1"));
    }

    #[test]
    fn codes_round_trip() {
        for r in Rule::ALL {
            assert_eq!(Rule::parse(r.as_str()), Some(r));
        }
        assert_eq!(Rule::parse("nope"), None);
    }
}
