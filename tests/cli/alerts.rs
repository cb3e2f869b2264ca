//! `watch` alerts end to end on loopback: `flightrec serve --live` plays two sessions written
//! with timestamps of now (one that blocks on a custom tool, one that ends its turn), the real
//! `watch` records them with `--stuck-after 2s`, `--alert-exec` appends the notices to a file
//! and `--alert-webhook` POSTs them to a receiver in this test. The blocked session is answered
//! with `POST /v1/sessions/{id}/events`; `flightrec alerts --json` lists what happened.

use serde_json::Value;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::record::serve_process;
use crate::util::*;

const STUCK: &str = "sesn_011CZalertStuck000000001";
const DONE: &str = "sesn_011CZalertDone0000000001";
/// The custom tool call the stuck session waits on.
const CALL: &str = "sevt_011CZkS3VVdQeUg4Fd5rLOiC";
const KEY: &str = "sk-ant-api03-alerts-must-never-carry-this-key";
const STUCK_AFTER_US: i64 = 2_000_000;

/// The first `n` events of the stuck-custom-tool sample (it ends waiting on [`CALL`]), then
/// `tail`, their times moved so the first is `base_ms` (Unix ms).
fn session(n: usize, tail: &[&str], base_ms: i64) -> String {
    let sample = samples_dir().join("stuck-custom-tool.sesn_011CZstuckCustomTool0002.jsonl");
    let text = std::fs::read_to_string(sample).unwrap();
    let mut lines: Vec<Value> = text
        .lines()
        .take(n)
        .chain(tail.iter().copied())
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let ms = |v: &Value| {
        chrono::DateTime::parse_from_rfc3339(v["processed_at"].as_str().unwrap())
            .unwrap()
            .timestamp_millis()
    };
    let first = ms(&lines[0]);
    for v in &mut lines {
        let t = chrono::DateTime::from_timestamp_millis(base_ms + ms(v) - first).unwrap();
        v["processed_at"] = Value::String(t.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string());
    }
    lines.iter().map(|v| format!("{v}\n")).collect()
}

/// A source database with [`STUCK`] (blocked 2.6 s after it starts) and [`DONE`] (ends its
/// turn), both starting about a second from now.
fn source(dir: &Path) -> PathBuf {
    let base = chrono::Utc::now().timestamp_millis() + 1000;
    let done_tail = [
        r#"{"type":"agent.message","id":"sevt_d1","processed_at":"2026-08-07T07:41:21.900Z","content":[{"type":"text","text":"Light rain, 13 °C."}]}"#,
        r#"{"type":"session.status_idle","id":"sevt_d2","processed_at":"2026-08-07T07:41:22.100Z","stop_reason":{"type":"end_turn"}}"#,
    ];
    let stuck = dir.join(format!("stuck.{STUCK}.jsonl"));
    let done = dir.join(format!("done.{DONE}.jsonl"));
    std::fs::write(&stuck, session(6, &[], base)).unwrap();
    std::fs::write(&done, session(3, &done_tail, base)).unwrap();
    let db = dir.join("source.db");
    let o = run(
        &db,
        &["import", stuck.to_str().unwrap(), done.to_str().unwrap()],
    );
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    db
}

/// An HTTP receiver on loopback: every POST body, answered with `status`.
struct Receiver {
    url: String,
    bodies: Arc<Mutex<Vec<Value>>>,
}

fn receiver(status: u16) -> Receiver {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    let bodies = Arc::new(Mutex::new(Vec::new()));
    let got = Arc::clone(&bodies);
    std::thread::spawn(move || {
        for conn in listener.incoming() {
            let Ok(conn) = conn else { break };
            let mut r = BufReader::new(conn);
            let mut len = 0usize;
            loop {
                let mut line = String::new();
                if r.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                    break;
                }
                let lower = line.to_ascii_lowercase();
                if let Some(v) = lower.strip_prefix("content-length:") {
                    len = v.trim().parse().unwrap();
                }
            }
            let mut body = vec![0; len];
            r.read_exact(&mut body).unwrap();
            got.lock()
                .unwrap()
                .push(serde_json::from_slice(&body).unwrap());
            let answer =
                format!("HTTP/1.1 {status} X\r\ncontent-length: 0\r\nconnection: close\r\n\r\n");
            let _ = r.get_mut().write_all(answer.as_bytes());
        }
    });
    Receiver { url, bodies }
}

fn watch(db: &Path, api: &str, alert_args: &[&str]) -> Child {
    bin()
        .arg("--db")
        .arg(db)
        .args(["watch", "--poll", "300ms", "--idle-timeout", "3s"])
        .args(["--base-url", api, "--stuck-after", "2s"])
        .args(alert_args)
        .env("ANTHROPIC_API_KEY", KEY)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

/// SIGTERM, then (exit code, stdout, stderr).
fn stop(child: Child) -> (i32, String, String) {
    let pid = child.id().to_string();
    let killed = Command::new("kill").args(["-TERM", &pid]).status().unwrap();
    assert!(killed.success());
    let o = child.wait_with_output().unwrap();
    (code(&o), stdout(&o), stderr(&o))
}

/// The JSON lines of `file` (none while it does not exist).
fn notices(file: &Path) -> Vec<Value> {
    std::fs::read_to_string(file)
        .unwrap_or_default()
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// Polls `f` every 100 ms until it is true, for up to `secs` s; whether it became true.
fn eventually(secs: u64, mut f: impl FnMut() -> bool) -> bool {
    let end = Instant::now() + Duration::from_secs(secs);
    while Instant::now() < end {
        if f() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    f()
}

fn with_state<'a>(v: &'a [Value], state: &str) -> Vec<&'a Value> {
    v.iter().filter(|n| n["state"] == state).collect()
}

/// Sends the tool's result to the served session, as a client would.
fn answer(api: &str) {
    let addr = api.strip_prefix("http://").unwrap();
    let body = format!(
        r#"{{"events":[{{"type":"user.custom_tool_result","custom_tool_use_id":"{CALL}","content":[{{"type":"text","text":"13 C, light rain"}}]}}]}}"#
    );
    let mut s = std::net::TcpStream::connect(addr).unwrap();
    let req = format!(
        "POST /v1/sessions/{STUCK}/events HTTP/1.1\r\nhost: {addr}\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    );
    s.write_all(req.as_bytes()).unwrap();
    let mut got = String::new();
    let _ = s.read_to_string(&mut got);
    assert!(got.starts_with("HTTP/1.1 200"), "{got}");
}

fn alerts_json(db: &Path) -> Vec<Value> {
    let o = run(db, &["alerts", "--json"]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    serde_json::from_str::<Value>(&stdout(&o))
        .unwrap()
        .as_array()
        .unwrap()
        .clone()
}

fn micros(v: &Value) -> i64 {
    chrono::DateTime::parse_from_rfc3339(v.as_str().unwrap())
        .unwrap()
        .timestamp_micros()
}

#[test]
fn a_stuck_session_alerts_once_past_stuck_after_resolves_when_answered_and_an_ended_turn_never_alerts()
 {
    let dir = tempdir();
    let src = source(dir.path());
    let hook = receiver(200);
    let (mut server, api) = serve_process(&src, &["--live"]);
    let db = dir.path().join("watched.db");
    // An old import, blocked for months: history, not a session to alert on.
    let old = samples_dir().join("stuck-custom-tool.sesn_011CZstuckCustomTool0002.jsonl");
    assert_eq!(code(&run(&db, &["import", old.to_str().unwrap()])), 0);
    let file = dir.path().join("alerts.jsonl");
    let env_file = dir.path().join("env.txt");
    let exec = format!(
        "cat >> '{}'; printf 'key=%s\\n' \"${{ANTHROPIC_API_KEY:-}}\" >> '{}'",
        file.display(),
        env_file.display()
    );
    let child = watch(
        &db,
        &api,
        &["--alert-exec", &exec, "--alert-webhook", &hook.url],
    );

    // One firing notice, for the call the session waits on.
    let fired = eventually(30, || !notices(&file).is_empty());
    assert!(fired, "no alert within 30 s");
    // Further evaluations (every second) must not fire it again.
    std::thread::sleep(Duration::from_millis(2500));
    let got = notices(&file);
    assert_eq!(got.len(), 1, "{got:?}");
    let n = &got[0];
    assert_eq!(n["session_id"], STUCK);
    assert_eq!(n["rule"], "requires_action");
    assert_eq!(n["state"], "firing");
    assert_eq!(n["event_id"], CALL);
    assert_eq!(n["unblock"]["body"]["custom_tool_use_id"], CALL, "{n:#}");
    // Fired past stuck-after from the wait's start, and (loosely) not long after.
    let waited = micros(&n["fired_at"]) - micros(&n["at"]);
    assert!(waited > STUCK_AFTER_US, "fired after {waited} µs");
    assert!(
        waited < STUCK_AFTER_US + 10_000_000,
        "fired after {waited} µs"
    );
    eprintln!("alert fired {waited} µs after the wait began (stuck-after 2 s)");

    // The webhook got the same notice and a chat line.
    assert!(eventually(10, || !hook.bodies.lock().unwrap().is_empty()));
    let posted = hook.bodies.lock().unwrap()[0].clone();
    assert_eq!(posted["event_id"], CALL);
    let text = posted["text"].as_str().unwrap();
    assert!(
        text.starts_with("[FIRING] requires_action on ") && text.contains(STUCK),
        "{text}"
    );

    // Answered: the alert resolves, to both targets.
    answer(&api);
    let resolved = eventually(30, || !with_state(&notices(&file), "resolved").is_empty());
    assert!(resolved, "not resolved: {:?}", notices(&file));
    assert!(eventually(10, || hook.bodies.lock().unwrap().len() == 2));
    let got = notices(&file);
    assert_eq!(got.len(), 2, "{got:?}");
    assert_eq!(got[1]["event_id"], CALL);
    assert!(got[1]["resolved_at"].is_string());
    assert_eq!(hook.bodies.lock().unwrap()[1]["state"], "resolved");

    let (code, out, err) = stop(child);
    server.kill().unwrap();
    assert_eq!(code, 0, "{err}");
    assert!(out.contains(&format!("alert firing: requires_action {STUCK} {CALL}")));
    assert!(
        !out.lines()
            .any(|l| l.starts_with("alert") && l.contains(DONE)),
        "{out}"
    );

    // The session that ended its turn was recorded and never alerted.
    let listed = alerts_json(&db);
    assert_eq!(listed.len(), 1, "{listed:#?}");
    let a = &listed[0];
    assert_eq!(
        (a["session_id"].as_str(), a["state"].as_str()),
        (Some(STUCK), Some("resolved"))
    );
    let mut delivered: Vec<(String, String, i64)> = a["deliveries"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["delivered_at"].is_string())
        .map(|d| {
            let s = |k: &str| d[k].as_str().unwrap().to_string();
            (s("state"), s("target"), d["attempts"].as_i64().unwrap())
        })
        .collect();
    delivered.sort();
    assert_eq!(
        delivered,
        [
            ("firing".into(), "exec".into(), 1),
            ("firing".into(), "webhook".into(), 1),
            ("resolved".into(), "exec".into(), 1),
            ("resolved".into(), "webhook".into(), 1),
        ]
    );
    let o = run(&db, &["sessions", "--json"]);
    assert!(stdout(&o).contains(DONE), "the ended session was recorded");

    // The API key is nowhere: not in the notices, not in the command's environment, not in
    // the table.
    let everything = format!(
        "{}{}{:?}{}",
        std::fs::read_to_string(&file).unwrap(),
        std::fs::read_to_string(&env_file).unwrap(),
        hook.bodies.lock().unwrap(),
        stdout(&run(&db, &["alerts", "--json"]))
    );
    assert!(!everything.contains(KEY));
    assert!(
        std::fs::read_to_string(&env_file)
            .unwrap()
            .starts_with("key=\n")
    );
}

#[test]
fn a_failing_alert_command_is_retried_with_its_error_recorded_and_a_restart_sends_it_without_firing_again()
 {
    let dir = tempdir();
    let src = source(dir.path());
    let (mut server, api) = serve_process(&src, &["--live"]);
    let db = dir.path().join("watched.db");
    let failing = "echo 'the pager is down' >&2; exit 3";
    let child = watch(
        &db,
        &api,
        &["--alert-exec", failing, "--alert-attempts", "3"],
    );
    let done = eventually(40, || {
        db.exists()
            && alerts_json(&db).iter().any(|a| {
                a["deliveries"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .any(|d| d["attempts"] == 3)
            })
    });
    let (exit, _, err) = stop(child);
    assert!(done, "three attempts not recorded: {err}");
    assert_eq!(exit, 0, "{err}");
    let listed = alerts_json(&db);
    assert_eq!(listed.len(), 1, "{listed:#?}");
    let d = &listed[0]["deliveries"][0];
    assert_eq!(d["target"], "exec");
    assert!(d["delivered_at"].is_null());
    let e = d["last_error"].as_str().unwrap();
    assert!(e.contains('3') && e.ends_with("the pager is down"), "{e}");
    assert!(err.contains("attempt 3 of 3 failed"), "{err}");
    let recent = stdout(&run(&db, &["alerts", "--since", "1h", "--json"]));
    assert_eq!(
        serde_json::from_str::<Vec<Value>>(&recent).unwrap().len(),
        1
    );
    let o = run(&db, &["alerts", "--since", "soon"]);
    assert_eq!(code(&o), 2);
    assert!(
        stderr(&o).contains("'soon' is not a duration"),
        "{}",
        stderr(&o)
    );
    let table = stdout(&run(&db, &["alerts", "--open"]));
    assert!(
        table.contains(STUCK) && table.contains("exec failed ×3"),
        "{table}"
    );

    // Restarted on the same database with a working command and 5 attempts: the open alert
    // is not fired again, but its undelivered notice (3 attempts of 5) is sent, once; answered,
    // it resolves.
    let file = dir.path().join("after-restart.jsonl");
    let exec = format!("cat >> '{}'", file.display());
    let child = watch(&db, &api, &["--alert-exec", &exec]);
    assert!(eventually(20, || !notices(&file).is_empty()));
    std::thread::sleep(Duration::from_secs(2));
    answer(&api);
    let resolved = eventually(30, || notices(&file).len() >= 2);
    let (_, out, err) = stop(child);
    server.kill().unwrap();
    assert!(resolved, "{out}\n{err}");
    let got: Vec<(String, String)> = notices(&file)
        .iter()
        .map(|n| {
            let s = |k: &str| n[k].as_str().unwrap().to_string();
            (s("state"), s("event_id"))
        })
        .collect();
    assert_eq!(
        got,
        [
            ("firing".into(), CALL.into()),
            ("resolved".into(), CALL.into())
        ]
    );
    assert!(!out.contains("alert firing"), "not fired again: {out}");
    let d = &alerts_json(&db)[0]["deliveries"][0];
    assert_eq!(
        (d["state"].as_str(), d["attempts"].as_i64()),
        (Some("firing"), Some(4))
    );
    assert!(d["delivered_at"].is_string());
}
