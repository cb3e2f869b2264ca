//! Accounting spans as they settle gives the statistics, the listed requests and the rules' tool
//! calls that accounting every span at the end gives, and holds only the spans still open.

use super::*;
use crate::analysis::spans::SPAN_TYPES;
use crate::analysis::testing::rows;
use crate::store::EventRow;

/// Everything a fold gives: the accumulator as its cache holds it, its requests, the calls.
fn fold(
    agent: Option<&str>,
    events: &[EventRow],
    every: usize,
) -> (String, Option<Vec<RequestRow>>, Vec<(String, i64)>) {
    let mut b = StatsBuilder::new("sesn_t", agent)
        .keep_requests()
        .read_calls()
        .settling_every(every);
    for e in events {
        if SPAN_TYPES.contains(&e.event_type.as_str())
            || STATS_TYPES.contains(&e.event_type.as_str())
        {
            b.push(&e.as_ref());
        }
    }
    let end = events.iter().filter_map(|e| e.ts).max();
    let (mut acc, calls) = b.finish_with_calls(end);
    let requests = acc.take_requests();
    let cached = String::from_utf8(acc.to_cache().unwrap()).unwrap();
    (cached, requests, calls)
}

#[test]
fn settling_as_spans_close_sums_what_the_end_does_on_every_sample() {
    let (_dir, store) = crate::export::streaming_tests::every_sample();
    let mut with_spans = 0;
    for s in store.sessions().unwrap() {
        let events = store
            .events(&s.id, &crate::store::TimelineQuery::default())
            .unwrap();
        let agent = store.session_agent(&s.id).unwrap();
        let whole = fold(agent.as_deref(), &events, usize::MAX);
        for every in [1, 2, 3, 7] {
            let got = fold(agent.as_deref(), &events, every);
            assert_eq!(got, whole, "{} settling every {every}", s.id);
        }
        with_spans += usize::from(whole.1.as_ref().is_some_and(|r| !r.is_empty()));
    }
    assert!(with_spans >= 10, "{with_spans}");
}

/// A long session: a tool call left open at the start, a model request that ends halfway
/// (failed) and one that never does, then rounds of a permission-gated tool
/// call (failing every fifth), a model request (failing every fifth) on the primary thread and
/// one on a child thread whose agent the thread's creation names; a third of the way in the
/// thread runs again under another name, two thirds in it is created again.
fn long_session(rounds: usize) -> String {
    let mut lines = vec![
        r#"{"type":"session.status_running","id":"r0","processed_at":"2026-01-01T00:00:00Z"}"#
            .to_string(),
        r#"{"type":"agent.tool_use","id":"open","name":"bash","input":{},"processed_at":"2026-01-01T00:00:00.5Z"}"#
            .to_string(),
        r#"{"type":"session.thread_created","id":"t0","session_thread_id":"sthr_1","agent_name":"helper","processed_at":"2026-01-01T00:00:00.7Z"}"#
            .to_string(),
        r#"{"type":"span.model_request_start","id":"mlate","processed_at":"2026-01-01T00:00:00.8Z"}"#
            .to_string(),
        r#"{"type":"span.model_request_start","id":"mopen","processed_at":"2026-01-01T00:00:00.9Z"}"#
            .to_string(),
    ];
    for i in 0..rounds {
        let t = |ms: usize| {
            let ms = 1_000 + i * 100 + ms;
            format!(
                "2026-01-01T{:02}:{:02}:{:02}.{:03}Z",
                ms / 3_600_000,
                ms / 60_000 % 60,
                ms / 1000 % 60,
                ms % 1000
            )
        };
        let fail = i % 5 == 0;
        if i == rounds / 3 {
            // The child thread idles and runs again under another agent name.
            lines.extend([
                format!(r#"{{"type":"session.thread_status_idle","id":"ti{i}","session_thread_id":"sthr_1","stop_reason":{{"type":"end_turn"}},"processed_at":"{}"}}"#, t(1)),
                format!(r#"{{"type":"session.thread_status_running","id":"tr{i}","session_thread_id":"sthr_1","agent_name":"helper2","processed_at":"{}"}}"#, t(2)),
            ]);
        }
        if i == 2 * rounds / 3 {
            // Created again while open: the first span is left open, named by nothing.
            lines.push(format!(r#"{{"type":"session.thread_created","id":"tc{i}","session_thread_id":"sthr_1","agent_name":"other","processed_at":"{}"}}"#, t(3)));
        }
        if i == rounds / 2 {
            // The request opened first ends halfway, failed: the first request error.
            lines.push(format!(r#"{{"type":"span.model_request_end","id":"mlate_end","model_request_start_id":"mlate","is_error":true,"model_usage":{{"input_tokens":9,"output_tokens":1,"cache_creation_input_tokens":0,"cache_read_input_tokens":0}},"processed_at":"{}"}}"#, t(5)));
        }
        if i == 2 * rounds / 3 + 1 {
            // The newest span closes (and settles) while the one it left open is still held.
            lines.push(format!(r#"{{"type":"session.thread_status_idle","id":"tj{i}","session_thread_id":"sthr_1","stop_reason":{{"type":"end_turn"}},"processed_at":"{}"}}"#, t(1)));
        }
        lines.extend([
            format!(r#"{{"type":"agent.tool_use","id":"u{i}","name":"grep","input":{{"q":{i}}},"evaluated_permission":"ask","processed_at":"{}"}}"#, t(0)),
            format!(r#"{{"type":"user.tool_confirmation","id":"c{i}","tool_use_id":"u{i}","result":"allow","processed_at":"{}"}}"#, t(7 + i % 13)),
            format!(r#"{{"type":"agent.tool_result","id":"r{i}","tool_use_id":"u{i}","is_error":{fail},"processed_at":"{}"}}"#, t(30 + i % 17)),
            format!(r#"{{"type":"span.model_request_start","id":"m{i}","processed_at":"{}"}}"#, t(40)),
            format!(r#"{{"type":"span.model_request_end","id":"me{i}","model_request_start_id":"m{i}","is_error":{fail},"model_usage":{{"input_tokens":{},"output_tokens":7,"cache_creation_input_tokens":3,"cache_read_input_tokens":11}},"processed_at":"{}"}}"#, 100 + i, t(50 + i % 29)),
            format!(r#"{{"type":"span.model_request_start","id":"k{i}","session_thread_id":"sthr_1","processed_at":"{}"}}"#, t(60)),
            format!(r#"{{"type":"span.model_request_end","id":"ke{i}","session_thread_id":"sthr_1","model_request_start_id":"k{i}","model_usage":{{"input_tokens":5,"output_tokens":{},"cache_creation_input_tokens":0,"cache_read_input_tokens":0}},"processed_at":"{}"}}"#, i % 31, t(70 + i % 23)),
        ]);
    }
    lines.join("\n")
}

/// [`long_session`]'s rows, the child thread's requests on its stream.
fn long_rows(rounds: usize) -> Vec<EventRow> {
    let mut events = rows(&long_session(rounds));
    for e in &mut events {
        if e.event_id.starts_with('k') {
            e.thread_id = "sthr_1".to_string();
        }
    }
    events
}

const AGENT: &str = r#"{"type":"agent","model":{"id":"claude-sonnet-4-6"},"multiagent":{"agents":[{"name":"helper","model":{"id":"claude-haiku-4-5"}},{"name":"other","model":{"id":"claude-opus-4-1"}}]}}"#;

/// The long session without its call left open at the start.
fn without_open_call(events: Vec<EventRow>) -> Vec<EventRow> {
    events
        .into_iter()
        .filter(|e| e.event_id != "open")
        .collect()
}

#[test]
fn a_long_session_settled_in_runs_sums_what_the_end_does() {
    let held_back = long_rows(600);
    for events in [without_open_call(held_back.clone()), held_back] {
        let whole = fold(Some(AGENT), &events, usize::MAX);
        // Two requests a round, one that ends halfway and one still open at the end.
        assert_eq!(whole.1.as_ref().map(Vec::len), Some(1202));
        assert_eq!(whole.2.len(), 600, "the completed calls");
        for every in [1, 5, 64, 1000] {
            assert_eq!(fold(Some(AGENT), &events, every), whole, "every {every}");
        }
    }
}

#[test]
fn settled_spans_are_not_held_but_an_early_open_one_holds_those_after_it() {
    let held = |events: &[EventRow]| {
        let mut b = StatsBuilder::new("sesn_t", None).settling_every(64);
        let mut most = 0;
        for e in events {
            b.push(&e.as_ref());
            most = most.max(b.spans.len());
        }
        most
    };
    // Without the call left open at the start, what is held stays near the threshold: the
    // requests open for long are passed over.
    let closed = without_open_call(long_rows(2000));
    assert!(held(&closed) <= 2 * 64, "{}", held(&closed));
    // With it, nothing after it can be accounted before the end.
    let open = long_rows(2000);
    assert!(held(&open) > 4 * 2000, "{}", held(&open));
}
