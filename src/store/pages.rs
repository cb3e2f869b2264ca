//! Reads for the replay server (`flightrec serve`): keyset pages of a session's or thread's log,
//! the rows a stream follower has not sent yet, and the facts behind synthesized session and
//! thread objects. Every read is served by an index or by a `seq` / revision-id range.

use rusqlite::{OptionalExtension, Row, params, params_from_iter, types::Value as SqlValue};

use super::{QUEUED_SORT_TS, Result, Store};
use crate::model::catalogue::SESSION_STATUS_TYPES;
use crate::model::parse_timestamp_micros;

/// One stored event as the server sends it: the text exactly as received and its sort key.
#[derive(Debug, Clone, PartialEq)]
pub struct PageRow {
    pub seq: i64,
    /// `processed_at` in µs since the epoch; [`QUEUED_SORT_TS`] while queued.
    pub sort_ts: i64,
    pub event_type: String,
    pub event_id: String,
    pub raw: String,
}

/// Which rows of one log (`thread_id` "" = the session's own) a page holds.
#[derive(Debug, Clone, Default)]
pub struct PageQuery {
    pub thread_id: String,
    /// Only these types (all when empty).
    pub types: Vec<String>,
    /// Bounds on `processed_at` (µs). Any bound leaves out queued events, which have no time.
    pub gt: Option<i64>,
    pub gte: Option<i64>,
    pub lt: Option<i64>,
    pub lte: Option<i64>,
    /// Newest first.
    pub desc: bool,
    /// Keyset: only rows strictly after this (sort_ts, seq) in the page's order.
    pub after: Option<(i64, i64)>,
    /// Only rows that had arrived by this `seq` (a stream's snapshot).
    pub max_seq: Option<i64>,
    pub limit: u64,
}

impl PageQuery {
    /// Whether a row passes the filters (not the keyset): the same test the SQL makes, for
    /// callers that page over rows held in memory.
    pub fn admits(&self, sort_ts: i64, event_type: &str) -> bool {
        let timed =
            self.gt.is_some() || self.gte.is_some() || self.lt.is_some() || self.lte.is_some();
        (self.types.is_empty() || self.types.iter().any(|t| t == event_type))
            && !(timed && sort_ts == QUEUED_SORT_TS)
            && self.gt.is_none_or(|t| sort_ts > t)
            && self.gte.is_none_or(|t| sort_ts >= t)
            && self.lt.is_none_or(|t| sort_ts < t)
            && self.lte.is_none_or(|t| sort_ts <= t)
    }
}

/// What a synthesized session object is made of, as of a moment of the recording.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SessionFacts {
    pub id: String,
    /// The session object as fetched from the API, verbatim.
    pub object: Option<String>,
    /// First and last `processed_at` as received, with the first one's sort key.
    pub first_at: Option<String>,
    pub first_ts: Option<i64>,
    pub last_at: Option<String>,
    /// The earliest `received_at`, for sessions whose events are all queued.
    pub first_received: Option<String>,
    /// The type of the newest `session.status_*` / `session.deleted` event.
    pub status_type: Option<String>,
    pub title: Option<String>,
    /// The `usage` object of the newest `session.usage` event, as JSON text.
    pub usage: Option<String>,
}

/// A `session.thread_*` event of the session's log, reduced to what a thread object needs.
#[derive(Debug, Clone, PartialEq)]
pub struct ThreadEvent {
    pub event_type: String,
    pub thread_id: Option<String>,
    pub agent_name: Option<String>,
    pub workflow_run_id: Option<String>,
    pub processed_at: Option<String>,
}

/// Every event and revision, without texts: what the live schedule is built from.
#[derive(Debug, Clone, Default)]
pub struct LiveRows {
    /// (session, thread, seq, type, sort_ts), in arrival order.
    pub events: Vec<(String, String, i64, String, i64)>,
    /// (revision id, event seq, its `processed_at` in µs), oldest first.
    pub revisions: Vec<(i64, i64, Option<i64>)>,
    /// (seq, the blocking event ids) of every `requires_action` idle.
    pub blocking: Vec<(i64, Vec<String>)>,
    /// (seq, the id it answers) of every tool confirmation and custom or self-hosted tool result.
    pub answers: Vec<(i64, String)>,
}

const THREAD_TYPES: &str = "'session.thread_created', 'session.thread_status_running', \
     'session.thread_status_idle', 'session.thread_status_rescheduled', 'session.thread_status_terminated'";

fn page_row(r: &Row<'_>) -> rusqlite::Result<PageRow> {
    Ok(PageRow {
        seq: r.get(0)?,
        sort_ts: r.get(1)?,
        event_type: r.get(2)?,
        event_id: r.get(3)?,
        raw: r.get(4)?,
    })
}

impl Store {
    /// One page of a log in (sort_ts, seq) order, as the events list endpoints serve it.
    pub fn events_page(&self, session_id: &str, q: &PageQuery) -> Result<Vec<PageRow>> {
        let mut sql = String::from(
            "SELECT seq, sort_ts, type, event_id, event_text(raw) FROM events WHERE session_id = ? AND thread_id = ?",
        );
        let mut args = vec![
            SqlValue::Text(session_id.to_string()),
            SqlValue::Text(q.thread_id.clone()),
        ];
        if !q.types.is_empty() {
            sql.push_str(" AND type IN (");
            for (i, t) in q.types.iter().enumerate() {
                sql.push_str(if i == 0 { "?" } else { ", ?" });
                args.push(SqlValue::Text(t.clone()));
            }
            sql.push(')');
        }
        let bounds = [(q.gt, ">"), (q.gte, ">="), (q.lt, "<"), (q.lte, "<=")];
        if bounds.iter().any(|(b, _)| b.is_some()) {
            sql.push_str(" AND sort_ts < ?");
            args.push(SqlValue::Integer(QUEUED_SORT_TS));
        }
        for (bound, op) in bounds {
            if let Some(t) = bound {
                sql.push_str(&format!(" AND sort_ts {op} ?"));
                args.push(SqlValue::Integer(t));
            }
        }
        if let Some((ts, seq)) = q.after {
            sql.push_str(if q.desc {
                " AND (sort_ts, seq) < (?, ?)"
            } else {
                " AND (sort_ts, seq) > (?, ?)"
            });
            args.push(SqlValue::Integer(ts));
            args.push(SqlValue::Integer(seq));
        }
        if let Some(max) = q.max_seq {
            sql.push_str(" AND seq <= ?");
            args.push(SqlValue::Integer(max));
        }
        sql.push_str(if q.desc {
            " ORDER BY sort_ts DESC, seq DESC LIMIT ?"
        } else {
            " ORDER BY sort_ts, seq LIMIT ?"
        });
        args.push(SqlValue::Integer(
            i64::try_from(q.limit).unwrap_or(i64::MAX),
        ));
        self.conn
            .prepare_cached(&sql)
            .and_then(|mut s| s.query_map(params_from_iter(args), page_row)?.collect())
            .map_err(self.err("reading a page of events"))
    }

    /// The newest event `seq` and revision id in the whole database: a follower's high-water marks.
    pub fn marks(&self) -> Result<(i64, i64)> {
        self.conn
            .query_row(
                "SELECT (SELECT coalesce(max(seq), 0) FROM event_rows), \
                        (SELECT coalesce(max(id), 0) FROM event_revisions)",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .map_err(self.err("reading the newest row"))
    }

    /// A log's events that arrived with `from < seq <= to`, in arrival order.
    pub fn events_between(
        &self,
        session_id: &str,
        thread_id: &str,
        from: i64,
        to: i64,
    ) -> Result<Vec<PageRow>> {
        self.conn
            .prepare_cached(
                "SELECT seq, sort_ts, type, event_id, event_text(raw) FROM events WHERE seq > ?1 AND seq <= ?2 \
                 AND session_id = ?3 AND thread_id = ?4 ORDER BY seq",
            )
            .and_then(|mut s| {
                s.query_map(params![from, to, session_id, thread_id], page_row)?
                    .collect()
            })
            .map_err(self.err("reading new events"))
    }

    /// The current text of a log's events replaced by revisions with `from < id <= to`, once
    /// each, in the order they were replaced.
    pub fn revised_between(
        &self,
        session_id: &str,
        thread_id: &str,
        from: i64,
        to: i64,
    ) -> Result<Vec<PageRow>> {
        self.conn
            .prepare_cached(
                "SELECT e.seq, e.sort_ts, e.type, e.event_id, event_text(e.raw) FROM events e JOIN \
                 (SELECT event_seq, max(id) AS last FROM event_revisions WHERE id > ?1 AND id <= ?2 \
                  GROUP BY event_seq) r ON e.seq = r.event_seq \
                 WHERE e.session_id = ?3 AND e.thread_id = ?4 ORDER BY r.last",
            )
            .and_then(|mut s| {
                s.query_map(params![from, to, session_id, thread_id], page_row)?
                    .collect()
            })
            .map_err(self.err("reading replaced events"))
    }

    /// One event by arrival number.
    pub fn event_at_seq(&self, seq: i64) -> Result<Option<PageRow>> {
        self.conn
            .prepare_cached(
                "SELECT seq, sort_ts, type, event_id, event_text(raw) FROM events WHERE seq = ?1",
            )
            .and_then(|mut s| s.query_row([seq], page_row).optional())
            .map_err(self.err("reading an event"))
    }

    /// The text of one earlier copy of an event.
    pub fn revision_raw(&self, id: i64) -> Result<Option<String>> {
        self.conn
            .prepare_cached("SELECT event_text(raw) FROM event_revisions WHERE id = ?1")
            .and_then(|mut s| s.query_row([id], |r| r.get(0)).optional())
            .map_err(self.err("reading a revision"))
    }

    /// The stored preview frames (type, text) of one event in one log, in order.
    pub fn previews_of(
        &self,
        session_id: &str,
        thread_id: &str,
        event_id: &str,
    ) -> Result<Vec<(String, String)>> {
        self.conn
            .prepare_cached(
                "SELECT type, event_text(raw) FROM previews WHERE session_id = ?1 AND thread_id = ?2 \
                 AND event_id = ?3 ORDER BY ordinal, seq",
            )
            .and_then(|mut s| {
                s.query_map(params![session_id, thread_id, event_id], |r| {
                    Ok((r.get(0)?, r.get(1)?))
                })?
                .collect()
            })
            .map_err(self.err("reading previews"))
    }

    /// Whether the session is in the database.
    pub fn has_session(&self, id: &str) -> Result<bool> {
        self.conn
            .prepare_cached("SELECT EXISTS (SELECT 1 FROM sessions WHERE id = ?1)")
            .and_then(|mut s| s.query_row([id], |r| r.get(0)))
            .map_err(self.err("reading a session"))
    }

    /// Every session id, in id order.
    pub fn session_ids(&self) -> Result<Vec<String>> {
        self.conn
            .prepare_cached("SELECT id FROM sessions ORDER BY id")
            .and_then(|mut s| s.query_map([], |r| r.get(0))?.collect())
            .map_err(self.err("listing sessions"))
    }

    /// The facts of a session as of `reveal` µs of recorded time after its first event (all of
    /// it when `None`), or `None` when the session is unknown.
    pub fn session_facts(&self, id: &str, reveal: Option<i64>) -> Result<Option<SessionFacts>> {
        let object: Option<Option<String>> = self
            .conn
            .prepare_cached("SELECT object FROM sessions WHERE id = ?1")
            .and_then(|mut s| s.query_row([id], |r| r.get(0)).optional())
            .map_err(self.err("reading a session"))?;
        let Some(object) = object else {
            return Ok(None);
        };
        let edge = |desc: bool, upto: i64| -> Result<Option<(String, i64)>> {
            let sql = format!(
                "SELECT processed_at, sort_ts FROM events WHERE session_id = ?1 AND sort_ts < ?2 \
                 AND sort_ts <= ?3 ORDER BY sort_ts {0}, seq {0} LIMIT 1",
                if desc { "DESC" } else { "ASC" }
            );
            self.conn
                .prepare_cached(&sql)
                .and_then(|mut s| {
                    s.query_row(params![id, QUEUED_SORT_TS, upto], |r| {
                        Ok((r.get(0)?, r.get(1)?))
                    })
                    .optional()
                })
                .map_err(self.err("reading a session's times"))
        };
        let first = edge(false, i64::MAX)?;
        let upto = match (reveal, &first) {
            (Some(r), Some((_, ts))) => ts.saturating_add(r),
            _ => i64::MAX,
        };
        let last = edge(true, upto)?;
        let newest = |types: &str, expr: &str| -> Result<Option<String>> {
            let sql = format!(
                "SELECT {expr} FROM events WHERE session_id = ?1 AND type IN ({types}) \
                 AND sort_ts <= ?2 AND {expr} IS NOT NULL ORDER BY sort_ts DESC, seq DESC LIMIT 1"
            );
            self.conn
                .prepare_cached(&sql)
                .and_then(|mut s| s.query_row(params![id, upto], |r| r.get(0)).optional())
                .map_err(self.err("reading a session's newest state"))
        };
        let statuses: Vec<String> = SESSION_STATUS_TYPES
            .iter()
            .map(|t| format!("'{t}'"))
            .collect();
        let first_received: Option<String> = self
            .conn
            .prepare_cached("SELECT min(received_at) FROM events WHERE session_id = ?1")
            .and_then(|mut s| s.query_row([id], |r| r.get(0)))
            .map_err(self.err("reading a session's times"))?;
        Ok(Some(SessionFacts {
            id: id.to_string(),
            object,
            first_ts: first.as_ref().map(|f| f.1),
            first_at: first.map(|f| f.0),
            last_at: last.map(|l| l.0),
            first_received,
            status_type: newest(&statuses.join(", "), "type")?,
            title: newest("'session.updated'", "event_text(raw) ->> '$.title'")?,
            usage: newest("'session.usage'", "event_text(raw) -> '$.usage'")?,
        }))
    }

    /// The `session.thread_*` events of a session's own log in order, up to `reveal` µs after its
    /// first event (all when `None`).
    pub fn thread_events(&self, session_id: &str, reveal: Option<i64>) -> Result<Vec<ThreadEvent>> {
        let upto = match reveal {
            None => i64::MAX,
            Some(r) => self
                .session_facts(session_id, None)?
                .and_then(|f| f.first_ts)
                .map_or(i64::MAX, |ts| ts.saturating_add(r)),
        };
        let sql = format!(
            "SELECT type, event_text(raw) ->> '$.session_thread_id', event_text(raw) ->> '$.agent_name', \
             event_text(raw) ->> '$.workflow_run_id', processed_at FROM events WHERE session_id = ?1 \
             AND thread_id = '' AND type IN ({THREAD_TYPES}) AND sort_ts <= ?2 ORDER BY sort_ts, seq"
        );
        self.conn
            .prepare_cached(&sql)
            .and_then(|mut s| {
                s.query_map(params![session_id, upto], |r| {
                    Ok(ThreadEvent {
                        event_type: r.get(0)?,
                        thread_id: r.get(1)?,
                        agent_name: r.get(2)?,
                        workflow_run_id: r.get(3)?,
                        processed_at: r.get(4)?,
                    })
                })?
                .collect()
            })
            .map_err(self.err("reading thread events"))
    }

    /// The threads of a session that have a log of their own in the database.
    pub fn logged_threads(&self, session_id: &str) -> Result<Vec<String>> {
        self.conn
            .prepare_cached(
                "SELECT DISTINCT thread_id FROM events WHERE session_id = ?1 AND thread_id != '' \
                 ORDER BY thread_id",
            )
            .and_then(|mut s| s.query_map([session_id], |r| r.get(0))?.collect())
            .map_err(self.err("listing thread logs"))
    }

    /// Where one event of a log is: its `seq` and the ids of its earlier copies
    /// (`event_revisions`), oldest first; `None` when it is not stored.
    pub fn event_copies(
        &self,
        session_id: &str,
        thread_id: &str,
        event_id: &str,
    ) -> Result<Option<(i64, Vec<i64>)>> {
        let seq: Option<i64> = self
            .conn
            .prepare_cached(
                "SELECT seq FROM events WHERE session_id = ?1 AND thread_id = ?2 AND event_id = ?3 \
                 ORDER BY seq LIMIT 1",
            )
            .and_then(|mut s| {
                s.query_row([session_id, thread_id, event_id], |r| r.get(0))
                    .optional()
            })
            .map_err(self.err("finding an event"))?;
        let Some(seq) = seq else { return Ok(None) };
        let revs = self
            .conn
            .prepare_cached("SELECT id FROM event_revisions WHERE event_seq = ?1 ORDER BY id")
            .and_then(|mut s| s.query_map([seq], |r| r.get(0))?.collect())
            .map_err(self.err("finding an event's copies"))?;
        Ok(Some((seq, revs)))
    }

    /// Every event and revision without its text, for the live schedule.
    pub fn live_rows(&self) -> Result<LiveRows> {
        let events = self
            .conn
            .prepare("SELECT session_id, thread_id, seq, type, sort_ts FROM events ORDER BY seq")
            .and_then(|mut s| {
                s.query_map([], |r| {
                    Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
                })?
                .collect()
            })
            .map_err(self.err("reading the event index"))?;
        let revisions = self
            .conn
            .prepare(
                "SELECT id, event_seq, event_text(raw) ->> '$.processed_at' FROM event_revisions ORDER BY id",
            )
            .and_then(|mut s| {
                s.query_map([], |r| {
                    let at: Option<String> = r.get(2)?;
                    Ok((
                        r.get(0)?,
                        r.get(1)?,
                        at.as_deref().and_then(parse_timestamp_micros),
                    ))
                })?
                .collect()
            })
            .map_err(self.err("reading the revision index"))?;
        let blocking = self
            .conn
            .prepare(
                "SELECT seq, event_text(raw) ->> '$.stop_reason.event_ids' FROM events \
                 WHERE type = 'session.status_idle' \
                 AND event_text(raw) ->> '$.stop_reason.type' = 'requires_action'",
            )
            .and_then(|mut s| {
                s.query_map([], |r| {
                    let ids: Option<String> = r.get(1)?;
                    let ids: Vec<String> = ids
                        .and_then(|t| serde_json::from_str(&t).ok())
                        .unwrap_or_default();
                    Ok((r.get(0)?, ids))
                })?
                .collect()
            })
            .map_err(self.err("reading the blocking idles"))?;
        let answers = self
            .conn
            .prepare(
                "SELECT seq, coalesce(event_text(raw) ->> '$.tool_use_id', event_text(raw) ->> '$.custom_tool_use_id') \
                 FROM events WHERE type IN \
                 ('user.tool_confirmation', 'user.custom_tool_result', 'user.tool_result')",
            )
            .and_then(|mut s| {
                s.query_map([], |r| Ok((r.get(0)?, r.get::<_, Option<String>>(1)?)))?
                    .filter_map(|r| r.map(|(seq, id)| id.map(|id| (seq, id))).transpose())
                    .collect()
            })
            .map_err(self.err("reading the answers"))?;
        Ok(LiveRows {
            events,
            revisions,
            blocking,
            answers,
        })
    }
}
