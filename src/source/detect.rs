//! Telling the format of an input from its first bytes.

use std::io::{BufRead, Read};

use super::SourceError;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// `text/event-stream` as `curl -N` saves it.
    Sse,
    /// One JSON object per line: events, list pages or session objects.
    JsonLines,
    /// Whitespace-separated JSON documents, e.g. pretty-printed list pages or a JSON array.
    JsonDocument,
    /// A flightrec tape (`docs/tape.md`): a header line, or gzip. Read by [`super::tape`].
    Tape,
}

impl Format {
    pub fn name(self) -> &'static str {
        match self {
            Format::Sse => "sse",
            Format::JsonLines => "jsonl",
            Format::JsonDocument => "json",
            Format::Tape => "tape",
        }
    }
}

const SSE_FIELDS: [&[u8]; 5] = [b"event:", b"data:", b"id:", b"retry:", b":"];

/// The most read ahead to tell the format.
const HEAD: usize = 1 << 16;

/// The input with enough of its start read ahead for [`detect`] to see at once: up to the end
/// of its first line that is not blank, 64 KiB or the end. A pipe's read returns what was written
/// so far, which may be a single byte; the format is not to be told from that.
pub fn with_head<R: BufRead>(
    mut input: R,
) -> std::io::Result<std::io::Chain<std::io::Cursor<Vec<u8>>, R>> {
    let mut head = Vec::new();
    loop {
        let buf = input.fill_buf()?;
        if buf.is_empty() {
            break;
        }
        let n = buf.len().min(HEAD - head.len());
        head.extend_from_slice(&buf[..n]);
        input.consume(n);
        let start = head.iter().position(|b| !b.is_ascii_whitespace());
        if head.len() >= HEAD || start.is_some_and(|s| head[s..].contains(&b'\n')) {
            break;
        }
    }
    Ok(std::io::Cursor::new(head).chain(input))
}

/// Looks at the input's start without consuming anything but a byte-order mark.
pub fn detect<R: BufRead>(input: &mut R) -> Result<Format, SourceError> {
    let buf = input.fill_buf()?;
    if buf.is_empty() {
        return Err(SourceError::Empty);
    }
    if super::tape::looks_like_tape(buf) {
        return Ok(Format::Tape);
    }
    if buf.starts_with(b"\xEF\xBB\xBF") {
        input.consume(3);
    }
    let buf = input.fill_buf()?;
    let start = buf.iter().position(|b| !b.is_ascii_whitespace());
    let Some(start) = start else {
        // Only whitespace in the first block: check the rest is blank too, block by block.
        let n = buf.len();
        let mut bytes = n as u64;
        input.consume(n);
        loop {
            let buf = input.fill_buf()?;
            if buf.is_empty() {
                return Err(if bytes == 0 {
                    SourceError::Empty
                } else {
                    SourceError::Blank { bytes }
                });
            }
            if !buf.iter().all(u8::is_ascii_whitespace) {
                return Err(SourceError::Unrecognised(
                    "whitespace then data past the first 64 KiB".into(),
                ));
            }
            bytes += buf.len() as u64;
            let n = buf.len();
            input.consume(n);
        }
    };
    let head = &buf[start..];
    if SSE_FIELDS.iter().any(|f| head.starts_with(f)) {
        return Ok(Format::Sse);
    }
    match head[0] {
        b'[' => Ok(Format::JsonDocument),
        b'{' => {
            // A pretty-printed document opens with a line holding only `{`, or a key and `[`/`{`.
            let line_end = head.iter().position(|b| *b == b'\n').unwrap_or(head.len());
            let first = head[..line_end].trim_ascii();
            let opens_document = first == b"{"
                || (first.ends_with(b"[") || first.ends_with(b"{") || first.ends_with(b","))
                    && !first.ends_with(b"}");
            Ok(if opens_document {
                Format::JsonDocument
            } else {
                Format::JsonLines
            })
        }
        _ => Err(SourceError::Unrecognised(describe(head))),
    }
}

/// The first bytes, shown as text if they are printable and as hex otherwise.
fn describe(head: &[u8]) -> String {
    let head = &head[..head.len().min(16)];
    match std::str::from_utf8(head) {
        Ok(s) if s.chars().all(|c| !c.is_control()) => format!("{s:?}"),
        _ => {
            let hex: Vec<String> = head.iter().map(|b| format!("{b:02x}")).collect();
            format!("bytes {}", hex.join(" "))
        }
    }
}
