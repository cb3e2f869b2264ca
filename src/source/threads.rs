//! The `threads` of a dump document, streamed: each thread's members but its `events` are kept
//! (each at most the item cap) to make its object, and its events wait in a temporary file until
//! that object is handed over, then follow one by one. So a thread with a long log costs one
//! event's memory, not the log's.

use std::io::{BufRead, BufReader, Read};

use super::docs::{End, Sink, Spill, emit_text, next_key, too_long};
use super::stream::{Got, Scanner};
use super::{Item, Origin, ReadError};

/// The elements of a dump's `threads` array, whose `[` was just consumed.
pub(super) fn stream_threads<R: Read, E>(
    sc: &mut Scanner<'_, R>,
    d: u64,
    max: usize,
    sink: Sink<'_, E>,
) -> Result<End, ReadError<E>> {
    let at = |path: String| Origin::Path { document: d, path };
    if sc.next_non_ws()? == Some(b']') {
        sc.consume_byte();
        return Ok(End::Done);
    }
    let mut t = 0usize;
    loop {
        match sc.next_non_ws()? {
            None => {
                return Ok(End::Broken {
                    offset: sc.offset,
                    what: format!("thread {t} (the input ends)"),
                });
            }
            Some(b'{') => {
                let end = stream_thread(sc, d, t, max, sink)?;
                if !matches!(end, End::Done) {
                    return Ok(end);
                }
            }
            Some(_) => {
                let mut buf = Vec::new();
                let got = sc.read_value(0, max, &mut buf)?;
                let reason = match got {
                    Got::TooLong { len } => too_long(len, max, buf.len()),
                    _ => "a thread is not a JSON object".into(),
                };
                sink(Item::Bad {
                    origin: at(format!("$.threads[{t}]")),
                    raw: &buf,
                    reason,
                })
                .map_err(ReadError::Sink)?;
            }
        }
        t += 1;
        if let Some(end) = super::docs::after_element(sc, "a thread")? {
            return Ok(end);
        }
    }
}

/// One thread object whose `{` is next: its object (without `events`), then its events.
fn stream_thread<R: Read, E>(
    sc: &mut Scanner<'_, R>,
    d: u64,
    t: usize,
    max: usize,
    sink: Sink<'_, E>,
) -> Result<End, ReadError<E>> {
    let at = |path: String| Origin::Path { document: d, path };
    sc.consume_byte();
    let mut object = b"{".to_vec();
    let mut id = None;
    let mut events = None;
    let mut too_big = None;
    let mut first = true;
    loop {
        let key = match next_key(sc, first) {
            Ok(Some(k)) => k,
            Ok(None) => break,
            Err(end) => return Ok(end),
        };
        first = false;
        if key == "events" && events.is_none() && sc.next_non_ws()? == Some(b'[') {
            match Spill::take(sc)? {
                Some(s) => events = Some(s),
                None => return Ok(End::Ended),
            }
            continue;
        }
        if object.len() > 1 {
            object.push(b',');
        }
        object.extend_from_slice(serde_json::to_string(&key).unwrap_or_default().as_bytes());
        object.push(b':');
        let start = object.len();
        match sc.read_value(0, max, &mut object)? {
            Got::Whole => {}
            Got::TooLong { len } => {
                too_big = Some(format!(
                    "its {key:?} is {}",
                    too_long(len, max, object.len() - start)
                ))
            }
            Got::Truncated => return Ok(End::Ended),
        }
        if key == "id" {
            id = serde_json::from_slice::<String>(&object[start..]).ok();
        }
        if object.len() > max.saturating_mul(2) {
            too_big = Some(format!(
                "its members but \"events\" are over {} bytes",
                max.saturating_mul(2)
            ));
            object.truncate(super::stream::KEPT_PREFIX);
        }
    }
    object.push(b'}');
    let origin = at(format!("$.threads[{t}]"));
    let id = id.filter(|i| !i.is_empty());
    let problem = match (&too_big, &id) {
        (Some(p), _) => Some(p.clone()),
        (None, None) => Some("a thread without a string \"id\"".to_string()),
        (None, Some(_)) => None,
    };
    match (problem, std::str::from_utf8(&object)) {
        (None, Ok(text)) => sink(Item::ThreadObject {
            origin,
            text: std::borrow::Cow::Borrowed(text),
        })
        .map_err(ReadError::Sink)?,
        (None, Err(_)) => emit_text(sink, origin, &object, 0)?,
        (Some(reason), _) => sink(Item::Bad {
            origin,
            raw: &object,
            reason,
        })
        .map_err(ReadError::Sink)?,
    }
    let (Some(Spill(file)), Some(id)) = (events, id) else {
        return Ok(End::Done);
    };
    let mut on = |_| {};
    let mut inner = Scanner::new(BufReader::with_capacity(1 << 16, file), &mut on);
    inner.next_non_ws()?;
    inner.consume(1);
    let mut n = 0usize;
    let mut buf = Vec::new();
    loop {
        match inner.next_non_ws()? {
            Some(b']') | None => return Ok(End::Done),
            Some(b',') => {
                inner.consume_byte();
                continue;
            }
            Some(_) => {}
        }
        let origin = at(format!("$.threads[{t}].events[{n}]"));
        n += 1;
        buf.clear();
        let item_at = inner.offset;
        match inner.read_value(0, max, &mut buf)? {
            Got::Whole => match std::str::from_utf8(&buf) {
                Ok(text) => sink(Item::ThreadEvent {
                    origin,
                    thread_id: &id,
                    text,
                })
                .map_err(ReadError::Sink)?,
                Err(_) => emit_text(sink, origin, &buf, item_at)?,
            },
            Got::TooLong { len } => sink(Item::Bad {
                origin,
                raw: &buf,
                reason: too_long(len, max, buf.len()),
            })
            .map_err(ReadError::Sink)?,
            Got::Truncated => return Ok(End::Done),
        }
    }
}
