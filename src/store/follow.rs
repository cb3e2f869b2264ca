//! What `flightrec timeline --follow` and `tail` poll: a cheap change check and the events that
//! arrived after a point, by `seq` (arrival order). `seq` is read under the write lock and
//! committed in order, so a reader that remembers the highest seq it has seen misses nothing.

use rusqlite::params;

use super::read::{EVENT_COLUMNS, EventRow, event_row};
use super::{Result, Store};

/// What [`Store::arrivals`] found.
#[derive(Debug)]
pub struct Arrivals {
    /// The session's new events, in arrival (`seq`) order.
    pub events: Vec<EventRow>,
    /// The highest `seq` scanned: the `after` of the next call.
    pub through: i64,
}

impl Store {
    /// A number that changes whenever another connection commits to the database (SQLite's
    /// `PRAGMA data_version`): one read of the pager's state, checked before querying anything.
    pub fn data_version(&self) -> Result<i64> {
        self.conn
            .query_row("PRAGMA data_version", [], |r| r.get(0))
            .map_err(self.err("checking for changes"))
    }

    /// The highest `seq` in the database (0 when empty): where following starts.
    pub fn max_seq(&self) -> Result<i64> {
        self.conn
            .query_row("SELECT coalesce(max(seq), 0) FROM events", [], |r| r.get(0))
            .map_err(self.err("reading the newest event"))
    }

    /// The session's events among the next `scan` events of the database after `seq` `after`,
    /// in arrival order, and the highest `seq` scanned (where the next call starts). The scan
    /// walks the primary key, so each arrival is read once whichever session it belongs to, and
    /// a session's own events are read whole only when they are its. A newer copy of an event
    /// keeps its `seq`, so it is not returned again.
    pub fn arrivals(&self, session_id: &str, after: i64, scan: u64) -> Result<Arrivals> {
        let through: i64 = self
            .conn
            .prepare_cached(
                "SELECT coalesce(max(seq), ?1) FROM \
                 (SELECT seq FROM events WHERE seq > ?1 ORDER BY seq LIMIT ?2)",
            )
            .and_then(|mut s| s.query_row(params![after, scan as i64], |r| r.get(0)))
            .map_err(self.err("reading new events"))?;
        if through == after {
            return Ok(Arrivals {
                events: Vec::new(),
                through,
            });
        }
        let sql = format!(
            "SELECT {EVENT_COLUMNS} FROM events \
             WHERE seq > ?2 AND seq <= ?3 AND +session_id = ?1 ORDER BY seq"
        );
        let events = self
            .conn
            .prepare_cached(&sql)
            .and_then(|mut s| {
                s.query_map(params![session_id, after, through], event_row)?
                    .collect()
            })
            .map_err(self.err("reading new events"))?;
        Ok(Arrivals { events, through })
    }

    /// The last `n` of the session's events in timeline order (time, then seq) among those with
    /// a `seq` up to `upto`, oldest first.
    pub fn last_events(&self, session_id: &str, n: u64, upto: i64) -> Result<Vec<EventRow>> {
        let sql = format!(
            "SELECT * FROM (SELECT {EVENT_COLUMNS} FROM events \
             WHERE session_id = ?1 AND seq <= ?2 ORDER BY sort_ts DESC, seq DESC LIMIT ?3) \
             ORDER BY sort_ts, seq"
        );
        self.conn
            .prepare_cached(&sql)
            .and_then(|mut s| {
                s.query_map(params![session_id, upto, n as i64], event_row)?
                    .collect()
            })
            .map_err(self.err("reading the last events"))
    }
}
