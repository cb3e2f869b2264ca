//! `watch --otlp-endpoint`: `serve --live` replays a sample session, `watch` records it and
//! pushes its spans to a collector on loopback that decodes each request with the official
//! protobuf types. Every span arrives once, equal to what `export --format otlp` of the recorded
//! session gives; the root after the idle; a collector that answers 503 first still gets all;
//! a watcher stopped mid-session and restarted sends nothing twice.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::resource::v1::Resource;
use opentelemetry_proto::tonic::trace::v1::Span as OtelSpan;

use crate::otel::{Received, traces};
use crate::platform::{Proc, free_port, source, spawn};
use crate::util::*;

const HAPPY: &str = "sesn_011CZhappyPath0000000001";
/// Threads, a workflow run and its phases: spans under other spans than the root.
const WORKFLOW: &str = "sesn_011CZworkflowRun00000014";
/// Rescheduled, then terminated with a tool call open: that call (open) and the root go at the end.
const TERMINATED: &str = "sesn_011CZreschedTerminated08";
const SECRET: &str = "s3cr3t-collector-key";

/// The collector: answers `refusal` to the first `fail` requests (keeping their bodies), then
/// decodes and keeps each one.
#[derive(Clone)]
struct Collector {
    received: Received,
    fail: Arc<AtomicUsize>,
    refused: Arc<AtomicUsize>,
    refusal: StatusCode,
    refused_bodies: Arc<std::sync::Mutex<Vec<Bytes>>>,
}

async fn flaky(
    State(c): State<Collector>,
    headers: HeaderMap,
    body: Bytes,
) -> (StatusCode, Vec<u8>) {
    let left = c.fail.load(Ordering::SeqCst);
    if left > 0 {
        c.fail.store(left - 1, Ordering::SeqCst);
        c.refused.fetch_add(1, Ordering::SeqCst);
        c.refused_bodies.lock().unwrap().push(body);
        return (c.refusal, b"refused".to_vec());
    }
    traces(State(c.received.clone()), headers, body).await
}

fn collector(fail: usize) -> (SocketAddr, Collector) {
    refusing(fail, StatusCode::SERVICE_UNAVAILABLE)
}

fn refusing(fail: usize, refusal: StatusCode) -> (SocketAddr, Collector) {
    let c = Collector {
        received: Received::default(),
        fail: Arc::new(AtomicUsize::new(fail)),
        refused: Arc::new(AtomicUsize::new(0)),
        refusal,
        refused_bodies: Arc::default(),
    };
    let app = axum::Router::new()
        .route("/v1/traces", axum::routing::post(flaky))
        .with_state(c.clone());
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let addr = listener.local_addr().unwrap();
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
    (addr, c)
}

/// Every span received, in arrival order, with the resource it came under.
fn arrived(c: &Collector) -> Vec<(Option<Resource>, OtelSpan)> {
    let got = c.received.0.lock().unwrap();
    got.iter()
        .flat_map(|(req, _)| &req.resource_spans)
        .flat_map(|rs| {
            rs.scope_spans
                .iter()
                .flat_map(|ss| &ss.spans)
                .map(|s| (rs.resource.clone(), s.clone()))
        })
        .collect()
}

/// `export --format otlp` of `session` in `db`, decoded by the official types.
fn exported(db: &Path, session: &str) -> Option<ExportTraceServiceRequest> {
    if !db.exists() {
        return None;
    }
    let o = run(db, &["export", session, "--format", "otlp"]);
    (code(&o) == 0).then(|| serde_json::from_str(&stdout(&o)).unwrap())
}

fn spans_of(req: &ExportTraceServiceRequest) -> &[OtelSpan] {
    &req.resource_spans[0].scope_spans[0].spans
}

/// `serve --live` of `db` on `port`; `fast`: at 4x with gaps cut to 500 ms.
fn serve(db: &Path, port: u16, fast: bool) -> Proc {
    let mut cmd = bin();
    cmd.arg("--db").arg(db).args(["serve", "--live"]);
    if fast {
        cmd.args(["--speed", "4", "--max-gap", "500ms"]);
    } else {
        cmd.args(["--max-gap", "1s"]);
    }
    cmd.args(["--addr", &format!("127.0.0.1:{port}")]);
    let p = spawn(cmd);
    let first = p.first_line();
    assert!(first.starts_with("listening on"), "{first}");
    p
}

/// `watch` (polling) of the API on `api` into `db`, pushing to `collector`.
fn watch(db: &Path, api: u16, collector: SocketAddr) -> Proc {
    let mut cmd = bin();
    cmd.arg("--db")
        .arg(db)
        .args(["watch", "--poll", "300ms", "--idle-timeout", "3s"])
        .args(["--base-url", &format!("http://127.0.0.1:{api}")])
        .args(["--otlp-endpoint", &format!("http://{collector}")])
        .args(["--otlp-header", &format!("x-api-key={SECRET}")]);
    let p = spawn(cmd);
    let first = p.first_line();
    assert_eq!(
        first,
        format!("otlp: pushing spans to http://{collector}/v1/traces")
    );
    p
}

/// Waits up to 60 s until every span of the recorded session's export has arrived, the root
/// with the export's end (it comes after the idle); the export then.
fn wait_all_arrived(db: &Path, c: &Collector, session: &str) -> ExportTraceServiceRequest {
    let end = Instant::now() + Duration::from_secs(60);
    loop {
        if let Some(want) = exported(db, session) {
            let got: BTreeMap<Vec<u8>, OtelSpan> = arrived(c)
                .into_iter()
                .map(|(_, s)| (s.span_id.clone(), s))
                .collect();
            if spans_of(&want)
                .iter()
                .all(|s| got.get(&s.span_id) == Some(s))
            {
                return want;
            }
        }
        assert!(
            Instant::now() < end,
            "{session}: not every span arrived within 60 s: {} spans in all",
            arrived(c).len()
        );
        std::thread::sleep(Duration::from_millis(300));
    }
}

/// Every span of the export's trace arrived once, equal to the export's, under its resource.
fn check_exactly_the_export(want: &ExportTraceServiceRequest, c: &Collector) {
    let trace = &spans_of(want)[0].trace_id;
    let got: Vec<_> = arrived(c)
        .into_iter()
        .filter(|(_, s)| &s.trace_id == trace)
        .collect();
    let mut seen = BTreeMap::new();
    for (resource, span) in &got {
        assert_eq!(resource.as_ref(), want.resource_spans[0].resource.as_ref());
        *seen.entry(span.span_id.clone()).or_insert(0) += 1;
    }
    let repeated: Vec<_> = got
        .iter()
        .filter(|(_, s)| seen[&s.span_id] > 1)
        .map(|(_, s)| s)
        .collect();
    assert!(repeated.is_empty(), "spans pushed twice: {repeated:#?}");
    let spans = spans_of(want);
    assert_eq!(got.len(), spans.len(), "{got:?}");
    for s in spans {
        assert!(
            got.iter().any(|(_, g)| g == s),
            "missing or different: {s:?}"
        );
    }
    // The root (no parent) is the session, with the export's end: it came after the idle.
    let root = spans.iter().find(|s| s.parent_span_id.is_empty()).unwrap();
    assert!(root.name.starts_with("invoke_agent"), "{}", root.name);
    for (_, headers) in c.received.0.lock().unwrap().iter() {
        assert_eq!(
            headers.get("x-api-key").and_then(|v| v.to_str().ok()),
            Some(SECRET)
        );
    }
}

fn never_stored(db: &Path, secret: &str) {
    let mut bytes = std::fs::read(db).unwrap();
    if let Ok(wal) = std::fs::read(db.with_extension("db-wal")) {
        bytes.extend(wal);
    }
    assert!(
        !bytes.windows(secret.len()).any(|w| w == secret.as_bytes()),
        "the header value reached the database"
    );
}

#[test]
fn watch_pushes_every_span_of_live_sessions_once_with_the_exports_ids() {
    let dir = tempdir();
    let src = source(dir.path(), &[HAPPY, WORKFLOW, TERMINATED]);
    let dst = dir.path().join("watched.db");
    let (addr, c) = collector(0);
    let api = free_port();
    let w = watch(&dst, api, addr);
    let s = serve(&src, api, true);
    let happy = wait_all_arrived(&dst, &c, HAPPY);
    let workflow = wait_all_arrived(&dst, &c, WORKFLOW);
    let terminated = wait_all_arrived(&dst, &c, TERMINATED);
    let (lines, code, err) = w.stop();
    let _ = s.stop();
    assert_eq!(code, 0, "{err}");
    check_exactly_the_export(&happy, &c);
    check_exactly_the_export(&workflow, &c);
    check_exactly_the_export(&terminated, &c);
    let nested = spans_of(&workflow)
        .iter()
        .filter(|s| s.name.starts_with("workflow_phase"))
        .count();
    assert!(nested > 0, "phases under their run");
    // More than one request: spans went as they closed, not all at the end.
    assert!(c.received.0.lock().unwrap().len() > 1, "{lines:?}");
    let n = [happy, workflow, terminated]
        .iter()
        .map(|t| spans_of(t).len())
        .sum::<usize>();
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with(&format!("otlp: {n} spans pushed in "))),
        "{lines:?}"
    );
    never_stored(&dst, SECRET);
}

#[test]
fn a_collector_answering_503_twice_still_gets_every_span() {
    let dir = tempdir();
    let src = source(dir.path(), &[HAPPY]);
    let dst = dir.path().join("watched.db");
    let (addr, c) = collector(2);
    let api = free_port();
    let w = watch(&dst, api, addr);
    let s = serve(&src, api, true);
    let want = wait_all_arrived(&dst, &c, HAPPY);
    let (lines, code, err) = w.stop();
    let _ = s.stop();
    assert_eq!(code, 0, "{err}");
    assert_eq!(c.refused.load(Ordering::SeqCst), 2);
    check_exactly_the_export(&want, &c);
    let retried: Vec<&String> = lines.iter().filter(|l| l.contains("503")).collect();
    assert_eq!(retried.len(), 2, "{lines:?}");
    assert!(retried[0].ends_with("trying again"), "{lines:?}");
}

#[test]
fn a_collector_answering_400_is_not_asked_again() {
    let dir = tempdir();
    let src = source(dir.path(), &[HAPPY]);
    let dst = dir.path().join("watched.db");
    let (addr, c) = refusing(usize::MAX, StatusCode::BAD_REQUEST);
    let api = free_port();
    let w = watch(&dst, api, addr);
    let s = serve(&src, api, true);
    let n = spans_of(&exported(&src, HAPPY).unwrap()).len();
    let end = Instant::now() + Duration::from_secs(60);
    let spans_refused = || -> usize {
        let bodies = c.refused_bodies.lock().unwrap();
        bodies
            .iter()
            .map(|b| {
                let req = <ExportTraceServiceRequest as prost::Message>::decode(b.clone()).unwrap();
                req.resource_spans[0].scope_spans[0].spans.len()
            })
            .sum()
    };
    while spans_refused() < n {
        assert!(
            Instant::now() < end,
            "{} of {n} spans offered",
            spans_refused()
        );
        std::thread::sleep(Duration::from_millis(300));
    }
    // Time for a retry, were there one.
    std::thread::sleep(Duration::from_secs(2));
    let (lines, code, err) = w.stop();
    let _ = s.stop();
    assert_eq!(code, 0, "{err}");
    assert_eq!(spans_refused(), n, "each span offered once: {lines:?}");
    assert!(c.received.0.lock().unwrap().is_empty());
    assert!(
        lines
            .iter()
            .any(|l| l.contains("answered 400") && l.ends_with("spans dropped")),
        "{lines:?}"
    );
    assert!(
        lines.contains(&format!(
            "otlp: 0 spans pushed in 0 requests (0 retried, {n} refused)"
        )),
        "{lines:?}"
    );
}

#[test]
fn watch_stopped_mid_session_and_restarted_pushes_nothing_twice() {
    let dir = tempdir();
    let src = source(dir.path(), &[HAPPY]);
    let dst = dir.path().join("watched.db");
    let (addr, c) = collector(0);
    let api = free_port();
    let w = watch(&dst, api, addr);
    // At 1x the session takes long enough to stop the watcher in the middle of it.
    let s = serve(&src, api, false);
    let end = Instant::now() + Duration::from_secs(30);
    while arrived(&c).is_empty() {
        assert!(Instant::now() < end, "no span within 30 s");
        std::thread::sleep(Duration::from_millis(100));
    }
    let (_, code, err) = w.stop();
    assert_eq!(code, 0, "{err}");
    let first = arrived(&c).len();
    let whole = exported(&src, HAPPY).unwrap();
    assert!(
        first < spans_of(&whole).len(),
        "stopped mid-session: {first}"
    );
    let w = watch(&dst, api, addr);
    let want = wait_all_arrived(&dst, &c, HAPPY);
    let (_, code, err) = w.stop();
    let _ = s.stop();
    assert_eq!(code, 0, "{err}");
    check_exactly_the_export(&want, &c);
}

#[test]
fn watch_refuses_a_bad_endpoint_or_header_in_one_line() {
    let dir = tempdir();
    let db = dir.path().join("w.db");
    let cases = [
        (
            vec!["--otlp-endpoint", "ftp://collector:4318"],
            "--otlp-endpoint",
        ),
        (
            vec![
                "--otlp-endpoint",
                "http://127.0.0.1:4318",
                "--otlp-header",
                "Bearer s3cr3t",
            ],
            "--otlp-header",
        ),
    ];
    for (args, named) in cases {
        let o = bin()
            .arg("--db")
            .arg(&db)
            .args(["watch", "--base-url", "http://127.0.0.1:9"])
            .args(&args)
            .output()
            .unwrap();
        let err = stderr(&o);
        assert_eq!(code(&o), 2, "{args:?}: {err}");
        assert_eq!(err.lines().count(), 1, "{err}");
        assert!(err.contains(named), "{err}");
        assert!(!err.contains("s3cr3t"), "{err}");
    }
}
