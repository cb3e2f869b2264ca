//! Reads the desktop viewer needs beyond the analyses' scans: events by arrival seq (the rows a
//! table shows, fetched lazily so a million-event session is never held as text), a text filter,
//! a cheap fingerprint that tells a follower something changed, and the memory-map switch.

use rusqlite::{params, params_from_iter, types::Value as SqlValue};

use super::read::{EVENT_COLUMNS, EventRow, event_row as row};
use super::{Result, Store};

/// What changed in a database since the last look: cheap to read (three O(1) lookups), so a
/// follower can poll it several times a second.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Fingerprint {
    /// The session's `event_count`.
    pub event_count: i64,
    /// The newest `seq` in the whole database.
    pub max_seq: i64,
    /// The newest replaced copy (`event_revisions.id`) in the whole database.
    pub max_revision: i64,
}

/// How many seqs go into one `IN (...)` list.
const CHUNK: usize = 500;

impl Store {
    /// The events of `session_id` with these arrival seqs, in seq order (missing seqs skipped).
    pub fn events_by_seq(&self, session_id: &str, seqs: &[i64]) -> Result<Vec<EventRow>> {
        let mut out = Vec::with_capacity(seqs.len());
        for chunk in seqs.chunks(CHUNK) {
            let marks = vec!["?"; chunk.len()].join(", ");
            let sql = format!(
                "SELECT {EVENT_COLUMNS} FROM events WHERE seq IN ({marks}) AND session_id = ? ORDER BY seq"
            );
            let mut args: Vec<SqlValue> = chunk.iter().map(|&s| SqlValue::Integer(s)).collect();
            args.push(SqlValue::Text(session_id.to_string()));
            let mut stmt = self
                .conn
                .prepare_cached(&sql)
                .map_err(self.err("reading events by seq"))?;
            let rows = stmt
                .query_map(params_from_iter(args), row)
                .map_err(self.err("reading events by seq"))?;
            for r in rows {
                out.push(r.map_err(self.err("reading events by seq"))?);
            }
        }
        Ok(out)
    }

    /// The seqs of the session's events whose raw text contains `needle` (ASCII letters
    /// compared without case), in seq order.
    pub fn seqs_containing(&self, session_id: &str, needle: &str) -> Result<Vec<i64>> {
        let escaped: String = needle
            .chars()
            .flat_map(|c| match c {
                '%' | '_' | '\\' => vec!['\\', c],
                c => vec![c],
            })
            .collect();
        let pattern = format!("%{escaped}%");
        self.conn
            .prepare_cached(
                "SELECT seq FROM events WHERE session_id = ?1 AND (event_text(raw) LIKE ?2 ESCAPE '\\' \
                 OR type LIKE ?2 ESCAPE '\\') ORDER BY seq",
            )
            .and_then(|mut s| {
                s.query_map(params![session_id, pattern], |r| r.get(0))?
                    .collect()
            })
            .map_err(self.err("filtering events by text"))
    }

    /// Whether any copy of one of the session's events was replaced after revision `after_id`.
    pub fn revised_since(&self, session_id: &str, after_id: i64) -> Result<bool> {
        self.conn
            .prepare_cached(
                "SELECT EXISTS (SELECT 1 FROM event_revisions r JOIN events e ON e.seq = r.event_seq \
                 WHERE r.id > ?1 AND e.session_id = ?2)",
            )
            .and_then(|mut s| s.query_row(params![after_id, session_id], |r| r.get(0)))
            .map_err(self.err("reading revisions"))
    }

    /// How many of the session's events arrived after `after_seq` and sort at or before
    /// `(ts, seq)` (queued events sort last). A follower that appended the events after its
    /// last one checks that this equals what it appended: a larger count means an event arrived
    /// that sorts among those already read. Reads only the rows that arrived after `after_seq`.
    pub fn arrived_since_upto(
        &self,
        session_id: &str,
        after_seq: i64,
        ts: i64,
        seq: i64,
    ) -> Result<i64> {
        self.conn
            .prepare_cached(
                // `+` keeps SQLite off the session index: the seq range is the small part.
                "SELECT count(*) FROM events WHERE seq > ?2 AND +session_id = ?1 \
                 AND (+sort_ts < ?3 OR (+sort_ts = ?3 AND seq <= ?4))",
            )
            .and_then(|mut s| s.query_row(params![session_id, after_seq, ts, seq], |r| r.get(0)))
            .map_err(self.err("checking the order of new events"))
    }

    /// See [`Fingerprint`].
    pub fn fingerprint(&self, session_id: &str) -> Result<Fingerprint> {
        self.conn
            .prepare_cached(
                "SELECT coalesce((SELECT event_count FROM sessions WHERE id = ?1), 0), \
                        coalesce((SELECT max(seq) FROM event_rows), 0), \
                        coalesce((SELECT max(id) FROM event_revisions), 0)",
            )
            .and_then(|mut s| {
                s.query_row([session_id], |r| {
                    Ok(Fingerprint {
                        event_count: r.get(0)?,
                        max_seq: r.get(1)?,
                        max_revision: r.get(2)?,
                    })
                })
            })
            .map_err(self.err("reading the change fingerprint"))
    }

    /// Sets how much of the file reads may map (0: none). Mapped pages count in a process's
    /// resident memory; the viewer, which keeps its own compact index, turns the map off.
    pub fn set_mmap_size(&self, bytes: u64) -> Result<()> {
        self.pragma("mmap_size", &bytes.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::import;

    fn store_with(lines: &str) -> (tempfile::TempDir, Store) {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("t.db");
        let mut store = Store::open(&path).expect("open");
        let file = dir.path().join("x.sesn_011CZviewerTest0000000001.jsonl");
        std::fs::write(&file, lines).expect("write");
        import::import_file(&mut store, &file, &Default::default(), &mut |_, _| {})
            .expect("import");
        (dir, store)
    }

    #[test]
    fn reads_by_seq_filters_by_text_and_sees_new_rows() {
        let (_dir, store) = store_with(
            "{\"type\":\"user.message\",\"id\":\"sevt_1\",\"processed_at\":\"2026-01-01T00:00:00Z\",\"content\":[{\"type\":\"text\",\"text\":\"Hello 100%\"}]}\n\
             {\"type\":\"agent.message\",\"id\":\"sevt_2\",\"processed_at\":\"2026-01-01T00:00:01Z\",\"content\":[{\"type\":\"text\",\"text\":\"hi\"}]}\n",
        );
        let sid = "sesn_011CZviewerTest0000000001";
        let all = store.events(sid, &Default::default()).expect("events");
        let seqs: Vec<i64> = all.iter().map(|r| r.seq).collect();
        let got = store.events_by_seq(sid, &[seqs[1]]).expect("by seq");
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].event_id, "sevt_2");
        assert_eq!(
            store
                .events_by_seq("sesn_other", &seqs)
                .expect("other")
                .len(),
            0
        );
        assert_eq!(
            store.seqs_containing(sid, "HELLO").expect("f"),
            vec![seqs[0]]
        );
        // `%` is literal, not a wildcard.
        assert_eq!(store.seqs_containing(sid, "0%").expect("f"), vec![seqs[0]]);
        assert_eq!(
            store.seqs_containing(sid, "o%\"").expect("f"),
            Vec::<i64>::new()
        );
        assert_eq!(
            store.seqs_containing(sid, "agent.").expect("f"),
            vec![seqs[1]]
        );
        let fp = store.fingerprint(sid).expect("fp");
        assert_eq!(fp.event_count, 2);
        assert_eq!(fp.max_seq, seqs[1]);
        assert!(!store.revised_since(sid, 0).expect("revised"));
        store.set_mmap_size(0).expect("mmap");
    }
}
