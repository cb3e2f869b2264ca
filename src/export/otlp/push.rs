//! Pushing a trace to an OpenTelemetry collector over OTLP/HTTP (protobuf body, `POST
//! {endpoint}/v1/traces`), for Jaeger, Tempo, Phoenix, Langfuse and anything else that speaks
//! OTLP. Header values (API keys of hosted backends) are marked sensitive and never appear in
//! an error message, and never follow a redirect to another origin (`source::redirect`).

use std::time::Duration;

use reqwest::Url;
use reqwest::header::{CONTENT_TYPE, HeaderMap, HeaderName, HeaderValue};

/// Why a push did not land.
#[derive(Debug, thiserror::Error)]
pub enum PushError {
    #[error("--otlp-endpoint {0}: {1}")]
    BadEndpoint(String, String),
    #[error("--otlp-header {0}: {1}")]
    BadHeader(String, &'static str),
    #[error("{url}: cannot connect to the collector: {message}")]
    Connect { url: String, message: String },
    #[error("{url}: no answer from the collector within {after}")]
    Timeout { url: String, after: String },
    #[error("{url}: the collector answered {status}: {body}")]
    Refused {
        url: String,
        status: u16,
        body: String,
    },
    #[error("{url}: {message}")]
    Transport { url: String, message: String },
}

impl PushError {
    /// Whether the same request may land later: the collector unreachable, slow, overloaded
    /// (5xx) or throttling (429). Any other refusal would be refused again.
    pub fn is_retryable(&self) -> bool {
        match self {
            PushError::Connect { .. } | PushError::Timeout { .. } | PushError::Transport { .. } => {
                true
            }
            PushError::Refused { status, .. } => *status >= 500 || *status == 429,
            PushError::BadEndpoint(..) | PushError::BadHeader(..) => false,
        }
    }
}

/// Where and how to push.
#[derive(Debug, Clone)]
pub struct PushTarget {
    url: Url,
    headers: HeaderMap,
    timeout: Duration,
}

impl PushTarget {
    /// `endpoint` is the collector's base URL (`http://host:4318`) or its traces URL (ending in
    /// `/v1/traces`); `headers` are `KEY=VALUE` pairs sent with the request. `env_headers` is
    /// the value of `OTEL_EXPORTER_OTLP_HEADERS` (`k1=v1,k2=v2`, values percent-encoded), as
    /// the OpenTelemetry exporters read it; a key given in `headers` replaces it there.
    pub fn new(
        endpoint: &str,
        env_headers: Option<&str>,
        headers: &[String],
        timeout: Duration,
    ) -> Result<PushTarget, PushError> {
        let mut map = match env_headers {
            Some(v) => env_header_map(v)?,
            None => HeaderMap::new(),
        };
        let given = parse_headers(headers)?;
        for name in given.keys() {
            map.remove(name);
        }
        map.extend(given);
        Ok(PushTarget {
            url: traces_url(endpoint)?,
            headers: map,
            timeout,
        })
    }

    /// The URL the request goes to.
    pub fn url(&self) -> &str {
        self.url.as_str()
    }

    /// The collector's traces URL without user info, query or fragment: what the pushes of
    /// `watch --otlp-endpoint` are remembered under, so no credential reaches the database.
    pub fn endpoint_key(&self) -> String {
        let mut u = self.url.clone();
        let _ = u.set_username("");
        let _ = u.set_password(None);
        u.set_query(None);
        u.set_fragment(None);
        u.to_string()
    }

    /// POSTs `body` (an encoded `ExportTraceServiceRequest`), waiting for the answer.
    pub fn push(&self, body: Vec<u8>) -> Result<(), PushError> {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| self.transport(e.to_string()))?;
        rt.block_on(async {
            let client = self.client()?;
            self.send(&client, body).await
        })
    }

    /// An HTTP client for pushes to this target (one connection pool for many pushes).
    pub fn client(&self) -> Result<reqwest::Client, PushError> {
        reqwest::Client::builder()
            .user_agent(concat!("flightrec/", env!("CARGO_PKG_VERSION")))
            .connect_timeout(self.timeout.min(Duration::from_secs(10)))
            .timeout(self.timeout)
            .redirect(crate::source::redirect::same_origin_only())
            .build()
            .map_err(|e| self.transport(e.to_string()))
    }

    /// POSTs `body` with `client` (from [`PushTarget::client`]).
    pub async fn send(&self, client: &reqwest::Client, body: Vec<u8>) -> Result<(), PushError> {
        let url = self.url.as_str().to_string();
        let resp = client
            .post(self.url.clone())
            .headers(self.headers.clone())
            .header(CONTENT_TYPE, "application/x-protobuf")
            .body(body)
            .send()
            .await
            .map_err(|e| self.classify(e))?;
        let status = resp.status();
        if status.is_success() {
            return Ok(());
        }
        let text = resp.text().await.unwrap_or_default();
        let first = text.lines().map(str::trim).find(|l| !l.is_empty());
        Err(PushError::Refused {
            url,
            status: status.as_u16(),
            body: match first {
                Some(line) => crate::analysis::text::excerpt(line, 200),
                None => status.canonical_reason().unwrap_or("no body").to_string(),
            },
        })
    }

    fn transport(&self, message: String) -> PushError {
        PushError::Transport {
            url: self.url.to_string(),
            message,
        }
    }

    fn classify(&self, e: reqwest::Error) -> PushError {
        let url = self.url.to_string();
        if let Some(refused) = crate::source::redirect::cross_origin(&e) {
            PushError::Transport {
                url,
                message: refused.to_string(),
            }
        } else if e.is_timeout() {
            PushError::Timeout {
                url,
                after: format!("{:?}", self.timeout),
            }
        } else if e.is_connect() {
            // The innermost cause says what happened ("Connection refused (os error 111)").
            let mut source: &dyn std::error::Error = &e;
            while let Some(s) = source.source() {
                source = s;
            }
            PushError::Connect {
                url,
                message: source.to_string(),
            }
        } else {
            PushError::Transport {
                url,
                message: e.to_string(),
            }
        }
    }
}

/// The traces URL of a collector: `{endpoint}/v1/traces`, unless it already ends so.
pub fn traces_url(endpoint: &str) -> Result<Url, PushError> {
    let bad = |why: &str| PushError::BadEndpoint(endpoint.to_string(), why.to_string());
    let mut url = Url::parse(endpoint.trim()).map_err(|e| bad(&e.to_string()))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(bad("not an http:// or https:// URL"));
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(bad("no host"));
    }
    let path = url.path().trim_end_matches('/').to_string();
    if !path.ends_with("/v1/traces") {
        url.set_path(&format!("{path}/v1/traces"));
    }
    Ok(url)
}

/// `KEY=VALUE` pairs as headers, values marked sensitive. Errors name the key, never the value.
fn parse_headers(pairs: &[String]) -> Result<HeaderMap, PushError> {
    let mut map = HeaderMap::new();
    for pair in pairs {
        let Some((k, v)) = pair.split_once('=') else {
            // No '=': all of it may be a secret, so show none of it.
            return Err(PushError::BadHeader(
                "(value hidden)".into(),
                "expected KEY=VALUE",
            ));
        };
        let key = k.trim();
        let name = HeaderName::from_bytes(key.as_bytes())
            .map_err(|_| PushError::BadHeader(key.to_string(), "not a valid header name"))?;
        let mut value = HeaderValue::from_str(v.trim()).map_err(|_| {
            PushError::BadHeader(key.to_string(), "the value cannot go in a header")
        })?;
        value.set_sensitive(true);
        map.append(name, value);
    }
    Ok(map)
}

/// `OTEL_EXPORTER_OTLP_HEADERS`: comma-separated `key=value` pairs, values percent-encoded.
fn env_header_map(value: &str) -> Result<HeaderMap, PushError> {
    let mut map = HeaderMap::new();
    for pair in value.split(',').filter(|p| !p.trim().is_empty()) {
        let bad = |key: &str, why| {
            PushError::BadHeader(format!("{key} (from OTEL_EXPORTER_OTLP_HEADERS)"), why)
        };
        let Some((k, v)) = pair.split_once('=') else {
            return Err(bad("(value hidden)", "expected key=value"));
        };
        let key = k.trim();
        let decoded = percent_decode(v.trim())
            .ok_or_else(|| bad(key, "the value is not valid percent-encoded UTF-8"))?;
        let name = HeaderName::from_bytes(key.as_bytes())
            .map_err(|_| bad(key, "not a valid header name"))?;
        let mut value = HeaderValue::from_str(&decoded)
            .map_err(|_| bad(key, "the value cannot go in a header"))?;
        value.set_sensitive(true);
        map.append(name, value);
    }
    Ok(map)
}

/// `%XX` escapes decoded (`+` stays `+`, as in W3C Baggage, which the variable's format follows).
fn percent_decode(s: &str) -> Option<String> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            let hex = std::str::from_utf8(b.get(i + 1..i + 3)?).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints_get_the_traces_path_once() {
        let u = |s: &str| traces_url(s).map(|u| u.to_string()).ok();
        let want = Some("http://localhost:4318/v1/traces".to_string());
        assert_eq!(u("http://localhost:4318"), want);
        assert_eq!(u("http://localhost:4318/"), want);
        assert_eq!(u("http://localhost:4318/v1/traces"), want);
        assert_eq!(
            u("https://otlp.example.com/api/public/otel"),
            Some("https://otlp.example.com/api/public/otel/v1/traces".to_string())
        );
        assert!(traces_url("localhost:4318").is_err());
        assert!(traces_url("ftp://x/").is_err());
        assert!(traces_url("not a url").is_err());
    }

    #[test]
    fn env_headers_are_percent_decoded_and_given_ones_win() {
        let t = PushTarget::new(
            "http://localhost:4318",
            Some("Authorization=Basic%20YWJj%3D, x-team = core,x-api-key=old"),
            &["x-api-key=new".into()],
            Duration::from_secs(1),
        )
        .unwrap();
        let h = |k: &str| t.headers.get(k).and_then(|v| v.to_str().ok());
        assert_eq!(h("authorization"), Some("Basic YWJj="));
        assert_eq!(h("x-team"), Some("core"));
        assert_eq!(h("x-api-key"), Some("new"));
        assert_eq!(t.headers.get_all("x-api-key").iter().count(), 1);
        let e = env_header_map("Authorization=Bearer%2xsecret").unwrap_err();
        assert!(e.to_string().contains("OTEL_EXPORTER_OTLP_HEADERS"), "{e}");
        assert!(!e.to_string().contains("secret"), "{e}");
        assert_eq!(percent_decode("a+b%2Cc"), Some("a+b,c".into()));
        assert_eq!(percent_decode("%"), None);
    }

    #[test]
    fn only_what_may_land_later_is_retried() {
        let refused = |status| PushError::Refused {
            url: "u".into(),
            status,
            body: "b".into(),
        };
        for status in [500, 502, 503, 504, 429] {
            assert!(refused(status).is_retryable(), "{status}");
        }
        for status in [400, 401, 403, 404, 413] {
            assert!(!refused(status).is_retryable(), "{status}");
        }
        let connect = PushError::Connect {
            url: "u".into(),
            message: "refused".into(),
        };
        assert!(connect.is_retryable());
        assert!(!PushError::BadHeader("k".into(), "why").is_retryable());
        let t = PushTarget::new(
            "http://user:pw@host:4318/?token=x#f",
            None,
            &[],
            Duration::ZERO,
        );
        assert_eq!(t.unwrap().endpoint_key(), "http://host:4318/v1/traces");
    }

    #[test]
    fn header_errors_never_show_values() {
        let e = parse_headers(&["Authorization=Bearer secret\u{7}x".into()]).unwrap_err();
        assert!(e.to_string().contains("Authorization"), "{e}");
        assert!(!e.to_string().contains("secret"), "{e}");
        let e = parse_headers(&["secret-token".into()]).unwrap_err();
        assert!(!e.to_string().contains("secret"), "{e}");
        let m = parse_headers(&["x-api-key=abc".into(), "A = b=c".into()]).unwrap();
        assert_eq!(m.get("x-api-key").map(|v| v.is_sensitive()), Some(true));
        assert_eq!(m.get("a").and_then(|v| v.to_str().ok()), Some("b=c"));
    }
}
