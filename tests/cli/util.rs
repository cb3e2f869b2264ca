//! Helpers: running the binary, reading the sample logs with an oracle independent of flightrec.

use serde_json::Value;
use serde_json::value::RawValue;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

pub fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_flightrec"))
}

/// Runs `flightrec --db DB ARGS...`.
pub fn run(db: &Path, args: &[&str]) -> Output {
    bin()
        .arg("--db")
        .arg(db)
        .args(args)
        .env_remove("FLIGHTREC_DB")
        // Terminal manners from the caller's shell would change the output: none here.
        .env_remove("COLUMNS")
        .env_remove("CLICOLOR_FORCE")
        .output()
        .unwrap()
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

pub fn code(o: &Output) -> i32 {
    o.status.code().unwrap_or(-1)
}

/// Whether this run takes the tests that need something from outside the repository (Debian's
/// Chromium and Prometheus, the official Python SDK from PyPI). `FLIGHTREC_TEST_TIER=hermetic` leaves them out,
/// for quick iteration with nothing installed; `scripts/test.sh` (the README's test command, which
/// CI runs) installs what they need and clears that variable, so they always run there.
pub fn tier_takes(what: &str) -> bool {
    if std::env::var("FLIGHTREC_TEST_TIER").as_deref() == Ok("hermetic") {
        eprintln!("left out by FLIGHTREC_TEST_TIER=hermetic: this test needs {what}");
        return false;
    }
    true
}

/// Whether `program` is on PATH for a test that needs it. When it is not, the hermetic tier
/// leaves the test out (saying so, as [`tier_takes`]); every other tier fails it, since
/// `scripts/test.sh` installs it.
#[allow(dead_code)]
pub fn has_program(program: &str, what: &str) -> bool {
    let found = std::env::var_os("PATH")
        .is_some_and(|paths| std::env::split_paths(&paths).any(|d| d.join(program).is_file()));
    if found {
        return true;
    }
    assert!(
        !tier_takes(what),
        "this test needs {what}, not found on PATH (scripts/test.sh installs it)"
    );
    false
}

pub fn samples_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("sample-logs")
}

/// Every sample log file, sorted.
pub fn sample_files() -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(samples_dir())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            matches!(
                p.extension().and_then(|e| e.to_str()),
                Some("jsonl" | "sse" | "json")
            )
        })
        .collect();
    v.sort();
    v
}

/// The samples of shapes seen on real traffic (`sample-logs/real/`), hand-written to those
/// shapes: dump documents, placeholder ids, partial captures... Some cannot be served or
/// recorded (a dump document is not a wire format), so they are kept apart from the samples
/// every recorder test replays.
#[allow(dead_code)]
pub fn real_samples_dir() -> PathBuf {
    samples_dir().join("real")
}

/// Every real-shape sample file, sorted.
#[allow(dead_code)]
pub fn real_sample_files() -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(real_samples_dir())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            matches!(
                p.extension().and_then(|e| e.to_str()),
                Some("jsonl" | "sse" | "json")
            )
        })
        .collect();
    v.sort();
    v
}

/// The `sesn_…` id in a sample's file name.
pub fn session_of(path: &Path) -> String {
    let name = path.file_name().unwrap().to_str().unwrap();
    let at = name.find("sesn_").unwrap();
    name[at..].chars().take(5 + 24).collect()
}

/// The event texts of one input, read the simple way: SSE frames (data lines joined, pings,
/// errors and comments skipped), JSON lines, or pages' `data` elements.
pub fn oracle_texts(path: &Path) -> Vec<String> {
    let text = std::fs::read_to_string(path).unwrap();
    if path.extension().unwrap() == "sse" {
        let norm = text.replace("\r\n", "\n");
        let mut out = Vec::new();
        for frame in norm.split("\n\n") {
            let mut name = "";
            let mut data: Vec<&str> = Vec::new();
            for line in frame.lines() {
                if let Some(v) = line.strip_prefix("event:") {
                    name = v.trim_start();
                } else if let Some(v) = line.strip_prefix("data:") {
                    data.push(v.strip_prefix(' ').unwrap_or(v));
                }
            }
            if data.is_empty() || name == "ping" || name == "error" {
                continue;
            }
            out.push(data.join("\n"));
        }
        return out;
    }
    let mut out = Vec::new();
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        let v: std::collections::HashMap<String, Box<RawValue>> =
            serde_json::from_str(line).unwrap();
        match v.get("data") {
            Some(data) if !v.contains_key("type") => {
                let items: Vec<Box<RawValue>> = serde_json::from_str(data.get()).unwrap();
                out.extend(items.iter().map(|i| i.get().to_string()))
            }
            _ => out.push(line.to_string()),
        }
    }
    out
}

/// What a session's export must hold, from the oracle: previews dropped; one event per id, the
/// newest copy unless it is a queued copy of a processed event; ordered by processed_at (queued
/// last) then first arrival.
pub fn expected_session(texts: &[String]) -> Vec<Value> {
    let mut slots: Vec<(Option<i64>, usize, Value)> = Vec::new();
    let mut index: std::collections::HashMap<String, usize> = Default::default();
    for (arrival, t) in texts.iter().enumerate() {
        let v: Value = serde_json::from_str(t).unwrap();
        let ty = v["type"].as_str().unwrap_or("");
        if ty == "event_start" || ty == "event_delta" {
            continue;
        }
        let id = v["id"].as_str().unwrap_or("").to_string();
        let ts = v["processed_at"].as_str().map(|p| {
            chrono::DateTime::parse_from_rfc3339(p)
                .unwrap()
                .timestamp_micros()
        });
        if !id.is_empty()
            && let Some(&i) = index.get(&id)
        {
            if !(ts.is_none() && slots[i].0.is_some()) {
                slots[i].0 = ts;
                slots[i].2 = v;
            }
            continue;
        }
        if id.is_empty() && ts.is_some() && slots.iter().any(|s| s.2 == v) {
            continue;
        }
        if !id.is_empty() {
            index.insert(id, slots.len());
        }
        slots.push((ts, arrival, v));
    }
    slots.sort_by_key(|(ts, arrival, _)| (ts.unwrap_or(i64::MAX), *arrival));
    slots.into_iter().map(|s| s.2).collect()
}

/// event_id, type, processed_at, sort_ts, link_id, thread_id, raw.
pub type EventColumns = (
    String,
    String,
    Option<String>,
    i64,
    Option<String>,
    String,
    String,
);

/// The event columns that must survive a round trip, for every event of `session`.
pub fn event_rows(db: &Path, session: &str) -> Vec<EventColumns> {
    let c = db_conn(db);
    let mut s = c
        .prepare(
            "SELECT event_id, type, processed_at, sort_ts, link_id, thread_id, event_text(raw) FROM events \
             WHERE session_id = ?1 ORDER BY sort_ts, seq",
        )
        .unwrap();
    s.query_map([session], |r| {
        Ok((
            r.get(0)?,
            r.get(1)?,
            r.get(2)?,
            r.get(3)?,
            r.get(4)?,
            r.get(5)?,
            r.get(6)?,
        ))
    })
    .unwrap()
    .collect::<Result<_, _>>()
    .unwrap()
}

/// A plain connection to a flightrec database that can read event text (`event_text(raw)`:
/// the store keeps it compressed).
pub fn db_conn(db: &Path) -> rusqlite::Connection {
    let c = rusqlite::Connection::open(db).unwrap();
    flightrec::store::register_event_text(&c, db).unwrap();
    c
}

pub fn tempdir() -> tempfile::TempDir {
    tempfile::tempdir().unwrap()
}

/// Imports every sample log into `db` with the real binary.
pub fn import_samples(db: &Path) {
    let files: Vec<String> = sample_files()
        .iter()
        .map(|p| p.display().to_string())
        .collect();
    let mut args = vec!["import"];
    args.extend(files.iter().map(String::as_str));
    let o = run(db, &args);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
}

/// The sample sessions' ids, in file order, once each.
pub fn sample_sessions() -> Vec<String> {
    let mut v: Vec<String> = sample_files().iter().map(|p| session_of(p)).collect();
    v.dedup();
    v
}

/// (scenario, session id) of every sample session: `happy-path` for
/// `happy-path.sesn_011CZhappyPath0000000001.jsonl`, in file order, once each.
pub fn sample_scenarios() -> Vec<(String, String)> {
    let mut v: Vec<(String, String)> = sample_files()
        .iter()
        .map(|p| {
            let name = p.file_name().unwrap().to_str().unwrap();
            let scenario = name.split('.').next().unwrap().to_string();
            (scenario, session_of(p))
        })
        .collect();
    v.dedup();
    v
}

/// Waits until the database at `db` holds at least `n` events, or `timeout` passes (the caller's
/// assertions then say what is missing).
pub fn wait_for_events(db: &Path, n: i64, timeout: std::time::Duration) {
    let deadline = std::time::Instant::now() + timeout;
    loop {
        let have: i64 = rusqlite::Connection::open(db)
            .and_then(|c| c.query_row("SELECT count(*) FROM events", [], |r| r.get(0)))
            .unwrap_or(0);
        if have >= n || std::time::Instant::now() > deadline {
            return;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
}

/// The flightrec binary alone in `dir`, so `view` finds only what a test puts beside it.
/// Hard-linked where it can be: a copy is a file open for writing while it is made, and a child
/// another test forks meanwhile inherits that, so running the copy can fail with "Text file busy".
pub fn lone_binary(dir: &Path) -> PathBuf {
    let exe = dir.join("flightrec");
    if std::fs::hard_link(env!("CARGO_BIN_EXE_flightrec"), &exe).is_err() {
        std::fs::copy(env!("CARGO_BIN_EXE_flightrec"), &exe).unwrap();
    }
    exe
}

/// `cmd.output()`, tried again while the program is "Text file busy" (see [`lone_binary`]).
pub fn output_of(cmd: &mut Command) -> Output {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        match cmd.output() {
            Err(e)
                if e.kind() == std::io::ErrorKind::ExecutableFileBusy
                    && std::time::Instant::now() < deadline =>
            {
                std::thread::sleep(std::time::Duration::from_millis(50));
            }
            r => return r.unwrap(),
        }
    }
}

/// Starts `cmd` with its stdout and stderr piped, and its stdout lines sent, as they come, to the
/// receiver (by a thread that ends with the output). Long-running processes (`watch`, `serve`)
/// are read this way.
pub fn spawn_lines(mut cmd: Command) -> (std::process::Child, std::sync::mpsc::Receiver<String>) {
    use std::io::BufRead;
    let mut child = cmd
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let out = std::io::BufReader::new(child.stdout.take().unwrap());
    let (tx, lines) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in out.lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    (child, lines)
}
