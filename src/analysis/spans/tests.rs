use super::*;
use crate::analysis::testing::{rows, rows_on};
use crate::model::parse_timestamp_micros;

fn ts(s: &str) -> Option<i64> {
    parse_timestamp_micros(s)
}

fn find<'a>(spans: &'a [Span], kind: SpanKind, start: &str) -> &'a Span {
    spans
        .iter()
        .find(|s| s.kind == kind && s.start_id == start)
        .unwrap_or_else(|| panic!("no {kind} span starting at {start}: {spans:#?}"))
}

#[test]
fn tool_and_model_request_pairs_with_usage_and_duration() {
    let events = rows(
        r#"{"type":"span.model_request_start","id":"m1","processed_at":"2026-01-01T00:00:00.000Z"}
{"type":"agent.tool_use","id":"t1","name":"bash","input":{"command":"ls"},"evaluated_permission":"allow","processed_at":"2026-01-01T00:00:01.000Z"}
{"type":"span.model_request_end","id":"m2","model_request_start_id":"m1","model_usage":{"input_tokens":10,"output_tokens":5,"cache_creation_input_tokens":0,"cache_read_input_tokens":7},"processed_at":"2026-01-01T00:00:01.500Z"}
{"type":"agent.tool_result","id":"t2","tool_use_id":"t1","content":[],"is_error":true,"processed_at":"2026-01-01T00:00:03.250Z"}"#,
    );
    let spans = spans(&events, ts("2026-01-01T00:00:04Z"));
    assert_eq!(spans.len(), 2);
    let m = find(&spans, SpanKind::ModelRequest, "m1");
    assert_eq!(m.end_id.as_deref(), Some("m2"));
    assert_eq!(m.duration_ms, Some(1500.0));
    assert_eq!(m.usage.as_ref().map(|u| u.cache_read_input_tokens), Some(7));
    let t = find(&spans, SpanKind::Tool, "t1");
    assert_eq!(t.name, "bash");
    assert!(t.is_error && !t.open);
    assert_eq!(t.duration_ms, Some(2250.0));
}

#[test]
fn open_spans_carry_their_age_at_the_end_of_the_recording() {
    let events = rows(
        r#"{"type":"agent.custom_tool_use","id":"c1","name":"get_weather","input":{},"processed_at":"2026-01-01T00:00:00.000Z"}"#,
    );
    let spans = spans(&events, ts("2026-01-01T00:01:30Z"));
    let c = find(&spans, SpanKind::CustomTool, "c1");
    assert!(c.open);
    assert_eq!(c.end_id, None);
    assert_eq!(c.age_ms, Some(90_000.0));
}

#[test]
fn ask_opens_a_permission_wait_and_a_denial_closes_both() {
    let events = rows(
        r#"{"type":"agent.mcp_tool_use","id":"u1","mcp_server_name":"github","name":"create_issue","input":{},"evaluated_permission":"ask","processed_at":"2026-01-01T00:00:00.000Z"}
{"type":"agent.tool_use","id":"u2","name":"bash","input":{},"evaluated_permission":"ask","processed_at":"2026-01-01T00:00:00.100Z"}
{"type":"user.tool_confirmation","id":"c1","tool_use_id":"u1","result":"deny","deny_message":"no","processed_at":"2026-01-01T00:00:02.000Z"}
{"type":"user.tool_confirmation","id":"c2","tool_use_id":"u2","result":"allow","processed_at":"2026-01-01T00:00:03.000Z"}"#,
    );
    let spans = spans(&events, ts("2026-01-01T00:00:05Z"));
    let wait = find(&spans, SpanKind::Permission, "u1");
    assert_eq!(wait.name, "github.create_issue");
    assert_eq!(wait.detail.as_deref(), Some("deny"));
    let mcp = find(&spans, SpanKind::McpTool, "u1");
    assert!(!mcp.open && mcp.is_error);
    assert_eq!(mcp.end_id.as_deref(), Some("c1"));
    assert_eq!(mcp.detail.as_deref(), Some("denied: no"));
    // Allowed: the wait is over, the tool still runs (no result yet).
    assert!(!find(&spans, SpanKind::Permission, "u2").open);
    let bash = find(&spans, SpanKind::Tool, "u2");
    assert!(bash.open);
    assert_eq!(bash.age_ms, Some(4900.0));
}

#[test]
fn a_tool_denied_by_policy_is_closed_at_once_unless_a_result_follows() {
    let events = rows(
        r#"{"type":"agent.tool_use","id":"u1","name":"bash","input":{},"evaluated_permission":"deny","processed_at":"2026-01-01T00:00:00.000Z"}
{"type":"agent.tool_use","id":"u2","name":"bash","input":{},"evaluated_permission":"deny","processed_at":"2026-01-01T00:00:01.000Z"}
{"type":"agent.tool_result","id":"r2","tool_use_id":"u2","is_error":true,"processed_at":"2026-01-01T00:00:01.200Z"}"#,
    );
    let spans = spans(&events, None);
    let u1 = find(&spans, SpanKind::Tool, "u1");
    assert!(!u1.open && u1.is_error);
    assert_eq!(u1.duration_ms, Some(0.0));
    assert_eq!(u1.detail.as_deref(), Some("denied by policy"));
    let u2 = find(&spans, SpanKind::Tool, "u2");
    assert_eq!(u2.end_id.as_deref(), Some("r2"));
    assert_eq!(u2.duration_ms, Some(200.0));
}

#[test]
fn outcome_evaluations_count_their_ongoing_marks() {
    let events = rows(
        r#"{"type":"span.outcome_evaluation_start","id":"e1","outcome_id":"outc_1","iteration":0,"processed_at":"2026-01-01T00:00:00.000Z"}
{"type":"span.outcome_evaluation_ongoing","id":"e2","outcome_id":"outc_1","iteration":0,"processed_at":"2026-01-01T00:00:01.000Z"}
{"type":"span.outcome_evaluation_ongoing","id":"e3","outcome_id":"outc_1","iteration":0,"processed_at":"2026-01-01T00:00:02.000Z"}
{"type":"span.outcome_evaluation_end","id":"e4","outcome_evaluation_start_id":"e1","outcome_id":"outc_1","iteration":0,"result":"needs_revision","usage":{"input_tokens":3,"output_tokens":4},"processed_at":"2026-01-01T00:00:03.000Z"}"#,
    );
    let spans = spans(&events, None);
    let e = find(&spans, SpanKind::OutcomeEvaluation, "e1");
    assert_eq!(e.name, "outc_1#0");
    assert_eq!(e.detail.as_deref(), Some("needs_revision (2 ongoing)"));
    assert_eq!(e.usage.as_ref().map(|u| u.output_tokens), Some(4));
}

#[test]
fn threads_workflow_runs_and_named_phases() {
    let events = rows(
        r#"{"type":"workflow_run.created","id":"w1","workflow_run_id":"wrun_1","name":"triage","phases":[{"id":"wrph_1","name":"collect"}],"processed_at":"2026-01-01T00:00:00.000Z"}
{"type":"session.thread_created","id":"h1","session_thread_id":"sthr_1","agent_name":"worker","workflow_run_id":"wrun_1","processed_at":"2026-01-01T00:00:00.500Z"}
{"type":"workflow_run.phase_started","id":"p1","workflow_run_id":"wrun_1","workflow_run_phase_id":"wrph_1","processed_at":"2026-01-01T00:00:01.000Z"}
{"type":"workflow_run.phase_ended","id":"p2","workflow_run_id":"wrun_1","workflow_run_phase_id":"wrph_1","phase_started_id":"p1","processed_at":"2026-01-01T00:00:02.000Z"}
{"type":"session.thread_status_terminated","id":"h2","session_thread_id":"sthr_1","agent_name":"worker","processed_at":"2026-01-01T00:00:03.000Z"}
{"type":"workflow_run.status_ended","id":"w2","workflow_run_id":"wrun_1","result":{"type":"error","error":{"type":"timeout_error","message":"slow"}},"processed_at":"2026-01-01T00:00:04.000Z"}"#,
    );
    let spans = spans(&events, None);
    assert_eq!(find(&spans, SpanKind::WorkflowPhase, "p1").name, "collect");
    let t = find(&spans, SpanKind::Thread, "h1");
    assert_eq!(
        (t.name.as_str(), t.thread_id.as_deref()),
        ("worker", Some("sthr_1"))
    );
    assert_eq!(t.end_id.as_deref(), Some("h2"));
    let w = find(&spans, SpanKind::WorkflowRun, "w1");
    assert!(w.is_error);
    assert_eq!(w.detail.as_deref(), Some("error: timeout_error"));
}

#[test]
fn a_cross_posted_copy_counts_once_and_keeps_its_thread() {
    let line = r#"{"type":"agent.custom_tool_use","id":"c1","name":"lookup","input":{},"session_thread_id":"sthr_9","processed_at":"2026-01-01T00:00:00.000Z"}"#;
    let mut events = rows(line);
    events.extend(rows_on(line, "sthr_9"));
    let spans = spans(&events, None);
    assert_eq!(spans.len(), 1);
    assert_eq!(spans[0].thread_id.as_deref(), Some("sthr_9"));
}

#[test]
fn kinds_round_trip_through_their_names() {
    for k in SpanKind::ALL {
        assert_eq!(SpanKind::parse(k.as_str()), Some(k));
        assert_eq!(serde_json::to_value(k).unwrap(), k.as_str());
    }
    assert_eq!(SpanKind::parse("nope"), None);
}

#[test]
fn spans_left_open_by_a_terminated_thread_or_session_say_so() {
    let events = rows(
        r#"{"type":"agent.tool_use","id":"u1","name":"web_fetch","input":{},"session_thread_id":"sthr_1","processed_at":"2026-01-01T00:00:00.000Z"}
{"type":"agent.tool_use","id":"u2","name":"bash","input":{},"processed_at":"2026-01-01T00:00:00.500Z"}
{"type":"session.thread_status_terminated","id":"h2","session_thread_id":"sthr_1","agent_name":"worker","processed_at":"2026-01-01T00:00:01.000Z"}
{"type":"session.status_terminated","id":"x","processed_at":"2026-01-01T00:00:02.000Z"}"#,
    );
    let spans = spans(&events, None);
    let u1 = find(&spans, SpanKind::Tool, "u1");
    assert!(u1.open);
    assert_eq!(u1.detail.as_deref(), Some("thread terminated while open"));
    let u2 = find(&spans, SpanKind::Tool, "u2");
    assert_eq!(u2.detail.as_deref(), Some("session terminated while open"));
}

#[test]
fn a_stream_copy_is_an_id_seen_again_at_the_same_time() {
    let row = |id: &'static str, ts: Option<i64>| EventRef {
        seq: 0,
        event_id: id,
        event_type: "agent.message",
        processed_at: None,
        ts,
        thread_id: "",
        link_id: None,
        raw: "{}",
    };
    let mut c = StreamCopies::default();
    assert!(!c.is_copy(&row("a", Some(1))));
    assert!(!c.is_copy(&row("b", Some(1))));
    assert!(c.is_copy(&row("a", Some(1))), "the other stream's copy");
    assert!(
        !c.is_copy(&row("a", Some(2))),
        "a later time forgets the ids seen"
    );
    assert!(!c.is_copy(&row("c", Some(2))));
    assert!(c.is_copy(&row("c", Some(2))));
    assert!(!c.is_copy(&row("", Some(2))));
    assert!(
        !c.is_copy(&row("", Some(2))),
        "rows without an id are never copies"
    );
    assert!(!c.is_copy(&row("q", None)));
    assert!(c.is_copy(&row("q", None)), "queued copies too");
}

/// Every JSON Lines sample (`real/` too), with its events.
fn jsonl_samples() -> Vec<(std::path::PathBuf, Vec<EventRow>)> {
    (crate::analysis::testing::sample_files(true).into_iter())
        .filter(|f| f.extension().is_some_and(|e| e == "jsonl"))
        .map(|f| {
            let events = rows(&std::fs::read_to_string(&f).unwrap());
            (f, events)
        })
        .collect()
}

/// One read of an event's fields shared by several builders pairs as each builder's own read
/// does: every JSON Lines sample, folded both ways.
#[test]
fn spans_from_shared_fields_are_the_spans_of_their_own_reads() {
    let mut n = 0;
    for (f, events) in jsonl_samples() {
        let (mut own, mut a, mut b) = (
            SpanBuilder::default(),
            SpanBuilder::default(),
            SpanBuilder::default(),
        );
        for row in &events {
            let row = row.as_ref();
            own.push(&row);
            let read = SpanFields::of(&row);
            a.push_read(&row, &read);
            b.push_read(&row, &read);
        }
        let end = events.last().and_then(|r| r.ts);
        let own = own.finish(end);
        n += own.len();
        assert_eq!(a.finish(end), own, "{}", f.display());
        assert_eq!(b.finish(end), own, "{}", f.display());
    }
    assert!(n > 50, "the samples hold spans: {n}");
}

/// The open view of a builder is what retaining its open spans leaves, whatever spans it gave
/// back before (as the statistics give back settled ones): every JSON Lines sample, at every
/// event.
#[test]
fn the_open_view_of_a_builder_is_what_retaining_its_open_spans_leaves() {
    fn assert_same(a: &SpanBuilder, b: &SpanBuilder, at: &str) {
        assert_eq!(a.spans, b.spans, "{at}");
        assert_eq!(a.open, b.open, "{at}");
        assert_eq!(a.evaluations, b.evaluations, "{at}");
        assert_eq!(a.ongoing, b.ongoing, "{at}");
        assert_eq!(a.phase_names, b.phase_names, "{at}");
        assert_eq!(a.threads, b.threads, "{at}");
        let copies = |c: &StreamCopies| serde_json::to_value(c).unwrap();
        assert_eq!(copies(&a.copies), copies(&b.copies), "{at}");
    }
    let mut open_seen = 0;
    for (f, events) in jsonl_samples() {
        let (mut kept, mut giving) = (SpanBuilder::default(), SpanBuilder::default());
        for (i, row) in events.iter().enumerate() {
            let row = row.as_ref();
            kept.push(&row);
            giving.push(&row);
            match i % 3 {
                0 => drop(giving.take_settled()),
                1 => drop(giving.take_settled_passing(|s| s.kind == SpanKind::ModelRequest)),
                _ => drop(giving.take_settled_anywhere()),
            }
            let mut retained = kept.clone();
            retained.retain_open();
            open_seen += retained.spans.len();
            let at = format!("{} at event {i}", f.display());
            assert_same(&retained, &kept.open_view(), &at);
            assert_same(&retained, &giving.open_view(), &at);
        }
    }
    assert!(open_seen > 100, "the samples hold open spans: {open_seen}");
}
