//! The capture log's entries: one type per kind, written by the recorder and the importer and read
//! back by `analysis::capture` (connections, history passes, gaps). Field names live here only.
//!
//! The detail column holds the JSON of these types. Its bytes are those the recorder wrote before
//! the types existed (`json!`, whose maps sort their keys): so every struct lists its fields in
//! alphabetical order, and the text is the same whether a type is written directly or through a
//! `serde_json::Value`. A field is skipped only where that shape of the kind never had it; `None`
//! elsewhere is written as `null`, as before.
//!
//! Reading is lenient, as the key-by-key reading it replaces: a missing or mistyped field reads as
//! its default (no run, connection 0, cause "unknown", not complete), never as a failed entry.

use serde::de::{DeserializeOwned, Deserializer};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The `kind` column of each entry.
pub mod kind {
    pub const CONNECT: &str = "connect";
    pub const CONNECTION: &str = "connection";
    pub const HISTORY: &str = "history";
    pub const RETRY: &str = "retry";
    pub const ERROR_FRAME: &str = "error_frame";
    pub const THREADS: &str = "threads";
    pub const IMPORT: &str = "import";
    pub const UNBLOCK: &str = "unblock";
}

/// `connect`: a stream connection opened (written as it opens, so a recorder killed with the
/// connection open still left a trace).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ConnectDetail {
    /// The connection's number within its run and stream, from 1.
    #[serde(deserialize_with = "lenient")]
    pub connection: u64,
    /// The recording run (a random id per process); `None` only in entries written by hand.
    #[serde(deserialize_with = "lenient")]
    pub run: Option<String>,
}

/// `connection`: a stream connection closed, with why; its interval was covered by the stream.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ConnectionDetail {
    /// Where the connection's first history pass started (`created_at[gte]`); `None`: the start.
    #[serde(deserialize_with = "lenient")]
    pub backfill_from: Option<String>,
    /// Why it closed ("closed by the server", "stopped: session idle", …).
    #[serde(deserialize_with = "lenient_cause")]
    pub cause: String,
    #[serde(deserialize_with = "lenient")]
    pub connection: u64,
    /// Frames delivered on it (events and previews, not pings).
    #[serde(deserialize_with = "lenient")]
    pub events: Option<u64>,
    #[serde(deserialize_with = "lenient")]
    pub run: Option<String>,
}

impl Default for ConnectionDetail {
    fn default() -> Self {
        ConnectionDetail {
            backfill_from: None,
            cause: UNKNOWN_CAUSE.into(),
            connection: 0,
            events: None,
            run: None,
        }
    }
}

const UNKNOWN_CAUSE: &str = "unknown";

/// `history`: a pass over the event log, or a note about one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum HistoryDetail {
    /// A pass that reached the last page: everything processed before it started is stored.
    Pass(HistoryPass),
    /// The server handed out a page cursor twice; paging stopped there.
    RepeatedCursor { cursor: String, warning: String },
}

/// A completed history pass. Any `history` entry reads as one; only `complete: true` proves.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct HistoryPass {
    #[serde(deserialize_with = "lenient")]
    pub complete: bool,
    #[serde(deserialize_with = "lenient")]
    pub duplicate: u64,
    /// The pass's `created_at[gte]`; `None`: from the start.
    #[serde(deserialize_with = "lenient")]
    pub from: Option<String>,
    #[serde(deserialize_with = "lenient")]
    pub new: u64,
    #[serde(deserialize_with = "lenient")]
    pub pages: u64,
    #[serde(deserialize_with = "lenient")]
    pub quarantined: u64,
    #[serde(deserialize_with = "lenient")]
    pub updated: u64,
}

impl HistoryDetail {
    pub const REPEATED_CURSOR: &str = "the server repeated a page cursor; stopped paging";

    pub fn repeated_cursor(cursor: String) -> HistoryDetail {
        HistoryDetail::RepeatedCursor {
            cursor,
            warning: Self::REPEATED_CURSOR.into(),
        }
    }
}

/// What a retry was retrying.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum During {
    #[serde(rename = "connect")]
    Connect,
    #[serde(rename = "history page")]
    HistoryPage,
}

/// `retry`: a failed request, retried after a backoff (or not, when it was fatal).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RetryDetail {
    /// The page request's attempt, from 1 (history pages only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub attempt: Option<u32>,
    /// The connection that failed to open (connects only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub connection: Option<u64>,
    pub during: During,
    pub error: String,
    /// Connects only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub run: Option<String>,
    /// The HTTP status, if the server answered.
    pub status: Option<u16>,
}

impl RetryDetail {
    pub fn connect(run: &str, connection: u64, status: Option<u16>, error: String) -> Self {
        RetryDetail {
            attempt: None,
            connection: Some(connection),
            during: During::Connect,
            error,
            run: Some(run.to_string()),
            status,
        }
    }

    pub fn history_page(attempt: u32, status: Option<u16>, error: String) -> Self {
        RetryDetail {
            attempt: Some(attempt),
            connection: None,
            during: During::HistoryPage,
            error,
            run: None,
            status,
        }
    }
}

/// `error_frame`: an `event: error` frame, from a stream or a file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum ErrorFrameDetail {
    Stream {
        connection: u64,
        data: String,
    },
    File {
        data: String,
        file: String,
        /// Where in the file (line or element).
        #[serde(rename = "where")]
        at: String,
    },
}

/// `threads`: a fetch of the session's thread list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum ThreadsDetail {
    Stored {
        pages: u64,
        run: String,
        threads: usize,
        /// What prompted the fetch (start, a thread change, the end).
        why: String,
    },
    Failed {
        error: String,
        run: String,
        status: Option<u16>,
        warning: String,
        why: String,
    },
}

impl ThreadsDetail {
    pub const UNAVAILABLE: &str =
        "the thread list is not available; not asked for again in this recording";
    pub const UNREAD: &str = "the thread list could not be read; the next thread change or the end of the recording tries again";
}

/// `import`: a file imported, with its counts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ImportDetail {
    pub duplicate: u64,
    pub error_frames: u64,
    pub file: String,
    pub format: String,
    pub id_collisions: usize,
    pub new: u64,
    pub pings: u64,
    pub previews: u64,
    pub quarantined: u64,
    pub updated: u64,
}

/// `unblock`: user events sent by `flightrec unblock` (`POST /v1/sessions/{id}/events`), so a
/// transcript shows who answered what and when (the entry's `started_at`). Never the key: the
/// request is its method, URL and body.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct UnblockDetail {
    /// `result`, `error result`, `allow`, `deny` or `interrupt`.
    #[serde(deserialize_with = "lenient")]
    pub action: String,
    /// The ids the server gave the events, in the order sent.
    #[serde(deserialize_with = "lenient")]
    pub echoed_ids: Vec<String>,
    /// The blocking event answered; `None` for an interrupt.
    #[serde(deserialize_with = "lenient")]
    pub event_id: Option<String>,
    /// The request's JSON body, as sent.
    #[serde(deserialize_with = "lenient")]
    pub request_body: Value,
    /// The answer's HTTP status.
    #[serde(deserialize_with = "lenient")]
    pub status: u16,
    #[serde(deserialize_with = "lenient")]
    pub url: String,
}

/// Any entry's detail; its variant is its kind.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum CaptureDetail {
    Connect(ConnectDetail),
    Connection(ConnectionDetail),
    History(HistoryDetail),
    Retry(RetryDetail),
    ErrorFrame(ErrorFrameDetail),
    Threads(ThreadsDetail),
    Import(ImportDetail),
    Unblock(UnblockDetail),
}

impl CaptureDetail {
    /// The entry's `kind` column.
    pub fn kind(&self) -> &'static str {
        match self {
            CaptureDetail::Connect(_) => kind::CONNECT,
            CaptureDetail::Connection(_) => kind::CONNECTION,
            CaptureDetail::History(_) => kind::HISTORY,
            CaptureDetail::Retry(_) => kind::RETRY,
            CaptureDetail::ErrorFrame(_) => kind::ERROR_FRAME,
            CaptureDetail::Threads(_) => kind::THREADS,
            CaptureDetail::Import(_) => kind::IMPORT,
            CaptureDetail::Unblock(_) => kind::UNBLOCK,
        }
    }

    /// The detail as the store takes it.
    pub fn to_value(&self) -> Value {
        // Strings, numbers and options only: serializing cannot fail.
        serde_json::to_value(self).unwrap_or(Value::Null)
    }
}

macro_rules! from_detail {
    ($($t:ident => $v:ident),*) => {$(
        impl From<$t> for CaptureDetail {
            fn from(d: $t) -> Self {
                CaptureDetail::$v(d)
            }
        }
    )*};
}
from_detail!(
    ConnectDetail => Connect,
    ConnectionDetail => Connection,
    HistoryDetail => History,
    RetryDetail => Retry,
    ErrorFrameDetail => ErrorFrame,
    ThreadsDetail => Threads,
    ImportDetail => Import,
    UnblockDetail => Unblock
);

impl From<HistoryPass> for CaptureDetail {
    fn from(p: HistoryPass) -> Self {
        CaptureDetail::History(HistoryDetail::Pass(p))
    }
}

/// Reads a detail leniently: not an object (or not JSON at all) reads as all defaults.
pub fn read<T: DeserializeOwned + Default>(detail: &Value) -> T {
    let empty = Value::Object(serde_json::Map::new());
    let d = if detail.is_object() { detail } else { &empty };
    T::deserialize(d).unwrap_or_default()
}

/// A field of the wrong type reads as its default, as a missing one does.
fn lenient<'de, D: Deserializer<'de>, T: DeserializeOwned + Default>(d: D) -> Result<T, D::Error> {
    let v = Value::deserialize(d)?;
    Ok(T::deserialize(&v).unwrap_or_default())
}

fn lenient_cause<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    let v = Value::deserialize(d)?;
    Ok(v.as_str().unwrap_or(UNKNOWN_CAUSE).to_string())
}

#[cfg(test)]
mod tests;
