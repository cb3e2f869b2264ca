//! Arguments shared by subcommands: times, durations, positive numbers, and the verdict options
//! of `explain`, `check` and `diff`.

use flightrec::model::parse_timestamp_micros;
use flightrec::model::time::format_micros;

/// A time on the command line: `1h`, `30m`, `2d` (that long before now), a date (`2026-12-01`,
/// midnight UTC), an RFC 3339 time, or `+DURATION` after the session's first event.
#[derive(Debug, Clone, PartialEq)]
pub enum TimeArg {
    /// µs since the epoch (an RFC 3339 time, or a date at midnight UTC).
    Absolute(i64),
    /// `+DUR`: that long after the session's first event.
    AfterStart(i64),
    /// `DUR`: that long before now.
    Ago(i64),
}

/// What every time argument accepts, for help texts and errors.
pub const TIME_FORMS: &str = "1h, 30m, 2d (that long ago), a date (2026-12-01, midnight UTC), \
     RFC 3339 (2026-08-07T14:02:11Z), or +DURATION after the session's first event (+90s)";

impl TimeArg {
    /// µs since the epoch, given the session's first event time and the current time.
    pub fn resolve(&self, first_ts: Option<i64>, now: i64) -> i64 {
        match self {
            TimeArg::Absolute(t) => *t,
            TimeArg::AfterStart(d) => first_ts.unwrap_or(0).saturating_add(*d),
            TimeArg::Ago(d) => now.saturating_sub(*d),
        }
    }

    /// µs since the epoch where no one session is meant (a listing of sessions, a search of all
    /// of them): `+DURATION` has no start to count from and is refused, naming `flag`.
    pub fn resolve_without_session(&self, now: i64, flag: &str) -> anyhow::Result<i64> {
        match self {
            TimeArg::AfterStart(_) => anyhow::bail!(
                "{flag} +DURATION counts from a session's first event, and no one session is named here: \
                 use 1h, 30m, 2d (that long ago), a date or an RFC 3339 time"
            ),
            t => Ok(t.resolve(None, now)),
        }
    }
}

pub fn parse_time(s: &str) -> Result<TimeArg, String> {
    let bad = || format!("'{s}' is not a time: use {TIME_FORMS}");
    if let Some(rest) = s.strip_prefix('+') {
        return parse_duration_micros(rest)
            .map(TimeArg::AfterStart)
            .map_err(|_| bad());
    }
    if let Some(t) = parse_timestamp_micros(s) {
        return Ok(TimeArg::Absolute(t));
    }
    if let Ok(d) = chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d") {
        let midnight = d.and_time(chrono::NaiveTime::MIN).and_utc();
        return Ok(TimeArg::Absolute(midnight.timestamp_micros()));
    }
    // A duration ago needs its unit: a bare number (`2026`) is more likely a mistyped date.
    let has_unit = s.ends_with(|c: char| c.is_ascii_alphabetic());
    let starts_with_digit = s.starts_with(|c: char| c.is_ascii_digit());
    match parse_duration_micros(s) {
        Ok(d) if has_unit && starts_with_digit => Ok(TimeArg::Ago(d)),
        _ => Err(bad()),
    }
}

/// `--since` / `--until`, flattened into the commands that read a window of time. A command
/// words the help its own way with `#[command(mut_arg(…))]`; the text here is `timeline`'s.
#[derive(clap::Args, Debug, Clone, Default)]
pub struct WindowArgs {
    /// Only events at or after TIME: 1h, 30m, 2d (ago), a date, RFC 3339, or +DUR after the start
    ///
    /// TIME is 1h, 30m, 2d (that long before now), a date (2026-12-01, taken as midnight UTC),
    /// an RFC 3339 time (2026-08-07T14:02:11Z), or +DURATION after the session's first event
    /// (+90s).
    #[arg(long, value_name = "TIME", value_parser = parse_time)]
    pub since: Option<TimeArg>,
    /// Only events at or before TIME (the forms of --since)
    #[arg(long, value_name = "TIME", value_parser = parse_time)]
    pub until: Option<TimeArg>,
    /// The current time (RFC 3339) that 1h, 2d… count back from, for tests [default: the wall clock]
    #[arg(long, value_name = "TIME", hide = true, value_parser = parse_now)]
    pub now: Option<i64>,
}

/// A window of time resolved to µs since the epoch; either end may be open.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Window {
    pub since: Option<i64>,
    pub until: Option<i64>,
}

impl WindowArgs {
    /// `--now`, else the wall clock.
    pub fn now(&self) -> i64 {
        self.now.unwrap_or_else(super::explain::wall_clock)
    }

    /// The window in a session whose first event is at `first_ts`.
    pub fn in_session(&self, first_ts: Option<i64>) -> anyhow::Result<Window> {
        let now = self.now();
        self.resolve(|t, _| Ok(t.resolve(first_ts, now)))
    }

    /// The window where no one session is meant: `+DURATION` is refused.
    pub fn without_session(&self) -> anyhow::Result<Window> {
        let now = self.now();
        self.resolve(|t, flag| t.resolve_without_session(now, flag))
    }

    /// Refused when `--until` comes before `--since`.
    fn resolve(&self, f: impl Fn(&TimeArg, &str) -> anyhow::Result<i64>) -> anyhow::Result<Window> {
        let w = Window {
            since: self.since.as_ref().map(|t| f(t, "--since")).transpose()?,
            until: self.until.as_ref().map(|t| f(t, "--until")).transpose()?,
        };
        if let (Some(a), Some(b)) = (w.since, w.until)
            && b < a
        {
            anyhow::bail!(
                "--until {} is before --since {}: no time is in that window",
                format_micros(b),
                format_micros(a)
            );
        }
        Ok(w)
    }
}

/// `850ms`, `90s`, `5m`, `1h30m`, `2d`, `1w` → microseconds.
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
            "w" => 7.0 * 86_400e6,
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
        _ => Err(format!("'{s}': --now takes an RFC 3339 time")),
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
    // Test code: a failed unwrap is a failed test.
    #![allow(clippy::unwrap_used)]

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
        assert_eq!(parse_time("1h"), Ok(TimeArg::Ago(3_600_000_000)));
        assert_eq!(parse_time("30m"), Ok(TimeArg::Ago(1_800_000_000)));
        assert_eq!(parse_time("2d"), Ok(TimeArg::Ago(172_800_000_000)));
        assert_eq!(parse_time("1w"), Ok(TimeArg::Ago(604_800_000_000)));
        assert_eq!(
            parse_time("2026-12-01"),
            parse_time("2026-12-01T00:00:00Z"),
            "a date is midnight UTC"
        );
        for bad in ["2026", "h", "2026-13-01", "+soon", "-1h", "", "1h ago"] {
            let e = parse_time(bad).unwrap_err();
            assert!(e.contains("not a time") && e.contains("2d"), "{bad}: {e}");
        }
        assert!(matches!(
            parse_time("2026-08-07T14:02:11Z"),
            Ok(TimeArg::Absolute(_))
        ));
        assert!(parse_time("noon").is_err());
        assert!(parse_now("2026-08-07T14:02:11Z").is_ok());
        assert!(parse_now("+2s").is_err());
        assert!(parse_now("1h").is_err());
    }

    fn window(since: &str, until: &str) -> WindowArgs {
        WindowArgs {
            since: Some(parse_time(since).unwrap()),
            until: Some(parse_time(until).unwrap()),
            now: parse_now("2026-08-07T15:00:00Z").ok(),
        }
    }

    #[test]
    fn windows_resolve_against_now_and_the_first_event() {
        let now = parse_now("2026-08-07T15:00:00Z").unwrap();
        let w = window("2h", "30m").without_session().unwrap();
        assert_eq!(w.since, Some(now - 7_200_000_000));
        assert_eq!(w.until, Some(now - 1_800_000_000));
        let w = window("+1m", "+2m").in_session(Some(1_000)).unwrap();
        assert_eq!((w.since, w.until), (Some(60_001_000), Some(120_001_000)));
        let e = window("+1m", "1h")
            .without_session()
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("--since +DURATION"), "{e}");
        let e = window("1h", "2h")
            .without_session()
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("--until") && e.contains("is before --since"),
            "{e}"
        );
    }

    #[test]
    fn positive_numbers() {
        assert_eq!(positive("0.5"), Ok(0.5));
        for bad in ["0", "-1", "inf", "NaN", "x"] {
            assert!(positive(bad).is_err(), "{bad}");
        }
    }
}
