//! Session and thread objects: the stored session object verbatim when the recorder fetched one,
//! otherwise objects synthesized from the events (§6 of the reference), plausible enough for the
//! SDKs to parse.

use serde::Serialize;
use serde_json::value::RawValue;
use serde_json::{Value, json};

use crate::model::catalogue::status_of_type;
use crate::model::parse_timestamp_micros;
use crate::store::{SessionFacts, ThreadEvent};

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

/// A synthesized thread (§6.3).
#[derive(Serialize)]
struct SessionThread<'a> {
    id: &'a str,
    #[serde(rename = "type")]
    kind: &'static str,
    session_id: &'a str,
    status: &'a str,
    agent: Value,
    parent_thread_id: Option<&'a str>,
    workflow_run_id: Option<&'a str>,
    created_at: &'a str,
    updated_at: &'a str,
    archived_at: Option<&'a str>,
}

fn to_json(v: &impl Serialize) -> String {
    serde_json::to_string(v).unwrap_or_else(|_| "{}".to_string())
}

#[derive(Default)]
struct Thread {
    id: String,
    agent_name: Option<String>,
    workflow_run_id: Option<String>,
    created: bool,
    created_at: Option<String>,
    updated_at: Option<String>,
    status: Option<&'static str>,
}

fn thread_status(event_type: &str) -> Option<&'static str> {
    match event_type {
        "session.thread_status_running" => Some("running"),
        "session.thread_status_idle" => Some("idle"),
        "session.thread_status_rescheduled" => Some("rescheduling"),
        "session.thread_status_terminated" => Some("terminated"),
        _ => None,
    }
}

/// The threads of a session, in order of first mention, from its `session.thread_*` events and
/// the thread logs stored for it. A thread seen in status events but never created is a primary
/// thread; created threads name the first primary thread as their parent.
pub fn threads(
    session_id: &str,
    events: &[ThreadEvent],
    logged: &[String],
    session_created_at: &str,
) -> Vec<ThreadView> {
    let mut list: Vec<Thread> = Vec::new();
    for e in events {
        let Some(id) = e.thread_id.as_deref() else {
            continue;
        };
        let i = match list.iter().position(|t| t.id == id) {
            Some(i) => i,
            None => {
                list.push(Thread {
                    id: id.to_string(),
                    ..Thread::default()
                });
                list.len() - 1
            }
        };
        let t = &mut list[i];
        if t.agent_name.is_none() {
            t.agent_name = e.agent_name.clone();
        }
        if e.event_type == "session.thread_created" {
            t.created = true;
            t.workflow_run_id = e.workflow_run_id.clone();
        }
        if t.created_at.is_none() {
            t.created_at = e.processed_at.clone();
        }
        if e.processed_at.is_some() {
            t.updated_at = e.processed_at.clone();
        }
        if let Some(s) = thread_status(&e.event_type) {
            t.status = Some(s);
        }
    }
    for id in logged {
        if !list.iter().any(|t| &t.id == id) {
            list.push(Thread {
                id: id.clone(),
                created: true,
                ..Thread::default()
            });
        }
    }
    let primary = list.iter().find(|t| !t.created).map(|t| t.id.clone());
    list.into_iter()
        .map(|t| {
            let status = t.status.unwrap_or("idle").to_string();
            let created_at = t
                .created_at
                .unwrap_or_else(|| session_created_at.to_string());
            let parent = if t.created { primary.clone() } else { None };
            let updated_at = t.updated_at.unwrap_or_else(|| created_at.clone());
            let json = to_json(&SessionThread {
                id: &t.id,
                kind: "session_thread",
                session_id,
                status: &status,
                agent: json!({
                    "type": "inline",
                    "name": t.agent_name.as_deref().unwrap_or("thread"),
                    "model": "claude-sonnet-4-6",
                    "tools": [],
                    "skills": [],
                    "mcp_servers": [],
                    "execution_identity": {"type": "service_account"},
                }),
                parent_thread_id: parent.as_deref(),
                workflow_run_id: t.workflow_run_id.as_deref(),
                created_at: &created_at,
                updated_at: &updated_at,
                archived_at: None,
            });
            ThreadView {
                id: t.id,
                status,
                json,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(t: &str, thread: &str, at: &str) -> ThreadEvent {
        ThreadEvent {
            event_type: t.to_string(),
            thread_id: Some(thread.to_string()),
            agent_name: Some(format!("agent of {thread}")),
            workflow_run_id: None,
            processed_at: Some(at.to_string()),
        }
    }

    #[test]
    fn threads_fold_their_status_and_parent() {
        let events = [
            ev("session.thread_status_running", "sthr_a", "t1"),
            ev("session.thread_created", "sthr_b", "t2"),
            ev("session.thread_status_running", "sthr_b", "t3"),
            ev("session.thread_status_terminated", "sthr_b", "t4"),
        ];
        let list = threads("sesn_x", &events, &["sthr_c".to_string()], "t0");
        let ids: Vec<&str> = list.iter().map(|t| t.id.as_str()).collect();
        assert_eq!(ids, ["sthr_a", "sthr_b", "sthr_c"]);
        let b: Value = serde_json::from_str(&list[1].json).unwrap();
        assert_eq!(b["status"], "terminated");
        assert_eq!(b["parent_thread_id"], "sthr_a");
        assert_eq!(b["created_at"], "t2");
        assert_eq!(b["updated_at"], "t4");
        let a: Value = serde_json::from_str(&list[0].json).unwrap();
        assert_eq!(a["parent_thread_id"], Value::Null);
        assert_eq!(a["status"], "running");
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
