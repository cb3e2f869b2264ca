//! Formatting shared by the text reports: times, durations, money, ratios, counts, and how a
//! missing value is shown.
//!
//! The reports do not agree on the last one, and each keeps its own text (the outputs are pinned
//! by snapshots): a missing duration is "?" in `explain`, "" in `state` and `stats`, "-" in
//! `diff`. Each call names its variant of [`Missing`], so unifying them later is one edit per
//! call.

use crate::analysis::explain::At;
pub use crate::analysis::text::thousands;
pub use crate::model::time::{format_duration_micros, format_micros};

/// What an event not yet processed by the server (no `processed_at`) shows for its time.
pub const QUEUED: &str = "(queued)";

/// How a report shows a value that is not there.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Missing {
    /// Nothing: `""` (`state`, `stats`, the empty cells of tables).
    Empty,
    /// `"?"` (`explain`'s durations and amounts; `state`'s event type).
    Question,
    /// `"-"` (`diff`'s durations and stop reasons; `explain`'s finding without an event;
    /// `state`'s retry status).
    Dash,
}

impl Missing {
    pub const fn text(self) -> &'static str {
        match self {
            Missing::Empty => "",
            Missing::Question => "?",
            Missing::Dash => "-",
        }
    }

    /// `v`, or this missing value.
    pub fn or(self, v: Option<&str>) -> &str {
        v.unwrap_or(self.text())
    }
}

/// An event's time, or [`QUEUED`] when it has none.
pub fn when(at: Option<&str>) -> &str {
    at.unwrap_or(QUEUED)
}

/// A duration given in whole milliseconds: `850ms`, `1m 30s`, … (see
/// [`format_duration_micros`]).
pub fn ms(v: Option<i64>, missing: Missing) -> String {
    v.map(|v| format_duration_micros(v.saturating_mul(1000)))
        .unwrap_or_else(|| missing.text().into())
}

/// A duration given in fractional milliseconds, rounded to the microsecond.
pub fn ms_f64(v: Option<f64>, missing: Missing) -> String {
    v.map(|v| format_duration_micros((v * 1000.0).round() as i64))
        .unwrap_or_else(|| missing.text().into())
}

/// Dollars: four decimals under a dollar, two from one up.
pub fn usd(v: f64) -> String {
    if v < 1.0 {
        format!("${v:.4}")
    } else {
        format!("${v:.2}")
    }
}

/// A ratio as a percentage with one decimal (`87.5%`); empty when there is none.
pub fn percent(r: Option<f64>) -> String {
    r.map(|r| format!("{:.1}%", r * 100.0)).unwrap_or_default()
}

/// Where a report stands: the `--at` event id or time, or the end of the recording.
pub fn point(at: Option<&At>) -> String {
    at.and_then(|a| a.event_id.clone().or(a.time.clone()))
        .unwrap_or_else(|| "the end of the recording".into())
}

/// Every non-empty line of `text` prefixed with `pad`.
pub fn indent(text: &str, pad: &str) -> String {
    let lines: Vec<String> = text
        .lines()
        .map(|l| {
            if l.is_empty() {
                String::new()
            } else {
                format!("{pad}{l}")
            }
        })
        .collect();
    lines.join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_report_keeps_its_missing_value() {
        assert_eq!(ms(None, Missing::Question), "?");
        assert_eq!(ms(None, Missing::Empty), "");
        assert_eq!(ms_f64(None, Missing::Dash), "-");
        assert_eq!(Missing::Dash.or(None), "-");
        assert_eq!(Missing::Question.or(Some("x")), "x");
        assert_eq!(when(None), "(queued)");
        assert_eq!(when(Some("t")), "t");
    }

    #[test]
    fn durations_money_and_ratios() {
        assert_eq!(
            ms(Some(1500), Missing::Empty),
            format_duration_micros(1_500_000)
        );
        assert_eq!(
            ms_f64(Some(0.0004), Missing::Empty),
            format_duration_micros(0)
        );
        assert_eq!(
            ms_f64(Some(0.0006), Missing::Empty),
            format_duration_micros(1)
        );
        assert_eq!(usd(0.5), "$0.5000");
        assert_eq!(usd(12.345), "$12.35");
        assert_eq!(percent(Some(0.875)), "87.5%");
        assert_eq!(percent(None), "");
        assert_eq!(indent("a\n\nb", "  "), "  a\n\n  b");
        assert_eq!(point(None), "the end of the recording");
    }
}
