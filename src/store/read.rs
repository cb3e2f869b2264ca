//! Reads and aggregates. Every query here is served by an index; none scans a whole session
//! except the ones that return the whole session.

use rusqlite::{OptionalExtension, Row, params, params_from_iter};
use serde::Serialize;

use super::{QUEUED_SORT_TS, Result, Store, StoreError};

/// One session with the facts the `sessions` listing shows.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SessionSummary {
    pub id: String,
    pub title: Option<String>,
    pub event_count: u64,
    /// Earliest and latest `processed_at`, µs since the epoch (queued events excluded).
    pub first_ts: Option<i64>,
    pub last_ts: Option<i64>,
    /// From the newest `session.status_*` event: running | idle | rescheduling | terminated | deleted.
    pub status: Option<String>,
    /// `stop_reason.type` of the newest `session.status_idle`.
    pub stop_reason: Option<String>,
}

/// One stored event.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EventRow {
    pub seq: i64,
    pub event_id: String,
    pub event_type: String,
    pub processed_at: Option<String>,
    /// `processed_at` in µs since the epoch; `None` while queued.
    pub ts: Option<i64>,
    pub thread_id: String,
    pub link_id: Option<String>,
    pub source: String,
    pub received_at: String,
    pub revision: i64,
    pub raw: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PreviewRow {
    pub seq: i64,
    pub event_id: String,
    pub ordinal: i64,
    pub preview_type: String,
    pub raw: String,
}

/// Where and when a preview frame arrived (the columns [`PreviewRow`] leaves out).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PreviewOrigin {
    pub seq: i64,
    pub thread_id: String,
    pub source: String,
    pub received_at: String,
}

/// An earlier copy of an event, replaced by a newer one.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RevisionRow {
    pub id: i64,
    /// The `seq` of the event it is an earlier copy of.
    pub event_seq: i64,
    pub source: String,
    pub received_at: String,
    pub replaced_at: String,
    pub raw: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct QuarantineRow {
    pub id: i64,
    pub session_id: Option<String>,
    pub source: String,
    pub origin: String,
    pub reason: String,
    pub raw: Vec<u8>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CaptureEntry {
    pub id: i64,
    pub session_id: Option<String>,
    pub thread_id: String,
    pub kind: String,
    pub started_at: String,
    pub ended_at: Option<String>,
    pub detail: Option<String>,
}

/// Which events of a session to read, in order (processed_at, then arrival).
#[derive(Debug, Clone, Default)]
pub struct TimelineQuery {
    /// Only these types (all when empty).
    pub types: Vec<String>,
    /// Only events processed at or after / at or before these times (µs since the epoch).
    pub since_ts: Option<i64>,
    pub until_ts: Option<i64>,
    pub limit: Option<u64>,
    /// For these types, `raw` is reduced to `{"is_error":true}` or `{}`: for analyses that pair
    /// results with their uses by `link_id` and must not pay for reading large result content.
    pub slim_types: Vec<String>,
}

/// The times in their stored forms, written out again by [`event_row`] (store/slim.rs).
pub(super) const EVENT_COLUMNS: &str = "seq, event_id, type, stored_processed_at, sort_ts, thread_id, link_id, source, stored_received_at, revision, event_text(raw)";

/// [`EVENT_COLUMNS`] as columns of `event_rows` (what `scan::event_query` reads).
const EVENT_ROW_COLUMNS: &str = "seq, coalesce(event_id, dedup_key), type, processed_at, sort_ts, thread_id, link_id, source, received_at, revision, event_text(raw)";

pub(super) fn event_row(r: &Row<'_>) -> rusqlite::Result<EventRow> {
    let sort_ts: i64 = r.get(4)?;
    Ok(EventRow {
        seq: r.get(0)?,
        event_id: r.get(1)?,
        event_type: r.get(2)?,
        processed_at: super::slim::processed_at(r.get_ref(3)?, sort_ts),
        ts: (sort_ts != QUEUED_SORT_TS).then_some(sort_ts),
        thread_id: r.get(5)?,
        link_id: r.get(6)?,
        source: r.get(7)?,
        received_at: super::slim::received_at(r.get_ref(8)?),
        revision: r.get(9)?,
        raw: r.get(10)?,
    })
}

impl Store {
    /// One session's summary, or `None` when it is not in the database: its rollup row
    /// (`store/rollups.rs`), one probe of two primary keys.
    pub fn session_summary(&self, id: &str) -> Result<Option<SessionSummary>> {
        let sql = format!(
            "SELECT {}, r.session_id IS NULL FROM sessions s \
             LEFT JOIN session_rollups r ON r.session_id = s.id WHERE s.id = ?1",
            super::rollups::SUMMARY_COLUMNS
        );
        let row: Option<(SessionSummary, bool)> = self
            .conn
            .prepare_cached(&sql)
            .and_then(|mut s| {
                s.query_row([id], |r| Ok((super::rollups::summary_row(r)?, r.get(7)?)))
                    .optional()
            })
            .map_err(self.err("summarising a session"))?;
        match row {
            // A row is written with every commit that touches the session; should one be
            // missing all the same, the facts are read from the events.
            Some((_, true)) => self.reference_summary(id),
            other => Ok(other.map(|(s, _)| s)),
        }
    }

    /// A session's summary read from its events rather than its rollup row: the reference the
    /// rollups are tested against.
    pub fn reference_summary(&self, id: &str) -> Result<Option<SessionSummary>> {
        super::rollups::reference_summary(&self.conn, id).map_err(self.err("summarising a session"))
    }

    /// The summary of a session that must exist.
    pub fn require_session(&self, id: &str) -> Result<SessionSummary> {
        self.session_summary(id)?
            .ok_or_else(|| StoreError::NoSuchSession {
                id: id.to_string(),
                path: self.display(),
            })
    }

    /// A session's events in order, filtered by `q`.
    pub fn events(&self, session_id: &str, q: &TimelineQuery) -> Result<Vec<EventRow>> {
        let mut rows = Vec::new();
        self.for_each_event(session_id, q, |r| {
            rows.push(r);
            Ok(())
        })?;
        Ok(rows)
    }

    /// Streams a session's events in order to `f`, without holding them all in memory.
    pub fn for_each_event(
        &self,
        session_id: &str,
        q: &TimelineQuery,
        mut f: impl FnMut(EventRow) -> std::io::Result<()>,
    ) -> Result<()> {
        let (sql, args) = super::scan::event_query(EVENT_ROW_COLUMNS, session_id, q);
        self.drain_events(&sql, params_from_iter(args), &mut f)
    }

    /// Hands each event row `sql` reads to `f`, in order, stopping at its first error. Cached:
    /// the same few shapes are asked of every session (a fold's rare types, once a session), and
    /// preparing one cost more than running it on a small session.
    fn drain_events(
        &self,
        sql: &str,
        params: impl rusqlite::Params,
        f: &mut impl FnMut(EventRow) -> std::io::Result<()>,
    ) -> Result<()> {
        let mut stmt = self
            .conn
            .prepare_cached(sql)
            .map_err(self.err("reading events"))?;
        let mut rows = stmt.query(params).map_err(self.err("reading events"))?;
        while let Some(r) = rows.next().map_err(self.err("reading events"))? {
            let row = event_row(r).map_err(self.err("reading events"))?;
            f(row).map_err(StoreError::Output)?;
        }
        Ok(())
    }

    /// Streams a session's events in arrival order (`seq`) to `f`: the session's seqs are read
    /// in order from an index (SQLite sorts the integers, spilling to a temporary file past its
    /// cache), and the rows by seq a batch at a time, so memory holds one batch and never the
    /// session (an `ORDER BY seq` of the rows would sort every row's text).
    pub fn for_each_event_by_arrival(
        &self,
        session_id: &str,
        mut f: impl FnMut(EventRow) -> std::io::Result<()>,
    ) -> Result<()> {
        const BATCH: usize = 256;
        let mut order = self
            .conn
            .prepare_cached("SELECT seq FROM events WHERE session_id = ?1 ORDER BY seq")
            .map_err(self.err("reading events"))?;
        let mut seqs = order
            .query([session_id])
            .map_err(self.err("reading events"))?;
        let mut batch: Vec<i64> = Vec::with_capacity(BATCH);
        loop {
            let next = seqs.next().map_err(self.err("reading events"))?;
            if let Some(r) = next {
                batch.push(r.get(0).map_err(self.err("reading events"))?);
            }
            if batch.len() == BATCH || (next.is_none() && !batch.is_empty()) {
                self.events_at(&batch, &mut f)?;
                batch.clear();
            }
            if next.is_none() {
                return Ok(());
            }
        }
    }

    /// Hands `f` the rows of `seqs` (ascending), in order.
    fn events_at(
        &self,
        seqs: &[i64],
        f: &mut impl FnMut(EventRow) -> std::io::Result<()>,
    ) -> Result<()> {
        let marks = vec!["?"; seqs.len()].join(", ");
        let sql = format!("SELECT {EVENT_COLUMNS} FROM events WHERE seq IN ({marks}) ORDER BY seq");
        self.drain_events(&sql, params_from_iter(seqs), f)
    }

    /// The session's event stored at `seq` (its arrival number), if any.
    pub fn event_by_seq(&self, session_id: &str, seq: i64) -> Result<Option<EventRow>> {
        let sql = format!("SELECT {EVENT_COLUMNS} FROM events WHERE seq = ?1 AND session_id = ?2");
        self.conn
            .prepare_cached(&sql)
            .and_then(|mut s| s.query_row(params![seq, session_id], event_row).optional())
            .map_err(self.err("reading an event"))
    }

    /// One event by id (the first stream that has it: the session's own, else a thread's).
    pub fn event_by_id(&self, session_id: &str, event_id: &str) -> Result<Option<EventRow>> {
        // The session's own stream first: one unique-index probe. Other streams need a walk
        // over the session's part of the index, as their thread ids are not known here.
        let own = format!(
            "SELECT {EVENT_COLUMNS} FROM events WHERE session_id = ?1 AND thread_id = '' AND dedup_key = ?2"
        );
        let any = format!(
            "SELECT {EVENT_COLUMNS} FROM events WHERE session_id = ?1 AND dedup_key = ?2 ORDER BY thread_id LIMIT 1"
        );
        for sql in [own, any] {
            let row = self
                .conn
                .prepare_cached(&sql)
                .and_then(|mut s| {
                    s.query_row(params![session_id, event_id], event_row)
                        .optional()
                })
                .map_err(self.err("reading an event"))?;
            if row.is_some() {
                return Ok(row);
            }
        }
        Ok(None)
    }

    /// The earlier copies of an event that newer copies replaced, oldest first.
    pub fn revisions(&self, event_seq: i64) -> Result<Vec<String>> {
        self.conn
            .prepare_cached(
                "SELECT event_text(raw) FROM event_revisions WHERE event_seq = ?1 ORDER BY id",
            )
            .and_then(|mut s| s.query_map([event_seq], |r| r.get(0))?.collect())
            .map_err(self.err("reading revisions"))
    }

    /// Every earlier copy of the session's events that a newer copy replaced, in the order they
    /// were replaced.
    pub fn session_revisions(&self, session_id: &str) -> Result<Vec<RevisionRow>> {
        self.conn
            .prepare_cached(
                "SELECT r.id, r.event_seq, r.source, r.received_at, r.replaced_at, event_text(r.raw) \
                 FROM event_revisions r JOIN events e ON e.seq = r.event_seq \
                 WHERE e.session_id = ?1 ORDER BY r.id",
            )
            .and_then(|mut s| {
                s.query_map([session_id], |r| {
                    Ok(RevisionRow {
                        id: r.get(0)?,
                        event_seq: r.get(1)?,
                        source: r.get(2)?,
                        received_at: r.get(3)?,
                        replaced_at: r.get(4)?,
                        raw: r.get(5)?,
                    })
                })?
                .collect()
            })
            .map_err(self.err("reading revisions"))
    }

    pub fn previews(&self, session_id: &str) -> Result<Vec<PreviewRow>> {
        self.conn
            .prepare_cached(
                "SELECT seq, event_id, ordinal, type, event_text(raw) FROM previews WHERE session_id = ?1 ORDER BY seq",
            )
            .and_then(|mut s| {
                s.query_map([session_id], |r| {
                    Ok(PreviewRow {
                        seq: r.get(0)?,
                        event_id: r.get(1)?,
                        ordinal: r.get(2)?,
                        preview_type: r.get(3)?,
                        raw: r.get(4)?,
                    })
                })?
                .collect()
            })
            .map_err(self.err("reading previews"))
    }

    /// The thread, source and arrival time of each of a session's preview frames, by `seq`.
    pub fn preview_origins(&self, session_id: &str) -> Result<Vec<PreviewOrigin>> {
        self.conn
            .prepare_cached(
                "SELECT seq, thread_id, source, received_at FROM previews WHERE session_id = ?1 ORDER BY seq",
            )
            .and_then(|mut s| {
                s.query_map([session_id], |r| {
                    Ok(PreviewOrigin {
                        seq: r.get(0)?,
                        thread_id: r.get(1)?,
                        source: r.get(2)?,
                        received_at: r.get(3)?,
                    })
                })?
                .collect()
            })
            .map_err(self.err("reading previews"))
    }

    /// Quarantined frames, of one session or of all.
    pub fn quarantined(&self, session_id: Option<&str>) -> Result<Vec<QuarantineRow>> {
        self.conn
            .prepare_cached(
                "SELECT id, session_id, source, origin, reason, raw FROM quarantine \
                 WHERE ?1 IS NULL OR session_id = ?1 ORDER BY id",
            )
            .and_then(|mut s| {
                s.query_map([session_id], |r| {
                    Ok(QuarantineRow {
                        id: r.get(0)?,
                        session_id: r.get(1)?,
                        source: r.get(2)?,
                        origin: r.get(3)?,
                        reason: r.get(4)?,
                        raw: r.get(5)?,
                    })
                })?
                .collect()
            })
            .map_err(self.err("reading the quarantine"))
    }

    pub fn capture_log(&self, session_id: &str) -> Result<Vec<CaptureEntry>> {
        self.conn
            .prepare_cached(
                "SELECT id, session_id, thread_id, kind, started_at, ended_at, detail FROM capture_log \
                 WHERE session_id = ?1 ORDER BY id",
            )
            .and_then(|mut s| {
                s.query_map([session_id], |r| {
                    Ok(CaptureEntry {
                        id: r.get(0)?,
                        session_id: r.get(1)?,
                        thread_id: r.get(2)?,
                        kind: r.get(3)?,
                        started_at: r.get(4)?,
                        ended_at: r.get(5)?,
                        detail: r.get(6)?,
                    })
                })?
                .collect()
            })
            .map_err(self.err("reading the capture log"))
    }
}

/// What a recorder needs to know after each commit.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RecordingState {
    pub summary: Option<SessionSummary>,
    /// Workflow runs created and not yet ended.
    pub open_runs: u64,
    /// Threads created in the session: (thread id, terminated).
    pub threads: Vec<(String, bool)>,
}

impl Store {
    /// The newest `processed_at` stored for a session's stream or log ("" = the session's own).
    pub fn newest_processed_at(&self, session_id: &str, thread_id: &str) -> Result<Option<String>> {
        self.conn
            .prepare_cached(
                "SELECT processed_at FROM events WHERE session_id = ?1 AND thread_id = ?2 AND sort_ts < ?3 \
                 ORDER BY sort_ts DESC, seq DESC LIMIT 1",
            )
            .and_then(|mut s| s.query_row(params![session_id, thread_id, QUEUED_SORT_TS], |r| r.get(0)).optional())
            .map_err(self.err("reading the newest event time"))
            .map(Option::flatten)
    }

    /// Status, open workflow runs and threads of a session, for a recorder's stop conditions.
    pub fn recording_state(&self, session_id: &str) -> Result<RecordingState> {
        let summary = self.session_summary(session_id)?;
        let open_runs: i64 = self
            .conn
            .prepare_cached(
                "SELECT count(DISTINCT event_text(raw) ->> '$.workflow_run_id') FROM events \
                 WHERE session_id = ?1 AND type = 'workflow_run.created' AND event_text(raw) ->> '$.workflow_run_id' NOT IN \
                 (SELECT event_text(raw) ->> '$.workflow_run_id' FROM events WHERE session_id = ?1 \
                  AND type = 'workflow_run.status_ended' AND event_text(raw) ->> '$.workflow_run_id' IS NOT NULL)",
            )
            .and_then(|mut s| s.query_row([session_id], |r| r.get(0)))
            .map_err(self.err("counting open workflow runs"))?;
        let threads: Vec<(String, bool)> = self
            .conn
            .prepare_cached(
                "SELECT DISTINCT event_text(c.raw) ->> '$.session_thread_id', EXISTS (SELECT 1 FROM events t \
                   WHERE t.session_id = ?1 AND t.type = 'session.thread_status_terminated' \
                   AND event_text(t.raw) ->> '$.session_thread_id' = event_text(c.raw) ->> '$.session_thread_id') \
                 FROM events c WHERE c.session_id = ?1 AND c.type = 'session.thread_created' \
                 AND event_text(c.raw) ->> '$.session_thread_id' IS NOT NULL",
            )
            .and_then(|mut s| {
                s.query_map([session_id], |r| Ok((r.get(0)?, r.get(1)?)))?
                    .collect()
            })
            .map_err(self.err("listing threads"))?;
        Ok(RecordingState {
            summary,
            open_runs: u64::try_from(open_runs).unwrap_or(0),
            threads,
        })
    }
}

impl Store {
    /// How many of a session's events came from each source (stream, list, import).
    pub fn events_by_source(
        &self,
        session_id: &str,
    ) -> Result<std::collections::BTreeMap<String, u64>> {
        self.conn
            .prepare_cached(
                "SELECT source, count(*) FROM events WHERE session_id = ?1 GROUP BY source",
            )
            .and_then(|mut s| {
                s.query_map([session_id], |r| {
                    Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?))
                })?
                .map(|x| x.map(|(k, v)| (k, u64::try_from(v).unwrap_or(0))))
                .collect()
            })
            .map_err(self.err("counting events by source"))
    }
}
