//! What the streamed transcripts (markdown and HTML) look up instead of keeping per-event maps
//! (issue 15): the ids carried by more than one of a session's rows, and the replies linking to
//! an event, from an index built for one export in SQLite's temporary database (on disk, so
//! memory holds its page cache and never the session).

use std::collections::HashSet;

use rusqlite::{OptionalExtension, params};

use super::{Result, Store};

/// One reply-type row linking to an event: where it sits in session order, and its id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkedRow {
    /// `sort_ts` (µs; queued rows sort last) and `seq`: the row's place in session order.
    pub sort_ts: i64,
    pub seq: i64,
    pub event_id: String,
}

impl Store {
    /// The session's storage key, `None` for a session with no events.
    fn session_key_of(&self, session_id: &str) -> Result<Option<i64>> {
        self.conn
            .prepare_cached("SELECT key FROM session_keys WHERE session_id = ?1")
            .and_then(|mut s| s.query_row([session_id], |r| r.get(0)).optional())
            .map_err(self.err("reading the session key"))
    }

    /// The non-empty event ids more than one of the session's rows carry: a copy delivered by a
    /// second stream, or an id its stream gave to events of two types. A session recorded from
    /// one stream with no such id (the usual case) costs a few index probes and returns nothing;
    /// otherwise one grouping query, which SQLite sorts in its temporary store.
    pub fn repeated_ids(&self, session_id: &str) -> Result<HashSet<String>> {
        let Some(sess) = self.session_key_of(session_id)? else {
            return Ok(HashSet::new());
        };
        let err = || self.err("reading repeated event ids");
        // The streams, one index probe each; a second one settles it.
        let first: Option<String> = self
            .conn
            .prepare_cached("SELECT min(thread_id) FROM event_rows WHERE sess = ?1")
            .and_then(|mut s| s.query_row([sess], |r| r.get(0)))
            .map_err(err())?;
        let Some(first) = first else {
            return Ok(HashSet::new());
        };
        let second: Option<String> = self
            .conn
            .prepare_cached(
                "SELECT min(thread_id) FROM event_rows WHERE sess = ?1 AND thread_id > ?2",
            )
            .and_then(|mut s| s.query_row(params![sess, first], |r| r.get(0)))
            .map_err(err())?;
        if second.is_none() {
            // One stream: its keys are unique, so an id repeats only as a typed key
            // (`~type~id`, event_id kept) beside the plain one. Keys from `~` up hold those.
            let typed = self
                .conn
                .prepare_cached(
                    "SELECT 1 FROM event_rows WHERE sess = ?1 AND thread_id = ?2 \
                     AND dedup_key >= '~' AND event_id IS NOT NULL AND event_id <> '' LIMIT 1",
                )
                .and_then(|mut s| s.query_row(params![sess, first], |_| Ok(())).optional())
                .map_err(err())?;
            if typed.is_none() {
                return Ok(HashSet::new());
            }
        }
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT coalesce(event_id, dedup_key) AS id FROM event_rows WHERE sess = ?1 \
                 GROUP BY id HAVING count(*) > 1 AND id <> ''",
            )
            .map_err(err())?;
        let ids = stmt
            .query_map([sess], |r| r.get::<_, String>(0))
            .and_then(|rows| rows.collect::<rusqlite::Result<HashSet<String>>>())
            .map_err(err())?;
        Ok(ids)
    }

    /// Builds the index [`Store::linked_to`] reads: the session's rows of `types` that link to
    /// another event, by the id they link to, in SQLite's temporary database (replacing the one
    /// a previous call built). Reads the rows' small columns, never their text.
    pub fn index_links(&self, session_id: &str, types: &[&str]) -> Result<()> {
        let err = || self.err("indexing the replies");
        self.conn
            .execute_batch(
                "DROP TABLE IF EXISTS temp.export_links;
                 CREATE TEMP TABLE export_links (
                     link TEXT NOT NULL, sort_ts INTEGER NOT NULL, seq INTEGER NOT NULL,
                     event_id TEXT NOT NULL);",
            )
            .map_err(err())?;
        let Some(sess) = self.session_key_of(session_id)? else {
            return Ok(());
        };
        let insert = "INSERT INTO temp.export_links (link, sort_ts, seq, event_id) \
             SELECT link_id, sort_ts, seq, coalesce(event_id, dedup_key) FROM event_rows \
             WHERE sess = ?1 AND type = ?2 AND link_id IS NOT NULL AND link_id <> ''";
        for t in types {
            self.conn
                .prepare_cached(insert)
                .and_then(|mut s| s.execute(params![sess, t]))
                .map_err(err())?;
        }
        self.conn
            .execute_batch(
                "CREATE INDEX temp.export_links_link ON export_links (link, sort_ts, seq);",
            )
            .map_err(err())
    }

    /// The rows [`Store::index_links`] indexed that link to `event_id`, in session order.
    pub fn linked_to(&self, event_id: &str) -> Result<Vec<LinkedRow>> {
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT sort_ts, seq, event_id FROM temp.export_links WHERE link = ?1 \
                 ORDER BY sort_ts, seq",
            )
            .map_err(self.err("reading the replies"))?;
        stmt.query_map([event_id], |r| {
            Ok(LinkedRow {
                sort_ts: r.get(0)?,
                seq: r.get(1)?,
                event_id: r.get(2)?,
            })
        })
        .and_then(|rows| rows.collect())
        .map_err(self.err("reading the replies"))
    }
}

#[cfg(test)]
mod tests;
