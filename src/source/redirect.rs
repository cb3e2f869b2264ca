//! Redirects for clients that carry a credential (the API key, OTLP headers): followed within
//! the origin the credential was given for (scheme, host and port), refused off it, so a key is
//! never sent to a server it was not given for. reqwest's own policy drops only `Authorization`
//! and cookies on a change of host, and keeps `x-api-key` and any custom header.

use reqwest::Url;
use reqwest::redirect::{Attempt, Policy};

/// Redirects followed within one origin before giving up (reqwest's default limit).
const MAX_REDIRECTS: usize = 10;

/// A redirect that left the origin: not followed.
#[derive(Debug, thiserror::Error)]
#[error(
    "redirected to another origin ({to}); not following it with the credentials given for {from}"
)]
pub struct CrossOrigin {
    pub from: String,
    pub to: String,
}

/// Follows same-origin redirects (up to 10), refuses any other.
pub fn same_origin_only() -> Policy {
    Policy::custom(|attempt: Attempt<'_>| {
        let Some(first) = attempt.previous().first() else {
            return attempt.follow();
        };
        if first.origin() != attempt.url().origin() {
            let err = CrossOrigin {
                from: origin_text(first),
                to: attempt.url().to_string(),
            };
            return attempt.error(err);
        }
        if attempt.previous().len() > MAX_REDIRECTS {
            return attempt.error("too many redirects");
        }
        attempt.follow()
    })
}

/// `scheme://host:port` of a URL.
fn origin_text(u: &Url) -> String {
    u.origin().ascii_serialization()
}

/// The refused redirect behind a request error, if that is what it was.
pub fn cross_origin(e: &reqwest::Error) -> Option<&CrossOrigin> {
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        if let Some(c) = s.downcast_ref::<CrossOrigin>() {
            return Some(c);
        }
        source = s.source();
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origins_compare_scheme_host_and_port() {
        let u = |s: &str| Url::parse(s).unwrap();
        let same = |a: &str, b: &str| u(a).origin() == u(b).origin();
        assert!(same("http://127.0.0.1:80/a", "http://127.0.0.1/b?x=1"));
        assert!(!same("http://127.0.0.1:8001/", "http://127.0.0.1:8002/"));
        assert!(!same("https://api.example/", "http://api.example/"));
        assert!(!same("http://localhost:1/", "http://127.0.0.1:1/"));
        assert_eq!(
            origin_text(&u("http://127.0.0.1:9/x")),
            "http://127.0.0.1:9"
        );
    }
}
