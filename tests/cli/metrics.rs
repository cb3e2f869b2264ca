//! `watch --metrics-addr`: the real binary watching a `flightrec serve` on loopback, its
//! `/metrics` scraped over HTTP, checked by `promtool` and scraped by a real Prometheus (Debian's
//! package) whose alerting rule `flightrec_stuck_sessions > 0` must fire; and the JSON log lines.

use serde_json::Value;
use std::io::Read;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use crate::util::*;
use crate::webhooks::{KEY, WRONG_KEY, body, deliver};

/// Idle in requires_action at the end of its log (a custom tool call unanswered).
const STUCK: &str = "sesn_011CZstuckCustomTool0002";
/// Idle after an ended turn: never stuck.
const HAPPY: &str = "sesn_011CZhappyPath0000000001";
/// When the stuck session's call was made and the idle that names it.
const CALLED: &str = "2026-08-07T07:45:04.870Z";
const IDLED: &str = "2026-08-07T07:45:05.372Z";

struct Watcher {
    child: Child,
    metrics: String,
    webhooks: String,
    lines: mpsc::Receiver<String>,
    seen: Vec<String>,
}

/// `watch` of `api` into `db` with metrics and webhooks on free loopback ports and `extra`.
fn watch(db: &Path, api: &str, poll: &str, extra: &[&str]) -> Watcher {
    let mut cmd = bin();
    cmd.arg("--db")
        .arg(db)
        .args(["watch", "--poll", poll, "--idle-timeout", "3s"])
        .args(["--base-url", api, "--api-key", "test-key"])
        .args(["--metrics-addr", "127.0.0.1:0"])
        .args(["--webhook-listen", "127.0.0.1:0"])
        .args(extra)
        .env("ANTHROPIC_WEBHOOK_SIGNING_KEY", KEY);
    let (child, lines) = crate::util::spawn_lines(cmd);
    let next = || lines.recv_timeout(Duration::from_secs(20)).unwrap();
    let (first, second) = (next(), next());
    let metrics = first
        .strip_prefix("metrics: listening on ")
        .unwrap_or_else(|| panic!("{first}"))
        .to_string();
    let webhooks = second
        .strip_prefix("webhooks: listening on http://")
        .and_then(|u| u.strip_suffix("/webhooks/anthropic"))
        .unwrap_or_else(|| panic!("{second}"))
        .to_string();
    Watcher {
        child,
        metrics,
        webhooks,
        lines,
        seen: Vec::new(),
    }
}

impl Watcher {
    /// The first stdout line starting with `prefix`, waiting up to 20 s for it.
    fn wait_for(&mut self, prefix: &str) -> String {
        if let Some(l) = self.seen.iter().find(|l| l.starts_with(prefix)) {
            return l.clone();
        }
        let end = Instant::now() + Duration::from_secs(20);
        while let Some(left) = end.checked_duration_since(Instant::now()) {
            let Ok(line) = self.lines.recv_timeout(left) else {
                break;
            };
            self.seen.push(line.clone());
            if line.starts_with(prefix) {
                return line;
            }
        }
        panic!("no line starting with {prefix}: {:?}", self.seen);
    }

    /// Scrapes until `done` holds on the exposition (up to 20 s); the last exposition.
    fn scrape_until(&self, done: impl Fn(&str) -> bool) -> String {
        let end = Instant::now() + Duration::from_secs(20);
        loop {
            let (status, text) = http_get(&self.metrics);
            assert_eq!(status, 200, "{text}");
            if done(&text) {
                return text;
            }
            assert!(Instant::now() < end, "never held on:\n{text}");
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    /// SIGTERM; the exit code and stderr.
    fn stop(mut self) -> (i32, String) {
        let pid = self.child.id().to_string();
        let killed = Command::new("kill").args(["-TERM", &pid]).status();
        assert!(killed.unwrap().success());
        let mut err = String::new();
        self.child
            .stderr
            .take()
            .unwrap()
            .read_to_string(&mut err)
            .unwrap();
        let status = self.child.wait().unwrap();
        (status.code().unwrap_or(-1), err)
    }
}

/// GET `url`: the status code and body.
fn http_get(url: &str) -> (u16, String) {
    try_get(url).unwrap_or_else(|e| panic!("GET {url}: {e}"))
}

/// GET `url`, or why not (refused while a server starts).
fn try_get(url: &str) -> Result<(u16, String), reqwest::Error> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let r = reqwest::get(url).await?;
        Ok((r.status().as_u16(), r.text().await?))
    })
}

/// A child process killed when the test ends, passed or not.
struct KillOnDrop(Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The value of the series written exactly `series` (name and labels) in an exposition.
fn value(text: &str, series: &str) -> Option<f64> {
    text.lines()
        .find_map(|l| l.strip_prefix(series)?.strip_prefix(' ')?.parse().ok())
}

fn stuck_requires_action(text: &str) -> Option<f64> {
    value(text, r#"flightrec_stuck_sessions{rule="requires_action"}"#)
}

fn events_in(db: &Path) -> f64 {
    let c = rusqlite::Connection::open(db).unwrap();
    c.query_row("SELECT count(*) FROM events", [], |r| r.get::<_, i64>(0))
        .unwrap() as f64
}

fn unix_secs(rfc3339: &str) -> f64 {
    chrono::DateTime::parse_from_rfc3339(rfc3339)
        .unwrap()
        .timestamp_millis() as f64
        / 1000.0
}

/// The stuck and the happy session recorded by webhook nudges (history passes); one repeat, one
/// forgery.
fn nudge(w: &Watcher) {
    let a = &w.webhooks;
    let stuck = body("wevt_1", "session.requires_action", STUCK);
    assert_eq!(deliver(a, KEY, "msg_1", 0, &stuck), 204);
    assert_eq!(deliver(a, KEY, "msg_1", 0, &stuck), 204, "repeat");
    let idled = body("wevt_2", "session.idled", HAPPY);
    assert_eq!(deliver(a, KEY, "msg_2", 0, &idled), 204);
    let forged = body("wevt_3", "session.idled", HAPPY);
    assert_eq!(deliver(a, WRONG_KEY, "msg_3", 0, &forged), 401);
}

#[test]
fn metrics_count_what_watch_records_and_json_logs_tell_each_happening() {
    let dir = tempdir();
    let (mut server, api) = crate::record::serve_process(&crate::webhooks::source(dir.path()), &[]);
    let db = dir.path().join("watched.db");
    let mut w = watch(
        &db,
        &api,
        "1h",
        &["--stuck-after", "1s", "--log-format", "json"],
    );
    nudge(&w);
    w.wait_for(&format!("{STUCK}: "));
    w.wait_for(&format!("{HAPPY}: "));
    let text = w.scrape_until(|t| stuck_requires_action(t) == Some(1.0));
    let now = chrono::Utc::now().timestamp_millis() as f64 / 1000.0;

    // Both recordings have ended: every event they stored is counted.
    let stored = events_in(&db);
    assert!(stored > 0.0);
    let v = |s: &str| value(&text, s).unwrap_or_else(|| panic!("{s} in\n{text}"));
    assert_eq!(v("flightrec_events_recorded_total"), stored, "{text}");
    assert!(v("flightrec_history_passes_total") >= 2.0, "{text}");
    assert_eq!(v("flightrec_recordings"), 0.0);
    assert_eq!(v(r#"flightrec_sessions{status="idle"}"#), 2.0, "{text}");
    assert_eq!(v(r#"flightrec_sessions{status="running"}"#), 0.0);
    let wait = v("flightrec_oldest_wait_seconds");
    let (low, high) = (now - unix_secs(IDLED) - 30.0, now - unix_secs(CALLED) + 1.0);
    assert!(wait > low && wait < high, "{wait} not in {low}..{high}");
    for (outcome, n) in [("accepted", 2.0), ("repeat", 1.0), ("bad_signature", 1.0)] {
        let series = format!(r#"flightrec_webhook_deliveries_total{{outcome="{outcome}"}}"#);
        assert_eq!(v(&series), n, "{series}\n{text}");
    }
    assert_eq!(
        v(r#"flightrec_stuck_sessions{rule="retries_exhausted"}"#),
        0.0
    );
    // The stuck session's alert fired once (stuck after 1 s), counted as it is stored.
    let fired = r#"flightrec_alerts_total{rule="requires_action",state="firing"}"#;
    let text = w.scrape_until(|t| value(t, fired) == Some(1.0));
    let alerts: Vec<String> = {
        let c = rusqlite::Connection::open(&db).unwrap();
        let mut st = c
            .prepare("SELECT session_id || ' ' || rule FROM alerts")
            .unwrap();
        st.query_map([], |r| r.get(0))
            .unwrap()
            .map(Result::unwrap)
            .collect()
    };
    assert_eq!(alerts, [format!("{STUCK} requires_action")], "{text}");
    assert_eq!(value(&text, fired), Some(1.0), "{text}");
    assert!(text.contains("# TYPE flightrec_arrival_to_commit_seconds histogram"));

    if has_program("promtool", "Debian's prometheus package (promtool)") {
        let mut p = Command::new("promtool")
            .args(["check", "metrics"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        std::io::Write::write_all(&mut p.stdin.take().unwrap(), text.as_bytes()).unwrap();
        let o = p.wait_with_output().unwrap();
        assert!(
            o.status.success() && o.stdout.is_empty() && o.stderr.is_empty(),
            "promtool check metrics: {}{}",
            stdout(&o),
            stderr(&o)
        );
    }

    let (code, err) = w.stop();
    server.kill().unwrap();
    assert_eq!(code, 0, "{err}");
    let logs: Vec<Value> = err
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect();
    for l in &logs {
        assert!(l["ts"].as_str().is_some_and(|t| t.ends_with('Z')), "{l}");
        assert!(["info", "warn", "error"].contains(&l["level"].as_str().unwrap()));
        assert!(l["msg"].is_string(), "{l}");
    }
    let find = |msg: &str, key: &str, val: &str| {
        logs.iter()
            .find(|l| l["msg"] == msg && l[key] == val)
            .unwrap_or_else(|| panic!("no {msg} with {key}={val}: {err}"))
    };
    assert_eq!(
        find("recording started", "session_id", STUCK)["history_only"],
        true
    );
    assert_eq!(
        find("recording ended", "session_id", STUCK)["why"],
        "history read"
    );
    let refused = find("webhook delivery", "outcome", "bad_signature");
    assert_eq!(refused["level"], "warn");
    let accepted = find("webhook delivery", "data_id", STUCK);
    assert_eq!(accepted["data_type"], "session.requires_action");
    assert!(
        !err.contains("test-key"),
        "the API key never reaches the log"
    );
}

#[test]
fn live_recording_feeds_the_latency_histogram_and_reconnects() {
    let dir = tempdir();
    let src = crate::webhooks::source(dir.path());
    let live = ["--live", "--max-gap", "300ms", "--chaos-drop-every", "3"];
    let (mut server, api) = crate::record::serve_process(&src, &live);
    let db = dir.path().join("watched.db");
    let mut w = watch(&db, &api, "300ms", &[]);
    let text = w.scrape_until(|t| {
        value(t, "flightrec_reconnects_total").is_some_and(|n| n > 0.0)
            && value(t, "flightrec_arrival_to_commit_seconds_count").is_some_and(|n| n > 0.0)
    });
    assert!(value(&text, "flightrec_events_recorded_total").unwrap() > 0.0);
    w.seen.clear();
    let (code, err) = w.stop();
    server.kill().unwrap();
    assert_eq!(code, 0, "{err}");
    // Text logs by default off a terminal: one line per happening.
    assert!(
        err.lines()
            .any(|l| l.contains(" WARN reconnecting session_id=sesn_")),
        "{err}"
    );
}

#[test]
fn a_metrics_address_in_use_is_a_one_line_error() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap().to_string();
    let dir = tempdir();
    let o = bin()
        .arg("--db")
        .arg(dir.path().join("w.db"))
        .args([
            "watch",
            "--base-url",
            "http://127.0.0.1:9",
            "--api-key",
            "k",
        ])
        .args(["--metrics-addr", &addr])
        .output()
        .unwrap();
    let err = stderr(&o);
    assert_ne!(code(&o), 0, "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.contains(&format!("--metrics-addr: cannot listen on {addr}")),
        "{err}"
    );
}

/// A real Prometheus scrapes the watcher every second; its rule `flightrec_stuck_sessions > 0`
/// fires for the session stuck past `--stuck-after`.
#[test]
fn prometheus_scrapes_watch_and_the_stuck_rule_fires() {
    if !has_program("prometheus", "Debian's prometheus package") {
        return;
    }
    let dir = tempdir();
    let (mut server, api) = crate::record::serve_process(&crate::webhooks::source(dir.path()), &[]);
    let db = dir.path().join("watched.db");
    let mut w = watch(&db, &api, "1h", &["--stuck-after", "2s"]);
    let target = w
        .metrics
        .strip_prefix("http://")
        .and_then(|t| t.strip_suffix("/metrics"))
        .unwrap()
        .to_string();
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let conf = dir.path().join("prometheus.yml");
    let rules = dir.path().join("rules.yml");
    std::fs::write(
        &rules,
        "groups:\n- name: flightrec\n  interval: 1s\n  rules:\n  - alert: FlightrecSessionStuck\n    expr: flightrec_stuck_sessions > 0\n",
    )
    .unwrap();
    std::fs::write(
        &conf,
        format!(
            "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\nrule_files:\n- {}\nscrape_configs:\n- job_name: flightrec\n  static_configs:\n  - targets: ['{target}']\n",
            rules.display()
        ),
    )
    .unwrap();
    let mut prom = KillOnDrop(
        Command::new("prometheus")
            .arg(format!("--config.file={}", conf.display()))
            .arg(format!(
                "--storage.tsdb.path={}",
                dir.path().join("tsdb").display()
            ))
            .arg(format!("--web.listen-address=127.0.0.1:{port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap(),
    );
    nudge(&w);
    w.wait_for(&format!("{STUCK}: "));
    let alerts = format!("http://127.0.0.1:{port}/api/v1/alerts");
    let end = Instant::now() + Duration::from_secs(60);
    let mut last = String::new();
    let firing = loop {
        if let Ok((_, text)) = try_get(&alerts) {
            last = text;
            let v: Value = serde_json::from_str(&last).unwrap_or(Value::Null);
            let found = v["data"]["alerts"].as_array().and_then(|a| {
                a.iter()
                    .find(|x| x["state"] == "firing" && x["labels"]["rule"] == "requires_action")
                    .cloned()
            });
            if let Some(f) = found {
                break Some(f);
            }
        }
        if Instant::now() > end {
            break None;
        }
        std::thread::sleep(Duration::from_millis(500));
    };
    prom.0.kill().unwrap();
    let prom_log = {
        let mut s = String::new();
        let _ = prom.0.stderr.take().unwrap().read_to_string(&mut s);
        s
    };
    let (code, err) = w.stop();
    server.kill().unwrap();
    assert_eq!(code, 0, "{err}");
    let firing = firing.unwrap_or_else(|| panic!("not firing: {last}\n{prom_log}"));
    assert_eq!(firing["labels"]["alertname"], "FlightrecSessionStuck");
    assert_eq!(firing["labels"]["job"], "flightrec");
    assert_eq!(
        firing["value"].as_str().map(|v| v.parse::<f64>().ok()),
        Some(Some(1.0)),
        "{firing}"
    );
}
