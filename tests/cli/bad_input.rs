//! Bad input: a clear one-line error naming the file (and line or frame), a documented non-zero
//! exit, no panic, and nothing silently dropped.

use crate::util::*;
use std::path::Path;

const S: &str = "sesn_011CZbadInput000000000001";

fn write(dir: &Path, name: &str, bytes: &[u8]) -> String {
    let p = dir.join(name);
    std::fs::write(&p, bytes).unwrap();
    p.display().to_string()
}

/// One error line on stderr, starting `flightrec: error:`, containing every `needle`.
fn assert_one_error(o: &std::process::Output, needles: &[&str]) {
    let err = stderr(o);
    assert!(!err.contains("panicked"), "{err}");
    let lines: Vec<&str> = err.lines().collect();
    assert_eq!(lines.len(), 1, "expected one line, got: {err}");
    assert!(lines[0].starts_with("flightrec: error: "), "{err}");
    for n in needles {
        assert!(lines[0].contains(n), "'{n}' not in: {err}");
    }
}

fn quarantined(db: &Path) -> Vec<(String, String, Vec<u8>)> {
    let c = rusqlite::Connection::open(db).unwrap();
    c.prepare("SELECT origin, reason, raw FROM quarantine ORDER BY id")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
}

#[test]
fn truncated_json_line_is_quarantined_and_the_rest_imported() {
    let dir = tempdir();
    let db = dir.path().join("t.db");
    let lines = concat!(
        r#"{"type":"user.message","id":"sevt_1","processed_at":"2026-08-07T14:02:11.482Z","content":[]}"#,
        "\n",
        r#"{"type":"agent.message","id":"sevt_2","processed_at":"2026-08-07T14:02:12Z","content":[{"type":"te"#,
        "\n",
        r#"{"type":"session.status_idle","id":"sevt_3","processed_at":"2026-08-07T14:02:13Z","stop_reason":{"type":"end_turn"}}"#,
        "\n"
    );
    let f = write(dir.path(), &format!("cut.{S}.jsonl"), lines.as_bytes());
    let o = run(&db, &["import", &f]);
    assert_eq!(code(&o), 3, "imported with problems: {}", stderr(&o));
    let err = stderr(&o);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains(&format!("{f} line 2: invalid JSON")), "{err}");
    assert!(
        stdout(&o).contains("2 new") && stdout(&o).contains("1 quarantined"),
        "{}",
        stdout(&o)
    );
    let q = quarantined(&db);
    assert_eq!(q.len(), 1);
    assert_eq!(q[0].0, format!("{f} line 2"));
    assert!(
        String::from_utf8(q[0].2.clone())
            .unwrap()
            .ends_with(r#"[{"type":"te"#)
    );
}

#[test]
fn non_json_sse_frame_is_quarantined_and_the_rest_imported() {
    let dir = tempdir();
    let db = dir.path().join("t.db");
    let sse = concat!(
        "event: session.status_running\n",
        r#"data: {"type":"session.status_running","id":"sevt_1","processed_at":"2026-08-07T14:02:11Z"}"#,
        "\n\n",
        "event: agent.message\n",
        "data: <html>502 Bad Gateway</html>\n\n",
        ": keepalive\n\n",
        "event: session.status_idle\n",
        r#"data: {"type":"session.status_idle","id":"sevt_3","processed_at":"2026-08-07T14:02:13Z","stop_reason":{"type":"end_turn"}}"#,
        "\n\n"
    );
    let f = write(dir.path(), &format!("cap.{S}.sse"), sse.as_bytes());
    let o = run(&db, &["import", &f]);
    assert_eq!(code(&o), 3, "{}", stderr(&o));
    assert!(
        stderr(&o).contains(&format!("{f} frame 2: invalid JSON")),
        "{}",
        stderr(&o)
    );
    let q = quarantined(&db);
    assert_eq!(q.len(), 1);
    assert_eq!(q[0].2, b"<html>502 Bad Gateway</html>");
    let o = run(&db, &["timeline", S, "--json"]);
    let rows: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(rows.as_array().unwrap().len(), 2);
}

#[test]
fn binary_garbage_is_refused() {
    let dir = tempdir();
    let db = dir.path().join("t.db");
    let f = write(
        dir.path(),
        &format!("x.{S}.bin"),
        b"\x7fELF\x02\x01\x01\x00\x00\x00\xff\xfe\x00garbage",
    );
    let o = run(&db, &["import", &f]);
    assert_eq!(code(&o), 2);
    assert_one_error(&o, &[&f, "not an event log", "7f 45 4c 46"]);
}

#[test]
fn binary_garbage_inside_an_sse_capture_names_the_line() {
    let dir = tempdir();
    let db = dir.path().join("t.db");
    let f = write(
        dir.path(),
        &format!("x.{S}.sse"),
        b"event: a\ndata: {}\n\ndata: \xc3\x28\xa0\xa1\n\n",
    );
    let o = run(&db, &["import", &f]);
    // The bad frame is quarantined (issue 12.5); the good one is imported.
    assert_eq!(code(&o), 3, "{}", stderr(&o));
    let err = stderr(&o);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.contains(&format!("{f} frame 2: invalid UTF-8")),
        "{err}"
    );
    assert!(err.contains("line 4"), "{err}");
    let q = quarantined(&db);
    assert_eq!(q.len(), 1);
    assert_eq!(q[0].2, b"data: \xc3\x28\xa0\xa1\n\n");
}

#[test]
fn empty_file_is_refused() {
    let dir = tempdir();
    let db = dir.path().join("t.db");
    let f = write(dir.path(), &format!("e.{S}.jsonl"), b"");
    let o = run(&db, &["import", &f]);
    assert_eq!(code(&o), 2);
    assert_one_error(&o, &[&f, "empty file"]);
}

#[test]
fn missing_file_is_refused_and_other_files_still_import() {
    let dir = tempdir();
    let db = dir.path().join("t.db");
    let missing = dir
        .path()
        .join(format!("gone.{S}.jsonl"))
        .display()
        .to_string();
    let good = write(
        dir.path(),
        &format!("ok.{S}.jsonl"),
        br#"{"type":"session.status_running","id":"sevt_1","processed_at":"2026-08-07T14:02:11Z"}"#,
    );
    let o = run(&db, &["import", &missing, &good]);
    assert_eq!(code(&o), 2);
    assert_one_error(&o, &[&missing, "cannot read"]);
    assert!(stdout(&o).contains("1 new"), "{}", stdout(&o));
}

#[test]
fn file_without_a_session_id_asks_for_one() {
    let dir = tempdir();
    let db = dir.path().join("t.db");
    let f = write(
        dir.path(),
        "capture.jsonl",
        br#"{"type":"a.b","id":"sevt_1"}"#,
    );
    let o = run(&db, &["import", &f]);
    assert_eq!(code(&o), 2);
    assert_one_error(&o, &[&f, "--session"]);
    let o = run(&db, &["import", "--session", S, &f]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
}

#[test]
fn database_from_a_newer_flightrec_is_refused() {
    let dir = tempdir();
    let db = dir.path().join("t.db");
    assert_eq!(code(&run(&db, &["demo", "--quiet", "--offline"])), 0);
    let c = rusqlite::Connection::open(&db).unwrap();
    c.pragma_update(None, "user_version", 99).unwrap();
    drop(c);
    for args in [&["sessions"][..], &["import", "x.jsonl"][..]] {
        let o = run(&db, args);
        assert_eq!(code(&o), 2);
        assert_one_error(
            &o,
            &[db.to_str().unwrap(), "newer flightrec", "schema version 99"],
        );
    }
}

#[test]
fn non_sqlite_database_is_refused() {
    let dir = tempdir();
    let db = dir.path().join("notes.db");
    std::fs::write(
        &db,
        "Meeting notes: the recorder must never lose an event. ".repeat(40),
    )
    .unwrap();
    let before = std::fs::read(&db).unwrap();
    let o = run(&db, &["sessions"]);
    assert_eq!(code(&o), 2);
    assert_one_error(&o, &[db.to_str().unwrap(), "not a database"]);
    assert_eq!(
        std::fs::read(&db).unwrap(),
        before,
        "the file is left alone"
    );
}

#[test]
fn unknown_session_is_an_error() {
    let dir = tempdir();
    let db = dir.path().join("t.db");
    assert_eq!(code(&run(&db, &["demo", "--quiet", "--offline"])), 0);
    for cmd in ["timeline", "export"] {
        let o = run(&db, &[cmd, "sesn_doesNotExist"]);
        assert_eq!(code(&o), 2);
        assert_one_error(&o, &["no session sesn_doesNotExist", db.to_str().unwrap()]);
    }
}

#[test]
fn missing_database_is_an_error_for_readers() {
    let dir = tempdir();
    let db = dir.path().join("none.db");
    let o = run(&db, &["sessions"]);
    assert_eq!(code(&o), 2);
    assert_one_error(&o, &[db.to_str().unwrap(), "no database"]);
    assert!(!db.exists(), "a reader must not create a database");
}

#[test]
fn bad_arguments_exit_2() {
    let dir = tempdir();
    let db = dir.path().join("t.db");
    assert_eq!(code(&run(&db, &["demo", "--quiet", "--offline"])), 0);
    let o = run(&db, &["timeline", "sesn_x", "--since", "yesterday-ish"]);
    assert_eq!(code(&o), 2);
    assert!(stderr(&o).contains("not a time"), "{}", stderr(&o));
    let o = run(&db, &["frobnicate"]);
    assert_eq!(code(&o), 2);
}

#[test]
fn database_under_a_file_names_the_directory_it_cannot_create() {
    let dir = tempdir();
    let file = write(dir.path(), "file.txt", b"not a directory");
    let db = Path::new(&file).join("db.sqlite");
    let log = write(
        dir.path(),
        &format!("x.{S}.jsonl"),
        b"{\"type\":\"agent.message\",\"id\":\"sevt_1\"}\n",
    );
    let o = run(&db, &["import", &log]);
    assert_eq!(code(&o), 2, "{}", stderr(&o));
    assert_one_error(
        &o,
        &[&format!("{file}: cannot create the database's directory: ")],
    );
}
