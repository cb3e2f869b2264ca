//! Session and thread objects. The session object: the stored one verbatim when the recorder
//! fetched one, otherwise one synthesized from the events (§6.1 of the reference), plausible
//! enough for the SDKs to parse. Thread objects (§6.3): only the stored ones, verbatim; none are
//! invented, so a session recorded without them lists no threads (its thread logs and streams
//! are still served for every thread its events or logs name).

use serde::Serialize;
use serde_json::value::RawValue;
use serde_json::{Value, json};

use crate::model::catalogue::status_of_type;
use crate::model::parse_timestamp_micros;
use crate::store::{SessionFacts, ThreadEvent, ThreadObject};

/// A session object with the keys the list endpoint sorts and filters on.
#[derive(Debug, Clone, PartialEq)]
pub struct SessionView {
    pub id: String,
    pub created_ts: i64,
    pub status: String,
    pub json: String,
}

/// A thread object with the key the list filters on.
#[derive(Debug, Clone, PartialEq)]
pub struct ThreadView {
    pub id: String,
    pub status: String,
    pub json: String,
}

/// The status a session shows; a deleted session, which has no status of its own, shows
/// `terminated`.
fn session_status(status_type: Option<&str>) -> String {
    match status_type.and_then(status_of_type) {
        Some("deleted") => "terminated",
        Some(s) => s,
        None => "idle",
    }
    .to_string()
}

pub fn session_view(f: &SessionFacts) -> SessionView {
    let fallback_ts = f.first_ts.unwrap_or(0);
    if let Some(object) = &f.object {
        let v: Value = serde_json::from_str(object).unwrap_or(Value::Null);
        return SessionView {
            id: f.id.clone(),
            created_ts: v["created_at"]
                .as_str()
                .and_then(parse_timestamp_micros)
                .unwrap_or(fallback_ts),
            status: v["status"]
                .as_str()
                .map(str::to_string)
                .unwrap_or_else(|| session_status(f.status_type.as_deref())),
            json: object.clone(),
        };
    }
    let status = session_status(f.status_type.as_deref());
    let created = f
        .first_at
        .clone()
        .or_else(|| f.first_received.clone())
        .unwrap_or_else(|| "1970-01-01T00:00:00Z".to_string());
    let updated = f.last_at.clone().unwrap_or_else(|| created.clone());
    let usage = f
        .usage
        .as_deref()
        .and_then(|u| RawValue::from_string(u.to_string()).ok());
    let session = Session {
        kind: "session",
        id: &f.id,
        status: &status,
        title: f.title.as_deref(),
        created_at: &created,
        updated_at: &updated,
        archived_at: None,
        environment_id: "env_flightrec_replay",
        deployment_id: None,
        metadata: json!({}),
        resources: [],
        vault_ids: [],
        outcome_evaluations: [],
        stats: json!({}),
        usage: usage.as_deref(),
        agent: json!({
            "type": "agent",
            "id": "agent_flightrec_replay",
            "version": 1,
            "name": "flightrec replay",
            "description": null,
            "system": null,
            "model": {"id": "claude-sonnet-4-6"},
            "execution_identity": {"type": "service_account"},
            "tools": [],
            "skills": [],
            "mcp_servers": [],
            "multiagent": null,
        }),
    };
    SessionView {
        id: f.id.clone(),
        created_ts: fallback_ts,
        status: status.clone(),
        json: to_json(&session),
    }
}

/// A synthesized session (§6.1), keys in the API's order.
#[derive(Serialize)]
struct Session<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    id: &'a str,
    status: &'a str,
    title: Option<&'a str>,
    created_at: &'a str,
    updated_at: &'a str,
    archived_at: Option<&'a str>,
    environment_id: &'static str,
    deployment_id: Option<&'a str>,
    metadata: Value,
    resources: [Value; 0],
    vault_ids: [Value; 0],
    outcome_evaluations: [Value; 0],
    stats: Value,
    /// The newest `session.usage` figures, as stored; `{}` before the first.
    #[serde(serialize_with = "usage_or_empty")]
    usage: Option<&'a RawValue>,
    agent: Value,
}

fn usage_or_empty<S: serde::Serializer>(u: &Option<&RawValue>, s: S) -> Result<S::Ok, S::Error> {
    match u {
        Some(raw) => raw.serialize(s),
        None => json!({}).serialize(s),
    }
}

fn to_json(v: &impl Serialize) -> String {
    serde_json::to_string(v).unwrap_or_else(|_| "{}".to_string())
}

/// The stored thread objects of a session as served: verbatim, with the status the list
/// filters on read from each.
pub fn thread_views(stored: &[ThreadObject]) -> Vec<ThreadView> {
    stored
        .iter()
        .map(|t| ThreadView {
            id: t.id.clone(),
            status: serde_json::from_str::<Value>(&t.raw)
                .ok()
                .and_then(|v| v["status"].as_str().map(str::to_string))
                .unwrap_or_default(),
            json: t.raw.clone(),
        })
        .collect()
}

/// Whether the session has a thread `tid` whose log and stream can be read: one with a stored
/// object, one named by the session's `session.thread_*` events, or one with a stored log.
pub fn knows_thread(
    tid: &str,
    stored: &[ThreadObject],
    events: &[ThreadEvent],
    logged: &[String],
) -> bool {
    stored.iter().any(|t| t.id == tid)
        || events.iter().any(|e| e.thread_id.as_deref() == Some(tid))
        || logged.iter().any(|l| l == tid)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stored(id: &str, raw: &str) -> ThreadObject {
        ThreadObject {
            id: id.to_string(),
            parent_thread_id: None,
            raw: raw.to_string(),
            fetched_at: "t".to_string(),
        }
    }

    #[test]
    fn stored_thread_objects_are_served_verbatim_with_their_status() {
        let raw = r#"{"id":"sthr_a", "type":"session_thread","status":"idle","usage":{"input_tokens":1.50}}"#;
        let views = thread_views(&[stored("sthr_a", raw), stored("sthr_b", "{}")]);
        assert_eq!(views[0].json, raw);
        assert_eq!(views[0].status, "idle");
        assert_eq!(views[1].status, "");
    }

    #[test]
    fn a_thread_is_known_from_its_object_its_events_or_its_log() {
        let ev = ThreadEvent {
            event_type: "session.thread_created".into(),
            thread_id: Some("sthr_e".into()),
            agent_name: None,
            workflow_run_id: None,
            processed_at: None,
        };
        let objs = [stored("sthr_o", "{}")];
        let logged = ["sthr_l".to_string()];
        for tid in ["sthr_o", "sthr_e", "sthr_l"] {
            assert!(
                knows_thread(tid, &objs, std::slice::from_ref(&ev), &logged),
                "{tid}"
            );
        }
        assert!(!knows_thread("sthr_x", &objs, &[ev], &logged));
    }

    #[test]
    fn a_stored_object_is_served_verbatim() {
        let object = r#"{"type":"session","id":"sesn_x","status":"running","created_at":"2026-08-07T14:01:58.120Z"}"#;
        let f = SessionFacts {
            id: "sesn_x".into(),
            object: Some(object.into()),
            ..SessionFacts::default()
        };
        let v = session_view(&f);
        assert_eq!(v.json, object);
        assert_eq!(v.status, "running");
        assert!(v.created_ts > 0);
    }

    #[test]
    fn a_synthesized_session_takes_its_status_and_usage_from_events() {
        let f = SessionFacts {
            id: "sesn_x".into(),
            first_at: Some("2026-08-07T14:01:58.120Z".into()),
            first_ts: Some(1),
            status_type: Some("session.deleted".into()),
            usage: Some(r#"{"input_tokens":5}"#.into()),
            ..SessionFacts::default()
        };
        let v = session_view(&f);
        let o: Value = serde_json::from_str(&v.json).unwrap();
        assert_eq!(o["status"], "terminated");
        assert_eq!(o["usage"]["input_tokens"], 5);
        assert_eq!(o["updated_at"], "2026-08-07T14:01:58.120Z");
    }
}
