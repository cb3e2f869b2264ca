//! Each entry kind's bytes, pinned: the typed detail must write exactly what the `json!` the
//! recorder and the importer used before wrote (the old expression is repeated here), and what is
//! already in users' databases.

use super::*;
use serde_json::json;

/// The typed detail writes `want`, the old `json!` wrote `want`, directly and through a `Value`.
fn pin(detail: impl Into<CaptureDetail>, old: Value, want: &str) {
    let detail = detail.into();
    assert_eq!(old.to_string(), want, "the old json! output");
    assert_eq!(
        detail.to_value().to_string(),
        want,
        "{} through a Value",
        detail.kind()
    );
    assert_eq!(
        serde_json::to_string(&detail).unwrap(),
        want,
        "{} written directly (field order)",
        detail.kind()
    );
}

const RUN: &str = "00c0ffee00c0ffee";

#[test]
fn connect_bytes() {
    let conn = 3u64;
    pin(
        ConnectDetail {
            connection: conn,
            run: Some(RUN.into()),
        },
        json!({ "run": RUN, "connection": conn }),
        r#"{"connection":3,"run":"00c0ffee00c0ffee"}"#,
    );
}

#[test]
fn connection_bytes() {
    let (conn, n) = (2u64, 41u64);
    for from in [None, Some("2026-08-07T14:00:00.000Z".to_string())] {
        let cause = "closed by the server".to_string();
        let want = match &from {
            None => {
                r#"{"backfill_from":null,"cause":"closed by the server","connection":2,"events":41,"run":"00c0ffee00c0ffee"}"#
            }
            Some(_) => {
                r#"{"backfill_from":"2026-08-07T14:00:00.000Z","cause":"closed by the server","connection":2,"events":41,"run":"00c0ffee00c0ffee"}"#
            }
        };
        pin(
            ConnectionDetail {
                backfill_from: from.clone(),
                cause: cause.clone(),
                connection: conn,
                events: Some(n),
                run: Some(RUN.into()),
            },
            json!({ "run": RUN, "connection": conn, "cause": cause, "events": n, "backfill_from": from }),
            want,
        );
    }
}

#[test]
fn history_pass_bytes() {
    let counts = (5u64, 1u64, 2u64, 0u64);
    let (new, updated, duplicate, quarantined) = counts;
    for from in [None, Some("2026-08-07T14:00:00.000Z")] {
        let pages = 3u64;
        let want = match from {
            None => {
                r#"{"complete":true,"duplicate":2,"from":null,"new":5,"pages":3,"quarantined":0,"updated":1}"#
            }
            Some(_) => {
                r#"{"complete":true,"duplicate":2,"from":"2026-08-07T14:00:00.000Z","new":5,"pages":3,"quarantined":0,"updated":1}"#
            }
        };
        pin(
            HistoryPass {
                complete: true,
                duplicate,
                from: from.map(str::to_string),
                new,
                pages,
                quarantined,
                updated,
            },
            json!({
                "from": from, "pages": pages, "new": new, "updated": updated,
                "duplicate": duplicate, "quarantined": quarantined, "complete": true,
            }),
            want,
        );
    }
}

#[test]
fn history_repeated_cursor_bytes() {
    let next = "c2".to_string();
    pin(
        HistoryDetail::repeated_cursor(next.clone()),
        json!({ "warning": "the server repeated a page cursor; stopped paging", "cursor": next }),
        r#"{"cursor":"c2","warning":"the server repeated a page cursor; stopped paging"}"#,
    );
}

#[test]
fn retry_bytes() {
    let conn = 4u64;
    for status in [Some(503u16), None] {
        let error = "https://x/v1/sessions/s/stream: HTTP 503 overloaded_error: busy".to_string();
        let want = match status {
            Some(_) => {
                r#"{"connection":4,"during":"connect","error":"https://x/v1/sessions/s/stream: HTTP 503 overloaded_error: busy","run":"00c0ffee00c0ffee","status":503}"#
            }
            None => {
                r#"{"connection":4,"during":"connect","error":"https://x/v1/sessions/s/stream: HTTP 503 overloaded_error: busy","run":"00c0ffee00c0ffee","status":null}"#
            }
        };
        pin(
            RetryDetail::connect(RUN, conn, status, error.clone()),
            json!({ "run": RUN, "connection": conn, "during": "connect", "status": status, "error": error }),
            want,
        );
    }
    let attempt = 2;
    let error = "https://x/v1/sessions/s/events: connection reset".to_string();
    let status: Option<u16> = None;
    pin(
        RetryDetail::history_page(attempt, status, error.clone()),
        json!({ "during": "history page", "attempt": attempt, "status": status, "error": error }),
        r#"{"attempt":2,"during":"history page","error":"https://x/v1/sessions/s/events: connection reset","status":null}"#,
    );
}

#[test]
fn error_frame_bytes() {
    let (conn, data) = (1u64, r#"{"type":"error"}"#.to_string());
    pin(
        ErrorFrameDetail::Stream {
            connection: conn,
            data: data.clone(),
        },
        json!({ "connection": conn, "data": data }),
        r#"{"connection":1,"data":"{\"type\":\"error\"}"}"#,
    );
    let (path, origin) = ("run.sse", "line 7");
    pin(
        ErrorFrameDetail::File {
            data: data.clone(),
            file: path.into(),
            at: origin.into(),
        },
        json!({ "file": path, "where": origin.to_string(), "data": data }),
        r#"{"data":"{\"type\":\"error\"}","file":"run.sse","where":"line 7"}"#,
    );
}

#[test]
fn threads_bytes() {
    let (why, pages, n) = ("start", 2u64, 3usize);
    pin(
        ThreadsDetail::Stored {
            pages,
            run: RUN.into(),
            threads: n,
            why: why.into(),
        },
        json!({ "run": RUN, "why": why, "pages": pages, "threads": n }),
        r#"{"pages":2,"run":"00c0ffee00c0ffee","threads":3,"why":"start"}"#,
    );
    let error = "https://x/v1/sessions/s/threads: HTTP 404 not_found_error: no".to_string();
    for (fatal, status) in [(true, Some(404u16)), (false, None)] {
        let warning = if fatal {
            "the thread list is not available; not asked for again in this recording"
        } else {
            "the thread list could not be read; the next thread change or the end of the recording tries again"
        };
        let want = if fatal {
            r#"{"error":"https://x/v1/sessions/s/threads: HTTP 404 not_found_error: no","run":"00c0ffee00c0ffee","status":404,"warning":"the thread list is not available; not asked for again in this recording","why":"end"}"#
        } else {
            r#"{"error":"https://x/v1/sessions/s/threads: HTTP 404 not_found_error: no","run":"00c0ffee00c0ffee","status":null,"warning":"the thread list could not be read; the next thread change or the end of the recording tries again","why":"end"}"#
        };
        pin(
            ThreadsDetail::Failed {
                error: error.clone(),
                run: RUN.into(),
                status,
                warning: if fatal {
                    ThreadsDetail::UNAVAILABLE
                } else {
                    ThreadsDetail::UNREAD
                }
                .into(),
                why: "end".into(),
            },
            json!({
                "run": RUN, "why": "end", "status": status, "error": error,
                "warning": warning,
            }),
            want,
        );
    }
}

#[test]
fn import_bytes() {
    let collisions = ["a".to_string()];
    pin(
        ImportDetail {
            duplicate: 3,
            error_frames: 1,
            file: "s.jsonl".into(),
            format: "jsonl".into(),
            id_collisions: collisions.len(),
            new: 10,
            pings: 4,
            previews: 2,
            quarantined: 1,
            updated: 5,
        },
        json!({
            "file": "s.jsonl", "format": "jsonl", "new": 10u64,
            "updated": 5u64, "duplicate": 3u64,
            "previews": 2u64, "quarantined": 1u64,
            "pings": 4u64, "error_frames": 1u64,
            "id_collisions": collisions.len(),
        }),
        r#"{"duplicate":3,"error_frames":1,"file":"s.jsonl","format":"jsonl","id_collisions":1,"new":10,"pings":4,"previews":2,"quarantined":1,"updated":5}"#,
    );
}

#[test]
fn each_detail_has_its_kind() {
    let kinds: Vec<&str> = [
        CaptureDetail::from(ConnectDetail::default()),
        ConnectionDetail::default().into(),
        HistoryPass::default().into(),
        HistoryDetail::repeated_cursor("c".into()).into(),
        RetryDetail::history_page(1, None, String::new()).into(),
        ErrorFrameDetail::Stream {
            connection: 1,
            data: String::new(),
        }
        .into(),
        ThreadsDetail::Stored {
            pages: 1,
            run: String::new(),
            threads: 0,
            why: String::new(),
        }
        .into(),
        ImportDetail {
            duplicate: 0,
            error_frames: 0,
            file: String::new(),
            format: String::new(),
            id_collisions: 0,
            new: 0,
            pings: 0,
            previews: 0,
            quarantined: 0,
            updated: 0,
        }
        .into(),
    ]
    .iter()
    .map(CaptureDetail::kind)
    .collect();
    assert_eq!(
        kinds,
        [
            "connect",
            "connection",
            "history",
            "history",
            "retry",
            "error_frame",
            "threads",
            "import"
        ]
    );
}

#[test]
fn reading_is_as_lenient_as_reading_key_by_key() {
    let c: ConnectionDetail = read(&json!({"run": 7, "connection": "2", "events": -1}));
    assert_eq!(c, ConnectionDetail::default());
    assert_eq!(c.cause, "unknown");
    let c: ConnectionDetail = read(&Value::Null);
    assert_eq!(c.cause, "unknown");
    let c: ConnectionDetail = read(&json!({"cause": 5, "connection": 2, "run": "r"}));
    assert_eq!(
        (c.cause.as_str(), c.connection, c.run.as_deref()),
        ("unknown", 2, Some("r"))
    );
    let p: HistoryPass = read(&json!({"complete": "yes", "pages": 1}));
    assert!(!p.complete);
    let p: HistoryPass = read(&json!({"complete": true, "pages": "x", "from": 3}));
    assert!(p.complete, "a mistyped field does not spoil the others");
    let p: HistoryPass = read(&json!({"warning": "w", "cursor": "c"}));
    assert!(!p.complete, "a repeated-cursor note proves nothing");
}
