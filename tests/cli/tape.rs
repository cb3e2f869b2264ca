//! Tapes: export → import → export for every sample session, compared row by row with SQLite read
//! directly; compression; truncated and corrupted tapes; `serve --tape` and `view TAPE`.

use std::io::Read;
use std::path::{Path, PathBuf};

use crate::util::*;
use flightrec::export::jsonl::one_line;

/// A session that exercises what the samples do not: a pretty-printed page (multi-line event
/// texts), a pretty-printed session object, a thread's log, a queued event with an empty id and
/// an SSE frame whose JSON has no `type`.
const EXTRAS: &str = "sesn_011CZtapeExtras000000001";
const THREAD: &str = "sthr_011CZtapeExtrasThread001";

fn import_extras(db: &Path, dir: &Path) {
    let page = "{\n  \"data\": [\n    {\n      \"type\": \"user.message\",\n      \"id\": \"sevt_011CZtapeX01\",\n      \"processed_at\": \"2026-08-07T12:00:00.000Z\",\n      \"content\": [{\"type\": \"text\", \"text\": \"café \\u00e9 \\u2028 \\n two  spaces\"}]\n    },\n    {\n      \"type\": \"session.status_running\",\n      \"id\": \"sevt_011CZtapeX02\",\n      \"processed_at\": \"2026-08-07T12:00:01.000Z\"\n    }\n  ],\n  \"next_page\": null\n}\n";
    let object = format!(
        "{{\n  \"type\": \"session\",\n  \"id\": \"{EXTRAS}\",\n  \"title\": \"Tape extras\",\n  \"status\": \"idle\"\n}}\n"
    );
    let stream = "event: agent.message\ndata: {\"id\":\"sevt_011CZtapeX03\",\"processed_at\":\"2026-08-07T12:00:02.000Z\",\"content\":[]}\n\n\
                  data: {\"type\":\"user.interrupt\",\"id\":\"\",\"processed_at\":null}\n\n";
    let thread = "{\"type\":\"agent.message\",\"id\":\"sevt_011CZtapeX04\",\"processed_at\":\"2026-08-07T12:00:03.000Z\",\"content\":[]}\n";
    for (name, text, thread_id) in [
        ("page.json", page, ""),
        ("object.json", object.as_str(), ""),
        ("stream.sse", stream, ""),
        ("thread.jsonl", thread, THREAD),
    ] {
        let path = dir.join(name);
        std::fs::write(&path, text).unwrap();
        let o = run(
            db,
            &[
                "import",
                "--session",
                EXTRAS,
                "--thread",
                thread_id,
                path.to_str().unwrap(),
            ],
        );
        assert_eq!(code(&o), 0, "{name}: {}", stderr(&o));
    }
}

/// Every sample log and the extras, in one database.
fn source_db(dir: &Path) -> PathBuf {
    let db = dir.join("a.db");
    import_samples(&db);
    import_extras(&db, dir);
    db
}

fn all_sessions() -> Vec<String> {
    let mut v = sample_sessions();
    v.push(EXTRAS.to_string());
    v
}

/// Everything a tape must restore of one session, read with SQLite directly (no flightrec code):
/// events in session order with their earlier copies, previews, the capture log, the session row.
#[derive(Debug, PartialEq)]
struct Rows {
    events: Vec<Vec<rusqlite::types::Value>>,
    revisions: Vec<Vec<rusqlite::types::Value>>,
    previews: Vec<Vec<rusqlite::types::Value>>,
    capture: Vec<Vec<rusqlite::types::Value>>,
    session: Vec<Vec<rusqlite::types::Value>>,
    errors: Vec<Vec<rusqlite::types::Value>>,
}

fn query(c: &rusqlite::Connection, sql: &str, session: &str) -> Vec<Vec<rusqlite::types::Value>> {
    let mut s = c.prepare(sql).unwrap();
    let n = s.column_count();
    s.query_map([session], |r| {
        (0..n)
            .map(|i| r.get::<_, rusqlite::types::Value>(i))
            .collect()
    })
    .unwrap()
    .collect::<Result<_, _>>()
    .unwrap()
}

fn rows(db: &Path, session: &str) -> Rows {
    let c = crate::util::db_conn(db);
    Rows {
        events: query(
            &c,
            "SELECT event_id, thread_id, type, processed_at, sort_ts, link_id, source, received_at, \
             revision, event_text(raw) FROM events WHERE session_id = ?1 ORDER BY sort_ts, seq",
            session,
        ),
        revisions: query(
            &c,
            "SELECT e.event_id, e.thread_id, r.source, r.received_at, r.replaced_at, event_text(r.raw) \
             FROM event_revisions r JOIN events e ON e.seq = r.event_seq WHERE e.session_id = ?1 \
             ORDER BY r.id",
            session,
        ),
        previews: query(
            &c,
            "SELECT thread_id, event_id, ordinal, type, source, received_at, event_text(raw) FROM previews \
             WHERE session_id = ?1 ORDER BY seq",
            session,
        ),
        capture: query(
            &c,
            "SELECT thread_id, kind, started_at, ended_at, detail FROM capture_log \
             WHERE session_id = ?1 ORDER BY id",
            session,
        ),
        session: query(
            &c,
            "SELECT id, object, object_at, event_count FROM sessions WHERE id = ?1",
            session,
        ),
        errors: query(
            &c,
            "SELECT e.event_id FROM event_errors x JOIN events e ON e.seq = x.seq \
             WHERE e.session_id = ?1 ORDER BY e.seq",
            session,
        ),
    }
}

fn export_tape(db: &Path, session: &str, out: &Path, extra: &[&str]) {
    let mut args = vec![
        "export",
        session,
        "--format",
        "tape",
        "-o",
        out.to_str().unwrap(),
    ];
    args.extend(extra);
    let o = run(db, &args);
    assert_eq!(code(&o), 0, "{session}: {}", stderr(&o));
}

fn import(db: &Path, file: &Path) -> std::process::Output {
    run(db, &["import", file.to_str().unwrap()])
}

fn jsonl(db: &Path, session: &str) -> Vec<u8> {
    let o = run(db, &["export", session, "--format", "jsonl"]);
    assert_eq!(code(&o), 0, "{session}: {}", stderr(&o));
    o.stdout
}

/// The tape without its `exported_at`, the one thing that differs between two exports.
fn without_exported_at(tape: &[u8]) -> String {
    let text = String::from_utf8(tape.to_vec()).unwrap();
    let (header, rest) = text.split_once('\n').unwrap();
    let mut h: serde_json::Value = serde_json::from_str(header).unwrap();
    h.as_object_mut().unwrap().remove("exported_at");
    format!("{h}\n{rest}")
}

fn gunzip(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(bytes)
        .read_to_end(&mut out)
        .unwrap();
    out
}

#[test]
fn tape_round_trips_every_sample_row_for_row() {
    let dir = tempdir();
    let a = source_db(dir.path());
    let mut multi_line = 0;
    for session in all_sessions() {
        let tape = dir.path().join(format!("{session}.tape"));
        export_tape(&a, &session, &tape, &[]);
        let b = dir.path().join(format!("{session}.b.db"));
        let o = import(&b, &tape);
        assert_eq!(code(&o), 0, "{session}: {}", stderr(&o));
        assert!(stdout(&o).contains(": tape "), "{}", stdout(&o));

        assert_eq!(jsonl(&a, &session), jsonl(&b, &session), "{session}: jsonl");
        let (want, got) = (rows(&a, &session), rows(&b, &session));
        assert!(!want.events.is_empty(), "{session}: no events");
        assert_eq!(want, got, "{session}: rows");
        multi_line += want
            .events
            .iter()
            .filter(|r| matches!(&r[9], rusqlite::types::Value::Text(t) if t.contains('\n')))
            .count();

        // The restored session exports the same tape again (apart from when).
        let again = dir.path().join(format!("{session}.again.tape"));
        export_tape(&b, &session, &again, &[]);
        assert_eq!(
            without_exported_at(&std::fs::read(&tape).unwrap()),
            without_exported_at(&std::fs::read(&again).unwrap()),
            "{session}: tape → import → tape"
        );
    }
    assert!(multi_line > 0, "no multi-line event text was exercised");
    // What the samples alone do not show.
    let extras = rows(&a, EXTRAS);
    assert!(extras.session[0][1] != rusqlite::types::Value::Null);
    assert!(
        extras
            .events
            .iter()
            .any(|r| r[1] == rusqlite::types::Value::Text(THREAD.into()))
    );
    let queued = rows(&a, "sesn_011CZqueuedEcho000000012");
    assert!(!queued.revisions.is_empty() && !queued.previews.is_empty());
}

#[test]
fn a_compressed_tape_is_the_same_tape_gzipped() {
    let dir = tempdir();
    let a = source_db(dir.path());
    for session in ["sesn_011CZqueuedEcho000000012", EXTRAS] {
        let plain = dir.path().join("plain.tape");
        let gz = dir.path().join("s.tape.gz");
        export_tape(&a, session, &plain, &[]);
        export_tape(&a, session, &gz, &["--compress"]);
        let gz_bytes = std::fs::read(&gz).unwrap();
        assert_eq!(gz_bytes[..2], [0x1f, 0x8b]);
        assert_eq!(
            without_exported_at(&gunzip(&gz_bytes)),
            without_exported_at(&std::fs::read(&plain).unwrap())
        );
        let b = dir.path().join(format!("{session}.gz.db"));
        let o = import(&b, &gz);
        assert_eq!(code(&o), 0, "{}", stderr(&o));
        assert_eq!(rows(&a, session), rows(&b, session));
    }
}

#[test]
fn importing_a_tape_twice_changes_nothing() {
    let dir = tempdir();
    let a = source_db(dir.path());
    let b = dir.path().join("b.db");
    for session in all_sessions() {
        let tape = dir.path().join(format!("{session}.tape"));
        export_tape(&a, &session, &tape, &[]);
        assert_eq!(code(&import(&b, &tape)), 0);
        let once = rows(&b, &session);
        let o = import(&b, &tape);
        assert_eq!(code(&o), 0, "{}", stderr(&o));
        assert!(stdout(&o).contains(" 0 new, 0 updated"), "{}", stdout(&o));
        assert_eq!(once, rows(&b, &session), "{session}: second import");
        assert_eq!(once, rows(&a, &session), "{session}: beside other sessions");
    }
}

#[test]
fn without_the_capture_log_a_tape_restores_everything_else() {
    let dir = tempdir();
    let a = source_db(dir.path());
    let tape = dir.path().join("s.tape");
    export_tape(&a, EXTRAS, &tape, &["--no-capture-log"]);
    let b = dir.path().join("b.db");
    assert_eq!(code(&import(&b, &tape)), 0);
    let (want, got) = (rows(&a, EXTRAS), rows(&b, EXTRAS));
    assert!(got.capture.is_empty() && !want.capture.is_empty());
    assert_eq!(want.events, got.events);
    assert_eq!(want.session, got.session);
    let o = run(&a, &["export", EXTRAS, "--compress"]);
    assert_eq!(code(&o), 2, "--compress needs --format tape");
}

/// Runs `import` on a broken tape: exit 2, one error line naming the file and `needle`.
fn assert_refused(dir: &Path, name: &str, bytes: &[u8], needle: &str) {
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    let db = dir.join(format!("{name}.db"));
    let o = import(&db, &path);
    let err = stderr(&o);
    assert_eq!(code(&o), 2, "{name}: {err}");
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.starts_with(&format!("flightrec: error: {}: ", path.display())) && err.contains(needle),
        "{name}: {err}"
    );
    // Nothing of it was stored.
    let events: i64 = rusqlite::Connection::open(&db)
        .unwrap()
        .query_row("SELECT count(*) FROM events", [], |r| r.get(0))
        .unwrap_or(0);
    assert_eq!(events, 0, "{name}");
}

#[test]
fn truncated_and_corrupted_tapes_are_refused_with_the_line() {
    let dir = tempdir();
    let a = source_db(dir.path());
    let tape = dir.path().join("s.tape");
    export_tape(&a, "sesn_011CZqueuedEcho000000012", &tape, &[]);
    let text = std::fs::read_to_string(&tape).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    let n = lines.len();

    // Whole lines missing: the header's counts say what.
    let short = lines[..n - 3].join("\n") + "\n";
    assert_refused(
        dir.path(),
        "short.tape",
        short.as_bytes(),
        &format!(
            "truncated: the header promises 15 previews but the tape ends after 13 (line {})",
            n - 3
        ),
    );
    // Cut inside a line.
    let cut = &text[..text.len() - 20];
    assert_refused(
        dir.path(),
        "cut.tape",
        cut.as_bytes(),
        &format!("line {n}: the last line is incomplete"),
    );
    // A corrupted record.
    let mut bad: Vec<String> = lines.iter().map(|l| l.to_string()).collect();
    bad[4] = bad[4].replacen("\"raw\":", "\"raw\" ", 1);
    assert_refused(
        dir.path(),
        "bad.tape",
        (bad.join("\n") + "\n").as_bytes(),
        "line 5: not a tape record",
    );
    // Event text that is not an event.
    let mut bad: Vec<String> = lines.iter().map(|l| l.to_string()).collect();
    bad[2] = r#"{"kind":"event","thread_id":"","type":"x","source":"import","received_at":"t","revision":0,"raw":"[1]"}"#.into();
    assert_refused(
        dir.path(),
        "notevent.tape",
        (bad.join("\n") + "\n").as_bytes(),
        "line 3: event text: JSON is not an object",
    );
    // An event whose earlier copies are missing.
    let at = lines
        .iter()
        .position(|l| l.contains("\"revision\":1,"))
        .unwrap();
    let mut bad: Vec<String> = lines.iter().map(|l| l.to_string()).collect();
    bad[at] = bad[at].replace("\"revision\":1,", "\"revision\":2,");
    assert_refused(
        dir.path(),
        "revision.tape",
        (bad.join("\n") + "\n").as_bytes(),
        &format!(
            "line {}: the event says revision 2 but the tape holds 1 earlier copies of it",
            at + 1
        ),
    );
    // A newer major version, and no header at all.
    let newer = text.replacen("{\"flightrec_tape\":1,", "{\"flightrec_tape\":2,", 1);
    assert_refused(
        dir.path(),
        "newer.tape",
        newer.as_bytes(),
        "tape format version 2 is newer",
    );
    let odd = text.replacen("{\"flightrec_tape\":1,", "{\"flightrec_tape\":\"one\",", 1);
    assert_refused(
        dir.path(),
        "odd.tape",
        odd.as_bytes(),
        "line 1: not a flightrec tape header: \"flightrec_tape\" is \"one\"",
    );
    // A compressed tape cut short.
    let gz = dir.path().join("s.tape.gz");
    export_tape(&a, "sesn_011CZqueuedEcho000000012", &gz, &["--compress"]);
    let bytes = std::fs::read(&gz).unwrap();
    assert_refused(
        dir.path(),
        "cut.tape.gz",
        &bytes[..bytes.len() / 2],
        "truncated",
    );
}

#[test]
fn a_tape_names_its_own_session() {
    let dir = tempdir();
    let a = source_db(dir.path());
    let tape = dir.path().join("s.tape");
    export_tape(&a, EXTRAS, &tape, &[]);
    let b = dir.path().join("b.db");
    let o = run(
        &b,
        &[
            "import",
            "--session",
            "sesn_011CZother",
            tape.to_str().unwrap(),
        ],
    );
    assert_eq!(code(&o), 2);
    assert!(
        stderr(&o).contains(&format!("the tape holds session {EXTRAS}")),
        "{}",
        stderr(&o)
    );
    let o = run(&b, &["import", "--session", EXTRAS, tape.to_str().unwrap()]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
}

#[test]
fn serve_tape_answers_the_events_api_over_loopback() {
    use std::io::{BufRead, BufReader};
    let dir = tempdir();
    let a = source_db(dir.path());
    let session = "sesn_011CZqueuedEcho000000012";
    let tape = dir.path().join("s.tape.gz");
    export_tape(&a, session, &tape, &["--compress"]);
    let want: Vec<String> = String::from_utf8(jsonl(&a, session))
        .unwrap()
        .lines()
        .map(str::to_string)
        .collect();
    let mut child = bin()
        .args(["--db", dir.path().join("unused.db").to_str().unwrap()])
        .args([
            "serve",
            "--addr",
            "127.0.0.1:0",
            "--tape",
            tape.to_str().unwrap(),
        ])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let base = line
        .trim()
        .strip_prefix("listening on ")
        .map(str::to_string);
    let got = base.as_ref().map(|base| {
        let rt = tokio::runtime::Runtime::new().unwrap();
        rt.block_on(crate::serve::all_pages(&format!(
            "{base}/v1/sessions/{session}/events?limit=7"
        )))
        .0
    });
    child.kill().unwrap();
    child.wait().unwrap();
    let got = got.unwrap_or_else(|| panic!("no address: {line:?}"));
    let got: Vec<String> = got.iter().map(|t| one_line(t).into_owned()).collect();
    assert_eq!(got, want);
    assert!(
        !dir.path().join("unused.db").exists(),
        "--db is not touched"
    );
}

#[test]
fn view_tape_says_how_to_build_the_viewer_when_it_is_missing() {
    let dir = tempdir();
    let a = source_db(dir.path());
    let tape = dir.path().join("s.tape");
    export_tape(&a, EXTRAS, &tape, &[]);
    let bin_dir = dir.path().join("bin");
    std::fs::create_dir(&bin_dir).unwrap();
    let exe = lone_binary(&bin_dir);
    let o = output_of(
        std::process::Command::new(&exe)
            .args(["view", tape.to_str().unwrap()])
            .env("PATH", bin_dir.join("nothing")),
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
fn view_tape_starts_the_viewer_on_a_database_restored_from_it() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempdir();
    let a = source_db(dir.path());
    let tape = dir.path().join("s.tape");
    export_tape(&a, EXTRAS, &tape, &[]);
    let bin_dir = dir.path().join("bin");
    std::fs::create_dir(&bin_dir).unwrap();
    let exe = lone_binary(&bin_dir);
    // A viewer that records its arguments and a copy of the database it was given.
    let args_file = dir.path().join("args.txt");
    let copy = dir.path().join("seen.db");
    std::fs::write(
        bin_dir.join("flightrec-ui"),
        format!(
            "#!/bin/sh\nprintf '%s\\n' \"$@\" > '{}'\ncp \"$2\" '{}'\n",
            args_file.display(),
            copy.display()
        ),
    )
    .unwrap();
    std::fs::set_permissions(
        bin_dir.join("flightrec-ui"),
        std::fs::Permissions::from_mode(0o755),
    )
    .unwrap();
    let o = output_of(std::process::Command::new(&exe).args(["view", tape.to_str().unwrap()]));
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let args = std::fs::read_to_string(&args_file).unwrap();
    let args: Vec<&str> = args.lines().collect();
    assert_eq!(args.len(), 3, "{args:?}");
    assert_eq!((args[0], args[2]), ("--db", EXTRAS));
    assert_eq!(rows(&copy, EXTRAS), rows(&a, EXTRAS));
    assert!(
        !Path::new(args[1]).exists(),
        "the temporary database is removed afterwards"
    );
}

/// A redacted tape, plain or compressed, holds none of the secrets planted in every kind of
/// field (message text, tool input and result, error message, session object and metadata,
/// a replaced copy, a preview, the capture log), carries its manifest, and imports into a
/// session that has none of them either.
#[test]
fn a_redacted_tape_holds_no_planted_secret_and_carries_its_manifest() {
    use crate::redact::{IDS, PLANTED, SESSION, USER_FLAGS, assert_no_secret, planted_db};
    let dir = tempfile::tempdir().unwrap();
    let db = planted_db(dir.path());
    // Without --redact the tape has every secret: the plant is real.
    let plain = dir.path().join("plain.tape");
    export_tape(&db, SESSION, &plain, &[]);
    let text = std::fs::read_to_string(&plain).unwrap();
    for p in PLANTED {
        assert!(text.contains(p.secret), "not planted: {}", p.what);
    }
    let mut flags = vec!["--redact"];
    flags.extend_from_slice(USER_FLAGS);
    for compress in [false, true] {
        let tape = dir.path().join(format!("redacted-{compress}.tape"));
        let mut extra = flags.clone();
        if compress {
            extra.push("--compress");
        }
        export_tape(&db, SESSION, &tape, &extra);
        let bytes = std::fs::read(&tape).unwrap();
        let bytes = if compress { gunzip(&bytes) } else { bytes };
        let text = String::from_utf8(bytes).unwrap();
        assert_no_secret(&text, "redacted tape");
        for id in IDS {
            assert!(text.contains(id), "the id {id} must survive redaction");
        }
        assert!(text.contains("[REDACTED:"), "no marker in the tape");
        let header: serde_json::Value = serde_json::from_str(text.lines().next().unwrap()).unwrap();
        let manifest = &header["redaction"];
        assert!(manifest.is_object(), "no manifest: {header}");
        let masked = manifest["masked"].as_u64().unwrap();
        assert!(masked >= PLANTED.len() as u64, "{manifest}");
        let rules = manifest["rules"].as_array().unwrap();
        assert!(
            rules.iter().any(|r| r["name"] == "anthropic-key"),
            "{manifest}"
        );
        // The restored session has no secret either, in its events or its object.
        let restored = dir.path().join(format!("restored-{compress}.db"));
        let o = import(&restored, &tape);
        assert_eq!(code(&o), 0, "{}", stderr(&o));
        assert_no_secret(
            &String::from_utf8(jsonl(&restored, SESSION)).unwrap(),
            "restored",
        );
        let c = rusqlite::Connection::open(&restored).unwrap();
        let object: String = c
            .query_row(
                "SELECT object FROM sessions WHERE id = ?1",
                [SESSION],
                |r| r.get(0),
            )
            .unwrap();
        assert_no_secret(&object, "restored session object");
        assert!(object.contains("[REDACTED:"), "{object}");
    }
}
