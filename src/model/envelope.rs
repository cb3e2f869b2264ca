//! The promoted fields of an event, read in one pass over its raw text.
//!
//! This is the import hot path: it borrows from the raw text where it can and skips everything
//! else, but still validates that the whole text is one JSON object.

use serde::Deserialize;
use std::borrow::Cow;

use super::catalogue::is_preview_type;
use super::time::parse_timestamp_micros;

/// The fields of an event that the store indexes. `raw` is the record; these are derived.
#[derive(Debug, Clone, PartialEq)]
pub struct Envelope<'a> {
    pub raw: &'a str,
    /// `type`, or the SSE `event:` name when the JSON has no `type` (older SDKs filled it in so).
    pub event_type: Cow<'a, str>,
    /// `id`; empty when absent or empty (`user.interrupt` can arrive with `"id":""`).
    pub id: Cow<'a, str>,
    /// `processed_at` as received; `None` when null or absent (a queued user event).
    pub processed_at: Option<Cow<'a, str>>,
    /// `processed_at` as microseconds since the epoch, when it parses.
    pub ts_micros: Option<i64>,
    /// The id of the earlier event this one links to (`tool_use_id`, `model_request_start_id`, ...).
    /// For preview frames, the id of the event they preview.
    pub link_id: Option<Cow<'a, str>>,
    /// A `session_id` field, when the event carries one (not part of the API's event shapes).
    pub session_id: Option<Cow<'a, str>>,
    /// A top-level `"is_error": true` (tool results, model request ends).
    pub is_error: bool,
}

impl Envelope<'_> {
    pub fn is_preview(&self) -> bool {
        is_preview_type(&self.event_type)
    }

    /// The fields without the text, as places in `text` (the text this envelope was parsed
    /// from), so they can cross a thread with the text and no copies; [`Detached::with_raw`]
    /// puts them back together. A field that is not a slice of `text` (the text escaped it, or
    /// it is the frame's name) is kept as its own copy.
    pub fn detach(&self, text: &str) -> Detached {
        let base = text.as_ptr() as usize;
        let place = |c: &Cow<'_, str>| {
            let at = (c.as_ptr() as usize).wrapping_sub(base);
            match c {
                Cow::Borrowed(b) if at <= text.len() && b.len() <= text.len() - at => {
                    Part::At(at, at + b.len())
                }
                _ => Part::Own(c.as_ref().into()),
            }
        };
        Detached {
            event_type: place(&self.event_type),
            id: place(&self.id),
            processed_at: self.processed_at.as_ref().map(place),
            ts_micros: self.ts_micros,
            link_id: self.link_id.as_ref().map(place),
            session_id: self.session_id.as_ref().map(place),
            is_error: self.is_error,
        }
    }
}

/// An [`Envelope`] apart from its text ([`Envelope::detach`]).
#[derive(Debug, Clone, PartialEq)]
pub struct Detached {
    event_type: Part,
    id: Part,
    processed_at: Option<Part>,
    ts_micros: Option<i64>,
    link_id: Option<Part>,
    session_id: Option<Part>,
    is_error: bool,
}

/// Where a detached field is: a byte range of the text, or its own copy.
#[derive(Debug, Clone, PartialEq)]
enum Part {
    At(usize, usize),
    Own(Box<str>),
}

impl Detached {
    /// The envelope over `text` (its `raw`, whole), which must be the text it was detached from
    /// (a range that is not in `text` reads as empty).
    pub fn with_raw<'b>(&'b self, text: &'b str) -> Envelope<'b> {
        let lend = |p: &'b Part| -> &'b str {
            match p {
                Part::At(from, to) => text.get(*from..*to).unwrap_or_default(),
                Part::Own(s) => s,
            }
        };
        let cow = |p: &'b Part| Cow::Borrowed(lend(p));
        Envelope {
            raw: text,
            event_type: cow(&self.event_type),
            id: cow(&self.id),
            processed_at: self.processed_at.as_ref().map(cow),
            ts_micros: self.ts_micros,
            link_id: self.link_id.as_ref().map(cow),
            session_id: self.session_id.as_ref().map(cow),
            is_error: self.is_error,
        }
    }
}

/// Why a frame's text is not an event. The text goes to quarantine with this reason.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum EnvelopeError {
    #[error("invalid JSON: {0}")]
    InvalidJson(String),
    #[error("JSON is not an object (starts with {0:?})")]
    NotAnObject(char),
    #[error("empty data")]
    Empty,
    #[error("event has no \"type\" and the frame no event name")]
    NoType,
}

#[derive(Deserialize)]
struct Fields<'a> {
    #[serde(borrow, rename = "type", default, deserialize_with = "borrowed")]
    event_type: Option<Cow<'a, str>>,
    #[serde(borrow, default, deserialize_with = "borrowed")]
    id: Option<Cow<'a, str>>,
    #[serde(borrow, default, deserialize_with = "borrowed")]
    processed_at: Option<Cow<'a, str>>,
    #[serde(borrow, default, deserialize_with = "borrowed")]
    session_id: Option<Cow<'a, str>>,
    #[serde(borrow, default, deserialize_with = "borrowed")]
    tool_use_id: Option<Cow<'a, str>>,
    #[serde(borrow, default, deserialize_with = "borrowed")]
    custom_tool_use_id: Option<Cow<'a, str>>,
    #[serde(borrow, default, deserialize_with = "borrowed")]
    mcp_tool_use_id: Option<Cow<'a, str>>,
    #[serde(borrow, default, deserialize_with = "borrowed")]
    model_request_start_id: Option<Cow<'a, str>>,
    #[serde(borrow, default, deserialize_with = "borrowed")]
    outcome_evaluation_start_id: Option<Cow<'a, str>>,
    #[serde(borrow, default, deserialize_with = "borrowed")]
    phase_started_id: Option<Cow<'a, str>>,
    #[serde(borrow, default, deserialize_with = "borrowed")]
    event_id: Option<Cow<'a, str>>,
    #[serde(borrow)]
    event: Option<PreviewTarget<'a>>,
    /// Any JSON value: only `true` counts, and an odd shape must not make the event invalid.
    #[serde(borrow)]
    is_error: Option<&'a serde_json::value::RawValue>,
}

#[derive(Deserialize)]
struct PreviewTarget<'a> {
    #[serde(borrow, default, deserialize_with = "borrowed")]
    id: Option<Cow<'a, str>>,
}

/// A string field, or null, borrowed from the text when it has no escapes. serde's own `Cow`
/// copies every string inside an `Option` (its `borrow` attribute only reaches a bare `Cow`):
/// three allocations an event on the import's hot path. Anything but a string or null is an
/// error, as it was.
fn borrowed<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Cow<'de, str>>, D::Error> {
    struct Text;
    impl<'de> serde::de::Visitor<'de> for Text {
        type Value = Cow<'de, str>;
        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("a string")
        }
        fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Self::Value, E> {
            Ok(Cow::Borrowed(v))
        }
        fn visit_str<E>(self, v: &str) -> Result<Self::Value, E> {
            Ok(Cow::Owned(v.to_owned()))
        }
        fn visit_string<E>(self, v: String) -> Result<Self::Value, E> {
            Ok(Cow::Owned(v))
        }
    }
    struct OrNull;
    impl<'de> serde::de::Visitor<'de> for OrNull {
        type Value = Option<Cow<'de, str>>;
        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("a string or null")
        }
        fn visit_none<E>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_unit<E>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_some<D: serde::Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
            d.deserialize_str(Text).map(Some)
        }
    }
    d.deserialize_option(OrNull)
}

impl<'a> Envelope<'a> {
    /// Reads the envelope of one event. `frame_name` is the SSE `event:` name, if any, used only
    /// when the JSON itself has no `type`.
    pub fn parse(raw: &'a str, frame_name: Option<&'a str>) -> Result<Envelope<'a>, EnvelopeError> {
        let text = raw.trim_matches(|c: char| c.is_ascii_whitespace());
        let first = text.chars().next().ok_or(EnvelopeError::Empty)?;
        if first != '{' {
            // serde would map a JSON array onto a struct positionally; only objects are events.
            serde_json::from_str::<serde::de::IgnoredAny>(text)
                .map_err(|e| EnvelopeError::InvalidJson(e.to_string()))?;
            return Err(EnvelopeError::NotAnObject(first));
        }
        let f: Fields<'a> = match serde_json::from_str(text) {
            Ok(f) => f,
            Err(e) => return Err(Self::explain_failure(text, e)),
        };
        let event_type = match (f.event_type, frame_name) {
            (Some(t), _) if !t.is_empty() => t,
            (_, Some(name)) if !name.is_empty() && name != "message" => Cow::Borrowed(name),
            _ => return Err(EnvelopeError::NoType),
        };
        let link_id = if is_preview_type(&event_type) {
            f.event_id.or(f.event.and_then(|e| e.id))
        } else {
            f.tool_use_id
                .or(f.custom_tool_use_id)
                .or(f.mcp_tool_use_id)
                .or(f.model_request_start_id)
                .or(f.outcome_evaluation_start_id)
                .or(f.phase_started_id)
        };
        let processed_at = f.processed_at.filter(|p| !p.is_empty());
        let ts_micros = processed_at.as_deref().and_then(parse_timestamp_micros);
        Ok(Envelope {
            raw: text,
            event_type,
            id: f.id.unwrap_or(Cow::Borrowed("")),
            processed_at,
            ts_micros,
            link_id,
            session_id: f.session_id,
            is_error: f.is_error.is_some_and(|v| v.get() == "true"),
        })
    }

    /// A field we promote had a non-string value, or the JSON is broken. Tell the two apart: a
    /// valid object with an odd field is still an event (fields read as absent).
    fn explain_failure(text: &'a str, err: serde_json::Error) -> EnvelopeError {
        match serde_json::from_str::<serde_json::Map<String, serde_json::Value>>(text) {
            Err(e) => EnvelopeError::InvalidJson(e.to_string()),
            Ok(_) => EnvelopeError::InvalidJson(format!("unexpected field shape: {err}")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_promoted_fields_and_keeps_raw() {
        let raw = r#" {"type":"agent.tool_result","id":"sevt_2","tool_use_id":"sevt_1","content":[],"processed_at":"2026-08-07T14:02:19.402Z"}"#;
        let e = Envelope::parse(raw, None).unwrap();
        assert_eq!(e.event_type, "agent.tool_result");
        assert_eq!(e.id, "sevt_2");
        assert_eq!(e.link_id.as_deref(), Some("sevt_1"));
        assert_eq!(e.processed_at.as_deref(), Some("2026-08-07T14:02:19.402Z"));
        assert!(e.ts_micros.is_some());
        assert!(!e.is_error);
        let failed = r#"{"type":"agent.tool_result","id":"sevt_3","is_error":true}"#;
        assert!(Envelope::parse(failed, None).unwrap().is_error);
        let odd = r#"{"type":"agent.tool_result","id":"sevt_4","is_error":{"x":[1]}}"#;
        assert!(!Envelope::parse(odd, None).unwrap().is_error);
        assert_eq!(e.raw, raw.trim());
    }

    #[test]
    fn queued_events_have_no_time() {
        let e = Envelope::parse(
            r#"{"type":"user.message","id":"sevt_1","processed_at":null,"content":[]}"#,
            None,
        )
        .unwrap();
        assert_eq!(e.processed_at, None);
        assert_eq!(e.ts_micros, None);
    }

    #[test]
    fn preview_frames_link_to_the_previewed_event() {
        let s = Envelope::parse(
            r#"{"type":"event_start","event":{"type":"agent.message","id":"sevt_9"}}"#,
            None,
        )
        .unwrap();
        assert!(s.is_preview());
        assert_eq!(s.id, "");
        assert_eq!(s.link_id.as_deref(), Some("sevt_9"));
        let d = Envelope::parse(
            r#"{"type":"event_delta","event_id":"sevt_9","delta":{}}"#,
            None,
        )
        .unwrap();
        assert_eq!(d.link_id.as_deref(), Some("sevt_9"));
    }

    #[test]
    fn escaped_strings_are_decoded() {
        let e = Envelope::parse(r#"{"type":"x.y","id":"sevt_\u0031"}"#, None).unwrap();
        assert_eq!(e.id, "sevt_1");
    }

    /// Plain strings are slices of the text (no copy on the import's hot path); escaped ones are
    /// decoded copies; a field of another shape is still refused as before.
    #[test]
    fn fields_borrow_from_the_text_unless_escaped() {
        let raw = r#"{"type":"agent.tool_result","id":"sevt_2","tool_use_id":"sevt_\u0031","processed_at":"2026-08-07T14:02:19.402Z","session_id":null}"#;
        let e = Envelope::parse(raw, None).unwrap();
        assert!(matches!(e.event_type, Cow::Borrowed(_)));
        assert!(matches!(e.id, Cow::Borrowed(_)));
        assert!(matches!(e.processed_at, Some(Cow::Borrowed(_))));
        assert!(matches!(e.link_id.as_ref(), Some(Cow::Owned(l)) if l == "sevt_1"));
        assert_eq!(e.session_id, None);
        let odd = Envelope::parse(r#"{"type":"x.y","id":5}"#, None);
        assert!(matches!(odd, Err(EnvelopeError::InvalidJson(m)) if m.contains("field shape")));
        let preview = r#"{"type":"event_start","event":{"type":"agent.message","id":"sevt_9"}}"#;
        let p = Envelope::parse(preview, None).unwrap();
        assert!(matches!(p.link_id, Some(Cow::Borrowed("sevt_9"))));
    }

    /// Detached from its text and put back over a copy of it, an envelope is the same, whether
    /// its fields were slices of the text, decoded copies or the frame's name.
    #[test]
    fn a_detached_envelope_over_a_copy_of_its_text_is_the_same() {
        let texts = [
            (
                r#" {"type":"agent.tool_result","id":"sevt_2","tool_use_id":"sevt_\u0031","processed_at":"2026-08-07T14:02:19.402Z","is_error":true} "#,
                None,
            ),
            (
                r#"{"id":"sevt_\u00e9","session_id":"sesn_1"}"#,
                Some("agent.thinking"),
            ),
            (
                r#"{"type":"user.message","id":"","processed_at":null}"#,
                None,
            ),
        ];
        for (text, frame) in texts {
            let e = Envelope::parse(text, frame).unwrap();
            let detached = e.detach(text);
            let copy = text.to_string();
            let back = detached.with_raw(&copy);
            assert_eq!(back.raw, text);
            assert_eq!(Envelope { raw: e.raw, ..back }, e, "{text}");
        }
    }

    #[test]
    fn type_falls_back_to_the_frame_name() {
        let e = Envelope::parse(r#"{"id":"sevt_1"}"#, Some("agent.thinking")).unwrap();
        assert_eq!(e.event_type, "agent.thinking");
        assert_eq!(
            Envelope::parse(r#"{"id":"sevt_1"}"#, None),
            Err(EnvelopeError::NoType)
        );
    }

    #[test]
    fn rejects_what_is_not_an_event() {
        assert!(matches!(
            Envelope::parse("{\"type\":\"a\",", None),
            Err(EnvelopeError::InvalidJson(_))
        ));
        assert_eq!(
            Envelope::parse("[1,2]", None),
            Err(EnvelopeError::NotAnObject('['))
        );
        assert_eq!(Envelope::parse("  ", None), Err(EnvelopeError::Empty));
        assert!(matches!(
            Envelope::parse("hello", None),
            Err(EnvelopeError::InvalidJson(_))
        ));
    }

    #[test]
    fn odd_field_shapes_are_reported_not_panicked() {
        let r = Envelope::parse(r#"{"type":"x","id":5}"#, None);
        assert!(matches!(r, Err(EnvelopeError::InvalidJson(m)) if m.contains("field shape")));
    }
}
