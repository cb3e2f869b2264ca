//! What the state fold produces: marks of events, turns, threads, usage and the state itself.

use serde::{Deserialize, Serialize};

use crate::analysis::checkpoint;
use serde_json::Value;

use super::parse;
use crate::analysis::explain::blocking::Blocking;
use crate::analysis::spans::Span;
use crate::model::typed::{Budget, ModelUsage, SessionUsage};
use crate::store::EventRef;

/// One event, as evidence: its id, type and time.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Mark {
    pub event_id: String,
    #[serde(rename = "type")]
    pub event_type: String,
    /// `processed_at` as received (null while queued).
    pub at: Option<String>,
    /// µs since the epoch (in checkpoints only).
    #[serde(default, skip_serializing_if = "checkpoint::outside")]
    pub ts: Option<i64>,
}

impl Mark {
    pub fn of(row: &EventRef<'_>) -> Mark {
        Mark {
            event_id: row.event_id.to_string(),
            event_type: row.event_type.to_string(),
            at: row.processed_at.map(str::to_string),
            ts: row.ts,
        }
    }

    /// Becomes `row`'s mark, reusing its buffers (the fold keeps "the newest X" this way).
    pub(super) fn set(&mut self, row: &EventRef<'_>) {
        set_text(&mut self.event_id, row.event_id);
        set_text(&mut self.event_type, row.event_type);
        match (&mut self.at, row.processed_at) {
            (Some(at), Some(p)) => set_text(at, p),
            (at, p) => *at = p.map(str::to_string),
        }
        self.ts = row.ts;
    }
}

pub(super) fn set_text(buf: &mut String, text: &str) {
    buf.clear();
    buf.push_str(text);
}

/// An event kept whole (its raw text) until the end of the fold.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(super) struct Kept {
    pub(super) mark: Mark,
    stream: String,
    pub(super) raw: String,
}

/// Keeps `row` in `slot`, reusing the buffers of what was there.
pub(super) fn keep(slot: &mut Option<Kept>, row: &EventRef<'_>) {
    match slot {
        Some(k) => {
            k.mark.set(row);
            set_text(&mut k.stream, row.thread_id);
            set_text(&mut k.raw, row.raw);
        }
        None => {
            *slot = Some(Kept {
                mark: Mark::of(row),
                stream: row.thread_id.to_string(),
                raw: row.raw.to_string(),
            })
        }
    }
}

impl Kept {
    pub(super) fn message(&self) -> Message {
        let stream = (!self.stream.is_empty()).then(|| self.stream.clone());
        parse::message(self.mark.clone(), stream, &self.raw)
    }
}

/// The session's status, from its newest `session.status_*` or `session.deleted` event.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StatusMark {
    /// running | idle | rescheduling | terminated | deleted
    pub status: String,
    #[serde(flatten)]
    pub mark: Mark,
}

/// A session-level idle.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Idle {
    #[serde(flatten)]
    pub mark: Mark,
    pub stop_reason: Option<String>,
    /// `requires_action` only: the blocking events.
    pub event_ids: Vec<String>,
    /// `stop_details` when not null (a refusal's category and explanation).
    pub stop_details: Option<Value>,
    /// `missing` when the idle has no `stop_reason`, `invalid` when it is not an object with a
    /// string `type`.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "parse::stop_reason_problem"
    )]
    pub stop_reason_problem: Option<checkpoint::StaticStr>,
    /// An invalid `stop_reason` as received (JSON text).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stop_reason_raw: Option<String>,
}

/// A `session.error` or `workflow_run.error`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ErrorMark {
    #[serde(flatten)]
    pub mark: Mark,
    pub error_type: String,
    /// retrying | exhausted | terminal (`session.error` only).
    pub retry_status: Option<String>,
    pub message: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mcp_server_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub repository_url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub credential_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vault_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub workflow_run_id: Option<String>,
}

/// A user or agent message, cut to an excerpt.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Message {
    #[serde(flatten)]
    pub mark: Mark,
    /// The stream it was read from; null for the session's own.
    pub thread_id: Option<String>,
    pub excerpt: String,
}

/// One turn: from the end of the previous one to a session-level idle that is not
/// `requires_action` (or to the point, for the turn in progress).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Turn {
    /// Its first `session.status_running`.
    pub started: Option<Mark>,
    /// The idle that ended it; null while in progress.
    pub ended_by: Option<Idle>,
    pub errors: Vec<ErrorMark>,
    /// `user.interrupt` events aimed at the whole session (not at one child thread).
    pub interrupts: Vec<Mark>,
    pub reschedules: Vec<Mark>,
    pub last_user_message: Option<Message>,
    pub last_agent_message: Option<Message>,
    /// Tools and model requests still open when the turn ended.
    pub abandoned_spans: Vec<Span>,
}

/// A session thread's status, from `session.thread_created` and `session.thread_status_*`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ThreadState {
    pub thread_id: String,
    pub agent_name: Option<String>,
    pub workflow_run_id: Option<String>,
    /// created | running | idle | rescheduling | terminated
    pub status: String,
    pub stop_reason: Option<String>,
    /// The event that set the status.
    pub since: Mark,
}

/// Token counts summed over `span.model_request_end.model_usage`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TokenSums {
    pub requests: u64,
    pub failed_requests: u64,
    pub input_tokens: u64,
    pub output_tokens: u64,
    pub cache_creation_input_tokens: u64,
    pub cache_read_input_tokens: u64,
    /// Requests whose `span.model_request_start` is not in the recording (a capture that began
    /// mid-request): counted, marked partial, as `stats` and `spans` do.
    pub partial_requests: u64,
}

impl TokenSums {
    pub fn add(&mut self, usage: &ModelUsage, is_error: bool) {
        self.requests += 1;
        self.failed_requests += u64::from(is_error);
        self.input_tokens += usage.input_tokens;
        self.output_tokens += usage.output_tokens;
        self.cache_creation_input_tokens += usage.cache_creation_input_tokens;
        self.cache_read_input_tokens += usage.cache_read_input_tokens;
    }
}

/// The newest `session.usage`: the server's cumulative figures.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UsageMark {
    #[serde(flatten)]
    pub mark: Mark,
    pub usage: SessionUsage,
}

/// The budget in force, from the newest `session.updated` that set one or `session.usage`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BudgetMark {
    /// Null when the session has no budget (never had one, or it was removed).
    pub budget: Option<Budget>,
    pub set_by: Mark,
}

/// Messages read on one stream.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ThreadMessages {
    /// Null for the session's own stream.
    pub thread_id: Option<String>,
    pub user_messages: u64,
    pub agent_messages: u64,
    pub last_agent_message: Option<Message>,
}

/// What only the full fold vouches for: it needs every event of [`super::full_prefix_types`].
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Ledger {
    pub model_requests: TokenSums,
    pub session_usage: Option<UsageMark>,
    pub budget: Option<BudgetMark>,
    pub messages: Vec<ThreadMessages>,
    /// Every error so far.
    pub errors: Vec<ErrorMark>,
}

/// The state at the end of what was fed.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct State {
    pub session_status: Option<StatusMark>,
    pub newest_idle: Option<Idle>,
    pub threads: Vec<ThreadState>,
    /// Open at the point: the turn's tools, model requests and evaluations, threads, runs.
    pub open_spans: Vec<Span>,
    /// The events named by `requires_action` idles since the session last entered running.
    pub blocking: Vec<Blocking>,
    /// The turn in progress (since the last turn-ending idle).
    pub turn: Turn,
    /// The turn that the newest turn-ending idle ended.
    pub last_turn: Option<Turn>,
    /// Null for a verdict fold ([`StateBuilder::for_verdict`](super::StateBuilder::for_verdict)).
    pub ledger: Option<Ledger>,
    pub last_event: Option<Mark>,
    /// Where open spans and waits are aged: the point, or the end of the recording (µs).
    #[serde(skip)]
    pub end_ts: Option<i64>,
}

impl State {
    fn is_idle(&self) -> bool {
        self.session_status
            .as_ref()
            .is_some_and(|s| s.status == "idle")
    }

    /// `stop_reason.type` of the newest idle, while the session is idle: a session that has
    /// moved on (running, rescheduling, terminated) has no stop reason.
    pub fn stop_reason(&self) -> Option<&str> {
        self.newest_idle
            .as_ref()
            .filter(|_| self.is_idle())
            .and_then(|i| i.stop_reason.as_deref())
    }

    /// The newest idle's stop reason once the session has moved on from it.
    pub fn previous_stop_reason(&self) -> Option<&str> {
        self.newest_idle
            .as_ref()
            .filter(|_| !self.is_idle())
            .and_then(|i| i.stop_reason.as_deref())
    }

    /// Whether the turn the session stopped in ended with `stop_reason` (the newest status is an
    /// idle with it).
    pub fn idle_with(&self, stop_reason: &str) -> bool {
        idle_with(
            self.session_status.as_ref(),
            self.newest_idle.as_ref(),
            stop_reason,
        )
    }
}

/// [`State::idle_with`] from the two fields it reads (which the fold holds as they are).
pub(super) fn idle_with(
    status: Option<&StatusMark>,
    newest_idle: Option<&Idle>,
    stop_reason: &str,
) -> bool {
    status.is_some_and(|s| s.status == "idle")
        && newest_idle.and_then(|i| i.stop_reason.as_deref()) == Some(stop_reason)
}
