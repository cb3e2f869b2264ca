//! Times on the command line (`1h`, `30m`, `2d` before now, dates, RFC 3339, `+DUR`) and the
//! `sessions` filters, on real databases imported from the samples. Relative times are counted
//! back from a fixed `--now`, so every test reads the same events whatever the date.

use serde_json::Value;
use std::path::{Path, PathBuf};

use crate::util::*;

const STUCK: &str = "sesn_011CZstuckCustomTool0002";
/// Its events run from 2026-08-06T22:10:14Z to 2026-08-07T12:42:10Z: across midnight.
const DELETED: &str = "sesn_011CZdeleted000000000015";
/// Imported from dumps with their session objects: agents "Lead analyst" and "Coordinator".
const FACTS: &str = "sesn_011CZsessionFacts0000001";
const DUMP: &str = "sesn_011CZdumpThreads00000001";

/// The samples, and the two real-shape dumps that carry a session object (and so an agent).
fn db() -> (tempfile::TempDir, PathBuf) {
    let dir = tempdir();
    let db = dir.path().join("t.db");
    import_samples(&db);
    let dumps = [
        "session-facts.sesn_011CZsessionFacts0000001.json",
        "script-dump.sesn_011CZdumpThreads00000001.json",
    ]
    .map(|f| real_samples_dir().join(f).display().to_string());
    let o = run(&db, &["import", &dumps[0], &dumps[1]]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    (dir, db)
}

fn json(db: &Path, args: &[&str]) -> Vec<Value> {
    let o = run(db, args);
    assert_eq!(code(&o), 0, "{args:?}: {}", stderr(&o));
    let v: Value = serde_json::from_str(&stdout(&o)).unwrap();
    v.as_array().unwrap().clone()
}

/// The `processed_at` of each timeline row.
fn times(db: &Path, session: &str, extra: &[&str]) -> Vec<String> {
    let mut args = vec!["timeline", session, "--json"];
    args.extend_from_slice(extra);
    json(db, &args)
        .iter()
        .map(|r| r["processed_at"].as_str().unwrap().to_string())
        .collect()
}

fn ids(rows: &[Value]) -> Vec<&str> {
    rows.iter().map(|r| r["id"].as_str().unwrap()).collect()
}

/// The error a bad argument gives: its first line, which must name `what`.
fn refused(o: &std::process::Output, what: &[&str]) -> String {
    assert_eq!(code(o), 2, "{}", stdout(o));
    let err = stderr(o);
    assert!(!err.contains("panicked"), "{err}");
    let first = err.lines().next().unwrap_or_default().to_string();
    for w in what {
        assert!(first.contains(w), "'{w}' not in: {err}");
    }
    first
}

#[test]
fn since_a_duration_counts_back_from_now() {
    let (_d, db) = db();
    let all = times(&db, STUCK, &[]);
    // 1h before 08:44:30 is 07:44:30, inside the session's four minutes.
    let hour = times(
        &db,
        STUCK,
        &["--since", "1h", "--now", "2026-08-07T08:44:30Z"],
    );
    let same = times(&db, STUCK, &["--since", "2026-08-07T07:44:30Z"]);
    assert_eq!(hour, same, "1h before --now is that RFC 3339 time");
    assert!(!hour.is_empty() && hour.len() < all.len(), "{hour:?}");
    assert!(hour.iter().all(|t| t.as_str() >= "2026-08-07T07:44:30"));

    let half = times(
        &db,
        STUCK,
        &["--since", "30m", "--now", "2026-08-07T08:14:30Z"],
    );
    assert_eq!(half, hour, "30m before 08:14:30 is 07:44:30 too");

    // --until 2d before 2026-08-09T07:43:00 is 2026-08-07T07:43:00.
    let early = times(
        &db,
        STUCK,
        &["--until", "2d", "--now", "2026-08-09T07:43:00Z"],
    );
    assert!(!early.is_empty() && early.len() < all.len(), "{early:?}");
    assert!(early.iter().all(|t| t.as_str() <= "2026-08-07T07:43:00"));
    assert_eq!(
        early.len() + hour.len(),
        all.len(),
        "the two windows split it"
    );
}

#[test]
fn a_date_is_midnight_utc() {
    let (_d, db) = db();
    let all = times(&db, DELETED, &[]);
    let after = times(&db, DELETED, &["--since", "2026-08-07"]);
    let before = times(&db, DELETED, &["--until", "2026-08-07"]);
    assert!(
        after.iter().all(|t| t.starts_with("2026-08-07")),
        "{after:?}"
    );
    assert!(
        before.iter().all(|t| t.starts_with("2026-08-06")),
        "{before:?}"
    );
    assert!(!after.is_empty() && !before.is_empty());
    assert_eq!(after.len() + before.len(), all.len());
    assert_eq!(
        after,
        times(&db, DELETED, &["--since", "2026-08-07T00:00:00Z"])
    );
}

#[test]
fn after_the_start_is_unchanged() {
    let (_d, db) = db();
    let rows = json(&db, &["timeline", STUCK, "--since", "+3m40s", "--json"]);
    assert!(!rows.is_empty());
    assert!(
        rows.iter()
            .all(|r| r["offset_us"].as_i64().unwrap() >= 220_000_000)
    );
}

#[test]
fn a_bad_time_is_one_error_naming_the_argument() {
    let (_d, db) = db();
    for (flag, bad) in [
        ("--since", "1x"),
        ("--until", "2026-13-01"),
        ("--since", "90"),
    ] {
        let o = run(&db, &["timeline", STUCK, flag, bad]);
        let line = refused(&o, &[flag, bad, "is not a time", "2d", "RFC 3339"]);
        assert!(line.starts_with("error: invalid value"), "{line}");
    }
    let o = run(&db, &["sessions", "--since", "yesterday"]);
    refused(&o, &["--since", "yesterday", "is not a time"]);
}

#[test]
fn until_before_since_is_refused() {
    let (_d, db) = db();
    let cases: [&[&str]; 3] = [
        &[
            "timeline",
            STUCK,
            "--since",
            "2026-08-08",
            "--until",
            "2026-08-07",
        ],
        &["sessions", "--since", "1h", "--until", "2h"],
        &[
            "search",
            "Voss",
            "--since",
            "+2m",
            "--until",
            "+1m",
            "--session",
            STUCK,
        ],
    ];
    for args in cases {
        let o = run(&db, args);
        let line = refused(&o, &["--until", "is before --since"]);
        assert!(line.starts_with("flightrec: error: "), "{line}");
        assert_eq!(stderr(&o).lines().count(), 1, "{}", stderr(&o));
    }
}

#[test]
fn after_the_start_needs_a_session() {
    let (_d, db) = db();
    for args in [
        &["sessions", "--since", "+1h"][..],
        &["search", "Voss", "--until", "+1m"][..],
    ] {
        let o = run(&db, args);
        refused(&o, &["+DURATION", "session"]);
    }
}

#[test]
fn search_takes_a_window() {
    let (_d, db) = db();
    let hits = |extra: &[&str]| -> Vec<String> {
        let mut args = vec!["search", "Voss", "--sort", "time", "--json"];
        args.extend_from_slice(extra);
        json(&db, &args)
            .iter()
            .map(|h| h["processed_at"].as_str().unwrap().to_string())
            .collect()
    };
    let all = hits(&[]);
    assert!(all.len() >= 3, "{all:?}");
    let late = hits(&["--since", "2026-08-07T07:45:04Z"]);
    assert!(!late.is_empty() && late.len() < all.len(), "{late:?}");
    assert!(late.iter().all(|t| t.as_str() >= "2026-08-07T07:45:04"));
    let early = hits(&["--until", "1d", "--now", "2026-08-08T07:45:04Z"]);
    assert_eq!(early.len() + late.len(), all.len(), "{early:?}");
    let in_session = hits(&["--session", STUCK, "--since", "+3m43.5s"]);
    assert_eq!(in_session, late);
    assert!(hits(&["--since", "2026-08-08"]).is_empty());
}

#[test]
fn sessions_filter_by_status() {
    let (_d, db) = db();
    let all = json(&db, &["sessions", "--json"]);
    let count = |s: &str| all.iter().filter(|r| r["status"] == s).count();
    let idle = json(&db, &["sessions", "--status", "idle", "--json"]);
    assert_eq!(idle.len(), count("idle"));
    assert!(idle.iter().all(|r| r["status"] == "idle"));
    let ended = json(
        &db,
        &["sessions", "--status", "terminated,deleted", "--json"],
    );
    let repeated = json(
        &db,
        &[
            "sessions",
            "--status",
            "terminated",
            "--status",
            "deleted",
            "--json",
        ],
    );
    assert_eq!(ended, repeated, "a comma list is the option repeated");
    assert_eq!(ended.len(), count("terminated") + count("deleted"));
    assert!(ended.len() >= 2 && ids(&ended).contains(&DELETED));
    let o = run(&db, &["sessions", "--status", "asleep"]);
    refused(&o, &["--status", "asleep"]);
}

#[test]
fn sessions_filter_by_stop_reason() {
    let (_d, db) = db();
    let blocked = json(
        &db,
        &["sessions", "--stop-reason", "requires_action", "--json"],
    );
    assert!(ids(&blocked).contains(&STUCK));
    assert!(
        blocked
            .iter()
            .all(|r| r["stop_reason"] == "requires_action")
    );
    let failed = json(
        &db,
        &[
            "sessions",
            "--stop-reason",
            "retries_exhausted,requires_action",
            "--json",
        ],
    );
    let retries = failed
        .iter()
        .filter(|r| r["stop_reason"] == "retries_exhausted")
        .count();
    assert!(retries >= 1 && failed.len() == blocked.len() + retries);
    // The union is open: a newer reason, as received, is found too.
    let newer = json(
        &db,
        &["sessions", "--stop-reason", "paused_for_review", "--json"],
    );
    assert_eq!(ids(&newer), ["sesn_011CZfutureTypes00000016"]);
    // A session that moved on from its idle (terminated) has no stop reason to match.
    let ended = json(
        &db,
        &[
            "sessions",
            "--status",
            "terminated",
            "--stop-reason",
            "end_turn",
            "--json",
        ],
    );
    assert!(ended.is_empty(), "{ended:?}");
    let o = run(&db, &["sessions", "--stop-reason", "End Turn"]);
    refused(&o, &["--stop-reason", "End Turn", "end_turn"]);
}

#[test]
fn sessions_filter_by_agent_id_or_name() {
    let (_d, db) = db();
    assert_eq!(
        ids(&json(
            &db,
            &[
                "sessions",
                "--agent",
                "agent_011CZfactsLead000001",
                "--json"
            ]
        )),
        [FACTS]
    );
    assert_eq!(
        ids(&json(
            &db,
            &["sessions", "--agent", "lead ANALYST", "--json"]
        )),
        [FACTS],
        "a name in any case"
    );
    assert_eq!(
        ids(&json(
            &db,
            &["sessions", "--agent", "Coordinator", "--json"]
        )),
        [DUMP]
    );
    assert!(json(&db, &["sessions", "--agent", "agent_011CZ", "--json"]).is_empty());
    let o = run(&db, &["sessions", "--agent", "nobody"]);
    assert_eq!(code(&o), 0);
    assert_eq!(stdout(&o), "", "no table of nothing");
    assert_eq!(stderr(&o), "flightrec: no sessions match these filters\n");
}

#[test]
fn sessions_active_since_and_until() {
    let (_d, db) = db();
    let all = json(&db, &["sessions", "--json"]);
    let now = ["--now", "2026-08-10T18:00:00Z"];
    // 1d before --now: sessions whose last event is on 2026-08-09T18:00 or later.
    let mut args = vec!["sessions", "--since", "1d", "--json"];
    args.extend(now);
    let recent = json(&db, &args);
    let expected: Vec<&Value> = all
        .iter()
        .filter(|r| {
            r["last_event_at"]
                .as_str()
                .is_some_and(|t| t >= "2026-08-09T18:00:00")
        })
        .collect();
    assert!(!recent.is_empty() && recent.len() < all.len());
    assert_eq!(recent.iter().collect::<Vec<_>>(), expected);
    // Active in a window: they end after it starts and start before it ends.
    let window = json(
        &db,
        &[
            "sessions",
            "--since",
            "2026-08-07T12:00:00Z",
            "--until",
            "2026-08-07T12:30:00Z",
            "--json",
        ],
    );
    assert_eq!(ids(&window), [DELETED, "sesn_011CZmultiAgent000000010"]);
}

#[test]
fn sessions_limit_keeps_the_most_recent() {
    let (_d, db) = db();
    let all = json(&db, &["sessions", "--json"]);
    let three = json(&db, &["sessions", "--limit", "3", "--json"]);
    assert_eq!(three, all[..3]);
    let idle_two = json(
        &db,
        &["sessions", "--status", "idle", "--limit", "2", "--json"],
    );
    assert_eq!(idle_two.len(), 2);
    assert!(idle_two.iter().all(|r| r["status"] == "idle"));
    assert!(json(&db, &["sessions", "--limit", "0", "--json"]).is_empty());
    let table = stdout(&run(&db, &["sessions", "--limit", "1"]));
    assert_eq!(table.lines().count(), 2, "a header and one row: {table}");
}

#[test]
fn sessions_json_shape() {
    let (_d, db) = db();
    let rows = json(
        &db,
        &[
            "sessions",
            "--since",
            "2026-09-01",
            "--stop-reason",
            "end_turn",
            "--json",
        ],
    );
    insta::assert_json_snapshot!("sessions-json-filtered", rows);
}

#[test]
fn spans_take_a_window_of_overlap() {
    let (_d, db) = db();
    let names = |extra: &[&str]| -> Vec<String> {
        let mut args = vec!["spans", STUCK, "--json"];
        args.extend_from_slice(extra);
        json(&db, &args)
            .iter()
            .map(|s| {
                format!(
                    "{} {}",
                    s["kind"].as_str().unwrap(),
                    s["start_id"].as_str().unwrap()
                )
            })
            .collect()
    };
    assert_eq!(names(&[]).len(), 5);
    // The last model request (+3m40s, 3.6s long) overlaps; the tool call after +3m44s does not.
    assert_eq!(
        names(&["--since", "+3m43s", "--until", "+3m44s"]),
        ["model_request sevt_011CZkScpe7U7rAHinAkBto3"]
    );
    // The open tool call is still going at any later time.
    let later = names(&["--since", "2026-08-08", "--now", "2026-08-09T00:00:00Z"]);
    assert_eq!(later, ["custom_tool sevt_011CZkSdM9xUzC45mZmCzS1G"]);
    assert_eq!(
        names(&["--since", "1d", "--now", "2026-08-09T00:00:00Z"]),
        later
    );
}

/// `explain --at 2h --now T` counts the two hours back from T, not from the wall clock: the same
/// command gives the same answer whatever the date it runs on.
#[test]
fn explain_at_a_relative_time_counts_back_from_now_when_given() {
    let (_d, db) = db();
    let o = run(
        &db,
        &[
            "explain",
            STUCK,
            "--at",
            "2h",
            "--now",
            "2026-08-07T14:00:00Z",
            "--json",
        ],
    );
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let v: Value = serde_json::from_str(&stdout(&o)).unwrap();
    let at = v["at"]["time"].as_str().unwrap_or_default();
    assert!(at.starts_with("2026-08-07T12:00:00"), "{v}");
}
