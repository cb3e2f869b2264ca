use super::*;
use crate::analysis::testing::{rows, rows_on};
use crate::store::EventRow;

fn build(agent: Option<&str>, events: &[EventRow]) -> Accumulator {
    let mut b = StatsBuilder::new("sesn_t", agent).keep_requests();
    for r in events {
        b.push(&r.as_ref());
    }
    b.finish(events.last().and_then(|r| r.ts))
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() < 1e-9
}

/// Two model requests of one turn, then a `session.updated` agent and a second turn.
const TWO_TURNS: &str = r#"{"type":"session.status_running","id":"e01","processed_at":"2026-01-01T00:00:00Z"}
{"type":"span.model_request_start","id":"m1","processed_at":"2026-01-01T00:00:01Z"}
{"type":"span.model_request_end","id":"m1e","model_request_start_id":"m1","is_error":false,"model_usage":{"input_tokens":1000,"output_tokens":100,"cache_creation_input_tokens":2000,"cache_read_input_tokens":0},"processed_at":"2026-01-01T00:00:03Z"}
{"type":"span.model_request_start","id":"m2","processed_at":"2026-01-01T00:00:04Z"}
{"type":"span.model_request_end","id":"m2e","model_request_start_id":"m2","is_error":false,"model_usage":{"input_tokens":500,"output_tokens":50,"cache_creation_input_tokens":0,"cache_read_input_tokens":2500},"processed_at":"2026-01-01T00:00:05Z"}
{"type":"session.status_idle","id":"e02","stop_reason":{"type":"end_turn"},"processed_at":"2026-01-01T00:00:06Z"}
{"type":"session.updated","id":"e03","agent":{"type":"agent","model":{"id":"claude-imaginary-9"}},"processed_at":"2026-01-01T00:00:07Z"}
{"type":"span.model_request_start","id":"m3","processed_at":"2026-01-01T00:00:08Z"}
{"type":"span.model_request_end","id":"m3e","model_request_start_id":"m3","model_usage":{"input_tokens":7,"output_tokens":3,"cache_creation_input_tokens":0,"cache_read_input_tokens":0},"processed_at":"2026-01-01T00:00:09Z"}
{"type":"session.status_running","id":"e04","processed_at":"2026-01-01T00:00:10Z"}
{"type":"span.model_request_start","id":"m4","processed_at":"2026-01-01T00:00:11Z"}
{"type":"span.model_request_end","id":"m4e","model_request_start_id":"m4","is_error":true,"model_usage":{"input_tokens":0,"output_tokens":0,"cache_creation_input_tokens":0,"cache_read_input_tokens":0},"processed_at":"2026-01-01T00:00:12Z"}
{"type":"span.model_request_start","id":"m5","processed_at":"2026-01-01T00:00:13Z"}
{"type":"span.model_request_end","id":"m5e","model_request_start_id":"m5","model_usage":{"input_tokens":40,"output_tokens":60,"cache_creation_input_tokens":0,"cache_read_input_tokens":0,"speed":"fast"},"processed_at":"2026-01-01T00:00:14Z"}"#;

const SONNET: &str = r#"{"type":"agent","model":{"id":"claude-sonnet-4-6","speed":"standard"}}"#;

#[test]
fn tokens_add_up_per_model_and_in_total() {
    let s = build(Some(SONNET), &rows(TWO_TURNS)).report();
    let t = &s.tokens;
    assert_eq!((t.requests, t.failed_requests), (5, 1));
    assert_eq!(t.input_tokens, 1000 + 500 + 7 + 40);
    assert_eq!(t.output_tokens, 100 + 50 + 3 + 60);
    assert_eq!(t.cache_read_input_tokens, 2500);
    assert_eq!(t.cache_creation_input_tokens, 2000);
    let ratio = 2500.0 / (1547.0 + 2500.0 + 2000.0);
    assert!(close(t.cache_hit_ratio.unwrap(), ratio), "{t:?}");
    assert_eq!(s.requests.as_ref().map(Vec::len), Some(5));
}

#[test]
fn a_priced_model_has_a_cost_and_an_unknown_one_has_none() {
    let s = build(Some(SONNET), &rows(TWO_TURNS)).report();
    let models: Vec<_> = s.models.iter().map(|m| m.model.as_deref()).collect();
    // The update takes effect from the next turn: m3 still ran on the session's first model.
    assert_eq!(
        models,
        [Some("claude-imaginary-9"), Some("claude-sonnet-4-6")]
    );
    let sonnet = &s.models[1];
    assert_eq!(sonnet.tokens.requests, 3);
    assert_eq!(sonnet.priced_as, Some("claude-sonnet-4-6"));
    // $3 input, $15 output, $3.75 cache write (5m), $0.30 cache read per million.
    let expected = (1507.0 * 3.0 + 153.0 * 15.0 + 2000.0 * 3.75 + 2500.0 * 0.3) / 1e6;
    assert!(close(sonnet.cost_usd.unwrap(), expected), "{sonnet:?}");
    let unknown = &s.models[0];
    assert_eq!(unknown.tokens.requests, 2);
    assert_eq!(unknown.fast_requests, 1);
    assert_eq!((unknown.priced_as, unknown.cost_usd), (None, None));
    assert_eq!(unknown.unpriced_requests, 2);
    assert_eq!(s.cost.estimate_usd, sonnet.cost_usd);
    assert_eq!((s.cost.unpriced_requests, s.cost.complete), (2, false));
    assert_eq!(s.cost.prices_as_of, prices::AS_OF);
}

#[test]
fn without_a_session_object_the_model_is_unknown_until_an_update() {
    let s = build(None, &rows(TWO_TURNS)).report();
    let models: Vec<_> = s
        .models
        .iter()
        .map(|m| (m.model.as_deref(), m.tokens.requests))
        .collect();
    assert_eq!(models, [(Some("claude-imaginary-9"), 2), (None, 3)]);
    assert_eq!(s.cost.estimate_usd, None);
    assert_eq!(s.cost.unpriced_requests, 5);
}

#[test]
fn failed_model_requests_count_as_errors() {
    let s = build(Some(SONNET), &rows(TWO_TURNS)).report();
    let e: Vec<_> = s
        .errors
        .iter()
        .map(|e| {
            (
                e.source.as_str(),
                e.error_type.as_str(),
                e.count,
                e.first_event_id.as_str(),
            )
        })
        .collect();
    assert_eq!(e, [("span.model_request_end", "is_error", 1, "m4e")]);
}

#[test]
fn child_threads_use_their_configured_agent_model() {
    let agent = r#"{"model":"claude-opus-5","multiagent":{"type":"multiagent_20261001",
        "advisor":{"type":"enabled","model":{"id":"claude-fable-5-1"}},
        "subagents":{"type":"enabled","predefined_agents":[{"name":"Web researcher","model":{"id":"claude-haiku-4-5"}}]},
        "workflows":{"type":"disabled"}}}"#;
    let mut events = rows(
        r#"{"type":"session.thread_created","id":"t1","session_thread_id":"sthr_a","agent_name":"Web researcher","processed_at":"2026-01-01T00:00:00Z"}
{"type":"session.thread_created","id":"t2","session_thread_id":"sthr_b","agent_name":"anthropic.advisor","processed_at":"2026-01-01T00:00:00.5Z"}
{"type":"session.thread_created","id":"t3","session_thread_id":"sthr_c","agent_name":"inline reader","processed_at":"2026-01-01T00:00:00.7Z"}
{"type":"span.model_request_start","id":"p1","processed_at":"2026-01-01T00:00:01Z"}
{"type":"span.model_request_end","id":"p1e","model_request_start_id":"p1","model_usage":{"input_tokens":1,"output_tokens":1,"cache_creation_input_tokens":0,"cache_read_input_tokens":0},"processed_at":"2026-01-01T00:00:02Z"}"#,
    );
    let on = |thread: &str, id: &str, at: u32| {
        rows_on(
            &format!(
                r#"{{"type":"span.model_request_start","id":"{id}","processed_at":"2026-01-01T00:00:0{at}Z"}}
{{"type":"span.model_request_end","id":"{id}e","model_request_start_id":"{id}","model_usage":{{"input_tokens":1,"output_tokens":1,"cache_creation_input_tokens":0,"cache_read_input_tokens":0}},"processed_at":"2026-01-01T00:00:0{}Z"}}"#,
                at + 1
            ),
            thread,
        )
    };
    events.extend(on("sthr_a", "a1", 3));
    events.extend(on("sthr_b", "b1", 5));
    events.extend(on("sthr_c", "c1", 7));
    events.sort_by_key(|r| (r.ts, r.seq));
    let s = build(Some(agent), &events).report();
    let by_request: Vec<_> = s
        .requests
        .iter()
        .flatten()
        .map(|r| (r.start_id.as_str(), r.model.as_deref()))
        .collect();
    assert_eq!(
        by_request,
        [
            ("p1", Some("claude-opus-5")),
            ("a1", Some("claude-haiku-4-5")),
            ("b1", Some("claude-fable-5-1")),
            ("c1", None),
        ]
    );
}

const TOOLS: &str = r#"{"type":"agent.tool_use","id":"u1","name":"bash","input":{},"processed_at":"2026-01-01T00:00:00Z"}
{"type":"agent.tool_result","id":"r1","tool_use_id":"u1","is_error":false,"processed_at":"2026-01-01T00:00:01Z"}
{"type":"agent.tool_use","id":"u2","name":"bash","input":{},"evaluated_permission":"ask","processed_at":"2026-01-01T00:00:02Z"}
{"type":"user.tool_confirmation","id":"c2","tool_use_id":"u2","result":"allow","processed_at":"2026-01-01T00:01:02Z"}
{"type":"agent.tool_result","id":"r2","tool_use_id":"u2","is_error":true,"processed_at":"2026-01-01T00:01:05Z"}
{"type":"agent.tool_use","id":"u3","name":"bash","input":{},"evaluated_permission":"ask","processed_at":"2026-01-01T00:02:00Z"}
{"type":"user.tool_confirmation","id":"c3","tool_use_id":"u3","result":"deny","processed_at":"2026-01-01T00:02:30Z"}
{"type":"agent.mcp_tool_use","id":"u4","mcp_server_name":"github","name":"list_prs","input":{},"processed_at":"2026-01-01T00:03:00Z"}
{"type":"session.error","id":"x1","error":{"type":"mcp_connection_failed_error","mcp_server_name":"github","message":"m","retry_status":{"type":"retrying"}},"processed_at":"2026-01-01T00:03:01Z"}
{"type":"agent.mcp_tool_result","id":"r4","mcp_tool_use_id":"u4","is_error":true,"processed_at":"2026-01-01T00:03:02Z"}
{"type":"session.error","id":"x2","error":{"type":"mcp_connection_failed_error","message":"m","retry_status":{"type":"exhausted"}},"processed_at":"2026-01-01T00:03:03Z"}
{"type":"workflow_run.error","id":"x3","workflow_run_id":null,"error":{"type":"max_workflow_runs_error","message":"m"},"processed_at":"2026-01-01T00:03:04Z"}
{"type":"agent.custom_tool_use","id":"u5","name":"get_weather","input":{},"processed_at":"2026-01-01T00:04:00Z"}
{"type":"agent.tool_use","id":"u6","name":"bash","input":{},"processed_at":"2026-01-01T00:05:00Z"}
{"type":"agent.tool_result","id":"r6","tool_use_id":"u6","processed_at":"2026-01-01T00:05:00.25Z"}"#;

#[test]
fn tool_latency_leaves_out_permission_waits_denials_and_open_calls() {
    let s = build(None, &rows(TOOLS)).report();
    let bash = s.tools.iter().find(|t| t.tool == "bash").unwrap();
    assert_eq!(bash.kind, SpanKind::Tool);
    assert_eq!(
        (
            bash.calls,
            bash.completed,
            bash.open,
            bash.errors,
            bash.denied
        ),
        (4, 3, 0, 1, 1)
    );
    // Latencies 1 s, 3 s (63 s less the 60 s wait for the confirmation) and 0.25 s.
    assert_eq!(bash.p50_ms, Some(1000.0));
    assert_eq!(bash.p95_ms, Some(3000.0));
    assert_eq!(bash.max_ms, Some(3000.0));
    assert_eq!(bash.slowest_id.as_deref(), Some("u2"));
    let mcp = s
        .tools
        .iter()
        .find(|t| t.tool == "github.list_prs")
        .unwrap();
    assert_eq!(
        (mcp.kind, mcp.completed, mcp.errors, mcp.max_ms),
        (SpanKind::McpTool, 1, 1, Some(2000.0))
    );
    let custom = s.tools.iter().find(|t| t.tool == "get_weather").unwrap();
    assert_eq!(
        (custom.kind, custom.open, custom.completed, custom.p50_ms),
        (SpanKind::CustomTool, 1, 0, None)
    );
}

#[test]
fn errors_are_counted_by_source_and_type() {
    let s = build(None, &rows(TOOLS)).report();
    let e: Vec<_> = s
        .errors
        .iter()
        .map(|e| {
            (
                e.source.as_str(),
                e.error_type.as_str(),
                e.count,
                e.first_event_id.as_str(),
            )
        })
        .collect();
    assert_eq!(
        e,
        [
            ("agent.mcp_tool_result", "github.list_prs", 1, "r4"),
            ("agent.tool_result", "bash", 1, "r2"),
            ("session.error", "mcp_connection_failed_error", 2, "x1"),
            ("workflow_run.error", "max_workflow_runs_error", 1, "x3"),
        ]
    );
    let session = &s.errors[2];
    let statuses: Vec<_> = session
        .retry_statuses
        .iter()
        .map(|(k, v)| (k.as_str(), *v))
        .collect();
    assert_eq!(statuses, [("exhausted", 1), ("retrying", 1)]);
}

#[test]
fn copies_of_an_error_on_two_streams_count_once() {
    let line = r#"{"type":"session.error","id":"x1","error":{"type":"unknown_error","message":"m","retry_status":{"type":"retrying"}},"processed_at":"2026-01-01T00:00:00Z"}"#;
    let mut events = rows(line);
    events.extend(rows_on(line, "sthr_a"));
    let s = build(None, &events).report();
    assert_eq!(s.errors[0].count, 1);
}

/// Placeholder ids (`sevt_...` on every event of an official sample): two errors at two times
/// are two errors, not a copy.
#[test]
fn errors_with_one_placeholder_id_at_two_times_count_twice() {
    let at = |t: &str| {
        format!(
            r#"{{"type":"session.error","id":"sevt_...","error":{{"type":"unknown_error","message":"m","retry_status":{{"type":"retrying"}}}},"processed_at":"2026-01-01T00:00:0{t}Z"}}"#
        )
    };
    let events = rows(&format!("{}\n{}", at("1"), at("2")));
    let s = build(None, &events).report();
    assert_eq!(s.errors[0].count, 2);
}

#[test]
fn the_slowest_spans_are_ranked_and_threads_left_out() {
    let s = build(None, &rows(TOOLS)).report();
    let slow: Vec<_> = s
        .slowest_spans
        .iter()
        .map(|x| (x.kind, x.start_id.as_str(), x.duration_ms))
        .collect();
    assert_eq!(
        slow,
        [
            (SpanKind::Tool, "u2", 63_000.0),
            (SpanKind::Permission, "u2", 60_000.0),
            (SpanKind::Permission, "u3", 30_000.0),
            (SpanKind::Tool, "u3", 30_000.0),
            (SpanKind::McpTool, "u4", 2_000.0),
            (SpanKind::Tool, "u1", 1_000.0),
            (SpanKind::Tool, "u6", 250.0),
        ]
    );
}

#[test]
fn the_newest_session_usage_is_reported() {
    let s = build(
        None,
        &rows(
            r#"{"type":"session.usage","id":"s1","usage":{"input_tokens":5,"list_cost":{"amount":"17","currency":"USD"}},"processed_at":"2026-01-01T00:00:00Z"}
{"type":"session.usage","id":"s2","usage":{"input_tokens":9,"output_tokens":2,"cache_creation":{"ephemeral_5m_input_tokens":3,"ephemeral_1h_input_tokens":4},"list_cost":{"amount":"1873","currency":"USD"}},"budget":null,"processed_at":"2026-01-01T00:00:01Z"}"#,
        ),
    )
    .report();
    let r = s.reported.unwrap();
    assert_eq!(r.event_id.as_deref(), Some("s2"));
    assert_eq!(
        (
            r.input_tokens,
            r.output_tokens,
            r.cache_creation_5m_input_tokens,
            r.cache_creation_1h_input_tokens
        ),
        (9, 2, 3, 4)
    );
    assert_eq!(r.list_cost_usd, Some(18.73));
}

#[test]
fn sessions_merge_into_totals() {
    let mut total = build(Some(SONNET), &rows(TWO_TURNS));
    total.merge(build(None, &rows(TOOLS)));
    total.merge(build(None, &rows(TWO_TURNS)));
    let s = total.report();
    assert_eq!(s.tokens.requests, 10);
    assert_eq!(
        s.tools.iter().find(|t| t.tool == "bash").map(|t| t.calls),
        Some(4)
    );
    assert_eq!(
        s.errors
            .iter()
            .find(|e| e.source == "span.model_request_end")
            .map(|e| e.count),
        Some(2)
    );
    assert_eq!(s.requests.map(|r| r.len()), Some(10));
    assert_eq!(s.slowest_spans.len(), SLOWEST);
    assert_eq!(s.slowest_spans[0].duration_ms, 63_000.0);
}

#[test]
fn percentiles_are_nearest_rank() {
    let v: Vec<i64> = (1..=20).collect();
    assert_eq!(percentile(&v, 50.0), Some(10));
    assert_eq!(percentile(&v, 95.0), Some(19));
    assert_eq!(percentile(&v, 100.0), Some(20));
    assert_eq!(percentile(&[7], 95.0), Some(7));
    assert_eq!(percentile(&[], 50.0), None);
    assert_eq!(percentile(&[1, 2], 50.0), Some(1));
}
