//! Regressions: import (decoders, dump documents, pipes, memory bounds).

#[allow(unused_imports)]
use crate::util::*;
use std::path::Path;

fn dump_sample() -> std::path::PathBuf {
    real_samples_dir().join("script-dump.sesn_011CZdumpThreads00000001.json")
}

fn query<T: rusqlite::types::FromSql>(db: &Path, sql: &str) -> Vec<T> {
    let c = rusqlite::Connection::open(db).unwrap();
    let mut s = c.prepare(sql).unwrap();
    s.query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
}

/// Issue 11.1: a script's `{"session","events","threads"}` dump was quarantined whole.
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
