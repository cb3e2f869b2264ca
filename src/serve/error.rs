//! API errors, request ids and authentication: what every response goes through.
//!
//! Handlers return [`ApiError`]; the middleware renders it as the API's error body
//! (`{"type":"error","error":{…},"request_id":"req_…"}`) with the same id in the `request-id`
//! header, which every response carries.

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use std::sync::Arc;

use super::{App, guard};
use crate::store::StoreError;

/// An error response: status, `error.type`, message and any extra headers.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{kind}: {message}")]
pub struct ApiError {
    pub status: StatusCode,
    pub kind: &'static str,
    pub message: String,
    pub headers: Vec<(&'static str, &'static str)>,
    /// What went wrong inside (paths, SQLite's words): written to the server's log under the
    /// request id, never into the response.
    pub detail: Option<String>,
}

impl ApiError {
    pub fn new(status: StatusCode, kind: &'static str, message: impl Into<String>) -> ApiError {
        ApiError {
            status,
            kind,
            message: message.into(),
            headers: Vec::new(),
            detail: None,
        }
    }

    pub fn invalid(message: impl Into<String>) -> ApiError {
        Self::new(StatusCode::BAD_REQUEST, "invalid_request_error", message)
    }

    pub fn not_found(message: impl Into<String>) -> ApiError {
        Self::new(StatusCode::NOT_FOUND, "not_found_error", message)
    }

    pub fn internal(message: impl Into<String>) -> ApiError {
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, "api_error", message)
    }

    /// A failure inside the server: the client learns only that, and the request id to find
    /// `detail` by in the server's log.
    pub fn hidden(detail: impl Into<String>) -> ApiError {
        let mut e = Self::internal(
            "internal server error (the server's log has the details under this request id)",
        );
        e.detail = Some(detail.into());
        e
    }

    pub fn with_header(mut self, name: &'static str, value: &'static str) -> ApiError {
        self.headers.push((name, value));
        self
    }

    /// The JSON body, with the request id.
    pub fn body(&self, request_id: &str) -> String {
        let text = |s: &str| serde_json::Value::from(s).to_string();
        format!(
            "{{\"type\":\"error\",\"error\":{{\"type\":{},\"message\":{}}},\"request_id\":{}}}",
            text(self.kind),
            text(&self.message),
            text(request_id)
        )
    }

    fn render(&self, request_id: &str) -> Response {
        let mut res = (self.status, self.body(request_id)).into_response();
        let h = res.headers_mut();
        h.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        for (name, value) in &self.headers {
            h.insert(*name, HeaderValue::from_static(value));
        }
        res
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> ApiError {
        ApiError::hidden(e.to_string())
    }
}

/// Carried in the response's extensions until the middleware renders it with the request id.
impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut res = Response::new(Body::empty());
        *res.status_mut() = self.status;
        res.extensions_mut().insert(self);
        res
    }
}

/// `req_` and 24 base62 characters, like the API's.
pub(super) fn request_id() -> String {
    const ALPHABET: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    let mut id = String::from("req_011C");
    for _ in 0..20 {
        id.push(char::from(ALPHABET[fastrand::usize(..ALPHABET.len())]));
    }
    id
}

/// Whether the request carries the key (as `Authorization: Bearer` or `x-api-key`). With no key
/// configured, anything goes.
fn authorized(expected: Option<&str>, headers: &HeaderMap) -> bool {
    let Some(expected) = expected else {
        return true;
    };
    let bearer = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    let api_key = headers.get("x-api-key").and_then(|v| v.to_str().ok());
    [bearer, api_key]
        .into_iter()
        .flatten()
        .any(|given| same(given.trim().as_bytes(), expected.as_bytes()))
}

/// Compares without stopping at the first difference.
fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// The `Host` the request names: the header, else the request target's authority.
fn host_of(req: &Request) -> Option<&str> {
    req.headers()
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .or_else(|| req.uri().authority().map(|a| a.as_str()))
}

/// Writes a hidden failure's detail to the server's log (stderr), under its request id.
pub(super) fn log_detail(err: &ApiError, request_id: &str) {
    if let Some(detail) = &err.detail {
        eprintln!("flightrec serve: {request_id}: {detail}");
    }
}

/// The `Host` check, authentication, the request id, and error rendering.
pub async fn middleware(State(app): State<Arc<App>>, req: Request, next: Next) -> Response {
    let id = request_id();
    let host = host_of(&req);
    let mut res = if !guard::host_allowed(host, app.bound.ip(), &app.opts.allow_hosts) {
        let shown = host.map_or_else(|| "no Host header".to_string(), |h| format!("Host {h:?}"));
        ApiError::new(
            StatusCode::MISDIRECTED_REQUEST,
            "invalid_request_error",
            format!(
                "this server does not answer for {shown}: only loopback names and the address it listens on (serve --allow-host NAME adds a name)"
            ),
        )
        .into_response()
    } else if authorized(app.opts.api_key.as_deref(), req.headers()) {
        next.run(req).await
    } else {
        ApiError::new(
            StatusCode::UNAUTHORIZED,
            "authentication_error",
            "invalid x-api-key",
        )
        .into_response()
    };
    if let Some(err) = res.extensions_mut().remove::<ApiError>() {
        log_detail(&err, &id);
        res = err.render(&id);
    }
    if let Ok(v) = HeaderValue::from_str(&id) {
        res.headers_mut().insert("request-id", v);
    }
    res
}

/// Unknown paths.
pub async fn not_found() -> ApiError {
    ApiError::not_found("no such endpoint")
}

/// Known paths with another method.
pub async fn method_not_allowed() -> ApiError {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "invalid_request_error",
        "this replay server only serves GET requests",
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_accepted_from_either_header() {
        let mut h = HeaderMap::new();
        assert!(authorized(None, &h));
        assert!(!authorized(Some("k1"), &h));
        h.insert("x-api-key", HeaderValue::from_static("k1"));
        assert!(authorized(Some("k1"), &h));
        assert!(!authorized(Some("k2"), &h));
        let mut h = HeaderMap::new();
        h.insert(header::AUTHORIZATION, HeaderValue::from_static("Bearer k1"));
        assert!(authorized(Some("k1"), &h));
        assert!(!authorized(Some("k10"), &h));
    }

    #[test]
    fn request_ids_look_like_the_apis() {
        let id = request_id();
        assert!(id.starts_with("req_") && id.len() == 4 + 24, "{id}");
    }
}
