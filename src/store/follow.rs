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

/// `conn`'s `PRAGMA data_version` (see [`Store::data_version`]).
pub(super) fn data_version(conn: &rusqlite::Connection) -> rusqlite::Result<i64> {
    conn.query_row("PRAGMA data_version", [], |r| r.get(0))
}

impl Store {
    /// A number that changes whenever another connection commits to the database (SQLite's
    /// `PRAGMA data_version`): one read of the pager's state, checked before querying anything.
    pub fn data_version(&self) -> Result<i64> {
        data_version(&self.conn).map_err(self.err("checking for changes"))
    }

    /// The highest `seq` in the database (0 when empty): where following starts.
    pub fn max_seq(&self) -> Result<i64> {
        self.conn
            .query_row("SELECT coalesce(max(seq), 0) FROM event_rows", [], |r| {
                r.get(0)
            })
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
                 (SELECT seq FROM event_rows WHERE seq > ?1 ORDER BY seq LIMIT ?2)",
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

#[cfg(test)]
mod tests {
    // Test code: a failed unwrap is a failed test.
    #![allow(clippy::unwrap_used)]

    use super::*;
    use crate::model::{Envelope, Source};
    use crate::store::Incoming;

    fn put(store: &mut Store, session: &str, id: &str, at: &str) {
        let raw = format!(r#"{{"type":"agent.message","id":"{id}","processed_at":"{at}"}}"#);
        let env = Envelope::parse(&raw, None).unwrap();
        let mut b = store.batch().unwrap();
        b.upsert(&Incoming {
            session_id: session,
            thread_id: "",
            envelope: &env,
            source: Source::Stream,
            received_at: "2026-08-07T14:00:00.000Z",
            preview_ordinal: 1,
        })
        .unwrap();
        b.commit().unwrap();
    }

    fn ids(rows: &[EventRow]) -> Vec<&str> {
        rows.iter().map(|r| r.event_id.as_str()).collect()
    }

    #[test]
    fn arrivals_are_a_sessions_events_after_a_seq_in_arrival_order_each_once() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f.db");
        let mut w = Store::open(&path).unwrap();
        put(&mut w, "sesn_a", "e1", "2026-08-07T14:00:02Z");
        let r = Store::open_reader(&path).unwrap();
        let (start, version) = (r.max_seq().unwrap(), r.data_version().unwrap());
        assert_eq!(r.data_version().unwrap(), version, "nothing committed");
        put(&mut w, "sesn_b", "x1", "2026-08-07T14:00:03Z");
        put(&mut w, "sesn_a", "e2", "2026-08-07T14:00:04Z");
        put(&mut w, "sesn_a", "e0", "2026-08-07T14:00:01Z"); // older: a backfill
        put(&mut w, "sesn_a", "e2", "2026-08-07T14:00:04Z"); // a copy: keeps its seq
        assert_ne!(
            r.data_version().unwrap(),
            version,
            "another connection committed"
        );

        // Scanning two at a time walks past the other session's event.
        let first = r.arrivals("sesn_a", start, 2).unwrap();
        assert_eq!(ids(&first.events), ["e2"]);
        let second = r.arrivals("sesn_a", first.through, 2).unwrap();
        assert_eq!(ids(&second.events), ["e0"]);
        let done = r.arrivals("sesn_a", second.through, 2).unwrap();
        assert!(done.events.is_empty());
        assert_eq!(done.through, second.through);
        assert_eq!(done.through, r.max_seq().unwrap());

        // The last two in time order, among those up to a seq.
        let last = r.last_events("sesn_a", 2, r.max_seq().unwrap()).unwrap();
        assert_eq!(ids(&last), ["e1", "e2"]);
        assert_eq!(ids(&r.last_events("sesn_a", 9, start).unwrap()), ["e1"]);
    }
}
