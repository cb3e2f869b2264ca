//! Argument values shared by subcommands: times and durations.

use flightrec::model::parse_timestamp_micros;

/// A point in a session: an RFC 3339 time, or `+DURATION` after the session's first event.
#[derive(Debug, Clone, PartialEq)]
pub enum TimeArg {
    Absolute(i64),
    AfterStart(i64),
}

impl TimeArg {
    /// µs since the epoch, given the session's first event time.
    pub fn resolve(&self, first_ts: Option<i64>) -> i64 {
        match self {
            TimeArg::Absolute(t) => *t,
            TimeArg::AfterStart(d) => first_ts.unwrap_or(0) + d,
        }
    }
}

pub fn parse_time(s: &str) -> Result<TimeArg, String> {
    if let Some(rest) = s.strip_prefix('+') {
        return parse_duration_micros(rest).map(TimeArg::AfterStart);
    }
    parse_timestamp_micros(s).map(TimeArg::Absolute).ok_or_else(|| {
        format!("'{s}' is not a time: use RFC 3339 (2026-08-07T14:02:11Z) or +DURATION after the first event (+90s)")
    })
}

/// `850ms`, `90s`, `5m`, `1h30m`, `2d` → microseconds.
pub fn parse_duration_micros(s: &str) -> Result<i64, String> {
    let bad = || format!("'{s}' is not a duration: use e.g. 500ms, 90s, 5m, 1h30m, 2d");
    let mut total: i64 = 0;
    let mut rest = s.trim();
    if rest.is_empty() {
        return Err(bad());
    }
    while !rest.is_empty() {
        let digits = rest
            .find(|c: char| !c.is_ascii_digit() && c != '.')
            .unwrap_or(rest.len());
        if digits == 0 {
            return Err(bad());
        }
        let n: f64 = rest[..digits].parse().map_err(|_| bad())?;
        rest = &rest[digits..];
        let unit_len = rest
            .find(|c: char| c.is_ascii_digit())
            .unwrap_or(rest.len());
        let scale = match &rest[..unit_len] {
            "ms" => 1e3,
            "s" | "" => 1e6,
            "m" | "min" => 60e6,
            "h" => 3600e6,
            "d" => 86_400e6,
            _ => return Err(bad()),
        };
        rest = &rest[unit_len..];
        total = total.saturating_add((n * scale) as i64);
    }
    Ok(total)
}

/// A duration argument: `850ms`, `90s`, `5m`, `1h30m`, `2d`, or plain seconds (`1.5`).
pub fn parse_duration(s: &str) -> Result<std::time::Duration, String> {
    parse_duration_micros(s).map(|us| std::time::Duration::from_micros(us.max(0) as u64))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration_micros("90s"), Ok(90_000_000));
        assert_eq!(parse_duration_micros("1h30m"), Ok(5_400_000_000));
        assert_eq!(parse_duration_micros("500ms"), Ok(500_000));
        assert!(parse_duration_micros("soon").is_err());
        assert_eq!(parse_duration_micros("0.05ms"), Ok(50));
        assert_eq!(parse_duration_micros("2min"), Ok(120_000_000));
        assert_eq!(
            parse_duration("1.5"),
            Ok(std::time::Duration::from_millis(1500))
        );
        assert!(parse_duration_micros("").is_err());
    }

    #[test]
    fn times() {
        assert_eq!(parse_time("+2s"), Ok(TimeArg::AfterStart(2_000_000)));
        assert!(matches!(
            parse_time("2026-08-07T14:02:11Z"),
            Ok(TimeArg::Absolute(_))
        ));
        assert!(parse_time("noon").is_err());
    }
}
