//! The typed view of an event, derived from its raw text.
//!
//! [`Event::parse`] never fails: a type the reference does not know becomes
//! [`EventKind::Unknown`], and a known type whose fields do not fit its shape becomes
//! [`EventKind::Invalid`] with the reason. Unknown fields are kept in each variant's `extra`.

mod parts;

pub use parts::*;

use serde::Deserialize;
use serde_json::{Map, Value};

use super::catalogue::KNOWN_TYPES;

type Extra = Map<String, Value>;

/// One event: the envelope fields plus the typed body.
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    /// `id`, empty when absent.
    pub id: String,
    /// `type` as received.
    pub type_name: String,
    pub processed_at: Option<String>,
    pub kind: EventKind,
}

/// The 44 event types of the reference (SDK 2.12.0), plus what falls outside them.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(tag = "type")]
pub enum EventKind {
    #[serde(rename = "user.message")]
    UserMessage {
        #[serde(default)]
        content: Vec<ContentBlock>,
        #[serde(flatten)]
        extra: Extra,
    },
    #[serde(rename = "user.interrupt")]
    UserInterrupt {
        #[serde(default)]
        session_thread_id: Option<String>,
        #[serde(flatten)]
        extra: Extra,
    },
    #[serde(rename = "user.tool_confirmation")]
    UserToolConfirmation {
        tool_use_id: String,
        result: ConfirmationResult,
        #[serde(default)]
        deny_message: Option<String>,
        #[serde(default)]
        session_thread_id: Option<String>,
        #[serde(flatten)]
        extra: Extra,
    },
    #[serde(rename = "user.custom_tool_result")]
    UserCustomToolResult {
        custom_tool_use_id: String,
        #[serde(default)]
        content: Vec<ContentBlock>,
        #[serde(default)]
        is_error: Option<bool>,
        #[serde(default)]
        session_thread_id: Option<String>,
        #[serde(flatten)]
        extra: Extra,
    },
    #[serde(rename = "user.tool_result")]
    UserToolResult {
        tool_use_id: String,
        #[serde(default)]
        content: Vec<ContentBlock>,
        #[serde(default)]
        is_error: Option<bool>,
        #[serde(default)]
        session_thread_id: Option<String>,
        #[serde(flatten)]
        extra: Extra,
    },
    #[serde(rename = "user.define_outcome")]
    UserDefineOutcome {
        outcome_id: String,
        description: String,
        #[serde(default)]
        rubric: Option<Value>,
        #[serde(default)]
        max_iterations: Option<u32>,
        #[serde(flatten)]
        extra: Extra,
    },
    #[serde(rename = "system.message")]
    SystemMessage {
        #[serde(default)]
        content: Vec<ContentBlock>,
        #[serde(flatten)]
        extra: Extra,
    },
    #[serde(rename = "agent.message")]
    AgentMessage {
        #[serde(default)]
        content: Vec<ContentBlock>,
        #[serde(flatten)]
        extra: Extra,
    },
    #[serde(rename = "agent.thinking")]
    AgentThinking {
        #[serde(flatten)]
        extra: Extra,
    },
    #[serde(rename = "agent.tool_use")]
    AgentToolUse {
        name: String,
        #[serde(default)]
        input: Value,
        #[serde(default)]
        evaluated_permission: Option<Permission>,
        #[serde(default)]
        evaluation: Option<Evaluation>,
        #[serde(default)]
        session_thread_id: Option<String>,
        #[serde(flatten)]
        extra: Extra,
    },
    #[serde(rename = "agent.tool_result")]
    AgentToolResult {
        tool_use_id: String,
        #[serde(default)]
        content: Vec<ContentBlock>,
        #[serde(default)]
        is_error: Option<bool>,
        #[serde(flatten)]
        extra: Extra,
    },
    #[serde(rename = "agent.mcp_tool_use")]
    AgentMcpToolUse {
        mcp_server_name: String,
        name: String,
        #[serde(default)]
        input: Value,
        #[serde(default)]
        evaluated_permission: Option<Permission>,
        #[serde(default)]
        evaluation: Option<Evaluation>,
        #[serde(default)]
        session_thread_id: Option<String>,
        #[serde(flatten)]
        extra: Extra,
    },
    #[serde(rename = "agent.mcp_tool_result")]
    AgentMcpToolResult {
        mcp_tool_use_id: String,
        #[serde(default)]
        content: Vec<ContentBlock>,
        #[serde(default)]
        is_error: Option<bool>,
        #[serde(flatten)]
        extra: Extra,
    },
    #[serde(rename = "agent.custom_tool_use")]
    AgentCustomToolUse {
        name: String,
        #[serde(default)]
        input: Value,
        #[serde(default)]
        session_thread_id: Option<String>,
        #[serde(flatten)]
        extra: Extra,
    },
    #[serde(rename = "agent.thread_message_sent")]
    AgentThreadMessageSent {
        to_session_thread_id: String,
        #[serde(default)]
        to_agent_name: Option<String>,
        #[serde(default)]
        content: Vec<ContentBlock>,
        #[serde(flatten)]
        extra: Extra,
    },
    #[serde(rename = "agent.thread_message_received")]
    AgentThreadMessageReceived {
        from_session_thread_id: String,
        #[serde(default)]
        from_agent_name: Option<String>,
        #[serde(default)]
        content: Vec<ContentBlock>,
        #[serde(flatten)]
        extra: Extra,
    },
    #[serde(rename = "agent.thread_context_compacted")]
    AgentThreadContextCompacted {
        #[serde(flatten)]
        extra: Extra,
    },
    #[serde(rename = "session.status_running")]
    SessionStatusRunning {
        #[serde(flatten)]
        extra: Extra,
    },
    #[serde(rename = "session.status_idle")]
    SessionStatusIdle {
        stop_reason: StopReason,
        #[serde(default)]
        stop_details: Option<Value>,
        #[serde(flatten)]
        extra: Extra,
    },
    #[serde(rename = "session.status_rescheduled")]
    SessionStatusRescheduled {
        #[serde(flatten)]
        extra: Extra,
    },
    #[serde(rename = "session.status_terminated")]
    SessionStatusTerminated {
        #[serde(flatten)]
        extra: Extra,
    },
    #[serde(rename = "session.error")]
    SessionError {
        error: SessionError,
        #[serde(flatten)]
        extra: Extra,
    },
    #[serde(rename = "session.deleted")]
    SessionDeleted {
        #[serde(flatten)]
        extra: Extra,
    },
    #[serde(rename = "session.updated")]
    SessionUpdated {
        #[serde(default)]
        agent: Option<Value>,
        /// Absent: unchanged. `null`: the budget was removed.
        #[serde(default)]
        budget: Presence<Budget>,
        #[serde(default)]
        metadata: Option<Map<String, Value>>,
        #[serde(default)]
        title: Option<String>,
        #[serde(flatten)]
        extra: Extra,
    },
    #[serde(rename = "session.usage")]
    SessionUsage {
        usage: SessionUsage,
        #[serde(default)]
        budget: Option<Budget>,
        #[serde(flatten)]
        extra: Extra,
    },
    #[serde(rename = "session.thread_created")]
    SessionThreadCreated {
        session_thread_id: String,
        agent_name: String,
        #[serde(default)]
        workflow_run_id: Option<String>,
        #[serde(flatten)]
        extra: Extra,
    },
    #[serde(rename = "session.thread_status_running")]
    SessionThreadStatusRunning {
        session_thread_id: String,
        agent_name: String,
        #[serde(flatten)]
        extra: Extra,
    },
    #[serde(rename = "session.thread_status_idle")]
    SessionThreadStatusIdle {
        session_thread_id: String,
        agent_name: String,
        stop_reason: StopReason,
        #[serde(default)]
        stop_details: Option<Value>,
        #[serde(flatten)]
        extra: Extra,
    },
    #[serde(rename = "session.thread_status_rescheduled")]
    SessionThreadStatusRescheduled {
        session_thread_id: String,
        agent_name: String,
        #[serde(flatten)]
        extra: Extra,
    },
    #[serde(rename = "session.thread_status_terminated")]
    SessionThreadStatusTerminated {
        session_thread_id: String,
        agent_name: String,
        #[serde(flatten)]
        extra: Extra,
    },
    #[serde(rename = "span.model_request_start")]
    SpanModelRequestStart {
        #[serde(flatten)]
        extra: Extra,
    },
    #[serde(rename = "span.model_request_end")]
    SpanModelRequestEnd {
        model_request_start_id: String,
        #[serde(default)]
        model_usage: ModelUsage,
        #[serde(default)]
        is_error: Option<bool>,
        #[serde(flatten)]
        extra: Extra,
    },
    #[serde(rename = "span.outcome_evaluation_start")]
    SpanOutcomeEvaluationStart {
        outcome_id: String,
        iteration: u32,
        #[serde(flatten)]
        extra: Extra,
    },
    #[serde(rename = "span.outcome_evaluation_ongoing")]
    SpanOutcomeEvaluationOngoing {
        outcome_id: String,
        iteration: u32,
        #[serde(flatten)]
        extra: Extra,
    },
    #[serde(rename = "span.outcome_evaluation_end")]
    SpanOutcomeEvaluationEnd {
        outcome_evaluation_start_id: String,
        outcome_id: String,
        iteration: u32,
        result: String,
        #[serde(default)]
        explanation: Option<String>,
        #[serde(default)]
        usage: ModelUsage,
        #[serde(flatten)]
        extra: Extra,
    },
    #[serde(rename = "workflow_run.created")]
    WorkflowRunCreated {
        workflow_run_id: String,
        name: String,
        #[serde(default)]
        description: Option<String>,
        #[serde(default)]
        phases: Vec<WorkflowPhase>,
        #[serde(flatten)]
        extra: Extra,
    },
    #[serde(rename = "workflow_run.status_running")]
    WorkflowRunStatusRunning {
        workflow_run_id: String,
        #[serde(flatten)]
        extra: Extra,
    },
    #[serde(rename = "workflow_run.status_idle")]
    WorkflowRunStatusIdle {
        workflow_run_id: String,
        #[serde(flatten)]
        extra: Extra,
    },
    #[serde(rename = "workflow_run.status_ended")]
    WorkflowRunStatusEnded {
        workflow_run_id: String,
        result: WorkflowRunResult,
        #[serde(flatten)]
        extra: Extra,
    },
    #[serde(rename = "workflow_run.error")]
    WorkflowRunError {
        /// Null when the error kept a run from being created.
        #[serde(default)]
        workflow_run_id: Option<String>,
        error: WorkflowRunError,
        #[serde(flatten)]
        extra: Extra,
    },
    #[serde(rename = "workflow_run.phase_started")]
    WorkflowRunPhaseStarted {
        workflow_run_id: String,
        workflow_run_phase_id: String,
        #[serde(flatten)]
        extra: Extra,
    },
    #[serde(rename = "workflow_run.phase_ended")]
    WorkflowRunPhaseEnded {
        workflow_run_id: String,
        workflow_run_phase_id: String,
        phase_started_id: String,
        #[serde(flatten)]
        extra: Extra,
    },
    #[serde(rename = "event_start")]
    EventStart {
        event: PreviewTarget,
        #[serde(flatten)]
        extra: Extra,
    },
    #[serde(rename = "event_delta")]
    EventDelta {
        event_id: String,
        delta: PreviewDelta,
        #[serde(flatten)]
        extra: Extra,
    },
    /// A `type` the reference does not know. The raw text is still the record.
    #[serde(skip)]
    Unknown,
    /// A known `type` whose fields do not fit its shape; `reason` says how.
    #[serde(skip)]
    Invalid { reason: String },
}

impl Event {
    /// The typed view of one event's raw JSON text. Never fails; see [`EventKind`].
    pub fn parse(raw: &str) -> Event {
        let mut map = match serde_json::from_str::<Value>(raw) {
            Ok(Value::Object(map)) => map,
            Ok(_) => return Event::invalid("", None, "", "not a JSON object"),
            Err(e) => return Event::invalid("", None, "", &format!("invalid JSON: {e}")),
        };
        let type_name = match map.get("type") {
            Some(Value::String(t)) => t.clone(),
            _ => String::new(),
        };
        let id = match map.remove("id") {
            Some(Value::String(s)) => s,
            _ => String::new(),
        };
        let processed_at = match map.remove("processed_at") {
            Some(Value::String(s)) => Some(s),
            _ => None,
        };
        let kind = if KNOWN_TYPES.contains(&type_name.as_str()) {
            EventKind::deserialize(Value::Object(map)).unwrap_or_else(|e| EventKind::Invalid {
                reason: e.to_string(),
            })
        } else {
            EventKind::Unknown
        };
        Event {
            id,
            type_name,
            processed_at,
            kind,
        }
    }

    fn invalid(id: &str, processed_at: Option<String>, type_name: &str, reason: &str) -> Event {
        Event {
            id: id.to_string(),
            type_name: type_name.to_string(),
            processed_at,
            kind: EventKind::Invalid {
                reason: reason.to_string(),
            },
        }
    }

    /// The extra fields this flightrec does not know, if the type is known.
    pub fn unknown_fields(&self) -> Vec<&str> {
        self.kind
            .extra()
            .map(|m| m.keys().map(String::as_str).collect())
            .unwrap_or_default()
    }
}

impl EventKind {
    /// The unknown fields kept for this event, when the variant has a known shape.
    pub fn extra(&self) -> Option<&Extra> {
        use EventKind::*;
        match self {
            UserMessage { extra, .. }
            | UserInterrupt { extra, .. }
            | UserToolConfirmation { extra, .. }
            | UserCustomToolResult { extra, .. }
            | UserToolResult { extra, .. }
            | UserDefineOutcome { extra, .. }
            | SystemMessage { extra, .. }
            | AgentMessage { extra, .. }
            | AgentThinking { extra }
            | AgentToolUse { extra, .. }
            | AgentToolResult { extra, .. }
            | AgentMcpToolUse { extra, .. }
            | AgentMcpToolResult { extra, .. }
            | AgentCustomToolUse { extra, .. }
            | AgentThreadMessageSent { extra, .. }
            | AgentThreadMessageReceived { extra, .. }
            | AgentThreadContextCompacted { extra }
            | SessionStatusRunning { extra }
            | SessionStatusIdle { extra, .. }
            | SessionStatusRescheduled { extra }
            | SessionStatusTerminated { extra }
            | SessionError { extra, .. }
            | SessionDeleted { extra }
            | SessionUpdated { extra, .. }
            | SessionUsage { extra, .. }
            | SessionThreadCreated { extra, .. }
            | SessionThreadStatusRunning { extra, .. }
            | SessionThreadStatusIdle { extra, .. }
            | SessionThreadStatusRescheduled { extra, .. }
            | SessionThreadStatusTerminated { extra, .. }
            | SpanModelRequestStart { extra }
            | SpanModelRequestEnd { extra, .. }
            | SpanOutcomeEvaluationStart { extra, .. }
            | SpanOutcomeEvaluationOngoing { extra, .. }
            | SpanOutcomeEvaluationEnd { extra, .. }
            | WorkflowRunCreated { extra, .. }
            | WorkflowRunStatusRunning { extra, .. }
            | WorkflowRunStatusIdle { extra, .. }
            | WorkflowRunStatusEnded { extra, .. }
            | WorkflowRunError { extra, .. }
            | WorkflowRunPhaseStarted { extra, .. }
            | WorkflowRunPhaseEnded { extra, .. }
            | EventStart { extra, .. }
            | EventDelta { extra, .. } => Some(extra),
            Unknown | Invalid { .. } => None,
        }
    }

    /// The stop reason of a session or thread idle event.
    pub fn stop_reason(&self) -> Option<&StopReason> {
        match self {
            EventKind::SessionStatusIdle { stop_reason, .. }
            | EventKind::SessionThreadStatusIdle { stop_reason, .. } => Some(stop_reason),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests;
