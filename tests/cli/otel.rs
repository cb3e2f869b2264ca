//! `export --format perfetto`, `--format otlp` and `--otlp-endpoint` on every sample: the trace
//! event format's rules, the official OTLP types reading what we write, and a push to a receiver
//! on loopback that decodes the request body with the official protobuf types.

use std::collections::{BTreeMap, BTreeSet};
use std::net::SocketAddr;
use std::path::Path;
use std::sync::{Arc, Mutex};

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header::CONTENT_TYPE};
use bytes::Bytes;
use opentelemetry_proto::tonic::collector::trace::v1::{
    ExportTraceServiceRequest, ExportTraceServiceResponse,
};
use opentelemetry_proto::tonic::common::v1::any_value::Value as Any;
use opentelemetry_proto::tonic::trace::v1::Span as OtelSpan;
use prost::Message;
use serde_json::Value;

use crate::util::{
    code, import_samples, oracle_texts, run, sample_files, sample_scenarios, session_of, stderr,
    stdout, tempdir,
};

const HAPPY: &str = "sesn_011CZhappyPath0000000001";

fn sample_db() -> (tempfile::TempDir, std::path::PathBuf) {
    let dir = tempdir();
    let db = dir.path().join("s.db");
    import_samples(&db);
    (dir, db)
}

fn spans_json(db: &Path, session: &str) -> Vec<Value> {
    let o = run(db, &["spans", session, "--json"]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    serde_json::from_str(&stdout(&o)).unwrap()
}

fn export(db: &Path, session: &str, format: &str) -> String {
    let o = run(db, &["export", session, "--format", format]);
    assert_eq!(code(&o), 0, "{session}: {}", stderr(&o));
    stdout(&o)
}

/// The sample's events read by the oracle (all of its files).
fn oracle_events(session: &str) -> Vec<Value> {
    sample_files()
        .iter()
        .filter(|p| session_of(p) == session)
        .flat_map(|p| oracle_texts(p))
        .map(|t| serde_json::from_str(&t).unwrap())
        .collect()
}

// ---- Perfetto ------------------------------------------------------------------------------

/// The lane a track belongs to: its name without the ` #2` of extra tracks, and a child
/// thread's lane by its id alone (`thread sthr_…`).
fn lane_of(track: &str) -> String {
    let base = match track.rsplit_once(" #") {
        Some((b, n)) if n.parse::<u32>().is_ok() => b,
        _ => track,
    };
    if base.starts_with("thread sthr_") {
        base.split(' ').take(2).collect::<Vec<_>>().join(" ")
    } else {
        base.to_string()
    }
}

#[test]
fn perfetto_follows_the_trace_event_format_for_every_sample() {
    let (_dir, db) = sample_db();
    for (scenario, session) in sample_scenarios() {
        let text = export(&db, &session, "perfetto");
        assert_eq!(
            text,
            export(&db, &session, "perfetto"),
            "{scenario}: deterministic"
        );
        let doc: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(doc["displayTimeUnit"], "ms");
        assert_eq!(doc["metadata"]["session_id"], session.as_str());
        let events = doc["traceEvents"].as_array().unwrap();

        let mut track_names = BTreeMap::new();
        let mut sort_index = BTreeSet::new();
        let mut used = BTreeSet::new();
        let mut slices: BTreeMap<u64, Vec<(i64, i64)>> = BTreeMap::new();
        let mut span_slices = 0;
        let mut status_bands = 0;
        let mut process_named = false;
        for e in events {
            for key in ["name", "ph"] {
                assert!(e[key].is_string(), "{scenario}: {key} in {e}");
            }
            for key in ["ts", "pid", "tid"] {
                assert!(e[key].is_number(), "{scenario}: {key} in {e}");
            }
            assert_eq!(e["pid"], 1, "{scenario}: one process");
            let tid = e["tid"].as_u64().unwrap();
            let ts = e["ts"].as_i64().unwrap();
            match e["ph"].as_str().unwrap() {
                "M" => match e["name"].as_str().unwrap() {
                    "process_name" => process_named = true,
                    "thread_name" => {
                        let name = e["args"]["name"].as_str().unwrap().to_string();
                        assert!(track_names.insert(tid, name).is_none(), "{scenario}: {e}");
                    }
                    "thread_sort_index" => {
                        sort_index.insert(tid);
                    }
                    other => panic!("{scenario}: unexpected metadata {other}"),
                },
                "X" => {
                    let dur = e["dur"].as_i64().unwrap();
                    assert!(dur >= 0 && ts >= 0, "{scenario}: {e}");
                    assert!(e["cat"].is_string() && e["args"].is_object(), "{e}");
                    if e["cat"] == "status" {
                        status_bands += 1;
                    } else {
                        span_slices += 1;
                        assert!(e["args"]["open"].is_boolean(), "{e}");
                        assert!(e["args"]["start_id"].is_string(), "{e}");
                    }
                    used.insert(tid);
                    slices.entry(tid).or_default().push((ts, ts + dur));
                }
                "i" => {
                    assert_eq!(e["s"], "t", "{scenario}: thread-scoped instant {e}");
                    used.insert(tid);
                }
                other => panic!("{scenario}: unexpected phase {other} (no B/E are written)"),
            }
        }
        assert!(process_named, "{scenario}");
        for tid in &used {
            assert!(
                track_names.contains_key(tid),
                "{scenario}: tid {tid} has no name"
            );
        }
        assert_eq!(
            track_names.keys().collect::<BTreeSet<_>>(),
            sort_index.iter().collect(),
            "{scenario}: every track has a sort index"
        );

        // Complete events on one track nest properly (no slice crosses the end of another).
        for (tid, mut v) in slices {
            v.sort_by_key(|&(a, b)| (a, std::cmp::Reverse(b)));
            let mut stack: Vec<i64> = Vec::new();
            for (a, b) in v {
                while stack.last().is_some_and(|&e| e <= a) {
                    stack.pop();
                }
                assert!(
                    stack.last().is_none_or(|&e| e >= b),
                    "{scenario}: track {tid} slice {a}..{b} crosses its parent's end"
                );
                stack.push(b);
            }
        }

        // One slice per span, one band per session status event.
        let spans = spans_json(&db, &session);
        assert_eq!(
            span_slices,
            spans.len(),
            "{scenario}: slices vs spans --json"
        );
        let oracle = oracle_events(&session);
        let statuses: BTreeSet<&str> = oracle
            .iter()
            .filter(|e| {
                let t = e["type"].as_str().unwrap_or("");
                t.starts_with("session.status_") || t == "session.deleted"
            })
            .filter_map(|e| e["id"].as_str())
            .collect();
        assert_eq!(status_bands, statuses.len(), "{scenario}: status bands");

        // The tracks are the fixed lanes plus one per child thread.
        let mut expected: BTreeSet<String> = [
            "session status",
            "thread primary",
            "model requests",
            "permission waits",
            "outcome evaluations",
            "workflow runs",
            "errors",
        ]
        .map(String::from)
        .into();
        for s in &spans {
            if let Some(t) = s["thread_id"].as_str() {
                expected.insert(format!("thread {t}"));
            }
        }
        for e in &oracle {
            if matches!(e["type"].as_str(), Some("user.message" | "agent.message"))
                && let Some(t) = e["session_thread_id"].as_str().filter(|t| !t.is_empty())
            {
                expected.insert(format!("thread {t}"));
            }
        }
        let lanes: BTreeSet<String> = track_names.values().map(|n| lane_of(n)).collect();
        assert_eq!(lanes, expected, "{scenario}: lanes");
    }
}

#[test]
fn perfetto_draws_open_spans_to_the_end_of_the_recording() {
    let (_dir, db) = sample_db();
    let session = "sesn_011CZstuckCustomTool0002";
    let doc: Value = serde_json::from_str(&export(&db, session, "perfetto")).unwrap();
    let events = doc["traceEvents"].as_array().unwrap();
    let end = events
        .iter()
        .filter_map(|e| Some(e["ts"].as_i64()? + e["dur"].as_i64().unwrap_or(0)))
        .max()
        .unwrap();
    let open: Vec<&Value> = events
        .iter()
        .filter(|e| e["ph"] == "X" && e["args"]["open"] == true)
        .collect();
    assert!(!open.is_empty());
    for e in open {
        let stop = e["ts"].as_i64().unwrap() + e["dur"].as_i64().unwrap();
        assert_eq!(stop, end, "{e}");
    }
}

// ---- OTLP/JSON -----------------------------------------------------------------------------

fn otlp_spans(req: &ExportTraceServiceRequest) -> Vec<&OtelSpan> {
    req.resource_spans
        .iter()
        .flat_map(|r| &r.scope_spans)
        .flat_map(|s| &s.spans)
        .collect()
}

fn attr<'a>(s: &'a OtelSpan, key: &str) -> Option<&'a Any> {
    s.attributes
        .iter()
        .find(|a| a.key == key)
        .and_then(|a| a.value.as_ref()?.value.as_ref())
}

fn text_attr<'a>(s: &'a OtelSpan, key: &str) -> Option<&'a str> {
    match attr(s, key) {
        Some(Any::StringValue(v)) => Some(v),
        _ => None,
    }
}

fn int_attr(s: &OtelSpan, key: &str) -> Option<i64> {
    match attr(s, key) {
        Some(Any::IntValue(v)) => Some(*v),
        _ => None,
    }
}

/// The structural facts every exported trace must hold, against `spans --json`.
fn check_trace(scenario: &str, req: &ExportTraceServiceRequest, spans: &[Value]) {
    let all = otlp_spans(req);
    assert_eq!(
        all.len(),
        spans.len() + 1,
        "{scenario}: the root plus one per span"
    );
    let root = all[0];
    assert!(root.parent_span_id.is_empty(), "{scenario}");
    assert_eq!(
        text_attr(root, "gen_ai.operation.name"),
        Some("invoke_agent")
    );
    let ids: BTreeSet<&[u8]> = all.iter().map(|s| s.span_id.as_slice()).collect();
    assert_eq!(ids.len(), all.len(), "{scenario}: unique span ids");
    for s in &all {
        assert_eq!(s.trace_id, root.trace_id, "{scenario}: one trace");
        assert_eq!((s.trace_id.len(), s.span_id.len()), (16, 8));
        assert!(s.start_time_unix_nano <= s.end_time_unix_nano, "{}", s.name);
        assert!(!s.name.is_empty());
        if s.span_id != root.span_id {
            assert!(
                ids.contains(s.parent_span_id.as_slice()),
                "{scenario}: {} has a parent in the trace",
                s.name
            );
        }
    }
    // Each span of `spans --json` is there, by its opening event and kind.
    for sp in spans {
        let start = sp["start_id"].as_str().unwrap();
        let kind = sp["kind"].as_str().unwrap();
        assert!(
            all.iter().any(|s| {
                text_attr(s, "flightrec.start_event_id") == Some(start)
                    && text_attr(s, "flightrec.span.kind") == Some(kind)
            }),
            "{scenario}: {kind} {start} missing"
        );
    }
}

#[test]
fn otlp_json_is_read_by_the_official_types_for_every_sample() {
    let (_dir, db) = sample_db();
    for (scenario, session) in sample_scenarios() {
        let text = export(&db, &session, "otlp");
        let req: ExportTraceServiceRequest = serde_json::from_str(&text)
            .unwrap_or_else(|e| panic!("{scenario}: not OTLP/JSON: {e}"));
        check_trace(&scenario, &req, &spans_json(&db, &session));
        // Re-exporting gives the same trace and span ids (idempotent in a backend).
        let again: ExportTraceServiceRequest =
            serde_json::from_str(&export(&db, &session, "otlp")).unwrap();
        assert_eq!(req, again, "{scenario}");
    }
}

#[test]
fn otlp_model_requests_and_tool_calls_carry_the_genai_attributes() {
    let (_dir, db) = sample_db();
    let req: ExportTraceServiceRequest = serde_json::from_str(&export(&db, HAPPY, "otlp")).unwrap();
    let spans = spans_json(&db, HAPPY);
    let all = otlp_spans(&req);
    let root = all[0];
    assert_eq!(text_attr(root, "gen_ai.conversation.id"), Some(HAPPY));
    assert_eq!(root.trace_id, {
        // The trace id depends on the session id alone: a fresh database gives the same.
        let (_d2, db2) = sample_db();
        let again: ExportTraceServiceRequest =
            serde_json::from_str(&export(&db2, HAPPY, "otlp")).unwrap();
        otlp_spans(&again)[0].trace_id.clone()
    });

    let first_request = spans.iter().find(|s| s["kind"] == "model_request").unwrap();
    let chat = all
        .iter()
        .find(|s| text_attr(s, "flightrec.start_event_id") == first_request["start_id"].as_str())
        .unwrap();
    assert!(chat.name.starts_with("chat"), "{}", chat.name);
    assert_eq!(chat.kind, 3, "CLIENT");
    assert_eq!(chat.parent_span_id, root.span_id);
    assert_eq!(text_attr(chat, "gen_ai.operation.name"), Some("chat"));
    assert_eq!(text_attr(chat, "gen_ai.provider.name"), Some("anthropic"));
    assert_eq!(text_attr(chat, "gen_ai.system"), Some("anthropic"));
    let u = &first_request["usage"];
    let n = |k: &str| u[k].as_i64().unwrap();
    assert_eq!(
        int_attr(chat, "gen_ai.usage.input_tokens"),
        Some(n("input_tokens") + n("cache_read_input_tokens") + n("cache_creation_input_tokens"))
    );
    assert_eq!(
        int_attr(chat, "gen_ai.usage.output_tokens"),
        Some(n("output_tokens"))
    );
    assert_eq!(
        int_attr(chat, "gen_ai.usage.cache_creation.input_tokens"),
        Some(n("cache_creation_input_tokens"))
    );
    assert_eq!(
        int_attr(chat, "gen_ai.usage.cache_read.input_tokens"),
        Some(n("cache_read_input_tokens"))
    );

    let tool_span = spans.iter().find(|s| s["kind"] == "tool").unwrap();
    let name = tool_span["name"].as_str().unwrap();
    let tool = all
        .iter()
        .find(|s| text_attr(s, "flightrec.start_event_id") == tool_span["start_id"].as_str())
        .unwrap();
    assert_eq!(tool.name, format!("execute_tool {name}"));
    assert_eq!(tool.kind, 1, "INTERNAL");
    assert_eq!(
        text_attr(tool, "gen_ai.operation.name"),
        Some("execute_tool")
    );
    assert_eq!(text_attr(tool, "gen_ai.tool.name"), Some(name));
    assert_eq!(
        text_attr(tool, "gen_ai.tool.call.id"),
        tool_span["start_id"].as_str()
    );
    assert_eq!(text_attr(tool, "gen_ai.tool.type"), Some("extension"));
    let nanos = |s: &OtelSpan| (s.end_time_unix_nano - s.start_time_unix_nano) as f64 / 1e6;
    assert!((nanos(tool) - tool_span["duration_ms"].as_f64().unwrap()).abs() < 0.01);
}

#[test]
fn otlp_failed_tools_have_error_status_and_threads_nest() {
    let (_dir, db) = sample_db();
    // An MCP call that failed.
    let req: ExportTraceServiceRequest =
        serde_json::from_str(&export(&db, "sesn_011CZmcpFailure000000009", "otlp")).unwrap();
    let failed: Vec<&OtelSpan> = otlp_spans(&req)
        .into_iter()
        .filter(|s| {
            s.name.starts_with("execute_tool") && s.status.as_ref().is_some_and(|st| st.code == 2)
        })
        .collect();
    assert!(!failed.is_empty());
    assert!(failed.iter().all(|s| text_attr(s, "error.type").is_some()));

    // Child threads are invoke_agent spans under the root, their tool calls under them.
    let session = "sesn_011CZmultiAgent000000010";
    let req: ExportTraceServiceRequest =
        serde_json::from_str(&export(&db, session, "otlp")).unwrap();
    let all = otlp_spans(&req);
    let threads: Vec<&&OtelSpan> = all
        .iter()
        .filter(|s| text_attr(s, "flightrec.span.kind") == Some("thread"))
        .collect();
    assert!(!threads.is_empty());
    for t in &threads {
        assert_eq!(t.parent_span_id, all[0].span_id);
        assert_eq!(text_attr(t, "gen_ai.operation.name"), Some("invoke_agent"));
        let tid = text_attr(t, "flightrec.thread.id");
        // A thread has a span per busy stretch (running to idle): its tools nest under the
        // stretch they started in.
        for s in all.iter().filter(|s| {
            text_attr(s, "flightrec.thread.id") == tid
                && text_attr(s, "gen_ai.operation.name") == Some("execute_tool")
                && t.start_time_unix_nano <= s.start_time_unix_nano
                && s.start_time_unix_nano <= t.end_time_unix_nano
        }) {
            assert_eq!(s.parent_span_id, t.span_id, "{}", s.name);
        }
    }
}

// ---- Push ----------------------------------------------------------------------------------

/// What the receiver got: decoded requests with the headers they came with.
#[derive(Clone, Default)]
pub(crate) struct Received(pub(crate) Arc<Mutex<Vec<(ExportTraceServiceRequest, HeaderMap)>>>);

/// The OTLP/HTTP traces endpoint, built on the official protobuf types: a body they cannot
/// decode is a 400, as a collector answers it.
pub(crate) async fn traces(
    State(r): State<Received>,
    headers: HeaderMap,
    body: Bytes,
) -> (StatusCode, Vec<u8>) {
    if headers.get(CONTENT_TYPE).and_then(|v| v.to_str().ok()) != Some("application/x-protobuf") {
        return (
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            b"protobuf only".to_vec(),
        );
    }
    match ExportTraceServiceRequest::decode(body) {
        Ok(req) => {
            r.0.lock().unwrap().push((req, headers));
            let resp = ExportTraceServiceResponse::default();
            (StatusCode::OK, resp.encode_to_vec())
        }
        Err(e) => (
            StatusCode::BAD_REQUEST,
            format!("cannot decode: {e}").into_bytes(),
        ),
    }
}

async fn overloaded() -> (StatusCode, &'static str) {
    (
        StatusCode::INTERNAL_SERVER_ERROR,
        "collector overloaded\nsecond line not shown",
    )
}

async fn silent() -> StatusCode {
    tokio::time::sleep(std::time::Duration::from_secs(10)).await;
    StatusCode::OK
}

/// Starts the receiver on a loopback port, for the rest of the test process.
fn receiver() -> (SocketAddr, Received) {
    let received = Received::default();
    let app = axum::Router::new()
        .route("/v1/traces", axum::routing::post(traces))
        .route("/failing/v1/traces", axum::routing::post(overloaded))
        .route("/silent/v1/traces", axum::routing::post(silent))
        .with_state(received.clone());
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
    (addr, received)
}

#[test]
fn the_receiver_refuses_what_the_official_decoder_cannot_read() {
    let (addr, received) = receiver();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let status = rt.block_on(async {
        reqwest::Client::new()
            .post(format!("http://{addr}/v1/traces"))
            .header("content-type", "application/x-protobuf")
            .body("not protobuf")
            .send()
            .await
            .unwrap()
            .status()
    });
    assert_eq!(status.as_u16(), 400);
    assert!(received.0.lock().unwrap().is_empty());
}

#[test]
fn push_sends_the_sample_trace_to_a_collector() {
    let (_dir, db) = sample_db();
    let (addr, received) = receiver();
    let secret = "Bearer s3cr3t-token";
    for (i, (scenario, session)) in sample_scenarios().into_iter().enumerate() {
        // Every other push names the full traces URL.
        let endpoint = if i % 2 == 0 {
            format!("http://{addr}")
        } else {
            format!("http://{addr}/v1/traces")
        };
        let header = format!("Authorization={secret}");
        let o = run(
            &db,
            &[
                "export",
                &session,
                "--otlp-endpoint",
                &endpoint,
                "--otlp-header",
                &header,
                "--otlp-header",
                "x-tenant=flightrec-tests",
            ],
        );
        assert_eq!(code(&o), 0, "{scenario}: {}", stderr(&o));
        assert_eq!(stdout(&o), "", "{scenario}: nothing written when pushing");
        assert!(stderr(&o).contains("pushed"), "{}", stderr(&o));
        assert!(
            !stderr(&o).contains("s3cr3t"),
            "{scenario}: header value printed"
        );

        let (got, headers) = received.0.lock().unwrap().pop().unwrap();
        assert_eq!(
            headers.get("authorization").and_then(|v| v.to_str().ok()),
            Some(secret)
        );
        assert_eq!(
            headers.get("x-tenant").and_then(|v| v.to_str().ok()),
            Some("flightrec-tests")
        );
        // The pushed protobuf is the same trace as the OTLP/JSON export, span for span.
        let json: ExportTraceServiceRequest =
            serde_json::from_str(&export(&db, &session, "otlp")).unwrap();
        assert_eq!(got, json, "{scenario}");
        check_trace(&scenario, &got, &spans_json(&db, &session));
    }
}

#[test]
fn push_with_output_also_writes_the_file() {
    let (dir, db) = sample_db();
    let (addr, received) = receiver();
    let file = dir.path().join("trace.json");
    let o = run(
        &db,
        &[
            "export",
            HAPPY,
            "--otlp-endpoint",
            &format!("http://{addr}/"),
            "-o",
            file.to_str().unwrap(),
            "--format",
            "perfetto",
        ],
    );
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert_eq!(received.0.lock().unwrap().len(), 1);
    let written: Value = serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
    assert!(written["traceEvents"].is_array());

    // Headers from the environment, as OpenTelemetry exporters read them.
    let o = crate::util::bin()
        .args(["--db", db.to_str().unwrap(), "export", HAPPY])
        .args(["--otlp-endpoint", &format!("http://{addr}")])
        .env("OTEL_EXPORTER_OTLP_HEADERS", "authorization=Basic%20ZW52")
        .output()
        .unwrap();
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let (_, headers) = received.0.lock().unwrap().pop().unwrap();
    assert_eq!(
        headers.get("authorization").and_then(|v| v.to_str().ok()),
        Some("Basic ZW52")
    );

    // An explicit --format writes to standard output besides pushing.
    let o = run(
        &db,
        &[
            "export",
            HAPPY,
            "--otlp-endpoint",
            &format!("http://{addr}"),
            "--format",
            "otlp",
        ],
    );
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert_eq!(received.0.lock().unwrap().len(), 2);
    let pushed = received.0.lock().unwrap().pop().unwrap().0;
    let written: ExportTraceServiceRequest = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(written, pushed);
}

#[test]
fn push_failures_are_one_line_and_exit_2() {
    let (_dir, db) = sample_db();
    let (addr, _) = receiver();
    let one_line = |o: &std::process::Output, needles: &[&str]| {
        assert_eq!(code(o), 2, "{}", stderr(o));
        let err = stderr(o);
        assert_eq!(err.trim_end().lines().count(), 1, "{err}");
        for n in needles {
            assert!(err.contains(n), "{n:?} not in {err}");
        }
        assert!(!err.contains("hunter2"), "{err}");
        assert!(!err.contains("panicked"), "{err}");
    };

    let failing = format!("http://{addr}/failing");
    let o = run(
        &db,
        &[
            "export",
            HAPPY,
            "--otlp-endpoint",
            &failing,
            "--otlp-header",
            "x-api-key=hunter2",
        ],
    );
    one_line(&o, &["500", "collector overloaded", "/failing/v1/traces"]);
    assert!(!stderr(&o).contains("second line"));

    // A port nothing listens on: bind one, then free it.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let o = run(
        &db,
        &[
            "export",
            HAPPY,
            "--otlp-endpoint",
            &format!("http://127.0.0.1:{port}"),
        ],
    );
    one_line(&o, &["cannot connect", &format!("127.0.0.1:{port}")]);

    let silent = format!("http://{addr}/silent");
    let o = run(
        &db,
        &[
            "export",
            HAPPY,
            "--otlp-endpoint",
            &silent,
            "--otlp-timeout",
            "300ms",
        ],
    );
    one_line(&o, &["no answer from the collector within 300ms"]);

    let o = run(&db, &["export", HAPPY, "--otlp-endpoint", "localhost:4318"]);
    one_line(&o, &["--otlp-endpoint localhost:4318"]);

    let o = run(
        &db,
        &[
            "export",
            HAPPY,
            "--otlp-endpoint",
            &failing,
            "--otlp-header",
            "hunter2",
        ],
    );
    one_line(&o, &["--otlp-header", "KEY=VALUE"]);
}

#[test]
fn otlp_names_the_agent_and_model_from_the_session_object() {
    let (dir, db) = sample_db();
    let object = dir.path().join(format!("object.{HAPPY}.json"));
    let text = format!(
        r#"{{"type":"session","id":"{HAPPY}","status":"idle","title":"Fix CI",
        "agent":{{"type":"agent","id":"agent_011CZkYpogX7uDKUyvBTophP","version":3,
        "name":"Test triager","model":{{"id":"claude-sonnet-4-6","speed":"standard"}}}}}}"#
    );
    std::fs::write(&object, text).unwrap();
    let o = run(&db, &["import", object.to_str().unwrap()]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));

    let req: ExportTraceServiceRequest = serde_json::from_str(&export(&db, HAPPY, "otlp")).unwrap();
    let all = otlp_spans(&req);
    let root = all[0];
    assert_eq!(root.name, "invoke_agent Test triager");
    assert_eq!(
        text_attr(root, "gen_ai.agent.id"),
        Some("agent_011CZkYpogX7uDKUyvBTophP")
    );
    assert_eq!(text_attr(root, "gen_ai.agent.name"), Some("Test triager"));
    let chats: Vec<&&OtelSpan> = all
        .iter()
        .filter(|s| text_attr(s, "gen_ai.operation.name") == Some("chat"))
        .collect();
    assert_eq!(chats.len(), 5);
    for c in chats {
        assert_eq!(c.name, "chat claude-sonnet-4-6");
        assert_eq!(
            text_attr(c, "gen_ai.request.model"),
            Some("claude-sonnet-4-6")
        );
    }
}
