//! `flightrec spans` on the sample logs: pairing, open spans, filters, and a snapshot per sample.

use serde_json::Value;

use crate::util::{code, import_samples, run, sample_scenarios, stderr, stdout, tempdir};

fn spans_json(db: &std::path::Path, args: &[&str]) -> Vec<Value> {
    let mut all = vec!["spans"];
    all.extend_from_slice(args);
    all.push("--json");
    let o = run(db, &all);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    serde_json::from_str(&stdout(&o)).unwrap()
}

fn field<'a>(span: &'a Value, key: &str) -> &'a str {
    span[key].as_str().unwrap_or_default()
}

#[test]
fn every_real_sample_snapshot() {
    let db = crate::explain::real_samples_db();
    for (scenario, session) in crate::explain::real_scenarios() {
        let o = run(db, &["spans", &session, "--json"]);
        assert_eq!(code(&o), 0, "{scenario}: {}", stderr(&o));
        insta::assert_snapshot!(format!("spans-real-{scenario}"), stdout(&o));
    }
}

#[test]
fn every_sample_snapshot() {
    let dir = tempdir();
    let db = dir.path().join("s.db");
    import_samples(&db);
    for (scenario, session) in sample_scenarios() {
        let o = run(&db, &["spans", &session, "--json"]);
        assert_eq!(code(&o), 0, "{scenario}: {}", stderr(&o));
        insta::assert_snapshot!(format!("spans-{scenario}"), stdout(&o));
    }
}

#[test]
fn happy_path_pairs_every_request_and_tool() {
    let dir = tempdir();
    let db = dir.path().join("s.db");
    import_samples(&db);
    let spans = spans_json(&db, &["sesn_011CZhappyPath0000000001"]);
    let of = |k: &str| {
        spans
            .iter()
            .filter(|s| field(s, "kind") == k)
            .collect::<Vec<_>>()
    };
    let requests = of("model_request");
    assert_eq!(requests.len(), 5);
    assert!(
        requests
            .iter()
            .all(|s| s["open"] == false && s["usage"]["output_tokens"].as_u64() > Some(0))
    );
    let tools = of("tool");
    let names: Vec<&str> = tools.iter().map(|s| field(s, "name")).collect();
    assert!(
        names.contains(&"grep") && names.contains(&"read") && names.contains(&"edit"),
        "{names:?}"
    );
    for t in &tools {
        assert_eq!(field(t, "end_type"), "agent.tool_result");
        assert!(t["duration_ms"].as_f64().unwrap() >= 0.0);
    }
    assert!(
        spans.iter().all(|s| s["open"] == false),
        "a finished turn leaves nothing open"
    );
}

#[test]
fn stuck_custom_tool_is_the_one_open_span_with_its_age() {
    let dir = tempdir();
    let db = dir.path().join("s.db");
    import_samples(&db);
    let open = spans_json(&db, &["sesn_011CZstuckCustomTool0002", "--open"]);
    assert_eq!(open.len(), 1, "{open:#?}");
    assert_eq!(field(&open[0], "kind"), "custom_tool");
    assert_eq!(field(&open[0], "name"), "get_weather");
    assert_eq!(field(&open[0], "start_id"), "sevt_011CZkSdM9xUzC45mZmCzS1G");
    assert!(open[0]["age_ms"].as_f64().unwrap() > 0.0);
    // Turn 1's call was answered.
    let custom = spans_json(
        &db,
        &["sesn_011CZstuckCustomTool0002", "--kind", "custom_tool"],
    );
    let answered = custom
        .iter()
        .find(|s| field(s, "start_id") == "sevt_011CZkS3VVdQeUg4Fd5rLOiC")
        .unwrap();
    assert_eq!(field(answered, "end_type"), "user.custom_tool_result");
    assert_eq!(answered["open"], false);
}

#[test]
fn at_an_earlier_event_shows_what_was_open_then() {
    let dir = tempdir();
    let db = dir.path().join("s.db");
    import_samples(&db);
    let s = "sesn_011CZstuckCustomTool0002";
    // At turn 1's custom tool use, that call is open; at the end it is closed.
    let then = spans_json(&db, &[s, "--open", "--at", "sevt_011CZkS3VVdQeUg4Fd5rLOiC"]);
    assert!(
        then.iter()
            .any(|x| field(x, "start_id") == "sevt_011CZkS3VVdQeUg4Fd5rLOiC"),
        "{then:#?}"
    );
    let now = spans_json(&db, &[s, "--open"]);
    assert!(
        !now.iter()
            .any(|x| field(x, "start_id") == "sevt_011CZkS3VVdQeUg4Fd5rLOiC")
    );
}

#[test]
fn two_blocking_one_resolved_leaves_the_mcp_call_and_its_permission_open() {
    let dir = tempdir();
    let db = dir.path().join("s.db");
    import_samples(&db);
    let open = spans_json(&db, &["sesn_011CZtwoBlocking00000004", "--open"]);
    let kinds: Vec<(&str, &str)> = open
        .iter()
        .map(|s| (field(s, "kind"), field(s, "start_id")))
        .collect();
    assert_eq!(
        kinds,
        [
            ("permission", "sevt_011CZkxt2S539408qiF74UdZ"),
            ("mcp_tool", "sevt_011CZkxt2S539408qiF74UdZ")
        ]
    );
    assert_eq!(field(&open[1], "name"), "github.create_issue");
}

#[test]
fn bad_kind_and_unknown_session_are_one_line_errors() {
    let dir = tempdir();
    let db = dir.path().join("s.db");
    import_samples(&db);
    let o = run(
        &db,
        &[
            "spans",
            "sesn_011CZhappyPath0000000001",
            "--kind",
            "teleport",
        ],
    );
    assert_eq!(code(&o), 2);
    assert!(stderr(&o).contains("not a span kind"), "{}", stderr(&o));
    let o = run(&db, &["spans", "sesn_nope"]);
    assert_eq!(code(&o), 2);
    assert_eq!(stderr(&o).lines().count(), 1, "{}", stderr(&o));
    let o = run(
        &db,
        &[
            "spans",
            "sesn_011CZhappyPath0000000001",
            "--at",
            "sevt_missing",
        ],
    );
    assert_eq!(code(&o), 2);
    assert!(
        stderr(&o).contains("no event with that id"),
        "{}",
        stderr(&o)
    );
}
