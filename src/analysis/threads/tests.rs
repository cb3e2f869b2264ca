//! The thread tree from events, from objects, and from both.

#![allow(clippy::unwrap_used)]

use super::*;
use crate::analysis::testing::{rows, rows_on};
use crate::store::EventRow;

fn object(id: &str, parent: Option<&str>, raw: &str) -> ThreadObject {
    ThreadObject {
        id: id.into(),
        parent_thread_id: parent.map(str::to_string),
        raw: raw.into(),
        fetched_at: "2026-09-01T10:00:10Z".into(),
    }
}

fn tree(rows: &[EventRow], objects: &[ThreadObject], point: Option<i64>) -> ThreadTree {
    let mut sorted: Vec<&EventRow> = rows.iter().collect();
    sorted.sort_by_key(|r| (r.ts.unwrap_or(i64::MAX), r.seq));
    let mut b = ThreadTreeBuilder::new();
    for r in sorted {
        b.push(&r.as_ref());
    }
    b.finish(objects, point)
}

/// `(depth, id, label, status)` of every node.
fn outline(t: &ThreadTree) -> Vec<(usize, String, String, String)> {
    t.walk()
        .into_iter()
        .map(|(d, n)| {
            (
                d,
                n.thread_id.clone().unwrap_or_else(|| "-".into()),
                n.label(),
                n.status_text(),
            )
        })
        .collect()
}

const PRIMARY_VIEW: &str = r#"{"type":"session.thread_status_running","id":"sevt_1","processed_at":"2026-09-01T10:00:00Z","session_thread_id":"sthr_P","agent_name":"Lead"}
{"type":"session.thread_created","id":"sevt_2","processed_at":"2026-09-01T10:00:01Z","session_thread_id":"sthr_A","agent_name":"Researcher","workflow_run_id":null}
{"type":"session.thread_status_running","id":"sevt_3","processed_at":"2026-09-01T10:00:02Z","session_thread_id":"sthr_A","agent_name":"Researcher"}
{"type":"session.thread_status_idle","id":"sevt_4","processed_at":"2026-09-01T10:00:05Z","session_thread_id":"sthr_A","agent_name":"Researcher","stop_reason":{"type":"end_turn"},"stop_details":null}"#;

#[test]
fn from_events_alone_the_first_status_thread_is_the_primary_and_creations_hang_under_it() {
    let t = tree(&rows(PRIMARY_VIEW), &[], None);
    assert_eq!(
        outline(&t),
        vec![
            (0, "sthr_P".into(), "Lead".into(), "running".into()),
            (
                1,
                "sthr_A".into(),
                "Researcher".into(),
                "idle (end_turn)".into()
            ),
        ]
    );
    let a = &t.roots[0].children[0];
    assert_eq!(a.parent_thread_id.as_deref(), Some("sthr_P"));
    assert_eq!(a.parent_from, Some("event"));
    assert_eq!(a.learnt_from, vec!["events"]);
    assert_eq!(a.usage, None);
    assert_eq!(a.since.as_ref().unwrap().event_id, "sevt_4");
}

#[test]
fn a_creation_read_on_a_child_stream_makes_that_child_the_parent() {
    let mut r = rows(PRIMARY_VIEW);
    r.extend(rows_on(
        r#"{"type":"session.thread_created","id":"sevt_9","processed_at":"2026-09-01T10:00:03Z","session_thread_id":"sthr_G","agent_name":"Fetcher"}"#,
        "sthr_A",
    ));
    let t = tree(&r, &[], None);
    let ids: Vec<_> = outline(&t)
        .into_iter()
        .map(|(d, id, _, _)| (d, id))
        .collect();
    assert_eq!(
        ids,
        vec![
            (0, "sthr_P".into()),
            (1, "sthr_A".into()),
            (2, "sthr_G".into())
        ]
    );
}

#[test]
fn children_of_an_unrecorded_primary_hang_from_a_node_without_an_id() {
    let t = tree(
        &rows(
            r#"{"type":"session.thread_created","id":"sevt_2","processed_at":"2026-09-01T10:00:01Z","session_thread_id":"sthr_A","agent_name":"Researcher"}
{"type":"session.thread_status_terminated","id":"sevt_3","processed_at":"2026-09-01T10:00:02Z","session_thread_id":"sthr_A","agent_name":"Researcher"}"#,
        ),
        &[],
        None,
    );
    assert_eq!(
        outline(&t),
        vec![
            (0, "-".into(), "primary".into(), "unknown".into()),
            (1, "sthr_A".into(), "Researcher".into(), "terminated".into()),
        ]
    );
    assert!(t.roots[0].primary);
}

#[test]
fn the_older_alias_of_thread_created_is_read_too() {
    let t = tree(
        &rows(
            r#"{"type":"session.thread_status_running","id":"sevt_1","processed_at":"2026-09-01T10:00:00Z","session_thread_id":"sthr_P","agent_name":"Lead"}
{"type":"session.thread_status_created","id":"sevt_2","processed_at":"2026-09-01T10:00:01Z","session_thread_id":"sthr_A","agent_name":"Old"}"#,
        ),
        &[],
        None,
    );
    assert_eq!(t.roots[0].children[0].status_text(), "created");
}

const CHILD_OBJECT: &str = r#"{"id":"sthr_A","type":"session_thread","status":"idle","agent":{"type":"agent","id":"agent_1","version":1,"name":"Researcher (object)"},"parent_thread_id":"sthr_P","workflow_run_id":null,"created_at":"2026-09-01T10:00:01Z","stats":{"active_seconds":3.5,"duration_seconds":9.0,"startup_seconds":0},"usage":{"input_tokens":400,"output_tokens":40,"active_seconds":3.5,"list_cost":{"amount":"12","currency":"USD"},"server_tool_use":{"web_search_requests":2}},"future_field":1}"#;

#[test]
fn objects_and_events_merge_with_the_objects_usage_and_parent() {
    let objects = [
        object(
            "sthr_P",
            None,
            r#"{"id":"sthr_P","status":"idle","agent":{"type":"agent","name":"Lead"},"parent_thread_id":null,"stats":null,"usage":null}"#,
        ),
        object("sthr_A", Some("sthr_P"), CHILD_OBJECT),
        object(
            "sthr_V",
            Some("sthr_P"),
            r#"{"id":"sthr_V","status":"terminated","agent":{"type":"advisor","model":"claude-opus-4-8"},"parent_thread_id":"sthr_P"}"#,
        ),
    ];
    let t = tree(&rows(PRIMARY_VIEW), &objects, None);
    assert_eq!(t.roots.len(), 1, "{t:#?}");
    let p = &t.roots[0];
    assert!(p.primary);
    assert_eq!(p.learnt_from, vec!["events", "object"]);
    assert_eq!((p.stats.as_ref(), p.usage.as_ref()), (None, None));
    let a = &p.children[0];
    assert_eq!(a.agent_name.as_deref(), Some("Researcher (object)"));
    assert_eq!(a.parent_from, Some("object"));
    assert_eq!(a.status_text(), "idle (end_turn)");
    assert_eq!(a.object_status.as_deref(), Some("idle"));
    let u = a.usage.as_ref().unwrap();
    assert_eq!((u.input_tokens, u.active_seconds), (Some(400), Some(3.5)));
    assert_eq!(a.stats.as_ref().unwrap().startup_seconds, Some(0.0));
    // Known only from its object: the advisor, its status the object's.
    let v = &p.children[1];
    assert_eq!(v.learnt_from, vec!["object"]);
    assert_eq!(v.label(), "advisor");
    assert_eq!(v.status_text(), "terminated (object)");
    assert!(t.problems.is_empty(), "{:?}", t.problems);
}

#[test]
fn objects_created_after_the_point_are_left_out_unless_events_name_them() {
    let objects = [object(
        "sthr_Z",
        Some("sthr_P"),
        r#"{"id":"sthr_Z","created_at":"2026-09-01T11:00:00Z"}"#,
    )];
    let point = parse_timestamp_micros("2026-09-01T10:00:03Z");
    let t = tree(&rows(PRIMARY_VIEW), &objects, point);
    assert!(
        t.walk()
            .iter()
            .all(|(_, n)| n.thread_id.as_deref() != Some("sthr_Z"))
    );
    let t = tree(&rows(PRIMARY_VIEW), &objects, None);
    assert!(
        t.walk()
            .iter()
            .any(|(_, n)| n.thread_id.as_deref() == Some("sthr_Z"))
    );
}

#[test]
fn parent_links_that_loop_are_cut_and_named() {
    let objects = [
        object("sthr_X", Some("sthr_Y"), r#"{"id":"sthr_X"}"#),
        object("sthr_Y", Some("sthr_X"), r#"{"id":"sthr_Y"}"#),
        object("sthr_B", None, "not json"),
    ];
    let t = tree(&[], &objects, None);
    assert_eq!(t.walk().len(), 2);
    assert_eq!(t.problems.len(), 2, "{:?}", t.problems);
}

#[test]
fn an_idle_without_a_stop_reason_says_so() {
    let t = tree(
        &rows(
            r#"{"type":"session.thread_status_idle","id":"sevt_1","processed_at":"2026-09-01T10:00:00Z","session_thread_id":"sthr_P","agent_name":"Lead"}"#,
        ),
        &[],
        None,
    );
    assert_eq!(t.roots[0].status_text(), "idle (missing)");
}
