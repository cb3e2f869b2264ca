//! Query strings and page cursors.
//!
//! The raw query is decoded here (axum's `Query` cannot take repeated keys): array params arrive
//! as `types[]=a&types%5B%5D=b`, in either spelling. Cursors are opaque to clients: a prefix
//! naming their kind, then hex.

use crate::model::parse_timestamp_micros;
use crate::store::PageQuery;

use super::error::ApiError;

/// The status values a session or thread can have (`statuses[]`).
pub const STATUSES: [&str; 4] = ["rescheduling", "running", "idle", "terminated"];

/// The decoded `name=value` pairs of a query string, in order.
#[derive(Debug, Default)]
pub struct Params(Vec<(String, String)>);

impl Params {
    pub fn parse(query: Option<&str>) -> Params {
        Params(
            form_urlencoded::parse(query.unwrap_or("").as_bytes())
                .into_owned()
                .collect(),
        )
    }

    /// The first value of `key`; an empty value counts as absent.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, v)| k == key && !v.is_empty())
            .map(|(_, v)| v.as_str())
    }

    /// Every value of the array param `name` (`name[]=…`, also accepted without brackets).
    pub fn list(&self, name: &str) -> Vec<String> {
        let bracketed = format!("{name}[]");
        self.0
            .iter()
            .filter(|(k, _)| *k == bracketed || k == name)
            .map(|(_, v)| v.clone())
            .collect()
    }

    /// `limit`, between 1 and `max`.
    pub fn limit(&self, default: u64, max: u64) -> Result<u64, ApiError> {
        let Some(v) = self.get("limit") else {
            return Ok(default);
        };
        match v.parse::<u64>() {
            Ok(n) if (1..=max).contains(&n) => Ok(n),
            _ => Err(ApiError::invalid(format!(
                "limit: expected an integer from 1 to {max}, got {v:?}"
            ))),
        }
    }

    /// `order`: true for `desc`.
    pub fn desc(&self, default_desc: bool) -> Result<bool, ApiError> {
        match self.get("order") {
            None => Ok(default_desc),
            Some("asc") => Ok(false),
            Some("desc") => Ok(true),
            Some(v) => Err(ApiError::invalid(format!(
                "order: expected \"asc\" or \"desc\", got {v:?}"
            ))),
        }
    }

    /// `created_at[gt|gte|lt|lte]` into `q` (they bound `processed_at`).
    pub fn time_bounds(&self, q: &mut PageQuery) -> Result<(), ApiError> {
        for (op, slot) in [
            ("gt", &mut q.gt),
            ("gte", &mut q.gte),
            ("lt", &mut q.lt),
            ("lte", &mut q.lte),
        ] {
            let name = format!("created_at[{op}]");
            if let Some(v) = self.get(&name) {
                let ts = parse_timestamp_micros(v).ok_or_else(|| {
                    ApiError::invalid(format!("{name}: not an RFC 3339 timestamp: {v:?}"))
                })?;
                *slot = Some(ts);
            }
        }
        Ok(())
    }

    /// `statuses[]`, each checked.
    pub fn statuses(&self) -> Result<Vec<String>, ApiError> {
        let list = self.list("statuses");
        match list.iter().find(|s| !STATUSES.contains(&s.as_str())) {
            Some(bad) => Err(ApiError::invalid(format!(
                "statuses[]: unknown status {bad:?} (expected one of {})",
                STATUSES.join(", ")
            ))),
            None => Ok(list),
        }
    }

    /// `event_deltas[]`: only `agent.message` and `agent.thinking`, at most 100 values.
    pub fn event_deltas(&self) -> Result<Vec<String>, ApiError> {
        let list = self.list("event_deltas");
        if list.len() > 100 {
            return Err(ApiError::invalid("event_deltas[]: at most 100 values"));
        }
        match list
            .iter()
            .find(|t| *t != "agent.message" && *t != "agent.thinking")
        {
            Some(bad) => Err(ApiError::invalid(format!(
                "event_deltas[]: {bad:?} cannot be previewed (only agent.message and agent.thinking)"
            ))),
            None => Ok(list),
        }
    }

    /// `page` decoded with `decode`; garbage is a 400.
    pub fn cursor<T>(&self, decode: impl Fn(&str) -> Option<T>) -> Result<Option<T>, ApiError> {
        match self.get("page") {
            None => Ok(None),
            Some(v) => decode(v)
                .map(Some)
                .ok_or_else(|| ApiError::invalid(format!("page: not a valid page cursor: {v:?}"))),
        }
    }
}

/// Hex digits only: `from_str_radix` would also take a sign.
fn is_hex(s: &str) -> bool {
    s.bytes().all(|b| b.is_ascii_hexdigit())
}

fn hex_i64(s: &str) -> Option<i64> {
    (s.len() == 16 && is_hex(s))
        .then(|| u64::from_str_radix(s, 16).ok())
        .flatten()
        .map(|v| v as i64)
}

/// An events cursor: the (sort_ts, seq) of the last row sent.
pub fn event_cursor(key: (i64, i64)) -> String {
    format!("fr1e{:016x}{:016x}", key.0 as u64, key.1 as u64)
}

pub fn parse_event_cursor(s: &str) -> Option<(i64, i64)> {
    let hex = s
        .strip_prefix("fr1e")
        .filter(|h| h.len() == 32 && h.is_ascii())?;
    Some((hex_i64(&hex[..16])?, hex_i64(&hex[16..])?))
}

/// A sessions cursor: a direction (after or before) and the (created_at, id) key of an item.
pub fn session_cursor(before: bool, key: (i64, &str)) -> String {
    let id: String = key.1.bytes().map(|b| format!("{b:02x}")).collect();
    let dir = if before { 'p' } else { 'n' };
    format!("fr1s{dir}{:016x}{id}", key.0 as u64)
}

pub fn parse_session_cursor(s: &str) -> Option<(bool, i64, String)> {
    let rest = s.strip_prefix("fr1s").filter(|r| r.is_ascii())?;
    let before = match rest.get(..1)? {
        "p" => true,
        "n" => false,
        _ => return None,
    };
    let ts = hex_i64(rest.get(1..17)?)?;
    let id_hex = rest.get(17..)?;
    if id_hex.len() % 2 != 0 || !is_hex(id_hex) {
        return None;
    }
    let bytes: Option<Vec<u8>> = (0..id_hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&id_hex[i..i + 2], 16).ok())
        .collect();
    Some((before, ts, String::from_utf8(bytes?).ok()?))
}

/// A threads cursor: how many threads came before.
pub fn offset_cursor(n: usize) -> String {
    format!("fr1t{:016x}", n as u64)
}

pub fn parse_offset_cursor(s: &str) -> Option<usize> {
    usize::try_from(hex_i64(s.strip_prefix("fr1t")?)?).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arrays_arrive_encoded_or_raw() {
        let p = Params::parse(Some("types%5B%5D=a&types[]=b&types=c&beta=true&limit=7&x"));
        assert_eq!(p.list("types"), ["a", "b", "c"]);
        assert_eq!(p.limit(1000, 1000).unwrap(), 7);
        assert!(p.desc(false).is_ok_and(|d| !d));
    }

    #[test]
    fn bad_values_are_rejected() {
        for q in ["limit=0", "limit=1001", "limit=x", "limit=-1"] {
            assert!(Params::parse(Some(q)).limit(1000, 1000).is_err(), "{q}");
        }
        assert!(Params::parse(Some("order=up")).desc(false).is_err());
        let mut q = PageQuery::default();
        let e = Params::parse(Some("created_at%5Bgte%5D=yesterday"))
            .time_bounds(&mut q)
            .unwrap_err();
        assert!(e.message.contains("created_at[gte]"), "{}", e.message);
        assert!(Params::parse(Some("statuses[]=asleep")).statuses().is_err());
        assert!(
            Params::parse(Some("event_deltas[]=agent.tool_use"))
                .event_deltas()
                .is_err()
        );
    }

    #[test]
    fn python_sdk_datetimes_parse() {
        let mut q = PageQuery::default();
        Params::parse(Some(
            "created_at%5Bgt%5D=2026-08-07T14%3A02%3A11.482000%2B00%3A00",
        ))
        .time_bounds(&mut q)
        .unwrap();
        assert_eq!(q.gt, parse_timestamp_micros("2026-08-07T14:02:11.482Z"));
    }

    #[test]
    fn cursors_round_trip_and_reject_garbage() {
        for key in [(0, 1), (i64::MAX, 42), (1_786_000_000_000_000, 7)] {
            assert_eq!(parse_event_cursor(&event_cursor(key)), Some(key));
        }
        let c = session_cursor(true, (5, "sesn_011CZ"));
        assert_eq!(
            parse_session_cursor(&c),
            Some((true, 5, "sesn_011CZ".into()))
        );
        assert_eq!(parse_offset_cursor(&offset_cursor(30)), Some(30));
        for bad in ["", "garbage", "fr1e", "fr1e00", "fr1szz", "fr1t12", "fr1eé"] {
            assert!(parse_event_cursor(bad).is_none(), "{bad}");
            assert!(parse_session_cursor(bad).is_none(), "{bad}");
            assert!(parse_offset_cursor(bad).is_none(), "{bad}");
        }
    }
}
