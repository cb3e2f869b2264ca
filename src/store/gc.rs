//! Retention (`flightrec gc`, `watch --retain`): which sessions are old, deleting a session with
//! every row keyed by it in short write transactions, and giving the space back.
//!
//! A session is deleted a chunk at a time, each chunk its own transaction (the write lock held
//! for milliseconds, then a pause in which waiting writers take their turn, as bulk imports do);
//! readers never wait, the database stays in WAL mode. Events go first, with what hangs off them
//! (revisions, `event_errors`, their search index rows), then the session's other rows, the
//! `sessions` row last: an interrupted gc leaves a listed session that the next run finishes.
//! Before each chunk the session is checked again: one that became active (or started being
//! recorded) since it was chosen is left alone from then on.
//!
//! Space: a database made by this version has incremental auto-vacuum, and `reclaim` moves the
//! free pages to the end of the file and cuts them off a few megabytes per transaction. An older
//! database frees pages for reuse only, until one `vacuum` (a full rewrite that holds the write
//! lock throughout, and switches the database to incremental auto-vacuum).

use rusqlite::{OptionalExtension, Transaction, TransactionBehavior, params};
use std::time::Duration;

use super::{QUEUED_SORT_TS, Result, Store, StoreError};

/// How gc paces itself.
#[derive(Debug, Clone, Copy)]
pub struct GcOptions {
    /// Rows deleted per transaction (events, or rows of one other table).
    pub chunk_rows: usize,
    /// Pages given back per transaction by `reclaim`.
    pub vacuum_pages: u32,
    /// The pause between two transactions, in which other writers take the lock.
    pub pause: Duration,
}

impl Default for GcOptions {
    fn default() -> GcOptions {
        GcOptions {
            chunk_rows: 2000,
            vacuum_pages: 256,
            pause: super::write::HANDOFF,
        }
    }
}

/// A session old enough to delete, with what deleting it would remove.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct GcCandidate {
    pub session_id: String,
    /// Its newest activity (µs): the newest processed event, else the newest arrival of an
    /// event, else when its object was read.
    pub last_active_ts: Option<i64>,
    pub events: u64,
    /// The text of its events, replaced copies and previews as stored (compressed where it is), in
    /// bytes.
    pub bytes: u64,
}

/// What deleting one session removed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct Deleted {
    pub events: u64,
    /// Every row removed, events included.
    pub rows: u64,
    pub transactions: u64,
    /// False when the session became active (or recorded) part way and was left alone.
    pub complete: bool,
}

/// The session's newest processed event (µs), from `events_time`.
const LAST_TS: &str = "SELECT max(sort_ts) FROM events WHERE session_id = ?1 AND sort_ts < ?2";

/// Whether the session's newest primary-stream connection is open: a recorder is on it now (or
/// was killed, and a watcher will resume it).
const RECORDING: &str = "SELECT kind = 'connect' FROM capture_log WHERE session_id = ?1 \
     AND thread_id = '' AND kind IN ('connect', 'connection') ORDER BY id DESC LIMIT 1";

/// The tables keyed by session besides `events` (and what hangs off events), with the column
/// naming the session: emptied in this order, `sessions` last. Tables that other versions add
/// are emptied when they exist (`optional`).
struct Keyed {
    table: &'static str,
    /// The condition selecting the session's rows (`?1` is the session id).
    rows: &'static str,
    /// The key deleted by (`rowid`, or the primary key of a WITHOUT ROWID table).
    key: &'static str,
    optional: bool,
}

const KEYED: &[Keyed] = &[
    keyed("previews", "session_id = ?1"),
    keyed("quarantine", "session_id = ?1"),
    keyed("capture_log", "session_id = ?1"),
    keyed("threads", "session_id = ?1"),
    // Migration 0010: the folds' checkpoints, a cache of the events deleted with them.
    keyed("fold_checkpoints", "session_id = ?1"),
    // Webhook deliveries about the session (data.id is its id for session.* events).
    keyed("webhooks", "data_id = ?1"),
    // The deployment run that created the session; runs that created none stay.
    keyed("deployment_runs", "session_id = ?1"),
    // Migration 0006 (alerts): deliveries first, they name alerts by id.
    Keyed {
        table: "alert_deliveries",
        rows: "alert_id IN (SELECT id FROM alerts WHERE session_id = ?1)",
        key: "rowid",
        optional: true,
    },
    Keyed {
        optional: true,
        ..keyed("alerts", "session_id = ?1")
    },
    // Migration 0008 (OTLP push), WITHOUT ROWID.
    Keyed {
        table: "otlp_pushed_spans",
        rows: "session_id = ?1",
        key: "(endpoint, session_id, span_id)",
        optional: true,
    },
    // Migration 0011: the session's cached analyses and rollup (the rollup is written again,
    // and the cache emptied, after each chunk of events).
    Keyed {
        table: "session_cache",
        rows: "session_id = ?1",
        key: "(session_id, kind)",
        optional: false,
    },
    keyed("session_rollups", "session_id = ?1"),
    // Migration 0014: the session's kept results (stale ones too: they name a write count).
    keyed("session_results", "session_id = ?1"),
    keyed("sessions", "id = ?1"),
];

const fn keyed(table: &'static str, rows: &'static str) -> Keyed {
    Keyed {
        table,
        rows,
        key: "rowid",
        optional: false,
    }
}

impl Store {
    /// The sessions whose newest activity is before `cutoff` (µs), oldest first, leaving out
    /// those being recorded (see `RECORDING`). `only`: just these sessions (ids).
    pub fn gc_candidates(&self, cutoff: i64, only: Option<&[String]>) -> Result<Vec<GcCandidate>> {
        let ids: Vec<(String, Option<i64>, Option<String>)> = self
            .conn
            .prepare(&format!(
                "SELECT s.id, ({}), s.object_at FROM sessions s ORDER BY s.id",
                LAST_TS.replace("?1", "s.id").replace("?2", "?1")
            ))
            .and_then(|mut s| {
                s.query_map([QUEUED_SORT_TS], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
                    .collect()
            })
            .map_err(self.err("listing sessions to delete"))?;
        let mut out = Vec::new();
        for (id, last_ts, object_at) in ids {
            if only.is_some_and(|o| !o.contains(&id)) {
                continue;
            }
            let active = match last_ts {
                Some(t) => Some(t),
                None => self.last_arrival(&id)?.or(object_at
                    .as_deref()
                    .and_then(crate::model::time::parse_timestamp_micros)),
            };
            // A session with no time at all is kept: nothing says it is old.
            if active.is_none_or(|t| t >= cutoff) || self.recording(&id)? {
                continue;
            }
            let (events, bytes) = self.session_size(&id)?;
            out.push(GcCandidate {
                session_id: id,
                last_active_ts: active,
                events,
                bytes,
            });
        }
        out.sort_by_key(|c| c.last_active_ts);
        Ok(out)
    }

    /// The newest arrival of a session's events (µs), for sessions with no processed event.
    fn last_arrival(&self, id: &str) -> Result<Option<i64>> {
        let at: Option<String> = self
            .conn
            .prepare_cached("SELECT max(received_at) FROM events WHERE session_id = ?1")
            .and_then(|mut s| s.query_row([id], |r| r.get(0)))
            .map_err(self.err("reading a session's arrivals"))?;
        Ok(at
            .as_deref()
            .and_then(crate::model::time::parse_timestamp_micros))
    }

    fn recording(&self, id: &str) -> Result<bool> {
        self.conn
            .prepare_cached(RECORDING)
            .and_then(|mut s| s.query_row([id], |r| r.get(0)).optional())
            .map(|r| r.unwrap_or(false))
            .map_err(self.err("reading a session's capture log"))
    }

    /// A session's event count and the bytes its JSON text takes as stored, compressed or not
    /// (events, replaced copies, previews).
    fn session_size(&self, id: &str) -> Result<(u64, u64)> {
        let (events, bytes): (i64, i64) = self
            .conn
            .prepare_cached(
                "SELECT count(*), coalesce(sum(octet_length(raw)), 0) \
                   + coalesce((SELECT sum(octet_length(r.raw)) FROM event_revisions r \
                               JOIN events e ON e.seq = r.event_seq WHERE e.session_id = ?1), 0) \
                   + coalesce((SELECT sum(octet_length(raw)) FROM previews WHERE session_id = ?1), 0) \
                 FROM events WHERE session_id = ?1",
            )
            .and_then(|mut s| s.query_row([id], |r| Ok((r.get(0)?, r.get(1)?))))
            .map_err(self.err("measuring a session"))?;
        Ok((
            u64::try_from(events).unwrap_or(0),
            u64::try_from(bytes).unwrap_or(0),
        ))
    }

    /// Deletes session `id` and every row keyed by it, a chunk per transaction, as long as its
    /// newest activity stays before `cutoff` and no recorder is on it (checked before each).
    pub fn gc_delete_session(
        &mut self,
        id: &str,
        cutoff: i64,
        opts: &GcOptions,
    ) -> Result<Deleted> {
        let mut done = Deleted::default();
        let chunk = opts.chunk_rows.max(1);
        let path = self.display();
        let wrap = move |doing: &'static str| {
            let path = path.clone();
            move |e| StoreError::sqlite(path, doing, e)
        };
        let optional_present: Vec<bool> = KEYED
            .iter()
            .map(|k| {
                if k.optional {
                    self.has_table(k.table)
                } else {
                    Ok(true)
                }
            })
            .collect::<Result<_>>()?;
        let mut table = 0;
        loop {
            if done.transactions > 0 {
                std::thread::sleep(opts.pause);
            }
            let tx = self
                .conn
                .transaction_with_behavior(TransactionBehavior::Immediate)
                .map_err(wrap("starting a deletion"))?;
            done.transactions += 1;
            if !still_old(&tx, id, cutoff).map_err(wrap("checking a session before deleting"))? {
                return Ok(done);
            }
            let events =
                delete_events(&tx, id, chunk).map_err(wrap("deleting a session's events"))?;
            if events.0 > 0 {
                super::rollups::refresh(&tx, id).map_err(wrap("deleting a session's events"))?;
                done.events += events.0;
                done.rows += events.1;
                tx.commit().map_err(wrap("deleting a session's events"))?;
                continue;
            }
            // Events gone: the other tables, one chunk of one table per transaction.
            while table < KEYED.len() && !optional_present[table] {
                table += 1;
            }
            let Some(k) = KEYED.get(table) else {
                tx.commit().map_err(wrap("deleting a session"))?;
                done.complete = true;
                return Ok(done);
            };
            let sql = format!(
                "DELETE FROM {t} WHERE {key} IN (SELECT {cols} FROM {t} WHERE {rows} LIMIT ?2)",
                t = k.table,
                key = k.key,
                // A row value's columns, selected as columns (a parenthesised list would be one).
                cols = k.key.trim_start_matches('(').trim_end_matches(')'),
                rows = k.rows
            );
            let n = tx
                .execute(&sql, params![id, chunk as i64])
                .map_err(wrap("deleting a session's rows"))?;
            done.rows += n as u64;
            if n < chunk {
                table += 1;
            }
            tx.commit().map_err(wrap("deleting a session's rows"))?;
        }
    }

    pub(super) fn has_table(&self, name: &str) -> Result<bool> {
        self.conn
            .query_row(
                "SELECT count(*) > 0 FROM sqlite_schema WHERE type = 'table' AND name = ?1",
                [name],
                |r| r.get(0),
            )
            .map_err(self.err("reading the schema"))
    }
}

/// Whether the session's newest processed event is still before `cutoff` (or it has none) and
/// no recorder is on it.
fn still_old(tx: &Transaction<'_>, id: &str, cutoff: i64) -> rusqlite::Result<bool> {
    let last: Option<i64> = tx
        .prepare_cached(LAST_TS)?
        .query_row(params![id, QUEUED_SORT_TS], |r| r.get(0))?;
    if last.is_some_and(|t| t >= cutoff) {
        return Ok(false);
    }
    let recording: Option<bool> = tx
        .prepare_cached(RECORDING)?
        .query_row([id], |r| r.get(0))
        .optional()?;
    Ok(!recording.unwrap_or(false))
}

/// Deletes up to `chunk` of the session's events with their revisions, error marks and search
/// index rows. Returns (events, rows) deleted.
fn delete_events(tx: &Transaction<'_>, id: &str, chunk: usize) -> rusqlite::Result<(u64, u64)> {
    // Numbers are never handed out twice (migration 0009): remember the highest before deleting.
    tx.execute(
        "UPDATE retention SET \
           max_seq = max(max_seq, coalesce((SELECT max(seq) FROM event_rows), 0)), \
           max_revision_id = max(max_revision_id, coalesce((SELECT max(id) FROM event_revisions), 0)) \
         WHERE id = 1",
        [],
    )?;
    let seqs: Vec<i64> = tx
        .prepare_cached("SELECT seq FROM events WHERE session_id = ?1 LIMIT ?2")?
        .query_map(params![id, chunk as i64], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    let watermark: i64 = tx.query_row(
        "SELECT indexed_seq FROM search_state WHERE id = 1",
        [],
        |r| r.get(0),
    )?;
    // Set-based, a statement per table for the whole chunk: each statement is a savepoint, at
    // which SQLite journals the pages it touches and FTS5 flushes (and merges) its index, so a
    // statement per row cost 4x more (measured).
    let chunk_seqs = serde_json::to_string(&seqs).unwrap_or_else(|_| "[]".into());
    const CHUNK: &str = "(SELECT value FROM json_each(?1))";
    let mut rows = 0;
    for table in [
        "event_revisions WHERE event_seq",
        "event_errors WHERE seq",
        "event_rows WHERE seq",
    ] {
        rows += tx
            .prepare_cached(&format!("DELETE FROM {table} IN {CHUNK}"))?
            .execute([&chunk_seqs])? as u64;
    }
    // Those indexed leave the search index now, rather than by the search_dirty marks the delete
    // trigger made, at the next search.
    tx.prepare_cached(
        "DELETE FROM search_index WHERE rowid IN (SELECT value FROM json_each(?1) WHERE value <= ?2)",
    )?
    .execute(params![chunk_seqs, watermark])?;
    tx.prepare_cached(&format!("DELETE FROM search_dirty WHERE seq IN {CHUNK}"))?
        .execute([&chunk_seqs])?;
    Ok((seqs.len() as u64, rows))
}

#[cfg(test)]
#[path = "gc_tests.rs"]
mod tests;
