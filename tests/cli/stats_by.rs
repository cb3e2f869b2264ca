//! `flightrec stats --by agent|model|day` and `--since/--until` across sessions, on a real
//! database imported from the samples, the two real dumps that carry an agent, and session
//! objects that give two sample sessions an agent and a priced model.

use serde_json::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::util::*;

const BUDGET: &str = "sesn_011CZbudgetReached000007";
/// Its events run from 2026-08-06T22:10:14Z to 2026-08-07T12:42:10Z: across midnight.
const DELETED: &str = "sesn_011CZdeleted000000000015";
const TOKENS: [&str; 5] = [
    "requests",
    "input_tokens",
    "output_tokens",
    "cache_read_input_tokens",
    "cache_creation_input_tokens",
];

fn object(dir: &Path, session: &str, agent: &str, name: &str, model: &str) -> String {
    let path = dir.join(format!("object.{session}.json"));
    let text = format!(
        r#"{{"type":"session","id":"{session}","status":"idle","agent":{{"type":"agent","id":"{agent}","version":1,"name":"{name}","model":{{"id":"{model}","speed":"standard"}}}}}}"#
    );
    std::fs::write(&path, text).unwrap();
    path.display().to_string()
}

fn db() -> (tempfile::TempDir, PathBuf) {
    let dir = tempdir();
    let db = dir.path().join("t.db");
    import_samples(&db);
    let files = [
        real_samples_dir()
            .join("session-facts.sesn_011CZsessionFacts0000001.json")
            .display()
            .to_string(),
        real_samples_dir()
            .join("script-dump.sesn_011CZdumpThreads00000001.json")
            .display()
            .to_string(),
        object(
            dir.path(),
            BUDGET,
            "agent_budget",
            "Budget bot",
            "claude-opus-4-6",
        ),
        object(
            dir.path(),
            DELETED,
            "agent_night",
            "Night shift",
            "claude-sonnet-4-6",
        ),
    ];
    let mut args = vec!["import"];
    args.extend(files.iter().map(String::as_str));
    let o = run(&db, &args);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    (dir, db)
}

fn json(db: &Path, args: &[&str]) -> Value {
    let o = run(db, args);
    assert_eq!(code(&o), 0, "{args:?}: {}", stderr(&o));
    serde_json::from_str(&stdout(&o)).unwrap()
}

fn by(db: &Path, group: &str, extra: &[&str]) -> Value {
    let mut args = vec!["stats", "--json", "--by", group];
    args.extend_from_slice(extra);
    json(db, &args)
}

fn groups(v: &Value) -> &Vec<Value> {
    v["groups"].as_array().unwrap()
}

fn cost(v: &Value) -> f64 {
    v["estimate_usd"].as_f64().unwrap_or(0.0)
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() < 1e-9
}

#[test]
fn groups_add_up_to_the_all_sessions_totals_in_tokens_and_cost() {
    let (_d, db) = db();
    let all = json(&db, &["stats", "--json"]);
    let totals = &all["totals"];
    let all_cost = totals["cost"]["estimate_usd"].as_f64().unwrap();
    assert!(all_cost > 0.01, "two models are priced: {all_cost}");
    for group in ["agent", "model", "day"] {
        let v = by(&db, group, &[]);
        let rows = groups(&v);
        assert!(rows.len() >= 2, "{group}: {rows:?}");
        for k in TOKENS {
            let sum: u64 = rows.iter().map(|r| r[k].as_u64().unwrap()).sum();
            assert_eq!(Some(sum), totals["tokens"][k].as_u64(), "{group} {k}");
            assert_eq!(v["total"][k].as_u64(), Some(sum), "{group} {k}");
        }
        let sum: f64 = rows.iter().map(cost).sum();
        assert!(close(sum, all_cost), "{group}: {sum} vs {all_cost}");
        assert!(close(cost(&v["total"]), all_cost), "{group}");
        let unpriced: u64 = rows
            .iter()
            .map(|r| r["unpriced_requests"].as_u64().unwrap())
            .sum();
        assert_eq!(Some(unpriced), totals["cost"]["unpriced_requests"].as_u64());
        let shares: f64 = rows.iter().filter_map(|r| r["share"].as_f64()).sum();
        assert!(close(shares, 1.0), "{group}: shares {shares}");
        assert_eq!(v["sessions_selected"], 18);
    }
}

#[test]
fn agents_are_named_as_sessions_shows_them_and_unknown_otherwise() {
    let (_d, db) = db();
    let v = by(&db, "agent", &[]);
    let row = |key: &str| groups(&v).iter().find(|r| r["key"] == key).cloned();
    let budget = row("Budget bot").unwrap();
    assert_eq!(budget["agent_id"], "agent_budget");
    assert_eq!(budget["sessions"], 1);
    let alone = json(&db, &["stats", "--json", BUDGET]);
    assert_eq!(budget["requests"], alone["tokens"]["requests"]);
    assert!(close(
        cost(&budget),
        alone["cost"]["estimate_usd"].as_f64().unwrap()
    ));
    assert_eq!(
        row("Lead analyst").unwrap()["agent_id"],
        "agent_011CZfactsLead000001"
    );
    assert_eq!(row("Night shift").unwrap()["sessions"], 1);
    let unknown = row("(unknown)").unwrap();
    assert_eq!(unknown["agent_id"], Value::Null);
    let with_requests = json(&db, &["stats", "--json"])["sessions"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["requests"].as_u64() > Some(0))
        .count() as u64;
    assert_eq!(
        unknown["sessions"].as_u64(),
        Some(with_requests - 3),
        "every session with requests but those of the three agents"
    );
    let o = run(&db, &["stats", "--by", "agent"]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let text = stdout(&o);
    for want in ["AGENT", "SHARE", "Budget bot", "(unknown)", "total"] {
        assert!(text.contains(want), "{want} not in:\n{text}");
    }
}

/// A session made of the deleted sample's turn (22:10 on 2026-08-06) and a copy of it two hours
/// later (00:10 the next day), with an agent that prices its requests.
const MIDNIGHT: &str = "sesn_011CZmidnight00000000001";

fn import_midnight(dir: &Path, db: &Path) {
    let text =
        std::fs::read_to_string(samples_dir().join(format!("deleted.{DELETED}.jsonl"))).unwrap();
    let turn: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .filter(|e: &Value| e["type"] != "session.deleted")
        .collect();
    let mut lines: Vec<String> = turn.iter().map(Value::to_string).collect();
    for line in lines.clone() {
        // Every id, and every reference to one (`model_request_start_id`, `tool_use_id`), anew.
        let line = line
            .replace("\"sevt_011CZ", "\"sevt_022CZ")
            .replace("\"2026-08-06T22:", "\"2026-08-07T00:");
        lines.push(line);
    }
    let log = dir.join(format!("midnight.{MIDNIGHT}.jsonl"));
    std::fs::write(&log, lines.join("\n") + "\n").unwrap();
    let obj = object(dir, MIDNIGHT, "agent_owl", "Night owl", "claude-sonnet-4-6");
    let o = run(db, &["import", log.to_str().unwrap(), &obj]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
}

/// The UTC day of each of `session`'s requests, with its count and cost.
fn request_days(db: &Path, session: &str) -> BTreeMap<String, (u64, f64)> {
    let v = json(db, &["stats", "--json", "--requests", session]);
    let mut days = BTreeMap::new();
    for r in v["requests"].as_array().unwrap() {
        let day = r["started_at"].as_str().unwrap()[..10].to_string();
        let e = days.entry(day).or_insert((0, 0.0));
        e.0 += 1;
        e.1 += r["cost_usd"].as_f64().unwrap();
    }
    days
}

#[test]
fn a_session_across_midnight_splits_across_two_days() {
    let (d, db) = db();
    import_midnight(d.path(), &db);
    let days = request_days(&db, MIDNIGHT);
    let keys: Vec<&str> = days.keys().map(String::as_str).collect();
    assert_eq!(keys, ["2026-08-06", "2026-08-07"]);
    assert_eq!((days["2026-08-06"].0, days["2026-08-07"].0), (2, 2));
    // The deleted sample runs past midnight too, but made its requests before it.
    let deleted = request_days(&db, DELETED);
    assert_eq!(deleted.keys().collect::<Vec<_>>(), ["2026-08-06"]);

    let v = by(&db, "day", &[]);
    let row = |key: &str| {
        groups(&v)
            .iter()
            .find(|r| r["key"] == key)
            .cloned()
            .unwrap()
    };
    // Only these two sessions ran on the 6th: their requests before midnight are that day's row.
    let sixth = row("2026-08-06");
    assert_eq!(sixth["sessions"], 2);
    let (n, c) = (
        days["2026-08-06"].0 + deleted["2026-08-06"].0,
        days["2026-08-06"].1 + deleted["2026-08-06"].1,
    );
    assert_eq!(sixth["requests"].as_u64(), Some(n));
    assert!(close(cost(&sixth), c), "{} vs {c}", cost(&sixth));
    // The rest of the midnight session counts on the 7th, with the other sessions of that day.
    let seventh = row("2026-08-07");
    let sample_seventh = by(&db, "day", &["--since", "2026-08-07T00:30:00Z"]);
    let later = groups(&sample_seventh)
        .iter()
        .find(|r| r["key"] == "2026-08-07")
        .unwrap();
    assert_eq!(
        seventh["requests"].as_u64().unwrap(),
        later["requests"].as_u64().unwrap() + days["2026-08-07"].0,
        "the 7th is the samples' requests plus the midnight session's two after midnight"
    );
    assert_eq!(
        seventh["sessions"].as_u64(),
        Some(later["sessions"].as_u64().unwrap() + 1)
    );
    let keys: Vec<&str> = groups(&v)
        .iter()
        .map(|r| r["key"].as_str().unwrap())
        .collect();
    let mut sorted = keys.clone();
    sorted.sort();
    assert_eq!(keys, sorted, "days in order");
    // A window ending at midnight keeps the sessions active then, and only their requests before.
    let v = by(&db, "day", &["--until", "2026-08-07"]);
    assert_eq!(v["sessions_selected"], 2);
    assert_eq!(v["until"], "2026-08-07T00:00:00.000Z");
    let keys: Vec<&str> = groups(&v)
        .iter()
        .map(|r| r["key"].as_str().unwrap())
        .collect();
    assert_eq!(keys, ["2026-08-06"]);
    assert_eq!(v["total"]["requests"].as_u64(), Some(n));
}

#[test]
fn since_with_a_fixed_now_selects_the_sessions_active_then() {
    let (_d, db) = db();
    let now = ["--now", "2026-08-07T22:00:00Z"];
    // 4h before 22:00 is 18:00: the sessions whose last event is at or after it.
    let ids = |v: &Value| -> Vec<String> {
        v["sessions"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["id"].as_str().unwrap().to_string())
            .collect()
    };
    let v = json(&db, &["stats", "--json", "--since", "4h", now[0], now[1]]);
    let listed = json(&db, &["sessions", "--json"]);
    let mut want: Vec<String> = listed
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["last_event_at"].as_str().unwrap() >= "2026-08-07T18:00:00")
        .map(|s| s["id"].as_str().unwrap().to_string())
        .collect();
    let mut got = ids(&v);
    want.sort();
    got.sort();
    assert_eq!(got, want);
    assert_eq!(got.len(), 6, "{got:?}");
    // Until 19:00 as well: only the budget session ran between them.
    let until = ["--until", "2026-08-07T19:00:00Z"];
    let v = json(
        &db,
        &[
            "stats", "--json", "--since", "4h", until[0], until[1], now[0], now[1],
        ],
    );
    assert_eq!(ids(&v), [BUDGET]);
    let g = by(
        &db,
        "model",
        &["--since", "4h", until[0], until[1], now[0], now[1]],
    );
    assert_eq!(g["sessions_selected"], 1);
    assert_eq!(g["since"], "2026-08-07T18:00:00.000Z");
    let rows = groups(&g);
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert_eq!(rows[0]["key"], "claude-opus-4-6");
    assert_eq!(rows[0]["requests"], v["totals"]["tokens"]["requests"]);
    assert!(close(
        cost(&rows[0]),
        v["totals"]["cost"]["estimate_usd"].as_f64().unwrap()
    ));
}

#[test]
fn a_bad_grouping_or_window_is_refused_in_one_line() {
    let (_d, db) = db();
    let o = run(&db, &["stats", "--by", "week"]);
    assert_eq!(code(&o), 2);
    let err = stderr(&o);
    assert!(!err.contains("panicked"), "{err}");
    let first = err.lines().next().unwrap();
    for want in ["--by", "'week'", "agent, model or day"] {
        assert!(first.contains(want), "{want} not in: {err}");
    }
    for (args, want) in [
        (
            &["stats", DELETED, "--by", "day"][..],
            "leave out the session",
        ),
        (
            &["stats", "--by", "day", "--since", "+1h"][..],
            "--since +DURATION",
        ),
    ] {
        let o = run(&db, args);
        assert_eq!(code(&o), 2, "{args:?}");
        let err = stderr(&o);
        assert_eq!(err.lines().count(), 1, "{err}");
        assert!(err.contains(want), "{err}");
    }
}

#[test]
fn stats_by_model_json_snapshot() {
    let (_d, db) = db();
    insta::assert_json_snapshot!("stats_by_model", by(&db, "model", &[]));
}

#[test]
fn import_caches_each_sessions_requests_and_the_cache_answers_as_the_events_do() {
    let (_d, db) = db();
    let c = rusqlite::Connection::open(&db).unwrap();
    let count = |sql: &str| -> i64 { c.query_row(sql, [], |r| r.get(0)).unwrap() };
    let sessions = count("SELECT count(*) FROM sessions");
    assert!(sessions >= 18, "{sessions}");
    assert_eq!(
        count("SELECT count(*) FROM session_cache WHERE kind LIKE 'requests@%'"),
        sessions,
        "every imported session's requests are cached by the import"
    );
    assert_eq!(
        count("SELECT count(*) FROM session_results WHERE kind LIKE 'stats@%'"),
        sessions,
        "and its statistics"
    );
    let answers = || {
        let mut v: Vec<Value> = ["agent", "model", "day"]
            .iter()
            .map(|g| by(&db, g, &[]))
            .collect();
        let all = run(&db, &["stats", "--requests", "--json"]);
        assert_eq!(code(&all), 0, "{}", stderr(&all));
        v.push(serde_json::from_str(&stdout(&all)).unwrap());
        v
    };
    let from_cache = answers();
    c.execute_batch("DELETE FROM session_cache; DELETE FROM session_results;")
        .unwrap();
    let from_events = answers();
    assert_eq!(from_cache, from_events);
    assert_eq!(
        count("SELECT count(*) FROM session_cache") + count("SELECT count(*) FROM session_results"),
        0,
        "stats reads only"
    );
}
