//! Ids people can type: a session by a unique prefix or suffix of its id, `latest`,
//! `latest-stuck`; an event by a unique prefix or suffix for `--at`; the one-line errors, with
//! candidates, when none or several match.

use serde_json::Value;
use std::path::Path;

use crate::explain::{HAPPY, NOW, STUCK, samples_db};
use crate::util::*;

/// A prefix and a suffix of [`STUCK`] that no other sample shares.
const STUCK_PREFIX: &str = "sesn_011CZstuck";
const STUCK_SUFFIX: &str = "Tool0002";
/// The custom tool use of [`STUCK`]'s first turn, a unique prefix and a unique suffix of it.
const TOOL_USE: &str = "sevt_011CZkS3VVdQeUg4Fd5rLOiC";
const TOOL_USE_PREFIX: &str = "sevt_011CZkS3VVd";
const TOOL_USE_SUFFIX: &str = "QeUg4Fd5rLOiC";

fn json(o: &std::process::Output) -> Value {
    assert_eq!(code(o), 0, "{}", stderr(o));
    serde_json::from_str(&stdout(o)).unwrap()
}

/// Asserts one error line holding every needle, and exit 2 (today's "no such session" code).
fn assert_error(o: &std::process::Output, needles: &[&str]) -> String {
    assert_eq!(code(o), 2, "{}", stderr(o));
    let err = stderr(o);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.starts_with("flightrec: error: "), "{err}");
    for n in needles {
        assert!(err.contains(n), "'{n}' not in: {err}");
    }
    err
}

/// A new database holding the given samples (by scenario name), imported by the real binary.
fn db_of(dir: &Path, scenarios: &[&str]) -> std::path::PathBuf {
    let db = dir.join("t.db");
    for s in scenarios {
        let file = sample_files()
            .into_iter()
            .find(|p| p.file_name().unwrap().to_string_lossy().starts_with(s))
            .unwrap();
        let o = run(&db, &["import", file.to_str().unwrap()]);
        assert_eq!(code(&o), 0, "{}", stderr(&o));
    }
    db
}

#[test]
fn a_unique_prefix_or_suffix_names_the_session_in_every_reading_command() {
    let db = samples_db();
    let commands: [&[&str]; 9] = [
        &["timeline", "--json"],
        &["spans", "--json"],
        &["state", "--json"],
        &["explain", "--json", "--now", NOW],
        &["stats", "--json"],
        &["capture", "--json"],
        &["export", "--format", "jsonl"],
        &["redact", "--preview", "--json", "--redact-key", "k"],
        &["replay", "--no-wait", "--color", "never"],
    ];
    for cmd in commands {
        let with = |name: &str| {
            let mut args = vec![cmd[0], name];
            args.extend(&cmd[1..]);
            let o = run(db, &args);
            assert_eq!(code(&o), 0, "{args:?}: {}", stderr(&o));
            stdout(&o)
        };
        let full = with(STUCK);
        assert!(full.len() > 10, "{cmd:?}: {full}");
        assert_eq!(with(STUCK_PREFIX), full, "{cmd:?} by prefix");
        assert_eq!(with(STUCK_SUFFIX), full, "{cmd:?} by suffix");
    }
}

#[test]
fn check_diff_and_search_take_prefixes_too() {
    let db = samples_db();
    let o = run(
        db,
        &["check", "happyPath0000000001", STUCK_PREFIX, "--now", NOW],
    );
    assert_eq!(code(&o), 1, "{}", stderr(&o));
    let out = stdout(&o);
    let lines: Vec<&str> = out.lines().collect();
    assert!(lines[0].starts_with(&format!("{HAPPY}  ok")), "{out}");
    assert!(
        lines[1].starts_with(&format!("{STUCK}  ATTENTION")),
        "{out}"
    );

    let diff = |a: &str, b: &str| {
        let o = run(db, &["diff", a, b, "--json", "--now", NOW]);
        assert_eq!(code(&o), 1, "they diverge: {}", stderr(&o));
        serde_json::from_str::<Value>(&stdout(&o)).unwrap()
    };
    assert_eq!(diff("sesn_011CZhappy", STUCK_SUFFIX), diff(HAPPY, STUCK));

    let by_id = json(&run(
        db,
        &["search", "weather", "--session", STUCK, "--json"],
    ));
    let typed = json(&run(
        db,
        &["search", "weather", "--session", STUCK_PREFIX, "--json"],
    ));
    assert!(!by_id.as_array().unwrap().is_empty());
    assert_eq!(typed, by_id);
}

/// The newest `processed_at` of each sample, read the simple way.
fn newest_by_oracle(scenarios: &[&str]) -> String {
    let mut best: Option<(chrono::DateTime<chrono::FixedOffset>, String)> = None;
    for file in sample_files() {
        let name = file.file_name().unwrap().to_string_lossy().into_owned();
        if !scenarios.iter().any(|s| name.starts_with(s)) {
            continue;
        }
        for text in oracle_texts(&file) {
            let v: Value = serde_json::from_str(&text).unwrap();
            let Some(t) = v["processed_at"].as_str() else {
                continue;
            };
            let t = chrono::DateTime::parse_from_rfc3339(t).unwrap();
            if best.as_ref().is_none_or(|(b, _)| t > *b) {
                best = Some((t, session_of(&file)));
            }
        }
    }
    best.unwrap().1
}

#[test]
fn latest_is_the_session_whose_newest_processed_event_is_newest() {
    let db = samples_db();
    let all: Vec<String> = sample_scenarios().into_iter().map(|(s, _)| s).collect();
    let all: Vec<&str> = all.iter().map(String::as_str).collect();
    let expected = newest_by_oracle(&all);
    let state = json(&run(db, &["state", "latest", "--json"]));
    assert_eq!(state["session_id"], expected.as_str());
    // The first row of `flightrec sessions` too.
    let list = json(&run(db, &["sessions", "--json"]));
    assert_eq!(list[0]["id"], expected.as_str());
}

#[test]
fn latest_stuck_skips_a_newer_healthy_session() {
    let dir = tempdir();
    let db = db_of(dir.path(), &["happy-path", "stuck-custom-tool"]);
    assert_eq!(
        newest_by_oracle(&["happy-path", "stuck-custom-tool"]),
        HAPPY
    );
    let latest = json(&run(&db, &["explain", "latest", "--json", "--now", NOW]));
    assert_eq!(latest["session_id"], HAPPY);
    assert_eq!(latest["attention"], false);
    let stuck = json(&run(
        &db,
        &["explain", "latest-stuck", "--json", "--now", NOW],
    ));
    assert_eq!(stuck["session_id"], STUCK);
    assert_eq!(stuck["attention"], true);
    // The same rule as `check`: it flags exactly that session.
    let o = run(&db, &["check", "latest-stuck", "latest", "--now", NOW]);
    assert_eq!(code(&o), 1, "{}", stderr(&o));
    assert!(stdout(&o).starts_with(&format!("{STUCK}  ATTENTION")));
}

#[test]
fn latest_stuck_with_every_session_healthy_says_so() {
    let dir = tempdir();
    let db = db_of(dir.path(), &["happy-path"]);
    let o = run(&db, &["timeline", "latest-stuck"]);
    assert_error(
        &o,
        &["latest-stuck", "none of the 1 sessions", "needs attention"],
    );
    // A database with no session: what an import of an empty file leaves (it fails).
    let empty = dir.path().join("empty.db");
    let nothing = dir.path().join("nothing.jsonl");
    std::fs::write(&nothing, "").unwrap();
    run(
        &empty,
        &["import", "--session", HAPPY, nothing.to_str().unwrap()],
    );
    assert!(empty.exists());
    let o = run(&empty, &["timeline", "latest"]);
    assert_error(&o, &["latest", "no sessions"]);
}

#[test]
fn an_ambiguous_prefix_lists_five_matches_with_status_and_last_activity() {
    let db = samples_db();
    let n = sample_sessions().len();
    let o = run(db, &["timeline", "sesn_011CZ"]);
    let err = assert_error(
        &o,
        &[
            &format!("'sesn_011CZ' names {n} sessions"),
            &format!("and {} more", n - 5),
            "type more of the id",
        ],
    );
    assert_eq!(err.matches("sesn_011CZ").count(), 1 + 5, "{err}");
    assert_eq!(err.matches(", last event 2026-").count(), 5, "{err}");
    // The most recently active first, with its status.
    let list = json(&run(db, &["sessions", "--json"]));
    let first = format!(
        "{} ({}, last event",
        list[0]["id"].as_str().unwrap(),
        list[0]["status"].as_str().unwrap()
    );
    assert!(err.contains(&first), "{first} not in {err}");
}

#[test]
fn no_match_names_the_nearest_id_or_keeps_the_plain_message() {
    let db = samples_db();
    let o = run(db, &["state", "sesn_011CZstuk"]);
    assert_error(
        &o,
        &[
            "no session sesn_011CZstuk in",
            &format!("nearest: {STUCK} (idle, last event"),
        ],
    );
    let o = run(db, &["state", "Tool0092"]);
    assert_error(&o, &[&format!("nearest: {STUCK} (")]);
    let o = run(db, &["state", "sesn_doesNotExist"]);
    let err = assert_error(&o, &["no session sesn_doesNotExist in"]);
    assert!(!err.contains("nearest"), "{err}");
}

#[test]
fn an_exact_id_wins_over_a_longer_id_it_is_a_prefix_of() {
    let dir = tempdir();
    let db = dir.path().join("t.db");
    for (session, scenario) in [
        ("sesn_abc", "happy-path"),
        ("sesn_abcd", "stuck-custom-tool"),
    ] {
        let file = sample_files()
            .into_iter()
            .find(|p| {
                p.file_name()
                    .unwrap()
                    .to_string_lossy()
                    .starts_with(scenario)
            })
            .unwrap();
        let o = run(
            &db,
            &["import", "--session", session, file.to_str().unwrap()],
        );
        assert_eq!(code(&o), 0, "{}", stderr(&o));
    }
    let state = json(&run(&db, &["state", "sesn_abc", "--json"]));
    assert_eq!(state["session_id"], "sesn_abc");
    let state = json(&run(&db, &["state", "bcd", "--json"]));
    assert_eq!(state["session_id"], "sesn_abcd");
    let o = run(&db, &["state", "sesn_ab"]);
    assert_error(
        &o,
        &["'sesn_ab' names 2 sessions", "sesn_abc (", "sesn_abcd ("],
    );
}

#[test]
fn a_unique_prefix_or_suffix_of_an_event_id_names_the_event_for_at() {
    let db = samples_db();
    for at in [TOOL_USE, TOOL_USE_PREFIX, TOOL_USE_SUFFIX] {
        let state = json(&run(db, &["state", STUCK_PREFIX, "--at", at, "--json"]));
        assert_eq!(state["at"]["event_id"], TOOL_USE, "--at {at}");
        let x = json(&run(
            db,
            &["explain", STUCK, "--at", at, "--json", "--now", NOW],
        ));
        assert_eq!(x["at"]["event_id"], TOOL_USE, "--at {at}");
    }
    let o = run(
        db,
        &[
            "replay",
            STUCK,
            "--from",
            TOOL_USE_PREFIX,
            "--to",
            TOOL_USE_SUFFIX,
            "--no-wait",
        ],
    );
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let out = stdout(&o);
    assert_eq!(out.matches("sevt_").count(), 1, "{out}");
    assert!(out.contains(TOOL_USE), "{out}");
}

#[test]
fn an_ambiguous_or_unknown_event_id_lists_candidates() {
    let db = samples_db();
    let rows = json(&run(db, &["timeline", STUCK, "--json"]));
    let n = rows
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["id"].as_str().unwrap().starts_with("sevt_011CZkS3"))
        .count();
    assert!(n > 5, "{n}");
    let o = run(db, &["state", STUCK, "--at", "sevt_011CZkS3"]);
    let err = assert_error(
        &o,
        &[
            &format!("'sevt_011CZkS3' names {n} events of session {STUCK}"),
            "(user.message, 2026-08-07T07:41:20.534Z)",
            &format!("and {} more", n - 5),
        ],
    );
    assert_eq!(err.matches("sevt_011CZkS3").count(), 1 + 5, "{err}");

    let o = run(db, &["state", STUCK, "--at", "sevt_011CZkS3VVdX"]);
    assert_error(
        &o,
        &[
            &format!("--at sevt_011CZkS3VVdX: session {STUCK} has no event with that id"),
            &format!("nearest: {TOOL_USE}"),
        ],
    );
    let o = run(db, &["spans", STUCK, "--at", "kS3VVd"]);
    assert_error(
        &o,
        &[
            "--at kS3VVd: not an event id",
            &format!("nearest: {TOOL_USE}"),
        ],
    );
}
