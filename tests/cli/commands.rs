//! The commands on the sample logs: what a user sees.

use serde_json::Value;

use crate::util::*;

const STUCK: &str = "sesn_011CZstuckCustomTool0002";

fn demo_db() -> (tempfile::TempDir, std::path::PathBuf) {
    let dir = tempdir();
    let db = dir.path().join("demo.db");
    let o = run(&db, &["demo", "--quiet", "--offline"]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    (dir, db)
}

#[test]
fn demo_loads_every_sample_and_shows_the_stuck_session() {
    let dir = tempdir();
    let db = dir.path().join("demo.db");
    let o = run(&db, &["demo"]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let out = stdout(&o);
    let sessions = sample_sessions().len();
    let recorded = format!("Recorded {sessions} sample sessions live through flightrec serve");
    assert!(out.contains(&recorded), "{out}");
    assert!(
        out.contains("the recording holds every one of them, once, byte for byte"),
        "{out}"
    );
    // The stuck sample is explained: the pending custom tool and the request that answers it.
    let why = &out[out.find("Why is it stuck?").expect("an explain section")..];
    assert!(why.contains("requires_action"), "{why}");
    assert!(
        why.contains(r#""custom_tool_use_id":"sevt_011CZkSdM9xUzC45mZmCzS1G""#),
        "{why}"
    );
    let chaos = out.lines().find(|l| l.starts_with("Chaos: ")).unwrap();
    let n = |after: &str| -> u64 {
        let i = chaos.find(after).unwrap();
        chaos[..i]
            .split_whitespace()
            .last()
            .unwrap()
            .parse()
            .unwrap()
    };
    assert!(
        n(" stream connections") > sessions as u64,
        "reconnects happened: {chaos}"
    );
    assert!(
        n(" malformed frames") > 0 && n(" failed list requests") > 0,
        "{chaos}"
    );
    assert!(out.contains(&format!("Timeline of {STUCK}")), "{out}");
    assert!(out.contains("get_weather (custom)"), "{out}");
    assert!(out.contains("idle: requires_action → sevt_"), "{out}");
    // Running it again starts afresh rather than piling up.
    let again = run(&db, &["demo", "--quiet", "--offline"]);
    assert_eq!(code(&again), 0);
    let c = rusqlite::Connection::open(&db).unwrap();
    let n: i64 = c
        .query_row("SELECT count(*) FROM events", [], |r| r.get(0))
        .unwrap();
    let q: i64 = c
        .query_row("SELECT count(*) FROM quarantine", [], |r| r.get(0))
        .unwrap();
    assert_eq!((n, q), (391, 0));
}

#[test]
fn sessions_json_has_the_documented_fields() {
    let (_d, db) = demo_db();
    let o = run(&db, &["sessions", "--json"]);
    assert_eq!(code(&o), 0);
    let v: Value = serde_json::from_str(&stdout(&o)).unwrap();
    let all = v.as_array().unwrap();
    let stuck = all.iter().find(|s| s["id"] == STUCK).unwrap();
    assert_eq!(stuck["status"], "idle");
    assert_eq!(stuck["stop_reason"], "requires_action");
    assert!(stuck["event_count"].as_u64().unwrap() > 5);
    assert!(stuck["duration_seconds"].as_f64().unwrap() > 0.0);
    for k in ["title", "first_event_at", "last_event_at"] {
        assert!(stuck.get(k).is_some(), "missing {k}");
    }
    let reasons: Vec<&str> = all
        .iter()
        .filter_map(|s| s["stop_reason"].as_str())
        .collect();
    assert!(reasons.contains(&"retries_exhausted"), "{reasons:?}");
    assert!(all.iter().any(|s| s["status"] == "terminated"));
    assert!(all.iter().any(|s| s["status"] == "deleted"));
    assert!(
        all.iter().any(|s| s["title"].is_string()),
        "a title from session.updated"
    );
}

#[test]
fn timeline_filters_by_type_time_and_limit() {
    let (_d, db) = demo_db();
    let all: Value =
        serde_json::from_str(&stdout(&run(&db, &["timeline", STUCK, "--json"]))).unwrap();
    let all = all.as_array().unwrap();
    assert_eq!(all[0]["offset_us"], 0);
    let offsets: Vec<i64> = all.iter().filter_map(|r| r["offset_us"].as_i64()).collect();
    assert!(offsets.windows(2).all(|w| w[0] <= w[1]), "in time order");

    let o = run(
        &db,
        &[
            "timeline",
            STUCK,
            "--type",
            "session.status_idle",
            "--type",
            "agent.custom_tool_use",
            "--json",
        ],
    );
    let rows: Value = serde_json::from_str(&stdout(&o)).unwrap();
    let rows = rows.as_array().unwrap();
    assert!(!rows.is_empty());
    assert!(
        rows.iter()
            .all(|r| r["type"] == "session.status_idle" || r["type"] == "agent.custom_tool_use")
    );

    let o = run(&db, &["timeline", STUCK, "--limit", "3", "--json"]);
    let rows: Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(rows.as_array().unwrap().len(), 3);

    let o = run(&db, &["timeline", STUCK, "--since", "+1m", "--json"]);
    let rows: Value = serde_json::from_str(&stdout(&o)).unwrap();
    let rows = rows.as_array().unwrap();
    assert!(!rows.is_empty() && rows.len() < all.len());
    assert!(
        rows.iter()
            .all(|r| r["offset_us"].as_i64().unwrap() >= 60_000_000)
    );
}

#[test]
fn timeline_table_summarises_events() {
    let (_d, db) = demo_db();
    let o = run(&db, &["timeline", "sesn_011CZretriesExhausted006"]);
    let out = stdout(&o);
    assert!(out.contains("model_overloaded_error (retrying)"), "{out}");
    assert!(out.contains("model_overloaded_error (exhausted)"), "{out}");
    assert!(out.contains("idle: retries_exhausted"), "{out}");
}

#[test]
fn export_writes_to_a_file_and_stops_quietly_on_a_closed_pipe() {
    let (d, db) = demo_db();
    let out = d.path().join("x.jsonl");
    let o = run(&db, &["export", STUCK, "-o", out.to_str().unwrap()]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let text = std::fs::read_to_string(&out).unwrap();
    assert!(
        text.lines()
            .all(|l| serde_json::from_str::<Value>(l).is_ok())
    );

    // `| head -1`: the reader goes away; flightrec exits 0 without a message.
    let mut child = bin()
        .arg("--db")
        .arg(&db)
        .args(["export", STUCK])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let o = child.wait_with_output().unwrap();
    assert_eq!(o.status.code(), Some(0));
    assert!(!stderr(&o).contains("panicked"), "{}", stderr(&o));
}

#[test]
fn json_output_stops_quietly_on_a_closed_pipe() {
    let (_d, db) = demo_db();
    for args in [["spans", STUCK, "--json"], ["explain", STUCK, "--json"]] {
        let mut child = bin()
            .arg("--db")
            .arg(&db)
            .args(args)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        drop(child.stdout.take());
        let o = child.wait_with_output().unwrap();
        assert_eq!(o.status.code(), Some(0), "{args:?}: {}", stderr(&o));
        assert_eq!(stderr(&o), "", "{args:?}");
    }
}

#[test]
fn db_from_the_environment() {
    let (_d, db) = demo_db();
    let o = bin()
        .env("FLIGHTREC_DB", &db)
        .args(["sessions", "--json"])
        .output()
        .unwrap();
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert!(stdout(&o).contains(STUCK));
}

/// A JSON Lines file of `n` events of about 500 bytes each, for session `s`.
fn big_log(dir: &std::path::Path, s: &str, n: usize) -> std::path::PathBuf {
    use std::fmt::Write;
    let mut text = String::with_capacity(n * 520);
    let pad = "x".repeat(400);
    for i in 0..n {
        let _ = writeln!(
            text,
            r#"{{"type":"agent.message","id":"sevt_{i:024}","processed_at":"2026-08-07T14:{:02}:{:02}.{:03}Z","content":[{{"type":"text","text":"{pad}"}}]}}"#,
            (i / 60_000) % 60,
            (i / 1000) % 60,
            i % 1000
        );
    }
    let p = dir.join(format!("big.{s}.jsonl"));
    std::fs::write(&p, text).unwrap();
    p
}

#[test]
fn bulk_import_leaves_a_whole_wal_database() {
    let dir = tempdir();
    let db = dir.path().join("t.db");
    let s = "sesn_011CZbulk00000000000000001";
    let f = big_log(dir.path(), s, 40_000);
    assert!(std::fs::metadata(&f).unwrap().len() >= 16 << 20);
    let o = run(&db, &["import", f.to_str().unwrap()]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let c = rusqlite::Connection::open(&db).unwrap();
    let mode: String = c
        .query_row("PRAGMA journal_mode", [], |r| r.get(0))
        .unwrap();
    assert_eq!(mode, "wal");
    let ok: String = c
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    assert_eq!(ok, "ok");
    let n: i64 = c
        .query_row("SELECT count(*) FROM events", [], |r| r.get(0))
        .unwrap();
    assert_eq!(n, 40_000);
}

#[test]
fn bulk_import_beside_an_open_reader_stays_in_wal_and_completes() {
    let dir = tempdir();
    let db = dir.path().join("t.db");
    assert_eq!(code(&run(&db, &["demo", "--quiet", "--offline"])), 0);
    let reader = rusqlite::Connection::open(&db).unwrap();
    let before: i64 = reader
        .query_row("SELECT count(*) FROM events", [], |r| r.get(0))
        .unwrap();
    let s = "sesn_011CZbulk00000000000000002";
    let f = big_log(dir.path(), s, 40_000);
    let o = run(&db, &["import", f.to_str().unwrap()]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let after: i64 = reader
        .query_row("SELECT count(*) FROM events", [], |r| r.get(0))
        .unwrap();
    assert_eq!(after, before + 40_000);
    let mode: String = reader
        .query_row("PRAGMA journal_mode", [], |r| r.get(0))
        .unwrap();
    assert_eq!(mode, "wal");
}

#[test]
fn view_says_how_to_build_the_viewer_when_it_is_missing() {
    let (d, db) = demo_db();
    let exe = lone_binary(d.path());
    let empty = d.path().join("empty-path");
    std::fs::create_dir(&empty).unwrap();
    let o = output_of(
        std::process::Command::new(&exe)
            .arg("--db")
            .arg(&db)
            .args(["view", STUCK])
            .env("PATH", &empty),
    );
    assert_eq!(o.status.code(), Some(2));
    let err = stderr(&o);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.contains("cargo build --release -p flightrec-ui"),
        "{err}"
    );
}

#[cfg(unix)]
#[test]
fn view_starts_the_viewer_beside_it_on_the_same_database() {
    use std::os::unix::fs::PermissionsExt;
    let (d, db) = demo_db();
    let exe = lone_binary(d.path());
    // A viewer that records how it was started.
    let args_file = d.path().join("args.txt");
    let ui = d.path().join("flightrec-ui");
    std::fs::write(
        &ui,
        format!(
            "#!/bin/sh\nprintf '%s\\n' \"$@\" > '{}'\n",
            args_file.display()
        ),
    )
    .unwrap();
    std::fs::set_permissions(&ui, std::fs::Permissions::from_mode(0o755)).unwrap();
    let o = output_of(std::process::Command::new(&exe).arg("--db").arg(&db).args([
        "view",
        STUCK,
        "--no-follow",
    ]));
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let got = std::fs::read_to_string(&args_file).unwrap();
    let want = format!("--db\n{}\n--no-follow\n{STUCK}\n", db.display());
    assert_eq!(got, want);
}
