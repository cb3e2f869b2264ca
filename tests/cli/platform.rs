//! `serve --live --webhook-url` as the platform double, driving `watch --webhook-listen` end to
//! end on loopback: real processes, real HTTP, real SQLite. The watcher polls once an hour, so
//! only the webhooks `serve` signs and sends make it record.

use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use crate::serve::exported;
use crate::util::*;

const KEY: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
const WRONG_KEY: &str = "whsec_d3Jvbmcta2V5LXdyb25nLWtleQ==";
const HAPPY: &str = "sesn_011CZhappyPath0000000001";
const STUCK: &str = "sesn_011CZstuckCustomTool0002";
const RUN: &str = "drun_011CZdeployFailed00017";

pub(crate) fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A database holding only `sessions` (imported from their sample files).
pub(crate) fn source(dir: &Path, sessions: &[&str]) -> PathBuf {
    let db = dir.join("source.db");
    for f in sample_files() {
        if sessions.iter().any(|s| f.to_string_lossy().contains(s)) {
            let o = run(&db, &["import", f.to_str().unwrap()]);
            assert_eq!(code(&o), 0, "{}", stderr(&o));
        }
    }
    db
}

fn run_file() -> PathBuf {
    samples_dir().join(format!("deployment-runs/failed.{RUN}.json"))
}

/// A process and its stdout lines as they come.
pub(crate) struct Proc {
    child: Child,
    pub(crate) lines: mpsc::Receiver<String>,
}

pub(crate) fn spawn(cmd: Command) -> Proc {
    let (child, lines) = crate::util::spawn_lines(cmd);
    Proc { child, lines }
}

impl Proc {
    pub(crate) fn first_line(&self) -> String {
        self.lines.recv_timeout(Duration::from_secs(20)).unwrap()
    }

    /// SIGTERM; stdout lines, exit code, stderr.
    pub(crate) fn stop(self) -> (Vec<String>, i32, String) {
        let pid = self.child.id().to_string();
        assert!(
            Command::new("kill")
                .args(["-TERM", &pid])
                .status()
                .unwrap()
                .success()
        );
        let o = self.child.wait_with_output().unwrap();
        (self.lines.try_iter().collect(), code(&o), stderr(&o))
    }
}

/// `watch` of the API at `api_port` into `db`, webhooks on `hook_port`.
fn watch(db: &Path, api_port: u16, hook_port: u16, extra: &[&str]) -> Proc {
    let mut cmd = bin();
    cmd.arg("--db")
        .arg(db)
        .args(["watch", "--poll", "1h", "--idle-timeout", "3s"])
        .args(["--base-url", &format!("http://127.0.0.1:{api_port}")])
        .args(["--webhook-listen", &format!("127.0.0.1:{hook_port}")])
        .args(extra)
        .env("ANTHROPIC_WEBHOOK_SIGNING_KEY", KEY);
    let p = spawn(cmd);
    let first = p.first_line();
    assert!(first.starts_with("webhooks: listening on"), "{first}");
    p
}

/// `serve --live` of `db` on `api_port`, sending webhooks to `hook_port` signed with `key`.
fn serve(db: &Path, api_port: u16, hook_port: u16, key: &str, extra: &[&str]) -> Proc {
    let mut cmd = bin();
    cmd.arg("--db")
        .arg(db)
        .args(["serve", "--live", "--speed", "4", "--max-gap", "500ms"])
        .args(["--addr", &format!("127.0.0.1:{api_port}")])
        .args([
            "--webhook-url",
            &format!("http://127.0.0.1:{hook_port}/webhooks/anthropic"),
        ])
        .args(extra)
        .env("FLIGHTREC_SERVE_WEBHOOK_SECRET", key);
    let p = spawn(cmd);
    let first = p.first_line();
    assert!(first.starts_with("listening on"), "{first}");
    p
}

/// Event ids of `session` in `db`, sorted (empty ids kept, so a repeat shows).
fn ids(db: &Path, session: &str) -> Vec<String> {
    let known = db.exists()
        && rusqlite::Connection::open(db)
            .and_then(|c| {
                c.query_row(
                    "SELECT count(*) FROM sessions WHERE id = ?1",
                    [session],
                    |r| r.get::<_, i64>(0),
                )
            })
            .unwrap_or(0)
            > 0;
    if !known {
        return Vec::new();
    }
    let mut v: Vec<String> = exported(db, session)
        .iter()
        .map(|l| {
            let e: serde_json::Value = serde_json::from_str(l).unwrap();
            e["id"].as_str().unwrap_or_default().to_string()
        })
        .collect();
    v.sort();
    v
}

/// Waits up to 60 s until `dst` holds every event of each of `sessions` that `src` holds.
fn wait_complete(src: &Path, dst: &Path, sessions: &[&str]) {
    let end = Instant::now() + Duration::from_secs(60);
    loop {
        let done = sessions.iter().all(|s| ids(dst, s) == ids(src, s));
        if done {
            return;
        }
        if Instant::now() > end {
            let got: Vec<(usize, usize)> = sessions
                .iter()
                .map(|s| (ids(dst, s).len(), ids(src, s).len()))
                .collect();
            panic!("not recorded completely within 60 s (stored, source): {got:?}");
        }
        std::thread::sleep(Duration::from_millis(300));
    }
}

fn sql<T: rusqlite::types::FromSql>(db: &Path, q: &str) -> Vec<T> {
    let c = rusqlite::Connection::open(db).unwrap();
    let mut st = c.prepare(q).unwrap();
    st.query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect()
}

#[test]
fn webhooks_from_serve_live_record_a_session_once_under_chaos_and_a_failed_run_is_stored() {
    let dir = tempdir();
    let src = source(dir.path(), &[HAPPY]);
    let dst = dir.path().join("watched.db");
    let (api, hook) = (free_port(), free_port());
    let notices = dir.path().join("notices.jsonl");
    let exec = format!("cat >> '{}'", notices.display());
    let w = watch(&dst, api, hook, &["--alert-exec", &exec]);
    let s = serve(
        &src,
        api,
        hook,
        KEY,
        &[
            "--webhook-chaos",
            "repeat=0.6,reorder,delay=300ms,seed=4",
            "--deployment-run",
            run_file().to_str().unwrap(),
        ],
    );
    wait_complete(&src, &dst, &[HAPPY]);
    let want = [
        "session.created",
        "session.running",
        "session.status_run_started",
        "session.idled",
        "deployment_run.failed",
    ];
    // The last deliveries may still be on their way (held back by the chaos) when the events are.
    let end = Instant::now() + Duration::from_secs(20);
    let types = loop {
        let types: Vec<String> = sql(&dst, "SELECT data_type FROM webhooks");
        if want.iter().all(|t| types.iter().any(|x| x == t)) || Instant::now() > end {
            break types;
        }
        std::thread::sleep(Duration::from_millis(200));
    };
    // The alert on the failed run comes at the alert loop's next clock tick (every second).
    let end = Instant::now() + Duration::from_secs(10);
    while Instant::now() < end && !std::fs::read_to_string(&notices).is_ok_and(|t| t.contains(RUN))
    {
        std::thread::sleep(Duration::from_millis(200));
    }
    let (lines, code, err) = w.stop();
    let _ = s.stop();
    assert_eq!(code, 0, "{err}");
    // Every event once: the sorted ids equal the source's, duplicates included.
    assert_eq!(ids(&dst, HAPPY), ids(&src, HAPPY));
    for t in want {
        assert!(types.iter().any(|x| x == t), "{t} not among {types:?}");
    }
    let repeats: Vec<i64> = sql(&dst, "SELECT sum(repeats) FROM webhooks");
    assert!(
        repeats[0] > 0,
        "chaos repeated deliveries, each stored once"
    );
    // The failed run was read back from serve and stored verbatim.
    let runs: Vec<String> = sql(
        &dst,
        "SELECT status || ' ' || error_type || ' ' || body FROM deployment_runs",
    );
    let body = std::fs::read_to_string(run_file()).unwrap();
    assert_eq!(
        runs,
        [format!("failed environment_archived_error {body}")],
        "{lines:?}"
    );
    assert!(
        lines
            .iter()
            .any(|l| l == &format!("{RUN}: deployment run failed stored")),
        "{lines:?}"
    );
    // And it alerted, once, naming the run: the session that never started.
    let alerts: Vec<String> = sql(
        &dst,
        "SELECT rule || ' ' || event_id || ' ' || state FROM alerts \
         WHERE rule = 'deployment_run_failed'",
    );
    assert_eq!(
        alerts,
        [format!("deployment_run_failed {RUN} firing")],
        "{lines:?}"
    );
    let sent = std::fs::read_to_string(&notices).unwrap_or_default();
    // (The sample's recorded times are long past: its running stretches alert as silent too.)
    let sent: Vec<serde_json::Value> = sent
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .filter(|n| n["rule"] == "deployment_run_failed")
        .collect();
    assert_eq!(sent.len(), 1, "{sent:?}");
    assert_eq!(sent[0]["rule"], "deployment_run_failed");
    assert_eq!(sent[0]["event_id"], RUN);
    assert!(
        sent[0]["summary"].as_str().unwrap().contains("failed"),
        "{sent:?}"
    );
}

#[test]
fn webhooks_signed_with_another_secret_are_refused_and_record_nothing() {
    let dir = tempdir();
    let src = source(dir.path(), &[HAPPY]);
    let dst = dir.path().join("watched.db");
    let (api, hook) = (free_port(), free_port());
    let w = watch(&dst, api, hook, &[]);
    let s = serve(&src, api, hook, WRONG_KEY, &[]);
    let end = Instant::now() + Duration::from_secs(30);
    let refused = loop {
        let n: Vec<i64> = sql(
            &dst,
            "SELECT coalesce(sum(count), 0) FROM webhook_refusals WHERE reason = 'bad_signature'",
        );
        if n[0] >= 3 || Instant::now() > end {
            break n[0];
        }
        std::thread::sleep(Duration::from_millis(200));
    };
    // Time for the first delivery's retries (after 250 ms and 1 s) to be refused too.
    std::thread::sleep(Duration::from_secs(3));
    let (_, code, err) = w.stop();
    let (_, _, serve_err) = s.stop();
    assert_eq!(code, 0, "{err}");
    assert!(refused >= 3, "{refused} refusals");
    assert!(
        ids(&dst, HAPPY).is_empty(),
        "a forged webhook started a recording"
    );
    let stored: Vec<i64> = sql(&dst, "SELECT count(*) FROM webhooks");
    assert_eq!(stored, [0]);
    assert!(
        serve_err.contains("not delivered after 3 attempts (HTTP 401"),
        "{serve_err}"
    );
}

#[test]
fn watch_stopped_by_sigterm_mid_session_and_restarted_misses_nothing() {
    let dir = tempdir();
    let src = source(dir.path(), &[HAPPY]);
    let dst = dir.path().join("watched.db");
    let (api, hook) = (free_port(), free_port());
    let w = watch(&dst, api, hook, &[]);
    // At 1x the session takes long enough to stop the watcher in the middle of it.
    let mut cmd = bin();
    cmd.arg("--db")
        .arg(&src)
        .args(["serve", "--live", "--max-gap", "1s"])
        .args(["--addr", &format!("127.0.0.1:{api}")])
        .args([
            "--webhook-url",
            &format!("http://127.0.0.1:{hook}/webhooks/anthropic"),
        ])
        .env("FLIGHTREC_SERVE_WEBHOOK_SECRET", KEY);
    let s = spawn(cmd);
    assert!(s.first_line().starts_with("listening on"));
    wait_for_events(&dst, 3, Duration::from_secs(30));
    let (_, code, err) = w.stop();
    assert_eq!(code, 0, "SIGTERM is a normal end: {err}");
    let partial = ids(&dst, HAPPY).len();
    assert!(
        partial < ids(&src, HAPPY).len(),
        "stopped mid-session: {partial}"
    );
    // What the restarted watcher resumes from: the stream closed by the interruption.
    let interrupted: Vec<i64> = sql(
        &dst,
        "SELECT count(*) FROM capture_log WHERE kind = 'connection' AND thread_id = '' \
         AND detail ->> '$.cause' = 'stopped: interrupted'",
    );
    assert!(interrupted[0] >= 1, "{interrupted:?}");
    let w = watch(&dst, api, hook, &[]);
    wait_complete(&src, &dst, &[HAPPY]);
    let (_, code, err) = w.stop();
    let _ = s.stop();
    assert_eq!(code, 0, "{err}");
    assert_eq!(ids(&dst, HAPPY), ids(&src, HAPPY));
}

#[test]
fn with_max_streams_1_two_live_sessions_are_both_recorded_completely() {
    let dir = tempdir();
    let src = source(dir.path(), &[HAPPY, STUCK]);
    let dst = dir.path().join("watched.db");
    let (api, hook) = (free_port(), free_port());
    let w = watch(&dst, api, hook, &["--max-streams", "1"]);
    let s = serve(&src, api, hook, KEY, &[]);
    wait_complete(&src, &dst, &[HAPPY, STUCK]);
    let (_, code, err) = w.stop();
    let _ = s.stop();
    assert_eq!(code, 0, "{err}");
    for session in [HAPPY, STUCK] {
        assert_eq!(ids(&dst, session), ids(&src, session), "{session}");
    }
    // One stream at a time: the other session's events came by history passes.
    let history: Vec<i64> = sql(
        &dst,
        "SELECT count(DISTINCT session_id) FROM capture_log WHERE kind = 'history'",
    );
    assert!(history[0] >= 1, "{history:?}");
}

#[test]
fn webhooks_sent_by_serve_are_verified_by_the_python_standardwebhooks_library() {
    if !tier_takes("the standardwebhooks library from PyPI") {
        return;
    }
    let python = crate::webhooks::venv();
    let dir = tempdir();
    let src = source(dir.path(), &[STUCK]);
    let mut cmd = Command::new(python);
    cmd.arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/webhooks/receive_verified.py"))
        .arg(KEY);
    let receiver = spawn(cmd);
    let first = receiver.first_line();
    let port: u16 = first.strip_prefix("listening ").unwrap().parse().unwrap();
    let s = serve(
        &src,
        free_port(),
        port,
        KEY,
        &["--webhook-chaos", "repeat=0.5,seed=2"],
    );
    let want = [
        "session.created",
        "session.running",
        "session.status_idled",
        "session.requires_action",
    ];
    let arrived = |lines: &[String], t: &str| {
        lines
            .iter()
            .any(|l| l.starts_with(&format!("ok {t} {STUCK} msg_")))
    };
    let mut lines = Vec::new();
    let end = Instant::now() + Duration::from_secs(40);
    while !want.iter().all(|t| arrived(&lines, t)) {
        let left = end.saturating_duration_since(Instant::now());
        match receiver.lines.recv_timeout(left) {
            Ok(l) => lines.push(l),
            Err(_) => panic!("not every type of {want:?} within 40 s: {lines:?}"),
        }
    }
    let _ = s.stop();
    let _ = receiver.stop();
    assert!(lines.iter().all(|l| l.starts_with("ok ")), "{lines:?}");
}

#[test]
fn serve_refuses_bad_webhook_and_deployment_run_arguments_in_one_line() {
    let dir = tempdir();
    let src = source(dir.path(), &[STUCK]);
    let not_json = dir.path().join("run.json");
    std::fs::write(&not_json, "[1, 2]").unwrap();
    let url = "http://127.0.0.1:9/webhooks/anthropic";
    let live = ["--live", "--webhook-url", url, "--webhook-secret"];
    // (arguments, what the error names, whether it is ours in one line rather than clap's usage)
    let cases: Vec<(Vec<&str>, &str, bool)> = vec![
        (vec!["--webhook-url", url], "--live", false),
        (
            [&live[..], &["whsec_not base64!"]].concat(),
            "--webhook-secret",
            true,
        ),
        (
            [&live[..], &[KEY, "--webhook-chaos", "shuffle"]].concat(),
            "shuffle",
            false,
        ),
        (
            vec!["--deployment-run", "/nonexistent/run.json"],
            "/nonexistent/run.json",
            true,
        ),
        (
            vec!["--deployment-run", not_json.to_str().unwrap()],
            "run.json",
            true,
        ),
    ];
    for (args, named, one_line) in cases {
        let o = bin()
            .arg("--db")
            .arg(&src)
            .args(["serve", "--addr", "127.0.0.1:0"])
            .args(&args)
            .env_remove("FLIGHTREC_SERVE_WEBHOOK_SECRET")
            .output()
            .unwrap();
        let err = stderr(&o);
        assert_ne!(code(&o), 0, "{args:?}");
        assert!(err.contains(named), "{args:?}: {err}");
        assert!(!err.contains("panicked"), "{err}");
        assert!(
            !err.contains("not base64!"),
            "the secret is not echoed: {err}"
        );
        if one_line {
            assert_eq!(err.lines().count(), 1, "{args:?}: {err}");
        }
    }
}
