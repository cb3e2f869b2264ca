//! SSE (`text/event-stream`) decoding through the `eventsource-stream` crate.
//!
//! The crate follows the HTML spec, which has two behaviours a recorder cannot accept: a final
//! frame without its blank line is discarded, and invalid UTF-8 stalls the stream until its end.
//! So input is checked for UTF-8 before it reaches the decoder, and a file's end is terminated.

use eventsource_stream::{Event, EventStream, EventStreamError};
use futures_util::stream;
use std::io::{BufRead, Read};

use super::{Item, Origin, SourceError};

/// One decoded frame. `name` is the `event:` field ("message" when there was none).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SseFrame {
    pub name: String,
    pub data: String,
    pub id: String,
}

impl From<Event> for SseFrame {
    fn from(e: Event) -> Self {
        SseFrame {
            name: e.event,
            data: e.data,
            id: e.id,
        }
    }
}

/// A problem in the bytes given to the decoder, or in decoding them.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ChunkError {
    #[error("not text: invalid UTF-8 at byte {offset} (line {line})")]
    NotText { offset: u64, line: u64 },
    #[error("cannot read: {0}")]
    Io(String),
    #[error("SSE decoding failed: {0}")]
    Decoder(String),
}

/// Decodes SSE frames from byte chunks, blocking. Chunks may split lines and UTF-8 characters.
pub fn decode_sse_chunks<I>(chunks: I) -> impl Iterator<Item = Result<SseFrame, ChunkError>>
where
    I: Iterator<Item = Result<Vec<u8>, ChunkError>> + Unpin,
{
    let events = EventStream::new(stream::iter(chunks));
    futures_executor::block_on_stream(events).map(|r| match r {
        Ok(e) => Ok(SseFrame::from(e)),
        Err(EventStreamError::Transport(e)) => Err(e),
        Err(e) => Err(ChunkError::Decoder(e.to_string())),
    })
}

/// Reads an input in chunks, refusing invalid UTF-8 (with its byte offset and line).
struct Utf8Chunks<'r, R> {
    input: R,
    carry: Vec<u8>,
    offset: u64,
    lines: u64,
    done: bool,
    on_bytes: &'r mut dyn FnMut(u64),
}

impl<R: Read> Iterator for Utf8Chunks<'_, R> {
    type Item = Result<Vec<u8>, ChunkError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        let mut buf = std::mem::take(&mut self.carry);
        let start = buf.len();
        buf.resize(start + (1 << 16), 0);
        let n = match self.input.read(&mut buf[start..]) {
            Ok(n) => n,
            Err(e) => {
                self.done = true;
                return Some(Err(ChunkError::Io(e.to_string())));
            }
        };
        buf.truncate(start + n);
        (self.on_bytes)(n as u64);
        if n == 0 {
            self.done = true;
            if !buf.is_empty() {
                return Some(Err(self.invalid_at(0, &buf)));
            }
            // Terminate a last frame that lacks its blank line, so it is not silently discarded.
            return Some(Ok(b"\n\n".to_vec()));
        }
        match std::str::from_utf8(&buf) {
            Ok(_) => {}
            Err(e) if e.error_len().is_none() => {
                // An incomplete character at the end: keep it for the next chunk.
                self.carry = buf.split_off(e.valid_up_to());
            }
            Err(e) => {
                self.done = true;
                return Some(Err(self.invalid_at(e.valid_up_to(), &buf)));
            }
        }
        self.offset += buf.len() as u64;
        self.lines += buf.iter().filter(|b| **b == b'\n').count() as u64;
        Some(Ok(buf))
    }
}

impl<R> Utf8Chunks<'_, R> {
    fn invalid_at(&self, at: usize, buf: &[u8]) -> ChunkError {
        let line = self.lines + 1 + buf[..at].iter().filter(|b| **b == b'\n').count() as u64;
        ChunkError::NotText {
            offset: self.offset + at as u64,
            line,
        }
    }
}

pub(super) fn read_sse<R: BufRead + Unpin>(
    input: R,
    sink: &mut dyn FnMut(Item<'_>) -> Result<(), String>,
    on_bytes: &mut dyn FnMut(u64),
) -> Result<(), SourceError> {
    let chunks = Utf8Chunks {
        input,
        carry: Vec::new(),
        offset: 0,
        lines: 0,
        done: false,
        on_bytes,
    };
    let mut n = 0u64;
    for frame in decode_sse_chunks(chunks) {
        let frame = match frame {
            Ok(f) => f,
            Err(ChunkError::NotText { offset, line }) => {
                return Err(SourceError::NotText { offset, line });
            }
            Err(e) => return Err(SourceError::Io(std::io::Error::other(e.to_string()))),
        };
        n += 1;
        let origin = Origin::Frame(n);
        let item = match frame.name.as_str() {
            "ping" => Item::Ping { origin },
            "error" => Item::ErrorFrame {
                origin,
                data: &frame.data,
            },
            name => Item::Event {
                origin,
                frame_name: (name != "message").then_some(name),
                text: &frame.data,
            },
        };
        sink(item).map_err(SourceError::Sink)?;
    }
    Ok(())
}
