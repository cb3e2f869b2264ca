//! SSE (`text/event-stream`) decoding through the `eventsource-stream` crate.
//!
//! The crate follows the HTML spec, which has two behaviours a recorder cannot accept: a final
//! frame without its blank line is discarded, and invalid UTF-8 stalls the stream until its end.
//! So input is checked for UTF-8 before it reaches the decoder, and a file's end is terminated.

use eventsource_stream::{Event, EventStream, EventStreamError};
use futures_util::stream;
use std::io::{BufRead, Read};

use super::stream::KEPT_PREFIX;
use super::{Item, Origin, ReadError, SourceError};

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
    #[error("a frame at byte {offset} (line {line}) is longer than {max} bytes")]
    TooLong { offset: u64, line: u64, max: usize },
}

/// Decodes SSE frames from byte chunks, blocking. Chunks may split lines and UTF-8 characters.
pub fn decode_sse_chunks<I>(chunks: I) -> impl Iterator<Item = Result<SseFrame, ChunkError>>
where
    I: Iterator<Item = Result<Vec<u8>, ChunkError>> + Unpin,
{
    let chunks = NoBom {
        inner: chunks,
        started: false,
        pending: None,
    };
    let events = EventStream::new(stream::iter(chunks));
    futures_executor::block_on_stream(events).map(|r| match r {
        Ok(e) => Ok(SseFrame::from(e)),
        Err(EventStreamError::Transport(e)) => Err(e),
        Err(e) => Err(ChunkError::Decoder(e.to_string())),
    })
}

/// The UTF-8 byte-order mark.
pub(crate) const BOM: &[u8] = b"\xEF\xBB\xBF";

/// Chunks without the byte-order mark at their very start, even one split across chunks, and
/// led by a blank line (which dispatches nothing): eventsource-stream 0.2.3 panics on a mark
/// first (it slices a byte off the three-byte character), and a second mark would be first once
/// the first is dropped. The spec drops one mark; a second is part of a field name.
struct NoBom<I> {
    inner: I,
    started: bool,
    /// What the inner iterator gave while the start was being read (its end or an error).
    pending: Option<Result<Vec<u8>, ChunkError>>,
}

impl<I: Iterator<Item = Result<Vec<u8>, ChunkError>>> Iterator for NoBom<I> {
    type Item = Result<Vec<u8>, ChunkError>;

    fn next(&mut self) -> Option<Self::Item> {
        if let Some(p) = self.pending.take() {
            return Some(p);
        }
        if self.started {
            return self.inner.next();
        }
        self.started = true;
        let mut head = Vec::new();
        while head.len() < BOM.len() && BOM.starts_with(&head) {
            match self.inner.next() {
                Some(Ok(c)) => head.extend_from_slice(&c),
                Some(Err(e)) => {
                    self.pending = Some(Err(e));
                    break;
                }
                None => break,
            }
        }
        let mut chunk = b"\n".to_vec();
        chunk.extend_from_slice(head.strip_prefix(BOM).unwrap_or(&head));
        Some(Ok(chunk))
    }
}

/// A frame that is not UTF-8 (kept byte for byte), or one over the cap (its start kept): why.
struct BadFrame {
    raw: Vec<u8>,
    reason: String,
}

/// A frame over the cap being skipped to its end: its start, its length so far, where it began.
struct Skipping {
    prefix: Vec<u8>,
    len: u64,
    offset: u64,
    line: u64,
}

/// Reads an input in chunks of whole frames (up to the blank line that ends each), so that a
/// frame holding invalid UTF-8 is set aside (into `bad`) while the frames around it go on to the
/// decoder. A frame longer than `max` bytes is skipped to its end (its start kept) and set aside
/// the same way, so memory stays bounded and the frames after it are read.
struct FrameChunks<'r, R> {
    input: R,
    /// Bytes read but not handed on: an incomplete frame.
    carry: Vec<u8>,
    /// How far `carry` was scanned for a frame end, and where its current line starts.
    scanned: usize,
    line_start: usize,
    /// Offset and line number of `carry[0]` in the input.
    offset: u64,
    lines: u64,
    done: bool,
    max: usize,
    skipping: Option<Skipping>,
    bad: std::rc::Rc<std::cell::RefCell<std::collections::VecDeque<BadFrame>>>,
    /// The frame standing in for each bad one (see [`bad_marker`]).
    marker: Vec<u8>,
    on_bytes: &'r mut dyn FnMut(u64),
}

impl<R: Read> Iterator for FrameChunks<'_, R> {
    type Item = Result<Vec<u8>, ChunkError>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if self.done {
                return None;
            }
            let start = self.carry.len();
            self.carry.resize(start + (1 << 16), 0);
            let n = match self.input.read(&mut self.carry[start..]) {
                Ok(n) => n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {
                    self.carry.truncate(start);
                    continue;
                }
                Err(e) => {
                    self.done = true;
                    return Some(Err(ChunkError::Io(e.to_string())));
                }
            };
            self.carry.truncate(start + n);
            (self.on_bytes)(n as u64);
            let eof = n == 0;
            if self.skipping.is_some() {
                if let Some(marker) = self.skip(eof) {
                    return Some(Ok(marker));
                }
                continue;
            }
            let end = self.complete_frames(eof, false);
            if eof {
                self.done = true;
                // The rest is a last frame without its blank line: terminate it, so it is not
                // silently discarded.
                let mut chunk = self.take_frames(self.carry.len());
                chunk.extend_from_slice(b"\n\n");
                return Some(Ok(chunk));
            }
            if end > 0 {
                return Some(Ok(self.take_frames(end)));
            }
            if self.carry.len() > self.max {
                self.skipping = Some(Skipping {
                    prefix: self.carry[..KEPT_PREFIX.min(self.max)].to_vec(),
                    len: 0,
                    offset: self.offset,
                    line: self.lines + 1,
                });
                if let Some(marker) = self.skip(false) {
                    return Some(Ok(marker));
                }
            }
        }
    }
}

impl<R> FrameChunks<'_, R> {
    /// Scans `carry` on from where it stopped; returns the end of its last complete frame (0
    /// when there is none). Lines end with CRLF, LF or CR; a frame ends with an empty line.
    fn complete_frames(&mut self, eof: bool, first_only: bool) -> usize {
        let buf = &self.carry;
        let mut end = 0;
        let mut i = self.scanned;
        while i < buf.len() {
            let len = match buf[i] {
                b'\n' => 1,
                b'\r' if i + 1 < buf.len() => 1 + usize::from(buf[i + 1] == b'\n'),
                b'\r' if eof => 1,
                b'\r' => break, // a CR last: wait to see whether LF follows
                _ => {
                    i += 1;
                    continue;
                }
            };
            let frame_end = i == self.line_start;
            i += len;
            self.line_start = i;
            if frame_end {
                end = i;
                if first_only {
                    break;
                }
            }
        }
        self.scanned = i;
        end
    }

    /// Skipping a frame over the cap: drops what was scanned of it, and at its end (or the
    /// input's) sets it aside, returning the marker that keeps its place.
    fn skip(&mut self, eof: bool) -> Option<Vec<u8>> {
        let end = self.complete_frames(eof, true);
        let stop = if end > 0 {
            end
        } else if eof {
            self.carry.len()
        } else {
            self.scanned
        };
        self.drop_front(stop);
        if end == 0 && !eof {
            return None;
        }
        let s = self.skipping.take()?;
        let len = s.len;
        self.bad.borrow_mut().push_back(BadFrame {
            reason: format!(
                "a frame at byte {} (line {}) of {len} bytes, longer than {} bytes (FLIGHTREC_MAX_ITEM_BYTES): not stored; its first {} bytes are kept",
                s.offset,
                s.line,
                self.max,
                s.prefix.len()
            ),
            raw: s.prefix,
        });
        if eof && end == 0 {
            self.done = true;
        }
        Some(self.marker.clone())
    }

    /// Drops `carry[..k]` (scanned, part of a frame being skipped).
    fn drop_front(&mut self, k: usize) {
        self.lines += count_lines(&self.carry[..k]);
        self.offset += k as u64;
        if let Some(s) = &mut self.skipping {
            s.len += k as u64;
        }
        self.carry.drain(..k);
        self.scanned = self.scanned.saturating_sub(k);
        // A line that began in what was dropped is not empty: no index can match it.
        self.line_start = self.line_start.checked_sub(k).unwrap_or(usize::MAX);
    }

    /// Takes `carry[..end]` (whole frames) out, setting aside the frames that are not UTF-8.
    fn take_frames(&mut self, end: usize) -> Vec<u8> {
        let rest = self.carry.split_off(end);
        let frames = std::mem::replace(&mut self.carry, rest);
        // Both are at or after `end`, except when a last frame without its end is taken whole.
        self.scanned = self.scanned.saturating_sub(end);
        self.line_start = self.line_start.saturating_sub(end);
        let (offset, lines) = (self.offset, self.lines);
        self.offset += end as u64;
        self.lines += count_lines(&frames);
        if std::str::from_utf8(&frames).is_ok() {
            return frames;
        }
        // Slow path: frame by frame.
        let mut good = Vec::with_capacity(frames.len());
        let mut at = 0;
        while at < frames.len() {
            let len = next_frame_len(&frames[at..]);
            let frame = &frames[at..at + len];
            match std::str::from_utf8(frame) {
                Ok(_) => good.extend_from_slice(frame),
                Err(e) => {
                    let bad = e.valid_up_to();
                    let line = lines + 1 + count_lines(&frames[..at + bad]);
                    // What came before goes to the decoder first, so items keep their order.
                    self.bad.borrow_mut().push_back(BadFrame {
                        raw: frame.to_vec(),
                        reason: format!(
                            "invalid UTF-8 at byte {} (line {line})",
                            offset + (at + bad) as u64
                        ),
                    });
                    good.extend_from_slice(&self.marker);
                }
            }
            at += len;
        }
        good
    }
}

/// The event name of the frame that stands in for a frame that is not UTF-8, so the bad frame
/// keeps its place among the frames. It holds a random number, so that no frame of the input can
/// be taken for it (a frame of that name would otherwise vanish).
fn bad_marker() -> (String, Vec<u8>) {
    let name = format!("\u{1}bad-{:016x}", fastrand::u64(..));
    let frame = format!("event: {name}\ndata: -\n\n").into_bytes();
    (name, frame)
}

fn count_lines(b: &[u8]) -> u64 {
    // CR alone also ends a line in SSE; counting LF, and CR not followed by LF.
    let mut n = 0;
    for (i, c) in b.iter().enumerate() {
        if *c == b'\n' || (*c == b'\r' && b.get(i + 1) != Some(&b'\n')) {
            n += 1;
        }
    }
    n
}

/// The length of the first frame in `b` (through its blank line), or all of `b`.
fn next_frame_len(b: &[u8]) -> usize {
    let mut line_start = 0;
    let mut i = 0;
    while i < b.len() {
        let len = match b[i] {
            b'\n' => 1,
            b'\r' => 1 + usize::from(b.get(i + 1) == Some(&b'\n')),
            _ => {
                i += 1;
                continue;
            }
        };
        let empty = i == line_start;
        i += len;
        line_start = i;
        if empty {
            return i;
        }
    }
    b.len()
}

pub(super) fn read_sse<R: BufRead + Unpin, E>(
    input: R,
    sink: &mut dyn FnMut(Item<'_>) -> Result<(), E>,
    on_bytes: &mut dyn FnMut(u64),
) -> Result<(), ReadError<E>> {
    let bad = std::rc::Rc::new(std::cell::RefCell::new(std::collections::VecDeque::new()));
    let (bad_name, marker) = bad_marker();
    let chunks = FrameChunks {
        input,
        carry: Vec::new(),
        scanned: 0,
        line_start: 0,
        offset: 0,
        lines: 0,
        done: false,
        max: super::max_item_bytes(),
        skipping: None,
        bad: bad.clone(),
        marker,
        on_bytes,
    };
    let mut n = 0u64;
    for frame in decode_sse_chunks(chunks) {
        let frame = match frame {
            Ok(f) => f,
            Err(ChunkError::TooLong { offset, line, max }) => {
                return Err(SourceError::TooLong {
                    what: "an SSE frame",
                    offset,
                    line,
                    max,
                }
                .into());
            }
            Err(e) => return Err(SourceError::Io(std::io::Error::other(e.to_string())).into()),
        };
        n += 1;
        let origin = Origin::Frame(n);
        let item = match frame.name.as_str() {
            name if name == bad_name => {
                let Some(b) = bad.borrow_mut().pop_front() else {
                    continue;
                };
                sink(Item::Bad {
                    origin,
                    raw: &b.raw,
                    reason: b.reason,
                })
                .map_err(ReadError::Sink)?;
                continue;
            }
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
        sink(item).map_err(ReadError::Sink)?;
    }
    Ok(())
}
