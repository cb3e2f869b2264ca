//! The few fields the state fold reads, borrowed from an event's raw text; everything else is
//! skipped. Each reader is called only for the types that carry its fields.

use serde::Deserialize;
use serde_json::Value;
use std::borrow::Cow;

use super::{ErrorMark, Idle, Mark, Message};
use crate::analysis::text::excerpt;
use crate::model::typed::{Budget, ContentBlock, Presence, SessionUsage, blocks_text};

/// How long message excerpts are, in characters.
pub const EXCERPT_CHARS: usize = 160;

#[derive(Deserialize, Default)]
#[serde(default)]
struct StopFields {
    /// Kept as a value: a missing or malformed stop reason must be told apart, not dropped.
    stop_reason: Option<Value>,
    stop_details: Option<Value>,
}

/// A stop reason read from either documented shape (§3.1): `event_ids` beside `type`, or (an
/// earlier version of the events page) one level deeper, under `requires_action`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct StopReasonRead {
    pub kind: Option<String>,
    pub event_ids: Vec<String>,
    /// `missing` (absent or null) or `invalid` (not an object with a string `type`).
    pub problem: Option<&'static str>,
}

pub fn stop_reason(v: Option<&Value>) -> StopReasonRead {
    let Some(v) = v.filter(|v| !v.is_null()) else {
        return StopReasonRead {
            problem: Some("missing"),
            ..StopReasonRead::default()
        };
    };
    let kind = v.get("type").and_then(Value::as_str).map(str::to_string);
    let ids = |list: Option<&Value>| -> Option<Vec<String>> {
        let list = list?.as_array()?;
        Some(
            list.iter()
                .filter_map(Value::as_str)
                .map(str::to_string)
                .collect(),
        )
    };
    let event_ids = ids(v.get("event_ids"))
        .filter(|i| !i.is_empty())
        .or_else(|| ids(v.get("requires_action").and_then(|r| r.get("event_ids"))))
        .unwrap_or_default();
    StopReasonRead {
        problem: kind.is_none().then_some("invalid"),
        kind,
        event_ids,
    }
}

/// Whether an idle event ends the turn: every stop reason but `requires_action` does (§3; the
/// 2.12.0 runner counts unknown ones as ends too).
pub fn idle_ends_turn(raw: &str) -> bool {
    let f: StopFields = serde_json::from_str(raw).unwrap_or_default();
    stop_reason(f.stop_reason.as_ref()).kind.as_deref() != Some("requires_action")
}

pub fn idle(mark: Mark, raw: &str) -> Idle {
    let f: StopFields = serde_json::from_str(raw).unwrap_or_default();
    let read = stop_reason(f.stop_reason.as_ref());
    Idle {
        mark,
        stop_reason: read.kind,
        event_ids: read.event_ids,
        stop_details: f.stop_details.filter(|d| !d.is_null()),
        stop_reason_problem: read.problem,
        stop_reason_raw: f
            .stop_reason
            .filter(|_| read.problem == Some("invalid"))
            .map(|v| v.to_string()),
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct ThreadFields<'a> {
    #[serde(borrow)]
    session_thread_id: Option<Cow<'a, str>>,
    #[serde(borrow)]
    agent_name: Option<Cow<'a, str>>,
    #[serde(borrow)]
    workflow_run_id: Option<Cow<'a, str>>,
    stop_reason: Option<Value>,
}

/// `(session_thread_id, agent_name, workflow_run_id, stop_reason type)` of a thread event.
pub type ThreadFacts = (
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
);

pub fn thread(raw: &str) -> ThreadFacts {
    let f: ThreadFields = serde_json::from_str(raw).unwrap_or_default();
    let own = |c: Option<Cow<'_, str>>| c.filter(|s| !s.is_empty()).map(Cow::into_owned);
    (
        own(f.session_thread_id),
        own(f.agent_name),
        own(f.workflow_run_id),
        stop_reason(f.stop_reason.as_ref()).kind,
    )
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct ErrorFields {
    error: Option<Value>,
    workflow_run_id: Option<String>,
}

pub fn error(mark: Mark, raw: &str) -> ErrorMark {
    let f: ErrorFields = serde_json::from_str(raw).unwrap_or_default();
    let e = f.error.unwrap_or(Value::Null);
    let s = |k: &str| e.get(k).and_then(Value::as_str).map(str::to_string);
    ErrorMark {
        error_type: s("type").unwrap_or_else(|| "unknown".into()),
        retry_status: e
            .get("retry_status")
            .and_then(|r| r.get("type"))
            .and_then(Value::as_str)
            .map(str::to_string),
        message: s("message"),
        mcp_server_name: s("mcp_server_name"),
        repository_url: s("repository_url"),
        credential_id: s("credential_id"),
        vault_id: s("vault_id"),
        workflow_run_id: f.workflow_run_id,
        mark,
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct ReplyFields<'a> {
    #[serde(borrow)]
    result: Option<Cow<'a, str>>,
    is_error: Option<bool>,
    #[serde(borrow)]
    session_thread_id: Option<Cow<'a, str>>,
}

/// `(result, is_error)` of a reply: `allow`/`deny` on confirmations.
pub fn reply(raw: &str) -> (Option<String>, bool) {
    let f: ReplyFields = serde_json::from_str(raw).unwrap_or_default();
    (f.result.map(Cow::into_owned), f.is_error.unwrap_or(false))
}

/// The `session_thread_id` of an event (a child thread's cross-posted copy), if any.
pub fn session_thread_id(raw: &str) -> Option<String> {
    let f: ReplyFields = serde_json::from_str(raw).unwrap_or_default();
    f.session_thread_id
        .filter(|s| !s.is_empty())
        .map(Cow::into_owned)
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct SessionUsageFields {
    usage: Option<SessionUsage>,
}

/// `usage` of a `session.usage`.
pub fn session_usage(raw: &str) -> SessionUsage {
    let f: SessionUsageFields = serde_json::from_str(raw).unwrap_or_default();
    f.usage.unwrap_or_default()
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct UsageBudgetFields {
    budget: Option<Budget>,
}

/// `budget` of a `session.usage` (null: the session has none).
pub fn usage_budget(raw: &str) -> Option<Budget> {
    serde_json::from_str::<UsageBudgetFields>(raw)
        .unwrap_or_default()
        .budget
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct UpdatedFields {
    budget: Presence<Budget>,
}

/// The budget a `session.updated` sets: absent (unchanged), null (removed) or a new one.
pub fn updated_budget(raw: &str) -> Presence<Budget> {
    serde_json::from_str::<UpdatedFields>(raw)
        .map(|f| f.budget)
        .unwrap_or_default()
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct ContentFields {
    content: Vec<ContentBlock>,
}

/// A message with its text cut to an excerpt.
pub fn message(mark: Mark, thread_id: Option<String>, raw: &str) -> Message {
    let f: ContentFields = serde_json::from_str(raw).unwrap_or_default();
    Message {
        mark,
        thread_id,
        excerpt: excerpt(&blocks_text(&f.content), EXCERPT_CHARS),
    }
}

/// `Idle::stop_reason_problem` back from a checkpoint: one of the problems [`stop_reason`] names.
pub(super) fn stop_reason_problem<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> Result<Option<&'static str>, D::Error> {
    let s: Option<String> = serde::Deserialize::deserialize(d)?;
    Ok(s.map(|s| match s.as_str() {
        "missing" => "missing",
        _ => "invalid",
    }))
}
