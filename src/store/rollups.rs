//! Per-session rollups (migration 0011): the facts of [`SessionSummary`] and the session's agent,
//! kept in `session_rollups` so that listing and filtering sessions is one indexed query.
//!
//! [`compute`] is the reference: it derives the facts from the session's events (and stored
//! object) with a few indexed reads, as the summaries always did. The writer calls [`refresh`]
//! for every session a transaction touched before committing (events upserted, replaced or
//! deleted, an object stored), and gc after each chunk of events it deletes, so a row is what
//! [`compute`] says at every commit, whatever order the events arrived in: the newest event is
//! chosen by (sort_ts, seq) from the stored rows, not from what this transaction saw.

use rusqlite::{Connection, OptionalExtension, params, types::ValueRef};

use super::{QUEUED_SORT_TS, SessionSummary};
use crate::model::catalogue::{SESSION_STATUS_TYPES, status_of_type};

/// The migration that adds the table; the store fills it for existing sessions right after.
pub(super) const MIGRATION: &str = include_str!("migrations/0011_session_rollups.sql");

/// A session's rolled-up facts: its summary (`event_count` from `sessions`) and agent.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Rollup {
    pub status: Option<String>,
    pub stop_reason: Option<String>,
    /// min(sort_ts), a queued event's `QUEUED_SORT_TS` included.
    pub first_sort_ts: Option<i64>,
    pub last_ts: Option<i64>,
    pub title: Option<String>,
    pub agent_id: Option<String>,
    pub agent_name: Option<String>,
}

/// The agent JSON: the stored object's, else the newest `session.updated` that carries one.
pub(super) const AGENT: &str = "coalesce(\
     CASE WHEN json_valid(s.object) THEN s.object -> '$.agent' END, \
     (SELECT event_text(e.raw) -> '$.agent' FROM events e WHERE e.session_id = s.id \
      AND e.type = 'session.updated' AND json_type(event_text(e.raw), '$.agent') = 'object' \
      ORDER BY e.sort_ts DESC, e.seq DESC LIMIT 1))";

/// The reference: session `id`'s facts from its events and object, or `None` when there is no
/// such session. Every read is a probe of an index (`events_time`, `events_type`).
pub(super) fn compute(conn: &Connection, id: &str) -> rusqlite::Result<Option<Rollup>> {
    let row: Option<(Option<String>, Option<i64>, Option<i64>)> = conn
        .prepare_cached(
            "SELECT object ->> '$.title', \
               (SELECT min(sort_ts) FROM events WHERE session_id = ?1), \
               (SELECT max(sort_ts) FROM events WHERE session_id = ?1 AND sort_ts < ?2) \
             FROM sessions WHERE id = ?1",
        )?
        .query_row(params![id, QUEUED_SORT_TS], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?))
        })
        .optional()?;
    let Some((object_title, first_sort_ts, last_ts)) = row else {
        return Ok(None);
    };
    let status = newest_status(conn, id)?;
    let stop_reason = newest_of_type(
        conn,
        id,
        "session.status_idle",
        "event_text(raw) ->> '$.stop_reason.type'",
    )?
    .flatten();
    let title = match object_title {
        Some(t) => Some(t),
        None => newest_title(conn, id)?,
    };
    let (agent_id, agent_name) = agent(conn, id)?;
    Ok(Some(Rollup {
        status,
        stop_reason,
        first_sort_ts,
        last_ts,
        title,
        agent_id,
        agent_name,
    }))
}

/// The status set by the newest `session.status_*` or `session.deleted` event.
fn newest_status(conn: &Connection, id: &str) -> rusqlite::Result<Option<String>> {
    let mut best: Option<(i64, i64, &str)> = None;
    for t in SESSION_STATUS_TYPES {
        let found: Option<(i64, i64)> = conn
            .prepare_cached(
                "SELECT sort_ts, seq FROM events WHERE session_id = ?1 AND type = ?2 \
                 ORDER BY sort_ts DESC, seq DESC LIMIT 1",
            )?
            .query_row(params![id, t], |r| Ok((r.get(0)?, r.get(1)?)))
            .optional()?;
        if let Some((ts, seq)) = found
            && best.is_none_or(|(bts, bseq, _)| (ts, seq) > (bts, bseq))
        {
            best = Some((ts, seq, t));
        }
    }
    Ok(best
        .and_then(|(_, _, t)| status_of_type(t))
        .map(str::to_string))
}

/// `expr` evaluated on the newest event of type `t`, if there is one.
fn newest_of_type(
    conn: &Connection,
    id: &str,
    t: &str,
    expr: &str,
) -> rusqlite::Result<Option<Option<String>>> {
    let sql = format!(
        "SELECT {expr} FROM events WHERE session_id = ?1 AND type = ?2 ORDER BY sort_ts DESC, seq DESC LIMIT 1"
    );
    conn.prepare_cached(&sql)?
        .query_row(params![id, t], |r| r.get(0))
        .optional()
}

fn newest_title(conn: &Connection, id: &str) -> rusqlite::Result<Option<String>> {
    conn.prepare_cached(
        "SELECT event_text(raw) ->> '$.title' FROM events WHERE session_id = ?1 AND type = 'session.updated' \
         AND event_text(raw) ->> '$.title' IS NOT NULL ORDER BY sort_ts DESC, seq DESC LIMIT 1",
    )?
    .query_row([id], |r| r.get(0))
    .optional()
}

/// The agent's id and name (each when it is a string).
fn agent(conn: &Connection, id: &str) -> rusqlite::Result<(Option<String>, Option<String>)> {
    let sql = format!(
        "SELECT a ->> '$.id', a ->> '$.name' FROM (SELECT {AGENT} AS a FROM sessions s \
         WHERE s.id = ?1) WHERE a IS NOT NULL"
    );
    let text = |v: ValueRef<'_>| match v {
        ValueRef::Text(t) => Some(String::from_utf8_lossy(t).into_owned()),
        _ => None,
    };
    Ok(conn
        .prepare_cached(&sql)?
        .query_row([id], |r| Ok((text(r.get_ref(0)?), text(r.get_ref(1)?))))
        .optional()?
        .unwrap_or((None, None)))
}

/// Writes session `id`'s row again from [`compute`], counting the write, and drops what was
/// cached about it (`session_cache`); deletes the row when the session is gone.
pub(super) fn refresh(conn: &Connection, id: &str) -> rusqlite::Result<()> {
    let Some(r) = compute(conn, id)? else {
        conn.prepare_cached("DELETE FROM session_cache WHERE session_id = ?1")?
            .execute([id])?;
        conn.prepare_cached("DELETE FROM session_rollups WHERE session_id = ?1")?
            .execute([id])?;
        return Ok(());
    };
    conn.prepare_cached("DELETE FROM session_cache WHERE session_id = ?1")?
        .execute([id])?;
    conn.prepare_cached(
        "INSERT INTO session_rollups (session_id, status, stop_reason, first_sort_ts, last_ts, \
         title, agent_id, agent_name) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) \
         ON CONFLICT (session_id) DO UPDATE SET status = ?2, stop_reason = ?3, \
         first_sort_ts = ?4, last_ts = ?5, title = ?6, agent_id = ?7, agent_name = ?8, \
         writes = writes + 1",
    )?
    .execute(params![
        id,
        r.status,
        r.stop_reason,
        r.first_sort_ts,
        r.last_ts,
        r.title,
        r.agent_id,
        r.agent_name
    ])?;
    Ok(())
}

/// Fills the table for every session (after the migration that adds it).
pub(super) fn refresh_all(conn: &Connection) -> rusqlite::Result<()> {
    let ids: Vec<String> = conn
        .prepare("SELECT id FROM sessions")?
        .query_map([], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    for id in ids {
        refresh(conn, &id)?;
    }
    Ok(())
}

/// The columns [`summary_row`] reads, from `sessions s` joined with `session_rollups r`.
pub(super) const SUMMARY_COLUMNS: &str = "s.id, s.event_count, r.title, r.first_sort_ts, \
     r.last_ts, r.status, r.stop_reason";

/// A [`SessionSummary`] from a row of [`SUMMARY_COLUMNS`].
pub(super) fn summary_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<SessionSummary> {
    let event_count: i64 = r.get(1)?;
    let first: Option<i64> = r.get(3)?;
    Ok(SessionSummary {
        id: r.get(0)?,
        title: r.get(2)?,
        event_count: u64::try_from(event_count).unwrap_or(0),
        first_ts: first.filter(|t| *t != QUEUED_SORT_TS),
        last_ts: r.get(4)?,
        status: r.get(5)?,
        stop_reason: r.get(6)?,
    })
}

/// The summary [`compute`] gives, with the session's `event_count`: the reference a stored row
/// must equal.
pub(super) fn reference_summary(
    conn: &Connection,
    id: &str,
) -> rusqlite::Result<Option<SessionSummary>> {
    let Some(r) = compute(conn, id)? else {
        return Ok(None);
    };
    let event_count: i64 = conn.query_row(
        "SELECT event_count FROM sessions WHERE id = ?1",
        [id],
        |r| r.get(0),
    )?;
    Ok(Some(SessionSummary {
        id: id.to_string(),
        title: r.title,
        event_count: u64::try_from(event_count).unwrap_or(0),
        first_ts: r.first_sort_ts.filter(|t| *t != QUEUED_SORT_TS),
        last_ts: r.last_ts,
        status: r.status,
        stop_reason: r.stop_reason,
    }))
}

#[cfg(test)]
#[path = "rollups_tests.rs"]
mod tests;
