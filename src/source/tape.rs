//! The tape format (`docs/tape.md`): one session in one self-describing JSON Lines file, gzip
//! compressed or not. This module defines the header and records and reads a tape back, checking
//! it whole (version, every line, the counts the header promises) before anyone stores a byte.

use serde::{Deserialize, Serialize};
use std::borrow::Cow;
use std::io::{BufRead, BufReader, Read};
use std::path::Path;

use super::stream::{Got, Scanner};

/// The major version this build writes and reads. A reader refuses a greater one; fields added
/// within a major version are ignored by older readers.
pub const TAPE_VERSION: u64 = 1;

/// The first two bytes of a gzip stream.
pub const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];

/// How a tape's first line starts (after an optional byte-order mark and whitespace).
pub const HEADER_PREFIX: &[u8] = b"{\"flightrec_tape\"";

/// Line 1 of a tape.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TapeHeader {
    /// The format's major version.
    pub flightrec_tape: u64,
    /// The flightrec that wrote it.
    pub flightrec_version: String,
    pub session_id: String,
    /// When the tape was written (RFC 3339 UTC).
    pub exported_at: String,
    pub session: TapeSession,
    /// The capture summary (`flightrec capture --json`'s shape): informative, not restored.
    pub capture: serde_json::Value,
    /// The redaction manifest when the tape was redacted, else null.
    pub redaction: Option<serde_json::Value>,
    pub counts: TapeCounts,
}

/// The session object (`GET /v1/sessions/{id}`) as received, as a JSON string, and when it was
/// fetched.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct TapeSession {
    pub object: Option<String>,
    pub fetched_at: Option<String>,
}

/// How many records of each kind follow the header: a shorter tape is truncated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct TapeCounts {
    pub events: u64,
    pub revisions: u64,
    pub previews: u64,
    pub capture_log: u64,
}

/// One line after the header. Texts (`raw`, `detail`) are JSON strings holding the text exactly
/// as stored, so pretty-printed, multi-line event text comes back byte for byte.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Record<'a> {
    /// An event as stored now (its newest copy), in arrival order.
    Event {
        thread_id: Cow<'a, str>,
        /// The stored type: the SSE event name when the JSON has no `type`.
        #[serde(rename = "type")]
        event_type: Cow<'a, str>,
        source: Cow<'a, str>,
        received_at: Cow<'a, str>,
        /// How many newer copies replaced an earlier one (the `revision` records of this event).
        revision: i64,
        raw: Cow<'a, str>,
    },
    /// An earlier copy that a newer one replaced, in the order they were replaced. `event` is
    /// the position (from 0) of its event among the tape's event records.
    Revision {
        event: u64,
        source: Cow<'a, str>,
        received_at: Cow<'a, str>,
        replaced_at: Cow<'a, str>,
        raw: Cow<'a, str>,
    },
    /// A live preview frame (`event_start` / `event_delta`).
    Preview {
        thread_id: Cow<'a, str>,
        #[serde(rename = "type")]
        preview_type: Cow<'a, str>,
        ordinal: i64,
        source: Cow<'a, str>,
        received_at: Cow<'a, str>,
        raw: Cow<'a, str>,
    },
    /// A capture log entry; `detail` is its JSON object as stored, as text.
    Capture {
        thread_id: Cow<'a, str>,
        log_kind: Cow<'a, str>,
        started_at: Cow<'a, str>,
        ended_at: Option<Cow<'a, str>>,
        detail: Option<Cow<'a, str>>,
    },
}

/// A tape read whole and checked: its records by kind, in file order, each with its line number.
#[derive(Debug, Clone, PartialEq)]
pub struct Tape {
    pub header: TapeHeader,
    pub events: Vec<(u64, Record<'static>)>,
    pub revisions: Vec<(u64, Record<'static>)>,
    pub previews: Vec<(u64, Record<'static>)>,
    pub capture: Vec<(u64, Record<'static>)>,
}

/// Why a tape cannot be read. Messages name the line; the caller adds the file.
#[derive(Debug, thiserror::Error)]
pub enum TapeError {
    #[error("cannot read: {0}")]
    Io(std::io::Error),
    #[error("empty file")]
    Empty,
    #[error("line 1: not a flightrec tape header: {0}")]
    BadHeader(String),
    #[error(
        "tape format version {found} is newer than this flightrec reads ({TAPE_VERSION}); upgrade flightrec"
    )]
    TooNew { found: u64 },
    #[error("line {line}: {reason}")]
    BadLine { line: u64, reason: String },
    #[error(
        "line {line} is longer than {max} bytes: not a flightrec tape, or a record too large to import (FLIGHTREC_MAX_ITEM_BYTES)"
    )]
    TooLong { line: u64, max: usize },
    #[error(
        "truncated: the header promises {want} {what} but the tape ends after {got} (line {line})"
    )]
    Truncated {
        what: &'static str,
        want: u64,
        got: u64,
        line: u64,
    },
    #[error("line {line}: more {what} than the header's {want}")]
    TooMany {
        what: &'static str,
        want: u64,
        line: u64,
    },
}

impl From<std::io::Error> for TapeError {
    fn from(e: std::io::Error) -> Self {
        TapeError::Io(e)
    }
}

/// Whether the start of an input is a tape: gzip (only tapes are read compressed) or a tape
/// header.
pub fn looks_like_tape(head: &[u8]) -> bool {
    if head.starts_with(&GZIP_MAGIC) {
        return true;
    }
    let head = head.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(head);
    let start = head.iter().position(|b| !b.is_ascii_whitespace());
    start.is_some_and(|s| head[s..].starts_with(HEADER_PREFIX))
}

/// Whether the file at `path` is a tape, from its first bytes.
pub fn is_tape_file(path: &Path) -> std::io::Result<bool> {
    let mut head = Vec::with_capacity(64);
    std::fs::File::open(path)?.take(64).read_to_end(&mut head)?;
    Ok(looks_like_tape(&head))
}

/// Reads and checks the tape at `path`.
pub fn read_tape_file(path: &Path) -> Result<Tape, TapeError> {
    let file = std::fs::File::open(path)?;
    if file.metadata()?.is_dir() {
        return Err(TapeError::Io(std::io::Error::other("is a directory")));
    }
    read_tape(BufReader::with_capacity(1 << 16, file))
}

/// Reads and checks a tape, decompressing it when it starts with the gzip magic.
pub fn read_tape<R: BufRead>(mut input: R) -> Result<Tape, TapeError> {
    let head = input.fill_buf()?;
    if head.is_empty() {
        return Err(TapeError::Empty);
    }
    if head.starts_with(&GZIP_MAGIC) {
        let gz = flate2::bufread::MultiGzDecoder::new(input);
        read_lines(BufReader::with_capacity(1 << 16, gz))
    } else {
        read_lines(input)
    }
}

/// The cap on a tape's header line (its session object, capture summary and redaction manifest).
fn max_header_bytes() -> usize {
    super::max_item_bytes()
}

/// The cap on a record line: an event's text escaped as a JSON string, with room to spare.
fn max_record_bytes() -> usize {
    super::max_item_bytes().saturating_mul(2)
}

fn read_lines<R: BufRead>(input: R) -> Result<Tape, TapeError> {
    let mut on = |_| {};
    let mut input = Scanner::new(input, &mut on);
    let mut line = String::new();
    let mut n: u64 = 1;
    let read =
        |input: &mut Scanner<'_, R>, line: &mut String, n: u64| -> Result<usize, TapeError> {
            let max = if n == 1 {
                max_header_bytes()
            } else {
                max_record_bytes()
            };
            let mut bytes = Vec::new();
            let got = input
                .read_line_or_stop(max, true, &mut bytes)
                .map_err(|e| TapeError::BadLine {
                    line: n,
                    reason: match e.kind() {
                        std::io::ErrorKind::UnexpectedEof => {
                            format!("the compressed stream ends early (truncated): {e}")
                        }
                        _ => format!("cannot read: {e}"),
                    },
                })?;
            match got {
                None => {
                    line.clear();
                    Ok(0)
                }
                Some(Got::TooLong { .. }) => Err(TapeError::TooLong { line: n, max }),
                Some(_) => {
                    *line = String::from_utf8(bytes).map_err(|_| TapeError::BadLine {
                        line: n,
                        reason: "not UTF-8 text".to_string(),
                    })?;
                    Ok(line.len())
                }
            }
        };
    if read(&mut input, &mut line, n)? == 0 {
        return Err(TapeError::Empty);
    }
    let header = parse_header(line.strip_prefix('\u{feff}').unwrap_or(&line))?;
    let want = header.counts;
    let mut tape = Tape {
        header,
        events: Vec::new(),
        revisions: Vec::new(),
        previews: Vec::new(),
        capture: Vec::new(),
    };
    loop {
        n += 1;
        if read(&mut input, &mut line, n)? == 0 {
            break;
        }
        if !line.ends_with('\n') {
            return Err(TapeError::BadLine {
                line: n,
                reason: "the last line is incomplete (the tape is truncated)".into(),
            });
        }
        if line.trim().is_empty() {
            continue;
        }
        let record: Record<'static> =
            serde_json::from_str(&line).map_err(|e| TapeError::BadLine {
                line: n,
                reason: format!("not a tape record: {}", one_line(&e.to_string())),
            })?;
        let (list, what, limit) = match &record {
            Record::Event { .. } => (&mut tape.events, "events", want.events),
            Record::Revision { event, .. } => {
                if *event >= want.events {
                    return Err(TapeError::BadLine {
                        line: n,
                        reason: format!(
                            "revision of event {event}, but the tape has {} events",
                            want.events
                        ),
                    });
                }
                (&mut tape.revisions, "revisions", want.revisions)
            }
            Record::Preview { .. } => (&mut tape.previews, "previews", want.previews),
            Record::Capture { .. } => (&mut tape.capture, "capture log entries", want.capture_log),
        };
        if list.len() as u64 >= limit {
            return Err(TapeError::TooMany {
                what,
                want: limit,
                line: n,
            });
        }
        list.push((n, record));
    }
    let last = n - 1;
    for (what, want, got) in [
        ("events", want.events, tape.events.len()),
        ("revisions", want.revisions, tape.revisions.len()),
        ("previews", want.previews, tape.previews.len()),
        ("capture log entries", want.capture_log, tape.capture.len()),
    ] {
        if (got as u64) < want {
            return Err(TapeError::Truncated {
                what,
                want,
                got: got as u64,
                line: last,
            });
        }
    }
    Ok(tape)
}

/// A message on one line: serde's quote the bad value decoded, line breaks and all.
fn one_line(s: &str) -> String {
    s.replace('\n', "\\n").replace('\r', "\\r")
}

fn parse_header(line: &str) -> Result<TapeHeader, TapeError> {
    let value: serde_json::Value =
        serde_json::from_str(line).map_err(|e| TapeError::BadHeader(one_line(&e.to_string())))?;
    let version = value
        .get("flightrec_tape")
        .ok_or_else(|| TapeError::BadHeader("no \"flightrec_tape\" version".into()))?;
    let version = version.as_u64().ok_or_else(|| {
        TapeError::BadHeader(format!(
            "\"flightrec_tape\" is {version}, expected a positive integer"
        ))
    })?;
    if version > TAPE_VERSION {
        return Err(TapeError::TooNew { found: version });
    }
    if version == 0 {
        return Err(TapeError::BadHeader("version 0 does not exist".into()));
    }
    serde_json::from_value(value).map_err(|e| TapeError::BadHeader(one_line(&e.to_string())))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(counts: TapeCounts) -> String {
        serde_json::to_string(&TapeHeader {
            flightrec_tape: 1,
            flightrec_version: "0.1.0".into(),
            session_id: "sesn_1".into(),
            exported_at: "2026-01-01T00:00:00.000Z".into(),
            session: TapeSession::default(),
            capture: serde_json::Value::Null,
            redaction: None,
            counts,
        })
        .unwrap_or_default()
    }

    fn event(raw: &str) -> String {
        serde_json::to_string(&Record::Event {
            thread_id: "".into(),
            event_type: "agent.message".into(),
            source: "import".into(),
            received_at: "t".into(),
            revision: 0,
            raw: raw.into(),
        })
        .unwrap_or_default()
    }

    fn err(text: &str) -> String {
        match read_tape(text.as_bytes()) {
            Ok(_) => "ok".into(),
            Err(e) => e.to_string(),
        }
    }

    #[test]
    fn detects_tapes_by_header_or_gzip() {
        assert!(looks_like_tape(b"{\"flightrec_tape\":1,"));
        assert!(looks_like_tape(b"\xEF\xBB\xBF \n{\"flightrec_tape\":1"));
        assert!(looks_like_tape(&[0x1f, 0x8b, 8]));
        assert!(!looks_like_tape(b"{\"type\":\"agent.message\"}"));
    }

    #[test]
    fn the_event_log_reader_refuses_a_tape_rather_than_quarantining_it() {
        let tape = format!("{}\n", header(TapeCounts::default()));
        let got = crate::source::read_events(
            tape.as_bytes(),
            &mut |_| Ok::<(), std::convert::Infallible>(()),
            &mut |_| {},
        )
        .map_err(crate::source::ReadError::into_source);
        assert!(
            matches!(got, Err(crate::source::SourceError::Tape)),
            "{got:?}"
        );
    }

    #[test]
    fn counts_catch_truncation_and_extra_records() {
        let one = TapeCounts {
            events: 1,
            ..TapeCounts::default()
        };
        let ok = format!("{}\n{}\n", header(one), event("{}"));
        assert_eq!(err(&ok), "ok");
        assert!(
            err(&format!("{}\n", header(one)))
                .starts_with("truncated: the header promises 1 events")
        );
        let cut = &ok[..ok.len() - 3];
        assert!(err(cut).contains("incomplete"), "{}", err(cut));
        let extra = format!("{ok}{}\n", event("{}"));
        assert_eq!(err(&extra), "line 3: more events than the header's 1");
    }

    #[test]
    fn versions_and_bad_lines_are_named() {
        let h =
            header(TapeCounts::default()).replace("\"flightrec_tape\":1", "\"flightrec_tape\":2");
        assert!(err(&format!("{h}\n")).contains("version 2 is newer"));
        assert!(err("{\"a\":1}\n").starts_with("line 1: not a flightrec tape header"));
        let one = TapeCounts {
            events: 1,
            ..TapeCounts::default()
        };
        let bad = format!("{}\n{{\"kind\":\"nope\"}}\n", header(one));
        assert!(
            err(&bad).starts_with("line 2: not a tape record"),
            "{}",
            err(&bad)
        );
    }
}
