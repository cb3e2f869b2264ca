//! The whole-session post-mortem: one [`Finding`] per problem anywhere in a session (an early
//! refusal, an empty turn, an agent loop, an unmet outcome, an error it never recovered from, …),
//! where `explain`'s verdict judges only the end state. Pure: one incremental fold over every
//! event in time order ([`FindingsBuilder::push`], then [`FindingsBuilder::finish`]), with the
//! capture's gaps as an input and no clock. The codes, severities and messages are documented
//! in docs/explain-json.md; the codes are a contract.
//!
//! A point (`explain --at`) is read as if the recording ended there: the fold is fed only the
//! events at or before it, so a finding needs nothing that came later, and what could still
//! change (a retrying error in the turn in progress) is not a finding yet.

mod calls;
mod out;
mod parse;
mod track;
mod verdict;

#[cfg(test)]
mod tests;

use serde::{Deserialize, Serialize};

use crate::analysis::checkpoint;

pub use track::FindingsBuilder;
pub use verdict::attach;

/// A finding's stable code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Code {
    EmptyTurn,
    OutcomeUnmet,
    RepeatedCall,
    Refusal,
    RetriesExhausted,
    BudgetReached,
    Error,
    McpFailure,
    ToolError,
    Interrupted,
    ThreadBlocked,
    QueuedAnswer,
    CaptureGap,
}

impl Code {
    pub fn as_str(self) -> &'static str {
        match self {
            Code::EmptyTurn => "empty_turn",
            Code::OutcomeUnmet => "outcome_unmet",
            Code::RepeatedCall => "repeated_call",
            Code::Refusal => "refusal",
            Code::RetriesExhausted => "retries_exhausted",
            Code::BudgetReached => "budget_reached",
            Code::Error => "error",
            Code::McpFailure => "mcp_failure",
            Code::ToolError => "tool_error",
            Code::Interrupted => "interrupted",
            Code::ThreadBlocked => "thread_blocked",
            Code::QueuedAnswer => "queued_answer",
            Code::CaptureGap => "capture_gap",
        }
    }
}

/// How bad a finding is. `check --findings` exits 1 on `warning` or worse.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// Worth knowing, nothing to do: a tool error the agent went on from, an interrupt.
    Info,
    /// Someone should look: the session did not do what was asked, or may not have.
    Warning,
    /// A turn or the session failed.
    Error,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Error => "error",
        }
    }
}

/// One problem, at one event.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Finding {
    pub code: Code,
    pub severity: Severity,
    /// The turn it happened in, counting from 1: turn N is everything after the (N-1)th
    /// turn-ending `session.status_idle` up to and including the Nth.
    pub turn: usize,
    /// The event it is about; null for a capture gap.
    pub event_id: Option<String>,
    /// That event's `processed_at` (a gap's start); null for a queued event.
    pub at: Option<String>,
    /// From the session's first event, in milliseconds.
    pub offset_ms: Option<i64>,
    /// One sentence for people; do not parse.
    pub message: String,
    #[serde(default, skip_serializing_if = "checkpoint::outside")]
    pub ts: Option<i64>,
}

/// What the fold found, and what the verdict needs from it. It serializes (with
/// `analysis::checkpoint`, every field) for the rules' cache.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Findings {
    /// In time order (queued events last).
    pub findings: Vec<Finding>,
    /// The newest outcome of the turn the verdict is about.
    pub outcome: Option<OutcomeReport>,
    /// The turn the verdict is about: the one the newest idle ended, else the one in progress.
    pub verdict_turn: usize,
}

impl Findings {
    /// Whether any finding is a warning or worse (what `check --findings` exits 1 on).
    pub fn need_attention(findings: &[Finding]) -> bool {
        findings.iter().any(|f| f.severity >= Severity::Warning)
    }
}

/// A `user.define_outcome` and where its grading stands.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OutcomeReport {
    pub outcome_id: Option<String>,
    pub description: Option<String>,
    pub max_iterations: Option<u64>,
    pub defined_by: String,
    /// The newest `span.outcome_evaluation_end`'s result (an open set); null before any.
    pub result: Option<String>,
    /// Its iteration, counting from 0.
    pub iteration: Option<u64>,
    /// The grader's explanation.
    pub explanation: Option<String>,
    /// That `span.outcome_evaluation_end`.
    pub evaluation_id: Option<String>,
    pub evaluated_at: Option<String>,
    /// Every result so far, oldest first.
    pub results: Vec<String>,
    /// `true` satisfied, `false` a final result that is not (or the turn ended without one),
    /// null while grading goes on.
    pub met: Option<bool>,
    #[serde(default, skip_serializing_if = "checkpoint::outside")]
    pub evaluated_ts: Option<i64>,
}
