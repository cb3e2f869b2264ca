//! The event vocabulary, with no I/O.
//!
//! The record of an event is the JSON text exactly as received (kept whole, as `raw`). Everything
//! else is derived from it: the few promoted fields the store indexes ([`Envelope`], cheap to
//! extract), and the typed view the analysis reads ([`typed::EventKind`]). Unknown types and
//! fields are kept.

pub mod capture;
pub mod catalogue;
pub mod envelope;
pub mod search_text;
pub mod term;
pub mod text;
pub mod time;
pub mod typed;

pub use catalogue::{KNOWN_TYPES, PREVIEW_TYPES, is_preview_type};
pub use envelope::{Envelope, EnvelopeError};
pub use time::parse_timestamp_micros;

/// Whether `s` is a session id: `sesn_` then 1 to 128 ASCII letters and digits. Ids are checked
/// where they enter (`--session`, tapes), since they end up in paths, URLs and suggested commands.
pub fn is_session_id(s: &str) -> bool {
    s.strip_prefix("sesn_").is_some_and(|rest| {
        (1..=128).contains(&rest.len()) && rest.bytes().all(|b| b.is_ascii_alphanumeric())
    })
}

/// Where an event came from. Stored with every row.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Source {
    /// The live SSE stream.
    Stream,
    /// A page of `GET /v1/sessions/{id}/events`.
    List,
    /// A file given to `flightrec import`.
    Import,
}

impl Source {
    pub fn as_str(self) -> &'static str {
        match self {
            Source::Stream => "stream",
            Source::List => "list",
            Source::Import => "import",
        }
    }

    pub fn parse(s: &str) -> Option<Source> {
        match s {
            "stream" => Some(Source::Stream),
            "list" => Some(Source::List),
            "import" => Some(Source::Import),
            _ => None,
        }
    }
}
