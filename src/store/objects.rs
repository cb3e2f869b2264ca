//! Reads of stored session objects (`GET /v1/sessions/{id}` as received).

use rusqlite::OptionalExtension;

use super::{Result, Store};

impl Store {
    /// The `agent` of a session's stored object, as JSON text: the agent as it was when the
    /// session was created (§6.1). `None` when no object was stored or it has no agent.
    pub fn session_agent(&self, session_id: &str) -> Result<Option<String>> {
        self.conn
            .prepare_cached(
                "SELECT object -> '$.agent' FROM sessions WHERE id = ?1 AND json_valid(object)",
            )
            .and_then(|mut s| s.query_row([session_id], |r| r.get(0)).optional())
            .map_err(self.err("reading a session object"))
            .map(Option::flatten)
    }
}

/// A stored session object as received, and when it was fetched.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct SessionObject {
    pub raw: String,
    pub fetched_at: Option<String>,
}

impl Store {
    /// The session object as received (`GET /v1/sessions/{id}`), when one was stored.
    pub fn session_object(&self, session_id: &str) -> Result<Option<SessionObject>> {
        self.conn
            .prepare_cached(
                "SELECT object, object_at FROM sessions WHERE id = ?1 AND object IS NOT NULL",
            )
            .and_then(|mut s| {
                s.query_row([session_id], |r| {
                    Ok(SessionObject {
                        raw: r.get(0)?,
                        fetched_at: r.get(1)?,
                    })
                })
                .optional()
            })
            .map_err(self.err("reading a session object"))
    }
}
