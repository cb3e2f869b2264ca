//! The Managed Agents API client: the requests a recorder makes, sent as the newest official SDK
//! (2.12.0) sends them, and the answers kept as received.
//!
//! Event texts from list pages are the exact bytes of the page (via `RawValue`); stream frames come
//! through `eventsource-stream` after a UTF-8 check, with a watchdog on bytes (pings and comments
//! count) rather than on frames. Redirects are followed only within the base URL's origin
//! (`source::redirect`), so the key never goes anywhere else.

use bytes::Bytes;
use eventsource_stream::{EventStream, EventStreamError};
use futures_util::{Stream, StreamExt, stream};
use reqwest::header::{HeaderMap, HeaderValue};
use serde::Deserialize;
use serde_json::value::RawValue;
use std::pin::Pin;
use std::time::Duration;

use super::SseFrame;
use super::redirect;

pub const DEFAULT_BASE_URL: &str = "https://api.anthropic.com";
pub const BETA: &str = "managed-agents-2026-04-01";
pub const VERSION_NEW: &str = "2026-10-21";

/// How the API key travels: 2.12.0 sends `Authorization: Bearer`; older SDKs and some gateways
/// want `x-api-key`. Never both.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthStyle {
    Bearer,
    XApiKey,
}

#[derive(Clone)]
pub struct ApiConfig {
    pub base_url: String,
    pub api_key: Option<String>,
    pub auth_style: AuthStyle,
    pub version: String,
}

impl std::fmt::Debug for ApiConfig {
    // The key is never printed, not even in debug output.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ApiConfig")
            .field("base_url", &self.base_url)
            .field("api_key", &self.api_key.as_ref().map(|_| "<redacted>"))
            .field("auth_style", &self.auth_style)
            .field("version", &self.version)
            .finish()
    }
}

/// A failed request, classified the way the SDK's runner classifies it.
#[derive(Debug, Clone, thiserror::Error)]
pub enum ApiError {
    #[error("{url}: HTTP {status} {error_type}: {message}{}", request_id.as_deref().map(|r| format!(" (request {r})")).unwrap_or_default())]
    Http {
        url: String,
        status: u16,
        error_type: String,
        message: String,
        request_id: Option<String>,
        /// `retry-after-ms` / `retry-after`, capped at 60 s.
        retry_after: Option<Duration>,
        /// `x-should-retry`, when the server said.
        should_retry: Option<bool>,
    },
    #[error("{url}: {message}")]
    Transport { url: String, message: String },
    #[error("{url}: unexpected answer: {message}")]
    Decode { url: String, message: String },
    /// A redirect off the base URL's origin, refused so the key does not follow it.
    #[error("{url}: {message}")]
    Redirected { url: String, message: String },
}

impl ApiError {
    /// No backoff will fix it: 4xx other than 408, 409 and 429, unless the server says retry.
    pub fn is_fatal(&self) -> bool {
        match self {
            ApiError::Http {
                status,
                should_retry,
                ..
            } => match should_retry {
                Some(retry) => !retry,
                None => (400..500).contains(status) && !matches!(status, 408 | 409 | 429),
            },
            ApiError::Transport { .. } => false,
            ApiError::Decode { .. } => false,
            ApiError::Redirected { .. } => true,
        }
    }

    pub fn status(&self) -> Option<u16> {
        match self {
            ApiError::Http { status, .. } => Some(*status),
            _ => None,
        }
    }

    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            ApiError::Http { retry_after, .. } => *retry_after,
            _ => None,
        }
    }
}

/// One page of a list endpoint: each item's JSON text exactly as in the page.
#[derive(Debug, Clone, PartialEq)]
pub struct Page {
    pub items: Vec<String>,
    pub next_page: Option<String>,
}

#[derive(Deserialize)]
struct RawPage<'a> {
    #[serde(borrow, default)]
    data: Vec<&'a RawValue>,
    #[serde(default)]
    next_page: Option<String>,
}

/// Filters for `GET …/events`.
#[derive(Debug, Clone, Default)]
pub struct EventFilter {
    pub created_at_gte: Option<String>,
    pub types: Vec<String>,
    pub limit: Option<u32>,
}

/// What ended a stream read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StreamEnd {
    #[error("no bytes for {0:?} (watchdog)")]
    Idle(Duration),
    #[error("connection error: {0}")]
    Transport(String),
    #[error("invalid UTF-8 in the stream")]
    NotText,
    #[error("SSE decoding failed: {0}")]
    Decoder(String),
}

pub type FrameStream = Pin<Box<dyn Stream<Item = Result<SseFrame, StreamEnd>> + Send>>;

#[derive(Clone)]
pub struct ApiClient {
    http: reqwest::Client,
    cfg: ApiConfig,
}

impl ApiClient {
    pub fn new(cfg: ApiConfig) -> Result<ApiClient, ApiError> {
        let mut headers = HeaderMap::new();
        headers.insert("anthropic-beta", HeaderValue::from_static(BETA));
        let version = HeaderValue::from_str(&cfg.version).map_err(|e| ApiError::Decode {
            url: cfg.base_url.clone(),
            message: format!("bad anthropic-version: {e}"),
        })?;
        headers.insert("anthropic-version", version);
        headers.insert("accept", HeaderValue::from_static("application/json"));
        if let Some(key) = &cfg.api_key {
            let (name, value) = match cfg.auth_style {
                AuthStyle::Bearer => ("authorization", format!("Bearer {key}")),
                AuthStyle::XApiKey => ("x-api-key", key.clone()),
            };
            let mut value = HeaderValue::from_str(&value).map_err(|_| ApiError::Decode {
                url: cfg.base_url.clone(),
                message: "the API key holds characters that cannot go in a header".into(),
            })?;
            value.set_sensitive(true);
            headers.insert(name, value);
        }
        let http = reqwest::Client::builder()
            .user_agent(concat!("flightrec/", env!("CARGO_PKG_VERSION")))
            .default_headers(headers)
            .redirect(super::redirect::same_origin_only())
            .connect_timeout(Duration::from_secs(5))
            .build()
            .map_err(|e| ApiError::Transport {
                url: cfg.base_url.clone(),
                message: e.to_string(),
            })?;
        Ok(ApiClient { http, cfg })
    }

    fn url(&self, path: &str) -> String {
        format!("{}{}", self.cfg.base_url.trim_end_matches('/'), path)
    }

    fn events_path(session: &str, thread: &str) -> String {
        if thread.is_empty() {
            format!("/v1/sessions/{session}/events")
        } else {
            format!("/v1/sessions/{session}/threads/{thread}/events")
        }
    }

    /// `GET /v1/sessions/{id}`: the session object as received.
    pub async fn get_session(&self, session: &str) -> Result<String, ApiError> {
        let url = self.url(&format!("/v1/sessions/{session}"));
        let resp = self.send(self.http.get(&url), &url).await?;
        resp.text().await.map_err(|e| ApiError::Transport {
            url,
            message: e.to_string(),
        })
    }

    /// `GET /v1/deployment_runs/{id}`: the run object as text.
    pub async fn get_deployment_run(&self, run: &str) -> Result<String, ApiError> {
        let url = self.url(&format!("/v1/deployment_runs/{run}"));
        let resp = self.send(self.http.get(&url), &url).await?;
        resp.text().await.map_err(|e| ApiError::Transport {
            url,
            message: e.to_string(),
        })
    }

    /// One page of `GET /v1/sessions` (newest first), filtered by status.
    pub async fn list_sessions(
        &self,
        statuses: &[&str],
        page: Option<&str>,
    ) -> Result<Page, ApiError> {
        let url = self.url("/v1/sessions");
        let mut q: Vec<(&str, &str)> = statuses.iter().map(|s| ("statuses[]", *s)).collect();
        q.push(("limit", "100"));
        if let Some(p) = page {
            q.push(("page", p));
        }
        self.get_page(&url, &q).await
    }

    /// One page of a session's (or a thread's) event log. Thread logs take only limit and page.
    pub async fn list_events(
        &self,
        session: &str,
        thread: &str,
        filter: &EventFilter,
        page: Option<&str>,
    ) -> Result<Page, ApiError> {
        let url = self.url(&Self::events_path(session, thread));
        let limit = filter.limit.unwrap_or(1000).to_string();
        let mut q: Vec<(&str, &str)> = vec![("limit", &limit)];
        if thread.is_empty() {
            if let Some(t) = &filter.created_at_gte {
                q.push(("created_at[gte]", t));
            }
            q.extend(filter.types.iter().map(|t| ("types[]", t.as_str())));
        }
        if let Some(p) = page {
            q.push(("page", p));
        }
        self.get_page(&url, &q).await
    }

    /// One page of `GET /v1/sessions/{id}/threads`.
    pub async fn list_threads(&self, session: &str, page: Option<&str>) -> Result<Page, ApiError> {
        let url = self.url(&format!("/v1/sessions/{session}/threads"));
        let mut q = vec![("limit", "1000")];
        if let Some(p) = page {
            q.push(("page", p));
        }
        self.get_page(&url, &q).await
    }

    /// `POST /v1/sessions/{id}/events` with `{"events": events}` (§1.7): returns the echoed
    /// events (the `data` of the answer), each text as received, and the answer's status. The
    /// events are JSON objects; the key travels in the client's default headers only.
    pub async fn send_events(
        &self,
        session: &str,
        events: &[&RawValue],
    ) -> Result<(u16, Vec<String>), ApiError> {
        let url = self.url(&Self::events_path(session, ""));
        let body = serde_json::json!({ "events": events }).to_string();
        let req = self
            .http
            .post(&url)
            .header("content-type", "application/json")
            .body(body);
        let resp = self.send(req, &url).await?;
        let status = resp.status().as_u16();
        let page = self.read_page(resp, &url).await?;
        Ok((status, page.items))
    }

    async fn get_page(&self, url: &str, query: &[(&str, &str)]) -> Result<Page, ApiError> {
        let resp = self.send(self.http.get(url).query(query), url).await?;
        self.read_page(resp, url).await
    }

    /// A `{"data":[…]}` answer's items, each the exact text of the answer.
    async fn read_page(&self, resp: reqwest::Response, url: &str) -> Result<Page, ApiError> {
        let body = resp.bytes().await.map_err(|e| ApiError::Transport {
            url: url.to_string(),
            message: e.to_string(),
        })?;
        let text = std::str::from_utf8(&body).map_err(|e| ApiError::Decode {
            url: url.to_string(),
            message: format!("page is not UTF-8: {e}"),
        })?;
        let page: RawPage<'_> = serde_json::from_str(text).map_err(|e| ApiError::Decode {
            url: url.to_string(),
            message: format!("page is not a page: {e}"),
        })?;
        Ok(Page {
            items: page.data.iter().map(|r| r.get().to_string()).collect(),
            next_page: page.next_page.filter(|p| !p.is_empty()),
        })
    }

    /// Opens the session's (or a thread's) SSE stream; errors before the stream opens come back as
    /// [`ApiError`]. Frames then arrive on the returned stream until it ends.
    pub async fn open_stream(
        &self,
        session: &str,
        thread: &str,
        deltas: bool,
        idle_timeout: Duration,
    ) -> Result<FrameStream, ApiError> {
        let path = if thread.is_empty() {
            format!("/v1/sessions/{session}/events/stream")
        } else {
            format!("/v1/sessions/{session}/threads/{thread}/stream")
        };
        let url = self.url(&path);
        let mut req = self.http.get(&url);
        if deltas {
            req = req.query(&[
                ("event_deltas[]", "agent.message"),
                ("event_deltas[]", "agent.thinking"),
            ]);
        }
        let resp = self.send(req, &url).await?;
        Ok(frames(resp.bytes_stream(), idle_timeout))
    }

    async fn send(
        &self,
        req: reqwest::RequestBuilder,
        url: &str,
    ) -> Result<reqwest::Response, ApiError> {
        let resp = req
            .send()
            .await
            .map_err(|e| match redirect::cross_origin(&e) {
                Some(refused) => ApiError::Redirected {
                    url: url.to_string(),
                    message: refused.to_string(),
                },
                None => ApiError::Transport {
                    url: url.to_string(),
                    message: transport_message(&e),
                },
            })?;
        if resp.status().is_success() {
            return Ok(resp);
        }
        Err(http_error(url, resp).await)
    }
}

fn transport_message(e: &reqwest::Error) -> String {
    let mut msg = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        msg.push_str(": ");
        msg.push_str(&s.to_string());
        source = s.source();
    }
    msg
}

async fn http_error(url: &str, resp: reqwest::Response) -> ApiError {
    let status = resp.status().as_u16();
    let h = resp.headers();
    let header = |n: &str| h.get(n).and_then(|v| v.to_str().ok()).map(str::to_string);
    let retry_after = header("retry-after-ms")
        .and_then(|v| v.parse::<f64>().ok())
        .map(|ms| ms / 1000.0)
        .or_else(|| header("retry-after").and_then(|v| v.parse::<f64>().ok()))
        .filter(|s| s.is_finite() && *s >= 0.0)
        .map(|s| Duration::from_secs_f64(s.min(60.0)));
    let should_retry = header("x-should-retry").map(|v| v == "true");
    let header_request_id = header("request-id");
    let body = resp.text().await.unwrap_or_default();
    let parsed: Option<serde_json::Value> = serde_json::from_str(&body).ok();
    let field = |k: &str| {
        parsed
            .as_ref()
            .and_then(|v| v.get("error"))
            .and_then(|e| e.get(k))
            .and_then(|x| x.as_str())
            .map(str::to_string)
    };
    ApiError::Http {
        url: url.to_string(),
        status,
        error_type: field("type").unwrap_or_else(|| "http_error".into()),
        message: field("message").unwrap_or_else(|| crate::model::text::excerpt(&body, 200)),
        request_id: parsed
            .as_ref()
            .and_then(|v| v.get("request_id"))
            .and_then(|x| x.as_str())
            .map(str::to_string)
            .or(header_request_id),
        retry_after,
        should_retry,
    }
}

/// Bytes → checked UTF-8 chunks → SSE frames, with a watchdog on bytes.
fn frames<S>(bytes: S, idle: Duration) -> FrameStream
where
    S: Stream<Item = Result<Bytes, reqwest::Error>> + Send + Unpin + 'static,
{
    let timed = stream::unfold((bytes, false), move |(mut s, done)| async move {
        if done {
            return None;
        }
        match tokio::time::timeout(idle, s.next()).await {
            Ok(Some(Ok(b))) => Some((Ok(b), (s, false))),
            Ok(Some(Err(e))) => Some((Err(StreamEnd::Transport(transport_message(&e))), (s, true))),
            Ok(None) => None,
            Err(_) => Some((Err(StreamEnd::Idle(idle)), (s, true))),
        }
    });
    let mut carry: Vec<u8> = Vec::new();
    let mut started = false;
    let checked = timed.map(move |chunk| {
        let chunk = chunk?;
        let mut buf = std::mem::take(&mut carry);
        buf.extend_from_slice(&chunk);
        let mut buf = match std::str::from_utf8(&buf) {
            Ok(_) => buf,
            Err(e) if e.error_len().is_none() => {
                carry = buf.split_off(e.valid_up_to());
                buf
            }
            Err(_) => return Err(StreamEnd::NotText),
        };
        // A byte-order mark first would panic eventsource-stream 0.2.3: one is dropped here (as
        // the spec says), and a blank line (which dispatches nothing) leads, so that a second
        // mark is not first either.
        if !started && !buf.is_empty() {
            started = true;
            if buf.starts_with(super::sse::BOM) {
                buf.drain(..super::sse::BOM.len());
            }
            buf.insert(0, b'\n');
        }
        Ok(buf)
    });
    let events = EventStream::new(Box::pin(checked));
    Box::pin(events.map(|r| match r {
        Ok(e) => Ok(SseFrame::from(e)),
        Err(EventStreamError::Transport(e)) => Err(e),
        Err(e) => Err(StreamEnd::Decoder(e.to_string())),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A live stream starting with a byte-order mark panicked inside eventsource-stream 0.2.3
    /// (found by the SSE property tests, `source/props.rs`), also with the mark split in two.
    #[tokio::test]
    async fn live_stream_starting_with_a_byte_order_mark_does_not_panic() {
        for chunks in [
            vec![&b"\xEF\xBB\xBFdata: {}\n\n"[..]],
            vec![b"\xEF\xBB", b"\xBFdata: {}\n\n"],
            vec![b"\xEF\xBB\xBF\xEF\xBB\xBF\n", b"data: {}\n\n"],
        ] {
            let bytes = stream::iter(chunks.into_iter().map(|c| Ok(Bytes::from_static(c))));
            let got: Vec<_> = frames(bytes, Duration::from_secs(5)).collect().await;
            assert_eq!(got.len(), 1, "{got:?}");
            assert!(matches!(&got[0], Ok(f) if f.data == "{}"), "{got:?}");
        }
    }
}
