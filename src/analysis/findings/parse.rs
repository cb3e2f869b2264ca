//! The few fields the findings fold reads, borrowed from an event's raw text. Each reader accepts
//! both SDK generations' shapes: a stop reason as an object (`{"type": …}`, with `event_ids` at
//! the top or, as an earlier version of the docs had it, under `requires_action`) or as a bare
//! string, and every field optional.

use serde::Deserialize;
use serde_json::Value;
use std::borrow::Cow;

use crate::analysis::text::{excerpt, input_excerpt};
use crate::model::typed::{BlockType, ContentBlock, blocks_text};

/// How long the excerpts in findings' messages are, in characters.
pub const EXCERPT_CHARS: usize = 80;

/// A stop reason: its type and the events it names.
#[derive(Debug, Default, Clone, PartialEq, serde::Serialize, Deserialize)]
pub struct Stop {
    pub kind: Option<String>,
    pub event_ids: Vec<String>,
}

fn stop_of(v: Option<&Value>) -> Stop {
    let Some(v) = v else {
        return Stop::default();
    };
    if let Some(s) = v.as_str() {
        return Stop {
            kind: Some(s.to_string()),
            event_ids: Vec::new(),
        };
    }
    let ids = |v: Option<&Value>| -> Vec<String> {
        v.and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(Value::as_str)
                    .map(str::to_string)
                    .collect()
            })
            .unwrap_or_default()
    };
    let mut event_ids = ids(v.get("event_ids"));
    if event_ids.is_empty() {
        event_ids = ids(v.get("requires_action").and_then(|r| r.get("event_ids")));
    }
    Stop {
        kind: v.get("type").and_then(Value::as_str).map(str::to_string),
        event_ids,
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct IdleFields {
    stop_reason: Option<Value>,
    stop_details: Option<Value>,
    session_thread_id: Option<String>,
    agent_name: Option<String>,
}

/// A session or thread idle: the stop reason, `stop_details` (null dropped), and for a thread
/// idle the thread and its agent.
pub struct IdleFacts {
    pub stop: Stop,
    pub details: Option<Value>,
    pub thread_id: Option<String>,
    pub agent_name: Option<String>,
}

pub fn idle(raw: &str) -> IdleFacts {
    let f: IdleFields = serde_json::from_str(raw).unwrap_or_default();
    IdleFacts {
        stop: stop_of(f.stop_reason.as_ref()),
        details: f.stop_details.filter(|d| !d.is_null()),
        thread_id: f.session_thread_id.filter(|s| !s.is_empty()),
        agent_name: f.agent_name.filter(|s| !s.is_empty()),
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct ErrorFields {
    error: Option<Value>,
}

/// A `session.error`'s or `workflow_run.error`'s error object.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, Deserialize)]
pub struct ErrorFacts {
    pub error_type: String,
    pub retry_status: Option<String>,
    pub message: Option<String>,
    pub mcp_server_name: Option<String>,
    pub repository_url: Option<String>,
}

pub fn error(raw: &str) -> ErrorFacts {
    let e = serde_json::from_str::<ErrorFields>(raw)
        .unwrap_or_default()
        .error
        .unwrap_or(Value::Null);
    let s = |k: &str| e.get(k).and_then(Value::as_str).map(str::to_string);
    ErrorFacts {
        error_type: s("type").unwrap_or_else(|| "unknown".into()),
        retry_status: e
            .get("retry_status")
            .and_then(|r| r.get("type").or(Some(r)))
            .and_then(Value::as_str)
            .map(str::to_string),
        message: s("message"),
        mcp_server_name: s("mcp_server_name"),
        repository_url: s("repository_url"),
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct CallFields<'a> {
    #[serde(borrow)]
    name: Option<Cow<'a, str>>,
    #[serde(borrow)]
    mcp_server_name: Option<Cow<'a, str>>,
    input: Value,
    #[serde(borrow)]
    session_thread_id: Option<Cow<'a, str>>,
}

/// A tool call: who made it, what it called, and its input.
pub struct Call {
    /// `session_thread_id` of a cross-posted copy: the child thread that made the call.
    pub thread_id: Option<String>,
    /// `bash`, `github.create_issue`, …
    pub tool: String,
    /// Where the tool's own name starts in `tool` (past an MCP server's name and its dot).
    name_at: usize,
    /// The input: equal inputs are equal values (objects keep their keys sorted: serde_json's
    /// map), and hash alike.
    pub input: Value,
}

impl Call {
    /// The input's excerpt, as findings quote it.
    pub fn excerpt(&self) -> String {
        let name = self.tool.get(self.name_at..).unwrap_or_default();
        input_excerpt(name, &self.input, EXCERPT_CHARS)
    }
}

pub fn call(raw: &str) -> Call {
    let f: CallFields = serde_json::from_str(raw).unwrap_or_default();
    let name = f.name.as_deref().unwrap_or("?");
    let (tool, name_at) = match f.mcp_server_name.as_deref() {
        Some(s) => (format!("{s}.{name}"), s.len() + 1),
        None => (name.to_string(), 0),
    };
    Call {
        thread_id: f
            .session_thread_id
            .filter(|s| !s.is_empty())
            .map(Cow::into_owned),
        input: f.input,
        tool,
        name_at,
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct RequestEndFields {
    model_usage: Option<OutputTokens>,
    is_error: Option<bool>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct OutputTokens {
    output_tokens: u64,
}

/// `(output_tokens, is_error)` of a `span.model_request_end`.
pub fn request_end(raw: &str) -> (u64, bool) {
    let f: RequestEndFields = serde_json::from_str(raw).unwrap_or_default();
    (
        f.model_usage.map_or(0, |u| u.output_tokens),
        f.is_error.unwrap_or(false),
    )
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct IsError {
    is_error: Option<bool>,
}

/// `is_error` of a result (a slimmed one is `{"is_error":true}` or `{}`).
pub fn is_error(raw: &str) -> bool {
    serde_json::from_str::<IsError>(raw)
        .ok()
        .and_then(|f| f.is_error)
        .unwrap_or(false)
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct ReceivedFields {
    content: Option<Vec<ContentBlock>>,
    from_session_thread_id: Option<String>,
    from_agent_name: Option<String>,
}

/// An `agent.thread_message_received`: `(from thread, from agent, whether its content is empty)`.
/// Empty: no blocks, or only text blocks of whitespace (a redacted block is not empty).
pub fn received(raw: &str) -> (Option<String>, Option<String>, bool) {
    let f: ReceivedFields = serde_json::from_str(raw).unwrap_or_default();
    let blocks = f.content.unwrap_or_default();
    let empty = blocks.iter().all(|b| {
        matches!(b.kind, BlockType::Text) && b.text.as_deref().is_none_or(|t| t.trim().is_empty())
    });
    (f.from_session_thread_id, f.from_agent_name, empty)
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct OutcomeFields {
    outcome_id: Option<String>,
    description: Option<String>,
    max_iterations: Option<u64>,
    iteration: Option<u64>,
    result: Option<String>,
    explanation: Option<String>,
}

/// `user.define_outcome` and `span.outcome_evaluation_*` fields.
pub struct OutcomeFacts {
    pub outcome_id: Option<String>,
    pub description: Option<String>,
    pub max_iterations: Option<u64>,
    pub iteration: Option<u64>,
    pub result: Option<String>,
    pub explanation: Option<String>,
}

pub fn outcome(raw: &str) -> OutcomeFacts {
    let f: OutcomeFields = serde_json::from_str(raw).unwrap_or_default();
    OutcomeFacts {
        outcome_id: f.outcome_id,
        description: f.description,
        max_iterations: f.max_iterations,
        iteration: f.iteration,
        result: f.result,
        explanation: f.explanation,
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct TextFields {
    content: Option<Vec<ContentBlock>>,
    session_thread_id: Option<String>,
}

/// A message's text as an excerpt.
pub fn text_excerpt(raw: &str) -> String {
    let f: TextFields = serde_json::from_str(raw).unwrap_or_default();
    excerpt(&blocks_text(&f.content.unwrap_or_default()), EXCERPT_CHARS)
}

/// The `session_thread_id` of an event, if any.
pub fn session_thread_id(raw: &str) -> Option<String> {
    serde_json::from_str::<TextFields>(raw)
        .ok()
        .and_then(|f| f.session_thread_id)
        .filter(|s| !s.is_empty())
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct UsageFields {
    usage: Option<Value>,
    budget: Option<Value>,
}

/// `(list_cost amount, budget amount)` of a `session.usage`, in cents as the wire has them.
pub fn spend(raw: &str) -> (Option<String>, Option<String>) {
    let f: UsageFields = serde_json::from_str(raw).unwrap_or_default();
    let amount = |v: Option<&Value>| {
        v.and_then(|v| v.get("amount"))
            .and_then(Value::as_str)
            .map(str::to_string)
    };
    (
        amount(f.usage.as_ref().and_then(|u| u.get("list_cost"))),
        amount(f.budget.as_ref().and_then(|b| b.get("max_list_cost"))),
    )
}

/// A text to go inside a sentence: without its final full stop (`or` when there is none).
pub fn clause<'a>(text: Option<&'a str>, or: &'a str) -> &'a str {
    match text.map(|t| t.trim_end().trim_end_matches('.')) {
        Some(t) if !t.is_empty() => t,
        _ => or,
    }
}

/// Cents as the wire writes them (`"2500"`) shown as dollars (`$25.00`).
pub fn dollars(cents: &str) -> String {
    match cents.trim().parse::<i64>() {
        Ok(c) => format!("${}.{:02}", c / 100, (c % 100).abs()),
        Err(_) => format!("{cents} (minor units)"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stop_reasons_of_both_generations() {
        let new = idle(r#"{"stop_reason":{"type":"requires_action","event_ids":["sevt_1"]}}"#);
        let old = idle(
            r#"{"stop_reason":{"type":"requires_action","requires_action":{"event_ids":["sevt_1"]}}}"#,
        );
        let bare = idle(r#"{"stop_reason":"end_turn"}"#);
        assert_eq!(new.stop, old.stop);
        assert_eq!(new.stop.event_ids, ["sevt_1"]);
        assert_eq!(bare.stop.kind.as_deref(), Some("end_turn"));
        assert!(
            idle(r#"{"stop_reason":{"type":"refusal"},"stop_details":null}"#)
                .details
                .is_none()
        );
    }

    #[test]
    fn empty_reports_are_told_from_redacted_ones() {
        assert!(received(r#"{"content":[]}"#).2);
        assert!(received(r#"{"content":[{"type":"text","text":"  \n"}]}"#).2);
        assert!(!received(r#"{"content":[{"type":"redacted"}]}"#).2);
        assert!(!received(r#"{"content":[{"type":"text","text":"found it"}]}"#).2);
    }

    #[test]
    fn cents_are_dollars() {
        assert_eq!(dollars("2500"), "$25.00");
        assert_eq!(dollars("27"), "$0.27");
    }
}
