use super::*;
use crate::analysis::capture::capture_report;
use crate::analysis::state::StateBuilder;
use crate::analysis::testing::rows;
use crate::store::CaptureEntry;
use std::collections::BTreeMap;

const MIN: i64 = 60_000_000;

fn ts(s: &str) -> i64 {
    parse_timestamp_micros(s).unwrap()
}

fn state(jsonl: &str) -> State {
    let events = rows(jsonl);
    let mut b = StateBuilder::new("sesn_1");
    for r in &events {
        b.push(&r.as_ref());
    }
    b.finish(events.last().and_then(|r| r.ts))
}

/// Explained at `now`, 10 minutes to stall, imported (no capture vouching).
fn explain_at(jsonl: &str, now: &str) -> Explanation {
    let s = state(jsonl);
    explain(
        &s,
        &ExplainInput {
            session_id: "sesn_1",
            at: None,
            capture: None,
            now: ts(now),
            stuck_after: 10 * MIN,
        },
    )
}

const START: &str = r#"{"type":"user.message","id":"u1","processed_at":"2026-01-01T00:00:00.000Z","content":[{"type":"text","text":"Summarise the incidents."}]}
{"type":"session.status_running","id":"r1","processed_at":"2026-01-01T00:00:00.100Z"}"#;

fn with(extra: &str) -> String {
    format!("{START}\n{extra}")
}

#[test]
fn end_turn_quotes_the_last_message_and_names_the_interrupt() {
    let x = explain_at(
        &with(
            r#"{"type":"agent.message","id":"a1","processed_at":"2026-01-01T00:00:01.000Z","content":[{"type":"text","text":"Two incidents are open."}]}
{"type":"session.status_idle","id":"i1","processed_at":"2026-01-01T00:00:02.000Z","stop_reason":{"type":"end_turn"}}"#,
        ),
        "2026-01-02T00:00:00Z",
    );
    assert_eq!(x.verdict, Verdict::EndTurn);
    assert!(!x.attention);
    assert!(
        x.summary.contains("Two incidents are open."),
        "{}",
        x.summary
    );
    assert_eq!(x.turn.as_ref().and_then(|t| t.interrupted_by.clone()), None);
    let x = explain_at(
        &with(
            r#"{"type":"user.interrupt","id":"x1","processed_at":"2026-01-01T00:00:01.500Z"}
{"type":"session.status_idle","id":"i1","processed_at":"2026-01-01T00:00:02.000Z","stop_reason":{"type":"end_turn"}}"#,
        ),
        "2026-01-02T00:00:00Z",
    );
    assert_eq!(x.turn.and_then(|t| t.interrupted_by).as_deref(), Some("x1"));
    assert!(x.summary.contains("interrupted"), "{}", x.summary);
}

#[test]
fn requires_action_names_the_event_and_the_request_that_answers_it() {
    let x = explain_at(
        &with(
            r#"{"type":"agent.custom_tool_use","id":"c1","name":"get_weather","input":{"city":"Voss"},"processed_at":"2026-01-01T00:00:01.000Z"}
{"type":"session.status_idle","id":"i1","processed_at":"2026-01-01T00:00:02.000Z","stop_reason":{"type":"requires_action","event_ids":["c1"]}}"#,
        ),
        "2026-01-02T00:00:00Z",
    );
    assert_eq!(x.verdict, Verdict::RequiresAction);
    assert!(x.attention);
    assert!(
        x.summary.contains("custom tool get_weather c1"),
        "{}",
        x.summary
    );
    assert!(
        x.blocking[0].unblock[0]
            .curl
            .contains("/v1/sessions/sesn_1/events")
    );
    assert!(x.evidence.iter().any(|e| e.event_id == "c1"));
}

#[test]
fn answered_but_not_yet_running_is_resuming_then_stalled() {
    let text = with(
        r#"{"type":"agent.custom_tool_use","id":"c1","name":"get_weather","input":{},"processed_at":"2026-01-01T00:00:01.000Z"}
{"type":"session.status_idle","id":"i1","processed_at":"2026-01-01T00:00:02.000Z","stop_reason":{"type":"requires_action","event_ids":["c1"]}}
{"type":"user.custom_tool_result","id":"k1","custom_tool_use_id":"c1","processed_at":"2026-01-01T00:00:03.000Z"}"#,
    );
    let x = explain_at(&text, "2026-01-01T00:00:04Z");
    assert_eq!(x.verdict, Verdict::Resuming);
    assert!(!x.attention);
    let x = explain_at(&text, "2026-01-01T01:00:00Z");
    assert_eq!(x.verdict, Verdict::Stalled);
    assert!(x.attention);
}

#[test]
fn retries_exhausted_shows_the_error_chain_and_advice_per_type() {
    let x = explain_at(
        &with(
            r#"{"type":"session.error","id":"e1","processed_at":"2026-01-01T00:00:01.000Z","error":{"type":"model_overloaded_error","message":"Overloaded.","retry_status":{"type":"retrying"}}}
{"type":"session.status_rescheduled","id":"s1","processed_at":"2026-01-01T00:00:01.100Z"}
{"type":"session.status_running","id":"r2","processed_at":"2026-01-01T00:00:05.000Z"}
{"type":"session.error","id":"e2","processed_at":"2026-01-01T00:00:09.000Z","error":{"type":"model_overloaded_error","message":"Overloaded.","retry_status":{"type":"exhausted"}}}
{"type":"session.status_idle","id":"i1","processed_at":"2026-01-01T00:00:09.100Z","stop_reason":{"type":"retries_exhausted"}}"#,
        ),
        "2026-01-02T00:00:00Z",
    );
    assert_eq!(x.verdict, Verdict::RetriesExhausted);
    assert!(
        x.summary
            .contains("model_overloaded_error ×2; retrying → exhausted"),
        "{}",
        x.summary
    );
    assert_eq!(x.errors.len(), 2);
    assert!(x.errors[0].advice.contains("overloaded"));
    assert_eq!(
        x.advice.iter().filter(|a| a.contains("overloaded")).count(),
        1,
        "advice once per type"
    );
    assert_eq!(x.turn.as_ref().map(|t| t.reschedules), Some(1));
}

#[test]
fn refusal_gives_the_category_and_the_request() {
    let x = explain_at(
        &with(
            r#"{"type":"session.status_idle","id":"i1","processed_at":"2026-01-01T00:00:02.000Z","stop_reason":{"type":"refusal"},"stop_details":{"type":"refusal","category":"cyber","explanation":"No."}}"#,
        ),
        "2026-01-02T00:00:00Z",
    );
    assert_eq!(x.verdict, Verdict::Refusal);
    let r = x.refusal.unwrap();
    assert_eq!(
        (r.category.as_deref(), r.explanation.as_deref()),
        (Some("cyber"), Some("No."))
    );
    assert_eq!(r.request.map(|m| m.mark.event_id).as_deref(), Some("u1"));
}

#[test]
fn budget_reached_gives_the_spend_and_the_updates_that_resume_it() {
    let x = explain_at(
        &with(
            r#"{"type":"span.model_request_end","id":"m2","model_request_start_id":"m1","model_usage":{"input_tokens":100,"output_tokens":20,"cache_creation_input_tokens":0,"cache_read_input_tokens":0},"processed_at":"2026-01-01T00:00:01.000Z"}
{"type":"session.usage","id":"g1","processed_at":"2026-01-01T00:00:01.500Z","usage":{"input_tokens":100,"list_cost":{"amount":"27","currency":"USD"}},"budget":{"type":"limit","max_list_cost":{"amount":"25","currency":"USD"}}}
{"type":"session.status_idle","id":"i1","processed_at":"2026-01-01T00:00:02.000Z","stop_reason":{"type":"budget_reached"}}"#,
        ),
        "2026-01-02T00:00:00Z",
    );
    assert_eq!(x.verdict, Verdict::BudgetReached);
    let u = x.usage.unwrap();
    assert_eq!(
        (u.spent.as_deref(), u.budget_display.as_deref()),
        (Some("$0.27"), Some("$0.25"))
    );
    assert_eq!(u.model_requests.input_tokens, 100);
    let actions: Vec<&str> = x.requests.iter().map(|r| r.action.as_str()).collect();
    assert_eq!(actions, ["raise_budget", "remove_budget"]);
    assert!(
        x.requests[0].curl.contains(r#""amount":"54""#),
        "{}",
        x.requests[0].curl
    );
}

#[test]
fn running_turns_stalled_after_the_threshold() {
    let text = with(
        r#"{"type":"span.model_request_start","id":"m1","processed_at":"2026-01-01T00:00:01.000Z"}"#,
    );
    let x = explain_at(&text, "2026-01-01T00:05:00Z");
    assert_eq!(x.verdict, Verdict::Running);
    assert!(!x.attention);
    assert_eq!(x.open_spans.len(), 1);
    let x = explain_at(&text, "2026-01-01T00:20:00Z");
    assert_eq!(x.verdict, Verdict::Stalled);
    assert!(x.attention);
    assert_eq!(x.silent_ms, Some(20 * 60_000 - 1000));
    assert_eq!(x.requests[0].action, "interrupt");
}

#[test]
fn a_point_is_its_own_now() {
    let s = state(&with(
        r#"{"type":"span.model_request_start","id":"m1","processed_at":"2026-01-01T00:00:01.000Z"}"#,
    ));
    let x = explain(
        &s,
        &ExplainInput {
            session_id: "sesn_1",
            at: Some(At {
                event_id: Some("m1".into()),
                time: Some("2026-01-01T00:00:01.000Z".into()),
                ts: Some(ts("2026-01-01T00:00:01Z")),
            }),
            capture: None,
            now: ts("2027-01-01T00:00:00Z"),
            stuck_after: MIN,
        },
    );
    assert_eq!(
        x.verdict,
        Verdict::Running,
        "a year later is not the point's now"
    );
    assert_eq!(x.now, "2026-01-01T00:00:01.000Z");
}

#[test]
fn terminated_deleted_rescheduling_loops_and_unknowns() {
    let x = explain_at(
        &with(
            r#"{"type":"agent.tool_use","id":"t1","name":"bash","input":{"command":"make"},"evaluated_permission":"allow","processed_at":"2026-01-01T00:00:01.000Z"}
{"type":"session.error","id":"e1","processed_at":"2026-01-01T00:00:02.000Z","error":{"type":"unknown_error","message":"The environment died.","retry_status":{"type":"terminal"}}}
{"type":"session.status_terminated","id":"z1","processed_at":"2026-01-01T00:00:03.000Z"}"#,
        ),
        "2026-01-02T00:00:00Z",
    );
    assert_eq!(x.verdict, Verdict::Terminated);
    assert!(x.attention, "terminated after an error");
    assert!(
        x.summary
            .contains("unknown_error (terminal: “The environment died.”)")
            && x.summary.contains("t1"),
        "{}",
        x.summary
    );
    let x = explain_at(
        &with(r#"{"type":"session.deleted","id":"d1","processed_at":"2026-01-01T00:00:03.000Z"}"#),
        "2026-01-02T00:00:00Z",
    );
    assert_eq!((x.verdict, x.attention), (Verdict::Deleted, false));
    let loops = with(
        r#"{"type":"session.status_rescheduled","id":"s1","processed_at":"2026-01-01T00:00:01.000Z"}
{"type":"session.status_running","id":"r2","processed_at":"2026-01-01T00:00:02.000Z"}
{"type":"session.status_rescheduled","id":"s2","processed_at":"2026-01-01T00:00:03.000Z"}
{"type":"session.status_running","id":"r3","processed_at":"2026-01-01T00:00:04.000Z"}
{"type":"session.status_rescheduled","id":"s3","processed_at":"2026-01-01T00:00:05.000Z"}"#,
    );
    let x = explain_at(&loops, "2026-01-01T00:00:06Z");
    assert_eq!(x.verdict, Verdict::Rescheduling);
    assert!(
        x.attention && x.summary.contains("Rescheduled 3 times"),
        "{}",
        x.summary
    );
    let x = explain_at(
        r#"{"type":"user.message","id":"u1","processed_at":"2026-01-01T00:00:00.000Z","content":[]}"#,
        "2026-01-02T00:00:00Z",
    );
    assert_eq!((x.verdict, x.state.as_str()), (Verdict::Unknown, "unknown"));
    let x = explain_at(
        &with(
            r#"{"type":"session.status_idle","id":"i1","processed_at":"2026-01-01T00:00:02.000Z","stop_reason":{"type":"paused_for_review"}}"#,
        ),
        "2026-01-02T00:00:00Z",
    );
    assert_eq!(x.verdict, Verdict::UnknownStopReason);
    assert_eq!(x.stop_reason.as_deref(), Some("paused_for_review"));
}

fn entry(kind: &str, start: &str, end: Option<&str>, detail: &str) -> CaptureEntry {
    CaptureEntry {
        id: 0,
        session_id: Some("sesn_1".into()),
        thread_id: String::new(),
        kind: kind.into(),
        started_at: start.into(),
        ended_at: end.map(str::to_string),
        detail: Some(detail.into()),
    }
}

#[test]
fn capture_gaps_weaken_the_verdict_and_imports_are_not_vouched_for() {
    let s = state(&with(
        r#"{"type":"session.status_idle","id":"i1","processed_at":"2026-01-01T00:00:02.000Z","stop_reason":{"type":"end_turn"}}"#,
    ));
    let explain_with = |c: &CaptureReport, at: Option<At>| {
        explain(
            &s,
            &ExplainInput {
                session_id: "sesn_1",
                at,
                capture: Some(c),
                now: ts("2026-01-02T00:00:00Z"),
                stuck_after: MIN,
            },
        )
    };
    // A connection dropped at 00:00:01 and the next one's history pass failed: 1 s unproven.
    let log = vec![
        entry(
            "connect",
            "2026-01-01T00:00:00.000Z",
            None,
            r#"{"run":"r","connection":1}"#,
        ),
        entry(
            "history",
            "2026-01-01T00:00:00.000Z",
            Some("2026-01-01T00:00:00.100Z"),
            r#"{"complete":true}"#,
        ),
        entry(
            "connection",
            "2026-01-01T00:00:00.000Z",
            Some("2026-01-01T00:00:01.000Z"),
            r#"{"run":"r","connection":1,"cause":"closed"}"#,
        ),
        entry(
            "connect",
            "2026-01-01T00:00:02.000Z",
            None,
            r#"{"run":"r","connection":2}"#,
        ),
        entry(
            "connection",
            "2026-01-01T00:00:02.000Z",
            Some("2026-01-01T00:00:03.000Z"),
            r#"{"run":"r","connection":2,"cause":"history pass failed: 500"}"#,
        ),
    ];
    let report = capture_report(&log, BTreeMap::new());
    let x = explain_with(&report, None);
    assert_eq!(x.capture_gaps.as_ref().map(Vec::len), Some(1));
    assert!(
        x.capture_note.contains("1 unproven interval"),
        "{}",
        x.capture_note
    );
    assert!(x.summary.contains("events may be missing"), "{}", x.summary);
    // At a point before the gap, the gap does not weaken the verdict.
    let early = At {
        event_id: None,
        time: None,
        ts: Some(ts("2026-01-01T00:00:00.500Z")),
    };
    assert_eq!(
        explain_with(&report, Some(early)).capture_gaps,
        Some(vec![])
    );
    let imported = capture_report(
        &[entry("import", "2026-01-01T00:00:00Z", None, "{}")],
        BTreeMap::new(),
    );
    let x = explain_with(&imported, None);
    assert_eq!(x.capture_gaps, None);
    assert!(x.capture_note.contains("cannot vouch") && !x.summary.contains("missing"));
}

#[test]
fn a_wait_is_told_against_the_recording_end_and_now_while_still_recorded() {
    let s = state(&with(
        r#"{"type":"agent.custom_tool_use","id":"c1","name":"get_weather","input":{},"processed_at":"2026-01-01T00:00:01.000Z"}
{"type":"session.status_idle","id":"i1","processed_at":"2026-01-01T00:00:02.000Z","stop_reason":{"type":"requires_action","event_ids":["c1"]}}"#,
    ));
    let explain_with = |c: Option<&CaptureReport>| {
        explain(
            &s,
            &ExplainInput {
                session_id: "sesn_1",
                at: None,
                capture: c,
                now: ts("2026-01-01T00:05:01Z"),
                stuck_after: 10 * MIN,
            },
        )
    };
    // A recorder still connected: the wait goes on until now.
    let open = vec![entry(
        "connect",
        "2026-01-01T00:00:00.000Z",
        None,
        r#"{"run":"r","connection":1}"#,
    )];
    let live = capture_report(&open, BTreeMap::new());
    let x = explain_with(Some(&live));
    assert!(x.recording_live);
    assert_eq!(
        x.recording_ended_at.as_deref(),
        Some("2026-01-01T00:00:02.000Z")
    );
    assert_eq!(x.blocking[0].waited_ms, Some(1000));
    assert_eq!(x.blocking[0].waited_until_now_ms, Some(300_000));
    assert!(
        x.summary
            .contains("1.0s when the recording ended (2026-01-01T00:00:02.000Z), and 5m")
            && x.summary.contains("until now"),
        "{}",
        x.summary
    );
    // An import: no clock but the recording's.
    let x = explain_with(None);
    assert!(!x.recording_live);
    assert_eq!(x.blocking[0].waited_until_now_ms, None);
    assert!(!x.summary.contains("until now"), "{}", x.summary);
}
