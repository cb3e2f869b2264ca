use super::*;
use crate::analysis::testing::rows;
use crate::store::{SessionObject, SessionSummary};
use opentelemetry_proto::tonic::trace::v1::Span as OtelSpan;

const EVENTS: &str = r#"{"type":"user.message","id":"sevt_u1","processed_at":"2026-08-07T09:00:00.000Z","content":[{"type":"text","text":"go"}]}
{"type":"session.status_running","id":"sevt_r1","processed_at":"2026-08-07T09:00:00.100Z"}
{"type":"span.model_request_start","id":"sevt_m1","processed_at":"2026-08-07T09:00:00.200Z"}
{"type":"agent.tool_use","id":"sevt_t1","name":"bash","input":{"command":"pytest"},"evaluated_permission":"ask","processed_at":"2026-08-07T09:00:01.000Z"}
{"type":"span.model_request_end","id":"sevt_m1e","model_request_start_id":"sevt_m1","is_error":false,"model_usage":{"input_tokens":100,"output_tokens":20,"cache_creation_input_tokens":30,"cache_read_input_tokens":400},"processed_at":"2026-08-07T09:00:01.500Z"}
{"type":"user.tool_confirmation","id":"sevt_c1","tool_use_id":"sevt_t1","result":"allow","processed_at":"2026-08-07T09:00:02.000Z"}
{"type":"agent.tool_result","id":"sevt_t1r","tool_use_id":"sevt_t1","is_error":true,"content":[],"processed_at":"2026-08-07T09:00:03.000Z"}
{"type":"session.thread_created","id":"sevt_th","session_thread_id":"sthr_1","agent_name":"Researcher","processed_at":"2026-08-07T09:00:04.000Z"}
{"type":"agent.custom_tool_use","id":"sevt_ct","name":"get_weather","input":{},"session_thread_id":"sthr_1","processed_at":"2026-08-07T09:00:05.000Z"}
{"type":"session.status_idle","id":"sevt_i1","stop_reason":{"type":"requires_action","event_ids":["sevt_ct"]},"processed_at":"2026-08-07T09:00:06.000Z"}"#;

fn doc() -> SessionDoc {
    let events = rows(EVENTS);
    SessionDoc {
        summary: SessionSummary {
            id: "sesn_test".into(),
            title: Some("A test".into()),
            event_count: events.len() as u64,
            first_ts: events.first().and_then(|e| e.ts),
            last_ts: events.last().and_then(|e| e.ts),
            status: Some("idle".into()),
            stop_reason: Some("requires_action".into()),
        },
        object: Some(SessionObject {
            raw: r#"{"type":"session","id":"sesn_test","agent":{"type":"agent","id":"agent_1","name":"Triager","model":{"id":"claude-sonnet-4-6"}}}"#.into(),
            fetched_at: None,
        }),
        events,
        revisions: vec![],
        previews: vec![],
        capture: vec![],
    }
}

fn spans(req: &ExportTraceServiceRequest) -> &[OtelSpan] {
    &req.resource_spans[0].scope_spans[0].spans
}

fn attr<'a>(s: &'a OtelSpan, key: &str) -> Option<&'a Any> {
    s.attributes
        .iter()
        .find(|a| a.key == key)
        .and_then(|a| a.value.as_ref()?.value.as_ref())
}

fn str_attr<'a>(s: &'a OtelSpan, key: &str) -> Option<&'a str> {
    match attr(s, key) {
        Some(Any::StringValue(v)) => Some(v),
        _ => None,
    }
}

fn int_attr(s: &OtelSpan, key: &str) -> Option<i64> {
    match attr(s, key) {
        Some(Any::IntValue(v)) => Some(*v),
        _ => None,
    }
}

fn by_name<'a>(req: &'a ExportTraceServiceRequest, name: &str) -> &'a OtelSpan {
    spans(req)
        .iter()
        .find(|s| s.name == name)
        .unwrap_or_else(|| panic!("no span {name}"))
}

#[test]
fn the_session_is_the_root_and_model_requests_are_chat_spans() {
    let req = otlp_request(&doc());
    let all = spans(&req);
    // Root, model request, permission, tool, thread, custom tool.
    assert_eq!(
        all.len(),
        6,
        "{:#?}",
        all.iter().map(|s| &s.name).collect::<Vec<_>>()
    );
    let root = &all[0];
    assert_eq!(root.name, "invoke_agent Triager");
    assert!(root.parent_span_id.is_empty());
    assert_eq!(root.kind, OtelKind::Client as i32);
    assert_eq!(str_attr(root, "gen_ai.agent.id"), Some("agent_1"));
    assert_eq!(str_attr(root, "gen_ai.conversation.id"), Some("sesn_test"));
    assert!(all.iter().all(|s| s.trace_id == trace_id("sesn_test")));

    let chat = by_name(&req, "chat claude-sonnet-4-6");
    assert_eq!(chat.kind, OtelKind::Client as i32);
    assert_eq!(chat.parent_span_id, root.span_id);
    assert_eq!(str_attr(chat, "gen_ai.operation.name"), Some("chat"));
    assert_eq!(str_attr(chat, "gen_ai.provider.name"), Some("anthropic"));
    assert_eq!(
        str_attr(chat, "gen_ai.request.model"),
        Some("claude-sonnet-4-6")
    );
    assert_eq!(int_attr(chat, "gen_ai.usage.input_tokens"), Some(530));
    assert_eq!(int_attr(chat, "gen_ai.usage.output_tokens"), Some(20));
    assert_eq!(
        int_attr(chat, "gen_ai.usage.cache_read.input_tokens"),
        Some(400)
    );
    assert_eq!(
        int_attr(chat, "gen_ai.usage.cache_creation.input_tokens"),
        Some(30)
    );
    assert_eq!(
        chat.end_time_unix_nano - chat.start_time_unix_nano,
        1_300_000_000
    );
}

#[test]
fn tools_are_execute_tool_spans_under_their_thread() {
    let req = otlp_request(&doc());
    let root = &spans(&req)[0];
    let tool = by_name(&req, "execute_tool bash");
    assert_eq!(tool.kind, OtelKind::Internal as i32);
    assert_eq!(tool.parent_span_id, root.span_id);
    assert_eq!(str_attr(tool, "gen_ai.tool.name"), Some("bash"));
    assert_eq!(str_attr(tool, "gen_ai.tool.call.id"), Some("sevt_t1"));
    assert_eq!(str_attr(tool, "gen_ai.tool.type"), Some("extension"));
    assert_eq!(str_attr(tool, "error.type"), Some("tool_error"));
    assert_eq!(
        tool.status.as_ref().map(|s| s.code),
        Some(StatusCode::Error as i32)
    );

    let wait = by_name(&req, "permission bash");
    assert_eq!(wait.parent_span_id, tool.span_id);
    assert_ne!(wait.span_id, tool.span_id);

    let thread = by_name(&req, "invoke_agent Researcher");
    assert_eq!(thread.parent_span_id, root.span_id);
    let custom = by_name(&req, "execute_tool get_weather");
    assert_eq!(custom.parent_span_id, thread.span_id);
    assert_eq!(str_attr(custom, "gen_ai.tool.type"), Some("function"));
    // Still open: drawn to the end of the recording, status unset.
    assert_eq!(attr(custom, "flightrec.open"), Some(&Any::BoolValue(true)));
    assert!(custom.status.is_none());
    assert_eq!(custom.end_time_unix_nano, root.end_time_unix_nano);
}

#[test]
fn ids_are_stable_and_valid() {
    let (a, b) = (otlp_request(&doc()), otlp_request(&doc()));
    assert_eq!(a, b);
    let ids: std::collections::HashSet<_> = spans(&a).iter().map(|s| s.span_id.clone()).collect();
    assert_eq!(ids.len(), spans(&a).len(), "span ids are unique");
    assert!(
        spans(&a)
            .iter()
            .all(|s| s.span_id.len() == 8 && s.trace_id.len() == 16)
    );
    assert_ne!(trace_id("sesn_a"), trace_id("sesn_b"));
}

/// The crate's serde form is the OTLP/JSON encoding: lowerCamelCase names, hex ids, enums as
/// integers, 64-bit integers as strings. Checked on the text, since a collector reads the text.
#[test]
fn json_is_the_otlp_json_encoding() {
    let mut out = Vec::new();
    write_otlp_json(&doc(), &mut out).unwrap();
    let v: Value = serde_json::from_slice(&out).unwrap();
    let span = &v["resourceSpans"][0]["scopeSpans"][0]["spans"][1];
    let trace = span["traceId"].as_str().unwrap();
    assert_eq!(trace.len(), 32);
    assert!(
        trace
            .bytes()
            .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
    );
    assert_eq!(span["spanId"].as_str().map(str::len), Some(16));
    assert_eq!(span["parentSpanId"].as_str().map(str::len), Some(16));
    assert!(span["startTimeUnixNano"].is_string());
    assert!(span["endTimeUnixNano"].is_string());
    assert_eq!(span["kind"], 3, "SPAN_KIND_CLIENT as an integer");
    let tokens = span["attributes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["key"] == "gen_ai.usage.output_tokens")
        .unwrap();
    assert_eq!(tokens["value"], serde_json::json!({"intValue": "20"}));
    let root = &v["resourceSpans"][0]["scopeSpans"][0]["spans"][0];
    assert_eq!(
        root["attributes"][0]["value"],
        serde_json::json!({"stringValue": "invoke_agent"})
    );
    // And back: the official types read it.
    let back: ExportTraceServiceRequest = serde_json::from_slice(&out).unwrap();
    assert_eq!(back, otlp_request(&doc()));
}

#[test]
fn protobuf_round_trips() {
    let req = otlp_request(&doc());
    let bytes = encode_protobuf(&req);
    assert_eq!(
        ExportTraceServiceRequest::decode(bytes.as_slice()).ok(),
        Some(req)
    );
}

#[test]
fn agent_info_reads_both_model_shapes() {
    let a = AgentInfo::from_session_object(r#"{"agent":{"id":"a","model":"claude-x"}}"#);
    assert_eq!(a.model.as_deref(), Some("claude-x"));
    assert_eq!(
        AgentInfo::from_session_object("not json"),
        AgentInfo::default()
    );
}

#[test]
fn a_push_is_batches_of_at_most_max_spans_that_add_up_to_the_whole_request() {
    let trace = Trace::of_doc(&doc());
    let whole = trace.request().unwrap();
    let all = spans(&whole).to_vec();
    assert!(all.len() >= 4, "{}", all.len());
    for max in [1, 2, 3, all.len(), all.len() + 5] {
        let mut got: Vec<ExportTraceServiceRequest> = Vec::new();
        let (n, requests) = trace
            .for_each_batch(max, |r| {
                got.push(r);
                Ok::<(), std::io::Error>(())
            })
            .unwrap();
        assert_eq!(n, all.len(), "max {max}");
        assert_eq!(requests, got.len(), "max {max}");
        assert_eq!(requests, all.len().div_ceil(max), "max {max}");
        let mut joined = Vec::new();
        for r in &got {
            assert!(spans(r).len() <= max && !spans(r).is_empty(), "max {max}");
            assert_eq!(
                r.resource_spans[0].resource,
                whole.resource_spans[0].resource
            );
            joined.extend(spans(r).iter().cloned());
        }
        assert_eq!(joined, all, "max {max}");
    }
    // The first refusal stops the push.
    let mut sent = 0;
    let r = trace.for_each_batch(1, |_| {
        sent += 1;
        if sent == 2 {
            Err(std::io::Error::other("refused"))
        } else {
            Ok(())
        }
    });
    assert_eq!(r.map_err(|e| e.to_string()), Err("refused".to_string()));
    assert_eq!(sent, 2);
}
