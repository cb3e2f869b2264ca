//! Regressions: store.

#[allow(unused_imports)]
use crate::util::*;

use std::io::Write;
use std::path::Path;
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

/// Writes `n` small distinct events of `session` (ids `sevt_{tag}{i}`), one turn after another,
/// as JSON Lines at `path`. Big enough inputs span several import transactions.
fn write_capture(path: &Path, tag: &str, n: usize) {
    let mut f = std::io::BufWriter::new(std::fs::File::create(path).unwrap());
    let types = [
        "user.message",
        "session.status_running",
        "agent.message",
        "session.status_idle",
    ];
    for i in 0..n {
        let ty = types[i % types.len()];
        let (s, ms) = (i / 1000, i % 1000);
        let extra = match ty {
            "session.status_idle" => r#","stop_reason":{"type":"end_turn"}"#.to_string(),
            "user.message" | "agent.message" => {
                format!(r#","content":[{{"type":"text","text":"message {tag} {i}"}}]"#)
            }
            _ => String::new(),
        };
        writeln!(
            f,
            r#"{{"type":"{ty}","id":"sevt_{tag}{i:08}","processed_at":"2026-03-01T{:02}:{:02}:{:02}.{ms:03}Z"{extra}}}"#,
            s / 3600,
            (s / 60) % 60,
            s % 60
        )
        .unwrap();
    }
    f.flush().unwrap();
}

fn spawn(db: &Path, args: &[&str]) -> Child {
    bin()
        .arg("--db")
        .arg(db)
        .args(args)
        .env_remove("FLIGHTREC_DB")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

/// Every stored event as (session, thread, id, type, raw), sorted: what two databases must agree
/// on whatever order their writers ran in (seq, arrival times and the capture log may differ).
fn stored_events(db: &Path) -> Vec<(String, String, String, String, String)> {
    let c = crate::util::db_conn(db);
    let mut s = c
        .prepare(
            "SELECT session_id, thread_id, event_id, type, event_text(raw) FROM events \
             ORDER BY session_id, thread_id, event_id, type",
        )
        .unwrap();
    s.query_map([], |r| {
        Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
    })
    .unwrap()
    .collect::<Result<_, _>>()
    .unwrap()
}

/// The per-session event counts kept in `sessions` must match the rows.
fn assert_counts_match_rows(db: &Path) {
    let c = rusqlite::Connection::open(db).unwrap();
    let bad: i64 = c
        .query_row(
            "SELECT count(*) FROM sessions s WHERE event_count != \
             (SELECT count(*) FROM events e WHERE e.session_id = s.id)",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(bad, 0, "sessions.event_count differs from the rows");
}

const BIG: &str = "sesn_011CZconcurrentBig00001";
const SMALL: &str = "sesn_011CZconcurrentSmall001";

/// Issue 12.1: two imports of one capture larger than an import transaction, started together
/// with a third, failed with `UNIQUE constraint failed: events.seq` (the transaction after a
/// flush reused the seq it had before another writer committed), losing the open chunk.
#[test]
fn concurrent_writers_lose_no_events() {
    let dir = tempdir();
    let big = dir.path().join(format!("big.{BIG}.jsonl"));
    let small = dir.path().join(format!("small.{SMALL}.jsonl"));
    // More than one import transaction (200,000 events).
    write_capture(&big, "b", 230_000);
    write_capture(&small, "s", 20_000);
    let (big, small) = (big.to_str().unwrap(), small.to_str().unwrap());

    let serial = dir.path().join("serial.db");
    for f in [big, small] {
        let o = run(&serial, &["import", f]);
        assert_eq!(code(&o), 0, "{}", stderr(&o));
    }

    let db = dir.path().join("concurrent.db");
    let children = vec![
        spawn(&db, &["import", big]),
        spawn(&db, &["import", big]),
        spawn(&db, &["import", small]),
    ];
    for c in children {
        let o = c.wait_with_output().unwrap();
        assert_eq!(code(&o), 0, "a concurrent import failed: {}", stderr(&o));
    }
    let got = stored_events(&db);
    assert_eq!(got.len(), 250_000);
    assert!(
        got == stored_events(&serial),
        "rows differ from a serial import"
    );
    assert_counts_match_rows(&db);
}

/// Issue 12.3: during a large import on a database it had opened alone, `sessions` blocked and
/// `explain` failed with "database is locked" (the import had switched the database to a rollback
/// journal, which locks readers out while it commits, and readers could not open it meanwhile).
/// Every reader started while the import runs must succeed; the import must too.
#[test]
fn readers_work_during_a_large_import() {
    let dir = tempdir();
    let big = dir.path().join(format!("big.{BIG}.jsonl"));
    write_capture(&big, "b", 230_000);
    let db = dir.path().join("r.db");
    let small = dir.path().join(format!("small.{SMALL}.jsonl"));
    write_capture(&small, "s", 40);
    let o = run(&db, &["import", small.to_str().unwrap()]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));

    let mut import = spawn(&db, &["import", big.to_str().unwrap()]);
    // Let the import get going: it has opened the database once the session appears.
    let started = Instant::now();
    let mut readers = 0;
    let mut slowest = Duration::ZERO;
    let mut seen_import_running = false;
    loop {
        let running = import.try_wait().unwrap().is_none();
        if !running && readers > 0 {
            break;
        }
        seen_import_running |= running;
        for args in [
            vec!["sessions"],
            vec!["timeline", SMALL, "--limit", "5"],
            vec!["explain", SMALL],
        ] {
            let t = Instant::now();
            let o = run(&db, &args);
            slowest = slowest.max(t.elapsed());
            assert_eq!(
                code(&o),
                0,
                "`{}` during an import: {}",
                args.join(" "),
                stderr(&o)
            );
            assert!(stdout(&o).contains(SMALL) || args[0] == "timeline");
            readers += 1;
        }
        assert!(started.elapsed() < Duration::from_secs(600));
    }
    let o = import.wait_with_output().unwrap();
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert!(seen_import_running);
    eprintln!("readers during the import: {readers}, slowest {slowest:?}");
    let c = rusqlite::Connection::open(&db).unwrap();
    let n: i64 = c
        .query_row("SELECT count(*) FROM events", [], |r| r.get(0))
        .unwrap();
    assert_eq!(n, 230_040);
}

/// Issue 12.3: a second writer (a small import) started during a large import waited a few
/// seconds and then failed with "database is locked" (it could not switch the database back to
/// WAL while the import held it in rollback-journal mode).
#[test]
fn a_writer_started_during_a_large_import_waits_and_succeeds() {
    let dir = tempdir();
    let big = dir.path().join(format!("big.{BIG}.jsonl"));
    write_capture(&big, "b", 230_000);
    let small = dir.path().join(format!("small.{SMALL}.jsonl"));
    write_capture(&small, "s", 40);
    let db = dir.path().join("w.db");
    let mut import = spawn(&db, &["import", big.to_str().unwrap()]);
    // Wait until the import has begun writing (the database exists and is not empty).
    let t = Instant::now();
    while std::fs::metadata(&db).map(|m| m.len()).unwrap_or(0) == 0 {
        assert!(t.elapsed() < Duration::from_secs(60));
        std::thread::sleep(Duration::from_millis(20));
    }
    std::thread::sleep(Duration::from_millis(500));
    let running = import.try_wait().unwrap().is_none();
    assert!(
        running,
        "the large import ended before the second writer started"
    );
    let o = run(&db, &["import", small.to_str().unwrap()]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let o = import.wait_with_output().unwrap();
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert_eq!(stored_events(&db).len(), 230_040);
    assert_counts_match_rows(&db);
}

const PLACEHOLDER: &str = "sesn_011CZplaceholderIds00001";

/// Issue 11.2: official samples and redacted logs reuse one placeholder id on every event; import
/// said "1 new, 2 updated" and the `agent.message` was gone. Same id, another type: both kept,
/// named on stderr, exit 3; a re-import adds nothing.
///
/// Sample: `sample-logs/real/placeholder-ids.sesn_011CZplaceholderIds00001.jsonl`.
#[test]
fn an_id_reused_by_another_type_keeps_both_events() {
    let dir = tempdir();
    let db = dir.path().join("p.db");
    let file = real_samples_dir().join(format!("placeholder-ids.{PLACEHOLDER}.jsonl"));
    let o = run(&db, &["import", file.to_str().unwrap()]);
    assert_eq!(code(&o), 3, "{}", stderr(&o));
    assert!(stdout(&o).contains("4 new"), "{}", stdout(&o));
    let err = stderr(&o);
    assert!(
        err.contains("sevt_...") && err.contains("user.message") && err.contains("agent.message"),
        "{err}"
    );
    let types: Vec<String> = event_rows(&db, PLACEHOLDER)
        .into_iter()
        .map(|r| r.1)
        .collect();
    assert_eq!(
        types,
        [
            "user.message",
            "session.status_running",
            "agent.message",
            "session.status_idle"
        ]
    );
    // Every reader shows all four, and nothing crashes on the ambiguous links.
    let o = run(&db, &["timeline", PLACEHOLDER]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert!(stdout(&o).contains("agent.message"), "{}", stdout(&o));
    for args in [
        vec!["spans", PLACEHOLDER],
        vec!["explain", PLACEHOLDER],
        vec!["export", PLACEHOLDER, "--format", "jsonl"],
    ] {
        let o = run(&db, &args);
        assert_eq!(code(&o), 0, "{}: {}", args.join(" "), stderr(&o));
    }
    let o = run(&db, &["export", PLACEHOLDER, "--format", "jsonl"]);
    assert_eq!(stdout(&o).lines().count(), 4, "{}", stdout(&o));
    // Again: the same four, nothing new or updated.
    let o = run(&db, &["import", file.to_str().unwrap()]);
    assert_eq!(code(&o), 3, "{}", stderr(&o));
    assert!(
        stdout(&o).contains("0 new, 0 updated, 4 duplicate"),
        "{}",
        stdout(&o)
    );
    assert_eq!(event_rows(&db, PLACEHOLDER).len(), 4);
}

/// Issue 15 (found on this stop): `diff` counted an event id once across the whole session, so a
/// recording with placeholder ids (official samples, redacted logs: `sevt_...` on every event)
/// was one step, and two of them that differed after their first event were "the same" (exit 0).
/// A second copy is now what every fold calls one: the same id at the same processed time.
///
/// Sample: `sample-logs/real/placeholder-ids.sesn_011CZplaceholderIds00001.jsonl`, and a copy
/// whose answer is another.
#[test]
fn diff_of_placeholder_id_recordings_compares_every_event() {
    let dir = tempdir();
    let db = dir.path().join("p.db");
    let file = real_samples_dir().join(format!("placeholder-ids.{PLACEHOLDER}.jsonl"));
    assert_eq!(code(&run(&db, &["import", file.to_str().unwrap()])), 3);
    let text = std::fs::read_to_string(&file).unwrap();
    assert!(text.contains("Paris"));
    let other = "sesn_011CZplaceholderOther01";
    let copy = dir.path().join(format!("placeholder-ids.{other}.jsonl"));
    std::fs::write(&copy, text.replace("Paris", "Lyon")).unwrap();
    assert_eq!(code(&run(&db, &["import", copy.to_str().unwrap()])), 3);

    let now = "2026-09-01T00:00:00Z";
    let o = run(&db, &["diff", PLACEHOLDER, other, "--json", "--now", now]);
    assert_eq!(code(&o), 1, "the answers differ: {}", stdout(&o));
    let d: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(d["a"]["steps"], 4, "{d}");
    assert_eq!(d["b"]["steps"], 4, "{d}");
    let first = &d["first_divergence"];
    assert_eq!(first["a"]["type"], "agent.message", "{first}");
    assert_eq!(first["a"]["index"], 2, "{first}");
    assert_eq!(
        d["alignment"],
        serde_json::json!({"equal": 3, "changed": 1, "only_in_a": 0, "only_in_b": 0})
    );

    // The same recording against itself: every event a step, all equal.
    let o = run(
        &db,
        &["diff", PLACEHOLDER, PLACEHOLDER, "--json", "--now", now],
    );
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let d: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(d["alignment"]["equal"], 4, "{d}");
}

/// Issue 15 (found with the diff's): the Perfetto trace also drew an event id once, so a
/// placeholder-id recording's trace had no `agent.message` and no idle status: the session looked
/// as if it ran to the end of the recording unanswered.
///
/// Sample: `sample-logs/real/placeholder-ids.sesn_011CZplaceholderIds00001.jsonl`.
#[test]
fn perfetto_of_a_placeholder_id_recording_draws_every_status_and_message() {
    let dir = tempdir();
    let db = dir.path().join("p.db");
    let file = real_samples_dir().join(format!("placeholder-ids.{PLACEHOLDER}.jsonl"));
    assert_eq!(code(&run(&db, &["import", file.to_str().unwrap()])), 3);
    let o = run(&db, &["export", PLACEHOLDER, "--format", "perfetto"]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let trace: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    let drawn: Vec<(String, String)> = trace["traceEvents"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["ph"] != "M")
        .map(|e| {
            let field = |k: &str| e[k].as_str().unwrap_or_default().to_string();
            (field("cat"), field("name"))
        })
        .collect();
    let want = [
        ("message", "user.message"),
        ("status", "running"),
        ("message", "agent.message"),
        ("status", "idle"),
    ];
    let want: Vec<(String, String)> = want
        .iter()
        .map(|(c, n)| (c.to_string(), n.to_string()))
        .collect();
    assert_eq!(drawn, want);
}

/// Issue 15 (found with the diff's): the Markdown and HTML transcripts showed the first event of
/// each id, so a placeholder-id recording's transcript was the user's question alone: no answer,
/// no idle. Only another stream's copy (the same id at the same time) is left out now.
///
/// Sample: `sample-logs/real/placeholder-ids.sesn_011CZplaceholderIds00001.jsonl`.
#[test]
fn transcripts_of_a_placeholder_id_recording_show_every_event() {
    let dir = tempdir();
    let db = dir.path().join("p.db");
    let file = real_samples_dir().join(format!("placeholder-ids.{PLACEHOLDER}.jsonl"));
    assert_eq!(code(&run(&db, &["import", file.to_str().unwrap()])), 3);
    let o = run(&db, &["export", PLACEHOLDER, "--format", "md"]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let md = stdout(&o);
    let transcript = &md[md.find("## Transcript").unwrap()..];
    for shown in [
        "What is the capital of France?",
        "session.status_running",
        "The capital of France is Paris.",
        "Idle",
    ] {
        assert!(transcript.contains(shown), "{shown} missing:\n{transcript}");
    }
    let o = run(&db, &["export", PLACEHOLDER, "--format", "html"]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let html = stdout(&o);
    for (n, ty) in [
        (0, "user.message"),
        (1, "session.status_running"),
        (2, "agent.message"),
        (3, "session.status_idle"),
    ] {
        let id = format!("id=\"e{n}\"");
        let at = html
            .find(&id)
            .unwrap_or_else(|| panic!("no {id} in the HTML"));
        let tag = &html[at..at + html[at..].find('>').unwrap()];
        assert!(tag.contains(&format!("data-type=\"{ty}\"")), "{tag}");
    }
}

/// Issue 12.11: a WAL database in a read-only place failed every reading command ("unable to open
/// database file": SQLite cannot create the `-shm` index beside it). Reading commands now open
/// read-only and read such a file as immutable when its WAL is empty.
///
/// As root (which writes through any chmod) the database goes on a tmpfs remounted read-only in a
/// private mount namespace (`unshare -m`), and the test checks that a write there fails; as any
/// other user, in a directory chmod'ed 0555, which that user cannot write.
#[test]
fn reading_commands_work_on_a_read_only_database() {
    let dir = tempdir();
    let src = dir.path().join("src.db");
    let file = real_samples_dir().join(format!("placeholder-ids.{PLACEHOLDER}.jsonl"));
    assert_eq!(code(&run(&src, &["import", file.to_str().unwrap()])), 3);
    let ro = dir.path().join("ro");
    std::fs::create_dir(&ro).unwrap();
    let root = std::process::Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false);
    let setup = if root {
        r#"mount -t tmpfs tmpfs "$RO" && cp "$SRC" "$RO/r.db" && mount -o remount,ro "$RO""#
    } else {
        r#"cp "$SRC" "$RO/r.db" && chmod 0555 "$RO""#
    };
    let script = format!(
        r#"set -u
{setup} || {{ echo "SETUP FAILED"; exit 1; }}
if touch "$RO/probe" 2>/dev/null; then echo "WRITABLE"; fi
for c in "sessions" "timeline $S" "explain $S" "spans $S" "state $S" "stats $S" "export $S --format jsonl" "search capital"; do
  if "$BIN" --db "$RO/r.db" $c >"$OUT" 2>&1; then echo "ok $c"; else echo "FAILED $c: $(cat "$OUT")"; fi
done
"$BIN" --db "$RO/r.db" sessions
"#
    );
    let mut cmd = if root {
        let mut c = std::process::Command::new("unshare");
        c.args(["-m", "sh", "-c", &script]);
        c
    } else {
        let mut c = std::process::Command::new("sh");
        c.args(["-c", &script]);
        c
    };
    let o = cmd
        .env("RO", &ro)
        .env("SRC", &src)
        .env("S", PLACEHOLDER)
        .env("OUT", dir.path().join("out.txt"))
        .env("BIN", env!("CARGO_BIN_EXE_flightrec"))
        .env_remove("FLIGHTREC_DB")
        .output()
        .unwrap();
    if !root {
        let _ = std::process::Command::new("chmod")
            .args(["0755", ro.to_str().unwrap()])
            .status();
    }
    let out = stdout(&o);
    assert!(
        !out.contains("SETUP FAILED") && !out.contains("WRITABLE"),
        "{out}{}",
        stderr(&o)
    );
    assert!(!out.contains("FAILED"), "{out}");
    assert_eq!(
        out.matches("\nok ").count() + usize::from(out.starts_with("ok ")),
        8,
        "{out}"
    );
    assert!(out.contains(PLACEHOLDER), "{out}");
}

/// Issue 11.9: `export --format jsonl` wrote the events seen on the session stream and on a
/// thread stream together (twice when on both), and re-importing moved the thread's events into
/// the session's stream. An export of one stream now re-imports to the same rows.
///
/// The session is built in the test.
#[test]
fn a_jsonl_export_of_one_stream_reimports_to_the_same_rows() {
    let s = "sesn_011CZthreadStreams000001";
    let dir = tempdir();
    let db = dir.path().join("a.db");
    let session_log = dir.path().join(format!("session.{s}.jsonl"));
    let thread_log = dir.path().join(format!("thread.{s}.jsonl"));
    std::fs::write(
        &session_log,
        r#"{"type":"session.status_running","id":"sevt_1","processed_at":"2026-03-01T10:00:00.000Z"}
{"type":"session.thread_created","id":"sevt_2","processed_at":"2026-03-01T10:00:01.000Z","session_thread_id":"sthr_A","model":"m"}
{"type":"agent.thread_message_sent","id":"sevt_3","processed_at":"2026-03-01T10:00:02.000Z","to_session_thread_id":"sthr_A","content":[{"type":"text","text":"go"}]}
"#,
    )
    .unwrap();
    std::fs::write(
        &thread_log,
        r#"{"type":"agent.thread_message_sent","id":"sevt_3","processed_at":"2026-03-01T10:00:02.000Z","to_session_thread_id":"sthr_A","content":[{"type":"text","text":"go"}]}
{"type":"agent.message","id":"sevt_4","processed_at":"2026-03-01T10:00:03.000Z","content":[{"type":"text","text":"done"}]}
"#,
    )
    .unwrap();
    assert_eq!(
        code(&run(&db, &["import", session_log.to_str().unwrap()])),
        0
    );
    let o = run(
        &db,
        &["import", "--thread", "sthr_A", thread_log.to_str().unwrap()],
    );
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert_eq!(event_rows(&db, s).len(), 5);
    // The timeline tells the two copies of sevt_3 apart by their stream.
    let o = run(&db, &["timeline", s]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let out = stdout(&o);
    assert!(out.contains("STREAM"), "{out}");
    let sevt_3: Vec<&str> = out.lines().filter(|l| l.contains("sevt_3")).collect();
    assert_eq!(sevt_3.len(), 2, "{out}");
    assert!(sevt_3.iter().any(|l| l.contains("sthr_A")), "{out}");
    assert!(sevt_3.iter().any(|l| l.contains("session")), "{out}");

    let main_out = dir.path().join(format!("main.{s}.jsonl"));
    let thread_out = dir.path().join(format!("thr.{s}.jsonl"));
    let o = run(
        &db,
        &[
            "export",
            s,
            "--format",
            "jsonl",
            "-o",
            main_out.to_str().unwrap(),
        ],
    );
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert!(stderr(&o).contains("--thread"), "{}", stderr(&o));
    let o = run(
        &db,
        &[
            "export",
            s,
            "--format",
            "jsonl",
            "--thread",
            "sthr_A",
            "-o",
            thread_out.to_str().unwrap(),
        ],
    );
    assert_eq!(code(&o), 0, "{}", stderr(&o));

    let copy = dir.path().join("b.db");
    assert_eq!(
        code(&run(&copy, &["import", main_out.to_str().unwrap()])),
        0
    );
    let mut main_rows = event_rows(&db, s);
    main_rows.retain(|r| r.5.is_empty());
    assert_eq!(event_rows(&copy, s), main_rows);
    let o = run(
        &copy,
        &["import", "--thread", "sthr_A", thread_out.to_str().unwrap()],
    );
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert_eq!(event_rows(&copy, s), event_rows(&db, s));
}
