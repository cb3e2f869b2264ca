//! The session listing and its filters (`flightrec sessions`): a [`SessionFilter`] becomes one
//! SQL query with a WHERE clause of bound parameters (values are never formatted into the SQL).
//!
//! The query reads the per-session rollups (`store/rollups.rs`, migration 0011), which hold
//! status, stop reason, times and agent as the summaries derive them from the events (the
//! newest `session.status_*` event, the newest `session.status_idle`, the earliest and latest
//! `processed_at`; the agent is the stored session object's `agent` (§6.1), else the newest
//! `session.updated` that carries one), so a filter agrees with what the listing shows and
//! costs one pass over a small table whatever the sessions hold.

use rusqlite::{params, params_from_iter, types::Value as SqlValue};

use super::rollups::{SUMMARY_COLUMNS, summary_row};
use super::{Result, SessionSummary, Store};
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

/// `?, ?, …` for `n` parameters.
fn marks(n: usize) -> String {
    vec!["?"; n].join(", ")
}

/// The statuses named that are statuses (an unknown one matches nothing).
fn known_statuses(statuses: &[String]) -> Vec<&'static str> {
    SESSION_STATUS_TYPES
        .into_iter()
        .filter_map(status_of_type)
        .filter(|st| statuses.iter().any(|s| s == st))
        .collect()
}

/// The query listing the summaries of the sessions `f` selects, most recently active first.
fn listing_sql(f: &SessionFilter) -> (String, Vec<SqlValue>) {
    let text = |s: &str| SqlValue::Text(s.to_string());
    let mut args = Vec::new();
    let mut sql = format!(
        "SELECT {SUMMARY_COLUMNS} FROM session_rollups r JOIN sessions s ON s.id = r.session_id \
         WHERE 1"
    );
    if !f.statuses.is_empty() {
        let known = known_statuses(&f.statuses);
        sql.push_str(&format!(" AND r.status IN ({})", marks(known.len())));
        args.extend(known.iter().map(|t| text(t)));
    }
    if !f.stop_reasons.is_empty() {
        sql.push_str(&format!(
            " AND r.status = 'idle' AND r.stop_reason IN ({})",
            marks(f.stop_reasons.len())
        ));
        args.extend(f.stop_reasons.iter().map(|r| text(r)));
    }
    if let Some(agent) = &f.agent {
        sql.push_str(" AND (r.agent_id = ? OR lower(r.agent_name) = lower(?))");
        args.extend([text(agent), text(agent)]);
    }
    if let Some(t) = f.since_ts {
        sql.push_str(" AND r.last_ts >= ?");
        args.push(SqlValue::Integer(t));
    }
    if let Some(t) = f.until_ts {
        sql.push_str(" AND r.first_sort_ts <= ?");
        args.push(SqlValue::Integer(t));
    }
    sql.push_str(" ORDER BY r.last_ts DESC, s.id");
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
        self.conn
            .prepare(&sql)
            .and_then(|mut s| s.query_map(params_from_iter(args), summary_row)?.collect())
            .map_err(self.err("listing sessions"))
    }

    /// The agent a session runs: its stored object's `agent`, else the newest
    /// `session.updated` that carries one. `None` when neither names it.
    pub fn session_agent_ref(&self, session_id: &str) -> Result<Option<AgentRef>> {
        let row: Option<(Option<String>, Option<String>)> = self
            .conn
            .prepare_cached(
                "SELECT agent_id, agent_name FROM session_rollups WHERE session_id = ?1",
            )
            .and_then(|mut s| {
                rusqlite::OptionalExtension::optional(
                    s.query_row(params![session_id], |r| Ok((r.get(0)?, r.get(1)?))),
                )
            })
            .map_err(self.err("reading a session's agent"))?;
        let (id, name) = match row {
            Some(row) => row,
            None => self.reference_agent(session_id)?,
        };
        Ok((id.is_some() || name.is_some()).then_some(AgentRef { id, name }))
    }

    /// The agent's id and name read from the session's object and events rather than its rollup
    /// row: the reference the rollups are tested against.
    pub fn reference_agent(&self, session_id: &str) -> Result<(Option<String>, Option<String>)> {
        Ok(super::rollups::compute(&self.conn, session_id)
            .map_err(self.err("reading a session's agent"))?
            .map(|r| (r.agent_id, r.agent_name))
            .unwrap_or((None, None)))
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
    fn only_known_statuses_are_bound() {
        let s = |v: &[&str]| known_statuses(&v.iter().map(|x| x.to_string()).collect::<Vec<_>>());
        assert_eq!(s(&["idle"]), ["idle"]);
        assert_eq!(s(&["deleted", "rescheduling"]), ["rescheduling", "deleted"]);
        assert!(s(&["sleeping"]).is_empty());
    }
}
