//! How a session was captured, from its capture log: connections, history passes, retries, and
//! the intervals no stream connection or completed history pass vouches for (gaps).
//!
//! Events processed before the start of a completed history pass are proven (the pass read the
//! whole log up to then); so are events emitted while a stream connection was open. The rest of
//! the recording window is unproven.

use serde::Serialize;
use serde_json::Value;
use std::collections::BTreeMap;

use crate::model::capture::{self, ConnectDetail, ConnectionDetail, HistoryPass, kind};
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
        for t in [Some(e.started_at.as_str()), e.ended_at.as_deref()]
            .into_iter()
            .flatten()
            .filter_map(ts)
        {
            if e.kind != kind::IMPORT {
                window_start = Some(window_start.map_or(t, |w| w.min(t)));
                window_end = Some(window_end.map_or(t, |w| w.max(t)));
            }
        }
        match e.kind.as_str() {
            kind::CONNECT => {
                live = true;
                let c: ConnectDetail = capture::read(&d);
                connections.push(Connection {
                    run: c.run,
                    thread_id: e.thread_id.clone(),
                    number: c.connection,
                    opened_at: e.started_at.clone(),
                    closed_at: None,
                    duration_seconds: None,
                    events: None,
                    cause: None,
                });
            }
            kind::CONNECTION => {
                live = true;
                let c: ConnectionDetail = capture::read(&d);
                let found = connections.iter_mut().rev().find(|o| {
                    o.run == c.run
                        && o.thread_id == e.thread_id
                        && o.number == c.connection
                        && o.cause.is_none()
                });
                let closed = e.ended_at.clone();
                let duration = match (ts(&e.started_at), closed.as_deref().and_then(ts)) {
                    (Some(a), Some(b)) => {
                        covered.push((a, b));
                        Some((b - a) as f64 / 1e6)
                    }
                    _ => None,
                };
                let c = Connection {
                    run: c.run,
                    thread_id: e.thread_id.clone(),
                    number: c.connection,
                    opened_at: e.started_at.clone(),
                    closed_at: closed,
                    duration_seconds: duration,
                    events: c.events,
                    cause: Some(c.cause),
                };
                match found {
                    Some(slot) => *slot = c,
                    None => connections.push(c),
                }
            }
            kind::HISTORY => {
                passes += 1;
                let pass: HistoryPass = capture::read(&d);
                if pass.complete
                    && let Some(t) = ts(&e.started_at)
                {
                    proven_until = Some(proven_until.map_or(t, |p| p.max(t)));
                }
            }
            kind::RETRY => retries += 1,
            kind::ERROR_FRAME => error_frames += 1,
            kind::IMPORT => imports += 1,
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
    use crate::model::capture::{
        CaptureDetail, ErrorFrameDetail, HistoryDetail, ImportDetail, RetryDetail, ThreadsDetail,
    };

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
    /// An entry as the recorder writes it: kind and detail from the typed detail.
    fn written(detail: impl Into<CaptureDetail>, start: &str, end: Option<&str>) -> CaptureEntry {
        let detail = detail.into();
        entry(detail.kind(), start, end, &detail.to_value().to_string())
    }

    fn connect(n: u64) -> ConnectDetail {
        ConnectDetail {
            connection: n,
            run: Some("r".into()),
        }
    }

    fn closed(n: u64, cause: &str, events: u64) -> ConnectionDetail {
        ConnectionDetail {
            backfill_from: None,
            cause: cause.into(),
            connection: n,
            events: Some(events),
            run: Some("r".into()),
        }
    }

    fn pass() -> HistoryPass {
        HistoryPass {
            complete: true,
            pages: 1,
            ..HistoryPass::default()
        }
    }

    #[test]
    fn connect_and_connection_entries_read_back_as_one_connection() {
        let log = vec![
            written(connect(1), T0, None),
            written(pass(), T0, Some(T1)),
            written(closed(1, "closed by the server", 9), T0, Some(T5)),
        ];
        let r = capture_report(&log, BTreeMap::new());
        assert_eq!(
            r.connections,
            vec![Connection {
                run: Some("r".into()),
                thread_id: String::new(),
                number: 1,
                opened_at: T0.into(),
                closed_at: Some(T5.into()),
                duration_seconds: Some(5.0),
                events: Some(9),
                cause: Some("closed by the server".into()),
            }]
        );
        assert_eq!(r.gaps, Some(vec![]));
    }

    #[test]
    fn a_completed_history_pass_read_back_proves_what_came_before_it() {
        let log = vec![
            written(connect(1), T0, None),
            written(closed(1, "closed by the server", 0), T0, Some(T1)),
            written(connect(2), T6, None),
            written(pass(), T6, Some(T6)),
            written(closed(2, "stopped: session idle", 0), T6, Some(T9)),
        ];
        let r = capture_report(&log, BTreeMap::new());
        assert_eq!(r.history_passes, 1);
        assert_eq!(r.gaps, Some(vec![]));
    }

    #[test]
    fn a_repeated_cursor_note_read_back_counts_but_proves_nothing() {
        let log = vec![
            written(connect(1), T0, None),
            written(closed(1, "closed by the server", 0), T0, Some(T1)),
            written(connect(2), T6, None),
            written(HistoryDetail::repeated_cursor("c".into()), T6, Some(T6)),
            written(closed(2, "stopped: session idle", 0), T6, Some(T9)),
        ];
        let r = capture_report(&log, BTreeMap::new());
        assert_eq!(r.history_passes, 1);
        assert_eq!(r.gaps.unwrap().len(), 1);
    }

    #[test]
    fn retries_error_frames_threads_and_imports_read_back_as_counts() {
        let log = vec![
            written(
                RetryDetail::connect("r", 1, Some(503), "busy".into()),
                T0,
                None,
            ),
            written(RetryDetail::history_page(1, None, "reset".into()), T0, None),
            written(
                ErrorFrameDetail::Stream {
                    connection: 1,
                    data: "{}".into(),
                },
                T1,
                None,
            ),
            written(
                ThreadsDetail::Stored {
                    pages: 1,
                    run: "r".into(),
                    threads: 2,
                    why: "start".into(),
                },
                T1,
                Some(T5),
            ),
        ];
        let r = capture_report(&log, BTreeMap::new());
        assert_eq!((r.retries, r.error_frames, r.imports), (2, 1, 0));
        assert_eq!(r.gaps, None, "no connection: not recorded live");
        let log = vec![
            written(
                ImportDetail {
                    duplicate: 0,
                    error_frames: 1,
                    file: "x".into(),
                    format: "jsonl".into(),
                    id_collisions: 0,
                    new: 2,
                    pings: 0,
                    previews: 0,
                    quarantined: 0,
                    updated: 0,
                },
                T0,
                Some(T1),
            ),
            written(
                ErrorFrameDetail::File {
                    data: "{}".into(),
                    file: "x".into(),
                    at: "line 2".into(),
                },
                T0,
                None,
            ),
        ];
        let r = capture_report(&log, BTreeMap::new());
        assert_eq!((r.imports, r.error_frames, r.gaps), (1, 1, None));
    }
}
