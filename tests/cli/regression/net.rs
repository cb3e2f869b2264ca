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
