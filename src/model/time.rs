//! Timestamps. They are stored as received; this only derives a sort key.

use chrono::DateTime;

/// Microseconds since the Unix epoch for an RFC 3339 timestamp, whatever its number of fractional
/// digits or its offset. `None` when the text is not RFC 3339.
pub fn parse_timestamp_micros(s: &str) -> Option<i64> {
    DateTime::parse_from_rfc3339(s)
        .ok()
        .map(|t| t.timestamp_micros())
}

/// What to show for the time of an event that has none: `queued` when its `processed_at` is null
/// or absent (a user event not yet processed), and the value itself, marked invalid, when it is
/// not a timestamp (never "queued": that would be a claim about the server).
pub fn untimed_label(processed_at: Option<&str>) -> String {
    match processed_at {
        None => "queued".into(),
        Some(p) => format!("invalid time {p:?}"),
    }
}

/// The current time as RFC 3339 UTC with milliseconds: when something was received, stored or
/// written out.
pub fn now() -> String {
    chrono::Utc::now()
        .format("%Y-%m-%dT%H:%M:%S%.3fZ")
        .to_string()
}

/// Formats microseconds since the epoch as RFC 3339 UTC with milliseconds.
pub fn format_micros(us: i64) -> String {
    match DateTime::from_timestamp_micros(us) {
        Some(t) => t.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string(),
        None => us.to_string(),
    }
}

/// A human duration: `850ms`, `12.4s`, `3m05s`, `2h14m`, `3d04h`.
pub fn format_duration_micros(us: i64) -> String {
    let neg = us < 0;
    let us = us.unsigned_abs();
    let ms = us / 1000;
    let s = ms / 1000;
    let text = if ms < 1000 {
        format!("{ms}ms")
    } else if s < 60 {
        format!("{:.1}s", ms as f64 / 1000.0)
    } else if s < 3600 {
        format!("{}m{:02}s", s / 60, s % 60)
    } else if s < 86_400 {
        format!("{}h{:02}m", s / 3600, (s % 3600) / 60)
    } else {
        format!("{}d{:02}h", s / 86_400, (s % 86_400) / 3600)
    };
    if neg { format!("-{text}") } else { text }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fractional_digits_and_offsets_order_correctly() {
        let a = parse_timestamp_micros("2026-08-07T14:02:11Z").unwrap();
        let b = parse_timestamp_micros("2026-08-07T14:02:11.4Z").unwrap();
        let c = parse_timestamp_micros("2026-08-07T14:02:11.482113Z").unwrap();
        let d = parse_timestamp_micros("2026-08-07T16:02:11.5+02:00").unwrap();
        assert!(a < b && b < c && c < d, "{a} {b} {c} {d}");
        assert_eq!(c - a, 482_113);
        assert_eq!(parse_timestamp_micros("yesterday"), None);
    }

    #[test]
    fn durations_read_well() {
        assert_eq!(format_duration_micros(850_000), "850ms");
        assert_eq!(format_duration_micros(12_400_000), "12.4s");
        assert_eq!(format_duration_micros(185_000_000), "3m05s");
        assert_eq!(
            format_duration_micros(2 * 3_600_000_000 + 14 * 60_000_000),
            "2h14m"
        );
    }
}
