//! The session listing and its filters (`flightrec sessions`): a [`SessionFilter`] becomes one
//! SQL query with a WHERE clause of bound parameters (values are never formatted into the SQL).
//!
//! Status, stop reason and times are derived from the events the way [`Store::session_summary`]
//! derives them (the newest `session.status_*` event, the newest `session.status_idle`, the
//! earliest and latest `processed_at`), so a filter agrees with what the listing shows. The
//! agent is the stored session object's `agent` (§6.1), else the newest `session.updated` that
//! carries one.

use rusqlite::{params, params_from_iter, types::Value as SqlValue};

use super::{QUEUED_SORT_TS, Result, SessionSummary, Store};
use crate::model::catalogue::{SESSION_STATUS_TYPES, status_of_type};

/// Which sessions to list. Each field set narrows the list; empty lists and `None` match all.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SessionFilter {
    /// Any of these statuses (running, idle, rescheduling, terminated, deleted).
    pub statuses: Vec<String>,
    /// Idle with any of these stop reasons (`end_turn`, `requires_action`, …). A session that
    /// has moved on from its last idle (running, terminated) has no stop reason.
    pub stop_reasons: Vec<String>,
    /// The agent's id, or its name (case-insensitive).
    pub agent: Option<String>,
    /// Active at or after this time: its newest event is at or after it (µs since the epoch).
    pub since_ts: Option<i64>,
    /// Active at or before this time: its first event is at or before it.
    pub until_ts: Option<i64>,
    /// At most this many sessions (the most recently active).
    pub limit: Option<u64>,
}

/// The agent a session runs, from its stored object or a `session.updated`.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct AgentRef {
    pub id: Option<String>,
    pub name: Option<String>,
}

/// The newest status event's type: the session's status (see [`status_of_type`]).
const STATUS_TYPE: &str = "(SELECT e.type FROM events e WHERE e.session_id = s.id \
     AND e.type IN (?, ?, ?, ?, ?) ORDER BY e.sort_ts DESC, e.seq DESC LIMIT 1)";

/// The stop reason of the newest `session.status_idle`.
const STOP_REASON: &str = "(SELECT event_text(e.raw) ->> '$.stop_reason.type' FROM events e \
     WHERE e.session_id = s.id AND e.type = 'session.status_idle' \
     ORDER BY e.sort_ts DESC, e.seq DESC LIMIT 1)";

/// The agent JSON: the stored object's, else the newest `session.updated` that carries one.
const AGENT: &str = "coalesce(\
     CASE WHEN json_valid(s.object) THEN s.object -> '$.agent' END, \
     (SELECT event_text(e.raw) -> '$.agent' FROM events e WHERE e.session_id = s.id \
      AND e.type = 'session.updated' AND json_type(event_text(e.raw), '$.agent') = 'object' \
      ORDER BY e.sort_ts DESC, e.seq DESC LIMIT 1))";

/// `?, ?, …` for `n` parameters.
fn marks(n: usize) -> String {
    vec!["?"; n].join(", ")
}

/// The session types of these statuses (an unknown status matches no type).
fn status_types(statuses: &[String]) -> Vec<&'static str> {
    SESSION_STATUS_TYPES
        .into_iter()
        .filter(|t| {
            statuses
                .iter()
                .any(|s| status_of_type(t) == Some(s.as_str()))
        })
        .collect()
}

/// The query listing the ids of the sessions `f` selects, most recently active first.
fn listing_sql(f: &SessionFilter) -> (String, Vec<SqlValue>) {
    let text = |s: &str| SqlValue::Text(s.to_string());
    let mut args = vec![SqlValue::Integer(QUEUED_SORT_TS)];
    let mut sql = String::from(
        "SELECT s.id, (SELECT max(e.sort_ts) FROM events e WHERE e.session_id = s.id \
         AND e.sort_ts < ?) AS last_ts FROM sessions s WHERE 1",
    );
    let status_types_args = || SESSION_STATUS_TYPES.iter().map(|t| text(t));
    if !f.statuses.is_empty() {
        let types = status_types(&f.statuses);
        sql.push_str(&format!(" AND {STATUS_TYPE} IN ({})", marks(types.len())));
        args.extend(status_types_args());
        args.extend(types.iter().map(|t| text(t)));
    }
    if !f.stop_reasons.is_empty() {
        sql.push_str(&format!(
            " AND {STATUS_TYPE} = 'session.status_idle' AND {STOP_REASON} IN ({})",
            marks(f.stop_reasons.len())
        ));
        args.extend(status_types_args());
        args.extend(f.stop_reasons.iter().map(|r| text(r)));
    }
    if let Some(agent) = &f.agent {
        sql.push_str(&format!(
            " AND ({AGENT} ->> '$.id' = ? OR lower({AGENT} ->> '$.name') = lower(?))"
        ));
        args.extend([text(agent), text(agent)]);
    }
    if let Some(t) = f.since_ts {
        sql.push_str(" AND last_ts >= ?");
        args.push(SqlValue::Integer(t));
    }
    if let Some(t) = f.until_ts {
        sql.push_str(" AND (SELECT min(e.sort_ts) FROM events e WHERE e.session_id = s.id) <= ?");
        args.push(SqlValue::Integer(t));
    }
    sql.push_str(" ORDER BY last_ts DESC, s.id");
    if let Some(n) = f.limit {
        sql.push_str(" LIMIT ?");
        args.push(SqlValue::Integer(i64::try_from(n).unwrap_or(i64::MAX)));
    }
    (sql, args)
}

impl Store {
    /// All sessions, most recently active first.
    pub fn sessions(&self) -> Result<Vec<SessionSummary>> {
        self.sessions_matching(&SessionFilter::default())
    }

    /// The sessions `f` selects, most recently active first (then by id).
    pub fn sessions_matching(&self, f: &SessionFilter) -> Result<Vec<SessionSummary>> {
        let (sql, args) = listing_sql(f);
        let ids: Vec<String> = self
            .conn
            .prepare(&sql)
            .and_then(|mut s| s.query_map(params_from_iter(args), |r| r.get(0))?.collect())
            .map_err(self.err("listing sessions"))?;
        let mut out = Vec::with_capacity(ids.len());
        for id in ids {
            if let Some(s) = self.session_summary(&id)? {
                out.push(s);
            }
        }
        Ok(out)
    }

    /// The agent a session runs: its stored object's `agent`, else the newest
    /// `session.updated` that carries one. `None` when neither names it.
    pub fn session_agent_ref(&self, session_id: &str) -> Result<Option<AgentRef>> {
        let sql = format!(
            "SELECT a ->> '$.id', a ->> '$.name' FROM (SELECT {AGENT} AS a FROM sessions s \
             WHERE s.id = ?1) WHERE a IS NOT NULL"
        );
        let row: Option<(Option<String>, Option<String>)> = self
            .conn
            .prepare_cached(&sql)
            .and_then(|mut s| {
                rusqlite::OptionalExtension::optional(
                    s.query_row(params![session_id], |r| Ok((r.get(0)?, r.get(1)?))),
                )
            })
            .map_err(self.err("reading a session's agent"))?;
        Ok(row
            .filter(|(id, name)| id.is_some() || name.is_some())
            .map(|(id, name)| AgentRef { id, name }))
    }
}

#[cfg(test)]
mod tests {
    // Test code: a failed unwrap is a failed test.
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn values_are_bound_never_formatted() {
        let f = SessionFilter {
            statuses: vec!["idle".into(), "x'; DROP TABLE events; --".into()],
            stop_reasons: vec!["end_turn".into()],
            agent: Some("Robert'); DROP TABLE sessions;--".into()),
            since_ts: Some(1),
            until_ts: Some(2),
            limit: Some(3),
        };
        let (sql, args) = listing_sql(&f);
        assert!(!sql.contains("DROP") && !sql.contains("end_turn"), "{sql}");
        assert_eq!(sql.matches('?').count(), args.len(), "{sql}");
    }

    #[test]
    fn statuses_map_to_their_event_types() {
        let s = |v: &[&str]| status_types(&v.iter().map(|x| x.to_string()).collect::<Vec<_>>());
        assert_eq!(s(&["idle"]), ["session.status_idle"]);
        assert_eq!(
            s(&["rescheduling", "deleted"]),
            ["session.status_rescheduled", "session.deleted"]
        );
        assert!(s(&["sleeping"]).is_empty());
    }
}
