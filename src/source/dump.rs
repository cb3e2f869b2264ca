//! Scripts' dump documents: `{"session": {…}, "events": [ … ], "threads": [ {…, "events": [ … ]} ]}`
//! (`sessions.retrieve`, `events.list` and the threads list saved side by side). Every member is
//! optional but at least one must be there; other top-level keys are ignored.
//!
//! The session object is handed over first (whatever its place in the document), then the
//! session's events, then each thread: its object (without its `events`) and its events.

use serde::Deserialize;
use serde::de::{IgnoredAny, MapAccess, Visitor};
use serde_json::value::RawValue;
use std::borrow::Cow;
use std::fmt;

use super::{Item, Origin, ReadError};

/// The top-level keys that tell a document's shape, read in one pass.
#[derive(Deserialize, Default)]
pub(super) struct Shape<'a> {
    #[serde(rename = "type")]
    kind: Option<IgnoredAny>,
    id: Option<IgnoredAny>,
    data: Option<IgnoredAny>,
    #[serde(borrow)]
    session: Option<&'a RawValue>,
    #[serde(borrow)]
    events: Option<Vec<&'a RawValue>>,
    #[serde(borrow)]
    threads: Option<Vec<&'a RawValue>>,
}

impl Shape<'_> {
    pub(super) fn is_dump(&self) -> bool {
        self.kind.is_none()
            && self.data.is_none()
            && (self.session.is_some() || self.events.is_some() || self.threads.is_some())
    }

    /// An object with neither `type` nor `id` is no event at all (not one missing a field).
    pub(super) fn is_eventlike(&self) -> bool {
        self.kind.is_some() || self.id.is_some()
    }
}

/// The message for a document of no known shape.
pub(super) const ACCEPTED_SHAPES: &str = "expected an event object, a list page {\"data\": [...], \"next_page\": ...}, \
     a JSON array of events, or a dump {\"session\": {...}, \"events\": [...], \"threads\": [...]}";

/// Does this object text (a JSON Lines line) open like a dump? Cheap: the first key only.
pub(super) fn opens_like_dump(text: &str) -> bool {
    let inner = text.trim_start_matches('{').trim_start();
    ["\"session\"", "\"events\"", "\"threads\""]
        .iter()
        .any(|k| inner.starts_with(k))
}

pub(super) fn shape(text: &str) -> Shape<'_> {
    serde_json::from_str(text).unwrap_or_default()
}

/// A JSON object's members in order, values kept as text.
struct Members<'a>(Vec<(Cow<'a, str>, &'a RawValue)>);

impl<'de> Deserialize<'de> for Members<'de> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Members<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut m: A) -> Result<Self::Value, A::Error> {
                let mut out = Vec::new();
                while let Some((k, v)) = m.next_entry::<Cow<'de, str>, &'de RawValue>()? {
                    out.push((k, v));
                }
                Ok(Members(out))
            }
        }
        d.deserialize_map(V)
    }
}

/// Hands over the members of a dump whose shape was read.
pub(super) fn emit<E>(
    shape: Shape<'_>,
    document: u64,
    sink: &mut dyn FnMut(Item<'_>) -> Result<(), E>,
) -> Result<(), ReadError<E>> {
    let at = |path: String| Origin::Path { document, path };
    let mut send = |item: Item<'_>| sink(item).map_err(ReadError::Sink);
    if let Some(session) = shape.session {
        send(Item::Event {
            origin: at("$.session".into()),
            frame_name: None,
            text: session.get(),
        })?;
    }
    for (i, e) in shape.events.unwrap_or_default().into_iter().enumerate() {
        send(Item::Event {
            origin: at(format!("$.events[{i}]")),
            frame_name: None,
            text: e.get(),
        })?;
    }
    for (t, thread) in shape.threads.unwrap_or_default().into_iter().enumerate() {
        emit_thread(document, t, thread.get(), sink)?;
    }
    Ok(())
}

/// Hands over one element of a dump's `threads` (`$.threads[t]`): its object without `events`,
/// then its events.
pub(super) fn emit_thread<E>(
    document: u64,
    t: usize,
    thread: &str,
    sink: &mut dyn FnMut(Item<'_>) -> Result<(), E>,
) -> Result<(), ReadError<E>> {
    let at = |path: String| Origin::Path { document, path };
    let mut send = |item: Item<'_>| sink(item).map_err(ReadError::Sink);
    let origin = at(format!("$.threads[{t}]"));
    let members = match serde_json::from_str::<Members<'_>>(thread) {
        Ok(m) => m.0,
        Err(e) => {
            send(Item::Bad {
                origin,
                raw: thread.as_bytes(),
                reason: format!("a thread is not a JSON object: {e}"),
            })?;
            return Ok(());
        }
    };
    let id = members
        .iter()
        .find(|(k, _)| k == "id")
        .and_then(|(_, v)| serde_json::from_str::<Cow<'_, str>>(v.get()).ok())
        .filter(|id| !id.is_empty());
    let Some(id) = id else {
        send(Item::Bad {
            origin,
            raw: thread.as_bytes(),
            reason: "a thread without a string \"id\"".into(),
        })?;
        return Ok(());
    };
    let mut object = String::with_capacity(thread.len());
    object.push('{');
    let mut events = None;
    for (k, v) in &members {
        if k == "events" {
            events = Some(*v);
            continue;
        }
        if object.len() > 1 {
            object.push(',');
        }
        object.push_str(&serde_json::to_string(k).unwrap_or_default());
        object.push(':');
        object.push_str(v.get());
    }
    object.push('}');
    send(Item::ThreadObject {
        origin,
        text: Cow::Owned(object),
    })?;
    let Some(events) = events else {
        return Ok(());
    };
    let events = match serde_json::from_str::<Vec<&RawValue>>(events.get()) {
        Ok(v) => v,
        Err(e) => {
            send(Item::Bad {
                origin: at(format!("$.threads[{t}].events")),
                raw: events.get().as_bytes(),
                reason: format!("a thread's \"events\" is not an array: {e}"),
            })?;
            return Ok(());
        }
    };
    for (i, e) in events.into_iter().enumerate() {
        send(Item::ThreadEvent {
            origin: at(format!("$.threads[{t}].events[{i}]")),
            thread_id: &id,
            text: e.get(),
        })?;
    }
    Ok(())
}
