//! `POST /v1/sessions/{id}/events` in live mode: user events sent to a served session, as the
//! API takes them (§1.7). Each input is checked (a known input type, an object, its required
//! fields), given an id, stored queued (`processed_at` null) and then processed (`processed_at`
//! set, the queued copy kept as a revision), and both copies are added to the live schedule, so
//! streams and pages show the queued echo and then the processed copy. The answer is
//! `{"data":[…]}` with the queued echoes. Without `--live` a recording is replayed as it was:
//! sending is refused with 405 and an API error body.
//!
//! The processed copy is stamped in the recording's time, as the session's other events are:
//! an answer to what a held session waits on (`--hold`) takes the `processed_at` of the
//! recorded answer it replaces, anything else comes 1 ms after the newest event revealed; and
//! answers (tool confirmations, custom and self-hosted tool results) may let a held session go
//! on.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value};
use std::sync::Arc;

use super::App;
use super::error::ApiError;
use super::live::Copy;
use crate::model::time::{format_micros, now};
use crate::model::{Envelope, Source, parse_timestamp_micros};
use crate::store::{Incoming, QUEUED_SORT_TS, Store};

/// The input types the API accepts (§1.7).
pub const INPUT_TYPES: [&str; 7] = [
    "user.message",
    "user.interrupt",
    "user.tool_confirmation",
    "user.custom_tool_result",
    "user.define_outcome",
    "user.tool_result",
    "system.message",
];

/// The fields each input type must carry.
fn required(event_type: &str) -> &'static [&'static str] {
    match event_type {
        "user.message" | "system.message" => &["content"],
        "user.tool_confirmation" => &["tool_use_id", "result"],
        "user.custom_tool_result" => &["custom_tool_use_id"],
        "user.tool_result" => &["tool_use_id"],
        _ => &[],
    }
}

/// One input event checked: its object, or why it is refused (`events[i]: …`).
pub fn check_input(i: usize, v: &Value) -> Result<Map<String, Value>, String> {
    let Value::Object(obj) = v else {
        return Err(format!("events[{i}]: must be an object"));
    };
    let Some(t) = obj.get("type").and_then(Value::as_str) else {
        return Err(format!("events[{i}].type: required, a string"));
    };
    if !INPUT_TYPES.contains(&t) {
        return Err(format!(
            "events[{i}].type: {t:?} is not an input event type (one of {})",
            INPUT_TYPES.join(", ")
        ));
    }
    for field in required(t) {
        if !obj.contains_key(*field) {
            return Err(format!("events[{i}].{field}: required for {t}"));
        }
    }
    if t == "user.tool_confirmation" {
        match obj.get("result").and_then(Value::as_str) {
            Some("allow") if obj.contains_key("deny_message") => {
                return Err(format!(
                    "events[{i}].deny_message: only valid with result \"deny\""
                ));
            }
            Some("allow" | "deny") => {}
            _ => return Err(format!("events[{i}].result: must be \"allow\" or \"deny\"")),
        }
    }
    for field in ["id", "processed_at"] {
        if obj.contains_key(field) {
            return Err(format!("events[{i}].{field}: set by the server, not sent"));
        }
    }
    Ok(obj.clone())
}

/// The events of a request body, checked.
pub fn check_body(body: &[u8]) -> Result<Vec<Map<String, Value>>, String> {
    let v: Value =
        serde_json::from_slice(body).map_err(|e| format!("the body is not JSON: {e}"))?;
    let Some(events) = v.get("events").and_then(Value::as_array) else {
        return Err("events: required, an array of input events".into());
    };
    if events.is_empty() {
        return Err("events: must hold at least one event".into());
    }
    events
        .iter()
        .enumerate()
        .map(|(i, e)| check_input(i, e))
        .collect()
}

/// The id an answer event answers (`tool_use_id` or `custom_tool_use_id`).
fn answers(obj: &Map<String, Value>) -> Option<String> {
    let field = match obj.get("type").and_then(Value::as_str)? {
        "user.tool_confirmation" | "user.tool_result" => "tool_use_id",
        "user.custom_tool_result" => "custom_tool_use_id",
        _ => return None,
    };
    obj.get(field).and_then(Value::as_str).map(str::to_string)
}

/// An id shaped like the API's (`sevt_` and 24 letters and digits).
fn event_id() -> String {
    const ALPHABET: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    let tail: String = (0..24)
        .map(|_| ALPHABET[fastrand::usize(..ALPHABET.len())] as char)
        .collect();
    format!("sevt_011{}", &tail[3..])
}

/// What one stored event adds to its log's schedule.
struct Stored {
    seq: i64,
    queued_rev: Option<i64>,
    processed_ts: i64,
    event_type: String,
}

pub async fn send_events(
    State(app): State<Arc<App>>,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let Some(live) = &app.live else {
        return Err(ApiError::new(
            StatusCode::METHOD_NOT_ALLOWED,
            "invalid_request_error",
            "this server replays a recording; sending events needs `flightrec serve --live`",
        ));
    };
    let inputs = check_body(&body).map_err(ApiError::invalid)?;
    super::handlers::require_session(&app, &id).await?;
    let answered: Vec<Option<String>> = inputs.iter().map(answers).collect();
    let stamps: Vec<Option<String>> = {
        let (schedule, elapsed) = (live.schedule(), live.elapsed());
        answered
            .iter()
            .map(|a| {
                schedule
                    .stamp(&id, a.as_deref(), elapsed)
                    .map(format_micros)
            })
            .collect()
    };
    let echoes: Vec<String> = inputs
        .into_iter()
        .map(|mut obj| {
            obj.insert("id".into(), Value::String(event_id()));
            obj.insert("processed_at".into(), Value::Null);
            Value::Object(obj).to_string()
        })
        .collect();
    let (path, sid, texts) = (app.opts.db.clone(), id.clone(), echoes.clone());
    let stored = tokio::task::spawn_blocking(move || store(&path, &sid, &texts, &stamps))
        .await
        .map_err(|e| ApiError::hidden(format!("storing sent events: {e}")))??;
    let mut copies = vec![];
    for s in stored {
        let event_type: Arc<str> = Arc::from(s.event_type.as_str());
        if let Some(rev) = s.queued_rev {
            copies.push(Copy {
                at: 0,
                seq: s.seq,
                rev: Some(rev),
                sort_ts: QUEUED_SORT_TS,
                event_type: Arc::clone(&event_type),
            });
        }
        copies.push(Copy {
            at: 0,
            seq: s.seq,
            rev: None,
            sort_ts: s.processed_ts,
            event_type,
        });
    }
    let answered: Vec<String> = answered.into_iter().flatten().collect();
    live.deliver(&id, copies, &answered);
    let mut out = String::from("{\"data\":[");
    out.push_str(&echoes.join(","));
    out.push_str("]}");
    Ok(([(header::CONTENT_TYPE, "application/json")], out).into_response())
}

/// Stores each echo queued, then its processed copy (processed at its stamp, else now);
/// returns where they are.
fn store(
    path: &std::path::Path,
    session: &str,
    echoes: &[String],
    stamps: &[Option<String>],
) -> Result<Vec<Stored>, ApiError> {
    let mut st = Store::open(path)?;
    let received = now();
    let mut batch = st.batch()?;
    for text in echoes {
        put(&mut batch, session, text, &received)?;
    }
    batch.commit()?;
    let mut processed = Vec::with_capacity(echoes.len());
    let mut batch = st.batch()?;
    for (i, text) in echoes.iter().enumerate() {
        let mut v: Value = serde_json::from_str(text)
            .map_err(|e| ApiError::hidden(format!("re-reading a sent event: {e}")))?;
        let at = stamps.get(i).cloned().flatten().unwrap_or_else(now);
        v["processed_at"] = Value::String(at);
        let text = v.to_string();
        put(&mut batch, session, &text, &now())?;
        processed.push(v);
    }
    batch.commit()?;
    let mut out = Vec::with_capacity(processed.len());
    for v in processed {
        let eid = v["id"].as_str().unwrap_or_default().to_string();
        let (seq, revs) = st.event_copies(session, "", &eid)?.ok_or_else(|| {
            ApiError::hidden(format!("a sent event {eid} was not found after storing it"))
        })?;
        out.push(Stored {
            seq,
            queued_rev: revs.last().copied(),
            processed_ts: v["processed_at"]
                .as_str()
                .and_then(parse_timestamp_micros)
                .unwrap_or(QUEUED_SORT_TS),
            event_type: v["type"].as_str().unwrap_or_default().to_string(),
        });
    }
    Ok(out)
}

fn put(
    batch: &mut crate::store::WriteBatch<'_>,
    session: &str,
    text: &str,
    received: &str,
) -> Result<(), ApiError> {
    let env = Envelope::parse(text, None)
        .map_err(|e| ApiError::hidden(format!("a sent event is not an event: {e}")))?;
    batch.upsert(&Incoming {
        session_id: session,
        thread_id: "",
        envelope: &env,
        source: Source::List,
        received_at: received,
        preview_ordinal: 0,
    })?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inputs_are_checked_as_the_api_does() {
        let ok = br#"{"events":[{"type":"user.tool_confirmation","tool_use_id":"sevt_1","result":"allow"}]}"#;
        assert_eq!(check_body(ok).map(|v| v.len()), Ok(1));
        let bad = |b: &[u8]| check_body(b).unwrap_err();
        assert!(bad(b"{").starts_with("the body is not JSON"));
        assert_eq!(
            bad(br#"{"events":[]}"#),
            "events: must hold at least one event"
        );
        assert!(
            bad(br#"{"events":[{"type":"agent.message"}]}"#).contains("not an input event type")
        );
        assert_eq!(
            bad(br#"{"events":[{"type":"user.custom_tool_result"}]}"#),
            "events[0].custom_tool_use_id: required for user.custom_tool_result"
        );
        assert_eq!(
            bad(br#"{"events":[{"type":"user.tool_confirmation","tool_use_id":"x","result":"maybe"}]}"#),
            "events[0].result: must be \"allow\" or \"deny\""
        );
        assert!(
            bad(br#"{"events":[{"type":"user.interrupt","id":"sevt_x"}]}"#)
                .contains("set by the server")
        );
        assert!(event_id().starts_with("sevt_011") && event_id().len() == 29);
    }
}
