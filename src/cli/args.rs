//! Arguments shared by subcommands: times, durations, positive numbers, and the verdict options
//! of `explain`, `check` and `diff`.

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

/// `--now`: an absolute RFC 3339 time.
pub fn parse_now(s: &str) -> Result<i64, String> {
    match parse_time(s)? {
        TimeArg::Absolute(t) => Ok(t),
        TimeArg::AfterStart(_) => Err(format!("'{s}': --now takes an RFC 3339 time")),
    }
}

/// A finite number greater than zero (`--speed`).
pub fn positive(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(x) if x.is_finite() && x > 0.0 => Ok(x),
        _ => Err(format!("expected a positive number, got {s:?}")),
    }
}

/// A running session silent for longer than this is stalled, unless --stuck-after says otherwise.
pub const DEFAULT_STUCK_AFTER: &str = "10m";

/// The options of the commands that give a verdict (`explain`, `check`, `diff`), flattened into
/// each. A command words the help of `--stuck-after` and `--json` its own way with
/// `#[command(mut_arg(…))]`; the text here is `explain`'s.
#[derive(clap::Args)]
pub struct VerdictArgs {
    /// A running session with no event for longer than this is stalled
    #[arg(long, value_name = "DUR", default_value = DEFAULT_STUCK_AFTER, value_parser = parse_duration_micros)]
    pub stuck_after: i64,
    /// The current time (RFC 3339), for tests [default: the wall clock]
    #[arg(long, value_name = "TIME", hide = true, value_parser = parse_now)]
    pub now: Option<i64>,
    /// Print JSON instead of text
    #[arg(long)]
    pub json: bool,
}

impl VerdictArgs {
    /// `--now`, else the wall clock.
    pub fn now(&self) -> i64 {
        self.now.unwrap_or_else(super::explain::wall_clock)
    }
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
        assert!(parse_now("2026-08-07T14:02:11Z").is_ok());
        assert!(parse_now("+2s").is_err());
    }

    #[test]
    fn positive_numbers() {
        assert_eq!(positive("0.5"), Ok(0.5));
        for bad in ["0", "-1", "inf", "NaN", "x"] {
            assert!(positive(bad).is_err(), "{bad}");
        }
    }
}
