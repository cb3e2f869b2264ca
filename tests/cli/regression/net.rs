//! Regressions: net (credentials on redirects, what `serve` accepts from the network).

use axum::http::{HeaderMap, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use crate::util::*;

/// Every request a loopback server saw: path and headers.
#[derive(Clone, Default)]
struct Seen(Arc<Mutex<Vec<(String, HeaderMap)>>>);

impl Seen {
    /// Whether any request carried `name`, and whether any arrived at all.
    fn carried(&self, name: &str) -> bool {
        self.0
            .lock()
            .unwrap()
            .iter()
            .any(|(_, h)| h.contains_key(name))
    }

    fn paths(&self) -> Vec<String> {
        self.0
            .lock()
            .unwrap()
            .iter()
            .map(|(p, _)| p.clone())
            .collect()
    }

    /// Whether a request to a path starting with `prefix` carried `name`.
    fn carried_at(&self, prefix: &str, name: &str) -> bool {
        self.0
            .lock()
            .unwrap()
            .iter()
            .any(|(p, h)| p.starts_with(prefix) && h.contains_key(name))
    }
}

/// A loopback server that answers every path under `/moved` with `moved` (a status) and
/// redirects (307) every other path to `{to}/moved{path}`, `to` being read when the request
/// arrives (empty: this server's own origin). It records every request.
fn redirector(moved: StatusCode) -> (SocketAddr, Seen, Arc<Mutex<String>>) {
    let seen = Seen::default();
    let to = Arc::new(Mutex::new(String::new()));
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let addr = listener.local_addr().unwrap();
    let (s, t) = (seen.clone(), Arc::clone(&to));
    let app = axum::Router::new().fallback(move |uri: Uri, headers: HeaderMap| {
        let (s, t) = (s.clone(), Arc::clone(&t));
        async move {
            let path = uri
                .path_and_query()
                .map(|p| p.as_str().to_string())
                .unwrap_or_default();
            s.0.lock().unwrap().push((path.clone(), headers));
            if path.starts_with("/moved") {
                let body =
                    r#"{"type":"error","error":{"type":"not_found_error","message":"gone"}}"#;
                return (moved, [(header::CONTENT_TYPE, "application/json")], body).into_response();
            }
            let target = format!("{}/moved{path}", t.lock().unwrap());
            let mut res = Response::new(axum::body::Body::empty());
            *res.status_mut() = StatusCode::TEMPORARY_REDIRECT;
            res.headers_mut()
                .insert(header::LOCATION, target.parse().unwrap());
            res
        }
    });
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async move {
            let listener = tokio::net::TcpListener::from_std(listener).unwrap();
            axum::serve(listener, app).await.unwrap();
        });
    });
    (addr, seen, to)
}

const SECRET: &str = "sk-ant-REDIRECT-TEST-SECRET-0042";
const SESSION: &str = "sesn_011CZredirectTest000000001";

fn record_through(origin: SocketAddr, auth: &str) -> std::process::Output {
    let dir = tempdir();
    let base = format!("http://{origin}");
    bin()
        .arg("--db")
        .arg(dir.path().join("rec.db"))
        .args([
            "record",
            SESSION,
            "--base-url",
            &base,
            "--auth-header",
            auth,
        ])
        .args(["--until", "idle", "--timeout", "20s"])
        .env("ANTHROPIC_API_KEY", SECRET)
        .env_remove("ANTHROPIC_BASE_URL")
        .output()
        .unwrap()
}

#[test]
fn record_sends_the_api_key_to_another_origin_after_a_redirect() {
    for (auth, header) in [("x-api-key", "x-api-key"), ("bearer", "authorization")] {
        let (a, seen_a, to) = redirector(StatusCode::NOT_FOUND);
        let (b, seen_b, _) = redirector(StatusCode::NOT_FOUND);
        *to.lock().unwrap() = format!("http://{b}");
        let o = record_through(a, auth);
        let err = stderr(&o);
        assert!(seen_a.carried(header), "{auth}: the origin got the key");
        assert!(
            !seen_b.carried(header),
            "{auth}: the key went to another origin: {:?}",
            seen_b.paths()
        );
        assert!(seen_b.paths().is_empty(), "{auth}: followed off origin");
        assert_eq!(code(&o), 2, "{auth}: {err}");
        assert_eq!(err.trim_end().lines().count(), 1, "{err}");
        assert!(
            err.contains("another origin") && err.contains(&format!("http://{b}/moved")),
            "{err}"
        );
        assert!(!err.contains(SECRET), "{err}");
    }
}

#[test]
fn record_keeps_the_api_key_on_a_same_origin_redirect() {
    for (auth, header) in [("x-api-key", "x-api-key"), ("bearer", "authorization")] {
        let (a, seen, to) = redirector(StatusCode::NOT_FOUND);
        *to.lock().unwrap() = format!("http://{a}");
        let o = record_through(a, auth);
        // The redirect was followed, with the key, to the 404 behind it.
        assert!(seen.carried_at("/moved/v1/sessions/", header), "{auth}");
        assert_eq!(code(&o), 5, "{auth}: {}", stderr(&o));
    }
}

fn push_through(origin: SocketAddr, header: &str) -> std::process::Output {
    let dir = tempdir();
    let db = dir.path().join("s.db");
    import_samples(&db);
    let session = sample_sessions().remove(0);
    let endpoint = format!("http://{origin}");
    let pair = format!("{header}={SECRET}");
    bin()
        .arg("--db")
        .arg(&db)
        .args(["export", &session, "--otlp-endpoint", &endpoint])
        .args(["--otlp-header", &pair])
        .env_remove("OTEL_EXPORTER_OTLP_HEADERS")
        .output()
        .unwrap()
}

#[test]
fn otlp_push_sends_its_headers_to_another_origin_after_a_redirect() {
    for header in ["x-api-key", "authorization"] {
        let (a, seen_a, to) = redirector(StatusCode::OK);
        let (b, seen_b, _) = redirector(StatusCode::OK);
        *to.lock().unwrap() = format!("http://{b}");
        let o = push_through(a, header);
        let err = stderr(&o);
        assert!(seen_a.carried(header), "{header}: the collector got it");
        assert!(
            !seen_b.carried(header),
            "{header}: sent to another origin: {:?}",
            seen_b.paths()
        );
        assert!(seen_b.paths().is_empty(), "{header}: followed off origin");
        assert_eq!(code(&o), 2, "{header}: {err}");
        assert_eq!(err.trim_end().lines().count(), 1, "{err}");
        assert!(err.contains("another origin"), "{err}");
        assert!(!err.contains(SECRET), "{err}");
    }
}

#[test]
fn otlp_push_keeps_its_headers_on_a_same_origin_redirect() {
    let (a, seen, to) = redirector(StatusCode::OK);
    *to.lock().unwrap() = format!("http://{a}");
    let o = push_through(a, "x-api-key");
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert!(seen.carried_at("/moved/v1/traces", "x-api-key"));
}

// ---- serve ---------------------------------------------------------------------------------

use crate::serve::{HAPPY, Server, opts, sample_db};
use serde_json::Value;

/// GET `path` on `s` with the given Host header.
async fn get_with_host(s: &Server, path: &str, host: &str) -> reqwest::Response {
    reqwest::Client::new()
        .get(s.url(path))
        .header(reqwest::header::HOST, host)
        .send()
        .await
        .unwrap()
}

/// Checks the API's error body shape and returns the body.
async fn api_error(res: reqwest::Response) -> Value {
    let id = res.headers()["request-id"].to_str().unwrap().to_string();
    let body: Value = serde_json::from_str(&res.text().await.unwrap()).unwrap();
    assert_eq!(body["type"], "error", "{body}");
    assert!(body["error"]["type"].is_string(), "{body}");
    assert!(body["error"]["message"].is_string(), "{body}");
    assert_eq!(body["request_id"], id.as_str(), "{body}");
    body
}

#[tokio::test(flavor = "multi_thread")]
async fn serve_answers_requests_for_any_host_name() {
    let dir = tempdir();
    let db = sample_db(dir.path());
    let mut o = opts(&db);
    o.allow_hosts = vec!["flightrec.test".into()];
    let s = Server::start(o).await;
    let port = s.base.rsplit(':').next().unwrap().to_string();
    let path = format!("/v1/sessions/{HAPPY}/events");
    for host in [
        format!("attacker.example:{port}"),
        "attacker.example".to_string(),
        format!("127.0.0.1.attacker.example:{port}"),
        format!("localhost.attacker.example:{port}"),
    ] {
        let res = get_with_host(&s, &path, &host).await;
        assert_eq!(res.status().as_u16(), 421, "{host}");
        let body = api_error(res).await;
        assert!(
            body["error"]["message"]
                .as_str()
                .unwrap()
                .contains("--allow-host"),
            "{body}"
        );
    }
    for host in [
        format!("127.0.0.1:{port}"),
        format!("localhost:{port}"),
        format!("LocalHost:{port}"),
        format!("[::1]:{port}"),
        "127.0.0.1".to_string(),
        format!("flightrec.test:{port}"),
    ] {
        let res = get_with_host(&s, &path, &host).await;
        assert_eq!(res.status().as_u16(), 200, "{host}");
    }
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn serve_500_bodies_carry_file_paths_and_sqlite_messages() {
    let dir = tempdir();
    let db = sample_db(dir.path());
    let s = Server::start(opts(&db)).await;
    let path = format!("/v1/sessions/{HAPPY}/events");
    assert_eq!(get_with_host(&s, &path, "127.0.0.1").await.status(), 200);
    // Break the database under the server: its next read fails inside SQLite.
    let c = rusqlite::Connection::open(&db).unwrap();
    c.execute_batch("PRAGMA foreign_keys = OFF; DROP TABLE event_rows")
        .unwrap();
    drop(c);
    let res = get_with_host(&s, &path, "127.0.0.1").await;
    assert_eq!(res.status().as_u16(), 500);
    let body = api_error(res).await;
    let text = body.to_string();
    assert_eq!(body["error"]["type"], "api_error", "{text}");
    for leak in [
        "no such table",
        "events",
        "SQLite",
        "sqlite",
        "serve.db",
        "/tmp",
    ] {
        assert!(!text.contains(leak), "{leak:?} in {text}");
    }
    assert!(
        text.contains(body["request_id"].as_str().unwrap()),
        "{text}"
    );
    s.stop().await;
}

/// Runs `flightrec serve ARGS` (on 127.0.0.1 unless ARGS say otherwise) until it prints its
/// address or exits; returns the child (if still running), its first stdout line and, if it
/// exited, its output.
fn serve_child(db: &std::path::Path, args: &[&str], env: &[(&str, &str)]) -> std::process::Output {
    let mut cmd = bin();
    cmd.arg("--db").arg(db).arg("serve").args(args);
    cmd.env_remove("FLIGHTREC_SERVE_API_KEY");
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    let mut child = cmd.spawn().unwrap();
    // A server that starts keeps running: give it a moment, then stop it.
    std::thread::sleep(std::time::Duration::from_millis(700));
    if child.try_wait().unwrap().is_none() {
        child.kill().unwrap();
    }
    child.wait_with_output().unwrap()
}

#[test]
fn serve_binds_a_non_loopback_address_without_a_key() {
    let dir = tempdir();
    let db = sample_db(dir.path());
    // TEST-NET-1 (RFC 5737): never a local address, so nothing is ever bound.
    let o = serve_child(&db, &["--addr", "192.0.2.1:0"], &[]);
    let err = stderr(&o);
    assert_eq!(code(&o), 2, "{err}");
    assert_eq!(err.trim_end().lines().count(), 1, "{err}");
    assert!(
        err.contains("192.0.2.1")
            && err.contains("--api-key")
            && err.contains("FLIGHTREC_SERVE_API_KEY"),
        "{err}"
    );
    assert!(!err.contains("cannot listen"), "{err}");
}

#[test]
fn serve_accepts_an_empty_api_key() {
    let dir = tempdir();
    let db = sample_db(dir.path());
    for (args, env) in [
        (vec!["--addr", "127.0.0.1:0", "--api-key", ""], vec![]),
        (vec!["--addr", "127.0.0.1:0", "--api-key", "  "], vec![]),
        (
            vec!["--addr", "127.0.0.1:0"],
            vec![("FLIGHTREC_SERVE_API_KEY", "")],
        ),
    ] {
        let o = serve_child(&db, &args, &env);
        let err = stderr(&o);
        assert_eq!(code(&o), 2, "{args:?} {env:?}: {err}");
        assert!(err.contains("empty"), "{err}");
        assert!(stdout(&o).is_empty(), "listened: {}", stdout(&o));
    }
}

#[test]
fn serve_without_a_key_does_not_warn() {
    let dir = tempdir();
    let db = sample_db(dir.path());
    let o = serve_child(&db, &["--addr", "127.0.0.1:0"], &[]);
    assert!(
        stdout(&o).starts_with("listening on http://127.0.0.1:"),
        "{}",
        stdout(&o)
    );
    let err = stderr(&o);
    assert!(
        err.contains("warning") && err.contains("without an API key"),
        "{err}"
    );
    // With a key, from the environment (argv is visible in `ps`), no warning.
    let o = serve_child(
        &db,
        &["--addr", "127.0.0.1:0"],
        &[("FLIGHTREC_SERVE_API_KEY", "sk-env-key")],
    );
    assert!(stdout(&o).starts_with("listening on"), "{}", stderr(&o));
    assert!(!stderr(&o).contains("warning"), "{}", stderr(&o));
}

#[test]
fn serve_takes_its_key_only_from_argv() {
    use std::io::BufRead;
    let dir = tempdir();
    let db = sample_db(dir.path());
    let mut child = bin()
        .arg("--db")
        .arg(&db)
        .args(["serve", "--addr", "127.0.0.1:0"])
        .env("FLIGHTREC_SERVE_API_KEY", "sk-env-key")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    std::io::BufReader::new(child.stdout.as_mut().unwrap())
        .read_line(&mut line)
        .unwrap();
    let base = line.trim().rsplit(' ').next().unwrap().to_string();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let statuses = rt.block_on(async {
        let c = reqwest::Client::new();
        let url = format!("{base}/v1/sessions");
        let none = c.get(&url).send().await.unwrap().status().as_u16();
        let key = c
            .get(&url)
            .header("x-api-key", "sk-env-key")
            .send()
            .await
            .unwrap()
            .status()
            .as_u16();
        (none, key)
    });
    child.kill().unwrap();
    let _ = child.wait();
    assert_eq!(statuses, (401, 200));
}

/// The server's counters from its `--stats-file`.
fn stats(path: &std::path::Path) -> Value {
    let text = std::fs::read_to_string(path).unwrap_or_else(|_| "{}".into());
    serde_json::from_str(&text).unwrap_or(Value::Null)
}

#[tokio::test(flavor = "multi_thread")]
async fn serve_polls_the_database_once_per_follower_of_a_stream() {
    use crate::serve::{Sse, datas, exported, import};
    use std::time::Duration;
    const FOLLOWERS: usize = 200;
    let wait = Duration::from_secs(30);
    let dir = tempdir();
    let db = sample_db(dir.path());
    let file = dir.path().join("stats.json");
    let mut o = opts(&db);
    o.stats_file = Some(file.clone());
    let s = Server::start(o).await;
    let want = exported(&db, HAPPY).len();
    let url = s.url(&format!("/v1/sessions/{HAPPY}/events/stream"));
    let mut followers = Vec::new();
    for _ in 0..FOLLOWERS {
        followers.push(Sse::open(&url).await);
    }
    for f in &mut followers {
        assert_eq!(f.events(want, wait).await.len(), want, "the replay");
    }
    let deadline = tokio::time::Instant::now() + wait;
    while stats(&file)["streams"] != FOLLOWERS as u64 {
        assert!(tokio::time::Instant::now() < deadline, "{}", stats(&file));
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // Idle: the calls made in 1.5 s do not depend on how many follow (one poll per 150 ms).
    let before = stats(&file)["db_calls"].as_u64().unwrap();
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let calls = stats(&file)["db_calls"].as_u64().unwrap() - before;
    assert!(
        calls <= 20,
        "{calls} database calls in 1.5 s for {FOLLOWERS} followers"
    );

    // Every follower still gets every new event, once and in order.
    let new: Vec<String> = (1..=3)
        .map(|i| format!(r#"{{"type":"agent.message","id":"sevt_011CZfanOut00000000000{i}","processed_at":"2026-08-07T09:2{i}:00.000Z","content":[{{"type":"text","text":"fan {i}"}}]}}"#))
        .collect();
    let before = stats(&file)["db_calls"].as_u64().unwrap();
    import(
        &db,
        dir.path(),
        "new.jsonl",
        HAPPY,
        &format!("{}\n", new.join("\n")),
    );
    for f in &mut followers {
        assert_eq!(datas(&f.events(3, wait).await), new);
    }
    let calls = stats(&file)["db_calls"].as_u64().unwrap() - before;
    assert!(
        calls <= 200,
        "{calls} database calls to hand 3 events to {FOLLOWERS} followers"
    );
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn serve_keeps_half_sent_requests_and_any_number_of_connections_open() {
    use std::time::Duration;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let dir = tempdir();
    let db = sample_db(dir.path());
    let mut o = opts(&db);
    o.header_timeout = Duration::from_millis(500);
    o.max_connections = 20;
    let s = Server::start(o).await;
    let addr = s.base.trim_start_matches("http://").to_string();
    // 60 clients send half a request head and wait: three times the cap.
    let mut idle = Vec::new();
    for _ in 0..60 {
        let mut c = tokio::net::TcpStream::connect(&addr).await.unwrap();
        c.write_all(b"GET /v1/sessions HTTP/1.1\r\nHost: 127.0.0.1\r\n")
            .await
            .unwrap();
        idle.push(c);
    }
    // Each is closed after the header timeout (the later ones once earlier ones made room).
    for (i, c) in idle.iter_mut().enumerate() {
        let mut buf = [0u8; 512];
        let read = tokio::time::timeout(Duration::from_secs(10), c.read(&mut buf)).await;
        assert!(
            matches!(read, Ok(Ok(_)) | Ok(Err(_))),
            "connection {i} still open"
        );
    }
    // And a whole request is answered.
    let res = get_with_host(&s, "/v1/sessions", "127.0.0.1").await;
    assert_eq!(res.status().as_u16(), 200);
    s.stop().await;
}

/// A database written by the previous build (one migration behind) must be served, as every
/// reading command reads it: `serve` refused it ("schema version 3 is older than this build's").
#[test]
fn serve_refuses_a_database_of_the_previous_schema_version() {
    let dir = tempdir();
    let db = sample_db(dir.path());
    {
        let c = rusqlite::Connection::open(&db).unwrap();
        // Back to version 3: the tables of migrations 0004 (threads), 0005 (webhooks), 0006
        // (alerts), 0007 (deployment runs), 0008 (OTLP pushes), 0009 (retention), 0010 (fold
        // checkpoints), 0011 (session rollups), 0012 (compression dictionaries) and 0014
        // (session results) gone, and the `events` table of before 0013 back in place of its view.
        c.execute_batch(
            "PRAGMA foreign_keys = OFF; CREATE TABLE events_v3 AS SELECT seq, session_id, thread_id, event_id, dedup_key, \
               type, processed_at, sort_ts, link_id, source, received_at, revision, raw FROM events; \
             DROP VIEW events; DROP TABLE event_rows; DROP TABLE session_keys; \
             ALTER TABLE events_v3 RENAME TO events; \
             DROP TABLE threads; DROP TABLE webhooks; DROP TABLE webhook_refusals; \
             DROP TABLE alerts; DROP TABLE alert_deliveries; DROP TABLE deployment_runs; \
             DROP TABLE otlp_pushed_spans; DROP TABLE otlp_watermarks; DROP TABLE retention; \
             DROP TABLE fold_checkpoints; \
             DROP TABLE session_rollups; DROP TABLE session_cache; \
             DROP TABLE zstd_dicts; DROP TABLE session_results; \
             PRAGMA user_version = 3;",
        )
        .unwrap();
    }
    let o = serve_child(&db, &["--addr", "127.0.0.1:0"], &[]);
    assert!(
        stdout(&o).starts_with("listening on http://127.0.0.1:"),
        "exit {}: {}",
        code(&o),
        stderr(&o)
    );
    let c = rusqlite::Connection::open(&db).unwrap();
    let v: i64 = c
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .unwrap();
    assert!(v >= 4, "not migrated: user_version {v}");
}
