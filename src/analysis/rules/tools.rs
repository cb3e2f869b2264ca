//! A workspace's own call times per tool, for `tool_overdue`: the p99 of each tool's completed
//! calls across sessions. Measured as `stats` measures tool latency (the span from the tool use
//! to its result, less any wait for a permission; denied calls left out), from the same spans.

use std::collections::BTreeMap;

use crate::analysis::spans::{Span, SpanBuilder, SpanKind};
use crate::analysis::stats::percentile;

/// The event types a session's calls are read from: what a store read asks for.
pub const TOOL_TYPES: &[&str] = &[
    "agent.tool_use",
    "agent.tool_result",
    "user.tool_result",
    "agent.mcp_tool_use",
    "agent.mcp_tool_result",
    "user.tool_confirmation",
];

/// The kinds of call `tool_overdue` watches: those the platform (or a self-hosted worker) runs.
/// Custom tools and permissions wait on a client or a person: `requires_action` covers them.
pub fn watched(kind: SpanKind) -> bool {
    matches!(kind, SpanKind::Tool | SpanKind::McpTool)
}

/// The call times of many sessions. Feed each session's [`TOOL_TYPES`] events in time order
/// through [`session`](Self::session), then read [`p99`](Self::p99).
#[derive(Debug, Default)]
pub struct ToolTimes {
    /// Tool name → call times, µs.
    times: BTreeMap<String, Vec<i64>>,
}

impl ToolTimes {
    /// A fold for one session's events; hand it back with [`add`](Self::add).
    pub fn session() -> SpanBuilder {
        SpanBuilder::default()
    }

    /// Adds the completed calls of one session's spans.
    pub fn add(&mut self, spans: SpanBuilder) {
        self.add_spans(&spans.finish(None));
    }

    /// Adds the completed, undenied tool and MCP calls among `spans`.
    pub fn add_spans(&mut self, spans: &[Span]) {
        self.add_calls(calls(spans));
    }

    /// Adds calls as [`calls`] gives them.
    pub fn add_calls(&mut self, calls: impl IntoIterator<Item = (String, i64)>) {
        for (tool, time) in calls {
            self.times.entry(tool).or_default().push(time);
        }
    }

    /// Adds calls of one tool (a session's, as a cache keeps them).
    pub fn add_times(&mut self, tool: String, times: &[i64]) {
        self.times.entry(tool).or_default().extend_from_slice(times);
    }

    /// Each tool's p99 call time (nearest rank), µs.
    pub fn p99(mut self) -> BTreeMap<String, i64> {
        self.times
            .iter_mut()
            .filter_map(|(tool, times)| {
                times.sort_unstable();
                Some((tool.clone(), percentile(times, 99.0)?))
            })
            .collect()
    }
}

/// The completed, undenied tool and MCP calls among `spans`: each one's tool and call time (µs),
/// in the spans' order.
pub fn calls(spans: &[Span]) -> Vec<(String, i64)> {
    let waits: BTreeMap<&str, i64> = spans
        .iter()
        .filter(|s| s.kind == SpanKind::Permission)
        .filter_map(|s| Some((s.start_id.as_str(), s.end_ts? - s.start_ts?)))
        .collect();
    let mut out = Vec::new();
    for s in spans.iter().filter(|s| watched(s.kind) && !s.open) {
        if s.detail.as_deref().is_some_and(|d| d.starts_with("denied")) {
            continue;
        }
        let (Some(a), Some(b)) = (s.start_ts, s.end_ts) else {
            continue;
        };
        let wait = waits.get(s.start_id.as_str()).copied().unwrap_or(0);
        out.push((s.name.clone(), (b - a - wait).max(0)));
    }
    out
}

#[cfg(test)]
mod tests {
    // Test code: a failed unwrap is a failed test.
    #![allow(clippy::unwrap_used)]

    use super::*;
    use crate::analysis::testing::rows;
    use crate::model::time::{format_micros, parse_timestamp_micros};

    fn ts(s: &str) -> i64 {
        parse_timestamp_micros(&format!("2026-01-01T{s}Z")).unwrap()
    }

    fn e(id: &str, hms: &str, body: &str) -> String {
        format!(r#"{{"id":"{id}","processed_at":"2026-01-01T{hms}Z",{body}}}"#)
    }

    #[test]
    fn the_workspace_p99_is_measured_like_stats_tool_latency() {
        let mut times = ToolTimes::default();
        // 100 bash calls of 1..=100 s; one read call that waited 60 s for a person, ran 2 s; a
        // denied call that never ran.
        let mut ev: Vec<String> = Vec::new();
        for i in 1..=100u32 {
            ev.push(e(
                &format!("b{i}"),
                &format!("{:02}:00:00", i / 10),
                &format!(r#""type":"agent.tool_use","name":"bash","input":{{"n":{i}}}"#),
            ));
        }
        let mut b = SpanBuilder::default();
        let mut all = rows(&ev.join("\n"));
        let results: Vec<String> = (1..=100u32)
            .map(|i| {
                let at = ts(&format!("{:02}:00:00", i / 10)) + i64::from(i) * 1_000_000;
                format!(
                    r#"{{"id":"e{i}","processed_at":"{}","type":"agent.tool_result","tool_use_id":"b{i}","is_error":false}}"#,
                    format_micros(at)
                )
            })
            .collect();
        all.extend(rows(&results.join("\n")));
        let other = [
            e(
                "p1",
                "12:00:00",
                r#""type":"agent.tool_use","name":"read","input":{},"evaluated_permission":"ask""#,
            ),
            e(
                "p2",
                "12:01:00",
                r#""type":"user.tool_confirmation","tool_use_id":"p1","result":"allow""#,
            ),
            e(
                "p3",
                "12:01:02",
                r#""type":"agent.tool_result","tool_use_id":"p1","is_error":false"#,
            ),
            e(
                "d1",
                "13:00:00",
                r#""type":"agent.tool_use","name":"rm","input":{},"evaluated_permission":"ask""#,
            ),
            e(
                "d2",
                "13:30:00",
                r#""type":"user.tool_confirmation","tool_use_id":"d1","result":"deny""#,
            ),
        ];
        all.extend(rows(&other.join("\n")));
        all.sort_by_key(|r| (r.ts, r.seq));
        for r in &all {
            b.push(&r.as_ref());
        }
        times.add(b);
        let p99 = times.p99();
        assert_eq!(p99.get("bash"), Some(&99_000_000));
        assert_eq!(p99.get("read"), Some(&2_000_000));
        assert_eq!(p99.get("rm"), None, "a denied call did not run");
    }
}
