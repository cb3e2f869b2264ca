//! Whitespace-separated JSON documents read as streams: a bare array, a list page
//! (`{"data": [...]}`) or a dump (`dump.rs`) is handed over element by element, so memory is
//! bounded by the largest element (at most [`super::max_item_bytes`]), not by the document.
//! An element's text is its exact bytes in the input.
//!
//! A document's kind is told from its first key: `data`, `next_page` or `prev_page` open a page;
//! `session`, `events` or `threads` a dump; anything else (an event, a session object, a
//! document of no known shape) is read whole, up to the cap, and handled as before. A dump's
//! members are handed over session first, then events, then threads, whatever their order in
//! the document: a member that comes before one it must follow waits in a temporary file.

use std::io::{BufRead, BufReader, Read, Seek, Write};

use super::stream::{Got, Scanner};
use super::{Item, Origin, ReadError, SourceError, json, scan};

pub(super) type Sink<'s, E> = &'s mut dyn FnMut(Item<'_>) -> Result<(), E>;

/// What is done with each element of a streamed array: (sink, origin, bytes, offset).
type Each<'e, E> = dyn FnMut(Sink<'_, E>, Origin, &[u8], u64) -> Result<(), ReadError<E>> + 'e;

/// How a streamed array or object ended.
pub(super) enum End {
    Done,
    /// The input stops making sense at `offset`: `what` was expected.
    Broken {
        offset: u64,
        what: String,
    },
    /// The input ended inside an element, which was handed over as bad: nothing follows.
    Ended,
}

/// The reason given for an item over the cap.
pub(super) fn too_long(len: u64, max: usize, kept: usize) -> String {
    format!(
        "{len} bytes, longer than {max} bytes (FLIGHTREC_MAX_ITEM_BYTES): not stored; its first {kept} bytes are kept"
    )
}

/// Hands over `bytes` as an event, or as a bad item when it is not UTF-8.
pub(super) fn emit_text<E>(
    sink: Sink<'_, E>,
    origin: Origin,
    bytes: &[u8],
    at: u64,
) -> Result<(), ReadError<E>> {
    let item = match std::str::from_utf8(bytes) {
        Ok(text) => Item::Event {
            origin,
            frame_name: None,
            text,
        },
        Err(e) => Item::Bad {
            origin,
            raw: bytes,
            reason: format!("invalid UTF-8 at byte {}", at + e.valid_up_to() as u64),
        },
    };
    sink(item).map_err(ReadError::Sink)
}

/// The elements of an array whose `[` was just consumed, each handed to `each` with its origin
/// and its offset; one over the cap is handed over as bad.
fn stream_array<R: Read, E>(
    sc: &mut Scanner<'_, R>,
    max: usize,
    origin_of: &dyn Fn(u64) -> Origin,
    sink: Sink<'_, E>,
    each: &mut Each<'_, E>,
) -> Result<End, ReadError<E>> {
    let mut buf = Vec::new();
    let mut n = 0u64;
    if sc.next_non_ws()? == Some(b']') {
        sc.consume_byte();
        return Ok(End::Done);
    }
    loop {
        n += 1;
        buf.clear();
        if sc.next_non_ws()?.is_none() {
            return Ok(End::Broken {
                offset: sc.offset,
                what: format!("item {n} (the input ends)"),
            });
        }
        let at = sc.offset;
        match sc.read_value(0, max, &mut buf)? {
            Got::Whole => each(sink, origin_of(n), &buf, at)?,
            Got::TooLong { len } => sink(Item::Bad {
                origin: origin_of(n),
                raw: &buf,
                reason: too_long(len, max, buf.len()),
            })
            .map_err(ReadError::Sink)?,
            Got::Truncated => {
                sink(Item::Bad {
                    origin: origin_of(n),
                    raw: &buf,
                    reason: "invalid JSON: the input ends inside it".into(),
                })
                .map_err(ReadError::Sink)?;
                return Ok(End::Ended);
            }
        }
        if let Some(end) = super::docs::after_element(sc, "an array element")? {
            return Ok(end);
        }
    }
}

/// The next member's key, after `{` or `,`, with its `:` consumed; `None` at the object's `}`.
pub(super) fn next_key<R: Read>(
    sc: &mut Scanner<'_, R>,
    first: bool,
) -> Result<Option<String>, End> {
    let broken = |sc: &Scanner<'_, R>, what: &str| End::Broken {
        offset: sc.offset,
        what: what.into(),
    };
    let io = |sc: &Scanner<'_, R>, e: std::io::Error| End::Broken {
        offset: sc.offset,
        what: format!("more input ({e})"),
    };
    if !first {
        match sc.next_non_ws().map_err(|e| io(sc, e))? {
            Some(b',') => sc.consume_byte(),
            Some(b'}') => {
                sc.consume_byte();
                return Ok(None);
            }
            _ => return Err(broken(sc, "',' or '}' after a member")),
        }
    }
    match sc.next_non_ws().map_err(|e| io(sc, e))? {
        Some(b'}') if first => {
            sc.consume_byte();
            return Ok(None);
        }
        Some(b'"') => {}
        _ => return Err(broken(sc, "a member's key")),
    }
    let mut key = Vec::new();
    let got = sc.read_value(0, 1 << 16, &mut key).map_err(|e| io(sc, e))?;
    let key = match (got, serde_json::from_slice::<String>(&key)) {
        (Got::Whole, Ok(k)) => k,
        _ => return Err(broken(sc, "a member's key (a JSON string)")),
    };
    if sc.next_non_ws().map_err(|e| io(sc, e))? != Some(b':') {
        return Err(broken(sc, "':' after a key"));
    }
    sc.consume_byte();
    if sc.next_non_ws().map_err(|e| io(sc, e))?.is_none() {
        return Err(broken(sc, "a member's value"));
    }
    Ok(Some(key))
}

/// A list page whose `{` is next: the elements of its `data` array. Returns whether it had one.
pub(super) fn stream_page<R: Read, E>(
    sc: &mut Scanner<'_, R>,
    max: usize,
    origin_of: &dyn Fn(u64) -> Origin,
    sink: Sink<'_, E>,
) -> Result<(End, bool), ReadError<E>> {
    sc.consume_byte();
    let mut saw_data = false;
    let mut first = true;
    loop {
        let key = match next_key(sc, first) {
            Ok(Some(k)) => k,
            Ok(None) => return Ok((End::Done, saw_data)),
            Err(end) => return Ok((end, saw_data)),
        };
        first = false;
        if key == "data" && !saw_data && sc.next_non_ws()? == Some(b'[') {
            saw_data = true;
            sc.consume_byte();
            let end = stream_array(sc, max, origin_of, sink, &mut |sink, o, b, at| {
                emit_text(sink, o, b, at)
            })?;
            if !matches!(end, End::Done) {
                return Ok((end, saw_data));
            }
        } else if !sc.skip_value()? {
            return Ok((
                End::Broken {
                    offset: sc.offset,
                    what: format!("the rest of {key:?} (the input ends inside it)"),
                },
                saw_data,
            ));
        }
    }
}

/// Reads documents until the input ends, or until one stops making sense (the rest is then
/// handed over as one bad item, as far as the cap).
pub(super) fn read_documents<R: Read, E>(
    input: R,
    sink: Sink<'_, E>,
    on_bytes: &mut dyn FnMut(u64),
) -> Result<(), ReadError<E>> {
    let max = super::max_item_bytes();
    let mut sc = Scanner::new(input, on_bytes);
    let mut doc = 0u64;
    while let Some(c) = sc.next_non_ws()? {
        doc += 1;
        let d = doc;
        let item_origin = move |item| Origin::Item { document: d, item };
        let start = sc.offset;
        let end = match c {
            b'[' => {
                sc.consume_byte();
                stream_array(&mut sc, max, &item_origin, sink, &mut |sink, o, b, at| {
                    emit_text(sink, o, b, at)
                })?
            }
            b'{' => object_document(&mut sc, d, max, sink)?,
            _ => End::Broken {
                offset: start,
                what: "a JSON document ('[' or '{')".into(),
            },
        };
        match end {
            End::Done => {}
            End::Ended => return Ok(()),
            End::Broken { offset, what } => {
                let reason = format!("invalid JSON at byte {offset}: expected {what}");
                return bad_rest(&mut sc, max, Origin::Document(d), reason, sink);
            }
        }
    }
    Ok(())
}

/// Hands over the rest of the input (as far as the cap) as one bad item.
fn bad_rest<R: Read, E>(
    sc: &mut Scanner<'_, R>,
    max: usize,
    origin: Origin,
    reason: String,
    sink: Sink<'_, E>,
) -> Result<(), ReadError<E>> {
    let mut raw = Vec::new();
    let mut len = 0u64;
    loop {
        let buf = sc.fill_buf()?;
        if buf.is_empty() {
            break;
        }
        let n = buf.len();
        let room = max.saturating_sub(raw.len());
        raw.extend_from_slice(&buf[..n.min(room)]);
        len += n as u64;
        sc.consume(n);
    }
    let reason = if len > max as u64 {
        raw.truncate(super::stream::KEPT_PREFIX.min(max));
        format!("{reason}; the rest is {}", too_long(len, max, raw.len()))
    } else {
        reason
    };
    let raw = raw.trim_ascii();
    sink(Item::Bad {
        origin,
        raw,
        reason,
    })
    .map_err(ReadError::Sink)
}

/// An object document whose `{` is next.
fn object_document<R: Read, E>(
    sc: &mut Scanner<'_, R>,
    d: u64,
    max: usize,
    sink: Sink<'_, E>,
) -> Result<End, ReadError<E>> {
    let head = sc.peek_min(4096)?;
    let at = scan::skip_ws(head, 1);
    let key = scan::value_end(head, at)
        .filter(|_| head.get(at) == Some(&b'"'))
        .and_then(|e| serde_json::from_slice::<String>(&head[at..e]).ok());
    let item_origin = move |item| Origin::Item { document: d, item };
    match key.as_deref() {
        Some("data" | "next_page" | "prev_page") => {
            let (end, saw_data) = stream_page(sc, max, &item_origin, sink)?;
            if matches!(end, End::Done) && !saw_data {
                return Err(SourceError::UnknownShape {
                    origin: Origin::Document(d),
                }
                .into());
            }
            Ok(end)
        }
        Some("session" | "events" | "threads") => stream_dump(sc, d, max, sink),
        _ => {
            let mut buf = Vec::new();
            let origin = Origin::Document(d);
            let at = sc.offset;
            match sc.read_value(0, max, &mut buf)? {
                Got::Whole => match std::str::from_utf8(&buf) {
                    Ok(text) => json::emit_object(text, origin, Some(d), &item_origin, sink)?,
                    Err(_) => emit_text(sink, origin, &buf, at)?,
                },
                Got::TooLong { len } => sink(Item::Bad {
                    origin,
                    raw: &buf,
                    reason: too_long(len, max, buf.len()),
                })
                .map_err(ReadError::Sink)?,
                Got::Truncated => sink(Item::Bad {
                    origin,
                    raw: &buf,
                    reason: "invalid JSON: the input ends inside it".into(),
                })
                .map_err(ReadError::Sink)?,
            }
            Ok(End::Done)
        }
    }
}

/// A member of a dump kept for later: its value's bytes in a temporary file.
pub(super) struct Spill(pub(super) std::fs::File);

impl Spill {
    pub(super) fn take<R: Read>(sc: &mut Scanner<'_, R>) -> Result<Option<Spill>, SourceError> {
        let mut w = std::io::BufWriter::new(tempfile::tempfile()?);
        let mut failed = None;
        let (_, complete) = sc.scan_value(0, &mut |piece| {
            if failed.is_none()
                && let Err(e) = w.write_all(piece)
            {
                failed = Some(e);
            }
        })?;
        if let Some(e) = failed {
            return Err(e.into());
        }
        let mut f = w.into_inner().map_err(|e| e.into_error())?;
        f.rewind()?;
        Ok(complete.then_some(Spill(f)))
    }
}

/// A dump whose `{` is next (see the module's doc for the order of its members).
fn stream_dump<R: Read, E>(
    sc: &mut Scanner<'_, R>,
    d: u64,
    max: usize,
    sink: Sink<'_, E>,
) -> Result<End, ReadError<E>> {
    sc.consume_byte();
    let mut seen = [false; 3]; // session, events, threads
    let mut spilled: [Option<Spill>; 3] = [None, None, None];
    let mut first = true;
    loop {
        let key = match next_key(sc, first) {
            Ok(Some(k)) => k,
            Ok(None) => break,
            Err(end) => return Ok(end),
        };
        first = false;
        let slot = match key.as_str() {
            "session" => 0,
            "events" => 1,
            "threads" => 2,
            _ => {
                if !sc.skip_value()? {
                    return Ok(truncated(sc, &key));
                }
                continue;
            }
        };
        if seen[slot] {
            // A repeated member: JSON parsers keep one; here the first one counts.
            if !sc.skip_value()? {
                return Ok(truncated(sc, &key));
            }
            continue;
        }
        seen[slot] = true;
        if seen[..slot].iter().all(|s| *s) {
            let end = dump_member(sc, d, slot, max, sink)?;
            if !matches!(end, End::Done) {
                return Ok(end);
            }
        } else {
            match Spill::take(sc)? {
                Some(s) => spilled[slot] = Some(s),
                None => return Ok(truncated(sc, &key)),
            }
        }
    }
    for (slot, spill) in spilled.into_iter().enumerate() {
        let Some(Spill(file)) = spill else { continue };
        let mut on = |_| {};
        let mut inner = Scanner::new(BufReader::with_capacity(1 << 16, file), &mut on);
        inner.next_non_ws()?;
        if let End::Broken { offset, what } = dump_member(&mut inner, d, slot, max, sink)? {
            let key = ["session", "events", "threads"][slot];
            let reason = format!("invalid JSON in {key:?} at its byte {offset}: expected {what}");
            bad_rest(&mut inner, max, Origin::Document(d), reason, sink)?;
        }
    }
    Ok(End::Done)
}

fn truncated<R: Read>(sc: &Scanner<'_, R>, key: &str) -> End {
    End::Broken {
        offset: sc.offset,
        what: format!("the rest of {key:?} (the input ends inside it)"),
    }
}

/// One of a dump's session (0), events (1) or threads (2), whose value is next.
fn dump_member<R: Read, E>(
    sc: &mut Scanner<'_, R>,
    d: u64,
    slot: usize,
    max: usize,
    sink: Sink<'_, E>,
) -> Result<End, ReadError<E>> {
    let at = |path: String| Origin::Path { document: d, path };
    let key = ["session", "events", "threads"][slot];
    if slot == 0 || sc.next_non_ws()? != Some(b'[') {
        let mut buf = Vec::new();
        let start = sc.offset;
        return Ok(match sc.read_value(0, max, &mut buf)? {
            Got::Whole if slot == 0 => {
                emit_text(sink, at("$.session".into()), &buf, start)?;
                End::Done
            }
            Got::Whole => {
                sink(Item::Bad {
                    origin: at(format!("$.{key}")),
                    raw: &buf,
                    reason: format!("{key:?} is not an array"),
                })
                .map_err(ReadError::Sink)?;
                End::Done
            }
            Got::TooLong { len } => {
                sink(Item::Bad {
                    origin: at(format!("$.{key}")),
                    raw: &buf,
                    reason: too_long(len, max, buf.len()),
                })
                .map_err(ReadError::Sink)?;
                End::Done
            }
            Got::Truncated => {
                sink(Item::Bad {
                    origin: at(format!("$.{key}")),
                    raw: &buf,
                    reason: "invalid JSON: the input ends inside it".into(),
                })
                .map_err(ReadError::Sink)?;
                End::Done
            }
        });
    }
    sc.consume_byte();
    let origin_of = move |i: u64| at(format!("$.{key}[{}]", i - 1));
    if slot == 1 {
        return stream_array(sc, max, &origin_of, sink, &mut |sink, o, b, at| {
            emit_text(sink, o, b, at)
        });
    }
    super::threads::stream_threads(sc, d, max, sink)
}

/// After an array's element: `,` (another follows: `None`), `]` (the array is done) or anything
/// else, which breaks the document at that offset.
pub(super) fn after_element<R: Read>(
    sc: &mut Scanner<'_, R>,
    element: &str,
) -> Result<Option<End>, SourceError> {
    Ok(match sc.next_non_ws()? {
        Some(b',') => {
            sc.consume_byte();
            None
        }
        Some(b']') => {
            sc.consume_byte();
            Some(End::Done)
        }
        _ => Some(End::Broken {
            offset: sc.offset,
            what: format!("',' or ']' after {element}"),
        }),
    })
}
