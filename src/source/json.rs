//! JSON inputs: JSON Lines (split on `\n` only, since U+2028 is legal inside strings) and
//! whitespace-separated JSON documents (pretty-printed list pages, arrays of events).
//!
//! An event's text is the exact slice of the input that holds it: nothing is re-serialised.

use serde::Deserialize;
use serde_json::value::RawValue;
use std::io::BufRead;

use super::{Item, Origin, SourceError, dump, scan};

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
fn emit_object<'a>(
    text: &'a str,
    origin: Origin,
    document: Option<u64>,
    item_origin: &dyn Fn(u64) -> Origin,
    sink: &mut dyn FnMut(Item<'_>) -> Result<(), String>,
) -> Result<(), SourceError> {
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
            .map_err(SourceError::Sink)?;
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
            return Err(SourceError::UnknownShape { origin });
        }
    }
    sink(Item::Event {
        origin,
        frame_name: None,
        text,
    })
    .map_err(SourceError::Sink)
}

pub(super) fn read_lines<R: BufRead>(
    mut input: R,
    sink: &mut dyn FnMut(Item<'_>) -> Result<(), String>,
    on_bytes: &mut dyn FnMut(u64),
) -> Result<(), SourceError> {
    let mut line = Vec::with_capacity(4096);
    let mut n = 0u64;
    loop {
        line.clear();
        let read = input.read_until(b'\n', &mut line)?;
        if read == 0 {
            return Ok(());
        }
        on_bytes(read as u64);
        n += 1;
        let bytes = line.trim_ascii();
        if bytes.is_empty() {
            continue;
        }
        let origin = Origin::Line(n);
        match std::str::from_utf8(bytes) {
            Ok(text) => emit_object(
                text,
                origin,
                None,
                &|item| Origin::LineItem { line: n, item },
                sink,
            )?,
            Err(e) => {
                if bad_page_line(bytes, n, sink)? {
                    continue;
                }
                let reason = format!("invalid UTF-8 at column {}", e.valid_up_to() + 1);
                sink(Item::Bad {
                    origin,
                    raw: bytes,
                    reason,
                })
                .map_err(SourceError::Sink)?;
            }
        }
    }
}

/// A list page on one line that is not all UTF-8: its elements are handed on one by one, so
/// only those holding a bad byte are bad. `false` when the line is no page (or not one whose
/// elements can be told apart).
fn bad_page_line(
    bytes: &[u8],
    line: u64,
    sink: &mut dyn FnMut(Item<'_>) -> Result<(), String>,
) -> Result<bool, SourceError> {
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
        sink(item).map_err(SourceError::Sink)?;
    }
    Ok(true)
}

pub(super) fn read_documents<R: BufRead>(
    mut input: R,
    sink: &mut dyn FnMut(Item<'_>) -> Result<(), String>,
    on_bytes: &mut dyn FnMut(u64),
) -> Result<(), SourceError> {
    let mut bytes = Vec::new();
    input.read_to_end(&mut bytes)?;
    on_bytes(bytes.len() as u64);
    let text = match std::str::from_utf8(&bytes) {
        Ok(t) => t,
        Err(e) => {
            let at = e.valid_up_to();
            let line = 1 + bytes[..at].iter().filter(|b| **b == b'\n').count() as u64;
            return Err(SourceError::NotText {
                offset: at as u64,
                line,
            });
        }
    };
    let mut values = serde_json::Deserializer::from_str(text).into_iter::<&RawValue>();
    let mut doc = 0u64;
    loop {
        let start = values.byte_offset();
        let value = match values.next() {
            None => return Ok(()),
            Some(Ok(v)) => v,
            Some(Err(e)) => {
                let rest = text[start..].trim_ascii();
                let reason = format!(
                    "invalid JSON at line {} column {}: {e}",
                    e.line(),
                    e.column()
                );
                let origin = Origin::Document(doc + 1);
                return sink(Item::Bad {
                    origin,
                    raw: rest.as_bytes(),
                    reason,
                })
                .map_err(SourceError::Sink);
            }
        };
        doc += 1;
        let d = doc;
        let vtext = value.get();
        if vtext.starts_with('[') {
            let items: Vec<&RawValue> = match serde_json::from_str(vtext) {
                Ok(items) => items,
                Err(e) => {
                    let reason = format!("invalid JSON array: {e}");
                    sink(Item::Bad {
                        origin: Origin::Document(d),
                        raw: vtext.as_bytes(),
                        reason,
                    })
                    .map_err(SourceError::Sink)?;
                    continue;
                }
            };
            for (i, raw) in items.into_iter().enumerate() {
                let origin = Origin::Item {
                    document: d,
                    item: i as u64 + 1,
                };
                sink(Item::Event {
                    origin,
                    frame_name: None,
                    text: raw.get(),
                })
                .map_err(SourceError::Sink)?;
            }
        } else {
            let item_origin = move |item| Origin::Item { document: d, item };
            emit_object(vtext, Origin::Document(d), Some(d), &item_origin, sink)?;
        }
    }
}
