//! Regressions: import (decoders, dump documents, pipes, memory bounds).

#[allow(unused_imports)]
use crate::util::*;
use std::path::Path;

fn dump_sample() -> std::path::PathBuf {
    real_samples_dir().join("script-dump.sesn_011CZdumpThreads00000001.json")
}

fn query<T: rusqlite::types::FromSql>(db: &Path, sql: &str) -> Vec<T> {
    let c = crate::util::db_conn(db);
    let mut s = c.prepare(sql).unwrap();
    s.query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
}

/// Issue 11.1: a script's `{"session","events","threads"}` dump was quarantined whole.
///
/// Sample: `sample-logs/real/script-dump.sesn_011CZdumpThreads00000001.json`.
#[test]
fn dump_file_is_quarantined_whole() {
    let dir = tempdir();
    let db = dir.path().join("t.db");
    let f = dump_sample();
    let o = run(&db, &["import", f.to_str().unwrap()]);
    assert_eq!(code(&o), 0, "{}{}", stdout(&o), stderr(&o));
    let doc: serde_json::Value = serde_json::from_slice(&std::fs::read(&f).unwrap()).unwrap();
    let sid = doc["session"]["id"].as_str().unwrap();
    // The session's own events, in the session stream ('').
    let session_ids: Vec<String> = query(
        &db,
        "SELECT event_id FROM events WHERE thread_id = '' ORDER BY sort_ts",
    );
    let want: Vec<&str> = doc["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["id"].as_str().unwrap())
        .collect();
    assert_eq!(session_ids, want);
    // Each thread's events in its own stream.
    for t in doc["threads"].as_array().unwrap() {
        let tid = t["id"].as_str().unwrap();
        let got: Vec<String> = query(
            &db,
            &format!("SELECT event_id FROM events WHERE thread_id = '{tid}' ORDER BY sort_ts"),
        );
        let want: Vec<&str> = t["events"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["id"].as_str().unwrap())
            .collect();
        assert_eq!(got, want, "thread {tid}");
    }
    // The session object stored as given.
    let objects: Vec<String> = query(&db, "SELECT object FROM sessions");
    assert_eq!(objects.len(), 1);
    let stored: serde_json::Value = serde_json::from_str(&objects[0]).unwrap();
    assert_eq!(stored, doc["session"]);
    assert_eq!(query::<String>(&db, "SELECT id FROM sessions"), vec![sid]);
    assert!(query::<i64>(&db, "SELECT count(*) FROM quarantine")[0] == 0);
}

/// Issue 11: thread objects from a dump are stored (without their events), parent and all.
/// (Defect 1.)
///
/// Sample: `sample-logs/real/script-dump.sesn_011CZdumpThreads00000001.json`.
#[test]
fn dump_thread_objects_are_not_stored() {
    let dir = tempdir();
    let db = dir.path().join("t.db");
    let f = dump_sample();
    let o = run(&db, &["import", f.to_str().unwrap()]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let doc: serde_json::Value = serde_json::from_slice(&std::fs::read(&f).unwrap()).unwrap();
    let c = rusqlite::Connection::open(&db).unwrap();
    let rows: Vec<(String, Option<String>, String)> = c
        .prepare("SELECT id, parent_thread_id, object FROM threads ORDER BY id")
        .and_then(|mut s| {
            s.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
                .collect()
        })
        .expect("a threads table");
    let mut want: Vec<(String, Option<String>, serde_json::Value)> = doc["threads"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            let mut obj = t.clone();
            obj.as_object_mut().unwrap().remove("events");
            (
                t["id"].as_str().unwrap().to_string(),
                t["parent_thread_id"].as_str().map(String::from),
                obj,
            )
        })
        .collect();
    want.sort_by(|a, b| a.0.cmp(&b.0));
    let got: Vec<(String, Option<String>, serde_json::Value)> = rows
        .into_iter()
        .map(|(i, p, o)| (i, p, serde_json::from_str(&o).unwrap()))
        .collect();
    assert_eq!(got, want);
}

/// Issue 11.1: a document of no known shape is refused, naming the shapes that are accepted.
///
/// The document is built in the test.
#[test]
fn unknown_document_shape_is_quarantined_as_an_event() {
    let dir = tempdir();
    let db = dir.path().join("t.db");
    let f = dir.path().join("odd.sesn_011CZoddShape0000000000001.json");
    std::fs::write(&f, "{\n  \"sessions\": [],\n  \"count\": 0\n}\n").unwrap();
    let o = run(&db, &["import", f.to_str().unwrap()]);
    assert_eq!(code(&o), 2, "{}", stderr(&o));
    let err = stderr(&o);
    assert_eq!(err.lines().count(), 1, "{err}");
    for shape in ["list page", "array", "session", "events", "threads"] {
        assert!(err.contains(shape), "'{shape}' not in: {err}");
    }
}

fn quarantine_rows(db: &Path) -> Vec<(String, String, Vec<u8>)> {
    let c = rusqlite::Connection::open(db).unwrap();
    c.prepare("SELECT origin, reason, raw FROM quarantine ORDER BY id")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
}

const EV1: &str =
    r#"{"type":"user.message","id":"sevt_1","processed_at":"2026-08-07T14:02:11Z","content":[]}"#;
const EV3: &str = r#"{"type":"session.status_idle","id":"sevt_3","processed_at":"2026-08-07T14:02:13Z","stop_reason":{"type":"end_turn"}}"#;

/// Issue 12.5: one invalid UTF-8 byte aborted a whole SSE capture (nothing stored or quarantined).
#[test]
fn one_invalid_utf8_byte_aborts_a_whole_sse_capture() {
    let dir = tempdir();
    let db = dir.path().join("t.db");
    let bad: &[u8] = b"event: agent.message\ndata: {\"type\":\"agent.message\",\"id\":\"sevt_2\",\"processed_at\":\"2026-08-07T14:02:12Z\",\"content\":[{\"type\":\"text\",\"text\":\"caf\xe9\"}]}\n\n";
    let mut input = format!("event: user.message\ndata: {EV1}\n\n").into_bytes();
    input.extend_from_slice(bad);
    input
        .extend_from_slice(format!("event: session.status_idle\r\ndata: {EV3}\r\n\r\n").as_bytes());
    let f = dir.path().join("cap.sesn_011CZbadUtf8Sse00000000001.sse");
    std::fs::write(&f, &input).unwrap();
    let o = run(&db, &["import", f.to_str().unwrap()]);
    assert_eq!(code(&o), 3, "{}", stderr(&o));
    assert!(
        stdout(&o).contains("2 new") && stdout(&o).contains("1 quarantined"),
        "{}",
        stdout(&o)
    );
    let ids: Vec<String> = query(&db, "SELECT event_id FROM events ORDER BY sort_ts");
    assert_eq!(ids, ["sevt_1", "sevt_3"]);
    let q = quarantine_rows(&db);
    assert_eq!(q.len(), 1);
    assert_eq!(q[0].2, bad, "the bad frame, byte for byte");
    assert!(q[0].0.ends_with("frame 2"), "{}", q[0].0);
    assert!(
        q[0].1.contains("invalid UTF-8") && q[0].1.contains("line 5"),
        "{}",
        q[0].1
    );
}

/// Issue 12.5: a one-line JSON page with a bad byte lost its good events.
#[test]
fn one_line_json_page_with_a_bad_byte_loses_its_good_events() {
    let dir = tempdir();
    let db = dir.path().join("t.db");
    let bad: &[u8] = b"{\"type\":\"agent.message\",\"id\":\"sevt_2\",\"processed_at\":\"2026-08-07T14:02:12Z\",\"content\":[{\"type\":\"text\",\"text\":\"caf\xe9\"}]}";
    let mut input = format!("{{\"data\":[{EV1},").into_bytes();
    input.extend_from_slice(bad);
    input.extend_from_slice(format!(",{EV3}],\"next_page\":null}}\n").as_bytes());
    let f = dir.path().join("page.sesn_011CZbadUtf8Page0000000001.json");
    std::fs::write(&f, &input).unwrap();
    let o = run(&db, &["import", f.to_str().unwrap()]);
    assert_eq!(code(&o), 3, "{}", stderr(&o));
    let ids: Vec<String> = query(&db, "SELECT event_id FROM events ORDER BY sort_ts");
    assert_eq!(ids, ["sevt_1", "sevt_3"]);
    let q = quarantine_rows(&db);
    assert_eq!(q.len(), 1);
    assert_eq!(q[0].2, bad, "the bad element, byte for byte");
    assert!(q[0].0.ends_with("line 1 item 2"), "{}", q[0].0);
}

/// Issue 12.10: `import -` was refused; it reads standard input.
#[test]
fn import_dash_is_refused() {
    use std::io::Write;
    let dir = tempdir();
    let db = dir.path().join("t.db");
    let mut child = bin()
        .arg("--db")
        .arg(&db)
        .args([
            "import",
            "--session",
            "sesn_011CZstdinImport00000000001",
            "-",
        ])
        .env_remove("FLIGHTREC_DB")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    stdin
        .write_all(format!("{EV1}\n{EV3}\n").as_bytes())
        .unwrap();
    drop(stdin);
    let o = child.wait_with_output().unwrap();
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let ids: Vec<String> = query(&db, "SELECT event_id FROM events ORDER BY sort_ts");
    assert_eq!(ids, ["sevt_1", "sevt_3"]);
}

const PIPE_SESSION: &str = "sesn_011CZpipeImport0000000000001";

/// Some events whose first 64 bytes are the whole first event, so a lost sniff is seen.
fn pipe_events(n: usize) -> (Vec<String>, String) {
    let texts: Vec<String> = (0..n)
        .map(|i| {
            format!(
                r#"{{"type":"agent.message","id":"sevt_p{i:04}","processed_at":"2026-08-07T14:{:02}:{:02}Z","content":[{{"type":"text","text":"pipe {i}"}}]}}"#,
                i / 60,
                i % 60
            )
        })
        .collect();
    let body = texts.iter().map(|t| format!("{t}\n")).collect();
    (texts, body)
}

fn stored_raws(db: &Path) -> Vec<String> {
    query(
        db,
        "SELECT event_text(raw) FROM events ORDER BY sort_ts, event_id",
    )
}

/// Issue 12.10: `import /dev/stdin` (and `<(…)`) lost its first 64 bytes to the format sniff,
/// which reopened the path.
#[test]
fn import_dev_stdin_loses_its_first_64_bytes() {
    use std::io::Write;
    let dir = tempdir();
    let db = dir.path().join("t.db");
    let (texts, body) = pipe_events(50);
    let mut child = bin()
        .arg("--db")
        .arg(&db)
        .args(["import", "--session", PIPE_SESSION, "/dev/stdin"])
        .env_remove("FLIGHTREC_DB")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let writer = std::thread::spawn(move || {
        // In small pieces, as a producer writes into a pipe.
        for chunk in body.as_bytes().chunks(37) {
            stdin.write_all(chunk).unwrap();
        }
    });
    let o = child.wait_with_output().unwrap();
    writer.join().unwrap();
    assert_eq!(code(&o), 0, "{}{}", stdout(&o), stderr(&o));
    assert_eq!(stored_raws(&db), texts, "every event, byte for byte");
}

fn mkfifo(path: &Path) {
    let st = std::process::Command::new("mkfifo")
        .arg(path)
        .status()
        .unwrap();
    assert!(st.success());
}

/// Issue 12.10: a FIFO lost its first 64 bytes the same way (the sniff opened it once, the
/// reader again).
#[test]
fn import_fifo_loses_its_first_64_bytes() {
    use std::io::Write;
    let dir = tempdir();
    let db = dir.path().join("t.db");
    let fifo = dir.path().join("events.fifo");
    mkfifo(&fifo);
    let (texts, body) = pipe_events(40);
    let path = fifo.clone();
    let writer = std::thread::spawn(move || {
        let mut f = std::fs::OpenOptions::new().write(true).open(&path).unwrap();
        for chunk in body.as_bytes().chunks(29) {
            // A reader that gave up early makes this fail with EPIPE: that is the defect.
            if f.write_all(chunk).is_err() {
                return;
            }
        }
    });
    let o = run(
        &db,
        &["import", "--session", PIPE_SESSION, fifo.to_str().unwrap()],
    );
    writer.join().unwrap();
    assert_eq!(code(&o), 0, "{}{}", stdout(&o), stderr(&o));
    assert_eq!(stored_raws(&db), texts, "every event, byte for byte");
}

/// Issue 12.9: a FIFO with no writer blocked forever. Now: a message saying what it waits for,
/// then a clear error when no writer comes within FLIGHTREC_FIFO_WAIT_SECS.
#[test]
fn fifo_with_no_writer_blocks_forever() {
    let dir = tempdir();
    let db = dir.path().join("t.db");
    let fifo = dir.path().join("nobody.fifo");
    mkfifo(&fifo);
    let mut child = bin()
        .arg("--db")
        .arg(&db)
        .args(["import", "--session", PIPE_SESSION])
        .arg(&fifo)
        .env_remove("FLIGHTREC_DB")
        .env("FLIGHTREC_FIFO_WAIT_SECS", "1")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let started = std::time::Instant::now();
    while child.try_wait().unwrap().is_none() {
        if started.elapsed() > std::time::Duration::from_secs(20) {
            child.kill().unwrap();
            let _ = child.wait();
            panic!("still blocked on a FIFO with no writer after 20 s");
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let o = child.wait_with_output().unwrap();
    assert_eq!(code(&o), 2, "{}", stderr(&o));
    let err = stderr(&o);
    let shown = fifo.display().to_string();
    assert!(
        err.contains("waiting for a writer") && err.contains(&shown),
        "{err}"
    );
    assert!(
        err.lines().any(|l| l.starts_with("flightrec: error:")
            && l.contains(&shown)
            && l.contains("no writer")),
        "{err}"
    );
}

/// Issue 12.9: a line of any length was read into memory whole. Now a line over the cap
/// (FLIGHTREC_MAX_ITEM_BYTES) is quarantined (its start kept, its size named) and the rest is
/// imported, exit 3.
#[test]
fn jsonl_line_of_any_length_is_read_whole() {
    let dir = tempdir();
    let db = dir.path().join("t.db");
    let long = format!(
        r#"{{"type":"agent.message","id":"sevt_2","processed_at":"2026-08-07T14:02:12Z","content":[{{"type":"text","text":"{}"}}]}}"#,
        "x".repeat(5000)
    );
    let f = dir
        .path()
        .join("long.sesn_011CZlongLine000000000000001.jsonl");
    std::fs::write(&f, format!("{EV1}\n{long}\n{EV3}\n")).unwrap();
    let o = bin()
        .arg("--db")
        .arg(&db)
        .args(["import", f.to_str().unwrap()])
        .env_remove("FLIGHTREC_DB")
        .env("FLIGHTREC_MAX_ITEM_BYTES", "1000")
        .output()
        .unwrap();
    assert_eq!(code(&o), 3, "{}{}", stdout(&o), stderr(&o));
    let ids: Vec<String> = query(&db, "SELECT event_id FROM events ORDER BY sort_ts");
    assert_eq!(ids, ["sevt_1", "sevt_3"]);
    let q = quarantine_rows(&db);
    assert_eq!(q.len(), 1);
    assert!(q[0].0.ends_with("line 2"), "{}", q[0].0);
    assert!(
        q[0].1.contains("longer than 1000 bytes") && q[0].1.contains(&long.len().to_string()),
        "{}",
        q[0].1
    );
    assert!(long.as_bytes().starts_with(&q[0].2) && !q[0].2.is_empty());
    let err = stderr(&o);
    assert!(
        err.contains("line 2") && err.contains("longer than"),
        "{err}"
    );
}

/// Issue 12.9: a tape's header line was read whole, however long (1.5 GB before it was
/// refused). Now a header over the cap is refused at the cap, naming the file and line.
#[test]
fn tape_header_of_any_length_is_read_whole() {
    use std::io::Write;
    let dir = tempdir();
    let db = dir.path().join("t.db");
    let f = dir.path().join("huge-header.tape.gz");
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(b"{\"flightrec_tape\":1,\"pad\":\"").unwrap();
    gz.write_all(&vec![b'x'; 20_000]).unwrap();
    let bytes = gz.finish().unwrap();
    std::fs::write(&f, bytes).unwrap();
    let o = bin()
        .arg("--db")
        .arg(&db)
        .args(["import", f.to_str().unwrap()])
        .env_remove("FLIGHTREC_DB")
        .env("FLIGHTREC_MAX_ITEM_BYTES", "1000")
        .output()
        .unwrap();
    assert_eq!(code(&o), 2, "{}", stderr(&o));
    let err = stderr(&o);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.contains(f.to_str().unwrap()) && err.contains("line 1") && err.contains("longer than"),
        "{err}"
    );
}

/// Issue 12.9: whitespace-only input was read whole into memory and reported as an "empty
/// file". Now it is streamed and reported as having no events.
#[test]
fn whitespace_only_input_is_read_whole() {
    let dir = tempdir();
    let db = dir.path().join("t.db");
    let f = dir
        .path()
        .join("blank.sesn_011CZblankInput00000000001.jsonl");
    std::fs::write(&f, " \n\t\r\n".repeat(100_000)).unwrap();
    let o = run(&db, &["import", f.to_str().unwrap()]);
    assert_eq!(code(&o), 2, "{}", stderr(&o));
    let err = stderr(&o);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.contains(&format!("no events in {}", f.display())) && err.contains("whitespace"),
        "{err}"
    );
}

fn import_capped(db: &Path, f: &Path, cap: &str) -> std::process::Output {
    bin()
        .arg("--db")
        .arg(db)
        .args(["import", f.to_str().unwrap()])
        .env_remove("FLIGHTREC_DB")
        .env("FLIGHTREC_MAX_ITEM_BYTES", cap)
        .output()
        .unwrap()
}

/// Issue 12.9: JSON documents were read whole (a 188 MB page took 497 MB). Now they are
/// streamed: a page, an array or a dump far bigger than the item cap imports every event byte
/// for byte, and only an element over the cap is quarantined.
#[test]
fn json_documents_are_read_whole() {
    let dir = tempdir();
    let (texts, _) = pipe_events(300);
    let big = format!(
        r#"{{"type":"agent.message","id":"sevt_big","processed_at":"2026-08-07T15:00:00Z","content":[{{"type":"text","text":"{}"}}]}}"#,
        "y".repeat(3000)
    );
    // A pretty-printed page with irregular spacing, strings holding brackets and escapes.
    let mut odd = texts.clone();
    odd[7] = r#"{"type":"agent.message","id":"sevt_p0007","processed_at":"2026-08-07T14:00:07Z","content":[{"type":"text","text":"] } [ { \" \\\" ,"}]}"#.to_string();
    let page = format!(
        "{{\n  \"data\": [\n    {},\n    {big}\n  ],\n  \"next_page\": null\n}}\n",
        odd.join(" ,\n    ")
    );
    let f = dir.path().join("page.sesn_011CZbigPage0000000000001.json");
    std::fs::write(&f, &page).unwrap();
    let db = dir.path().join("page.db");
    let o = import_capped(&db, &f, "2000");
    assert_eq!(code(&o), 3, "{}{}", stdout(&o), stderr(&o));
    assert_eq!(
        stored_raws(&db),
        odd,
        "every event of the page, byte for byte"
    );
    let q = quarantine_rows(&db);
    assert_eq!(q.len(), 1, "{q:?}");
    assert!(q[0].0.ends_with("item 301"), "{}", q[0].0);
    assert!(q[0].1.contains("longer than 2000 bytes"), "{}", q[0].1);

    // A bare array, two documents in one file.
    let arr = format!(
        "[{}]\n[{}]\n",
        texts[..150].join(","),
        texts[150..].join(",")
    );
    let f = dir
        .path()
        .join("arr.sesn_011CZbigArray000000000000001.json");
    std::fs::write(&f, &arr).unwrap();
    let db = dir.path().join("arr.db");
    let o = import_capped(&db, &f, "2000");
    assert_eq!(code(&o), 0, "{}{}", stdout(&o), stderr(&o));
    assert_eq!(stored_raws(&db), texts);

    // A dump whose session comes last, in a file whose name names no session, with a thread whose
    // log is far bigger than the cap and whose events come before its id.
    let session = r#"{"type":"session","id":"sesn_011CZbigDump00000000000001","status":"idle"}"#;
    let dump = format!(
        "{{\n \"events\": [{}],\n \"threads\": [{{\"events\":[{}], \"id\":\"sthr_1\"}}],\n \"session\": {session}\n}}\n",
        texts[..200].join(",\n"),
        texts[200..].join(",\n")
    );
    let f = dir.path().join("dump.json");
    std::fs::write(&f, &dump).unwrap();
    let db = dir.path().join("dump.db");
    let o = import_capped(&db, &f, "2000");
    assert_eq!(code(&o), 0, "{}{}", stdout(&o), stderr(&o));
    let own: Vec<String> = query(
        &db,
        "SELECT event_text(raw) FROM events WHERE thread_id = '' ORDER BY sort_ts",
    );
    assert_eq!(own, texts[..200]);
    let thread: Vec<String> = query(
        &db,
        "SELECT event_text(raw) FROM events WHERE thread_id = 'sthr_1' ORDER BY sort_ts",
    );
    assert_eq!(thread, texts[200..]);
    let objects: Vec<String> = query(&db, "SELECT object FROM threads");
    assert_eq!(objects, [r#"{"id":"sthr_1"}"#]);
    assert_eq!(
        query::<String>(&db, "SELECT object FROM sessions"),
        vec![session.to_string()]
    );
}

/// Issue 12.10: `export -o -` wrote a file named `-` instead of standard output.
#[test]
fn export_dash_o_writes_a_file_named_dash() {
    let dir = tempdir();
    let db = dir.path().join("t.db");
    let (texts, body) = pipe_events(5);
    let f = dir.path().join("in.jsonl");
    std::fs::write(&f, body).unwrap();
    let o = run(
        &db,
        &["import", "--session", PIPE_SESSION, f.to_str().unwrap()],
    );
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    for format in ["jsonl", "md"] {
        let o = bin()
            .current_dir(dir.path())
            .arg("--db")
            .arg(&db)
            .args(["export", PIPE_SESSION, "--format", format, "-o", "-"])
            .env_remove("FLIGHTREC_DB")
            .output()
            .unwrap();
        assert_eq!(code(&o), 0, "{}", stderr(&o));
        assert!(
            !dir.path().join("-").exists(),
            "a file named '-' was written"
        );
        let out = stdout(&o);
        if format == "jsonl" {
            assert_eq!(out.lines().collect::<Vec<_>>(), texts);
        } else {
            assert!(out.contains("pipe 4"), "{out}");
        }
    }
}

/// Issue 12.9: an SSE frame over the cap stopped the whole import (exit 2, nothing after it
/// imported). Now that frame is quarantined (its start kept, its size named) and the rest
/// imported, exit 3.
#[test]
fn sse_frame_over_the_cap_stops_the_whole_import() {
    let dir = tempdir();
    let db = dir.path().join("t.db");
    let long = format!(
        r#"{{"type":"agent.message","id":"sevt_2","processed_at":"2026-08-07T14:02:12Z","content":[{{"type":"text","text":"{}"}}]}}"#,
        "z".repeat(200_000)
    );
    let input = format!(
        "event: user.message\ndata: {EV1}\n\nevent: agent.message\r\ndata: {long}\r\n\r\nevent: session.status_idle\ndata: {EV3}\n\n"
    );
    let f = dir.path().join("cap.sesn_011CZlongSseFrame00000000001.sse");
    std::fs::write(&f, &input).unwrap();
    let o = import_capped(&db, &f, "1000");
    assert_eq!(code(&o), 3, "{}{}", stdout(&o), stderr(&o));
    let ids: Vec<String> = query(&db, "SELECT event_id FROM events ORDER BY sort_ts");
    assert_eq!(ids, ["sevt_1", "sevt_3"]);
    let q = quarantine_rows(&db);
    assert_eq!(q.len(), 1);
    assert!(q[0].0.ends_with("frame 2"), "{}", q[0].0);
    assert!(
        q[0].1.contains("longer than 1000 bytes") && q[0].1.contains("line 4"),
        "{}",
        q[0].1
    );
    assert!(input.as_bytes()[input.find("event: agent").unwrap()..].starts_with(&q[0].2));

    // Last, without its blank line: still quarantined, what came before imported.
    let db = dir.path().join("t2.db");
    let input = format!("event: user.message\ndata: {EV1}\n\nevent: agent.message\ndata: {long}");
    std::fs::write(&f, &input).unwrap();
    let o = import_capped(&db, &f, "1000");
    assert_eq!(code(&o), 3, "{}{}", stdout(&o), stderr(&o));
    let ids: Vec<String> = query(&db, "SELECT event_id FROM events");
    assert_eq!(ids, ["sevt_1"]);
    assert_eq!(quarantine_rows(&db).len(), 1);
}
