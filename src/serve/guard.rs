//! What `serve` accepts from the network, as pure checks: the `Host` a request names (a page on
//! another site that rebinds its DNS name to 127.0.0.1 reaches us with its own name in `Host`,
//! so a name we do not know is refused), and whether an address may be served without a key.

use std::net::{IpAddr, SocketAddr};

/// Why `serve` will not start.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Exposure {
    #[error(
        "the API key is empty (--api-key or FLIGHTREC_SERVE_API_KEY): give a key, or set neither"
    )]
    EmptyKey,
    #[error(
        "refusing to serve {0} without an API key: anyone who can reach it could read every session; set FLIGHTREC_SERVE_API_KEY (or --api-key), or listen on 127.0.0.1"
    )]
    OpenToTheNetwork(SocketAddr),
}

/// A key, when given, must hold something; an address other than loopback needs a key.
pub fn check_exposure(addr: SocketAddr, key: Option<&str>) -> Result<(), Exposure> {
    match key {
        Some(k) if k.trim().is_empty() => Err(Exposure::EmptyKey),
        None if !addr.ip().is_loopback() => Err(Exposure::OpenToTheNetwork(addr)),
        _ => Ok(()),
    }
}

/// The name part of a `Host` value: `[::1]:8787` → `::1`, `localhost:8787` → `localhost`,
/// lowercased, without a trailing dot.
fn host_name(host: &str) -> String {
    let host = host.trim();
    let name = match host.strip_prefix('[') {
        Some(rest) => rest.split(']').next().unwrap_or(rest),
        None => match host.rsplit_once(':') {
            Some((name, port)) if port.bytes().all(|b| b.is_ascii_digit()) => name,
            _ => host,
        },
    };
    name.trim_end_matches('.').to_ascii_lowercase()
}

/// Whether a request naming `host` is for us: a loopback name or address, the address we are
/// bound to (any address when bound to all of them), or a name given with `--allow-host` (`*`
/// allows any). No `Host` at all is refused: HTTP/1.1 requires one.
pub fn host_allowed(host: Option<&str>, bound: IpAddr, allowed: &[String]) -> bool {
    let Some(host) = host else {
        return false;
    };
    let name = host_name(host);
    if name == "localhost" || name.ends_with(".localhost") {
        return true;
    }
    if let Ok(ip) = name.parse::<IpAddr>()
        && (ip.is_loopback() || ip == bound || bound.is_unspecified())
    {
        return true;
    }
    allowed.iter().any(|a| a == "*" || host_name(a) == name)
}

#[cfg(test)]
mod tests {
    use super::*;

    const LOOPBACK: IpAddr = IpAddr::V4(std::net::Ipv4Addr::LOCALHOST);

    #[test]
    fn hosts_are_loopback_names_the_bound_address_or_allowed_names() {
        let ok = |h: &str| host_allowed(Some(h), LOOPBACK, &["Flightrec.Test".into()]);
        for h in [
            "127.0.0.1:8787",
            "127.0.0.1",
            "127.0.0.2:1",
            "localhost:8787",
            "LOCALHOST.",
            "app.localhost:8787",
            "[::1]:8787",
            "[::1]",
            "flightrec.test:9",
        ] {
            assert!(ok(h), "{h}");
        }
        for h in [
            "attacker.example:8787",
            "localhost.attacker.example",
            "127.0.0.1.nip.io:8787",
            "10.0.0.5:8787",
            "",
            "[::2]:8787",
        ] {
            assert!(!ok(h), "{h}");
        }
        assert!(!host_allowed(None, LOOPBACK, &[]));
        assert!(host_allowed(Some("anything:1"), LOOPBACK, &["*".into()]));
        let lan: IpAddr = "10.0.0.5".parse().unwrap();
        assert!(host_allowed(Some("10.0.0.5:8787"), lan, &[]));
        let all: IpAddr = "0.0.0.0".parse().unwrap();
        assert!(host_allowed(Some("192.168.1.9:8787"), all, &[]));
        assert!(!host_allowed(Some("evil.example"), all, &[]));
    }

    #[test]
    fn exposure_needs_a_non_empty_key_off_loopback() {
        let at = |s: &str| s.parse::<SocketAddr>().unwrap();
        assert_eq!(check_exposure(at("127.0.0.1:0"), None), Ok(()));
        assert_eq!(check_exposure(at("[::1]:0"), None), Ok(()));
        assert_eq!(check_exposure(at("0.0.0.0:8787"), Some("k")), Ok(()));
        assert!(matches!(
            check_exposure(at("0.0.0.0:8787"), None),
            Err(Exposure::OpenToTheNetwork(_))
        ));
        assert_eq!(
            check_exposure(at("127.0.0.1:0"), Some(" ")),
            Err(Exposure::EmptyKey)
        );
    }
}
