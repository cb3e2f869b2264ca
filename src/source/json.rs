//! JSON inputs: JSON Lines (split on `\n` only, since U+2028 is legal inside strings) and
//! whitespace-separated JSON documents (pretty-printed list pages, arrays of events).
//!
//! An event's text is the exact slice of the input that holds it: nothing is re-serialised.

use serde::Deserialize;
use serde_json::value::RawValue;
use std::io::{BufRead, Read};

use super::stream::{Got, Scanner};
use super::{Item, Origin, ReadError, SourceError, docs, dump, scan};

/// A list page: `{"data":[...],"next_page":...}`. An event always has a `type`; a page has none.
#[derive(Deserialize)]
struct PageProbe<'a> {
    #[serde(borrow)]
    data: Option<Vec<&'a RawValue>>,
    #[serde(rename = "type")]
    kind: Option<serde::de::IgnoredAny>,
}

/// Does this object text look like a list page rather than an event? Pages open with one of the
/// page keys; events carry `type` and never a top-level `data` array.
fn looks_like_page(text: &str) -> bool {
    let inner = text.trim_start_matches('{').trim_start();
    inner.starts_with("\"data\"")
        || inner.starts_with("\"next_page\"")
        || inner.starts_with("\"prev_page\"")
}

fn page_items(text: &str) -> Option<Vec<&RawValue>> {
    match serde_json::from_str::<PageProbe<'_>>(text) {
        Ok(PageProbe {
            data: Some(items),
            kind: None,
        }) => Some(items),
        _ => None,
    }
}

/// Hands over an object that is an event, a session or thread object, a page (whose events it
/// expands) or a dump (`dump.rs`). `document` is the document's number when the object is a
/// whole JSON document rather than a line: one of no known shape is then refused.
pub(super) fn emit_object<'a, E>(
    text: &'a str,
    origin: Origin,
    document: Option<u64>,
    item_origin: &dyn Fn(u64) -> Origin,
    sink: &mut dyn FnMut(Item<'_>) -> Result<(), E>,
) -> Result<(), ReadError<E>> {
    if looks_like_page(text)
        && let Some(items) = page_items(text)
    {
        for (i, raw) in items.into_iter().enumerate() {
            let origin = item_origin(i as u64 + 1);
            sink(Item::Event {
                origin,
                frame_name: None,
                text: raw.get(),
            })
            .map_err(ReadError::Sink)?;
        }
        return Ok(());
    }
    if document.is_some() || dump::opens_like_dump(text) {
        let shape = dump::shape(text);
        if shape.is_dump() {
            let d = match origin {
                Origin::Document(d) => d,
                _ => 1,
            };
            return dump::emit(shape, d, sink);
        }
        if document.is_some() && !shape.is_eventlike() {
            return Err(SourceError::UnknownShape { origin }.into());
        }
    }
    sink(Item::Event {
        origin,
        frame_name: None,
        text,
    })
    .map_err(ReadError::Sink)
}

/// Reads JSON Lines. A line over the cap is handed over as bad (its start kept), and a line
/// that opens a list page (`{"data": [`) is streamed element by element like a document.
pub(super) fn read_lines<R: Read, E>(
    input: R,
    sink: &mut dyn FnMut(Item<'_>) -> Result<(), E>,
    on_bytes: &mut dyn FnMut(u64),
) -> Result<(), ReadError<E>> {
    let max = super::max_item_bytes();
    let mut sc = Scanner::new(input, on_bytes);
    let mut line = Vec::with_capacity(4096);
    loop {
        let n = sc.newlines + 1;
        if let Some(skip) = opens_page(sc.peek_min(64)?) {
            sc.consume(skip);
            let origin_of = move |item| Origin::LineItem { line: n, item };
            let (end, _) = docs::stream_page(&mut sc, max, &origin_of, sink)?;
            // The rest of the line: nothing but whitespace, or it is bad.
            let at = sc.offset;
            let Some(got) = sc.read_line(max, &mut line)? else {
                if let docs::End::Broken { offset, what } = end {
                    let reason = format!("invalid JSON at byte {offset}: expected {what}");
                    sink(Item::Bad {
                        origin: Origin::Line(n),
                        raw: b"",
                        reason,
                    })
                    .map_err(ReadError::Sink)?;
                }
                return Ok(());
            };
            let rest = line.trim_ascii();
            let reason = match end {
                docs::End::Broken { offset, what } => {
                    format!("invalid JSON at byte {offset}: expected {what}")
                }
                docs::End::Ended => continue,
                docs::End::Done if rest.is_empty() => continue,
                docs::End::Done => format!("text after the page's end, at byte {at}"),
            };
            let reason = match got {
                Got::TooLong { len } => format!(
                    "{reason}; the rest of the line is {}",
                    docs::too_long(len, max, line.len())
                ),
                _ => reason,
            };
            sink(Item::Bad {
                origin: Origin::Line(n),
                raw: rest,
                reason,
            })
            .map_err(ReadError::Sink)?;
            continue;
        }
        // A line whole in the scanner's buffer is read there: no copy of it.
        if let Some(len) = sc.whole_line()?.filter(|&len| len <= max) {
            let read = line_items(sc.buffered(len), n, sink);
            sc.consume(len + 1);
            read?;
            continue;
        }
        let got = match sc.read_line(max, &mut line)? {
            None => return Ok(()),
            Some(g) => g,
        };
        if let Got::TooLong { len } = got {
            sink(Item::Bad {
                origin: Origin::Line(n),
                raw: &line,
                reason: format!("the line is {}", docs::too_long(len, max, line.len())),
            })
            .map_err(ReadError::Sink)?;
            continue;
        }
        line_items(&line, n, sink)?;
    }
}

/// Hands on what line `n` holds (its bytes without the `\n`): nothing when it is blank, its
/// object (or each element of a page), or the line as bad.
fn line_items<E>(
    line: &[u8],
    n: u64,
    sink: &mut dyn FnMut(Item<'_>) -> Result<(), E>,
) -> Result<(), ReadError<E>> {
    let bytes = line.trim_ascii();
    if bytes.is_empty() {
        return Ok(());
    }
    let origin = Origin::Line(n);
    match std::str::from_utf8(bytes) {
        Ok(text) => emit_object(
            text,
            origin,
            None,
            &|item| Origin::LineItem { line: n, item },
            sink,
        ),
        Err(e) => {
            if bad_page_line(bytes, n, sink)? {
                return Ok(());
            }
            let reason = format!("invalid UTF-8 at column {}", e.valid_up_to() + 1);
            sink(Item::Bad {
                origin,
                raw: bytes,
                reason,
            })
            .map_err(ReadError::Sink)
        }
    }
}

/// Whether a line opens a list page with its `data` array (`{ "data" : [`), and if so how many
/// bytes come before its `{`.
fn opens_page(head: &[u8]) -> Option<usize> {
    let start = head
        .iter()
        .position(|b| !matches!(b, b' ' | b'\t' | b'\r'))?;
    let mut at = start;
    for want in [&b"{"[..], b"\"data\"", b":", b"["] {
        at = scan::skip_ws(head, at);
        if !head[at..].starts_with(want) {
            return None;
        }
        at += want.len();
    }
    Some(start)
}

/// A list page on one line that is not all UTF-8: its elements are handed on one by one, so
/// only those holding a bad byte are bad. `false` when the line is no page (or not one whose
/// elements can be told apart).
fn bad_page_line<E>(
    bytes: &[u8],
    line: u64,
    sink: &mut dyn FnMut(Item<'_>) -> Result<(), E>,
) -> Result<bool, ReadError<E>> {
    let Some(open) = scan::page_data_array(bytes) else {
        return Ok(false);
    };
    let (items, end) = scan::array_elements(bytes, open);
    if end.is_err() {
        return Ok(false);
    }
    for (i, (a, b)) in items.into_iter().enumerate() {
        let origin = Origin::LineItem {
            line,
            item: i as u64 + 1,
        };
        let raw = &bytes[a..b];
        let item = match std::str::from_utf8(raw) {
            Ok(text) => Item::Event {
                origin,
                frame_name: None,
                text,
            },
            Err(e) => Item::Bad {
                origin,
                raw,
                reason: format!("invalid UTF-8 at column {}", a + e.valid_up_to() + 1),
            },
        };
        sink(item).map_err(ReadError::Sink)?;
    }
    Ok(true)
}
