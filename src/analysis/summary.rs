//! One-line human summaries of events, for timelines.

use super::text::{excerpt, input_excerpt, thousands};
use crate::model::typed::{
    ConfirmationResult, ContentBlock, Event, EventKind, Permission, Presence, StopReason,
    StopReasonType, blocks_text,
};

const TEXT: usize = 100;
const INPUT: usize = 80;

fn quoted(blocks: &[ContentBlock]) -> String {
    let t = blocks_text(blocks);
    if t.is_empty() {
        "(no content)".to_string()
    } else {
        format!("“{}”", excerpt(&t, TEXT))
    }
}

fn error_mark(is_error: Option<bool>) -> &'static str {
    if is_error == Some(true) {
        " [error]"
    } else {
        ""
    }
}

fn permission(p: &Option<Permission>) -> String {
    match p {
        Some(Permission::Allow) | None => String::new(),
        Some(p) => format!(" [{p}]"),
    }
}

/// `end_turn`, or `requires_action → sevt_a, sevt_b`, or `refusal (details)`.
pub fn stop_reason_text(sr: &StopReason, details: Option<&serde_json::Value>) -> String {
    let mut s = sr.kind.to_string();
    let ids = sr.blocking_ids();
    if sr.kind == StopReasonType::RequiresAction || !ids.is_empty() {
        s.push_str(" → ");
        s.push_str(&ids.join(", "));
    }
    if let Some(d) = details.filter(|d| !d.is_null()) {
        s.push_str(&format!(" ({})", excerpt(&d.to_string(), 80)));
    }
    s
}

/// A one-line summary of an event for timelines.
pub fn summarize(e: &Event) -> String {
    use EventKind::*;
    match &e.kind {
        UserMessage { content, .. }
        | SystemMessage { content, .. }
        | AgentMessage { content, .. } => quoted(content),
        UserInterrupt {
            session_thread_id, ..
        } => match session_thread_id {
            Some(t) => format!("interrupt thread {t}"),
            None => "interrupt".to_string(),
        },
        UserToolConfirmation {
            tool_use_id,
            result,
            deny_message,
            ..
        } => match (result, deny_message) {
            (ConfirmationResult::Deny, Some(m)) => {
                format!("deny {tool_use_id}: “{}”", excerpt(m, TEXT))
            }
            _ => format!("{result} {tool_use_id}"),
        },
        UserCustomToolResult {
            custom_tool_use_id: id,
            content,
            is_error,
            ..
        }
        | UserToolResult {
            tool_use_id: id,
            content,
            is_error,
            ..
        }
        | AgentToolResult {
            tool_use_id: id,
            content,
            is_error,
            ..
        }
        | AgentMcpToolResult {
            mcp_tool_use_id: id,
            content,
            is_error,
            ..
        } => {
            format!(
                "for {id}{}: {}",
                error_mark(*is_error),
                excerpt(&blocks_text(content), TEXT)
            )
        }
        UserDefineOutcome {
            outcome_id,
            description,
            max_iterations,
            ..
        } => {
            let max = max_iterations
                .map(|m| format!(" (max {m} iterations)"))
                .unwrap_or_default();
            format!(
                "outcome {outcome_id}: “{}”{max}",
                excerpt(description, TEXT)
            )
        }
        AgentThinking { .. } => "thinking".to_string(),
        AgentToolUse {
            name,
            input,
            evaluated_permission,
            ..
        } => {
            format!(
                "{name}{}: {}",
                permission(evaluated_permission),
                input_excerpt(name, input, INPUT)
            )
        }
        AgentMcpToolUse {
            mcp_server_name,
            name,
            input,
            evaluated_permission,
            ..
        } => format!(
            "{mcp_server_name}/{name}{}: {}",
            permission(evaluated_permission),
            input_excerpt(name, input, INPUT)
        ),
        AgentCustomToolUse { name, input, .. } => {
            format!("{name} (custom): {}", input_excerpt(name, input, INPUT))
        }
        AgentThreadMessageSent {
            to_session_thread_id,
            to_agent_name,
            content,
            ..
        } => format!(
            "to {} ({to_session_thread_id}): {}",
            to_agent_name.as_deref().unwrap_or("primary"),
            quoted(content)
        ),
        AgentThreadMessageReceived {
            from_session_thread_id,
            from_agent_name,
            content,
            ..
        } => format!(
            "from {} ({from_session_thread_id}): {}",
            from_agent_name.as_deref().unwrap_or("primary"),
            quoted(content)
        ),
        AgentThreadContextCompacted { .. } => "context compacted".to_string(),
        SessionStatusRunning { .. } => "running".to_string(),
        SessionStatusIdle {
            stop_reason,
            stop_details,
            ..
        } => {
            format!(
                "idle: {}",
                stop_reason_text(stop_reason, stop_details.as_ref())
            )
        }
        SessionStatusRescheduled { .. } => "rescheduling".to_string(),
        SessionStatusTerminated { .. } => "terminated".to_string(),
        SessionError { error, .. } => {
            let retry = error
                .retry_status
                .as_ref()
                .map(|r| format!(" ({})", r.kind))
                .unwrap_or_default();
            let server = error
                .mcp_server_name
                .as_ref()
                .map(|s| format!(" [{s}]"))
                .unwrap_or_default();
            let msg = error
                .message
                .as_deref()
                .map(|m| format!(": {}", excerpt(m, TEXT)))
                .unwrap_or_default();
            format!("{}{retry}{server}{msg}", error.kind)
        }
        SessionDeleted { .. } => "session deleted".to_string(),
        SessionUpdated {
            agent,
            budget,
            metadata,
            title,
            ..
        } => {
            let mut parts = Vec::new();
            if let Some(t) = title {
                parts.push(format!("title “{}”", excerpt(t, 60)));
            }
            match budget {
                Presence::Absent => {}
                Presence::Null => parts.push("budget removed".to_string()),
                Presence::Value(b) => match &b.max_list_cost {
                    Some(m) => parts.push(format!("budget {}", m.display())),
                    None => parts.push(format!("budget {}", b.kind)),
                },
            }
            if metadata.is_some() {
                parts.push("metadata".to_string());
            }
            if agent.is_some() {
                parts.push("agent tools".to_string());
            }
            if parts.is_empty() {
                "updated".to_string()
            } else {
                format!("updated {}", parts.join(", "))
            }
        }
        SessionUsage { usage, budget, .. } => {
            let mut parts = Vec::new();
            if let Some(n) = usage.input_tokens {
                parts.push(format!("in {}", thousands(n)));
            }
            if let Some(n) = usage.output_tokens {
                parts.push(format!("out {}", thousands(n)));
            }
            if let Some(n) = usage.cache_read_input_tokens {
                parts.push(format!("cache read {}", thousands(n)));
            }
            if let Some(c) = &usage.list_cost {
                let of = budget
                    .as_ref()
                    .and_then(|b| b.max_list_cost.as_ref())
                    .map(|m| format!(" of {}", m.display()))
                    .unwrap_or_default();
                parts.push(format!("cost {}{of}", c.display()));
            }
            format!("usage {}", parts.join(" · "))
        }
        SessionThreadCreated {
            session_thread_id,
            agent_name,
            workflow_run_id,
            ..
        } => {
            let run = workflow_run_id
                .as_ref()
                .map(|r| format!(" for run {r}"))
                .unwrap_or_default();
            format!("thread {session_thread_id} “{agent_name}” created{run}")
        }
        SessionThreadStatusRunning {
            session_thread_id,
            agent_name,
            ..
        } => {
            format!("thread “{agent_name}” ({session_thread_id}) running")
        }
        SessionThreadStatusIdle {
            session_thread_id,
            agent_name,
            stop_reason,
            stop_details,
            ..
        } => format!(
            "thread “{agent_name}” ({session_thread_id}) idle: {}",
            stop_reason_text(stop_reason, stop_details.as_ref())
        ),
        SessionThreadStatusRescheduled {
            session_thread_id,
            agent_name,
            ..
        } => {
            format!("thread “{agent_name}” ({session_thread_id}) rescheduling")
        }
        SessionThreadStatusTerminated {
            session_thread_id,
            agent_name,
            ..
        } => {
            format!("thread “{agent_name}” ({session_thread_id}) terminated")
        }
        SpanModelRequestStart { .. } => "model request".to_string(),
        SpanModelRequestEnd {
            model_request_start_id,
            model_usage: u,
            is_error,
            ..
        } => format!(
            "model request {model_request_start_id} done{}: in {} · out {} · cache read {} · cache write {}",
            error_mark(*is_error),
            thousands(u.input_tokens),
            thousands(u.output_tokens),
            thousands(u.cache_read_input_tokens),
            thousands(u.cache_creation_input_tokens)
        ),
        SpanOutcomeEvaluationStart {
            outcome_id,
            iteration,
            ..
        } => {
            format!("evaluating {outcome_id}, iteration {iteration}")
        }
        SpanOutcomeEvaluationOngoing {
            outcome_id,
            iteration,
            ..
        } => {
            format!("still evaluating {outcome_id}, iteration {iteration}")
        }
        SpanOutcomeEvaluationEnd {
            outcome_id,
            iteration,
            result,
            explanation,
            ..
        } => format!(
            "{outcome_id} iteration {iteration}: {result}{}",
            explanation
                .as_deref()
                .map(|x| format!(": “{}”", excerpt(x, TEXT)))
                .unwrap_or_default()
        ),
        WorkflowRunCreated {
            workflow_run_id,
            name,
            phases,
            ..
        } => {
            format!(
                "run {workflow_run_id} “{name}” created with {} phases",
                phases.len()
            )
        }
        WorkflowRunStatusRunning {
            workflow_run_id, ..
        } => format!("run {workflow_run_id} running"),
        WorkflowRunStatusIdle {
            workflow_run_id, ..
        } => format!("run {workflow_run_id} idle"),
        WorkflowRunStatusEnded {
            workflow_run_id,
            result,
            ..
        } => {
            let err = result
                .error
                .as_ref()
                .map(|e| format!(" {}", e.kind))
                .unwrap_or_default();
            format!("run {workflow_run_id} ended: {}{err}", result.kind)
        }
        WorkflowRunError {
            workflow_run_id,
            error,
            ..
        } => format!(
            "run {} error {}{}",
            workflow_run_id.as_deref().unwrap_or("(not created)"),
            error.kind,
            error
                .message
                .as_deref()
                .map(|m| format!(": {}", excerpt(m, TEXT)))
                .unwrap_or_default()
        ),
        WorkflowRunPhaseStarted {
            workflow_run_id,
            workflow_run_phase_id,
            ..
        } => {
            format!("run {workflow_run_id} phase {workflow_run_phase_id} started")
        }
        WorkflowRunPhaseEnded {
            workflow_run_id,
            workflow_run_phase_id,
            ..
        } => {
            format!("run {workflow_run_id} phase {workflow_run_phase_id} ended")
        }
        EventStart { event, .. } => format!("preview of {} {}", event.event_type, event.id),
        EventDelta {
            event_id, delta, ..
        } => format!(
            "preview text for {event_id}: {}",
            delta
                .content
                .as_ref()
                .and_then(|c| c.text.as_deref())
                .map(|t| excerpt(t, TEXT))
                .unwrap_or_default()
        ),
        Unknown => "(type unknown to this flightrec; raw JSON kept)".to_string(),
        Invalid { reason } => format!("(does not fit its type: {})", excerpt(reason, TEXT)),
    }
}
