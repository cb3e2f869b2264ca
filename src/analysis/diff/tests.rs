use super::*;
use crate::analysis::explain::{ExplainInput, explain};
use crate::analysis::state::StateBuilder;
use crate::analysis::stats::StatsBuilder;
use crate::analysis::testing::rows;

const USER: &str = r#"{"type":"user.message","id":"sevt_u1","processed_at":"2026-08-07T09:00:00.000Z","content":[{"type":"text","text":"Weather in Bergen?"}]}"#;
const RUNNING: &str =
    r#"{"type":"session.status_running","id":"sevt_r1","processed_at":"2026-08-07T09:00:00.100Z"}"#;
const START: &str = r#"{"type":"span.model_request_start","id":"sevt_s1","processed_at":"2026-08-07T09:00:00.200Z"}"#;
const THINK: &str =
    r#"{"type":"agent.thinking","id":"sevt_t1","processed_at":"2026-08-07T09:00:00.300Z"}"#;
const USE: &str = r#"{"type":"agent.custom_tool_use","id":"sevt_c1","name":"get_weather","input":{"city":"Bergen","units":"metric"},"processed_at":"2026-08-07T09:00:01.000Z"}"#;
const END: &str = r#"{"type":"span.model_request_end","id":"sevt_e1","model_request_start_id":"sevt_s1","is_error":false,"model_usage":{"input_tokens":100,"output_tokens":10,"cache_creation_input_tokens":0,"cache_read_input_tokens":0},"processed_at":"2026-08-07T09:00:01.100Z"}"#;
const IDLE: &str = r#"{"type":"session.status_idle","id":"sevt_i1","processed_at":"2026-08-07T09:00:01.200Z","stop_reason":{"type":"requires_action","event_ids":["sevt_c1"]},"stop_details":null}"#;
const RESULT: &str = r#"{"type":"user.custom_tool_result","id":"sevt_x1","custom_tool_use_id":"sevt_c1","content":[{"type":"text","text":"13 C"}],"processed_at":"2026-08-07T09:00:02.000Z"}"#;

fn jsonl(lines: &[&str]) -> String {
    lines.join("\n")
}

/// The same events with every id and time changed: nothing a signature keeps.
fn renamed(lines: &[&str]) -> String {
    lines
        .iter()
        .map(|l| {
            l.replace("sevt_", "sevt_other")
                .replace("09:00:0", "10:30:0")
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn ops(a: &str, b: &str) -> Vec<(Op, Option<usize>, Option<usize>)> {
    let (ra, rb) = (rows(a), rows(b));
    let (sa, sb) = (steps(&ra), steps(&rb));
    align(&sa, &sb, None)
        .into_iter()
        .map(|r| (r.op, r.a, r.b))
        .collect()
}

#[test]
fn identical_sequences_align_equal_whatever_the_ids_and_times() {
    let all = [USER, RUNNING, START, USE, END, IDLE, RESULT];
    let got = ops(&jsonl(&all), &renamed(&all));
    assert_eq!(got.len(), all.len());
    assert!(got.iter().all(|(op, a, b)| *op == Op::Equal && a == b));
}

#[test]
fn an_insertion_on_one_side_leaves_the_rest_aligned() {
    let a = jsonl(&[USER, RUNNING, START, USE, END, IDLE]);
    let b = renamed(&[USER, RUNNING, START, THINK, USE, END, IDLE]);
    let got = ops(&a, &b);
    use Op::*;
    assert_eq!(
        got,
        vec![
            (Equal, Some(0), Some(0)),
            (Equal, Some(1), Some(1)),
            (Equal, Some(2), Some(2)),
            (OnlyInB, None, Some(3)),
            (Equal, Some(3), Some(4)),
            (Equal, Some(4), Some(5)),
            (Equal, Some(5), Some(6)),
        ]
    );
}

#[test]
fn a_changed_tool_input_is_one_changed_step() {
    let voss = USE.replace(r#""city":"Bergen""#, r#""city":"Voss""#);
    let a = jsonl(&[USER, RUNNING, START, USE, END, IDLE]);
    let b = jsonl(&[USER, RUNNING, START, &voss, END, IDLE]);
    let got = ops(&a, &b);
    assert_eq!(got[3], (Op::Changed, Some(3), Some(3)));
    assert_eq!(got.iter().filter(|r| r.0 != Op::Equal).count(), 1);

    let (ra, rb) = (rows(&a), rows(&b));
    let (sa, sb) = (steps(&ra), steps(&rb));
    let (differs, changes) = compare(&sa[3], &sb[3]);
    assert_eq!(differs, vec!["input"]);
    assert_eq!(
        changes.listed,
        vec![Change {
            path: "input.city".into(),
            a: Some(Value::from("Bergen")),
            b: Some(Value::from("Voss")),
        }]
    );
    assert_eq!(changes.more, 0);
}

#[test]
fn an_empty_session_is_all_only_in_the_other() {
    let a = jsonl(&[USER, RUNNING]);
    assert_eq!(
        ops(&a, ""),
        vec![(Op::OnlyInA, Some(0), None), (Op::OnlyInA, Some(1), None)]
    );
    assert_eq!(ops("", &a).len(), 2);
    assert!(ops("", "").is_empty());
}

#[test]
fn signatures_drop_ids_times_usage_and_nulls_but_keep_input_ids() {
    let tool = r#"{"type":"agent.tool_use","id":"sevt_a","name":"github_get","input":{"issue_id":7},"session_thread_id":"sthr_x","processed_at":"2026-08-07T09:00:00Z"}"#;
    let r = rows(&jsonl(&[tool, END, IDLE, RESULT]));
    let s = steps(&r);
    assert_eq!(
        s[0].detail(),
        serde_json::json!({"type":"agent.tool_use","name":"github_get","input":{"issue_id":7}})
    );
    assert_eq!(
        s[1].detail(),
        serde_json::json!({"type":"span.model_request_end","is_error":false})
    );
    assert_eq!(
        s[2].detail(),
        serde_json::json!({"type":"session.status_idle","stop_reason":{"type":"requires_action"}})
    );
    // A result's tool comes from the use it answers (not in this sequence: unknown).
    assert_eq!(s[3].tool, None);
    assert_eq!(s[3].detail()["is_error"], Value::Bool(false));
}

#[test]
fn messages_compare_by_text_and_results_name_their_tool() {
    let r = rows(&jsonl(&[USER, USE, RESULT]));
    let s = steps(&r);
    assert_eq!(s[0].detail()["text"], "Weather in Bergen?");
    assert_eq!(s[2].tool.as_deref(), Some("get_weather"));
    assert_eq!(s[2].kind, "user.custom_tool_result get_weather");
}

#[test]
fn usage_snapshots_and_stream_copies_are_not_steps() {
    let usage = r#"{"type":"session.usage","id":"sevt_us","processed_at":"2026-08-07T09:00:00.050Z","input_tokens":5}"#;
    let mut r = rows(&jsonl(&[USER, usage, RUNNING]));
    // Another stream's copy of the user's message: the same id and time, read next to it.
    let mut copy = r[0].clone();
    copy.thread_id = "sthr_child".into();
    r.insert(1, copy);
    let s = steps(&r);
    assert_eq!(s.len(), 2);
    assert_eq!(s[1].index, 3);
}

/// A reused id at another time is another event (placeholder ids: `sevt_...` on every event of
/// an official sample), so it is a step; only the same id at the same time is a copy.
#[test]
fn a_reused_id_at_another_time_is_a_step() {
    let mut r = rows(&jsonl(&[USER, RUNNING]));
    for e in &mut r {
        e.event_id = "sevt_...".into();
    }
    assert_eq!(steps(&r).len(), 2);
}

type Parts = (SessionSummary, Vec<EventRow>, Stats, Explanation);

fn side(p: &Parts) -> Side<'_> {
    Side {
        summary: &p.0,
        events: &p.1,
        stats: &p.2,
        explanation: &p.3,
    }
}

fn side_parts(jsonl: &str) -> Parts {
    let events = rows(jsonl);
    let first_ts = events.iter().filter_map(|e| e.ts).min();
    let last_ts = events.iter().filter_map(|e| e.ts).max();
    let summary = SessionSummary {
        id: "sesn_test".into(),
        title: None,
        event_count: events.len() as u64,
        first_ts,
        last_ts,
        status: None,
        stop_reason: None,
    };
    let mut sb = StatsBuilder::new("sesn_test", None);
    let mut st = StateBuilder::new("sesn_test");
    for e in &events {
        sb.push(&e.as_ref());
        st.push(&e.as_ref());
    }
    let stats = sb.finish(last_ts).report();
    let x = explain(
        &st.finish(last_ts),
        &ExplainInput {
            session_id: "sesn_test",
            at: None,
            capture: None,
            now: last_ts.unwrap_or(0),
            stuck_after: 600_000_000,
        },
    );
    (summary, events, stats, x)
}

#[test]
fn diff_reports_the_first_divergence_with_context_and_deltas() {
    let voss = USE.replace(r#""city":"Bergen""#, r#""city":"Voss""#);
    let more = END.replace(r#""input_tokens":100"#, r#""input_tokens":150"#);
    let pa = side_parts(&jsonl(&[USER, RUNNING, START, USE, END, IDLE]));
    let pb = side_parts(&jsonl(&[USER, RUNNING, START, THINK, &voss, &more, IDLE]));
    let d = diff(
        &side(&pa),
        &side(&pb),
        &DiffOptions {
            context: 1,
            budget: None,
        },
    );
    assert!(!d.same);
    let first = d.first_divergence.as_ref().unwrap();
    // The thinking step only B has comes first; A's next step is the tool use.
    assert_eq!(first.op, Op::OnlyInB);
    assert_eq!(first.b.as_ref().unwrap().event_type, "agent.thinking");
    assert_eq!(
        first.a.as_ref().unwrap().event_type,
        "agent.custom_tool_use"
    );
    assert_eq!(first.differs[0], "type");
    assert_eq!(d.context.len(), 3);
    assert_eq!(
        d.alignment,
        AlignmentSummary {
            equal: 5,
            changed: 1,
            only_in_a: 0,
            only_in_b: 1
        }
    );
    assert_eq!(d.deltas.tokens.input_tokens, Count::new(100, 150));
    assert_eq!(d.deltas.tokens.input_tokens.delta, 50);
    assert_eq!(d.a.verdict, "requires_action");

    let same = diff(&side(&pa), &side(&pa), &DiffOptions::default());
    assert!(same.same);
    assert!(same.first_divergence.is_none() && same.context.is_empty());
}

#[test]
fn leaf_changes_walk_arrays_by_position_and_cut_long_values() {
    let long = "x".repeat(500);
    let a = format!(
        r#"{{"type":"agent.tool_use","id":"sevt_a","name":"edit","input":{{"paths":["a.py","b.py"],"body":"{long}"}},"processed_at":"2026-08-07T09:00:00Z"}}"#
    );
    let b = r#"{"type":"agent.tool_use","id":"sevt_b","name":"edit","input":{"paths":["a.py"],"body":"short","new":true},"processed_at":"2026-08-07T09:00:00Z"}"#;
    let (ra, rb) = (rows(&a), rows(b));
    let (sa, sb) = (steps(&ra), steps(&rb));
    let (differs, changes) = compare(&sa[0], &sb[0]);
    assert_eq!(differs, vec!["input"]);
    let listed = &changes.listed;
    let paths: Vec<&str> = listed.iter().map(|c| c.path.as_str()).collect();
    assert_eq!(paths, ["input.body", "input.new", "input.paths[1]"]);
    let cut = listed[0].a.as_ref().and_then(Value::as_str).unwrap();
    assert_eq!(cut.chars().count(), MAX_VALUE_CHARS + 1);
    assert!(cut.ends_with('…'));
    assert_eq!(listed[1].a, None);
    assert_eq!(listed[2].b, None);
}

#[test]
fn a_different_tool_in_the_same_place_differs_by_tool() {
    let forecast = USE.replace("get_weather", "get_forecast");
    let (ra, rb) = (rows(&jsonl(&[USER, USE])), rows(&jsonl(&[USER, &forecast])));
    let (sa, sb) = (steps(&ra), steps(&rb));
    let rows = align(&sa, &sb, None);
    assert_eq!(rows[1].op, Op::Changed);
    let (differs, changes) = compare(&sa[1], &sb[1]);
    assert_eq!(differs, vec!["tool"]);
    assert!(changes.listed.is_empty());
}

#[test]
fn changes_past_the_limit_are_counted_not_listed() {
    let many = |v: u32| {
        let input: serde_json::Map<String, Value> = (0..30)
            .map(|i| (format!("k{i:02}"), Value::from(v)))
            .collect();
        format!(
            r#"{{"type":"agent.tool_use","id":"sevt_m","name":"bash","input":{},"processed_at":"2026-08-07T09:00:00Z"}}"#,
            Value::Object(input)
        )
    };
    let (ra, rb) = (rows(&many(1)), rows(&many(2)));
    let (sa, sb) = (steps(&ra), steps(&rb));
    let (_, changes) = compare(&sa[0], &sb[0]);
    assert_eq!(changes.listed.len(), MAX_CHANGES);
    assert_eq!(changes.more, 30 - MAX_CHANGES);
}
