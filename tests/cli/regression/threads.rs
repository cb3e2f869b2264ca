//! Regressions: thread objects (`GET /v1/sessions/{id}/threads`, §1.4 and §6.3) through
//! `record` and `serve`: recorded, served as stored, and a server without the list.

use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use crate::record::serve_process;
use crate::util::*;

const SESSION: &str = "sesn_011CZdumpThreads00000001";
const PRIMARY: &str = "sthr_011CZdumpPrimary00000001";

fn dump() -> PathBuf {
    real_samples_dir().join("script-dump.sesn_011CZdumpThreads00000001.json")
}

/// The dump sample imported into a new database.
fn source_db(dir: &Path) -> PathBuf {
    let db = dir.join("source.db");
    let o = run(&db, &["import", dump().to_str().unwrap()]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    db
}

/// (session, id, parent_thread_id, object) of every stored thread object, read straight from
/// the SQLite file, opened read-only.
fn thread_rows(db: &Path) -> Vec<(String, String, Option<String>, Vec<u8>)> {
    let c = rusqlite::Connection::open_with_flags(db, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
        .unwrap();
    let mut st = c
        .prepare("SELECT session_id, id, parent_thread_id, CAST(object AS BLOB) FROM threads ORDER BY session_id, id")
        .unwrap();
    st.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect()
}

/// The `threads` entries of the capture log: their details, parsed.
fn thread_notes(db: &Path) -> Vec<serde_json::Value> {
    let c = rusqlite::Connection::open_with_flags(db, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
        .unwrap();
    let mut st = c
        .prepare("SELECT detail FROM capture_log WHERE kind = 'threads' ORDER BY id")
        .unwrap();
    st.query_map([], |r| r.get::<_, String>(0))
        .unwrap()
        .map(|d| serde_json::from_str(&d.unwrap()).unwrap())
        .collect()
}

fn record_from(url: &str, db: &Path) -> std::process::Output {
    bin()
        .arg("--db")
        .arg(db)
        .args(["record", SESSION, "--base-url", url, "--quiet"])
        .args(["--until", "idle", "--timeout", "60s"])
        .env_remove("ANTHROPIC_API_KEY")
        .env_remove("ANTHROPIC_BASE_URL")
        .env_remove("FLIGHTREC_DB")
        .output()
        .unwrap()
}

fn exported(db: &Path) -> Vec<String> {
    let o = run(db, &["export", SESSION]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    stdout(&o).lines().map(str::to_string).collect()
}

/// Issue 11, "use what real sessions carry": `record` did not fetch the session's thread
/// objects (`GET /v1/sessions/{id}/threads`).
/// Sample: `sample-logs/real/script-dump.sesn_011CZdumpThreads00000001.json`, served by
/// `flightrec serve`.
#[test]
fn record_leaves_the_sessions_thread_objects_behind() {
    let dir = tempdir();
    let src = source_db(dir.path());
    let want = thread_rows(&src);
    assert_eq!(want.len(), 2, "the dump holds two thread objects");
    let dst = dir.path().join("recorded.db");
    // An older copy of the primary thread, recorded earlier: the fetch must replace it.
    let stale = dir.path().join("stale.jsonl");
    std::fs::write(
        &stale,
        format!(
            r#"{{"id":"{PRIMARY}","type":"session_thread","session_id":"{SESSION}","status":"running","parent_thread_id":null,"usage":null}}"#
        ) + "\n",
    )
    .unwrap();
    let o = run(
        &dst,
        &["import", "--session", SESSION, stale.to_str().unwrap()],
    );
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert_eq!(thread_rows(&dst).len(), 1);

    let (mut server, url) = serve_process(&src, &[]);
    let o = record_from(&url, &dst);
    let _ = server.kill();
    let _ = server.wait();
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert!(
        stdout(&o).contains("; 2 thread object(s);"),
        "{}",
        stdout(&o)
    );
    assert_eq!(
        thread_rows(&dst),
        want,
        "thread objects differ from the source's"
    );
    assert_eq!(exported(&dst), exported(&src));
    let notes = thread_notes(&dst);
    assert!(
        notes.iter().any(|n| n["why"] == "end" && n["threads"] == 2),
        "{notes:?}"
    );
    // A history-only recording (a finished session) fetches them too.
    let (mut server, url) = serve_process(&src, &[]);
    let once = dir.path().join("once.db");
    let o = run(
        &once,
        &[
            "record",
            SESSION,
            "--base-url",
            &url,
            "--no-stream",
            "--quiet",
        ],
    );
    let _ = server.kill();
    let _ = server.wait();
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert_eq!(thread_rows(&once), want);
}

/// Issue 11, "use what real sessions carry": `serve` answered the thread list with objects it
/// made up rather than the stored ones.
/// Sample: `sample-logs/real/script-dump.sesn_011CZdumpThreads00000001.json`.
#[tokio::test(flavor = "multi_thread")]
async fn serve_invents_thread_objects_instead_of_serving_the_stored_ones() {
    let dir = tempdir();
    let src = source_db(dir.path());
    let stored: Vec<String> = thread_rows(&src)
        .into_iter()
        .map(|r| String::from_utf8(r.3).unwrap())
        .collect();
    let s = crate::serve::Server::start(crate::serve::opts(&src)).await;
    let list = |q: &str| s.url(&format!("/v1/sessions/{SESSION}/threads{q}"));
    // Paged one at a time: every stored object, verbatim, parents first.
    let (texts, requests) = crate::serve::all_pages(&list("?limit=1")).await;
    assert_eq!(requests, 2);
    let mut sorted = texts.clone();
    sorted.sort();
    let mut want = stored.clone();
    want.sort();
    assert_eq!(sorted, want);
    assert!(texts[0].contains(PRIMARY), "{texts:?}");
    // The whole page, byte for byte.
    let body = crate::serve::get(&list("")).await.text().await.unwrap();
    assert_eq!(
        body,
        format!(r#"{{"data":[{}],"next_page":null}}"#, texts.join(","))
    );
    // statuses[] (bracketed, percent-encoded) filters on each object's status.
    let idle = crate::serve::page(&list("?statuses%5B%5D=idle")).await;
    assert_eq!(idle.texts().len(), 2);
    let running = crate::serve::page(&list("?statuses%5B%5D=running")).await;
    assert!(running.texts().is_empty());
    // One thread.
    let one = crate::serve::get(&s.url(&format!("/v1/sessions/{SESSION}/threads/{PRIMARY}")))
        .await
        .text()
        .await
        .unwrap();
    assert_eq!(one, texts[0]);
    // A session recorded without thread objects lists none (nothing is invented), but the
    // thread its events name still has a log to read.
    let other = dir.path().join("other.db");
    let line = r#"{"type":"session.thread_created","id":"sevt_011CZthrX0000000000000001","session_thread_id":"sthr_011CZthrX000000000000001","agent_name":"Reader","processed_at":"2026-09-01T10:00:01.000Z"}"#;
    let f = dir.path().join("sesn_011CZthrOther0000000000001.jsonl");
    std::fs::write(&f, format!("{line}\n")).unwrap();
    assert_eq!(code(&run(&other, &["import", f.to_str().unwrap()])), 0);
    s.stop().await;
    let s = crate::serve::Server::start(crate::serve::opts(&other)).await;
    let base = "/v1/sessions/sesn_011CZthrOther0000000000001/threads";
    let p = crate::serve::page(&s.url(base)).await;
    assert!(p.texts().is_empty() && p.next_page.is_none());
    let r = crate::serve::get(&s.url(&format!("{base}/sthr_011CZthrX000000000000001"))).await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    let r =
        crate::serve::get(&s.url(&format!("{base}/sthr_011CZthrX000000000000001/events"))).await;
    assert_eq!(r.status(), StatusCode::OK);
    s.stop().await;
}

/// A loopback proxy in front of `upstream` that answers the thread list itself with `status`
/// (a server without the endpoint, or a failing one) and counts those requests; every other
/// request, streams included, is passed through.
fn proxy(upstream: String, status: StatusCode) -> (SocketAddr, Arc<AtomicUsize>) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let addr = listener.local_addr().unwrap();
    let asked = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&asked);
    let client = reqwest::Client::new();
    let app = axum::Router::new().fallback(move |req: axum::extract::Request| {
        let (client, counter, upstream) = (client.clone(), Arc::clone(&counter), upstream.clone());
        async move {
            if req.uri().path().ends_with("/threads") {
                counter.fetch_add(1, Ordering::SeqCst);
                let body = r#"{"type":"error","error":{"type":"not_found_error","message":"Not found"},"request_id":"req_proxy"}"#;
                return (status, [(header::CONTENT_TYPE, "application/json")], body)
                    .into_response();
            }
            let pq = req.uri().path_and_query().map(|p| p.as_str()).unwrap_or("/");
            let mut fwd = client.get(format!("{upstream}{pq}"));
            for (k, v) in req.headers() {
                if k != header::HOST {
                    fwd = fwd.header(k, v);
                }
            }
            let up = fwd.send().await.unwrap();
            let mut res = Response::builder().status(up.status().as_u16());
            if let Some(ct) = up.headers().get(header::CONTENT_TYPE) {
                res = res.header(header::CONTENT_TYPE, ct);
            }
            res.body(axum::body::Body::from_stream(up.bytes_stream()))
                .unwrap()
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
    (addr, asked)
}

/// Records the dump's session through a proxy that answers the thread list with `status`.
fn record_without_thread_list(status: StatusCode) -> (PathBuf, PathBuf, usize, tempfile::TempDir) {
    let dir = tempdir();
    let src = source_db(dir.path());
    let dst = dir.path().join("recorded.db");
    let (mut server, url) = serve_process(&src, &[]);
    let (addr, asked) = proxy(url, status);
    let started = Instant::now();
    let o = record_from(&format!("http://{addr}"), &dst);
    let _ = server.kill();
    let _ = server.wait();
    assert_eq!(code(&o), 0, "{status}: {}", stderr(&o));
    let summary = stdout(&o);
    assert!(
        summary.contains("; no thread list (")
            && summary.contains(&format!("HTTP {}", status.as_u16())),
        "{summary}"
    );
    assert!(started.elapsed() < Duration::from_secs(40));
    (src, dst, asked.load(Ordering::SeqCst), dir)
}

/// Issue 11, "use what real sessions carry": a server without the thread list (404) must cost
/// no event.
/// Sample: `sample-logs/real/script-dump.sesn_011CZdumpThreads00000001.json`, behind a proxy.
#[test]
fn record_without_a_thread_list_endpoint_notes_it_and_keeps_every_event() {
    let (src, dst, asked, _dir) = record_without_thread_list(StatusCode::NOT_FOUND);
    assert_eq!(exported(&dst), exported(&src), "events lost");
    assert!(thread_rows(&dst).is_empty());
    // A 404 is asked once: no retry, no second fetch at the end.
    assert_eq!(asked, 1);
    let notes = thread_notes(&dst);
    assert_eq!(notes.len(), 1, "{notes:?}");
    assert_eq!(notes[0]["status"], 404);
    assert!(
        notes[0]["warning"]
            .as_str()
            .unwrap()
            .contains("not asked for again"),
        "{notes:?}"
    );
}

/// Issue 11, "use what real sessions carry": a failing thread list (5xx) must cost no event.
/// Sample: `sample-logs/real/script-dump.sesn_011CZdumpThreads00000001.json`, behind a proxy.
#[test]
fn record_with_a_failing_thread_list_notes_it_and_keeps_every_event() {
    let (src, dst, asked, _dir) = record_without_thread_list(StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(exported(&dst), exported(&src), "events lost");
    assert!(thread_rows(&dst).is_empty());
    // Retried (a 5xx is transient), then given up and noted, and tried again at the end.
    assert!(asked >= 3, "{asked}");
    let notes = thread_notes(&dst);
    assert!(!notes.is_empty());
    assert!(
        notes
            .iter()
            .all(|n| n["status"] == 500 && n["warning"].as_str().unwrap().contains("tries again")),
        "{notes:?}"
    );
    assert!(notes.iter().any(|n| n["why"] == "end"), "{notes:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_burst_of_thread_changes_costs_one_thread_list_fetch() {
    use flightrec::record::threads::{DEBOUNCE, ThreadList};
    use flightrec::record::writer::{Msg, Snapshot};
    use flightrec::source::api::{ApiClient, ApiConfig, AuthStyle, VERSION_NEW};

    let dir = tempdir();
    let src = source_db(dir.path());
    let s = crate::serve::Server::start(crate::serve::opts(&src)).await;
    let client = ApiClient::new(ApiConfig {
        base_url: s.url(""),
        api_key: None,
        auth_style: AuthStyle::Bearer,
        version: VERSION_NEW.into(),
    })
    .unwrap();
    let (tx, mut rx) = tokio::sync::mpsc::channel(1024);
    let list = Arc::new(ThreadList::new(client, SESSION.into(), tx, "test".into()));
    let (snap_tx, snaps) = tokio::sync::watch::channel(Snapshot::default());
    let (stop_tx, stop) = tokio::sync::watch::channel(false);
    let follower = {
        let list = Arc::clone(&list);
        tokio::spawn(async move { list.follow(snaps, stop).await })
    };
    // 50 thread changes within the first second, then one more after the first fetch.
    for _ in 0..50 {
        snap_tx.send_modify(|s| s.thread_events += 1);
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    tokio::time::sleep(DEBOUNCE + Duration::from_millis(500)).await;
    snap_tx.send_modify(|s| s.thread_events += 1);
    tokio::time::sleep(DEBOUNCE * 2).await;
    stop_tx.send(true).unwrap();
    follower.await.unwrap();
    drop(list);
    let stored = thread_rows(&src);
    let (mut lists, mut notes) = (0, Vec::new());
    while let Some(m) = rx.recv().await {
        match m {
            Msg::ThreadObjects { objects, .. } => {
                lists += 1;
                let mut got: Vec<Vec<u8>> = objects.into_iter().map(String::into_bytes).collect();
                got.sort();
                let mut want: Vec<Vec<u8>> = stored.iter().map(|r| r.3.clone()).collect();
                want.sort();
                assert_eq!(got, want);
            }
            Msg::Capture { kind, detail, .. } => {
                assert_eq!(kind, "threads");
                notes.push(detail["why"].as_str().unwrap().to_string());
            }
            _ => panic!("unexpected message"),
        }
    }
    assert_eq!(
        lists, 2,
        "51 changes: one fetch for the burst, one for the change after it"
    );
    assert_eq!(notes, ["start", "thread change"]);
    s.stop().await;
}
