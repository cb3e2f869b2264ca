//! The catalogue of event `type` strings the reference knows (SDK 2.12.0).

/// The 42 persisted types, then the 2 stream-only preview types (`event_start`, `event_delta`).
pub const KNOWN_TYPES: [&str; 44] = [
    "user.message",
    "user.interrupt",
    "user.tool_confirmation",
    "user.custom_tool_result",
    "user.tool_result",
    "user.define_outcome",
    "system.message",
    "agent.message",
    "agent.thinking",
    "agent.tool_use",
    "agent.tool_result",
    "agent.mcp_tool_use",
    "agent.mcp_tool_result",
    "agent.custom_tool_use",
    "agent.thread_message_sent",
    "agent.thread_message_received",
    "agent.thread_context_compacted",
    "session.status_running",
    "session.status_idle",
    "session.status_rescheduled",
    "session.status_terminated",
    "session.error",
    "session.deleted",
    "session.updated",
    "session.usage",
    "session.thread_created",
    "session.thread_status_running",
    "session.thread_status_idle",
    "session.thread_status_rescheduled",
    "session.thread_status_terminated",
    "span.model_request_start",
    "span.model_request_end",
    "span.outcome_evaluation_start",
    "span.outcome_evaluation_ongoing",
    "span.outcome_evaluation_end",
    "workflow_run.created",
    "workflow_run.status_running",
    "workflow_run.status_idle",
    "workflow_run.status_ended",
    "workflow_run.error",
    "workflow_run.phase_started",
    "workflow_run.phase_ended",
    "event_start",
    "event_delta",
];

/// Live preview frames: they carry no id of their own and reuse the id of the event they preview,
/// so they must never take part in id-based upserts.
pub const PREVIEW_TYPES: [&str; 2] = ["event_start", "event_delta"];

pub fn is_preview_type(t: &str) -> bool {
    PREVIEW_TYPES.contains(&t)
}

/// The `session.status_*` types, whose newest instance is a session's status.
pub const SESSION_STATUS_TYPES: [&str; 5] = [
    "session.status_running",
    "session.status_idle",
    "session.status_rescheduled",
    "session.status_terminated",
    "session.deleted",
];

/// The status a `session.status_*` (or `session.deleted`) event puts the session in.
pub fn status_of_type(t: &str) -> Option<&'static str> {
    match t {
        "session.status_running" => Some("running"),
        "session.status_idle" => Some("idle"),
        "session.status_rescheduled" => Some("rescheduling"),
        "session.status_terminated" => Some("terminated"),
        "session.deleted" => Some("deleted"),
        _ => None,
    }
}
