//! The Standard Webhooks verifier: HMAC-SHA256 over `{id}.{timestamp}.{body}` with the key after
//! `whsec_`, any listed `v1` signature matching (constant-time), the timestamp within five minutes.

use base64::Engine as _;
use base64::engine::DecodePaddingMode;
use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig, STANDARD};
use hmac::{Hmac, Mac};
use sha2::Sha256;

use super::Headers;

/// How far a delivery's `webhook-timestamp` may be from now, either way (the standard's 5 minutes).
pub const SIGNATURE_TOLERANCE_SECS: i64 = 5 * 60;

/// Keys are read padded or not, as the reference libraries read them.
const KEY_BASE64: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// Why a delivery (or a signing key) is refused. The text is short and names nothing secret: it
/// is the body of the 401 and the reason counted in the store.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error("missing header {0}")]
    MissingHeader(&'static str),
    #[error("webhook-timestamp is not a Unix time in seconds")]
    BadTimestamp,
    #[error("webhook-timestamp is more than 5 minutes old")]
    Stale,
    #[error("webhook-timestamp is more than 5 minutes in the future")]
    Future,
    #[error("no valid v1 signature")]
    NoValidSignature,
    #[error("the signing key is not whsec_ followed by base64")]
    BadKey,
}

impl Refusal {
    /// A stable one-word name, for counters and logs.
    pub fn code(&self) -> &'static str {
        match self {
            Refusal::MissingHeader(_) => "missing_header",
            Refusal::BadTimestamp => "bad_timestamp",
            Refusal::Stale => "stale",
            Refusal::Future => "future",
            Refusal::NoValidSignature => "bad_signature",
            Refusal::BadKey => "bad_key",
        }
    }
}

/// A signing key, decoded once.
#[derive(Clone)]
pub struct Verifier {
    key: Vec<u8>,
}

impl std::fmt::Debug for Verifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Verifier { key: <secret> }")
    }
}

impl Verifier {
    /// The key as the platform shows it, `whsec_<base64>` (the prefix may be left out, as the
    /// reference libraries allow). Empty or not base64: [`Refusal::BadKey`].
    pub fn new(secret: &str) -> Result<Verifier, Refusal> {
        let b64 = secret
            .trim()
            .strip_prefix("whsec_")
            .unwrap_or(secret.trim());
        match KEY_BASE64.decode(b64) {
            Ok(key) if !key.is_empty() => Ok(Verifier { key }),
            _ => Err(Refusal::BadKey),
        }
    }

    fn mac(&self, id: &str, timestamp: &str, body: &[u8]) -> Hmac<Sha256> {
        // HMAC takes a key of any length.
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&self.key)
            .unwrap_or_else(|_| unreachable!("HMAC accepts every key length"));
        mac.update(id.as_bytes());
        mac.update(b".");
        mac.update(timestamp.as_bytes());
        mac.update(b".");
        mac.update(body);
        mac
    }

    /// The `webhook-signature` value (`v1,<base64>`) the platform would send: for tests and a
    /// sender.
    pub fn sign(&self, id: &str, timestamp: i64, body: &[u8]) -> String {
        let tag = self.mac(id, &timestamp.to_string(), body).finalize();
        format!("v1,{}", STANDARD.encode(tag.into_bytes()))
    }

    /// Checks a delivery received at `now` (Unix seconds): headers present, timestamp within
    /// [`SIGNATURE_TOLERANCE_SECS`] either way, and any `v1` entry a valid signature of
    /// `{id}.{timestamp}.{body}`. Returns the timestamp.
    pub fn verify(&self, headers: &Headers<'_>, body: &[u8], now: i64) -> Result<i64, Refusal> {
        let id = headers.id.ok_or(Refusal::MissingHeader("webhook-id"))?;
        let ts_text = headers
            .timestamp
            .ok_or(Refusal::MissingHeader("webhook-timestamp"))?;
        let signatures = headers
            .signature
            .ok_or(Refusal::MissingHeader("webhook-signature"))?;
        let ts: i64 = ts_text.trim().parse().map_err(|_| Refusal::BadTimestamp)?;
        if now.saturating_sub(ts) > SIGNATURE_TOLERANCE_SECS {
            return Err(Refusal::Stale);
        }
        if ts.saturating_sub(now) > SIGNATURE_TOLERANCE_SECS {
            return Err(Refusal::Future);
        }
        let mac = self.mac(id, ts_text, body);
        let valid = signatures
            .split(' ')
            .filter_map(|entry| entry.strip_prefix("v1,"))
            .filter_map(|b64| STANDARD.decode(b64).ok())
            // verify_slice compares in constant time.
            .any(|tag| mac.clone().verify_slice(&tag).is_ok());
        if valid {
            Ok(ts)
        } else {
            Err(Refusal::NoValidSignature)
        }
    }
}
