//! The findings fold on hand-written events: what is decided when, at a point, and on both SDK
//! generations' shapes.

// Test code: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used)]

use super::*;
use crate::analysis::Point;
use crate::analysis::capture::Gap;
use crate::analysis::testing::{rows, rows_on};
use crate::store::EventRow;

fn fold(rows: &[EventRow], point: Option<Point>, gaps: &[Gap]) -> Findings {
    let mut b = FindingsBuilder::new();
    for r in rows {
        if point.is_none_or(|p| p.includes(r)) {
            b.push(&r.as_ref());
        }
    }
    b.finish(gaps)
}

fn codes(f: &Findings) -> Vec<(&'static str, &'static str, usize)> {
    f.findings
        .iter()
        .map(|f| (f.code.as_str(), f.severity.as_str(), f.turn))
        .collect()
}

const T0: &str = "2026-08-09T10:00:0";

fn ev(n: u32, body: &str) -> String {
    format!(
        r#"{{"id":"sevt_{n}","processed_at":"{T0}{n}.000Z",{body}}}"#,
        n = n
    )
}

#[test]
fn a_retrying_error_is_a_finding_only_once_its_turn_ends_without_recovering() {
    let r = rows(
        &[
            ev(0, r#""type":"session.status_running""#),
            ev(
                1,
                r#""type":"session.error","error":{"type":"model_overloaded_error","message":"busy","retry_status":{"type":"retrying"}}"#,
            ),
            ev(2, r#""type":"session.status_rescheduled""#),
            ev(3, r#""type":"session.status_terminated""#),
        ]
        .join("\n"),
    );
    // At the point of the error the turn is still going: it may recover.
    assert_eq!(codes(&fold(&r, Some(Point::at_event(&r[1])), &[])), []);
    assert_eq!(codes(&fold(&r, None, &[])), [("error", "error", 1)]);
}

#[test]
fn progress_after_a_retrying_error_recovers_it() {
    let r = rows(
        &[
            ev(0, r#""type":"session.status_running""#),
            ev(
                1,
                r#""type":"session.error","error":{"type":"unknown_error","message":"x","retry_status":{"type":"retrying"}}"#,
            ),
            ev(
                2,
                r#""type":"span.model_request_end","model_request_start_id":"sevt_x","is_error":false,"model_usage":{"input_tokens":1,"output_tokens":5,"cache_creation_input_tokens":0,"cache_read_input_tokens":0}"#,
            ),
            ev(3, r#""type":"agent.message","content":[{"type":"text","text":"done"}]"#),
            ev(
                4,
                r#""type":"session.status_idle","stop_reason":{"type":"end_turn"}"#,
            ),
        ]
        .join("\n"),
    );
    assert_eq!(codes(&fold(&r, None, &[])), []);
}

#[test]
fn two_successful_identical_calls_are_not_a_loop_but_three_are() {
    let call = |n| {
        ev(
            n,
            r#""type":"agent.tool_use","name":"bash","input":{"command":"pytest -q"}"#,
        )
    };
    let two = rows(&[call(1), call(2)].join("\n"));
    assert_eq!(codes(&fold(&two, None, &[])), []);
    let three = rows(&[call(1), call(2), call(3)].join("\n"));
    let f = fold(&three, None, &[]);
    assert_eq!(codes(&f), [("repeated_call", "warning", 1)]);
    assert_eq!(f.findings[0].event_id.as_deref(), Some("sevt_3"));
    assert!(f.findings[0].message.contains("bash called 3 times"));
    assert!(f.findings[0].message.contains("pytest -q"));
}

#[test]
fn keys_in_another_order_are_the_same_input_and_other_threads_are_other_calls() {
    let r = rows(
        &[
            ev(
                1,
                r#""type":"agent.custom_tool_use","name":"f","input":{"a":1,"b":2}"#,
            ),
            ev(
                2,
                r#""type":"agent.custom_tool_use","name":"f","input":{"b":2,"a":1}"#,
            ),
            ev(
                3,
                r#""type":"agent.custom_tool_use","name":"f","input":{"a":1,"b":2},"session_thread_id":"sthr_child""#,
            ),
            ev(
                4,
                r#""type":"agent.custom_tool_use","name":"f","input":{"a":1,"b":2}"#,
            ),
        ]
        .join("\n"),
    );
    let f = fold(&r, None, &[]);
    assert_eq!(codes(&f), [("repeated_call", "warning", 1)]);
    assert!(f.findings[0].message.contains("called 3 times"), "{f:?}");
}

#[test]
fn a_child_left_waiting_is_found_in_either_generation_shape() {
    for stop in [
        r#"{"type":"requires_action","event_ids":["sevt_9"]}"#,
        r#"{"type":"requires_action","requires_action":{"event_ids":["sevt_9"]}}"#,
    ] {
        let r = rows(
            &[
                ev(
                    1,
                    r#""type":"session.thread_created","session_thread_id":"sthr_c","agent_name":"Helper""#,
                ),
                ev(
                    2,
                    &format!(
                        r#""type":"session.thread_status_idle","session_thread_id":"sthr_c","agent_name":"Helper","stop_reason":{stop}"#
                    ),
                ),
                ev(3, r#""type":"agent.message","content":[{"type":"text","text":"ok"}]"#),
                ev(4, r#""type":"session.status_idle","stop_reason":"end_turn""#),
            ]
            .join("\n"),
        );
        let f = fold(&r, None, &[]);
        assert_eq!(codes(&f), [("thread_blocked", "warning", 1)], "{stop}");
        assert!(f.findings[0].message.contains("waiting on sevt_9"));
        assert_eq!(f.findings[0].event_id.as_deref(), Some("sevt_2"));
    }
}

#[test]
fn a_thread_copy_is_counted_once() {
    let idle = ev(
        2,
        r#""type":"session.thread_status_idle","session_thread_id":"sthr_c","stop_reason":{"type":"retries_exhausted"}"#,
    );
    let mut r = rows(
        &[
            ev(
                1,
                r#""type":"session.thread_created","session_thread_id":"sthr_c""#,
            ),
            idle.clone(),
            ev(
                3,
                r#""type":"session.status_idle","stop_reason":{"type":"end_turn"}"#,
            ),
        ]
        .join("\n"),
    );
    let mut copy = rows_on(&idle, "sthr_c");
    copy[0].seq = 99;
    r.insert(2, copy.remove(0));
    let f = fold(&r, None, &[]);
    // Failed, not waiting: an error. (The turn also produced nothing.)
    assert_eq!(
        codes(&f),
        [("thread_blocked", "error", 1), ("empty_turn", "warning", 1)]
    );
}

#[test]
fn a_queued_answer_and_a_capture_gap_are_found_at_the_end() {
    let r = rows(
        &[
            ev(1, r#""type":"session.status_running""#),
            ev(2, r#""type":"session.status_idle","stop_reason":{"type":"end_turn"}"#),
            ev(3, r#""type":"session.status_running""#),
            r#"{"type":"user.custom_tool_result","id":"sevt_q","custom_tool_use_id":"sevt_7","processed_at":null}"#.to_string(),
        ]
        .join("\n"),
    );
    let gap = Gap {
        from: "2026-08-09T10:00:02.500Z".into(),
        to: "2026-08-09T10:00:05.000Z".into(),
        seconds: 2.5,
    };
    let f = fold(&r, None, &[gap]);
    assert_eq!(
        codes(&f),
        [
            ("empty_turn", "warning", 1),
            ("capture_gap", "warning", 2),
            ("queued_answer", "warning", 2)
        ]
    );
    assert!(f.findings[2].message.contains("answering sevt_7"));
    assert_eq!(f.findings[1].offset_ms, Some(1500));
}

#[test]
fn an_outcome_left_at_needs_revision_when_its_turn_ended_is_unmet() {
    let r = rows(
        &[
            ev(
                1,
                r#""type":"user.define_outcome","outcome_id":"outc_1","description":"d","rubric":{"type":"text","content":"r"}"#,
            ),
            ev(2, r#""type":"session.status_running""#),
            ev(
                3,
                r#""type":"span.outcome_evaluation_end","outcome_id":"outc_1","iteration":0,"result":"needs_revision","explanation":"not yet""#,
            ),
            ev(4, r#""type":"agent.message","content":[{"type":"text","text":"stopping"}]"#),
            ev(5, r#""type":"user.interrupt""#),
            ev(6, r#""type":"session.status_idle","stop_reason":{"type":"end_turn"}"#),
        ]
        .join("\n"),
    );
    let mid = fold(&r, Some(Point::at_event(&r[2])), &[]);
    assert_eq!(codes(&mid), []);
    assert_eq!(mid.outcome.as_ref().unwrap().met, None);
    let f = fold(&r, None, &[]);
    assert_eq!(
        codes(&f),
        [("interrupted", "info", 1), ("outcome_unmet", "warning", 1)]
    );
    assert!(
        f.findings[1]
            .message
            .contains("last: needs_revision at iteration 0")
    );
    assert_eq!(f.outcome.unwrap().met, Some(false));
}
