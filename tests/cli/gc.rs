//! `flightrec gc` and `watch --retain`: old sessions go with every row of theirs, the others
//! stay byte for byte, and readers and writers keep going while a large session is deleted.

use serde_json::Value;
use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use crate::util::*;

const STUCK: &str = "sesn_011CZstuckCustomTool0002";
const HAPPY: &str = "sesn_011CZhappyPath0000000001";
const REFUSAL: &str = "sesn_011CZrefusal000000000013";
/// The samples' sessions ending before this go; the others (the afternoon's) stay.
const NOON: &str = "2026-08-07T12:00:00.000Z";

fn json(db: &Path, args: &[&str]) -> Value {
    let o = run(db, args);
    assert_eq!(code(&o), 0, "{args:?}: {}", stderr(&o));
    serde_json::from_str(&stdout(&o)).unwrap()
}

/// (id, last_event_at) of every session, most recently active first.
fn listed(db: &Path) -> Vec<(String, String)> {
    json(db, &["sessions", "--json"])
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["id"].as_str().unwrap().to_string(),
                s["last_event_at"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect()
}

fn ids_before(db: &Path, cutoff: &str) -> Vec<String> {
    listed(db)
        .into_iter()
        .filter(|(_, last)| last.as_str() < cutoff)
        .map(|(id, _)| id)
        .collect()
}

fn export(db: &Path, id: &str) -> Vec<u8> {
    let o = run(db, &["export", id]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    o.stdout
}

#[test]
fn gc_deletes_the_sessions_older_than_the_cutoff_and_nothing_else() {
    let dir = tempdir();
    let db = dir.path().join("t.db");
    import_samples(&db);
    let all = listed(&db);
    let old = ids_before(&db, NOON);
    assert!(old.len() >= 4 && old.len() < all.len(), "{old:?}");
    let kept: Vec<String> = all
        .iter()
        .map(|(id, _)| id.clone())
        .filter(|id| !old.contains(id))
        .collect();
    let exports: Vec<Vec<u8>> = kept.iter().map(|id| export(&db, id)).collect();
    // "weather" is in the stuck sample (old) and others.
    let o = run(&db, &["search", "weather", "--json"]);
    assert!(stdout(&o).contains(STUCK));

    // 10h before 22:00 is noon.
    let args = ["gc", "--older-than", "10h", "--now", "2026-08-07T22:00:00Z"];
    let o = run(&db, &args);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let out = stdout(&o);
    for id in &old {
        assert!(
            out.contains(&format!("{id}  deleted")),
            "{id} not in:\n{out}"
        );
    }
    let summary = out.lines().last().unwrap();
    assert!(
        summary.starts_with(&format!("deleted {} sessions (", old.len())),
        "{summary}"
    );

    let left: Vec<String> = listed(&db).into_iter().map(|(id, _)| id).collect();
    assert_eq!(left, kept);
    for (id, before) in kept.iter().zip(&exports) {
        assert!(export(&db, id) == *before, "{id}: export changed");
    }
    let o = run(&db, &["search", "weather", "--json"]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    for id in &old {
        assert!(!stdout(&o).contains(id.as_str()), "{id} still found");
    }
    let o = run(&db, &["timeline", STUCK]);
    assert_eq!(code(&o), 2, "a deleted session is unknown");

    // Again: nothing older is left.
    let o = run(&db, &args);
    assert_eq!(code(&o), 0);
    assert!(
        stdout(&o).starts_with("deleted 0 sessions"),
        "{}",
        stdout(&o)
    );
}

#[test]
fn a_dry_run_lists_what_would_go_and_deletes_nothing() {
    let dir = tempdir();
    let db = dir.path().join("t.db");
    import_samples(&db);
    let before = listed(&db);
    let old = ids_before(&db, NOON);
    let v = json(&db, &["gc", "--older-than", NOON, "--dry-run", "--json"]);
    assert_eq!(v["dry_run"], true);
    let listed_ids: Vec<&str> = v["sessions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["session_id"].as_str().unwrap())
        .collect();
    let mut sorted = listed_ids.clone();
    sorted.sort();
    let mut want: Vec<&str> = old.iter().map(String::as_str).collect();
    want.sort();
    assert_eq!(sorted, want);
    let events: u64 = v["sessions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["events"].as_u64().unwrap())
        .sum();
    assert_eq!(v["summary"]["events"].as_u64(), Some(events));
    assert!(v["summary"]["bytes"].as_u64().unwrap() > 1000);
    assert_eq!(v["bytes_freed"], 0);
    assert_eq!(listed(&db), before);
}

#[test]
fn keep_stuck_keeps_the_sessions_that_need_attention() {
    let dir = tempdir();
    let db = dir.path().join("t.db");
    import_samples(&db);
    let v = json(
        &db,
        &[
            "gc",
            "--older-than",
            NOON,
            "--keep-stuck",
            "--json",
            "--now",
            "2026-08-08T00:00:00Z",
        ],
    );
    let sessions = v["sessions"].as_array().unwrap();
    let stuck = sessions.iter().find(|s| s["session_id"] == STUCK).unwrap();
    assert!(
        stuck["kept"]
            .as_str()
            .unwrap()
            .starts_with("needs attention: Blocked"),
        "{stuck}"
    );
    let happy = sessions.iter().find(|s| s["session_id"] == HAPPY).unwrap();
    assert!(happy["kept"].is_null());
    let left: Vec<String> = listed(&db).into_iter().map(|(id, _)| id).collect();
    assert!(left.contains(&STUCK.to_string()));
    assert!(!left.contains(&HAPPY.to_string()));
    // Without --keep-stuck it goes.
    let o = run(&db, &["gc", "--older-than", NOON]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert!(stdout(&o).contains(&format!("{STUCK}  deleted")));
}

#[test]
fn session_limits_the_gc_to_the_sessions_named() {
    let dir = tempdir();
    let db = dir.path().join("t.db");
    import_samples(&db);
    let before = listed(&db).len();
    // A prefix names it; a session newer than the cutoff is not deleted even when named.
    let o = run(
        &db,
        &[
            "gc",
            "--older-than",
            NOON,
            "--session",
            "sesn_011CZhappy",
            REFUSAL,
        ],
    );
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert!(
        stdout(&o).starts_with(&format!("{HAPPY}  deleted")),
        "{}",
        stdout(&o)
    );
    assert_eq!(listed(&db).len(), before - 1);
}

#[test]
fn bad_input_is_one_line_naming_it_and_exit_2() {
    let dir = tempdir();
    let db = dir.path().join("t.db");
    for (args, what) in [
        (&["gc", "--older-than", "10x"][..], "--older-than"),
        (&["gc", "--older-than", "+1h"][..], "--older-than +DURATION"),
        (&["gc"][..], "--older-than"),
        (&["gc", "--older-than", "90d"][..], "no database here"),
    ] {
        let o = run(&db, args);
        assert_eq!(code(&o), 2, "{args:?}");
        let err = stderr(&o);
        let first = err.lines().next().unwrap_or_default();
        assert!(first.contains("error:"), "{args:?}: {err}");
        assert!(err.contains(what), "{args:?}: {err}");
        assert!(!err.contains("panicked"), "{err}");
    }
    import_samples(&db);
    let o = run(
        &db,
        &["gc", "--older-than", "90d", "--session", "sesn_nope"],
    );
    assert_eq!(code(&o), 2);
    assert!(stderr(&o).contains("sesn_nope"), "{}", stderr(&o));
}

/// A session of `n` events on `day`, one JSON Lines file.
fn synthetic(dir: &Path, id: &str, n: usize, day: &str) -> std::path::PathBuf {
    let path = dir.join(format!("big.{id}.jsonl"));
    let mut f = std::io::BufWriter::new(std::fs::File::create(&path).unwrap());
    for i in 0..n {
        writeln!(
            f,
            r#"{{"type":"agent.message","id":"sevt_{i:08}","processed_at":"{day}T{:02}:{:02}:{:02}.000Z","content":[{{"type":"text","text":"word{i} lorem ipsum dolor sit amet consectetur adipiscing elit"}}]}}"#,
            i / 3600 % 24,
            i / 60 % 60,
            i % 60
        )
        .unwrap();
    }
    f.flush().unwrap();
    path
}

#[test]
fn readers_and_writers_keep_going_while_a_large_session_is_deleted() {
    let dir = tempdir();
    let db = dir.path().join("t.db");
    import_samples(&db);
    let big = synthetic(
        dir.path(),
        "sesn_011CZbigOld00000000000001",
        100_000,
        "2026-01-01",
    );
    let o = run(&db, &["import", big.to_str().unwrap()]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    // Indexed, so deleting also takes rows out of the search index.
    assert_eq!(code(&run(&db, &["search", "word99999"])), 0);
    let late = synthetic(
        dir.path(),
        "sesn_011CZlateWriter000000001",
        300,
        "2026-07-01",
    );

    let mut gc = bin()
        .arg("--db")
        .arg(&db)
        .args(["gc", "--older-than", "2026-06-01"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let running = AtomicBool::new(true);
    let (reads, wrote) = std::thread::scope(|s| {
        let reader = s.spawn(|| {
            // Reads that started and ended while gc ran, each listing the samples.
            let mut during = 0;
            while running.load(Ordering::SeqCst) {
                let o = run(&db, &["sessions", "--json"]);
                assert_eq!(code(&o), 0, "{}", stderr(&o));
                assert!(stdout(&o).contains(HAPPY));
                if running.load(Ordering::SeqCst) {
                    during += 1;
                }
            }
            during
        });
        let writer = s.spawn(|| {
            std::thread::sleep(Duration::from_millis(300));
            let o = run(&db, &["import", late.to_str().unwrap()]);
            assert_eq!(code(&o), 0, "{}", stderr(&o));
            running.load(Ordering::SeqCst)
        });
        let status = gc.wait().unwrap();
        running.store(false, Ordering::SeqCst);
        assert!(status.success());
        (reader.join().unwrap(), writer.join().unwrap())
    });
    let mut out = String::new();
    for l in BufReader::new(gc.stdout.take().unwrap()).lines() {
        out.push_str(&l.unwrap());
        out.push('\n');
    }
    assert!(
        out.contains("sesn_011CZbigOld00000000000001  deleted"),
        "{out}"
    );
    assert!(reads >= 2, "{reads} reads completed while gc ran:\n{out}");
    assert!(wrote, "the import ended while gc was still running");
    let left: Vec<String> = listed(&db).into_iter().map(|(id, _)| id).collect();
    assert!(!left.iter().any(|id| id.contains("bigOld")));
    // Imported during the gc: whole.
    let rows = json(
        &db,
        &["timeline", "sesn_011CZlateWriter000000001", "--json"],
    );
    assert_eq!(rows.as_array().unwrap().len(), 300);
    let o = run(&db, &["search", "word299", "--json"]);
    let hits = stdout(&o);
    assert!(
        hits.contains("lateWriter") && !hits.contains("bigOld"),
        "{hits}"
    );
}

#[test]
fn watch_retain_deletes_old_sessions_and_keeps_those_needing_attention() {
    let dir = tempdir();
    // The API double serves one session the watcher's database does not hold.
    let source = dir.path().join("source.db");
    let f = sample_files()
        .into_iter()
        .find(|f| f.to_string_lossy().contains(REFUSAL))
        .unwrap();
    assert_eq!(code(&run(&source, &["import", f.to_str().unwrap()])), 0);
    let db = dir.path().join("watch.db");
    for s in [HAPPY, STUCK] {
        let f = sample_files()
            .into_iter()
            .find(|f| f.to_string_lossy().contains(s))
            .unwrap();
        assert_eq!(code(&run(&db, &["import", f.to_str().unwrap()])), 0);
    }
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut serve = bin()
        .arg("--db")
        .arg(&source)
        .args(["serve", "--addr", &format!("127.0.0.1:{port}")])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(serve.stdout.take().unwrap()).lines();
    let first = lines.next().unwrap().unwrap();
    assert!(first.starts_with("listening on"), "{first}");

    // The samples are from 2026-08-07: more than 90 days before any clock this test runs on.
    let mut watch = bin()
        .arg("--db")
        .arg(&db)
        .args(["watch", "--poll", "1h", "--retain", "90d"])
        .args(["--base-url", &format!("http://127.0.0.1:{port}")])
        .env("ANTHROPIC_API_KEY", "sk-test")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    let out = BufReader::new(watch.stdout.take().unwrap());
    std::thread::spawn(move || {
        for l in out.lines().map_while(Result::ok) {
            let _ = tx.send(l);
        }
    });
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    let line = loop {
        let l = rx
            .recv_timeout(deadline.saturating_duration_since(std::time::Instant::now()))
            .expect("no retention line from watch");
        if l.starts_with("retention:") {
            break l;
        }
    };
    for p in [&mut watch, &mut serve] {
        let _ = Command::new("kill")
            .args(["-TERM", &p.id().to_string()])
            .status();
        let _ = p.wait();
    }
    assert!(line.starts_with("retention: deleted 1 session ("), "{line}");
    let left: Vec<String> = listed(&db).into_iter().map(|(id, _)| id).collect();
    assert!(left.contains(&STUCK.to_string()), "{left:?}");
    assert!(!left.contains(&HAPPY.to_string()), "{left:?}");
}
