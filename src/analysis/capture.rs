//! How a session was captured, from its capture log: connections, history passes, retries, and
//! the intervals no stream connection or completed history pass vouches for (gaps).
//!
//! Events processed before the start of a completed history pass are proven (the pass read the
//! whole log up to then); so are events emitted while a stream connection was open. The rest of
//! the recording window is unproven.

use serde::Serialize;
use serde_json::Value;
use std::collections::BTreeMap;

use crate::model::parse_timestamp_micros;
use crate::store::CaptureEntry;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Connection {
    pub run: Option<String>,
    pub thread_id: String,
    pub number: u64,
    pub opened_at: String,
    pub closed_at: Option<String>,
    pub duration_seconds: Option<f64>,
    pub events: Option<u64>,
    /// Why it closed; `None` when the recorder died with it open.
    pub cause: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Gap {
    pub from: String,
    pub to: String,
    pub seconds: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CaptureReport {
    pub connections: Vec<Connection>,
    pub history_passes: u64,
    pub retries: u64,
    pub error_frames: u64,
    pub imports: u64,
    pub events_by_source: BTreeMap<String, u64>,
    /// Intervals of the recording window not proven complete. Empty when recorded live without
    /// holes; `None` when the session was only imported (flightrec cannot vouch for a file).
    pub gaps: Option<Vec<Gap>>,
}

fn detail(e: &CaptureEntry) -> Value {
    e.detail
        .as_deref()
        .and_then(|d| serde_json::from_str(d).ok())
        .unwrap_or(Value::Null)
}

fn ts(s: &str) -> Option<i64> {
    parse_timestamp_micros(s)
}

/// Builds the report from a session's capture log (in id order) and its events per source.
pub fn capture_report(
    entries: &[CaptureEntry],
    events_by_source: BTreeMap<String, u64>,
) -> CaptureReport {
    let mut connections: Vec<Connection> = Vec::new();
    let (mut passes, mut retries, mut error_frames, mut imports) = (0, 0, 0, 0);
    let mut proven_until: Option<i64> = None;
    let mut covered: Vec<(i64, i64)> = Vec::new();
    let (mut window_start, mut window_end): (Option<i64>, Option<i64>) = (None, None);
    let mut live = false;
    for e in entries {
        let d = detail(e);
        let run = d.get("run").and_then(Value::as_str).map(str::to_string);
        let number = d.get("connection").and_then(Value::as_u64).unwrap_or(0);
        for t in [Some(e.started_at.as_str()), e.ended_at.as_deref()]
            .into_iter()
            .flatten()
            .filter_map(ts)
        {
            if e.kind != "import" {
                window_start = Some(window_start.map_or(t, |w| w.min(t)));
                window_end = Some(window_end.map_or(t, |w| w.max(t)));
            }
        }
        match e.kind.as_str() {
            "connect" => {
                live = true;
                connections.push(Connection {
                    run,
                    thread_id: e.thread_id.clone(),
                    number,
                    opened_at: e.started_at.clone(),
                    closed_at: None,
                    duration_seconds: None,
                    events: None,
                    cause: None,
                });
            }
            "connection" => {
                live = true;
                let found = connections.iter_mut().rev().find(|c| {
                    c.run == run
                        && c.thread_id == e.thread_id
                        && c.number == number
                        && c.cause.is_none()
                });
                let cause = d
                    .get("cause")
                    .and_then(Value::as_str)
                    .unwrap_or("unknown")
                    .to_string();
                let events = d.get("events").and_then(Value::as_u64);
                let closed = e.ended_at.clone();
                let duration = match (ts(&e.started_at), closed.as_deref().and_then(ts)) {
                    (Some(a), Some(b)) => {
                        covered.push((a, b));
                        Some((b - a) as f64 / 1e6)
                    }
                    _ => None,
                };
                let c = Connection {
                    run,
                    thread_id: e.thread_id.clone(),
                    number,
                    opened_at: e.started_at.clone(),
                    closed_at: closed,
                    duration_seconds: duration,
                    events,
                    cause: Some(cause),
                };
                match found {
                    Some(slot) => *slot = c,
                    None => connections.push(c),
                }
            }
            "history" => {
                passes += 1;
                if d.get("complete").and_then(Value::as_bool) == Some(true)
                    && let Some(t) = ts(&e.started_at)
                {
                    proven_until = Some(proven_until.map_or(t, |p| p.max(t)));
                }
            }
            "retry" => retries += 1,
            "error_frame" => error_frames += 1,
            "import" => imports += 1,
            _ => {}
        }
    }
    let gaps = if live {
        Some(gaps(window_start, window_end, proven_until, covered))
    } else {
        None
    };
    CaptureReport {
        connections,
        history_passes: passes,
        retries,
        error_frames,
        imports,
        events_by_source,
        gaps,
    }
}

/// The parts of [start, end] covered neither by [.., proven_until] nor by a connection.
fn gaps(
    start: Option<i64>,
    end: Option<i64>,
    proven_until: Option<i64>,
    mut covered: Vec<(i64, i64)>,
) -> Vec<Gap> {
    let (Some(start), Some(end)) = (start, end) else {
        return Vec::new();
    };
    if let Some(p) = proven_until {
        covered.push((i64::MIN, p));
    }
    covered.sort();
    let mut out = Vec::new();
    let mut cursor = start;
    for (a, b) in covered {
        if a > cursor {
            out.push((cursor, a.min(end)));
        }
        cursor = cursor.max(b);
        if cursor >= end {
            break;
        }
    }
    if cursor < end {
        out.push((cursor, end));
    }
    out.into_iter()
        .filter(|(a, b)| b > a)
        .map(|(a, b)| Gap {
            from: crate::model::time::format_micros(a),
            to: crate::model::time::format_micros(b),
            seconds: (b - a) as f64 / 1e6,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(kind: &str, start: &str, end: Option<&str>, detail: &str) -> CaptureEntry {
        CaptureEntry {
            id: 0,
            session_id: Some("s".into()),
            thread_id: String::new(),
            kind: kind.into(),
            started_at: start.into(),
            ended_at: end.map(str::to_string),
            detail: Some(detail.into()),
        }
    }

    const T0: &str = "2026-08-07T14:00:00.000Z";
    const T1: &str = "2026-08-07T14:00:01.000Z";
    const T5: &str = "2026-08-07T14:00:05.000Z";
    const T6: &str = "2026-08-07T14:00:06.000Z";
    const T9: &str = "2026-08-07T14:00:09.000Z";

    #[test]
    fn a_reconnect_with_a_completed_backfill_leaves_no_gap() {
        let log = vec![
            entry("connect", T0, None, r#"{"run":"r","connection":1}"#),
            entry("history", T0, Some(T1), r#"{"complete":true}"#),
            entry(
                "connection",
                T0,
                Some(T5),
                r#"{"run":"r","connection":1,"cause":"closed","events":9}"#,
            ),
            entry("connect", T6, None, r#"{"run":"r","connection":2}"#),
            entry("history", T6, Some(T6), r#"{"complete":true}"#),
            entry(
                "connection",
                T6,
                Some(T9),
                r#"{"run":"r","connection":2,"cause":"stopped: session idle","events":1}"#,
            ),
        ];
        let r = capture_report(&log, BTreeMap::new());
        assert_eq!(r.connections.len(), 2);
        assert_eq!(r.connections[0].duration_seconds, Some(5.0));
        assert_eq!(r.history_passes, 2);
        assert_eq!(r.gaps, Some(vec![]));
    }

    #[test]
    fn a_failed_backfill_after_a_drop_is_a_gap() {
        let log = vec![
            entry("connect", T0, None, r#"{"run":"r","connection":1}"#),
            entry("history", T0, Some(T1), r#"{"complete":true}"#),
            entry(
                "connection",
                T0,
                Some(T5),
                r#"{"run":"r","connection":1,"cause":"closed","events":9}"#,
            ),
            entry("connect", T6, None, r#"{"run":"r","connection":2}"#),
            entry("retry", T6, None, r#"{"during":"history page"}"#),
            entry(
                "connection",
                T6,
                Some(T9),
                r#"{"run":"r","connection":2,"cause":"history pass failed: 500"}"#,
            ),
        ];
        let r = capture_report(&log, BTreeMap::new());
        let gaps = r.gaps.unwrap();
        assert_eq!(gaps.len(), 1);
        assert_eq!(
            (gaps[0].from.as_str(), gaps[0].to.as_str()),
            ("2026-08-07T14:00:05.000Z", "2026-08-07T14:00:06.000Z")
        );
        assert_eq!(r.retries, 1);
    }

    #[test]
    fn a_connection_left_open_by_a_killed_recorder_is_reported_as_such() {
        let log = vec![
            entry("connect", T0, None, r#"{"run":"a","connection":1}"#),
            entry("history", T0, Some(T1), r#"{"complete":true}"#),
            entry("connect", T6, None, r#"{"run":"b","connection":1}"#),
            entry("history", T6, Some(T6), r#"{"complete":true}"#),
            entry(
                "connection",
                T6,
                Some(T9),
                r#"{"run":"b","connection":1,"cause":"stopped: session idle"}"#,
            ),
        ];
        let r = capture_report(&log, BTreeMap::new());
        assert_eq!(r.connections.len(), 2);
        assert_eq!(r.connections[0].cause, None, "run a died with it open");
        assert_eq!(
            r.gaps,
            Some(vec![]),
            "run b's full backfill proves everything before it"
        );
    }

    #[test]
    fn imports_only_are_not_vouched_for() {
        let log = vec![entry("import", T0, Some(T1), r#"{"file":"x"}"#)];
        let r = capture_report(&log, BTreeMap::new());
        assert_eq!(r.imports, 1);
        assert_eq!(r.gaps, None);
    }
}
