//! Per-session caches (migration 0011's `session_cache`): what an analysis computed from a
//! session's whole recording, kept as JSON under a kind named by its owner in `inspect`, so a
//! question across many sessions does not fold each one again.
//!
//! Every commit that touches a session deletes its entries and counts the write in its rollup
//! (`session_rollups.writes`, `store/rollups.rs`). A reader reads the entry with that count
//! ([`Store::session_cached`]); on a miss it computes from the events and offers the result with
//! the count it read before computing ([`Store::put_session_cache`]), which keeps it only while
//! the count is unchanged: a write in between makes the offer stale and it is dropped.

use std::collections::HashMap;

use rusqlite::{OptionalExtension, Transaction, TransactionBehavior, params};

use super::{Result, Store};

/// A session's cache entry of one kind, with the write count it is valid for.
#[derive(Debug, Clone, PartialEq)]
pub struct Cached {
    /// The entry, if one is stored.
    pub body: Option<String>,
    /// The session's write count when read: what a new entry must be offered with.
    pub version: i64,
}

/// A computed entry offered to the cache.
#[derive(Debug, Clone, PartialEq)]
pub struct CacheEntry {
    pub session_id: String,
    /// The write count read before computing it.
    pub version: i64,
    pub body: String,
}

impl Store {
    /// Session `id`'s entry of `kind` and its write count; `None` when the session has no
    /// rollup (it is not in the database).
    pub fn session_cached(&self, kind: &str, id: &str) -> Result<Option<Cached>> {
        self.conn
            .prepare_cached(
                "SELECT r.writes, c.body FROM session_rollups r LEFT JOIN session_cache c \
                 ON c.session_id = r.session_id AND c.kind = ?2 WHERE r.session_id = ?1",
            )
            .and_then(|mut s| {
                s.query_row(params![id, kind], |r| {
                    Ok(Cached {
                        version: r.get(0)?,
                        body: r.get(1)?,
                    })
                })
                .optional()
            })
            .map_err(self.err("reading a session's cache"))
    }

    /// Every stored entry of `kind`, by session, in one read: for a question across the
    /// workspace. An entry is there only while its session was not written since it was kept.
    pub fn session_cache_all(&self, kind: &str) -> Result<HashMap<String, String>> {
        self.conn
            .prepare_cached("SELECT session_id, body FROM session_cache WHERE kind = ?1")
            .and_then(|mut s| {
                s.query_map([kind], |r| Ok((r.get(0)?, r.get(1)?)))?
                    .collect::<rusqlite::Result<HashMap<String, String>>>()
            })
            .map_err(self.err("reading the sessions' cache"))
    }

    /// Keeps the entries of `kind` whose session was not written since their version was read,
    /// in one transaction. Returns how many were kept.
    pub fn put_session_cache(&self, kind: &str, entries: &[CacheEntry]) -> Result<usize> {
        if entries.is_empty() {
            return Ok(0);
        }
        let tx = Transaction::new_unchecked(&self.conn, TransactionBehavior::Immediate)
            .map_err(self.err("writing a session's cache"))?;
        let mut kept = 0;
        for e in entries {
            kept += tx
                .prepare_cached(
                    "INSERT OR REPLACE INTO session_cache (session_id, kind, body) \
                     SELECT ?1, ?2, ?3 WHERE (SELECT writes FROM session_rollups \
                     WHERE session_id = ?1) = ?4",
                )
                .and_then(|mut s| s.execute(params![e.session_id, kind, e.body, e.version]))
                .map_err(self.err("writing a session's cache"))?;
        }
        tx.commit().map_err(self.err("writing a session's cache"))?;
        Ok(kept)
    }
}
