//! `flightrec diff` on pairs of sample sessions and on edited copies of one: the first divergence
//! stated exactly, the alignment surviving an inserted event, token deltas against `stats`, two
//! databases, exit codes, and a snapshot of the JSON.

use serde_json::Value;
use std::path::{Path, PathBuf};

use crate::util::*;

const HAPPY: &str = "sesn_011CZhappyPath0000000001";
const MCP: &str = "sesn_011CZmcpFailure000000009";
const STUCK: &str = "sesn_011CZstuckCustomTool0002";
const RESOLVED: &str = "sesn_011CZresolvedConfirm0005";
/// A fixed "now", so verdicts do not depend on the clock.
const NOW: &str = "2026-09-01T00:00:00Z";

fn samples_db() -> (tempfile::TempDir, PathBuf) {
    let dir = tempdir();
    let db = dir.path().join("s.db");
    import_samples(&db);
    (dir, db)
}

fn sample_path(session: &str) -> PathBuf {
    sample_files()
        .into_iter()
        .find(|p| session_of(p) == session)
        .unwrap()
}

/// Imports `lines` into `db` as the session `id` (written to a file named after it in `dir`).
fn import_lines(db: &Path, dir: &Path, id: &str, lines: &[String]) {
    let file = dir.join(format!("copy.{id}.jsonl"));
    std::fs::write(&file, lines.join("\n") + "\n").unwrap();
    let o = run(db, &["import", file.to_str().unwrap()]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
}

fn sample_lines(session: &str) -> Vec<String> {
    std::fs::read_to_string(sample_path(session))
        .unwrap()
        .lines()
        .map(str::to_string)
        .collect()
}

/// `diff --json`, checking the exit code.
fn diff_json(db: &Path, a: &str, b: &str, extra: &[&str], expect: i32) -> Value {
    let mut args = vec!["diff", a, b, "--json", "--now", NOW];
    args.extend_from_slice(extra);
    let o = run(db, &args);
    assert_eq!(code(&o), expect, "{}", stderr(&o));
    serde_json::from_str(&stdout(&o)).unwrap()
}

/// happy-path with the `grep` call's pattern edited (its line 11, event index 10).
const EDITED: &str = "sesn_011CZhappyEdited00000001";
fn edited_happy_path() -> Vec<String> {
    let mut lines = sample_lines(HAPPY);
    let grep = &mut lines[10];
    assert!(grep.contains(r#""name":"grep""#), "{grep}");
    let mut v: Value = serde_json::from_str(grep).unwrap();
    v["input"]["pattern"] = Value::from("utcnow");
    *grep = serde_json::to_string(&v).unwrap();
    lines
}

#[test]
fn diff_of_two_samples_names_the_first_divergence() {
    let (_dir, db) = samples_db();
    let d = diff_json(&db, STUCK, RESOLVED, &[], 1);
    assert_eq!(d["same"], false);
    let first = &d["first_divergence"];
    // Both begin with the user's request, and the requests differ.
    assert_eq!(first["op"], "changed");
    for side in ["a", "b"] {
        assert_eq!(first[side]["step"], 0);
        assert_eq!(first[side]["index"], 0);
        assert_eq!(first[side]["type"], "user.message");
        assert_eq!(first[side]["tool"], Value::Null);
    }
    assert_eq!(first["a"]["event_id"], "sevt_011CZkS3BhdMAZjgcBOIdRab");
    assert_eq!(first["b"]["event_id"], "sevt_011CZlKU8Mbo6y0JXnaLIAsM");
    assert_eq!(first["differs"], serde_json::json!(["text"]));
    assert_eq!(first["changes"][0]["path"], "text");
    assert_eq!(
        first["changes"][0]["a"],
        "What's the weather in Bergen right now?"
    );
    // The endings: stuck waiting on get_weather, and a finished turn.
    assert_eq!(d["a"]["verdict"], "requires_action");
    assert_eq!(d["a"]["stop_reason"], "requires_action");
    assert_eq!(d["b"]["verdict"], "end_turn");
    assert_eq!(d["b"]["stop_reason"], "end_turn");
    // Every step is accounted for on each side.
    let al = &d["alignment"];
    let n = |k: &str| al[k].as_u64().unwrap();
    assert_eq!(n("equal") + n("changed") + n("only_in_a"), 20);
    assert_eq!(n("equal") + n("changed") + n("only_in_b"), 27);
    assert_eq!(d["a"]["steps"], 20);
    assert_eq!(d["b"]["steps"], 27);
}

#[test]
fn token_and_tool_deltas_are_the_difference_of_stats() {
    let (_dir, db) = samples_db();
    let d = diff_json(&db, HAPPY, MCP, &[], 1);
    let stats = |s: &str| -> Value {
        let o = run(&db, &["stats", s, "--json"]);
        assert_eq!(code(&o), 0, "{}", stderr(&o));
        serde_json::from_str(&stdout(&o)).unwrap()
    };
    let (sa, sb) = (stats(HAPPY), stats(MCP));
    for k in [
        "requests",
        "failed_requests",
        "input_tokens",
        "output_tokens",
        "cache_read_input_tokens",
        "cache_creation_input_tokens",
    ] {
        let (a, b) = (
            sa["tokens"][k].as_i64().unwrap(),
            sb["tokens"][k].as_i64().unwrap(),
        );
        let t = &d["deltas"]["tokens"][k];
        assert_eq!(
            (t["a"].as_i64(), t["b"].as_i64()),
            (Some(a), Some(b)),
            "{k}"
        );
        assert_eq!(t["delta"].as_i64(), Some(b - a), "{k}");
    }
    assert_ne!(d["deltas"]["tokens"]["input_tokens"]["delta"], 0);
    // Per tool: the calls of each side's stats, zero where a side never used the tool.
    let calls = |s: &Value, tool: &str| {
        s["tools"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|t| t["tool"] == tool)
            .map(|t| t["calls"].as_i64().unwrap())
            .sum::<i64>()
    };
    let tools = d["deltas"]["tools"].as_array().unwrap();
    assert!(
        tools
            .iter()
            .any(|t| t["tool"] == "github.search_pull_requests")
    );
    for t in tools {
        let name = t["tool"].as_str().unwrap();
        assert_eq!(t["calls"]["a"].as_i64(), Some(calls(&sa, name)), "{name}");
        assert_eq!(t["calls"]["b"].as_i64(), Some(calls(&sb, name)), "{name}");
        assert_eq!(
            t["calls"]["delta"].as_i64(),
            Some(calls(&sb, name) - calls(&sa, name))
        );
    }
    let mcp = tools
        .iter()
        .find(|t| t["tool"] == "github.search_pull_requests")
        .unwrap();
    assert_eq!(mcp["calls"]["a"], 0);
    assert_eq!(mcp["calls"]["b"], 2);
    assert_eq!(mcp["p50_ms"]["a"], Value::Null);
    // mcp-failure has the MCP connection error; happy-path has none.
    assert_eq!(d["deltas"]["errors"]["a"], 0);
    assert_eq!(d["deltas"]["errors"]["b"], 2);
}

#[test]
fn a_session_against_itself_has_no_divergence() {
    let (_dir, db) = samples_db();
    let d = diff_json(&db, HAPPY, HAPPY, &[], 0);
    assert_eq!(d["same"], true);
    assert_eq!(d["first_divergence"], Value::Null);
    assert_eq!(d["context"], serde_json::json!([]));
    assert_eq!(d["alignment"]["equal"], 29);
    assert_eq!(d["deltas"]["tokens"]["input_tokens"]["delta"], 0);

    let o = run(&db, &["diff", HAPPY, HAPPY, "--now", NOW]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert!(
        stdout(&o).contains("No divergence: all 29 steps are the same."),
        "{}",
        stdout(&o)
    );
}

#[test]
fn an_edited_tool_input_is_the_divergence_and_names_the_tool_and_key() {
    let (dir, db) = samples_db();
    import_lines(&db, dir.path(), EDITED, &edited_happy_path());
    let d = diff_json(&db, HAPPY, EDITED, &["--context", "1"], 1);
    let first = &d["first_divergence"];
    assert_eq!(first["op"], "changed");
    for side in ["a", "b"] {
        assert_eq!(first[side]["step"], 10);
        assert_eq!(first[side]["index"], 10);
        assert_eq!(first[side]["type"], "agent.tool_use");
        assert_eq!(first[side]["tool"], "grep");
        assert_eq!(first[side]["event_id"], "sevt_011CZkgYbT3CHhqK5Hx9GTDR");
    }
    assert_eq!(first["differs"], serde_json::json!(["input"]));
    assert_eq!(
        first["changes"],
        serde_json::json!([{"path": "input.pattern", "a": "datetime\\.(utcnow|now)\\(", "b": "utcnow"}])
    );
    // Only that step differs; the context is one step either side of it.
    assert_eq!(
        d["alignment"],
        serde_json::json!({"equal": 28, "changed": 1, "only_in_a": 0, "only_in_b": 0})
    );
    let ops: Vec<&str> = d["context"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["op"].as_str().unwrap())
        .collect();
    assert_eq!(ops, ["equal", "changed", "equal"]);

    let o = run(&db, &["diff", HAPPY, EDITED, "--now", NOW]);
    assert_eq!(code(&o), 1);
    let text = stdout(&o);
    assert!(text.contains("First divergence: a changed step"), "{text}");
    assert!(text.contains("agent.tool_use grep"), "{text}");
    assert!(text.contains("input.pattern:"), "{text}");
}

#[test]
fn an_inserted_event_is_only_in_one_side_and_the_rest_stays_aligned() {
    let (dir, db) = samples_db();
    let mut lines = sample_lines(HAPPY);
    // After the first bash call (09:14:07.810), before its model request ends.
    lines.insert(
        6,
        r#"{"type":"agent.thinking","id":"sevt_011CZkgX9xInsertedThink1","processed_at":"2026-08-07T09:14:07.900Z"}"#
            .to_string(),
    );
    let id = "sesn_011CZhappyInserted0000001";
    import_lines(&db, dir.path(), id, &lines);
    let d = diff_json(&db, HAPPY, id, &[], 1);
    let first = &d["first_divergence"];
    assert_eq!(first["op"], "only_in_b");
    assert_eq!(first["b"]["step"], 6);
    assert_eq!(first["b"]["type"], "agent.thinking");
    assert_eq!(first["b"]["event_id"], "sevt_011CZkgX9xInsertedThink1");
    // What A does there instead: the model request ends.
    assert_eq!(first["a"]["step"], 6);
    assert_eq!(first["a"]["type"], "span.model_request_end");
    assert_eq!(first["differs"][0], "type");
    assert_eq!(
        d["alignment"],
        serde_json::json!({"equal": 29, "changed": 0, "only_in_a": 0, "only_in_b": 1})
    );
}

#[test]
fn a_recording_that_stops_early_diverges_where_it_ends() {
    let (dir, db) = samples_db();
    // stuck-custom-tool's first turn only: twelve events, up to its end_turn idle.
    let lines: Vec<String> = sample_lines(STUCK).into_iter().take(12).collect();
    assert!(lines[11].contains("end_turn"), "{}", lines[11]);
    let id = "sesn_011CZstuckFirstTurn00001";
    import_lines(&db, dir.path(), id, &lines);
    let d = diff_json(&db, STUCK, id, &[], 1);
    let first = &d["first_divergence"];
    assert_eq!(first["op"], "only_in_a");
    assert_eq!(first["a"]["step"], 12);
    assert_eq!(first["a"]["type"], "user.message");
    assert_eq!(first["a"]["event_id"], "sevt_011CZkSckarDflEG5yAvojOg");
    assert_eq!(first["b"], Value::Null);
    assert_eq!(
        d["alignment"],
        serde_json::json!({"equal": 12, "changed": 0, "only_in_a": 8, "only_in_b": 0})
    );
    assert_eq!(d["a"]["verdict"], "requires_action");
    assert_eq!(d["b"]["verdict"], "end_turn");
}

#[test]
fn diff_reads_b_from_another_database() {
    let (dir, db) = samples_db();
    let other = dir.path().join("other.db");
    import_lines(&other, dir.path(), EDITED, &edited_happy_path());
    let d = diff_json(&db, HAPPY, EDITED, &["--db-b", other.to_str().unwrap()], 1);
    assert_eq!(d["first_divergence"]["a"]["tool"], "grep");
    assert_eq!(d["first_divergence"]["changes"][0]["path"], "input.pattern");
    // B is not in A's database.
    let o = run(&other, &["diff", HAPPY, EDITED]);
    assert_eq!(code(&o), 2);
}

#[test]
fn an_unknown_session_is_a_one_line_error() {
    let (dir, db) = samples_db();
    for args in [
        vec!["diff", HAPPY, "sesn_nope"],
        vec!["diff", "sesn_nope", HAPPY, "--json"],
    ] {
        let o = run(&db, &args);
        assert_eq!(code(&o), 2);
        let err = stderr(&o);
        assert_eq!(err.lines().count(), 1, "{err}");
        assert!(err.starts_with("flightrec: error: "), "{err}");
        assert!(err.contains("sesn_nope"), "{err}");
        assert!(stdout(&o).is_empty());
    }
    let missing = dir.path().join("missing.db");
    let o = run(
        &db,
        &["diff", HAPPY, HAPPY, "--db-b", missing.to_str().unwrap()],
    );
    assert_eq!(code(&o), 2);
    assert_eq!(stderr(&o).lines().count(), 1, "{}", stderr(&o));
    let o = run(&db, &["diff", HAPPY]);
    assert_eq!(code(&o), 2);
}

#[test]
fn diff_json_snapshot_of_an_edited_copy() {
    let (dir, db) = samples_db();
    import_lines(&db, dir.path(), EDITED, &edited_happy_path());
    let d = diff_json(&db, HAPPY, EDITED, &["--context", "1"], 1);
    insta::assert_json_snapshot!("diff-happy-path-edited", d);
}

#[test]
fn every_sample_against_itself_is_the_same() {
    let (_dir, db) = samples_db();
    // Thread streams (multi-agent), queued echoes and an empty id (queued-echo), unknown types
    // (future-types): each session equals itself, step for step.
    for (scenario, id) in sample_scenarios() {
        let d = diff_json(&db, &id, &id, &[], 0);
        assert_eq!(d["same"], true, "{scenario}");
        let al = &d["alignment"];
        assert_eq!(al["equal"], d["a"]["steps"], "{scenario}");
    }
}
