//! `flightrec state --at`: the reconstructed state at a meaningful point of every sample.

use serde_json::Value;
use std::path::Path;

use crate::explain::{real_samples_db, real_scenarios, samples_db};
use crate::util::*;

/// Per sample, a point worth looking at.
const POINTS: &[(&str, &str, &str)] = &[
    (
        "budget-reached",
        "sevt_011CZm0u3MArodqBIJu6fq0M",
        "the budget idle",
    ),
    (
        "compaction-outcome",
        "sevt_011CZk2wKvCeBG9RCQEeqKec",
        "mid-evaluation",
    ),
    ("deleted", "sevt_011CZj0ui0jCXLcFoufjHcvE", "a tool running"),
    (
        "future-types",
        "sevt_011CZmOBV0PhmhiELlawe61i",
        "an unknown type",
    ),
    (
        "happy-path",
        "sevt_011CZkgYeXpvzKF6HfuB00eP",
        "two parallel tools",
    ),
    (
        "mcp-failure",
        "sevt_011CZkqz2JnmCNqPEdGV1gVs",
        "the MCP error",
    ),
    (
        "multi-agent",
        "sevt_011CZl6UUbTrXb4X5f2qMiuW",
        "the child's call blocks",
    ),
    (
        "pending-confirmation",
        "sevt_011CZllSps1duOekAQRqIntp",
        "the blocking idle",
    ),
    (
        "queued-echo",
        "sevt_011CZlaPEWAG40Xii0gLxvNH",
        "the self-hosted idle",
    ),
    ("refusal", "sevt_011CZmAkfH9hGceLJFn0b6Eo", "the refusal"),
    (
        "rescheduled-terminated",
        "sevt_011CZmaO0D9eW26ZfoWs6q4q",
        "rescheduled",
    ),
    (
        "resolved-confirmation",
        "sevt_011CZlKc3fOLfp6EFGw5pH4n",
        "allowed, not yet running",
    ),
    (
        "retries-exhausted",
        "sevt_011CZjdbIYMOvd0uQLP3wtWI",
        "the second error",
    ),
    (
        "stuck-custom-tool",
        "sevt_011CZkSdRZv5oii67mqfgDw9",
        "the blocking idle",
    ),
    (
        "two-blocking-one-resolved",
        "sevt_011CZkxt7XeXjk1bo1Gw1CnV",
        "both blocking",
    ),
    (
        "workflow-run",
        "sevt_011CZlaHoykNVIRSsBiPPM4o",
        "the run after the idle",
    ),
];

/// `state --json` with every `fetched_at` (when an object was imported: the time of the test
/// run) masked.
pub fn masked(json: &str) -> String {
    json.lines()
        .map(|l| match l.find("\"fetched_at\": \"") {
            Some(i) => format!("{}\"fetched_at\": \"[import time]\",", &l[..i]),
            None => l.to_string(),
        })
        .collect::<Vec<_>>()
        .join("\n")
        + "\n"
}

/// The real-shape samples at their end (each is about how it ends).
#[test]
fn every_real_sample_snapshot_at_the_end() {
    let db = real_samples_db();
    for (scenario, session) in real_scenarios() {
        let o = run(db, &["state", &session, "--json"]);
        assert_eq!(code(&o), 0, "{scenario}: {}", stderr(&o));
        insta::assert_snapshot!(format!("state-real-{scenario}"), masked(&stdout(&o)));
    }
}

fn state(db: &Path, session: &str, at: &str) -> Value {
    let o = run(db, &["state", session, "--at", at, "--json"]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    serde_json::from_str(&stdout(&o)).unwrap()
}

fn session(scenario: &str) -> String {
    sample_scenarios()
        .into_iter()
        .find(|(s, _)| s == scenario)
        .map(|(_, id)| id)
        .unwrap()
}

#[test]
fn every_sample_snapshot_at_a_meaningful_point() {
    let db = samples_db();
    let scenarios = sample_scenarios();
    assert_eq!(scenarios.len(), POINTS.len());
    for (scenario, id, _) in POINTS {
        let o = run(db, &["state", &session(scenario), "--at", id, "--json"]);
        assert_eq!(code(&o), 0, "{scenario}: {}", stderr(&o));
        insta::assert_snapshot!(format!("state-{scenario}"), stdout(&o));
    }
}

#[test]
fn budget_pause_state_has_the_spend_and_the_threads() {
    let s = state(
        samples_db(),
        &session("budget-reached"),
        "sevt_011CZm0u3MArodqBIJu6fq0M",
    );
    assert_eq!(s["state"], "idle");
    assert_eq!(s["stop_reason"], "budget_reached");
    let u = &s["usage"];
    assert_eq!(u["model_requests"]["requests"], 5);
    assert_eq!(u["model_requests"]["input_tokens"], 9575);
    assert_eq!(u["session_usage"]["usage"]["list_cost"]["amount"], "27");
    assert_eq!(u["budget"]["budget"]["max_list_cost"]["amount"], "25");
    assert_eq!(s["threads"][0]["status"], "idle");
    assert_eq!(s["threads"][0]["stop_reason"], "budget_reached");
    assert_eq!(s["messages"][0]["user_messages"], 1);
    assert_eq!(s["messages"][0]["agent_messages"], 1);
    assert_eq!(s["blocking"], serde_json::json!([]));
}

#[test]
fn pending_actions_match_explain() {
    let db = samples_db();
    let stuck = session("stuck-custom-tool");
    let s = state(db, &stuck, "sevt_011CZkSdRZv5oii67mqfgDw9");
    let o = run(
        db,
        &[
            "explain",
            &stuck,
            "--json",
            "--at",
            "sevt_011CZkSdRZv5oii67mqfgDw9",
        ],
    );
    let x: Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(s["blocking"], x["blocking"], "one blocking logic for both");
    assert_eq!(
        s["blocking"][0]["event_id"],
        "sevt_011CZkSdM9xUzC45mZmCzS1G"
    );
    assert_eq!(s["blocking"][0]["resolved"], false);
    let open: Vec<&str> = s["open_spans"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["kind"].as_str().unwrap())
        .collect();
    assert_eq!(open, ["custom_tool"]);
}

#[test]
fn errors_so_far_and_per_thread_status() {
    let db = samples_db();
    let s = state(
        db,
        &session("retries-exhausted"),
        "sevt_011CZjdbIYMOvd0uQLP3wtWI",
    );
    assert_eq!(s["errors"].as_array().unwrap().len(), 2);
    assert_eq!(s["state"], "running", "the second error came while running");
    assert_eq!(s["usage"]["model_requests"]["failed_requests"], 2);
    let s = state(db, &session("multi-agent"), "sevt_011CZl6UUbTrXb4X5f2qMiuW");
    let threads: Vec<(&str, &str)> = s["threads"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            (
                t["agent_name"].as_str().unwrap(),
                t["status"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        threads,
        [
            ("Release analyst", "idle"),
            ("Web researcher", "idle"),
            ("anthropic.advisor", "terminated")
        ]
    );
    assert_eq!(
        s["blocking"][0]["thread_id"],
        "sthr_011CZl6Rtfu7chZiIs3X5sFW"
    );
}

#[test]
fn without_at_it_is_the_end_and_text_reads_well() {
    let db = samples_db();
    let o = run(db, &["state", &session("happy-path")]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let text = stdout(&o);
    assert!(
        text.contains("at the end of the recording") && text.contains("status: idle (end_turn)"),
        "{text}"
    );
    let o = run(
        db,
        &["state", "sesn_011CZnoSuchSession00000000", "--at", "+1s"],
    );
    assert_eq!(code(&o), 2);
    assert_eq!(stderr(&o).lines().count(), 1);
}
