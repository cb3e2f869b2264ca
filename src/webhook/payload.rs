//! The webhook payload: `{"type":"event","id","created_at","data":{"type","id",...}}`. Every
//! `data.type` is kept as text (the platform adds types; unknown ones are accepted and ignored),
//! and unknown fields are ignored.

use serde::Deserialize;

/// One delivery's body.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Delivery {
    /// `"event"`
    #[serde(rename = "type")]
    pub kind: String,
    /// `wevt_…`: unique per delivery target, the idempotency key.
    pub id: String,
    /// RFC 3339, when the platform made the notification.
    #[serde(default)]
    pub created_at: Option<String>,
    pub data: DeliveryData,
}

/// What changed: its type (`session.requires_action`, …) and the object's id.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct DeliveryData {
    #[serde(rename = "type")]
    pub kind: String,
    /// The object's id: a session id (`sesn_…`) for `session.*`.
    pub id: String,
}

impl Delivery {
    /// Parses a verified body; `None` when it is not the payload's shape.
    pub fn parse(body: &[u8]) -> Option<Delivery> {
        serde_json::from_slice(body).ok()
    }
}

/// What a watcher does about a delivery.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reaction {
    /// The session started or runs: record it if not yet recorded.
    Record,
    /// The session stopped (idle, waiting, out of budget, ended): confirm with a history pass.
    Confirm,
    /// A deployment run failed: read the run (`GET /v1/deployment_runs/{id}`) and store it.
    FetchRun,
    /// Nothing (other objects, other session changes, unknown types).
    Ignore,
}

/// The reaction to a `data.type`.
pub fn reaction(data_type: &str) -> Reaction {
    match data_type {
        "session.created" | "session.running" | "session.status_run_started" => Reaction::Record,
        "session.idled"
        | "session.requires_action"
        | "session.budget_reached"
        | "session.status_terminated" => Reaction::Confirm,
        "deployment_run.failed" => Reaction::FetchRun,
        _ => Reaction::Ignore,
    }
}

/// A session a delivery named, and what a watcher should do about it ([`Reaction::Record`]:
/// record it unless it is recorded already; [`Reaction::Confirm`]: a history pass unless a
/// recorder runs for it). For [`Reaction::FetchRun`], `session_id` is the run's id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Nudge {
    pub session_id: String,
    pub reaction: Reaction,
}

impl Delivery {
    /// The nudge this delivery asks of a watcher, if any (`session.*` types and
    /// `deployment_run.failed` react).
    pub fn nudge(&self) -> Option<Nudge> {
        match reaction(&self.data.kind) {
            Reaction::Ignore => None,
            reaction => Some(Nudge {
                session_id: self.data.id.clone(),
                reaction,
            }),
        }
    }
}
