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

    /// The fields without the text (`raw` is ""), owned, so they can cross a thread with the
    /// text apart; [`Envelope::with_raw`] puts them back together.
    pub fn detach(&self) -> Envelope<'static> {
        let own = |c: &Cow<'_, str>| Cow::Owned(c.to_string());
        Envelope {
            raw: "",
            event_type: own(&self.event_type),
            id: own(&self.id),
            processed_at: self.processed_at.as_ref().map(own),
            ts_micros: self.ts_micros,
            link_id: self.link_id.as_ref().map(own),
            session_id: self.session_id.as_ref().map(own),
            is_error: self.is_error,
        }
    }

    /// These fields over `raw`, borrowed (the inverse of [`Envelope::detach`]).
    pub fn with_raw<'b>(&'b self, raw: &'b str) -> Envelope<'b> {
        let lend = |c: &'b Cow<'_, str>| Cow::Borrowed(c.as_ref());
        Envelope {
            raw,
            event_type: lend(&self.event_type),
            id: lend(&self.id),
            processed_at: self.processed_at.as_ref().map(lend),
            ts_micros: self.ts_micros,
            link_id: self.link_id.as_ref().map(lend),
            session_id: self.session_id.as_ref().map(lend),
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
    #[serde(borrow, rename = "type")]
    event_type: Option<Cow<'a, str>>,
    #[serde(borrow)]
    id: Option<Cow<'a, str>>,
    #[serde(borrow)]
    processed_at: Option<Cow<'a, str>>,
    #[serde(borrow)]
    session_id: Option<Cow<'a, str>>,
    #[serde(borrow)]
    tool_use_id: Option<Cow<'a, str>>,
    #[serde(borrow)]
    custom_tool_use_id: Option<Cow<'a, str>>,
    #[serde(borrow)]
    mcp_tool_use_id: Option<Cow<'a, str>>,
    #[serde(borrow)]
    model_request_start_id: Option<Cow<'a, str>>,
    #[serde(borrow)]
    outcome_evaluation_start_id: Option<Cow<'a, str>>,
    #[serde(borrow)]
    phase_started_id: Option<Cow<'a, str>>,
    #[serde(borrow)]
    event_id: Option<Cow<'a, str>>,
    #[serde(borrow)]
    event: Option<PreviewTarget<'a>>,
    /// Any JSON value: only `true` counts, and an odd shape must not make the event invalid.
    #[serde(borrow)]
    is_error: Option<&'a serde_json::value::RawValue>,
}

#[derive(Deserialize)]
struct PreviewTarget<'a> {
    #[serde(borrow)]
    id: Option<Cow<'a, str>>,
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
