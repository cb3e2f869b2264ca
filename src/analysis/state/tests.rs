use super::*;
use crate::analysis::testing::{rows, rows_on};
use crate::model::parse_timestamp_micros;
use crate::store::EventRow;

fn fold(events: &[EventRow]) -> State {
    let mut b = StateBuilder::new("sesn_1");
    for r in events {
        b.push(&r.as_ref());
    }
    b.finish(events.last().and_then(|r| r.ts))
}

const TURN: &str = r#"{"type":"user.message","id":"u1","processed_at":"2026-01-01T00:00:00.000Z","content":[{"type":"text","text":"What's the weather?"}]}
{"type":"session.status_running","id":"r1","processed_at":"2026-01-01T00:00:00.100Z"}
{"type":"span.model_request_start","id":"m1","processed_at":"2026-01-01T00:00:00.200Z"}
{"type":"agent.message","id":"a1","processed_at":"2026-01-01T00:00:01.000Z","content":[{"type":"text","text":"Let me   check.\nOne moment."}]}
{"type":"agent.custom_tool_use","id":"c1","name":"get_weather","input":{"city":"Oslo"},"processed_at":"2026-01-01T00:00:01.500Z"}
{"type":"span.model_request_end","id":"m2","model_request_start_id":"m1","model_usage":{"input_tokens":10,"output_tokens":5,"cache_creation_input_tokens":2,"cache_read_input_tokens":7},"processed_at":"2026-01-01T00:00:02.000Z"}
{"type":"session.status_idle","id":"i1","processed_at":"2026-01-01T00:00:02.500Z","stop_reason":{"type":"requires_action","event_ids":["c1"]}}"#;

#[test]
fn a_custom_tool_use_blocks_until_its_result() {
    let s = fold(&rows(TURN));
    assert_eq!(
        s.session_status.as_ref().map(|s| s.status.as_str()),
        Some("idle")
    );
    assert_eq!(s.blocking.len(), 1);
    let b = &s.blocking[0];
    assert_eq!(
        (b.event_id.as_str(), b.name.as_deref()),
        ("c1", Some("get_weather"))
    );
    assert_eq!(b.needs, "user.custom_tool_result");
    assert!(!b.resolved);
    assert_eq!(
        b.waited_ms,
        Some(1000),
        "from the tool use to the end of what was fed"
    );
    assert_eq!(b.input_excerpt.as_deref(), Some(r#"{"city":"Oslo"}"#));
    assert!(b.unblock[0].curl.contains(r#""custom_tool_use_id":"c1""#));
    let open: Vec<&str> = s.open_spans.iter().map(|s| s.start_id.as_str()).collect();
    assert_eq!(open, ["c1"], "the model request closed");

    let answered = format!(
        "{TURN}\n{}",
        r#"{"type":"user.custom_tool_result","id":"r9","custom_tool_use_id":"c1","content":[],"processed_at":"2026-01-01T00:00:04.000Z"}"#
    );
    let s = fold(&rows(&answered));
    let b = &s.blocking[0];
    assert!(b.resolved && b.unblock.is_empty());
    assert_eq!(b.resolved_by.as_deref(), Some("r9"));
    assert_eq!(b.resolution.as_deref(), Some("result"));
    assert_eq!(b.waited_ms, Some(2500));

    let resumed = format!(
        "{answered}\n{}",
        r#"{"type":"session.status_running","id":"r2","processed_at":"2026-01-01T00:00:04.100Z"}"#
    );
    assert!(
        fold(&rows(&resumed)).blocking.is_empty(),
        "running again: nothing blocks"
    );
}

#[test]
fn a_turn_ends_at_an_idle_that_is_not_requires_action() {
    let text = format!(
        "{TURN}\n{}",
        r#"{"type":"user.custom_tool_result","id":"r9","custom_tool_use_id":"c1","processed_at":"2026-01-01T00:00:04.000Z"}
{"type":"session.status_running","id":"r2","processed_at":"2026-01-01T00:00:04.100Z"}
{"type":"span.model_request_start","id":"m3","processed_at":"2026-01-01T00:00:04.200Z"}
{"type":"user.interrupt","id":"x1","processed_at":"2026-01-01T00:00:05.000Z"}
{"type":"session.status_idle","id":"i2","processed_at":"2026-01-01T00:00:05.500Z","stop_reason":{"type":"end_turn"}}"#
    );
    let s = fold(&rows(&text));
    let t = s.last_turn.as_ref().unwrap();
    assert_eq!(
        t.ended_by.as_ref().map(|i| i.mark.event_id.as_str()),
        Some("i2")
    );
    assert_eq!(t.started.as_ref().map(|m| m.event_id.as_str()), Some("r1"));
    assert_eq!(t.interrupts.len(), 1);
    assert_eq!(
        t.last_agent_message.as_ref().map(|m| m.excerpt.as_str()),
        Some("Let me check. One moment.")
    );
    assert_eq!(
        t.last_user_message
            .as_ref()
            .map(|m| m.mark.event_id.as_str()),
        Some("u1")
    );
    let abandoned: Vec<&str> = t
        .abandoned_spans
        .iter()
        .map(|s| s.start_id.as_str())
        .collect();
    assert_eq!(
        abandoned,
        ["m3"],
        "the interrupted model request was abandoned with the turn"
    );
    assert!(s.open_spans.is_empty() && s.blocking.is_empty());
    assert_eq!(s.turn, Turn::default(), "nothing has happened since");
}

#[test]
fn a_partial_answer_re_emits_the_idle_with_the_rest() {
    let s = fold(&rows(
        r#"{"type":"session.status_running","id":"r1","processed_at":"2026-01-01T00:00:00.000Z"}
{"type":"agent.custom_tool_use","id":"c1","name":"get_weather","input":{},"processed_at":"2026-01-01T00:00:01.000Z"}
{"type":"agent.mcp_tool_use","id":"c2","mcp_server_name":"github","name":"create_issue","input":{"title":"x"},"evaluated_permission":"ask","processed_at":"2026-01-01T00:00:01.100Z"}
{"type":"session.status_idle","id":"i1","processed_at":"2026-01-01T00:00:02.000Z","stop_reason":{"type":"requires_action","event_ids":["c1","c2"]}}
{"type":"user.custom_tool_result","id":"r1x","custom_tool_use_id":"c1","processed_at":"2026-01-01T00:00:03.000Z"}
{"type":"session.status_idle","id":"i2","processed_at":"2026-01-01T00:00:03.100Z","stop_reason":{"type":"requires_action","event_ids":["c2"]}}"#,
    ));
    let ids: Vec<(&str, bool)> = s
        .blocking
        .iter()
        .map(|b| (b.event_id.as_str(), b.resolved))
        .collect();
    assert_eq!(ids, [("c1", true), ("c2", false)]);
    let mcp = &s.blocking[1];
    assert_eq!(mcp.needs, "user.tool_confirmation");
    assert_eq!(mcp.mcp_server_name.as_deref(), Some("github"));
    assert_eq!(mcp.named_by, ["i1", "i2"]);
    let actions: Vec<&str> = mcp.unblock.iter().map(|u| u.action.as_str()).collect();
    assert_eq!(actions, ["allow", "deny"]);
}

#[test]
fn confirmations_deny_resolves_and_a_self_hosted_allow_still_needs_the_result() {
    let base = r#"{"type":"session.status_running","id":"r1","processed_at":"2026-01-01T00:00:00.000Z"}
{"type":"agent.tool_use","id":"t1","name":"bash","input":{"command":"rm -rf build"},"evaluated_permission":"ask","processed_at":"2026-01-01T00:00:01.000Z"}
{"type":"session.status_idle","id":"i1","processed_at":"2026-01-01T00:00:02.000Z","stop_reason":{"type":"requires_action","event_ids":["t1"]}}"#;
    let deny = format!(
        "{base}\n{}",
        r#"{"type":"user.tool_confirmation","id":"k1","tool_use_id":"t1","result":"deny","processed_at":"2026-01-01T00:00:03.000Z"}"#
    );
    let b = &fold(&rows(&deny)).blocking[0];
    assert!(b.resolved);
    assert_eq!(b.resolution.as_deref(), Some("deny"));
    let allow = format!(
        "{base}\n{}",
        r#"{"type":"user.tool_confirmation","id":"k1","tool_use_id":"t1","result":"allow","processed_at":"2026-01-01T00:00:03.000Z"}"#
    );
    let b = &fold(&rows(&allow)).blocking[0];
    assert!(b.resolved, "allow runs the tool on a cloud environment");
    // Self-hosted (a user.tool_result was sent this turn): allowed, the idle still lists it.
    let self_hosted = format!(
        "{}\n{allow}\n{}",
        r#"{"type":"user.tool_result","id":"z0","tool_use_id":"t0","processed_at":"2025-12-31T23:59:59.000Z"}"#,
        r#"{"type":"session.status_idle","id":"i2","processed_at":"2026-01-01T00:00:03.500Z","stop_reason":{"type":"requires_action","event_ids":["t1"]}}"#
    );
    let s = fold(&rows(&self_hosted));
    let b = &s.blocking[0];
    assert!(!b.resolved, "{b:#?}");
    assert_eq!(b.needs, "user.tool_result");
    assert!(
        b.note
            .as_deref()
            .unwrap_or_default()
            .contains("self-hosted")
    );
    assert_eq!(b.unblock[0].action, "result");
}

#[test]
fn a_call_from_a_terminated_thread_takes_no_reply() {
    let s = fold(&rows(
        r#"{"type":"session.status_running","id":"r1","processed_at":"2026-01-01T00:00:00.000Z"}
{"type":"session.thread_created","id":"h1","session_thread_id":"sthr_1","agent_name":"Researcher","processed_at":"2026-01-01T00:00:00.500Z"}
{"type":"agent.custom_tool_use","id":"c1","name":"lookup","input":{},"session_thread_id":"sthr_1","processed_at":"2026-01-01T00:00:01.000Z"}
{"type":"session.status_idle","id":"i1","processed_at":"2026-01-01T00:00:02.000Z","stop_reason":{"type":"requires_action","event_ids":["c1"]}}
{"type":"session.thread_status_terminated","id":"h2","session_thread_id":"sthr_1","agent_name":"Researcher","processed_at":"2026-01-01T00:00:03.000Z"}"#,
    ));
    let b = &s.blocking[0];
    assert_eq!(b.thread_id.as_deref(), Some("sthr_1"));
    assert!(!b.resolved && b.unblock.is_empty());
    assert!(
        b.note.as_deref().unwrap_or_default().contains("terminated"),
        "{b:#?}"
    );
    assert_eq!(s.threads[0].status, "terminated");
    assert_eq!(s.threads[0].agent_name.as_deref(), Some("Researcher"));
}

#[test]
fn the_ledger_counts_messages_usage_budget_and_errors() {
    let mut events = rows(
        r#"{"type":"session.updated","id":"p1","processed_at":"2026-01-01T00:00:00.000Z","budget":{"type":"limit","max_list_cost":{"amount":"25","currency":"USD"}}}
{"type":"user.message","id":"u1","processed_at":"2026-01-01T00:00:01.000Z","content":[{"type":"text","text":"go"}]}
{"type":"span.model_request_end","id":"m2","model_request_start_id":"m1","is_error":true,"model_usage":{"input_tokens":1,"output_tokens":2,"cache_creation_input_tokens":3,"cache_read_input_tokens":4},"processed_at":"2026-01-01T00:00:02.000Z"}
{"type":"session.error","id":"e1","processed_at":"2026-01-01T00:00:02.100Z","error":{"type":"mcp_connection_failed_error","mcp_server_name":"github","message":"timed out","retry_status":{"type":"retrying"}}}
{"type":"session.usage","id":"g1","processed_at":"2026-01-01T00:00:03.000Z","usage":{"input_tokens":1,"list_cost":{"amount":"30","currency":"USD"}},"budget":{"type":"limit","max_list_cost":{"amount":"25","currency":"USD"}}}
{"type":"session.updated","id":"p2","processed_at":"2026-01-01T00:00:04.000Z","title":"no budget change"}"#,
    );
    events.extend(rows_on(
        r#"{"type":"agent.message","id":"a9","processed_at":"2026-01-01T00:00:05.000Z","content":[{"type":"text","text":"from the child"}]}"#,
        "sthr_1",
    ));
    let s = fold(&events);
    let l = s.ledger.as_ref().unwrap();
    assert_eq!(l.model_requests.requests, 1);
    assert_eq!(l.model_requests.failed_requests, 1);
    assert_eq!(l.model_requests.cache_read_input_tokens, 4);
    assert_eq!(
        l.session_usage.as_ref().map(|u| u.mark.event_id.as_str()),
        Some("g1")
    );
    let b = l.budget.as_ref().unwrap();
    assert_eq!(
        b.set_by.event_id, "g1",
        "an update without a budget key leaves it alone"
    );
    assert_eq!(
        b.budget
            .as_ref()
            .and_then(|b| b.max_list_cost.as_ref())
            .map(|m| m.amount.as_str()),
        Some("25")
    );
    assert_eq!(l.errors.len(), 1);
    assert_eq!(l.errors[0].mcp_server_name.as_deref(), Some("github"));
    let streams: Vec<(Option<&str>, u64, u64)> = l
        .messages
        .iter()
        .map(|m| (m.thread_id.as_deref(), m.user_messages, m.agent_messages))
        .collect();
    assert_eq!(streams, [(None, 1, 0), (Some("sthr_1"), 0, 1)]);
    assert_eq!(
        l.messages[1]
            .last_agent_message
            .as_ref()
            .map(|m| m.excerpt.as_str()),
        Some("from the child")
    );
    let removed = rows(
        r#"{"type":"session.updated","id":"p3","processed_at":"2026-01-01T00:00:06.000Z","budget":null}"#,
    );
    let mut b = StateBuilder::new("sesn_1");
    for r in events.iter().chain(&removed) {
        b.push(&r.as_ref());
    }
    let s = b.finish(None);
    let budget = s.ledger.unwrap().budget.unwrap();
    assert_eq!(
        (budget.set_by.event_id.as_str(), budget.budget),
        ("p3", None)
    );
    assert!(StateBuilder::for_verdict("s").finish(None).ledger.is_none());
}

#[test]
fn copies_on_two_streams_count_once_and_child_interrupts_do_not_end_the_turn() {
    let text = r#"{"type":"session.status_running","id":"r1","processed_at":"2026-01-01T00:00:00.000Z"}
{"type":"agent.message","id":"a1","processed_at":"2026-01-01T00:00:01.000Z","content":[{"type":"text","text":"hi"}]}
{"type":"user.interrupt","id":"x1","session_thread_id":"sthr_1","processed_at":"2026-01-01T00:00:02.000Z"}"#;
    let mut events = rows(text);
    events.extend(rows_on(text, "sthr_1"));
    events.sort_by_key(|r| (r.ts, r.seq));
    let s = fold(&events);
    assert_eq!(s.ledger.as_ref().unwrap().messages[0].agent_messages, 1);
    assert!(s.turn.interrupts.is_empty());
    assert_eq!(s.end_ts, parse_timestamp_micros("2026-01-01T00:00:02.000Z"));
}

#[test]
fn idles_end_turns_unless_they_require_action() {
    assert!(idle_ends_turn(r#"{"stop_reason":{"type":"end_turn"}}"#));
    assert!(idle_ends_turn(
        r#"{"stop_reason":{"type":"paused_for_review","review_id":"r"}}"#
    ));
    assert!(!idle_ends_turn(
        r#"{"stop_reason":{"type":"requires_action","event_ids":[]}}"#
    ));
}

#[test]
fn stop_reasons_are_read_in_every_documented_shape_and_missing_or_invalid_ones_said() {
    use super::parse::stop_reason;
    let read = |text: &str| {
        let v: serde_json::Value = serde_json::from_str(text).unwrap();
        stop_reason(v.get("stop_reason"))
    };
    let flat = read(r#"{"stop_reason":{"type":"requires_action","event_ids":["a","b"]}}"#);
    assert_eq!(
        (flat.kind.as_deref(), flat.event_ids, flat.problem),
        (Some("requires_action"), vec!["a".into(), "b".into()], None)
    );
    let nested =
        read(r#"{"stop_reason":{"type":"requires_action","requires_action":{"event_ids":["c"]}}}"#);
    assert_eq!(nested.event_ids, vec!["c".to_string()]);
    let both = read(
        r#"{"stop_reason":{"type":"requires_action","event_ids":[],"requires_action":{"event_ids":["d"]}}}"#,
    );
    assert_eq!(both.event_ids, vec!["d".to_string()]);
    assert_eq!(read(r#"{}"#).problem, Some("missing"));
    assert_eq!(read(r#"{"stop_reason":null}"#).problem, Some("missing"));
    let invalid = read(r#"{"stop_reason":"end_turn"}"#);
    assert_eq!((invalid.kind, invalid.problem), (None, Some("invalid")));
    assert_eq!(read(r#"{"stop_reason":{"type":"end_turn"}}"#).problem, None);
}
