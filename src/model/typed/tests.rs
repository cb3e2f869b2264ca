use super::*;

#[test]
fn every_known_type_has_a_variant() {
    // A minimal valid body for each type; none may land in Unknown or Invalid.
    let bodies: &[(&str, &str)] = &[
        ("user.message", r#""content":[{"type":"text","text":"hi"}]"#),
        ("user.interrupt", ""),
        (
            "user.tool_confirmation",
            r#""tool_use_id":"sevt_1","result":"allow""#,
        ),
        (
            "user.custom_tool_result",
            r#""custom_tool_use_id":"sevt_1""#,
        ),
        ("user.tool_result", r#""tool_use_id":"sevt_1""#),
        (
            "user.define_outcome",
            r#""outcome_id":"outc_1","description":"d","rubric":{"type":"text","content":"x"}"#,
        ),
        ("system.message", r#""content":[]"#),
        ("agent.message", r#""content":[]"#),
        ("agent.thinking", ""),
        ("agent.tool_use", r#""name":"bash","input":{}"#),
        ("agent.tool_result", r#""tool_use_id":"sevt_1""#),
        (
            "agent.mcp_tool_use",
            r#""mcp_server_name":"g","name":"n","input":{}"#,
        ),
        ("agent.mcp_tool_result", r#""mcp_tool_use_id":"sevt_1""#),
        ("agent.custom_tool_use", r#""name":"n","input":{}"#),
        (
            "agent.thread_message_sent",
            r#""to_session_thread_id":"sthr_1","content":[]"#,
        ),
        (
            "agent.thread_message_received",
            r#""from_session_thread_id":"sthr_1","content":[]"#,
        ),
        ("agent.thread_context_compacted", ""),
        ("session.status_running", ""),
        (
            "session.status_idle",
            r#""stop_reason":{"type":"end_turn"}"#,
        ),
        ("session.status_rescheduled", ""),
        ("session.status_terminated", ""),
        (
            "session.error",
            r#""error":{"type":"unknown_error","message":"m","retry_status":{"type":"terminal"}}"#,
        ),
        ("session.deleted", ""),
        ("session.updated", r#""title":"t""#),
        ("session.usage", r#""usage":{}"#),
        (
            "session.thread_created",
            r#""session_thread_id":"sthr_1","agent_name":"a""#,
        ),
        (
            "session.thread_status_running",
            r#""session_thread_id":"sthr_1","agent_name":"a""#,
        ),
        (
            "session.thread_status_idle",
            r#""session_thread_id":"sthr_1","agent_name":"a","stop_reason":{"type":"end_turn"}"#,
        ),
        (
            "session.thread_status_rescheduled",
            r#""session_thread_id":"sthr_1","agent_name":"a""#,
        ),
        (
            "session.thread_status_terminated",
            r#""session_thread_id":"sthr_1","agent_name":"a""#,
        ),
        ("span.model_request_start", ""),
        (
            "span.model_request_end",
            r#""model_request_start_id":"sevt_1","model_usage":{"input_tokens":1,"output_tokens":2,"cache_creation_input_tokens":0,"cache_read_input_tokens":0}"#,
        ),
        (
            "span.outcome_evaluation_start",
            r#""outcome_id":"outc_1","iteration":0"#,
        ),
        (
            "span.outcome_evaluation_ongoing",
            r#""outcome_id":"outc_1","iteration":0"#,
        ),
        (
            "span.outcome_evaluation_end",
            r#""outcome_evaluation_start_id":"sevt_1","outcome_id":"outc_1","iteration":0,"result":"satisfied","explanation":"ok","usage":{}"#,
        ),
        (
            "workflow_run.created",
            r#""workflow_run_id":"wrun_1","name":"n","phases":[]"#,
        ),
        (
            "workflow_run.status_running",
            r#""workflow_run_id":"wrun_1""#,
        ),
        ("workflow_run.status_idle", r#""workflow_run_id":"wrun_1""#),
        (
            "workflow_run.status_ended",
            r#""workflow_run_id":"wrun_1","result":{"type":"completed"}"#,
        ),
        (
            "workflow_run.error",
            r#""workflow_run_id":null,"error":{"type":"max_workflow_runs_error","message":"m"}"#,
        ),
        (
            "workflow_run.phase_started",
            r#""workflow_run_id":"wrun_1","workflow_run_phase_id":"wrph_1""#,
        ),
        (
            "workflow_run.phase_ended",
            r#""workflow_run_id":"wrun_1","workflow_run_phase_id":"wrph_1","phase_started_id":"sevt_1""#,
        ),
        (
            "event_start",
            r#""event":{"type":"agent.message","id":"sevt_1"}"#,
        ),
        (
            "event_delta",
            r#""event_id":"sevt_1","delta":{"type":"content_delta","content":{"type":"text","text":"x"}}"#,
        ),
    ];
    assert_eq!(bodies.len(), KNOWN_TYPES.len());
    for (t, body) in bodies {
        let sep = if body.is_empty() { "" } else { "," };
        let raw = format!(
            r#"{{"type":"{t}","id":"sevt_9","processed_at":"2026-08-07T14:02:11.482Z"{sep}{body}}}"#
        );
        let e = Event::parse(&raw);
        assert!(
            !matches!(e.kind, EventKind::Unknown | EventKind::Invalid { .. }),
            "{t}: {:?}",
            e.kind
        );
        assert_eq!(e.type_name, *t);
        assert_eq!(e.id, "sevt_9");
        assert!(
            e.unknown_fields().is_empty(),
            "{t}: {:?}",
            e.unknown_fields()
        );
    }
}

#[test]
fn unknown_types_and_fields_are_kept() {
    let e = Event::parse(r#"{"type":"agent.plan_updated","id":"sevt_1","steps":[1]}"#);
    assert_eq!(e.kind, EventKind::Unknown);
    assert_eq!(e.type_name, "agent.plan_updated");

    let e =
        Event::parse(r#"{"type":"agent.message","id":"sevt_2","content":[],"citations_v2":[1]}"#);
    assert_eq!(e.unknown_fields(), vec!["citations_v2"]);
}

#[test]
fn open_sets_keep_unknown_discriminators() {
    let e = Event::parse(
        r#"{"type":"session.status_idle","id":"sevt_1","stop_reason":{"type":"paused_for_review","note":"x"}}"#,
    );
    let sr = e.kind.stop_reason().unwrap();
    assert_eq!(sr.kind, StopReasonType::Other("paused_for_review".into()));
    assert!(sr.extra.contains_key("note"));

    let e = Event::parse(
        r#"{"type":"session.error","id":"sevt_1","error":{"type":"brand_new_error","message":"m","retry_status":{"type":"exhausted"}}}"#,
    );
    let EventKind::SessionError { error, .. } = e.kind else {
        panic!("{:?}", e.kind)
    };
    assert_eq!(error.kind.as_str(), "brand_new_error");
    assert!(!error.kind.is_known());
    assert_eq!(error.retry_status.unwrap().kind, RetryStatusType::Exhausted);
}

#[test]
fn requires_action_lists_blocking_ids() {
    let e = Event::parse(
        r#"{"type":"session.status_idle","id":"sevt_1","stop_reason":{"type":"requires_action","event_ids":["sevt_a","sevt_b"]},"stop_details":null}"#,
    );
    let sr = e.kind.stop_reason().unwrap();
    assert_eq!(sr.kind, StopReasonType::RequiresAction);
    assert_eq!(sr.event_ids, vec!["sevt_a", "sevt_b"]);
    assert_eq!(sr.blocking_ids(), vec!["sevt_a", "sevt_b"]);
    let older = Event::parse(
        r#"{"type":"session.status_idle","id":"sevt_1","stop_reason":{"type":"requires_action","requires_action":{"event_ids":["sevt_c"]}}}"#,
    );
    let sr = older.kind.stop_reason().unwrap();
    assert_eq!(sr.blocking_ids(), vec!["sevt_c"], "the older, nested shape");
}

#[test]
fn budget_absent_and_null_differ() {
    let absent = Event::parse(r#"{"type":"session.updated","id":"sevt_1","title":"t"}"#);
    let null = Event::parse(r#"{"type":"session.updated","id":"sevt_1","budget":null}"#);
    let EventKind::SessionUpdated { budget: a, .. } = absent.kind else {
        panic!()
    };
    let EventKind::SessionUpdated { budget: n, .. } = null.kind else {
        panic!()
    };
    assert_eq!(a, Presence::Absent);
    assert_eq!(n, Presence::Null);
}

#[test]
fn wrong_shapes_are_invalid_not_dropped() {
    let e = Event::parse(r#"{"type":"agent.tool_result","id":"sevt_1"}"#);
    assert!(matches!(e.kind, EventKind::Invalid { ref reason } if reason.contains("tool_use_id")));
    assert_eq!(e.type_name, "agent.tool_result");
}

#[test]
fn money_displays_in_dollars() {
    let m = Money {
        amount: "1873".into(),
        currency: "USD".into(),
    };
    assert_eq!(m.display(), "$18.73");
}
