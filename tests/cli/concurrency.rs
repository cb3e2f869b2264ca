//! The concurrency matrix (issue 12, standing guard): 1, 2 and 4 concurrent writers of different
//! kinds × 0 or 2 readers looping reading commands × a `serve` of the database being written with
//! an SSE follower, each cell compared with a serial run of the same writers into a fresh database.
//!
//! Writers: `import` of a generated capture of session G (N events), the same capture again,
//! a capture overlapping it (events N/2..3N/2) together with every sample (disjoint sessions),
//! `record` of the happy-path sample from a live `serve` of another database, and `watch` of a
//! live `serve` of a third one (the queued-echo sample: queued copies replaced by processed
//! echoes, two turns). Every database starts with G's first
//! events, so readers and the follower have a session to read from the start.
//!
//! Checks per cell: every writer exits 0; every reader command exits 0 with valid output (JSON
//! parses, G is listed); the follower of G's stream receives every event of G once, with the
//! stored bytes; the rows (per session and stream, in order: id, type, raw) equal the serial
//! run's; `PRAGMA integrity_check` is ok; the per-session counts match the rows.
//!
//! Scale: `FLIGHTREC_MATRIX_EVENTS` (default 20,000); `bench/concurrency.sh` runs it larger and
//! collects the `matrix:` lines each cell prints.

use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::record::serve_process;
use crate::util::*;

const G: &str = "sesn_011CZmatrixGenerated0001";
const RECORDED: &str = "sesn_011CZhappyPath0000000001";
const WATCHED: &str = "sesn_011CZqueuedEcho000000012";
/// Events of G every database starts with.
const HEAD: usize = 100;
/// A reader command slower than this is taken for a hang (the machine is shared and noisy and
/// the tests run a debug build: this is no timing target; the figures report the slowest).
fn hang() -> Duration {
    Duration::from_secs(
        std::env::var("FLIGHTREC_MATRIX_HANG_SECS")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(30),
    )
}

fn scale() -> usize {
    std::env::var("FLIGHTREC_MATRIX_EVENTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20_000)
}

/// Events `range` of session G as JSON Lines at `path`: one turn after another, distinct ids and
/// timestamps, so two captures overlap exactly where their ranges do.
fn write_capture(path: &Path, range: std::ops::Range<usize>) {
    let mut f = std::io::BufWriter::new(std::fs::File::create(path).unwrap());
    let types = [
        "user.message",
        "session.status_running",
        "agent.message",
        "session.status_idle",
    ];
    for i in range {
        let ty = types[i % types.len()];
        let (s, ms) = (i / 1000, i % 1000);
        let extra = match ty {
            "session.status_idle" => r#","stop_reason":{"type":"end_turn"}"#.to_string(),
            "user.message" | "agent.message" => {
                format!(r#","content":[{{"type":"text","text":"message {i}"}}]"#)
            }
            _ => String::new(),
        };
        writeln!(
            f,
            r#"{{"type":"{ty}","id":"sevt_m{i:08}","processed_at":"2026-04-01T{:02}:{:02}:{:02}.{ms:03}Z"{extra}}}"#,
            s / 3600,
            (s / 60) % 60,
            s % 60
        )
        .unwrap();
    }
    f.flush().unwrap();
}

/// The inputs every run of a cell shares.
struct Fixture {
    _dir: tempfile::TempDir,
    head: PathBuf,
    capture: PathBuf,
    overlapping: PathBuf,
    /// Databases the `record` and `watch` writers' servers serve.
    record_src: PathBuf,
    watch_src: PathBuf,
    events: usize,
}

fn fixture() -> Fixture {
    let dir = tempdir();
    let n = scale();
    let head = dir.path().join(format!("head.{G}.jsonl"));
    let capture = dir.path().join(format!("capture.{G}.jsonl"));
    let overlapping = dir.path().join(format!("overlapping.{G}.jsonl"));
    write_capture(&head, 0..HEAD);
    write_capture(&capture, 0..n);
    write_capture(&overlapping, n / 2..n + n / 2);
    let record_src = dir.path().join("record-src.db");
    let watch_src = dir.path().join("watch-src.db");
    for (db, s) in [(&record_src, RECORDED), (&watch_src, WATCHED)] {
        let f = sample_files()
            .into_iter()
            .find(|p| session_of(p) == s)
            .unwrap();
        let o = run(db, &["import", f.to_str().unwrap()]);
        assert_eq!(code(&o), 0, "{}", stderr(&o));
    }
    Fixture {
        _dir: dir,
        head,
        capture,
        overlapping,
        record_src,
        watch_src,
        events: n,
    }
}

#[derive(Clone, Debug)]
enum Writer {
    Import(Vec<PathBuf>),
    Record,
    Watch,
}

/// The writers of a cell with `n` of them.
fn writers(fx: &Fixture, n: usize) -> Vec<Writer> {
    let mut overlapping_and_samples = vec![fx.overlapping.clone()];
    overlapping_and_samples.extend(sample_files());
    let all = match n {
        1 => vec![Writer::Import(vec![fx.capture.clone()])],
        2 => vec![Writer::Import(vec![fx.capture.clone()]), Writer::Record],
        _ => vec![
            Writer::Import(vec![fx.capture.clone()]),
            Writer::Import(vec![fx.capture.clone()]),
            Writer::Import(overlapping_and_samples),
            Writer::Watch,
        ],
    };
    assert_eq!(all.len(), n);
    all
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

fn stop(mut server: Child) {
    let _ = server.kill();
    let _ = server.wait();
}

/// Runs one writer to its end; what went wrong, if anything.
fn run_writer(w: &Writer, db: &Path, fx: &Fixture) -> Result<(), String> {
    match w {
        Writer::Import(files) => {
            let mut args = vec!["import".to_string()];
            args.extend(files.iter().map(|f| f.display().to_string()));
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            let o = spawn(db, &args).wait_with_output().unwrap();
            // Exit 3: some sample holds warnings (same on every run); anything else fails.
            match code(&o) {
                0 | 3 => Ok(()),
                c => Err(format!("import exited {c}: {}", stderr(&o))),
            }
        }
        Writer::Record => {
            let (server, url) = serve_process(&fx.record_src, &["--live", "--speed", "10"]);
            let o = spawn(
                db,
                &[
                    "record",
                    RECORDED,
                    "--base-url",
                    &url,
                    "--until",
                    "idle",
                    "--quiet",
                    "--idle-timeout",
                    "3s",
                    "--timeout",
                    "120s",
                ],
            )
            .wait_with_output()
            .unwrap();
            stop(server);
            match code(&o) {
                0 => Ok(()),
                c => Err(format!("record exited {c}: {}", stderr(&o))),
            }
        }
        Writer::Watch => {
            let (server, url) = serve_process(
                &fx.watch_src,
                &["--live", "--speed", "10", "--max-gap", "2s"],
            );
            let mut child = spawn(
                db,
                &[
                    "watch",
                    "--poll",
                    "150ms",
                    "--idle-timeout",
                    "3s",
                    "--base-url",
                    &url,
                ],
            );
            // Until the watched session's recording has ended (a line names it), then SIGTERM.
            let out = child.stdout.take().unwrap();
            let (tx, rx) = std::sync::mpsc::channel();
            std::thread::spawn(move || {
                for line in std::io::BufReader::new(out).lines() {
                    let Ok(line) = line else { break };
                    if tx.send(line).is_err() {
                        break;
                    }
                }
            });
            let want = format!("{WATCHED}: ");
            let seen = loop {
                match rx.recv_timeout(Duration::from_secs(120)) {
                    Ok(l) if l.starts_with(&want) => break Ok(l),
                    Ok(_) => {}
                    Err(e) => break Err(e),
                }
            };
            let term = std::process::Command::new("kill")
                .args(["-TERM", &child.id().to_string()])
                .status();
            let o = child.wait_with_output().unwrap();
            stop(server);
            let line = seen.map_err(|e| format!("watch never recorded {WATCHED}: {e}"))?;
            if line.contains("new events;") && code(&o) == 0 && term.is_ok() {
                Ok(())
            } else {
                Err(format!("watch: {line}; exit {}: {}", code(&o), stderr(&o)))
            }
        }
    }
}

/// A database holding G's first events, as every run starts.
fn seeded(dir: &Path, name: &str, fx: &Fixture) -> PathBuf {
    let db = dir.join(name);
    let o = run(&db, &["import", fx.head.to_str().unwrap()]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    db
}

/// (session, stream) → ordered (event id, type, raw): what two runs must agree on.
type Content = Vec<(String, String, Vec<(String, String, String)>)>;

fn content(db: &Path) -> Content {
    let c = rusqlite::Connection::open_with_flags(db, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
        .unwrap();
    flightrec::store::register_event_text(&c, db).unwrap();
    let mut s = c
        .prepare(
            "SELECT session_id, thread_id, event_id, type, event_text(raw) FROM events \
             ORDER BY session_id, thread_id, sort_ts, seq",
        )
        .unwrap();
    let rows = s
        .query_map([], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
        })
        .unwrap()
        .map(Result::unwrap);
    let mut out: Content = Vec::new();
    for (session, thread, id, ty, raw) in rows {
        match out.last_mut() {
            Some((s, t, v)) if *s == session && *t == thread => v.push((id, ty, raw)),
            _ => out.push((session, thread, vec![(id, ty, raw)])),
        }
    }
    out
}

/// `PRAGMA integrity_check` and the per-session counts against the rows.
fn assert_sound(db: &Path) {
    let c = rusqlite::Connection::open(db).unwrap();
    let ok: String = c
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    assert_eq!(ok, "ok", "{}", db.display());
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

/// The rows of `session`'s own stream, in order.
fn stream_rows(db: &Path, session: &str) -> Vec<(String, String, String)> {
    content(db)
        .into_iter()
        .find(|(s, t, _)| s == session && t.is_empty())
        .map(|(_, _, v)| v)
        .unwrap_or_default()
}

/// Waits until `session` has a row in `db` (or `timeout` passes).
fn wait_for_session(db: &Path, session: &str, timeout: Duration) {
    let deadline = Instant::now() + timeout;
    let flags = rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY;
    while Instant::now() < deadline {
        let n: i64 = rusqlite::Connection::open_with_flags(db, flags)
            .and_then(|c| {
                c.query_row(
                    "SELECT count(*) FROM events WHERE session_id = ?1",
                    [session],
                    |r| r.get(0),
                )
            })
            .unwrap_or(0);
        if n > 0 {
            return;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

mod follow;
mod readers;

/// What a cell measured.
struct Figures {
    reader_commands: usize,
    failures: Vec<String>,
    slowest: Duration,
    slowest_command: String,
    /// Each reader command's slowest run.
    slowest_by_name: String,
    followed: usize,
    expected: usize,
    /// ` late_follower=received/stored` when a second follower ran.
    late_figure: String,
    elapsed: Duration,
}

/// The writers at once, with `readers` readers and a follower of G through `serve`.
fn concurrent(dir: &Path, fx: &Fixture, ws: &[Writer], readers: usize) -> (PathBuf, Figures) {
    let db = seeded(dir, "concurrent.db", fx);
    let (server, url) = serve_process(&db, &[]);
    let follower = follow::Follower::start(&url, G);
    follower.wait_for(HEAD, Duration::from_secs(30));
    let stop_readers = Arc::new(AtomicBool::new(false));
    let log = Arc::new(Mutex::new(readers::Log::default()));
    let reader_threads: Vec<_> = (0..readers)
        .map(|k| {
            let (db, stop, log) = (db.clone(), Arc::clone(&stop_readers), Arc::clone(&log));
            std::thread::spawn(move || readers::read_until(&db, k, &stop, &log))
        })
        .collect();
    let started = Instant::now();
    // A second follower, opened mid-write on a session a recorder and (with 4 writers) an import
    // write, as soon as it exists.
    let late_session = match ws
        .iter()
        .find(|w| matches!(w, Writer::Record | Writer::Watch))
    {
        Some(Writer::Record) => Some(RECORDED),
        Some(_) => Some(WATCHED),
        None => None,
    };
    let late = late_session.map(|s| {
        let (db, url) = (db.clone(), url.clone());
        std::thread::spawn(move || {
            wait_for_session(&db, s, Duration::from_secs(120));
            follow::Follower::start(&url, s)
        })
    });
    let results: Vec<Result<(), String>> = std::thread::scope(|s| {
        let handles: Vec<_> = ws
            .iter()
            .map(|w| s.spawn(|| run_writer(w, &db, fx)))
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let elapsed = started.elapsed();
    stop_readers.store(true, Ordering::Relaxed);
    for t in reader_threads {
        t.join().unwrap();
    }
    for (w, r) in ws.iter().zip(&results) {
        assert!(r.is_ok(), "{w:?}: {}", r.as_ref().unwrap_err());
    }
    let expected = stream_rows(&db, G);
    follower.wait_for(expected.len(), Duration::from_secs(60));
    let got = follower.finish();
    let mut late_figure = String::new();
    if let (Some(s), Some(late)) = (late_session, late) {
        let late = late.join().unwrap();
        let stored = stream_rows(&db, s);
        late.wait_for(stored.len(), Duration::from_secs(60));
        let frames = late.finish();
        late_figure = format!(" late_follower={}/{}", frames.len(), stored.len());
        follow::assert_each_once(&frames, &stored);
    }
    stop(server);
    follow::assert_each_once(&got, &expected);
    let log = Arc::try_unwrap(log).ok().unwrap().into_inner().unwrap();
    let slowest_by_name = log.by_name();
    let figures = Figures {
        reader_commands: log.commands,
        failures: log.failures,
        slowest: log.slowest,
        slowest_by_name,
        slowest_command: log.slowest_command,
        followed: got.len(),
        expected: expected.len(),
        late_figure,
        elapsed,
    };
    (db, figures)
}

fn cell(n_writers: usize, n_readers: usize) {
    let fx = fixture();
    let dir = tempdir();
    let ws = writers(&fx, n_writers);
    let serial = seeded(dir.path(), "serial.db", &fx);
    let t = Instant::now();
    for w in &ws {
        if let Err(e) = run_writer(w, &serial, &fx) {
            panic!("serial {w:?}: {e}");
        }
    }
    let serial_time = t.elapsed();
    let (db, f) = concurrent(dir.path(), &fx, &ws, n_readers);
    let events: usize = content(&db).iter().map(|(_, _, v)| v.len()).sum();
    eprintln!(
        "matrix: writers={n_writers} readers={n_readers} capture={} events={events} \
         serial={:.1}s concurrent={:.1}s reader_commands={} failures={} \
         max_reader_latency={:.0}ms ({}) by_command=[{}] follower={}/{}{}",
        fx.events,
        serial_time.as_secs_f64(),
        f.elapsed.as_secs_f64(),
        f.reader_commands,
        f.failures.len(),
        f.slowest.as_secs_f64() * 1000.0,
        f.slowest_command,
        f.slowest_by_name,
        f.followed,
        f.expected,
        f.late_figure,
    );
    assert!(
        f.failures.is_empty(),
        "{} reader commands failed, the first: {:#?}",
        f.failures.len(),
        &f.failures[..f.failures.len().min(5)]
    );
    if n_readers > 0 {
        assert!(f.reader_commands > 0, "no reader command ran");
    }
    assert_sound(&db);
    assert_sound(&serial);
    let (got, want) = (content(&db), content(&serial));
    assert_eq!(
        got.iter()
            .map(|(s, t, v)| (s, t, v.len()))
            .collect::<Vec<_>>(),
        want.iter()
            .map(|(s, t, v)| (s, t, v.len()))
            .collect::<Vec<_>>(),
        "sessions, streams or event counts differ from the serial run"
    );
    for (g, w) in got.iter().zip(&want) {
        if let Some(i) = (0..g.2.len()).find(|&i| g.2[i] != w.2[i]) {
            panic!(
                "{} stream {:?}: event {i} differs from the serial run:\n  concurrent {:?}\n  serial     {:?}",
                g.0, g.1, g.2[i], w.2[i]
            );
        }
    }
}

#[test]
fn matrix_1_writer_0_readers() {
    cell(1, 0);
}

#[test]
fn matrix_1_writer_2_readers() {
    cell(1, 2);
}

#[test]
fn matrix_2_writers_0_readers() {
    cell(2, 0);
}

#[test]
fn matrix_2_writers_2_readers() {
    cell(2, 2);
}

#[test]
fn matrix_4_writers_0_readers() {
    cell(4, 0);
}

#[test]
fn matrix_4_writers_2_readers() {
    cell(4, 2);
}
