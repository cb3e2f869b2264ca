//! The searchable text of an event: what a person would type to find it again.
//!
//! Message text (user, agent, system, thread messages), tool names, MCP server names, tool inputs
//! (their string and number values, without the keys, so `command` or `file_path` do not match
//! every tool call), tool results, outcome descriptions and rubrics, evaluation explanations,
//! titles, and errors (type and message). Progress signals (spans, statuses, thinking, usage)
//! have no text and return `None`. Events of a type this build does not know contribute the
//! string values of their fields, so a newer server's events are still found.

use serde_json::Value;

use super::typed::{ContentBlock, Event, EventKind, blocks_text};

/// Envelope keys, whose values are never searchable text.
const ENVELOPE_KEYS: &[&str] = &["id", "type", "processed_at"];

/// The searchable text of one event's raw JSON, one part per line; `None` when it has none.
pub fn search_text(raw: &str) -> Option<String> {
    let event = Event::parse(raw);
    let mut t = Text::default();
    use EventKind::*;
    match &event.kind {
        UserMessage { content, .. }
        | SystemMessage { content, .. }
        | AgentMessage { content, .. }
        | UserCustomToolResult { content, .. }
        | UserToolResult { content, .. }
        | AgentToolResult { content, .. }
        | AgentMcpToolResult { content, .. } => t.blocks(content),
        AgentThreadMessageSent {
            to_agent_name: name,
            content,
            ..
        }
        | AgentThreadMessageReceived {
            from_agent_name: name,
            content,
            ..
        } => {
            t.opt(name.as_deref());
            t.blocks(content);
        }
        UserToolConfirmation { deny_message, .. } => t.opt(deny_message.as_deref()),
        AgentToolUse { name, input, .. } | AgentCustomToolUse { name, input, .. } => {
            t.push(name);
            t.values(input);
        }
        AgentMcpToolUse {
            mcp_server_name,
            name,
            input,
            ..
        } => {
            t.push(mcp_server_name);
            t.push(name);
            t.values(input);
        }
        UserDefineOutcome {
            description,
            rubric,
            ..
        } => {
            t.push(description);
            if let Some(Value::Object(r)) = rubric {
                t.opt(r.get("content").and_then(Value::as_str));
            }
        }
        SpanOutcomeEvaluationEnd {
            result,
            explanation,
            ..
        } => {
            t.push(result);
            t.opt(explanation.as_deref());
        }
        SessionError { error, .. } => {
            t.push(error.kind.as_str());
            t.opt(error.message.as_deref());
            t.opt(error.mcp_server_name.as_deref());
            t.opt(error.repository_url.as_deref());
            t.opt(error.retry_status.as_ref().map(|r| r.kind.as_str()));
        }
        WorkflowRunError { error, .. } => {
            t.push(error.kind.as_str());
            t.opt(error.message.as_deref());
        }
        WorkflowRunStatusEnded { result, .. } => {
            if let Some(e) = &result.error {
                t.push(e.kind.as_str());
                t.opt(e.message.as_deref());
            }
        }
        WorkflowRunCreated {
            name,
            description,
            phases,
            ..
        } => {
            t.push(name);
            t.opt(description.as_deref());
            for p in phases {
                t.push(&p.name);
                t.opt(p.description.as_deref());
            }
        }
        SessionUpdated {
            title, metadata, ..
        } => {
            t.opt(title.as_deref());
            if let Some(m) = metadata {
                m.values().for_each(|v| t.values(v));
            }
        }
        SessionThreadCreated { agent_name, .. } => t.push(agent_name),
        SessionStatusIdle { stop_details, .. } | SessionThreadStatusIdle { stop_details, .. } => {
            // A refusal's explanation is prose worth finding; the rest are codes.
            if let Some(Value::Object(d)) = stop_details {
                t.opt(d.get("explanation").and_then(Value::as_str));
            }
        }
        Unknown | Invalid { .. } => {
            if let Ok(Value::Object(map)) = serde_json::from_str::<Value>(raw) {
                map.iter()
                    .filter(|(k, _)| !ENVELOPE_KEYS.contains(&k.as_str()))
                    .for_each(|(_, v)| t.values(v));
            }
        }
        UserInterrupt { .. }
        | AgentThinking { .. }
        | AgentThreadContextCompacted { .. }
        | SessionStatusRunning { .. }
        | SessionStatusRescheduled { .. }
        | SessionStatusTerminated { .. }
        | SessionDeleted { .. }
        | SessionUsage { .. }
        | SessionThreadStatusRunning { .. }
        | SessionThreadStatusRescheduled { .. }
        | SessionThreadStatusTerminated { .. }
        | SpanModelRequestStart { .. }
        | SpanModelRequestEnd { .. }
        | SpanOutcomeEvaluationStart { .. }
        | SpanOutcomeEvaluationOngoing { .. }
        | WorkflowRunStatusRunning { .. }
        | WorkflowRunStatusIdle { .. }
        | WorkflowRunPhaseStarted { .. }
        | WorkflowRunPhaseEnded { .. }
        | EventStart { .. }
        | EventDelta { .. } => {}
    }
    t.finish()
}

/// Text parts joined by newlines, skipping empty ones.
#[derive(Default)]
struct Text(String);

impl Text {
    fn push(&mut self, s: &str) {
        let s = s.trim();
        if s.is_empty() {
            return;
        }
        if !self.0.is_empty() {
            self.0.push('\n');
        }
        self.0.push_str(s);
    }

    fn opt(&mut self, s: Option<&str>) {
        if let Some(s) = s {
            self.push(s);
        }
    }

    /// Content blocks as [`blocks_text`] shows them, plus the text inside search results.
    fn blocks(&mut self, blocks: &[ContentBlock]) {
        self.push(&blocks_text(blocks));
        for b in blocks {
            if let Some(inner) = &b.content {
                self.push(&blocks_text(inner));
            }
            if let Some(Value::String(url)) = &b.source {
                self.push(url);
            }
        }
    }

    /// The string and number values inside a JSON value, depth first, without the keys.
    fn values(&mut self, v: &Value) {
        match v {
            Value::String(s) => self.push(s),
            Value::Number(n) => self.push(&n.to_string()),
            Value::Array(items) => items.iter().for_each(|i| self.values(i)),
            Value::Object(map) => map.values().for_each(|i| self.values(i)),
            Value::Bool(_) | Value::Null => {}
        }
    }

    fn finish(self) -> Option<String> {
        (!self.0.is_empty()).then_some(self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(raw: &str) -> String {
        search_text(raw).unwrap_or_default()
    }

    #[test]
    fn messages_are_their_text() {
        let raw = r#"{"type":"agent.message","id":"sevt_1","processed_at":"2026-08-07T14:02:24.318Z","content":[{"type":"text","text":"Three tests fail, all in tests/test_auth.py."}]}"#;
        assert_eq!(text(raw), "Three tests fail, all in tests/test_auth.py.");
        let sent = r#"{"type":"agent.thread_message_sent","id":"sevt_2","to_session_thread_id":"sthr_1","to_agent_name":"Web researcher","content":[{"type":"text","text":"Find the release date."}],"processed_at":"2026-08-07T14:06:12.020Z"}"#;
        assert_eq!(text(sent), "Web researcher\nFind the release date.");
    }

    #[test]
    fn tool_uses_are_name_server_and_input_values_without_keys() {
        let raw = r#"{"type":"agent.mcp_tool_use","id":"sevt_3","mcp_server_name":"github","name":"create_issue","input":{"repo":"acme/api","title":"Flaky auth tests","labels":["bug"],"n":3,"draft":false},"processed_at":"2026-08-07T14:04:01.556Z"}"#;
        // Values in key order (serde_json's maps are sorted).
        assert_eq!(
            text(raw),
            "github\ncreate_issue\nbug\n3\nacme/api\nFlaky auth tests"
        );
        let custom = r#"{"type":"agent.custom_tool_use","id":"sevt_4","name":"get_weather","input":{"city":"Oslo"},"processed_at":"2026-08-07T14:03:05.447Z"}"#;
        assert_eq!(text(custom), "get_weather\nOslo");
    }

    #[test]
    fn tool_results_include_search_result_contents() {
        let raw = r#"{"type":"user.tool_result","id":"sevt_5","tool_use_id":"sevt_4","content":[{"type":"text","text":"3 failed"},{"type":"search_result","title":"Docs","source":"https://example.com/d","content":[{"type":"text","text":"inner words"}]}],"processed_at":null}"#;
        assert_eq!(
            text(raw),
            "3 failed\n[search result: Docs]\ninner words\nhttps://example.com/d"
        );
    }

    #[test]
    fn errors_are_type_message_and_retry_status() {
        let raw = r#"{"type":"session.error","id":"sevt_6","processed_at":"2026-08-07T14:30:12.400Z","error":{"type":"model_overloaded_error","message":"The model is currently overloaded.","retry_status":{"type":"retrying"}}}"#;
        assert_eq!(
            text(raw),
            "model_overloaded_error\nThe model is currently overloaded.\nretrying"
        );
        let wf = r#"{"type":"workflow_run.error","id":"sevt_7","workflow_run_id":null,"error":{"type":"max_workflow_runs_error","message":"Too many runs."},"processed_at":"2026-08-07T14:30:12.400Z"}"#;
        assert_eq!(text(wf), "max_workflow_runs_error\nToo many runs.");
    }

    #[test]
    fn outcomes_are_description_and_rubric() {
        let raw = r#"{"type":"user.define_outcome","id":"sevt_8","outcome_id":"outc_1","description":"A CSV of all failing tests.","rubric":{"type":"text","content":"- header row present"},"max_iterations":3,"processed_at":"2026-08-07T14:10:00.004Z"}"#;
        assert_eq!(
            text(raw),
            "A CSV of all failing tests.\n- header row present"
        );
    }

    #[test]
    fn progress_signals_have_no_text() {
        for raw in [
            r#"{"type":"agent.thinking","id":"sevt_9","processed_at":"2026-08-07T14:02:13.090Z"}"#,
            r#"{"type":"session.status_idle","id":"sevt_a","processed_at":"2026-08-07T14:02:24.950Z","stop_reason":{"type":"end_turn"},"stop_details":null}"#,
            r#"{"type":"span.model_request_start","id":"sevt_b","processed_at":"2026-08-07T14:02:12.004Z"}"#,
            r#"{"type":"agent.message","id":"sevt_c","processed_at":"2026-08-07T14:02:12.004Z","content":[]}"#,
            "not json",
        ] {
            assert_eq!(search_text(raw), None, "{raw}");
        }
    }

    #[test]
    fn unknown_types_contribute_their_string_values() {
        let raw = r#"{"type":"agent.plan_updated","id":"sevt_d","processed_at":"2026-08-07T14:02:12.004Z","plan":{"steps":["read the spec","write code"]}}"#;
        assert_eq!(text(raw), "read the spec\nwrite code");
    }
}
