//! Rules: what makes a session worth someone's attention now, each with its own threshold. One
//! engine for `flightrec check` (offline, over the database) and `flightrec watch` (on every
//! commit and on a clock), turning what a session's end says into [`Hit`]s. Pure: the clock
//! (`now`) and the workspace's own figures ([`Thresholds::tool_p99_us`]) are inputs.
//!
//! - The verdict decides `requires_action`, `running_silent`, `retries_exhausted`,
//!   `budget_reached` and `refusal` ([`from_explanation`], `verdict.rs`).
//! - The state at the end decides `reschedule_loop` (the turn's reschedules within a window) and
//!   `tool_overdue` (an open tool or MCP call past the workspace's p99 for that tool, or the
//!   floor), `live.rs`.
//! - The findings of the turn just ended decide `empty_turn` and `child_blocked`, read from the
//!   same `empty_turn` and `thread_blocked` findings `explain` shows (`live.rs`): one engine.
//! - `deployment_run_failed` is decided where deployment runs are stored, not here.
//!
//! A hit names the event that blocks or shows the problem: an alert is one per (session, rule,
//! event), so a second tool call waiting after the first is a second alert, while the same one
//! seen again is not.

mod live;
mod tools;
mod verdict;

#[cfg(test)]
mod tests;

use std::collections::BTreeMap;

use serde::Serialize;

use crate::analysis::explain::Explanation;
use crate::analysis::explain::unblock::Unblock;
use crate::analysis::findings::Findings;
use crate::analysis::state::State;

pub use tools::{TOOL_TYPES, ToolTimes, calls as tool_calls, watched as tool_watched};
pub use verdict::from_explanation;

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
    /// The rules some file of sample-logs/ fires: what the tests comparing two ways of
    /// evaluating them expect to see fire.
    #[cfg(test)]
    pub const FIRED_BY_SAMPLES: [Rule; 7] = [
        Rule::RequiresAction,
        Rule::RunningSilent,
        Rule::RescheduleLoop,
        Rule::RetriesExhausted,
        Rule::EmptyTurn,
        Rule::ChildBlocked,
        Rule::ToolOverdue,
    ];

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
    /// `requires_action` waiting longer than this fires (default 10 minutes), and so does a
    /// child thread left waiting on one while the session rests (`child_blocked`).
    pub stuck_after_us: i64,
    /// Running with no event for longer than this fires (default 10 minutes).
    pub silent_after_us: i64,
    /// This many session reschedules within `reschedule_window_us` of now, while the session
    /// is still running or rescheduling, fire (default 3).
    pub reschedule_count: usize,
    /// (default 10 minutes)
    pub reschedule_window_us: i64,
    /// A tool or MCP call open longer than its tool's p99 here, and never less than
    /// `tool_floor_us`, fires (default 5 minutes).
    pub tool_floor_us: i64,
    /// This workspace's p99 call time per tool (`bash`, `server.tool` for MCP tools), µs:
    /// [`ToolTimes::p99`] over the stored calls (`inspect::workspace_tool_p99`). A tool not
    /// listed has only the floor.
    pub tool_p99_us: BTreeMap<String, i64>,
}

const MINUTE_US: i64 = 60 * 1_000_000;

impl Default for Thresholds {
    fn default() -> Thresholds {
        Thresholds {
            stuck_after_us: 10 * MINUTE_US,
            silent_after_us: 10 * MINUTE_US,
            reschedule_count: 3,
            reschedule_window_us: 10 * MINUTE_US,
            tool_floor_us: 5 * MINUTE_US,
            tool_p99_us: BTreeMap::new(),
        }
    }
}

impl Thresholds {
    /// How long a call of `tool` may stay open: its p99 here, never under the floor.
    pub fn tool_limit_us(&self, tool: &str) -> i64 {
        self.tool_p99_us
            .get(tool)
            .copied()
            .unwrap_or(0)
            .max(self.tool_floor_us)
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

/// What the rules read about one session at the end of its recording.
pub struct Facts<'a> {
    /// Explained at `now` with `stuck_after` = [`Thresholds::silent_after_us`].
    pub explanation: &'a Explanation,
    /// The state it was explained from (the verdict fold is enough).
    pub state: &'a State,
    /// The findings of at least the turn the verdict is about (the whole session will do).
    /// Read only when that turn is over (idle, and not `requires_action`): a shell may skip
    /// the fold otherwise and pass empty findings.
    pub findings: &'a Findings,
}

/// Every rule's hits on a session at `now` (µs), in [`Rule`] order.
pub fn evaluate(f: &Facts<'_>, now: i64, th: &Thresholds) -> Vec<Hit> {
    let mut hits = from_explanation(f.explanation, now, th);
    hits.extend(live::reschedule_loop(f, now, th));
    hits.extend(live::empty_turn(f));
    hits.extend(live::child_blocked(f, now, th));
    hits.extend(live::tool_overdue(f, now, th));
    hits.sort_by_key(|h| h.rule);
    hits
}

/// Whether no rule can fire on the session whatever `now` and the thresholds: its verdict is
/// `end_turn`, `terminated` or `deleted` (which the time does not change: only a running
/// session's silence does), and the findings of the turn just over hold no empty turn of the
/// turn the verdict is about and no blocked thread. Every rule needs another verdict, a working
/// session (`running`, `rescheduling`) or one of those findings. `x` may be explained at any
/// time; `findings` as [`Facts::findings`]. What the rules' cache (`inspect`) keeps a resting
/// session as, so `check --all` evaluates nothing for it.
pub fn at_rest(x: &Explanation, findings: &Findings) -> bool {
    use crate::analysis::explain::Verdict;
    use crate::analysis::findings::Code;
    matches!(
        x.verdict,
        Verdict::EndTurn | Verdict::Terminated | Verdict::Deleted
    ) && (!turn_over(x)
        || !findings.findings.iter().any(|f| {
            f.event_id.is_some()
                && match f.code {
                    Code::EmptyTurn => f.turn == findings.verdict_turn,
                    Code::ThreadBlocked => true,
                    _ => false,
                }
        }))
}

/// Whether the turn the verdict is about is over: what `empty_turn` and `child_blocked` need
/// the findings for.
pub fn turn_over(x: &Explanation) -> bool {
    x.state == "idle" && x.stop_reason.as_deref() != Some("requires_action")
}
