//! Where events come from: files (SSE captures, JSON Lines, JSON documents such as list pages and
//! dumps, tapes) and, with the `net` feature, the live API (`api`, the client, and `redirect`).
//!
//! A source turns input into [`Item`]s: event texts with their origin, or bad frames with a
//! reason. It never interprets events beyond framing and never writes anywhere; the caller parses
//! envelopes and stores.

#[cfg(feature = "net")]
pub mod api;
mod detect;
mod docs;
mod dump;
mod input;
mod json;
#[cfg(feature = "net")]
pub mod redirect;
mod scan;
mod sse;
mod stream;
pub mod tape;
mod threads;

pub use detect::Format;
pub use input::{fifo_wait, open_input};
pub use sse::{SseFrame, decode_sse_chunks};

use std::fmt;
use std::io::BufRead;
use std::path::Path;

/// Where in an input an item was found, for messages and the quarantine.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    Line(u64),
    /// An element of a list page that sits on one line of JSON Lines.
    LineItem {
        line: u64,
        item: u64,
    },
    Frame(u64),
    /// An element of a JSON document (an array, or a page's `data`): (document, element), from 1.
    Item {
        document: u64,
        item: u64,
    },
    Document(u64),
    /// A member of a dump document, as a JSONPath (`$.threads[1].events[0]`).
    Path {
        document: u64,
        path: String,
    },
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Origin::Line(n) => write!(f, "line {n}"),
            Origin::LineItem { line, item } => write!(f, "line {line} item {item}"),
            Origin::Frame(n) => write!(f, "frame {n}"),
            Origin::Item { document: 1, item } => write!(f, "item {item}"),
            Origin::Item { document, item } => write!(f, "document {document} item {item}"),
            Origin::Document(n) => write!(f, "document {n}"),
            Origin::Path { document: 1, path } => write!(f, "{path}"),
            Origin::Path { document, path } => write!(f, "document {document} {path}"),
        }
    }
}

/// One thing found in an input.
#[derive(Debug, Clone, PartialEq)]
pub enum Item<'a> {
    /// The JSON text of one event (or preview frame), exactly as it appears in the input.
    /// `frame_name` is the SSE `event:` name, when there was one.
    Event {
        origin: Origin,
        frame_name: Option<&'a str>,
        text: &'a str,
    },
    /// A frame or line that is not usable as an event; kept byte for byte by the caller.
    Bad {
        origin: Origin,
        raw: &'a [u8],
        reason: String,
    },
    /// A thread object (§6.3), e.g. from a dump document; its text may be rebuilt without the
    /// dump's `events` member.
    ThreadObject {
        origin: Origin,
        text: std::borrow::Cow<'a, str>,
    },
    /// The JSON text of one event of a thread's own log (a dump's `threads[].events`).
    ThreadEvent {
        origin: Origin,
        thread_id: &'a str,
        text: &'a str,
    },
    /// An SSE heartbeat (`event: ping`).
    Ping { origin: Origin },
    /// An SSE `event: error` frame: the server's error body. It ends a live connection.
    ErrorFrame { origin: Origin, data: &'a str },
}

/// A problem that stops reading an input altogether.
#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    #[error("cannot read: {0}")]
    Io(std::io::Error),
    #[error("empty file")]
    Empty,
    #[error("only whitespace ({bytes} bytes)")]
    Blank { bytes: u64 },
    #[error(
        "no writer on this FIFO within {secs} s (FLIGHTREC_FIFO_WAIT_SECS sets how long to wait; 0 waits without limit)"
    )]
    NoWriter { secs: u64 },
    #[error(
        "not an event log: expected JSON Lines, an SSE capture or a JSON list page (starts with {0})"
    )]
    Unrecognised(String),
    #[error("not text: invalid UTF-8 at byte {offset} (line {line})")]
    NotText { offset: u64, line: u64 },
    #[error(
        "{origin}: a JSON document of no known shape: {}",
        dump::ACCEPTED_SHAPES
    )]
    UnknownShape { origin: Origin },
    #[error(
        "{what} at byte {offset} (line {line}) is longer than {max} bytes: not an event log, or an event too large to import"
    )]
    TooLong {
        what: &'static str,
        offset: u64,
        line: u64,
        max: usize,
    },
    #[error("a flightrec tape, not an event log: import it with `flightrec import FILE`")]
    Tape,
}

/// Why [`read_events`] stopped early: the input (a [`SourceError`]), or the caller's sink,
/// whose own error `E` comes back as it was returned (e.g. the database's), typed.
#[derive(Debug, thiserror::Error)]
pub enum ReadError<E> {
    #[error(transparent)]
    Source(SourceError),
    /// The sink refused an item; reading stopped there.
    #[error(transparent)]
    Sink(E),
}

impl From<std::io::Error> for SourceError {
    fn from(e: std::io::Error) -> Self {
        SourceError::Io(e)
    }
}

impl ReadError<std::convert::Infallible> {
    /// The input's error, from a read whose sink cannot fail.
    pub fn into_source(self) -> SourceError {
        match self {
            ReadError::Source(e) => e,
            ReadError::Sink(never) => match never {},
        }
    }
}

impl<E> From<SourceError> for ReadError<E> {
    fn from(e: SourceError) -> Self {
        ReadError::Source(e)
    }
}

impl<E> From<std::io::Error> for ReadError<E> {
    fn from(e: std::io::Error) -> Self {
        ReadError::Source(SourceError::Io(e))
    }
}

/// The largest single item (an SSE frame, a line, an element of a JSON document, a tape's header
/// line; a tape record line may be twice it) read into memory: the bound on an import's memory. 256 MiB unless `FLIGHTREC_MAX_ITEM_BYTES` (hidden,
/// for tests) says otherwise.
pub fn max_item_bytes() -> usize {
    std::env::var("FLIGHTREC_MAX_ITEM_BYTES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(256 << 20)
}

/// Reads one input, detecting its format from its content, and hands every item to `sink`.
/// `on_bytes` is told how many bytes were consumed, for progress bars. The first error the sink
/// returns stops the read and comes back as [`ReadError::Sink`].
pub fn read_events<R: BufRead + Unpin, E>(
    input: R,
    sink: &mut dyn FnMut(Item<'_>) -> Result<(), E>,
    on_bytes: &mut dyn FnMut(u64),
) -> Result<Format, ReadError<E>> {
    let mut input = detect::with_head(input)?;
    let format = detect::detect(&mut input)?;
    match format {
        Format::Sse => sse::read_sse(input, sink, on_bytes)?,
        Format::JsonLines => json::read_lines(input, sink, on_bytes)?,
        Format::JsonDocument => docs::read_documents(input, sink, on_bytes)?,
        Format::Tape => return Err(SourceError::Tape.into()),
    }
    Ok(format)
}

/// Opens a file for [`read_events`] (once: a pipe or FIFO keeps every byte; see [`open_input`],
/// which this is without a word while waiting for a FIFO's writer).
pub fn open_file(path: &Path) -> Result<(std::io::BufReader<std::fs::File>, u64), SourceError> {
    open_input(path, &mut || {})
}

#[cfg(test)]
mod props;
#[cfg(test)]
mod tape_props;
#[cfg(test)]
mod tests;
