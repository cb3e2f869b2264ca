//! `flightrec timeline --follow` and `flightrec tail`: events another process stores appear on
//! the follower's stdout, each once, late ones marked; the backlog; errors; terminal manners.

use serde_json::Value;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use crate::util::*;

const HAPPY: &str = "sesn_011CZhappyPath0000000001";
/// happy-path's last event: the follower has printed its backlog when this line is out.
const HAPPY_LAST: &str = "sevt_011CZkgboXG2mvO8Gbqgkfyh";
const TERMINATED: &str = "sesn_011CZreschedTerminated08";

fn sample(prefix: &str) -> PathBuf {
    sample_files()
        .into_iter()
        .find(|p| p.file_name().unwrap().to_str().unwrap().starts_with(prefix))
        .unwrap()
}

fn db_with(prefixes: &[&str]) -> (tempfile::TempDir, PathBuf) {
    let dir = tempdir();
    let db = dir.path().join("f.db");
    for p in prefixes {
        let o = run(&db, &["import", sample(p).to_str().unwrap()]);
        assert_eq!(code(&o), 0, "{}", stderr(&o));
    }
    (dir, db)
}

/// Imports `lines` (JSON events) into `session` with the real binary, as another process.
/// Returns when that process has exited.
fn import_events(db: &Path, session: &str, name: &str, lines: &[String]) -> Instant {
    let file = db.with_file_name(name);
    std::fs::write(&file, lines.join("\n") + "\n").unwrap();
    let o = run(
        db,
        &["import", "--session", session, file.to_str().unwrap()],
    );
    let exited = Instant::now();
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    exited
}

fn message(id: &str, at: &str, text: &str) -> String {
    serde_json::json!({
        "type": "user.message", "id": id, "processed_at": at,
        "content": [{"type": "text", "text": text}],
    })
    .to_string()
}

/// A follower process whose stdout lines are read as they come, each with when it came.
struct Follower {
    child: Child,
    lines: mpsc::Receiver<(String, Instant)>,
    seen: Vec<String>,
}

impl Follower {
    fn start(db: &Path, args: &[&str]) -> Follower {
        let mut child = bin()
            .arg("--db")
            .arg(db)
            .args(args)
            .env_remove("FLIGHTREC_DB")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let out = child.stdout.take().unwrap();
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(out).lines() {
                let Ok(line) = line else { break };
                if tx.send((line, Instant::now())).is_err() {
                    break;
                }
            }
        });
        Follower {
            child,
            lines,
            seen: Vec::new(),
        }
    }

    /// Lines until one containing `needle` (returned with when it came), within `within`.
    fn wait_for(&mut self, needle: &str, within: Duration) -> (String, Instant) {
        let deadline = Instant::now() + within;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok((line, at)) => {
                    self.seen.push(line.clone());
                    if line.contains(needle) {
                        return (line, at);
                    }
                }
                Err(_) => panic!(
                    "no line with {needle} within {within:?}; seen:\n{}",
                    self.seen.join("\n")
                ),
            }
        }
    }

    fn count(&self, needle: &str) -> usize {
        self.seen.iter().filter(|l| l.contains(needle)).count()
    }

    /// Waits for the process to end by itself; its exit code and stderr.
    fn wait_exit(mut self, within: Duration) -> (i32, Vec<String>, String) {
        let deadline = Instant::now() + within;
        while self.child.try_wait().unwrap().is_none() {
            assert!(Instant::now() < deadline, "the follower did not exit");
            std::thread::sleep(Duration::from_millis(20));
        }
        while let Ok((line, _)) = self.lines.recv_timeout(Duration::from_secs(2)) {
            self.seen.push(line);
        }
        let mut err = String::new();
        self.child
            .stderr
            .take()
            .unwrap()
            .read_to_string(&mut err)
            .unwrap();
        let status = self.child.wait().unwrap();
        (
            status.code().unwrap_or(-1),
            std::mem::take(&mut self.seen),
            err,
        )
    }
}

impl Drop for Follower {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn timeline_follow_shows_what_another_process_imports_once_each_and_marks_late_ones() {
    let (_dir, db) = db_with(&["happy-path"]);
    let mut f = Follower::start(&db, &["timeline", HAPPY, "--follow"]);
    f.wait_for(HAPPY_LAST, Duration::from_secs(20));

    // A new event, stored by another process: on the follower's stdout soon after it exits.
    let new = message(
        "sevt_follow_new_1",
        "2026-08-07T09:20:00.000Z",
        "one more thing",
    );
    let exited = import_events(&db, HAPPY, "new.jsonl", std::slice::from_ref(&new));
    let (line, at) = f.wait_for("sevt_follow_new_1", Duration::from_secs(10));
    let latency = at.saturating_duration_since(exited);
    eprintln!(
        "follow latency: {} ms from the import's exit",
        latency.as_millis()
    );
    assert!(latency < Duration::from_secs(1), "{latency:?}");
    assert!(
        line.contains("user.message") && line.contains("session"),
        "{line}"
    );
    assert!(!line.contains("late"), "{line}");

    // A backfilled event, older than one shown: shown, marked late.
    let old = message(
        "sevt_follow_old_1",
        "2026-08-07T09:14:10.000Z",
        "backfilled",
    );
    import_events(&db, HAPPY, "old.jsonl", &[old]);
    let (line, _) = f.wait_for("sevt_follow_old_1", Duration::from_secs(10));
    assert!(line.contains(" late "), "{line}");

    // The same event again (a newer copy keeps its place), then a fence: each shown once.
    let fence = message("sevt_follow_fence", "2026-08-07T09:21:00.000Z", "fence");
    import_events(&db, HAPPY, "again.jsonl", &[new, fence]);
    f.wait_for("sevt_follow_fence", Duration::from_secs(10));
    assert_eq!(f.count("sevt_follow_new_1"), 1, "{:#?}", f.seen);
    assert_eq!(f.count("sevt_follow_old_1"), 1, "{:#?}", f.seen);
    assert_eq!(f.count(HAPPY_LAST), 1, "{:#?}", f.seen);

    // Not a terminal: no colour, no status line redrawn in place.
    for l in &f.seen {
        assert!(!l.contains('\x1b') && !l.contains('\r'), "{l:?}");
        assert!(!l.contains("waiting"), "{l}");
    }
}

#[test]
fn tail_n_3_prints_exactly_the_last_three_then_ends_with_a_terminated_session() {
    let (_dir, db) = db_with(&["rescheduled-terminated"]);
    let o = run(&db, &["timeline", TERMINATED, "--json"]);
    let all: Vec<Value> = serde_json::from_str(&stdout(&o)).unwrap();
    let last3: Vec<&str> = all[all.len() - 3..]
        .iter()
        .map(|e| e["id"].as_str().unwrap())
        .collect();

    let f = Follower::start(&db, &["tail", TERMINATED, "-n", "3"]);
    let (code, lines, err) = f.wait_exit(Duration::from_secs(20));
    assert_eq!(code, 0, "{err}");
    assert_eq!(lines.len(), 3, "{lines:#?}");
    for (line, id) in lines.iter().zip(&last3) {
        assert!(line.contains(id), "{line} should be {id}");
    }
    assert!(err.contains("terminated"), "{err}");
}

/// `tail` names a session as every other command does: `latest`, or a unique prefix of its id.
#[test]
fn tail_takes_latest_and_a_prefix_like_every_command() {
    let (_dir, db) = db_with(&["rescheduled-terminated"]);
    for name in ["latest", &TERMINATED[..16]] {
        let f = Follower::start(&db, &["tail", name, "-n", "1"]);
        let (code, lines, err) = f.wait_exit(Duration::from_secs(20));
        assert_eq!(code, 0, "{name}: {err}");
        assert_eq!(lines.len(), 1, "{name}: {lines:#?}");
    }
}

#[test]
fn tail_until_idle_ends_at_the_next_idle_with_explains_verdict() {
    let (_dir, db) = db_with(&["happy-path"]);
    let mut f = Follower::start(&db, &["tail", HAPPY, "-n", "1", "--until-idle"]);
    f.wait_for(HAPPY_LAST, Duration::from_secs(20));
    // The next turn, which ends blocked on a tool confirmation.
    let turn = std::fs::read_to_string(sample("pending-confirmation")).unwrap();
    let lines: Vec<String> = turn.lines().map(str::to_string).collect();
    import_events(&db, HAPPY, "turn.jsonl", &lines);
    let (code, out, err) = f.wait_exit(Duration::from_secs(20));
    assert_eq!(code, 1, "needs attention: {err}");
    let text = out.join("\n");
    assert!(text.contains("session.status_idle"), "{text}");
    assert!(text.contains("requires_action"), "{text}");
    assert!(
        text.contains("Blocked on 1 of 1"),
        "explain's verdict: {text}"
    );
}

#[test]
fn following_a_missing_session_is_a_one_line_error() {
    let (_dir, db) = db_with(&["happy-path"]);
    for args in [
        &["tail", "sesn_011CZnoSuchSession000000"][..],
        &["timeline", "sesn_011CZnoSuchSession000000", "--follow"][..],
    ] {
        let o = run(&db, args);
        assert_eq!(code(&o), 2, "{args:?}");
        let err = stderr(&o);
        assert_eq!(err.lines().count(), 1, "{err}");
        assert!(err.contains("sesn_011CZnoSuchSession000000"), "{err}");
        assert!(stdout(&o).is_empty());
    }
}

#[test]
fn on_a_terminal_lines_are_coloured_and_a_status_line_shows_the_verdict_and_the_wait() {
    if !has_program("script", "script(1) from util-linux, for a pseudo-terminal") {
        return;
    }
    let (_dir, db) = db_with(&["pending-confirmation"]);
    let cmd = format!(
        "{} --db {} tail sesn_011CZpendingConfirm00003 -n 2",
        env!("CARGO_BIN_EXE_flightrec"),
        db.display()
    );
    let mut child = std::process::Command::new("script")
        .args(["-qec", &cmd, "/dev/null"])
        .env_remove("NO_COLOR")
        .env("TERM", "xterm")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(2500));
    let _ = child.kill();
    let mut out = String::new();
    child
        .stdout
        .take()
        .unwrap()
        .read_to_string(&mut out)
        .unwrap();
    let _ = child.wait();
    assert!(
        out.contains("\x1b[1;33m"),
        "the blocking idle in bold yellow: {out:?}"
    );
    assert!(out.contains("requires_action · waiting "), "{out:?}");
    assert!(out.contains("\r\x1b[2K"), "redrawn in place: {out:?}");
}

#[test]
fn tail_record_records_a_live_session_and_shows_each_event_once_until_its_idle() {
    let dir = tempdir();
    let src = dir.path().join("src.db");
    let o = run(&src, &["import", sample("happy-path").to_str().unwrap()]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let ids: Vec<String> = stdout(&run(&src, &["export", HAPPY]))
        .lines()
        .map(|l| {
            serde_json::from_str::<Value>(l).unwrap()["id"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    // Live at 8x, the 33 s session takes about 4 s.
    let (mut server, url) = crate::record::serve_process(&src, &["--live", "--speed", "8"]);
    let dst = dir.path().join("rec.db");
    let args = [
        "tail",
        HAPPY,
        "--record",
        "--base-url",
        &url,
        "--until-idle",
    ];
    let f = Follower::start(&dst, &args);
    let (code, lines, err) = f.wait_exit(Duration::from_secs(60));
    server.kill().unwrap();
    let _ = server.wait();
    assert_eq!(code, 0, "{err}");
    let shown: Vec<&String> = lines.iter().filter(|l| l.contains("sevt_")).collect();
    for id in &ids {
        let n = shown
            .iter()
            .filter(|l| l.split_whitespace().nth(3) == Some(id))
            .count();
        assert_eq!(n, 1, "{id} shown {n} times:\n{}", lines.join("\n"));
    }
    let text = lines.join("\n");
    assert!(text.contains("end_turn: ok"), "explain's verdict: {text}");
    assert!(
        text.contains("recorded live with no unproven interval"),
        "{text}"
    );
    // What was followed was recorded.
    assert_eq!(
        stdout(&run(&dst, &["export", HAPPY])).lines().count(),
        ids.len()
    );
}
