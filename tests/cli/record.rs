//! The recorder against `flightrec serve` over real loopback HTTP, into real SQLite files.

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use flightrec::record::live::{RecordOptions, Until, record};
use flightrec::serve::{Chaos, ServeOptions};
use flightrec::source::api::{ApiClient, ApiConfig, AuthStyle, VERSION_NEW};

use crate::util::*;

/// A database holding every sample, and the session ids with their exported event lines.
fn source_db(dir: &Path) -> (PathBuf, Vec<(String, Vec<String>)>) {
    let db = dir.join("source.db");
    import_samples(&db);
    let sessions = sample_sessions();
    let out = sessions
        .into_iter()
        .map(|s| {
            let lines = stdout(&run(&db, &["export", &s]))
                .lines()
                .map(str::to_string)
                .collect();
            (s, lines)
        })
        .collect();
    (db, out)
}

struct Server {
    addr: std::net::SocketAddr,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
    }
}

async fn start_server(
    db: &Path,
    live: bool,
    speed: Option<f64>,
    api_key: Option<&str>,
    chaos: Chaos,
) -> Server {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let opts = ServeOptions {
        db: db.to_path_buf(),
        speed,
        live,
        max_gap: None,
        api_key: api_key.map(str::to_string),
        ping_interval: Duration::from_millis(300),
        chaos,
        ..ServeOptions::new(db.to_path_buf())
    };
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(flightrec::serve::run(listener, opts, async move {
        let _ = rx.await;
    }));
    Server {
        addr,
        stop: Some(tx),
    }
}

fn client(addr: std::net::SocketAddr, key: Option<&str>) -> ApiClient {
    ApiClient::new(ApiConfig {
        base_url: format!("http://{addr}"),
        api_key: key.map(str::to_string),
        auth_style: AuthStyle::Bearer,
        version: VERSION_NEW.into(),
    })
    .unwrap()
}

fn options(session: &str, until: Until) -> RecordOptions {
    RecordOptions {
        session: session.to_string(),
        until,
        deltas: true,
        idle_timeout: Duration::from_secs(2),
        give_up_after: Duration::from_secs(20),
        threads: true,
        page_size: 7,
        history_only: false,
        metrics: None,
    }
}

/// Exported lines of `session` in `db`, parsed.
fn exported(db: &Path, session: &str) -> Vec<Value> {
    stdout(&run(db, &["export", session]))
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn parsed(lines: &[String]) -> Vec<Value> {
    lines
        .iter()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// Records every sample session from a server with `chaos` and checks each recording equals its
/// source: same events, once each, equal JSON values, same order.
fn record_all_under(chaos: Chaos, live: bool) {
    let dir = tempdir();
    let (src, sessions) = source_db(dir.path());
    let dst = dir.path().join("recorded.db");
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let server = start_server(&src, live, Some(2000.0), None, chaos).await;
        let (stop_tx, stop) = tokio::sync::watch::channel(false);
        let mut tasks = Vec::new();
        for (s, _) in &sessions {
            let (c, p, sd) = (client(server.addr, None), dst.clone(), stop.clone());
            let until = if live { Until::Never } else { Until::Idle };
            let o = options(s, until);
            tasks.push(tokio::spawn(
                async move { record(c, p, o, sd, |_| {}).await },
            ));
        }
        if live {
            // Wait until every event is in, then stop the recorders as Ctrl-C would.
            let want: usize = sessions.iter().map(|(_, l)| l.len()).sum();
            let deadline = Instant::now() + Duration::from_secs(60);
            loop {
                let c = rusqlite::Connection::open(&dst);
                let n: i64 = c
                    .and_then(|c| c.query_row("SELECT count(*) FROM events", [], |r| r.get(0)))
                    .unwrap_or(0);
                if n as usize >= want || Instant::now() > deadline {
                    break;
                }
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
            stop_tx.send(true).unwrap();
        }
        for t in tasks {
            t.await.unwrap().unwrap();
        }
        drop(server);
    });
    for (s, lines) in &sessions {
        assert_eq!(
            exported(&dst, s),
            parsed(lines),
            "{s}: the recording differs from the source"
        );
    }
}

fn chaos() -> Chaos {
    Chaos {
        seed: 11,
        ..Chaos::default()
    }
}

#[test]
fn records_every_sample_without_chaos() {
    record_all_under(chaos(), false);
}

#[test]
fn records_every_sample_live_as_it_happens() {
    record_all_under(chaos(), true);
}

#[test]
fn records_every_sample_with_dropped_connections() {
    record_all_under(
        Chaos {
            drop_every: Some(3),
            ..chaos()
        },
        true,
    );
}

#[test]
fn records_every_sample_with_repeated_events() {
    record_all_under(
        Chaos {
            repeat_every: Some(2),
            ..chaos()
        },
        true,
    );
}

#[test]
fn records_every_sample_with_frames_split_anywhere() {
    record_all_under(
        Chaos {
            split: true,
            ..chaos()
        },
        true,
    );
}

#[test]
fn records_every_sample_through_a_stalled_stream() {
    record_all_under(
        Chaos {
            stall: Some(Duration::from_secs(4)),
            ..chaos()
        },
        true,
    );
}

#[test]
fn records_every_sample_while_list_pages_fail() {
    record_all_under(
        Chaos {
            list_error_rate: 0.3,
            ..chaos()
        },
        true,
    );
}

#[test]
fn records_every_sample_past_malformed_frames() {
    record_all_under(
        Chaos {
            malformed_every: Some(4),
            ..chaos()
        },
        true,
    );
}

#[test]
fn records_every_sample_with_all_chaos_at_once() {
    let all = Chaos {
        drop_every: Some(5),
        repeat_every: Some(3),
        split: true,
        stall: Some(Duration::from_secs(3)),
        list_error_rate: 0.25,
        malformed_every: Some(6),
        seed: 5,
    };
    record_all_under(all, true);
}

/// Runs `flightrec serve` as a child process on an ephemeral port; returns it and its address.
pub fn serve_process(db: &Path, extra: &[&str]) -> (std::process::Child, String) {
    use std::io::BufRead;
    let mut child = bin()
        .arg("--db")
        .arg(db)
        .args(["serve", "--addr", "127.0.0.1:0"])
        .args(extra)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    std::io::BufReader::new(child.stdout.as_mut().unwrap())
        .read_line(&mut line)
        .unwrap();
    let url = line.trim().rsplit(' ').next().unwrap().to_string();
    assert!(url.starts_with("http://127.0.0.1:"), "{line}");
    (child, url)
}

/// (thread_id, raw) of every event of `session` in `db` on a child thread's own stream.
fn thread_rows(db: &Path, session: &str) -> Vec<(String, String)> {
    let c = crate::util::db_conn(db);
    let mut st = c
        .prepare(
            "SELECT thread_id, event_text(raw) FROM events WHERE session_id = ?1 AND thread_id != '' \
             ORDER BY sort_ts, seq",
        )
        .unwrap();
    st.query_map([session], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect()
}

#[test]
fn a_childs_own_stream_is_recorded_into_its_thread() {
    let dir = tempdir();
    let (src, _) = source_db(dir.path());
    let s = "sesn_011CZmultiAgent000000010";
    let child = "sthr_011CZl6Rtfu7chZiIs3X5sFW";
    // The child's own log: its copy of the call the primary stream shows cross-posted, the
    // result that only its stream carries, and a message.
    let log = dir.path().join("child.jsonl");
    std::fs::write(
        &log,
        concat!(
            r#"{"type":"agent.tool_use","id":"sevt_011CZl6URjOASD5UTgzfuCqk","name":"web_fetch","input":{"url":"https://www.postgresql.org/support/versioning/"},"evaluated_permission":"ask","processed_at":"2026-08-07T12:00:25.564Z"}"#,
            "\n",
            r#"{"type":"agent.tool_result","id":"sevt_011CZl6Y4childResult0001","tool_use_id":"sevt_011CZl6URjOASD5UTgzfuCqk","content":[{"type":"text","text":"PostgreSQL 18 is supported until 2030."}],"is_error":false,"processed_at":"2026-08-07T12:00:52.100Z"}"#,
            "\n",
            r#"{"type":"agent.message","id":"sevt_011CZl6b2childMessage001","content":[{"type":"text","text":"Findings sent."}],"processed_at":"2026-08-07T12:01:30.000Z"}"#,
            "\n"
        ),
    )
    .unwrap();
    let o = run(
        &src,
        &[
            "import",
            "--session",
            s,
            "--thread",
            child,
            log.to_str().unwrap(),
        ],
    );
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let want = thread_rows(&src, s);
    assert_eq!(want.len(), 3);

    let dst = dir.path().join("recorded.db");
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let server = start_server(&src, false, None, None, chaos()).await;
        let (_stop_tx, stop) = tokio::sync::watch::channel(false);
        let c = client(server.addr, None);
        record(c, dst.clone(), options(s, Until::Idle), stop, |_| {})
            .await
            .unwrap();
        drop(server);
    });
    assert_eq!(thread_rows(&dst, s), want, "the child's stream, as served");
    assert!(want.iter().all(|(t, _)| t == child));
    // The primary stream only showed the call; the child's result closes its span.
    let o = run(&dst, &["spans", s, "--kind", "tool", "--json"]);
    let spans: Vec<Value> = serde_json::from_str(&stdout(&o)).unwrap();
    let fetch = spans
        .iter()
        .find(|x| x["start_id"] == "sevt_011CZl6URjOASD5UTgzfuCqk")
        .unwrap();
    assert_eq!(
        fetch["end_id"], "sevt_011CZl6Y4childResult0001",
        "{fetch:#}"
    );
    assert_eq!(fetch["open"], false);
}

#[test]
fn kill_9_mid_session_and_a_restart_loses_nothing() {
    let dir = tempdir();
    let (src, sessions) = source_db(dir.path());
    let (s, lines) = sessions
        .iter()
        .find(|(s, _)| s.contains("happyPath"))
        .unwrap();
    // Live at 4x, the 33 s session takes about 8 s: the recorder is killed after the first events.
    let (mut server, url) = serve_process(&src, &["--live", "--speed", "4"]);
    let dst = dir.path().join("rec.db");
    let args = [
        "record",
        s.as_str(),
        "--base-url",
        url.as_str(),
        "--until",
        "idle",
        "--quiet",
        "--idle-timeout",
        "3s",
    ];
    let mut rec = bin()
        .arg("--db")
        .arg(&dst)
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    wait_for_events(&dst, 5, Duration::from_secs(20));
    rec.kill().unwrap(); // SIGKILL
    rec.wait().unwrap();
    let partial = exported(&dst, s).len();
    assert!(
        partial > 0 && partial < lines.len(),
        "killed mid-session: {partial} of {}",
        lines.len()
    );
    let o = bin().arg("--db").arg(&dst).args(args).output().unwrap();
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert_eq!(exported(&dst, s), parsed(lines));
    let cap: Value = serde_json::from_str(&stdout(&run(&dst, &["capture", s, "--json"]))).unwrap();
    assert!(
        cap["connections"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["cause"].is_null()),
        "{cap}"
    );
    assert_eq!(cap["gaps"], serde_json::json!([]), "{cap}");
    server.kill().unwrap();
}

#[test]
fn the_api_key_is_never_written_anywhere() {
    const KEY: &str = "sk-ant-api03-FLIGHTREC-TEST-SECRET-7f3a9c";
    let dir = tempdir();
    let (src, sessions) = source_db(dir.path());
    let (s, _) = &sessions[0];
    let (mut server, url) = serve_process(&src, &["--api-key", KEY, "--chaos-list-errors", "0.3"]);
    let dst = dir.path().join("rec.db");
    let o = bin()
        .arg("--db")
        .arg(&dst)
        .args(["record", s, "--base-url", &url, "--until", "idle"])
        .env("ANTHROPIC_API_KEY", KEY)
        .output()
        .unwrap();
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let export = run(&dst, &["export", s]);
    let capture = run(&dst, &["capture", s, "--json"]);
    server.kill().unwrap();
    let server_out = server.wait_with_output().unwrap();
    let mut haystacks: Vec<(String, Vec<u8>)> = vec![
        ("record stdout".into(), o.stdout),
        ("record stderr".into(), o.stderr),
        ("export".into(), export.stdout),
        ("capture".into(), capture.stdout),
        (
            "serve output".into(),
            [server_out.stdout, server_out.stderr].concat(),
        ),
    ];
    for suffix in ["", "-wal", "-shm"] {
        let p = PathBuf::from(format!("{}{suffix}", dst.display()));
        if let Ok(bytes) = std::fs::read(&p) {
            haystacks.push((p.display().to_string(), bytes));
        }
    }
    assert!(haystacks.len() >= 6);
    for (name, bytes) in haystacks {
        assert!(
            !bytes.windows(KEY.len()).any(|w| w == KEY.as_bytes()),
            "the key leaked into {name}"
        );
        assert!(
            !bytes.windows(18).any(|w| w == &KEY.as_bytes()[..18]),
            "part of the key leaked into {name}"
        );
    }
}

#[test]
fn wrong_key_exits_4_with_a_clear_message() {
    let dir = tempdir();
    let (src, sessions) = source_db(dir.path());
    let (mut server, url) = serve_process(&src, &["--api-key", "right-key"]);
    let dst = dir.path().join("rec.db");
    let o = bin()
        .arg("--db")
        .arg(&dst)
        .args([
            "record",
            &sessions[0].0,
            "--base-url",
            &url,
            "--api-key",
            "wrong-key",
        ])
        .output()
        .unwrap();
    server.kill().unwrap();
    assert_eq!(code(&o), 4, "{}", stderr(&o));
    let err = stderr(&o);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.contains("authentication") && err.contains("401") && err.contains("API key"),
        "{err}"
    );
    assert!(!err.contains("wrong-key"));
}

#[test]
fn unknown_session_exits_5() {
    let dir = tempdir();
    let (src, _) = source_db(dir.path());
    let (mut server, url) = serve_process(&src, &[]);
    let o = bin()
        .arg("--db")
        .arg(dir.path().join("rec.db"))
        .args([
            "record",
            "sesn_011CZnoSuchSession00000000",
            "--base-url",
            &url,
        ])
        .output()
        .unwrap();
    server.kill().unwrap();
    assert_eq!(code(&o), 5, "{}", stderr(&o));
    assert!(
        stderr(&o).contains("no such session") && stderr(&o).contains("404"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn a_server_failing_forever_exits_6() {
    // A real HTTP server on loopback that answers 500 to everything.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        use std::io::{Read, Write};
        for stream in listener.incoming().take(200) {
            let Ok(mut s) = stream else { continue };
            let mut buf = [0u8; 4096];
            let _ = s.read(&mut buf);
            let body = r#"{"type":"error","error":{"type":"api_error","message":"Internal server error"}}"#;
            let _ = write!(
                s,
                "HTTP/1.1 500 Internal Server Error\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                body.len()
            );
        }
    });
    let dir = tempdir();
    let t = Instant::now();
    let o = bin()
        .arg("--db")
        .arg(dir.path().join("rec.db"))
        .args([
            "record",
            "sesn_011CZany0000000000000000",
            "--base-url",
            &format!("http://{addr}"),
            "--give-up-after",
            "2s",
        ])
        .output()
        .unwrap();
    assert_eq!(code(&o), 6, "{}", stderr(&o));
    assert!(
        stderr(&o).contains("gave up") && stderr(&o).contains("500"),
        "{}",
        stderr(&o)
    );
    assert!(t.elapsed() < Duration::from_secs(20));
}

/// `record` of the happy-path sample from a `serve` given `serve_args`, into a new database,
/// `--until idle` plus `record_args`: the temporary folder, the database, the session, the output.
fn record_happy_path(
    serve_args: &[&str],
    record_args: &[&str],
) -> (tempfile::TempDir, PathBuf, String, std::process::Output) {
    let dir = tempdir();
    let (src, sessions) = source_db(dir.path());
    let (s, _) = sessions
        .iter()
        .find(|(s, _)| s.contains("happyPath"))
        .unwrap();
    let (mut server, url) = serve_process(&src, serve_args);
    let dst = dir.path().join("rec.db");
    let o = bin()
        .arg("--db")
        .arg(&dst)
        .args(["record", s, "--base-url", &url, "--until", "idle"])
        .args(record_args)
        .output()
        .unwrap();
    server.kill().unwrap();
    (dir, dst, s.clone(), o)
}

#[test]
fn a_session_that_never_idles_exits_7_at_the_timeout() {
    // At 0.05x the 33 s session takes ten minutes: it is still running when the timeout comes.
    let (_dir, dst, s, o) = record_happy_path(&["--live", "--speed", "0.05"], &["--timeout", "2s"]);
    assert_eq!(code(&o), 7, "{}", stderr(&o));
    assert!(stderr(&o).contains("not met within"), "{}", stderr(&o));
    assert!(!exported(&dst, &s).is_empty(), "what arrived is kept");
}

#[test]
fn watch_records_sessions_as_they_start_running_and_stops_on_sigterm() {
    let dir = tempdir();
    let (src, sessions) = source_db(dir.path());
    let (mut server, url) = serve_process(&src, &["--live", "--max-gap", "300ms"]);
    let dst = dir.path().join("watched.db");
    let child = bin()
        .arg("--db")
        .arg(&dst)
        .args([
            "watch",
            "--poll",
            "150ms",
            "--idle-timeout",
            "3s",
            "--base-url",
            &url,
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_secs(8));
    // SIGTERM, as a service manager would stop it.
    let pid = child.id().to_string();
    assert!(
        std::process::Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap()
            .success()
    );
    let o = child.wait_with_output().unwrap();
    server.kill().unwrap();
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let out = stdout(&o);
    let recorded: Vec<&(String, Vec<String>)> = sessions
        .iter()
        .filter(|(s, _)| out.lines().any(|l| l.starts_with(&format!("{s}: "))))
        .collect();
    assert!(
        recorded.len() >= 10,
        "watch recorded {} of {} sessions:\n{out}",
        recorded.len(),
        sessions.len()
    );
    for (s, lines) in recorded {
        let got = exported(&dst, s);
        let want = parsed(lines);
        assert!(!got.is_empty(), "{s}");
        // Everything recorded is in the source, and stored once.
        let mut ids: Vec<&str> = got
            .iter()
            .filter_map(|e| e["id"].as_str())
            .filter(|i| !i.is_empty())
            .collect();
        let n = ids.len();
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(ids.len(), n, "{s}: an event stored twice");
        for e in &got {
            assert!(
                want.contains(e),
                "{s}: recorded an event not in the source: {e}"
            );
        }
    }
    // As each recording ended, watch wrote what the reads derive (checkpoints, the rules'
    // cache), and reading through it answers as the events alone do.
    let c = rusqlite::Connection::open(&dst).unwrap();
    let cached: i64 = c
        .query_row(
            "SELECT count(DISTINCT session_id) FROM session_cache WHERE kind LIKE 'rules@%'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    let checkpointed: i64 = c
        .query_row(
            "SELECT count(DISTINCT session_id) FROM fold_checkpoints",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert!(
        cached >= 5 && checkpointed >= 5,
        "{cached} sessions with a rules entry, {checkpointed} with checkpoints:\n{out}"
    );
    let check = || {
        stdout(&run(
            &dst,
            &["check", "--all", "--json", "--now", "2026-12-01T00:00:00Z"],
        ))
    };
    let with = check();
    c.execute_batch("DELETE FROM fold_checkpoints; DELETE FROM session_cache;")
        .unwrap();
    assert_eq!(with, check());
}

#[test]
fn watch_derives_the_sessions_another_build_wrote_when_it_starts() {
    let dir = tempdir();
    let dst = dir.path().join("old.db");
    import_samples(&dst);
    let check = || {
        stdout(&run(
            &dst,
            &["check", "--all", "--json", "--now", "2026-12-01T00:00:00Z"],
        ))
    };
    let before = check();
    let c = rusqlite::Connection::open(&dst).unwrap();
    let count = |sql: &str| -> i64 { c.query_row(sql, [], |r| r.get(0)).unwrap() };
    // What another build leaves: derived data under its own names, which this one never reads.
    c.execute_batch(
        "UPDATE session_cache SET kind = 'rules@0.0.1-other' WHERE kind LIKE 'rules@%'; \
         DELETE FROM session_cache WHERE kind NOT LIKE '%@0.0.1-other'; \
         DELETE FROM fold_checkpoints; DELETE FROM session_results;",
    )
    .unwrap();
    let sessions = count("SELECT count(*) FROM session_rollups WHERE last_ts IS NOT NULL");
    assert!(sessions >= 5);
    let ours = "SELECT count(DISTINCT session_id) FROM session_cache \
                WHERE kind LIKE 'rules@%' AND kind NOT LIKE '%-other'";
    assert_eq!(count(ours), 0);

    // A source with nothing to record: the watch only derives.
    let src = dir.path().join("empty.db");
    drop(flightrec::store::Store::open(&src).unwrap());
    let (mut server, url) = serve_process(&src, &[]);
    let child = bin()
        .arg("--db")
        .arg(&dst)
        .args(["watch", "--poll", "200ms", "--base-url", &url])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    while count(ours) < sessions && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(200));
    }
    let pid = child.id().to_string();
    let _ = std::process::Command::new("kill")
        .args(["-TERM", &pid])
        .status();
    let o = child.wait_with_output().unwrap();
    server.kill().unwrap();
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert!(
        stderr(&o).contains(&format!("deriving {sessions} sessions this build has not")),
        "{}",
        stderr(&o)
    );
    assert_eq!(count(ours), sessions, "every session derived");
    assert!(count("SELECT count(DISTINCT session_id) FROM fold_checkpoints") >= sessions);
    assert_eq!(
        check(),
        before,
        "and the answers read through it are the same"
    );
}

#[test]
fn a_recorded_session_gets_its_checkpoints_and_caches_when_the_recording_ends() {
    let (_dir, dst, s, o) = record_happy_path(&[], &["--quiet"]);
    let s = s.as_str();
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert_eq!(stderr(&o), "", "nothing to say when the caches are written");
    let c = rusqlite::Connection::open(&dst).unwrap();
    let count = |sql: &str| -> i64 { c.query_row(sql, [s], |r| r.get(0)).unwrap() };
    assert!(
        count("SELECT count(*) FROM fold_checkpoints WHERE session_id = ?1") >= 3,
        "the state, findings and open-spans folds' checkpoints at the last event"
    );
    assert_eq!(
        count(
            "SELECT count(*) FROM session_cache WHERE session_id = ?1 AND kind LIKE 'requests@%'"
        ),
        1
    );
    assert_eq!(
        count("SELECT count(*) FROM session_results WHERE session_id = ?1 AND kind LIKE 'stats@%'"),
        1
    );
    assert_eq!(
        count("SELECT count(*) FROM session_cache WHERE session_id = ?1 AND kind LIKE 'rules@%'"),
        1
    );
    // Read through them, the answers are the ones read from the events alone.
    let now = "2026-12-01T00:00:00Z";
    let answers = || {
        [
            &["explain", s, "--json", "--now", now][..],
            &["check", "--all", "--json", "--now", now],
            &["stats", s, "--requests", "--json"],
            &["spans", s, "--open", "--json"],
        ]
        .map(|args| stdout(&run(&dst, args)))
    };
    let with = answers();
    c.execute_batch(
        "DELETE FROM fold_checkpoints; DELETE FROM session_cache; DELETE FROM session_results;",
    )
    .unwrap();
    assert_eq!(with, answers());
}
