//! Scans of a session's events that lend each row to a callback without copying it: the
//! analyses (spans, explain, state, stats) read 100,000-event sessions in tens of milliseconds.

use rusqlite::{params_from_iter, types::Value as SqlValue, types::ValueRef};

use super::read::{EventRow, TimelineQuery};
use super::{QUEUED_SORT_TS, Result, Store};
use crate::model::Envelope;

/// One event, borrowed from the row being read (see [`Store::scan_events`]).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct EventRef<'a> {
    pub seq: i64,
    pub event_id: &'a str,
    pub event_type: &'a str,
    pub processed_at: Option<&'a str>,
    /// µs since the epoch; `None` while queued.
    pub ts: Option<i64>,
    pub thread_id: &'a str,
    pub link_id: Option<&'a str>,
    pub raw: &'a str,
}

impl EventRow {
    pub fn as_ref(&self) -> EventRef<'_> {
        EventRef {
            seq: self.seq,
            event_id: &self.event_id,
            event_type: &self.event_type,
            processed_at: self.processed_at.as_deref(),
            ts: self.ts,
            thread_id: &self.thread_id,
            link_id: self.link_id.as_deref(),
            raw: &self.raw,
        }
    }
}

impl EventRef<'_> {
    /// The event owned, as a scan reads it: where it came from and when it arrived (not read by
    /// scans) are left empty.
    pub fn to_row(&self) -> EventRow {
        EventRow {
            seq: self.seq,
            event_id: self.event_id.to_string(),
            event_type: self.event_type.to_string(),
            processed_at: self.processed_at.map(str::to_string),
            ts: self.ts,
            thread_id: self.thread_id.to_string(),
            link_id: self.link_id.map(str::to_string),
            source: String::new(),
            received_at: String::new(),
            revision: 0,
            raw: self.raw.to_string(),
        }
    }
}

/// The text a slim read (`TimelineQuery::slim_types`) gives an event of a slim type that failed.
pub const SLIM_FAILED: &str = r#"{"is_error":true}"#;
/// The text a slim read gives any other event of a slim type.
pub const SLIM_OK: &str = "{}";

/// An event just stored as new by a write (`WriteBatch::upsert_new`), as a scan of its session
/// reads it back: the same fields, the same text (`slim`: as a slim read gives it). Lets a fold
/// follow a write without reading what was written (`flightrec import`'s derived data); the
/// store's tests compare it with the scan for every event of every sample. `key`: the event's
/// [`super::event_key`] at `seq`.
pub fn as_scanned<'a>(
    env: &'a Envelope<'_>,
    seq: i64,
    thread_id: &'a str,
    key: &'a str,
    slim: bool,
) -> EventRef<'a> {
    EventRef {
        seq,
        // `coalesce(event_id, dedup_key)`: the stored id is NULL when it is the key.
        event_id: key,
        event_type: &env.event_type,
        processed_at: env.processed_at.as_deref(),
        ts: env.ts_micros,
        thread_id,
        link_id: env.link_id.as_deref(),
        raw: match (slim, env.is_error) {
            (false, _) => env.raw,
            (true, true) => SLIM_FAILED,
            (true, false) => SLIM_OK,
        },
    }
}

/// `processed_at` is the compact form (store/slim.rs), written out again per row. Columns of
/// `event_rows` (see [`event_query`]).
pub(super) const SCAN_COLUMNS: &str =
    "seq, coalesce(event_id, dedup_key), type, processed_at, sort_ts, thread_id, link_id, raw";

/// The session's rows, read from `event_rows` (named `events`) with the session's key looked
/// up once: the `events` view's join on `session_keys` made SQLite prepare the statement again
/// at every run (measured: every run of a cached statement re-prepared, a fifth of an import of
/// small sessions), which a scalar subquery does not.
const SESSION_ROWS: &str =
    "FROM event_rows AS events WHERE sess = (SELECT key FROM session_keys WHERE session_id = ?)";

/// The SQL and arguments reading `columns` of `event_rows` (whose last is `raw` or
/// `event_text(raw)`) of the events `q` selects.
pub(super) fn event_query(
    columns: &str,
    session_id: &str,
    q: &TimelineQuery,
) -> (String, Vec<SqlValue>) {
    let mut args: Vec<SqlValue> = Vec::new();
    let mut sql = if q.slim_types.is_empty() {
        format!("SELECT {columns} {SESSION_ROWS}")
    } else {
        let marks = vec!["?"; q.slim_types.len()].join(", ");
        args.extend(q.slim_types.iter().map(|t| SqlValue::Text(t.clone())));
        let last = columns.rsplit(", ").next().unwrap_or("raw");
        let columns = columns.replace(
            &format!(", {last}"),
            // Only `is_error` is kept, from the sparse `event_errors` table.
            &format!(
                ", CASE WHEN type IN ({marks}) THEN CASE WHEN EXISTS \
                 (SELECT 1 FROM event_errors x WHERE x.seq = events.seq) \
                 THEN '{SLIM_FAILED}' ELSE '{SLIM_OK}' END ELSE {last} END"
            ),
        );
        format!("SELECT {columns} {SESSION_ROWS}")
    };
    args.push(SqlValue::Text(session_id.to_string()));
    if !q.types.is_empty() {
        sql.push_str(" AND type IN (");
        for (i, t) in q.types.iter().enumerate() {
            sql.push_str(if i == 0 { "?" } else { ", ?" });
            args.push(SqlValue::Text(t.clone()));
        }
        sql.push(')');
    }
    if let Some(t) = q.since_ts {
        sql.push_str(" AND sort_ts >= ?");
        args.push(SqlValue::Integer(t));
    }
    if let Some(t) = q.until_ts {
        sql.push_str(" AND sort_ts <= ?");
        args.push(SqlValue::Integer(t));
    }
    sql.push_str(" ORDER BY sort_ts, seq");
    if let Some(n) = q.limit {
        sql.push_str(" LIMIT ?");
        args.push(SqlValue::Integer(i64::try_from(n).unwrap_or(i64::MAX)));
    }
    (sql, args)
}

fn text(v: ValueRef<'_>) -> Option<&str> {
    match v {
        ValueRef::Text(t) => std::str::from_utf8(t).ok(),
        _ => None,
    }
}

/// The event in row `r`; compressed text is decoded into `buf` (store/codec.rs), a time kept as
/// a number is written into `time` (store/slim.rs).
fn event_ref<'r>(
    r: &'r rusqlite::Row<'_>,
    store: &Store,
    buf: &'r mut Vec<u8>,
    time: &'r mut String,
) -> rusqlite::Result<EventRef<'r>> {
    let sort_ts: i64 = r.get(4)?;
    let processed_at = match r.get_ref(3)? {
        ValueRef::Text(t) => std::str::from_utf8(t).ok(),
        stored => match super::slim::processed_at(stored, sort_ts) {
            Some(t) => {
                *time = t;
                Some(time.as_str())
            }
            None => None,
        },
    };
    let raw = store
        .dicts
        .text(Some(&store.conn), r.get_ref(7)?, buf)
        .map_err(|e| rusqlite::Error::UserFunctionError(Box::new(e)))?;
    Ok(EventRef {
        seq: r.get(0)?,
        event_id: text(r.get_ref(1)?).unwrap_or_default(),
        event_type: text(r.get_ref(2)?).unwrap_or_default(),
        processed_at,
        ts: (sort_ts != QUEUED_SORT_TS).then_some(sort_ts),
        thread_id: text(r.get_ref(5)?).unwrap_or_default(),
        link_id: text(r.get_ref(6)?),
        raw: raw.unwrap_or_default(),
    })
}

impl Store {
    /// Lends each event `q` selects, in order, to `f`, which may stop the scan by returning
    /// `false`. Nothing is copied: `f` keeps what it needs.
    pub fn scan_events(
        &self,
        session_id: &str,
        q: &TimelineQuery,
        mut f: impl FnMut(EventRef<'_>) -> bool,
    ) -> Result<()> {
        let (sql, args) = event_query(SCAN_COLUMNS, session_id, q);
        let mut stmt = self
            .conn
            .prepare_cached(&sql)
            .map_err(self.err("reading events"))?;
        let mut rows = stmt
            .query(params_from_iter(args))
            .map_err(self.err("reading events"))?;
        let mut buf = Vec::new();
        let mut time = String::new();
        while let Some(r) = rows.next().map_err(self.err("reading events"))? {
            let ev = event_ref(r, self, &mut buf, &mut time).map_err(self.err("reading events"))?;
            if !f(ev) {
                break;
            }
        }
        Ok(())
    }
}

impl Store {
    /// As [`Store::scan_events`], with the consumer on a second thread: rows are copied out in
    /// batches (one buffer each, no allocation per row) and `consume(&mut state, row)` runs while
    /// SQLite reads the next batch. On large sessions reading and analysing take about as long
    /// as each other, so this nearly halves the wall time when a core is free. Gives `state`
    /// back when done.
    pub fn scan_events_pipelined<S: Send>(
        &self,
        session_id: &str,
        q: &TimelineQuery,
        state: S,
        consume: impl FnMut(&mut S, &EventRef<'_>) + Send,
    ) -> Result<S> {
        self.scan_events_pipelined_with(session_id, q, state, consume, |_| {})
    }

    /// [`Store::scan_events_pipelined`], also lending each row to `alongside` on the reading
    /// thread as it is read: a second, lighter analysis of the same rows, made while the
    /// consumer works, without a read of its own.
    pub fn scan_events_pipelined_with<S: Send>(
        &self,
        session_id: &str,
        q: &TimelineQuery,
        mut state: S,
        mut consume: impl FnMut(&mut S, &EventRef<'_>) + Send,
        mut alongside: impl FnMut(&EventRef<'_>),
    ) -> Result<S> {
        std::thread::scope(|scope| {
            let (tx, rx) = std::sync::mpsc::sync_channel::<Batch>(4);
            let worker = scope.spawn(move || {
                for batch in rx {
                    for ev in batch.events() {
                        consume(&mut state, &ev);
                    }
                }
                state
            });
            let mut batch = Batch::default();
            let scanned = self.scan_events(session_id, q, |ev| {
                alongside(&ev);
                batch.push(&ev);
                // A closed channel means the worker is gone: stop reading.
                batch.rows.len() < BATCH_ROWS || tx.send(batch.take()).is_ok()
            });
            let _ = tx.send(batch);
            drop(tx);
            let state = match worker.join() {
                Ok(state) => state,
                // The consumer panicked: a bug, not bad data. Let it surface as one.
                Err(panic) => std::panic::resume_unwind(panic),
            };
            scanned.map(|()| state)
        })
    }
}

/// Rows per batch handed from the reading thread to the analysing one.
const BATCH_ROWS: usize = 1024;

/// Scanned rows copied into one buffer: six texts per row, end to end.
#[derive(Default)]
struct Batch {
    text: String,
    rows: Vec<Mark>,
}

/// Where one row's texts are in [`Batch::text`]: event id, type, processed_at, thread id,
/// link id, raw.
struct Mark {
    seq: i64,
    ts: Option<i64>,
    start: usize,
    ends: [usize; 6],
    processed_at: bool,
    link_id: bool,
}

impl Batch {
    /// The rows so far, leaving an empty batch with room for as many.
    fn take(&mut self) -> Batch {
        let next = Batch {
            text: String::with_capacity(self.text.capacity()),
            rows: Vec::with_capacity(BATCH_ROWS),
        };
        std::mem::replace(self, next)
    }

    fn push(&mut self, ev: &EventRef<'_>) {
        let start = self.text.len();
        let mut ends = [0; 6];
        let parts = [
            ev.event_id,
            ev.event_type,
            ev.processed_at.unwrap_or_default(),
            ev.thread_id,
            ev.link_id.unwrap_or_default(),
            ev.raw,
        ];
        for (end, part) in ends.iter_mut().zip(parts) {
            self.text.push_str(part);
            *end = self.text.len();
        }
        self.rows.push(Mark {
            seq: ev.seq,
            ts: ev.ts,
            start,
            ends,
            processed_at: ev.processed_at.is_some(),
            link_id: ev.link_id.is_some(),
        });
    }

    fn events(&self) -> impl Iterator<Item = EventRef<'_>> {
        self.rows.iter().map(|m| {
            let part = |k: usize| {
                let from = if k == 0 { m.start } else { m.ends[k - 1] };
                self.text.get(from..m.ends[k]).unwrap_or_default()
            };
            EventRef {
                seq: m.seq,
                event_id: part(0),
                event_type: part(1),
                processed_at: m.processed_at.then(|| part(2)),
                ts: m.ts,
                thread_id: part(3),
                link_id: m.link_id.then(|| part(4)),
                raw: part(5),
            }
        })
    }
}
