//! Per-session caches (migration 0011's `session_cache`): what an analysis computed from a
//! session's whole recording, kept as JSON under a kind named by its owner in `inspect`, so a
//! question across many sessions does not fold each one again.
//!
//! Every commit that touches a session deletes its entries and counts the write in its rollup
//! (`session_rollups.writes`, `store/rollups.rs`). A reader reads the entry with that count
//! ([`Store::session_cached`]); on a miss it computes from the events and offers the result with
//! the count it read before computing ([`Store::put_session_cache`]), which keeps it only while
//! the count is unchanged: a write in between makes the offer stale and it is dropped.

//!
//! Results (migration 0014's `session_results`, [`Store::session_result`]) are the same idea for
//! larger bodies: compressed, each row naming the write count it was computed at, so no commit
//! needs to delete them (a stale one is never read) and a lookup reads no other entry's body.

use std::collections::HashMap;
use std::io::{Read, Write};

use flate2::Compression;
use flate2::read::DeflateDecoder;
use flate2::write::DeflateEncoder;
use rusqlite::types::{Value, ValueRef};
use rusqlite::{OptionalExtension, Transaction, TransactionBehavior, params};

use super::{Result, Store, StoreError};

const RESULTS: &str = "session_results";

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

/// A [`CacheEntry`] with its body packed as it is stored ([`CacheEntry::packed`]): packing a
/// large body takes a while, which can be done on another thread before the write.
#[derive(Debug, Clone, PartialEq)]
pub struct PackedEntry {
    pub session_id: String,
    pub version: i64,
    body: Value,
}

impl CacheEntry {
    /// The entry packed for [`Store::put_packed_session_cache`].
    pub fn packed(&self) -> PackedEntry {
        PackedEntry {
            session_id: self.session_id.clone(),
            version: self.version,
            body: pack(&self.body),
        }
    }
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
                        body: unpack(r.get_ref(1)?),
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
                // An entry that cannot be read is a miss, as in `session_cached`.
                s.query_map([kind], |r| Ok((r.get(0)?, unpack(r.get_ref(1)?))))?
                    .filter_map(|row| row.map(|(id, body)| body.map(|b| (id, b))).transpose())
                    .collect::<rusqlite::Result<HashMap<String, String>>>()
            })
            .map_err(self.err("reading the sessions' cache"))
    }

    /// The sessions with events and no entry of `kind` (never computed, written since, or kept
    /// by another build under another kind), most recently active first.
    pub fn sessions_without(&self, kind: &str) -> Result<Vec<String>> {
        self.conn
            .prepare_cached(
                "SELECT r.session_id FROM session_rollups r WHERE r.last_ts IS NOT NULL \
                 AND NOT EXISTS (SELECT 1 FROM session_cache c \
                 WHERE c.kind = ?1 AND c.session_id = r.session_id) \
                 ORDER BY r.last_ts DESC, r.session_id",
            )
            .and_then(|mut s| {
                s.query_map([kind], |r| r.get(0))?
                    .collect::<rusqlite::Result<Vec<String>>>()
            })
            .map_err(self.err("reading the sessions' cache"))
    }

    /// Keeps the entries of `kind` whose session was not written since their version was read,
    /// in one transaction. Returns how many were kept.
    pub fn put_session_cache(&self, kind: &str, entries: &[CacheEntry]) -> Result<usize> {
        let packed: Vec<PackedEntry> = entries.iter().map(CacheEntry::packed).collect();
        self.put_packed_session_cache(kind, &packed)
    }

    /// [`Store::put_session_cache`] of entries already packed.
    pub fn put_packed_session_cache(&self, kind: &str, entries: &[PackedEntry]) -> Result<usize> {
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

    /// Session `id`'s result of `kind` when it was kept at the session's current write count,
    /// with that count; `None` when the session has no rollup or the database predates results.
    pub fn session_result(&self, kind: &str, id: &str) -> Result<Option<Cached>> {
        if !self.has_table(RESULTS)? {
            return Ok(None);
        }
        let row: Option<(i64, Option<Vec<u8>>)> = self
            .conn
            .prepare_cached(
                "SELECT r.writes, c.body FROM session_rollups r LEFT JOIN session_results c \
                 ON c.session_id = r.session_id AND c.kind = ?2 AND c.writes = r.writes \
                 WHERE r.session_id = ?1",
            )
            .and_then(|mut s| {
                s.query_row(params![id, kind], |r| Ok((r.get(0)?, r.get(1)?)))
                    .optional()
            })
            .map_err(self.err("reading a session's result"))?;
        Ok(row.map(|(version, packed)| {
            let mut body = String::new();
            let body = packed.and_then(|p| {
                // A cache: a damaged entry is as good as none.
                DeflateDecoder::new(p.as_slice())
                    .read_to_string(&mut body)
                    .ok()
                    .map(|_| body)
            });
            Cached { body, version }
        }))
    }

    /// Keeps the results of `kind` (compressed) whose session was not written since their
    /// version was read, in one transaction. Returns how many were kept.
    pub fn put_session_results(&self, kind: &str, entries: &[CacheEntry]) -> Result<usize> {
        if entries.is_empty() {
            return Ok(0);
        }
        let tx = Transaction::new_unchecked(&self.conn, TransactionBehavior::Immediate)
            .map_err(self.err("writing a session's result"))?;
        let mut kept = 0;
        for e in entries {
            let mut enc = DeflateEncoder::new(Vec::new(), Compression::fast());
            let packed = enc
                .write_all(e.body.as_bytes())
                .and_then(|()| enc.finish())
                .map_err(StoreError::Output)?;
            kept += tx
                .prepare_cached(
                    "INSERT OR REPLACE INTO session_results (session_id, kind, writes, body) \
                     SELECT ?1, ?2, ?3, ?4 WHERE (SELECT writes FROM session_rollups \
                     WHERE session_id = ?1) = ?3",
                )
                .and_then(|mut s| s.execute(params![e.session_id, kind, e.version, packed]))
                .map_err(self.err("writing a session's result"))?;
        }
        tx.commit()
            .map_err(self.err("writing a session's result"))?;
        Ok(kept)
    }
}

/// Bodies from this size on are kept compressed (migration 0013): the requests of a
/// 300,000-event session are 8 MB of JSON, 2.3 MB as a zstd frame.
const PACK_FROM: usize = 512;

/// zstd's level for bodies: its fastest. On the requests of that session it packs at 1.9 times
/// the speed of the default level (3) into a frame 1 % larger; a bulk import writes them last,
/// on its critical path.
const PACK_LEVEL: i32 = 1;

/// A body as stored: its text when short, else one zstd frame of it.
fn pack(body: &str) -> Value {
    if body.len() >= PACK_FROM
        && let Ok(frame) = zstd::bulk::compress(body.as_bytes(), PACK_LEVEL)
    {
        return Value::Blob(frame);
    }
    Value::Text(body.to_string())
}

/// A body decompresses to at most this (a larger size is damage: a miss).
const MAX_BODY: u64 = 1 << 30;

thread_local! {
    /// One decompression context per thread: `check --all` reads 10,000 bodies, and making a
    /// context for each (zstd allocates and clears ~100 KB) was a third of its time.
    static DECOMPRESSOR: std::cell::RefCell<Option<zstd::bulk::Decompressor<'static>>> =
        const { std::cell::RefCell::new(None) };
}

/// A stored body back as text; `None` (a miss: the entry is only a cache) when it cannot be read.
fn unpack(stored: ValueRef<'_>) -> Option<String> {
    match stored {
        ValueRef::Text(t) => String::from_utf8(t.to_vec()).ok(),
        ValueRef::Blob(b) => {
            let size = zstd::zstd_safe::get_frame_content_size(b).ok()??;
            if size > MAX_BODY {
                return None;
            }
            let bytes = DECOMPRESSOR.with(|d| {
                let mut d = d.borrow_mut();
                if d.is_none() {
                    *d = zstd::bulk::Decompressor::new().ok();
                }
                d.as_mut()?.decompress(b, usize::try_from(size).ok()?).ok()
            })?;
            String::from_utf8(bytes).ok()
        }
        _ => None,
    }
}

#[cfg(test)]
mod pack_tests {
    // Test code: a failed unwrap is a failed test.
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn a_body_reads_back_as_written_short_or_long_and_a_damaged_one_is_a_miss() {
        let long = "[1,\"x\"],".repeat(400);
        for body in ["[]", long.as_str()] {
            let stored = pack(body);
            assert_eq!(matches!(stored, Value::Blob(_)), body.len() >= PACK_FROM);
            assert_eq!(unpack(ValueRef::from(&stored)).as_deref(), Some(body));
        }
        assert_eq!(unpack(ValueRef::Blob(b"not a frame")), None);
    }
}
