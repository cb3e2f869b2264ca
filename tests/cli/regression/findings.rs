//! Regressions: findings, the whole-session post-mortem of `explain` (issue 11). Each imports a
//! sample of a real-traffic shape from `sample-logs/real/` and runs the real binary.

use serde_json::Value;
use std::path::{Path, PathBuf};

use crate::util::*;

const NOW: &str = "2026-09-07T00:00:00Z";

/// A database holding the one real sample whose file name starts with `prefix`.
fn db_with(prefix: &str) -> (tempfile::TempDir, PathBuf, String) {
    let file = real_sample_files()
        .into_iter()
        .find(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with(prefix))
        })
        .unwrap_or_else(|| panic!("no real sample {prefix}*"));
    let dir = tempdir();
    let db = dir.path().join("f.db");
    let o = run(&db, &["import", file.to_str().unwrap()]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let session = session_of(&file);
    (dir, db, session)
}

fn explain_json(db: &Path, session: &str, extra: &[&str]) -> Value {
    let mut args = vec!["explain", session, "--json", "--now", NOW];
    args.extend_from_slice(extra);
    let o = run(db, &args);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    serde_json::from_str(&stdout(&o)).unwrap()
}

fn findings_of<'a>(x: &'a Value, code_: &str) -> Vec<&'a Value> {
    x["findings"]
        .as_array()
        .unwrap_or_else(|| panic!("no findings array in {x}"))
        .iter()
        .filter(|f| f["code"] == code_)
        .collect()
}

/// Defect 8: a turn with no agent.message and 0 output tokens read "end_turn: ok".
///
/// Issue 11. Sample: `sample-logs/real/empty-turn.sesn_011CZrealEmptyTurn000001.jsonl`.
#[test]
fn turn_that_produced_nothing_reads_ok() {
    let (_d, db, s) = db_with("empty-turn.");
    let x = explain_json(&db, &s, &[]);
    let empty = findings_of(&x, "empty_turn");
    assert_eq!(empty.len(), 1, "{x:#}");
    assert_eq!(empty[0]["turn"], 2);
    assert_eq!(empty[0]["severity"], "warning");
    assert!(
        empty[0]["message"]
            .as_str()
            .unwrap()
            .contains("0 output tokens")
    );
    assert_eq!(x["verdict"], "end_turn");
    assert_eq!(x["attention"], true, "an empty last turn needs attention");
    let text = stdout(&run(&db, &["explain", &s, "--now", NOW]));
    let first = text.lines().next().unwrap();
    assert!(!first.starts_with("end_turn: ok"), "{first}");
    assert!(first.contains("produced nothing"), "{first}");
}

/// Defect 8, second shape: a child thread that reported back an empty result.
///
/// Issue 11. Sample: `sample-logs/real/empty-child-report.sesn_011CZrealEmptyChild00002.jsonl`.
#[test]
fn child_thread_empty_report_reads_ok() {
    let (_d, db, s) = db_with("empty-child-report.");
    let x = explain_json(&db, &s, &[]);
    let empty = findings_of(&x, "empty_turn");
    assert_eq!(empty.len(), 1, "{x:#}");
    assert!(
        empty[0]["message"]
            .as_str()
            .unwrap()
            .contains("(Researcher) reported back an empty result"),
        "{}",
        empty[0]
    );
    assert_eq!(x["attention"], true);
}

/// Defect 13: an outcome that ended max_iterations_reached read "end_turn: ok".
///
/// Issue 11. Sample: `sample-logs/real/outcome-max-iterations.sesn_011CZrealOutcomeMaxItr04.jsonl`.
#[test]
fn unmet_outcome_ignored_by_the_verdict() {
    let (_d, db, s) = db_with("outcome-max-iterations.");
    let x = explain_json(&db, &s, &[]);
    assert_eq!(x["outcome"]["result"], "max_iterations_reached", "{x:#}");
    assert_eq!(x["outcome"]["iteration"], 2);
    assert_eq!(x["outcome"]["met"], false);
    assert_eq!(
        x["outcome"]["results"],
        serde_json::json!(["needs_revision", "needs_revision", "max_iterations_reached"])
    );
    assert_eq!(x["attention"], true);
    let summary = x["summary"].as_str().unwrap();
    assert!(
        summary.contains("max_iterations_reached at iteration 2"),
        "{summary}"
    );
    assert!(summary.contains("iterations used up"), "{summary}");
    let unmet = findings_of(&x, "outcome_unmet");
    assert_eq!(unmet.len(), 1, "{x:#}");
    // check exits 1 on it now.
    assert_eq!(code(&run(&db, &["check", &s, "--now", NOW])), 1);
}

/// Defect 15: one custom call issued four times with the same input, and a write retried after
/// its tool answered is_error, went unnoticed.
///
/// Issue 11. Sample: `sample-logs/real/repeated-call.sesn_011CZrealRepeatedCall005.jsonl`.
#[test]
fn agent_loops_go_unnoticed() {
    let (_d, db, s) = db_with("repeated-call.");
    let x = explain_json(&db, &s, &[]);
    let loops = findings_of(&x, "repeated_call");
    assert_eq!(loops.len(), 2, "{x:#}");
    let first = loops[0]["message"].as_str().unwrap();
    assert!(first.contains("lookup_order called 4 times"), "{first}");
    assert!(first.contains("88412"), "{first}");
    assert_eq!(loops[0]["turn"], 1);
    let second = loops[1]["message"].as_str().unwrap();
    assert!(second.contains("write called 2 times"), "{second}");
    assert!(
        second.contains("retried after it answered is_error and failing again"),
        "{second}"
    );
    assert!(second.contains("/workspace/notes/orders.md"), "{second}");
    assert_eq!(loops[1]["turn"], 2);
}

/// An early refusal followed by a fine turn read "ok": the end state hid it.
///
/// Issue 11, "whole-session post-mortem".
/// Sample: `sample-logs/real/refusal-then-fine.sesn_011CZrealRefusalThenOk06.jsonl`.
#[test]
fn early_refusal_hidden_by_a_later_fine_turn() {
    let (_d, db, s) = db_with("refusal-then-fine.");
    let x = explain_json(&db, &s, &[]);
    assert_eq!(x["verdict"], "end_turn");
    let refusals = findings_of(&x, "refusal");
    assert_eq!(refusals.len(), 1, "{x:#}");
    assert_eq!(refusals[0]["turn"], 1);
    assert_eq!(refusals[0]["severity"], "error");
    assert_eq!(refusals[0]["offset_ms"], 105_000);
    assert!(
        refusals[0]["message"]
            .as_str()
            .unwrap()
            .contains("category cyber")
    );
    assert_eq!(code(&run(&db, &["check", &s, "--now", NOW])), 0);
    assert_eq!(
        code(&run(&db, &["check", &s, "--findings", "--now", NOW])),
        1
    );
    let text = stdout(&run(&db, &["explain", &s, "--now", NOW]));
    assert!(text.contains("findings (1):"), "{text}");
    assert!(text.contains("+1m45s"), "{text}");
}

/// A billing_error that used up the retries: the finding names the chain.
///
/// Issue 11, "whole-session post-mortem" (`retries_exhausted`).
/// Sample: `sample-logs/real/billing-exhausted.sesn_011CZrealBillingExhaus03.jsonl`.
#[test]
fn exhausted_billing_error_without_its_chain() {
    let (_d, db, s) = db_with("billing-exhausted.");
    let x = explain_json(&db, &s, &[]);
    let f = findings_of(&x, "retries_exhausted");
    assert_eq!(f.len(), 1, "{x:#}");
    let m = f[0]["message"].as_str().unwrap();
    assert!(
        m.contains(
            "billing_error (retrying) → billing_error (retrying) → billing_error (exhausted)"
        ),
        "{m}"
    );
    assert!(
        findings_of(&x, "error").is_empty(),
        "folded into the chain: {x:#}"
    );
}

/// A child thread left waiting on a confirmation while the session said end_turn, in the older
/// generation's shapes (`requires_action.event_ids`, no `stop_details`, no `evaluation`).
///
/// Issue 11, "whole-session post-mortem" (`thread_blocked`).
/// Sample: `sample-logs/real/child-waiting-old-shape.sesn_011CZrealChildWaitOld007.jsonl`.
#[test]
fn child_thread_left_waiting_under_end_turn() {
    let (_d, db, s) = db_with("child-waiting-old-shape.");
    let x = explain_json(&db, &s, &[]);
    let f = findings_of(&x, "thread_blocked");
    assert_eq!(f.len(), 1, "{x:#}");
    let m = f[0]["message"].as_str().unwrap();
    assert!(
        m.contains("(Deployer) is idle requires_action, waiting on sevt_"),
        "{m}"
    );
    assert!(m.contains("while the session is idle end_turn"), "{m}");
}

/// `--at` scopes the findings to the events at or before the point.
///
/// Issue 11, "whole-session post-mortem".
/// Sample: `sample-logs/real/refusal-then-fine.sesn_011CZrealRefusalThenOk06.jsonl`.
#[test]
fn findings_at_a_point_include_later_events() {
    let (_d, db, s) = db_with("refusal-then-fine.");
    let x = explain_json(&db, &s, &[]);
    let refusal_at = findings_of(&x, "refusal")[0]["event_id"]
        .as_str()
        .unwrap()
        .to_string();
    let at = explain_json(&db, &s, &["--at", &refusal_at]);
    assert_eq!(findings_of(&at, "refusal").len(), 1);
    let before = explain_json(&db, &s, &["--at", "+1m"]);
    assert_eq!(before["findings"], serde_json::json!([]), "{before:#}");
}

/// A redacted answer whose `processed_at` is `"..."` was processed (at a time the recording does
/// not tell): the explain verdict says so, and the findings must not call it queued.
///
/// Issue 11, defect 7, in the findings (`queued_answer`).
/// Samples: `sample-logs/real/invalid-processed-at.sesn_011CZinvalidProcessedAt9.jsonl` and
/// `queued-answer.sesn_011CZqueuedAnswer0000005.jsonl`.
#[test]
fn answer_with_a_processed_at_that_is_not_a_timestamp_is_not_a_queued_finding() {
    let (_dir, db, session) = db_with("invalid-processed-at.");
    let x = explain_json(&db, &session, &[]);
    assert!(
        findings_of(&x, "queued_answer").is_empty(),
        "{:#}",
        x["findings"]
    );
    // A true null processed_at still is.
    let (_dir, db, session) = db_with("queued-answer.");
    let x = explain_json(&db, &session, &[]);
    assert_eq!(
        findings_of(&x, "queued_answer").len(),
        1,
        "{:#}",
        x["findings"]
    );
}
