//! `flightrec stats` on the sample logs: token totals against an independent sum, tool latency
//! against `spans`, errors by type, cost estimates, the all-sessions report, snapshots.

use serde_json::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::util::*;

const HAPPY: &str = "sesn_011CZhappyPath0000000001";
const BUDGET: &str = "sesn_011CZbudgetReached000007";
const RETRIES: &str = "sesn_011CZretriesExhausted006";
const MCP: &str = "sesn_011CZmcpFailure000000009";

fn samples_db() -> (tempfile::TempDir, PathBuf) {
    let dir = tempdir();
    let db = dir.path().join("s.db");
    import_samples(&db);
    (dir, db)
}

fn stats_json(db: &Path, args: &[&str]) -> Value {
    let mut all = vec!["stats", "--json"];
    all.extend_from_slice(args);
    let o = run(db, &all);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    serde_json::from_str(&stdout(&o)).unwrap()
}

/// The oracle's events of one session (every sample file of it, read the simple way).
fn oracle_events(session: &str) -> Vec<Value> {
    let texts: Vec<String> = sample_files()
        .iter()
        .filter(|p| session_of(p) == session)
        .flat_map(|p| oracle_texts(p))
        .collect();
    expected_session(&texts)
}

/// The sums of `model_usage` over a session's `span.model_request_end` events.
fn usage_sums(session: &str) -> BTreeMap<&'static str, u64> {
    let mut sums = BTreeMap::new();
    let mut requests = 0;
    for e in oracle_events(session) {
        if e["type"] != "span.model_request_end" {
            continue;
        }
        requests += 1;
        for k in [
            "input_tokens",
            "output_tokens",
            "cache_read_input_tokens",
            "cache_creation_input_tokens",
        ] {
            *sums.entry(k).or_insert(0) += e["model_usage"][k].as_u64().unwrap();
        }
    }
    sums.insert("requests", requests);
    sums
}

fn check_totals(tokens: &Value, sums: &BTreeMap<&str, u64>) {
    for (k, v) in sums {
        assert_eq!(tokens[k].as_u64(), Some(*v), "{k} in {tokens}");
    }
    let (i, r, c) = (
        sums["input_tokens"] as f64,
        sums["cache_read_input_tokens"] as f64,
        sums["cache_creation_input_tokens"] as f64,
    );
    let ratio = tokens["cache_hit_ratio"].as_f64().unwrap();
    assert!((ratio - r / (i + r + c)).abs() < 1e-12, "{ratio}");
}

#[test]
fn token_totals_equal_the_sum_of_model_usage() {
    let (_d, db) = samples_db();
    for session in [HAPPY, BUDGET, RETRIES, MCP] {
        let s = stats_json(&db, &[session]);
        let sums = usage_sums(session);
        assert!(sums["requests"] > 0, "{session}");
        check_totals(&s["tokens"], &sums);
        // No session object, no agent in a `session.updated`: one row, model unknown.
        let models = s["models"].as_array().unwrap();
        assert_eq!(models.len(), 1, "{session}");
        check_totals(&models[0], &sums);
    }
}

#[test]
fn budget_reached_totals_agree_with_the_servers_session_usage() {
    // The README: each `session.usage` total is the sum of the file's `model_usage` values.
    let (_d, db) = samples_db();
    let s = stats_json(&db, &[BUDGET]);
    let sums = usage_sums(BUDGET);
    let newest = oracle_events(BUDGET)
        .into_iter()
        .rfind(|e| e["type"] == "session.usage")
        .unwrap();
    let r = &s["reported"];
    assert_eq!(r["event_id"], newest["id"]);
    let u = &newest["usage"];
    assert_eq!(r["input_tokens"], u["input_tokens"]);
    assert_eq!(r["input_tokens"].as_u64(), Some(sums["input_tokens"]));
    assert_eq!(r["output_tokens"].as_u64(), Some(sums["output_tokens"]));
    assert_eq!(
        r["cache_read_input_tokens"].as_u64(),
        Some(sums["cache_read_input_tokens"])
    );
    assert_eq!(
        r["cache_creation_5m_input_tokens"].as_u64(),
        Some(sums["cache_creation_input_tokens"])
    );
    let cents: f64 = u["list_cost"]["amount"].as_str().unwrap().parse().unwrap();
    assert_eq!(r["list_cost_usd"].as_f64(), Some(cents / 100.0));
}

/// Nearest-rank percentile of ascending values.
fn percentile(sorted: &[f64], p: f64) -> f64 {
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

#[test]
fn happy_path_tool_latency_matches_its_spans() {
    let (_d, db) = samples_db();
    let o = run(&db, &["spans", HAPPY, "--json"]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let spans: Vec<Value> = serde_json::from_str(&stdout(&o)).unwrap();
    let mut by_tool: BTreeMap<String, Vec<f64>> = BTreeMap::new();
    for s in spans.iter().filter(|s| s["kind"] == "tool") {
        by_tool
            .entry(s["name"].as_str().unwrap().to_string())
            .or_default()
            .push(s["duration_ms"].as_f64().unwrap());
    }
    let s = stats_json(&db, &[HAPPY]);
    let tools = s["tools"].as_array().unwrap();
    let names: Vec<&str> = tools.iter().map(|t| t["tool"].as_str().unwrap()).collect();
    assert_eq!(names, ["bash", "edit", "grep", "read"]);
    for t in tools {
        let mut d = by_tool[t["tool"].as_str().unwrap()].clone();
        d.sort_by(f64::total_cmp);
        assert_eq!(t["kind"], "tool");
        assert_eq!(t["calls"].as_u64(), Some(d.len() as u64), "{t}");
        assert_eq!(t["completed"].as_u64(), Some(d.len() as u64), "{t}");
        assert_eq!(t["errors"], 0);
        assert_eq!(t["p50_ms"].as_f64(), Some(percentile(&d, 50.0)), "{t}");
        assert_eq!(t["p95_ms"].as_f64(), Some(percentile(&d, 95.0)), "{t}");
        assert_eq!(t["max_ms"].as_f64(), d.last().copied(), "{t}");
    }
    // bash ran twice: pytest on one file, then the full suite.
    assert_eq!(tools[0]["calls"], 2);
}

fn errors(s: &Value) -> Vec<(String, String, u64)> {
    s["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["source"].as_str().unwrap().to_string(),
                e["error_type"].as_str().unwrap().to_string(),
                e["count"].as_u64().unwrap(),
            )
        })
        .collect()
}

fn owned(v: &[(&str, &str, u64)]) -> Vec<(String, String, u64)> {
    v.iter()
        .map(|(a, b, n)| (a.to_string(), b.to_string(), *n))
        .collect()
}

#[test]
fn errors_by_type_for_retries_exhausted_and_mcp_failure() {
    let (_d, db) = samples_db();
    let s = stats_json(&db, &[RETRIES]);
    assert_eq!(
        errors(&s),
        owned(&[
            ("session.error", "model_overloaded_error", 3),
            ("span.model_request_end", "is_error", 3),
        ])
    );
    let retry = &s["errors"][0]["retry_statuses"];
    assert_eq!(retry, &serde_json::json!({"retrying": 2, "exhausted": 1}));
    // Independently: the session errors of the recording, by type.
    let oracle = oracle_events(RETRIES);
    let n = |t: &str| oracle.iter().filter(|e| e["type"] == t).count() as u64;
    assert_eq!(n("session.error"), 3);
    assert_eq!(s["tokens"]["failed_requests"], 3);

    let s = stats_json(&db, &[MCP]);
    assert_eq!(
        errors(&s),
        owned(&[
            ("agent.mcp_tool_result", "github.search_pull_requests", 1),
            ("session.error", "mcp_connection_failed_error", 1),
        ])
    );
    let mcp = s["tools"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["kind"] == "mcp_tool")
        .unwrap();
    assert_eq!(mcp["tool"], "github.search_pull_requests");
    assert_eq!(
        (mcp["calls"].as_u64(), mcp["errors"].as_u64()),
        (Some(2), Some(1))
    );
}

#[test]
fn a_stored_session_object_prices_the_requests() {
    let (d, db) = samples_db();
    // The samples' list costs use Opus 4.5–5 rates; the session object names such a model.
    let object = d.path().join(format!("object.{BUDGET}.json"));
    let text = format!(
        r#"{{"type":"session","id":"{BUDGET}","status":"idle","agent":{{"type":"agent","id":"agent_x","version":1,"name":"n","model":{{"id":"claude-opus-4-6","speed":"standard"}}}}}}"#
    );
    std::fs::write(&object, text).unwrap();
    let o = run(&db, &["import", object.to_str().unwrap()]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let s = stats_json(&db, &[BUDGET]);
    let m = &s["models"][0];
    assert_eq!(m["model"], "claude-opus-4-6");
    assert_eq!(m["priced_as"], "claude-opus-4-6");
    let sums = usage_sums(BUDGET);
    let expected = (sums["input_tokens"] as f64 * 5.0
        + sums["output_tokens"] as f64 * 25.0
        + sums["cache_read_input_tokens"] as f64 * 0.5
        + sums["cache_creation_input_tokens"] as f64 * 6.25)
        / 1e6;
    let cost = m["cost_usd"].as_f64().unwrap();
    assert!((cost - expected).abs() < 1e-9, "{cost} vs {expected}");
    assert_eq!(s["cost"]["estimate_usd"].as_f64(), Some(cost));
    assert_eq!(s["cost"]["complete"], true);
    // The same rates as the server's (rounded to cents) list cost.
    let reported = s["reported"]["list_cost_usd"].as_f64().unwrap();
    assert_eq!((cost * 100.0).round() / 100.0, reported);
    let o = run(&db, &["stats", BUDGET]);
    assert!(stdout(&o).contains("claude-opus-4-6"), "{}", stdout(&o));

    // Without an object the model is unknown: no price, never zero.
    let s = stats_json(&db, &[HAPPY]);
    let m = &s["models"][0];
    assert_eq!(
        (&m["model"], &m["priced_as"], &m["cost_usd"]),
        (&Value::Null, &Value::Null, &Value::Null)
    );
    assert_eq!(s["cost"]["estimate_usd"], Value::Null);
    assert_eq!(s["cost"]["unpriced_requests"], 5);
    let o = run(&db, &["stats", HAPPY]);
    assert!(stdout(&o).contains("no price"), "{}", stdout(&o));
}

#[test]
fn every_session_has_a_row_and_the_totals_add_up() {
    let (_d, db) = samples_db();
    let s = stats_json(&db, &[]);
    let rows = s["sessions"].as_array().unwrap();
    assert_eq!(rows.len(), sample_sessions().len());
    let sum = |k: &str| rows.iter().map(|r| r[k].as_u64().unwrap()).sum::<u64>();
    for k in [
        "requests",
        "input_tokens",
        "output_tokens",
        "cache_read_input_tokens",
        "cache_creation_input_tokens",
    ] {
        assert_eq!(s["totals"]["tokens"][k].as_u64(), Some(sum(k)), "{k}");
    }
    let happy = rows.iter().find(|r| r["id"] == HAPPY).unwrap();
    assert_eq!(
        happy["requests"].as_u64(),
        Some(usage_sums(HAPPY)["requests"])
    );
    assert_eq!(happy["tool_calls"], 5);
    // The slowest spans over every session name their session.
    let slowest = s["totals"]["slowest_spans"].as_array().unwrap();
    assert_eq!(slowest.len(), 10);
    assert!(slowest.iter().all(|x| x["session_id"].as_str().is_some()));
    let o = run(&db, &["stats"]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert!(stdout(&o).contains("Totals over every session"));
}

#[test]
fn an_unknown_session_is_one_line_and_exit_2() {
    let (_d, db) = samples_db();
    let o = run(&db, &["stats", "sesn_nope"]);
    assert_eq!(code(&o), 2);
    assert_eq!(stderr(&o).lines().count(), 1, "{}", stderr(&o));
    assert!(
        stderr(&o).contains("no session sesn_nope"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn stats_json_snapshots() {
    let (_d, db) = samples_db();
    for (name, session) in [
        ("happy_path", HAPPY),
        ("retries_exhausted", RETRIES),
        ("mcp_failure", MCP),
    ] {
        let s = stats_json(&db, &[session]);
        insta::assert_json_snapshot!(format!("stats_{name}"), s);
    }
}
