//! Each rule on hand-written events: when it fires, on which event, and when it does not (a
//! turn that ended well, a call that was answered, a figure under its threshold).

// Test code: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used)]

use super::*;
use crate::analysis::explain::unblock::J;
use crate::analysis::explain::{ExplainInput, explain};
use crate::analysis::findings::FindingsBuilder;
use crate::analysis::state::StateBuilder;
use crate::analysis::testing::rows;
use crate::model::time::parse_timestamp_micros;

fn ts(s: &str) -> i64 {
    parse_timestamp_micros(&format!("2026-01-01T{s}Z")).unwrap()
}

/// One event at `hms` (`00:05:00` or `00:05:00.5`) on 2026-01-01.
fn e(id: &str, hms: &str, body: &str) -> String {
    format!(r#"{{"id":"{id}","processed_at":"2026-01-01T{hms}Z",{body}}}"#)
}

const MSG: &str = r#""type":"user.message","content":[{"type":"text","text":"Go."}]"#;
const RUNNING: &str = r#""type":"session.status_running""#;
const END_TURN: &str = r#""type":"session.status_idle","stop_reason":{"type":"end_turn"}"#;
const SAID: &str = r#""type":"agent.message","content":[{"type":"text","text":"Done."}]"#;

/// The hits on `events` at `now` (`hh:mm:ss`) with `th`: every event folded, as a shell that
/// read the whole session would.
fn hits_with(events: &[String], now: &str, th: &Thresholds) -> Vec<Hit> {
    let rows = rows(&events.join("\n"));
    let mut state = StateBuilder::new("sesn_1");
    let mut findings = FindingsBuilder::new();
    for r in &rows {
        state.push(&r.as_ref());
        findings.push(&r.as_ref());
    }
    let state = state.finish(rows.last().and_then(|r| r.ts));
    let x = explain(
        &state,
        &ExplainInput {
            session_id: "sesn_1",
            at: None,
            capture: None,
            now: ts(now),
            stuck_after: th.silent_after_us,
        },
    );
    let facts = Facts {
        explanation: &x,
        state: &state,
        findings: &findings.finish(&[]),
    };
    evaluate(&facts, ts(now), th)
}

fn hits(events: &[String], now: &str) -> Vec<Hit> {
    hits_with(events, now, &Thresholds::default())
}

/// (rule, event id) of each hit.
fn fired(h: &[Hit]) -> Vec<(Rule, &str)> {
    h.iter()
        .map(|h| (h.rule, h.event_id.as_deref().unwrap_or("-")))
        .collect()
}

fn blocked() -> Vec<String> {
    vec![
        e("u1", "00:00:00", MSG),
        e("r1", "00:00:00.1", RUNNING),
        e(
            "t1",
            "00:00:01",
            r#""type":"agent.custom_tool_use","name":"lookup","input":{"q":"x"}"#,
        ),
        e(
            "i1",
            "00:00:02",
            r#""type":"session.status_idle","stop_reason":{"type":"requires_action","event_ids":["t1"]}"#,
        ),
    ]
}

#[test]
fn requires_action_fires_only_past_stuck_after_and_names_the_call() {
    assert_eq!(fired(&hits(&blocked(), "00:09:00")), []);
    let h = hits(&blocked(), "00:11:00");
    assert_eq!(fired(&h), [(Rule::RequiresAction, "t1")]);
    let body = &h[0].unblock.as_ref().expect("an unblock request").body;
    assert_eq!(body.get("type"), Some(&J::s("user.custom_tool_result")));
    assert_eq!(body.get("custom_tool_use_id"), Some(&J::s("t1")));
    let th = Thresholds {
        stuck_after_us: 20 * MINUTE_US,
        ..Thresholds::default()
    };
    assert_eq!(fired(&hits_with(&blocked(), "00:11:00", &th)), []);
}

#[test]
fn an_answered_call_stops_firing() {
    let mut ev = blocked();
    ev.push(e(
        "a1",
        "00:00:30",
        r#""type":"user.custom_tool_result","custom_tool_use_id":"t1","content":[{"type":"text","text":"4°C"}]"#,
    ));
    ev.push(e("r2", "00:00:31", RUNNING));
    ev.push(e("m1", "00:00:35", SAID));
    ev.push(e("i2", "00:00:36", END_TURN));
    assert_eq!(fired(&hits(&ev, "05:00:00")), []);
}

#[test]
fn end_turn_never_fires_and_silence_fires_past_its_threshold() {
    let done = vec![
        e("u1", "00:00:00", MSG),
        e("r1", "00:00:00.1", RUNNING),
        e("m1", "00:00:01", SAID),
        e("i1", "00:00:02", END_TURN),
    ];
    assert_eq!(fired(&hits(&done, "23:00:00")), []);
    let running = &blocked()[..3];
    assert_eq!(fired(&hits(running, "00:05:00")), []);
    assert_eq!(
        fired(&hits(running, "00:11:00")),
        [(Rule::RunningSilent, "t1")]
    );
}

#[test]
fn the_verdicts_that_end_a_turn_badly_fire_at_once() {
    for (stop, rule) in [
        ("retries_exhausted", Rule::RetriesExhausted),
        ("budget_reached", Rule::BudgetReached),
        ("refusal", Rule::Refusal),
    ] {
        let ev = vec![
            e("u1", "00:00:00", MSG),
            e("r1", "00:00:00.1", RUNNING),
            e(
                "i1",
                "00:00:02",
                &format!(r#""type":"session.status_idle","stop_reason":{{"type":"{stop}"}}"#),
            ),
        ];
        let h = hits(&ev, "00:00:03");
        assert!(fired(&h).contains(&(rule, "i1")), "{stop}: {h:?}");
    }
}

/// A turn rescheduled `n` times, a minute apart from 00:01, still running.
fn rescheduled(n: usize) -> Vec<String> {
    let mut ev = vec![e("u1", "00:00:00", MSG), e("r0", "00:00:01", RUNNING)];
    for i in 1..=n {
        ev.push(e(
            &format!("x{i}"),
            &format!("00:{i:02}:00"),
            r#""type":"session.error","error":{"type":"unknown_error","message":"sandbox lost","retry_status":{"type":"retrying"}}"#,
        ));
        ev.push(e(
            &format!("s{i}"),
            &format!("00:{i:02}:01"),
            r#""type":"session.status_rescheduled""#,
        ));
        ev.push(e(&format!("r{i}"), &format!("00:{i:02}:30"), RUNNING));
    }
    ev
}

#[test]
fn a_reschedule_loop_fires_at_k_within_the_window_on_the_newest() {
    assert_eq!(fired(&hits(&rescheduled(2), "00:03:00")), []);
    assert_eq!(
        fired(&hits(&rescheduled(3), "00:04:00")),
        [(Rule::RescheduleLoop, "s3")]
    );
    // Rescheduling right now counts as busy too.
    let mut ev = rescheduled(3);
    ev.pop();
    assert_eq!(
        fired(&hits(&ev, "00:03:10")),
        [(Rule::RescheduleLoop, "s3")]
    );
    // Spread wider than the window: under K within it.
    let th = Thresholds {
        reschedule_window_us: 90 * 1_000_000,
        ..Thresholds::default()
    };
    assert_eq!(fired(&hits_with(&rescheduled(3), "00:04:00", &th)), []);
    let th = Thresholds {
        reschedule_count: 4,
        ..Thresholds::default()
    };
    assert_eq!(fired(&hits_with(&rescheduled(3), "00:04:00", &th)), []);
    // A call made before the newest reschedule was cut off by it: not overdue.
    let mut ev = rescheduled(3);
    ev.insert(
        2,
        e(
            "t1",
            "00:00:10",
            r#""type":"agent.tool_use","name":"bash","input":{"command":"make"}"#,
        ),
    );
    assert_eq!(
        fired(&hits(&ev, "00:09:00")),
        [(Rule::RescheduleLoop, "s3")]
    );
    // A turn that ended after its reschedules is not a loop any more.
    let mut ev = rescheduled(3);
    ev.push(e("m1", "00:03:40", SAID));
    ev.push(e("i1", "00:03:41", END_TURN));
    assert_eq!(fired(&hits(&ev, "00:04:00")), []);
}

fn tool_open(kind: &str) -> Vec<String> {
    let body = match kind {
        "mcp" => {
            r#""type":"agent.mcp_tool_use","mcp_server_name":"github","name":"search_prs","input":{},"evaluated_permission":"allow""#
        }
        _ => {
            r#""type":"agent.tool_use","name":"bash","input":{"command":"make"},"evaluated_permission":"allow""#
        }
    };
    vec![
        e("u1", "00:00:00", MSG),
        e("r1", "00:00:00.1", RUNNING),
        e("t1", "00:00:10", body),
        // Keeps the session from being silent.
        e("m1", "00:59:00", SAID),
    ]
}

#[test]
fn an_open_tool_call_fires_past_its_p99_and_never_under_the_floor() {
    let th = |p99: Option<i64>| Thresholds {
        tool_p99_us: p99
            .map(|p| BTreeMap::from([("bash".to_string(), p)]))
            .unwrap_or_default(),
        silent_after_us: 2 * 3600 * 1_000_000,
        ..Thresholds::default()
    };
    // Unknown tool: the 5m floor.
    assert_eq!(
        fired(&hits_with(&tool_open("bash"), "00:05:00", &th(None))),
        []
    );
    let h = hits_with(&tool_open("bash"), "00:05:20", &th(None));
    assert_eq!(fired(&h), [(Rule::ToolOverdue, "t1")]);
    assert!(h[0].summary.contains("floor"), "{}", h[0].summary);
    // A p99 under the floor does not lower it.
    let quick = th(Some(30 * 1_000_000));
    assert_eq!(
        fired(&hits_with(&tool_open("bash"), "00:05:00", &quick)),
        []
    );
    // A slow tool has its own p99.
    let slow = th(Some(20 * MINUTE_US));
    assert_eq!(fired(&hits_with(&tool_open("bash"), "00:15:00", &slow)), []);
    let h = hits_with(&tool_open("bash"), "00:21:00", &slow);
    assert_eq!(fired(&h), [(Rule::ToolOverdue, "t1")]);
    assert!(
        h[0].summary.contains("p99 for it is 20m00s"),
        "{}",
        h[0].summary
    );
    // MCP tools are keyed server.tool.
    let mcp = Thresholds {
        tool_p99_us: BTreeMap::from([("github.search_prs".to_string(), 30 * MINUTE_US)]),
        ..th(None)
    };
    assert_eq!(fired(&hits_with(&tool_open("mcp"), "00:21:00", &mcp)), []);
    assert_eq!(
        fired(&hits_with(&tool_open("mcp"), "00:31:00", &mcp)),
        [(Rule::ToolOverdue, "t1")]
    );
}

#[test]
fn an_answered_tool_call_and_a_custom_tool_are_not_overdue() {
    let mut ev = tool_open("bash");
    ev.insert(
        3,
        e(
            "a1",
            "00:30:00",
            r#""type":"agent.tool_result","tool_use_id":"t1","content":[],"is_error":false"#,
        ),
    );
    let th = Thresholds {
        silent_after_us: 2 * 3600 * 1_000_000,
        ..Thresholds::default()
    };
    assert_eq!(fired(&hits_with(&ev, "01:00:00", &th)), []);
    // A custom tool waits on a client: requires_action's, not tool_overdue's.
    assert_eq!(
        fired(&hits_with(&blocked(), "01:00:00", &th)),
        [(Rule::RequiresAction, "t1")]
    );
}

fn empty_turn() -> Vec<String> {
    vec![
        e("u1", "00:00:00", MSG),
        e("r1", "00:00:00.1", RUNNING),
        e("q1", "00:00:01", r#""type":"span.model_request_start""#),
        e(
            "q2",
            "00:00:03",
            r#""type":"span.model_request_end","model_request_start_id":"q1","is_error":false,"model_usage":{"input_tokens":900,"output_tokens":0}"#,
        ),
        e("i1", "00:00:04", END_TURN),
    ]
}

#[test]
fn an_empty_turn_fires_on_its_idle_until_the_next_turn() {
    let h = hits(&empty_turn(), "00:00:05");
    assert_eq!(fired(&h), [(Rule::EmptyTurn, "i1")]);
    assert!(h[0].summary.contains("0 output tokens"), "{}", h[0].summary);
    // A turn that said something is not empty.
    let mut said = empty_turn();
    said.insert(4, e("m1", "00:00:03.5", SAID));
    assert_eq!(fired(&hits(&said, "00:00:05")), []);
    // The next turn clears it, and an empty turn before the last one is history.
    let mut next = empty_turn();
    next.push(e("u2", "00:01:00", MSG));
    next.push(e("r2", "00:01:00.1", RUNNING));
    assert_eq!(fired(&hits(&next, "00:01:01")), []);
    next.push(e("m2", "00:01:02", SAID));
    next.push(e("i2", "00:01:03", END_TURN));
    assert_eq!(fired(&hits(&next, "00:01:04")), []);
}

/// A child thread idles with `stop`, then the session ends its turn.
fn child(stop: &str) -> Vec<String> {
    vec![
        e("u1", "00:00:00", MSG),
        e("r1", "00:00:00.1", RUNNING),
        e(
            "c1",
            "00:00:01",
            r#""type":"session.thread_created","session_thread_id":"sthr_c","agent_name":"Deployer""#,
        ),
        e(
            "c2",
            "00:00:02",
            r#""type":"session.thread_status_running","session_thread_id":"sthr_c","agent_name":"Deployer""#,
        ),
        e(
            "c3",
            "00:00:05",
            &format!(
                r#""type":"session.thread_status_idle","session_thread_id":"sthr_c","agent_name":"Deployer","stop_reason":{stop}"#
            ),
        ),
        e("m1", "00:00:06", SAID),
        e("i1", "00:00:07", END_TURN),
    ]
}

const WAITING: &str = r#"{"type":"requires_action","event_ids":["sevt_9"]}"#;

#[test]
fn a_child_left_waiting_fires_past_stuck_after_and_a_failed_one_at_once() {
    assert_eq!(fired(&hits(&child(WAITING), "00:09:00")), []);
    let h = hits(&child(WAITING), "00:11:00");
    assert_eq!(fired(&h), [(Rule::ChildBlocked, "c3")]);
    assert!(h[0].summary.contains("Deployer"), "{}", h[0].summary);
    let failed = child(r#"{"type":"retries_exhausted"}"#);
    assert_eq!(
        fired(&hits(&failed, "00:00:08")),
        [(Rule::ChildBlocked, "c3")]
    );
    // A child that ended its own turn is not blocked.
    assert_eq!(
        fired(&hits(&child(r#"{"type":"end_turn"}"#), "01:00:00")),
        []
    );
}

#[test]
fn a_child_that_runs_again_or_a_session_waiting_on_it_is_not_child_blocked() {
    let mut ev = child(WAITING);
    ev.push(e(
        "c4",
        "00:00:09",
        r#""type":"session.thread_status_running","session_thread_id":"sthr_c","agent_name":"Deployer""#,
    ));
    assert_eq!(fired(&hits(&ev, "01:00:00")), []);
    // The session itself waits on the child's call: that is requires_action.
    let mut ev = child(WAITING);
    ev.pop();
    ev.pop();
    ev.push(e(
        "i1",
        "00:00:07",
        r#""type":"session.status_idle","stop_reason":{"type":"requires_action","event_ids":["sevt_9"]}"#,
    ));
    let h = hits(&ev, "01:00:00");
    assert_eq!(fired(&h), [(Rule::RequiresAction, "sevt_9")]);
}

#[test]
fn codes_round_trip() {
    for r in Rule::ALL {
        assert_eq!(Rule::parse(r.as_str()), Some(r));
    }
    assert_eq!(Rule::parse("nope"), None);
}
