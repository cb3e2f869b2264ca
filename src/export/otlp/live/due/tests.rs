use super::*;
use crate::analysis::testing::rows;
use crate::store::{SessionObject, SessionSummary};

const EVENTS: &str = r#"{"type":"user.message","id":"sevt_u1","processed_at":"2026-08-07T09:00:00.000Z","content":[{"type":"text","text":"go"}]}
{"type":"session.status_running","id":"sevt_r1","processed_at":"2026-08-07T09:00:00.100Z"}
{"type":"span.model_request_start","id":"sevt_m1","processed_at":"2026-08-07T09:00:00.200Z"}
{"type":"agent.tool_use","id":"sevt_t1","name":"bash","input":{"command":"pytest"},"processed_at":"2026-08-07T09:00:01.000Z"}
{"type":"span.model_request_end","id":"sevt_m1e","model_request_start_id":"sevt_m1","is_error":false,"model_usage":{"input_tokens":100,"output_tokens":20},"processed_at":"2026-08-07T09:00:01.500Z"}
{"type":"agent.tool_result","id":"sevt_t1r","tool_use_id":"sevt_t1","is_error":false,"content":[],"processed_at":"2026-08-07T09:00:03.000Z"}
{"type":"agent.custom_tool_use","id":"sevt_ct","name":"get_weather","input":{},"processed_at":"2026-08-07T09:00:05.000Z"}
{"type":"session.status_idle","id":"sevt_i1","stop_reason":{"type":"requires_action","event_ids":["sevt_ct"]},"processed_at":"2026-08-07T09:00:06.000Z"}
{"type":"session.status_terminated","id":"sevt_x1","processed_at":"2026-08-07T09:00:07.000Z"}"#;

/// The session after its first `n` events, with `status`.
fn doc(n: usize, status: &str) -> SessionDoc {
    let events: Vec<_> = rows(EVENTS).into_iter().take(n).collect();
    SessionDoc {
        summary: SessionSummary {
            id: "sesn_live".into(),
            title: None,
            event_count: events.len() as u64,
            first_ts: events.first().and_then(|e| e.ts),
            last_ts: events.last().and_then(|e| e.ts),
            status: Some(status.into()),
            stop_reason: None,
        },
        object: Some(SessionObject {
            raw: r#"{"id":"sesn_live","agent":{"id":"agent_1","name":"Triager","model":"claude-sonnet-4-6"}}"#.into(),
            fetched_at: None,
        }),
        events,
        revisions: vec![],
        previews: vec![],
        capture: vec![],
    }
}

fn names(spans: &[OtelSpan]) -> Vec<&str> {
    spans.iter().map(|s| s.name.as_str()).collect()
}

/// What a collector acknowledging `spans` leaves noted.
fn ack(pushed: &mut HashMap<String, String>, spans: &[OtelSpan]) {
    for s in spans {
        pushed.insert(hex(&s.span_id), digest(s));
    }
}

#[test]
fn closed_spans_go_once_the_root_at_idle_and_open_ones_at_the_end() {
    let mut pushed = HashMap::new();
    // Running, the model request closed, the tool call open: only the model request.
    let Due {
        resource,
        spans: due,
        ..
    } = due_spans(&doc(5, "running"), &pushed, true);
    assert_eq!(names(&due), ["chat claude-sonnet-4-6"]);
    assert_eq!(session_of(&resource), "sesn_live");
    ack(&mut pushed, &due);
    assert!(
        due_spans(&doc(5, "running"), &pushed, true)
            .spans
            .is_empty()
    );

    // Idle waiting on the custom tool: the tool call closed since, and the root; the custom
    // tool call is open and waits.
    // Not quiet yet: the root waits, the rest goes.
    let held = due_spans(&doc(8, "idle"), &pushed, false);
    assert_eq!(names(&held.spans), ["execute_tool bash"]);
    assert!(held.root_held);
    let due = due_spans(&doc(8, "idle"), &pushed, true).spans;
    assert_eq!(names(&due), ["invoke_agent Triager", "execute_tool bash"]);
    ack(&mut pushed, &due);
    assert!(due_spans(&doc(8, "idle"), &pushed, true).spans.is_empty());

    // Terminated: the root again (it ends later now, under the same id) and the open call.
    let due = due_spans(&doc(9, "terminated"), &pushed, true).spans;
    assert_eq!(
        names(&due),
        ["invoke_agent Triager", "execute_tool get_weather"]
    );
    assert!(
        pushed.contains_key(&hex(&due[0].span_id)),
        "the root's id is kept"
    );
    assert_eq!(open_attr(&due[1]), Some(true));
}

#[test]
fn due_spans_are_the_exports_spans() {
    let d = doc(9, "terminated");
    let due = due_spans(&d, &HashMap::new(), true).spans;
    let export = otlp_request(&d);
    assert_eq!(due, export.resource_spans[0].scope_spans[0].spans);
}

#[test]
fn batches_hold_at_most_max_spans_and_keep_each_sessions_resource() {
    let d1 = due_spans(&doc(9, "terminated"), &HashMap::new(), true);
    let (r1, s1) = (d1.resource, d1.spans);
    let mut other = doc(9, "terminated");
    other.summary.id = "sesn_other".into();
    let d2 = due_spans(&other, &HashMap::new(), true);
    let (r2, s2) = (d2.resource, d2.spans);
    let total = s1.len() + s2.len();
    let out = batches(vec![(r1, s1), (r2, s2)], 3);
    let sizes: Vec<usize> = out
        .iter()
        .map(|b| b.iter().map(|(_, s)| s.len()).sum())
        .collect();
    assert!(sizes.iter().all(|n| *n <= 3 && *n > 0), "{sizes:?}");
    assert_eq!(sizes.iter().sum::<usize>(), total);
    for (r, spans) in out.iter().flatten() {
        let session = session_of(r);
        let want = if session == "sesn_live" {
            crate::export::otlp::trace_id("sesn_live")
        } else {
            crate::export::otlp::trace_id("sesn_other")
        };
        assert!(spans.iter().all(|s| s.trace_id == want), "{session}");
    }
}

#[test]
fn an_idle_session_with_a_workflow_run_open_is_not_at_rest() {
    let run = r#"{"type":"user.message","id":"sevt_u1","processed_at":"2026-08-07T09:00:00.000Z","content":[]}
{"type":"session.status_running","id":"sevt_r1","processed_at":"2026-08-07T09:00:00.100Z"}
{"type":"workflow_run.created","id":"sevt_w1","workflow_run_id":"wrun_1","name":"review","processed_at":"2026-08-07T09:00:01.000Z"}
{"type":"session.status_idle","id":"sevt_i1","stop_reason":{"type":"end_turn"},"processed_at":"2026-08-07T09:00:02.000Z"}"#;
    let mut d = doc(0, "idle");
    d.events = rows(run);
    let due = due_spans(&d, &HashMap::new(), true);
    assert!(due.spans.is_empty(), "{:?}", names(&due.spans));
    assert!(!due.root_held);
}
