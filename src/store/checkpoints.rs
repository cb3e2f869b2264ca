//! Checkpoints of the folds over a session (migration 0010, `fold_checkpoints`): the bytes a
//! fold serialized after the session's events up to one (see `inspect::checkpoints`), kept
//! compressed. The store owns the table and the compression; what the bytes mean is the fold's.
//!
//! A cache, never the truth: writing an event that sorts at or before a checkpoint deletes it
//! (`write.rs`), and a database of an older schema, or one opened read-only, simply has none.

use std::io::{Read, Write};

use flate2::Compression;
use flate2::read::DeflateDecoder;
use flate2::write::DeflateEncoder;
use rusqlite::{OptionalExtension, params};

use super::{Result, Store, StoreError};

/// One fold's state after the session's events up to the one at (`sort_ts`, `seq`).
#[derive(Debug, Clone, PartialEq)]
pub struct FoldCheckpoint {
    pub sort_ts: i64,
    pub seq: i64,
    /// How many events the fold had taken (from the session's first).
    pub events: u64,
    /// The fold's serialized state (uncompressed).
    pub data: Vec<u8>,
}

const TABLE: &str = "fold_checkpoints";

impl Store {
    /// The newest checkpoint of `fold` at or before the event position `at` (sort_ts, seq);
    /// `None` when there is none (or the database predates checkpoints).
    pub fn fold_checkpoint(
        &self,
        session_id: &str,
        fold: &str,
        at: (i64, i64),
    ) -> Result<Option<FoldCheckpoint>> {
        if !self.has_table(TABLE)? {
            return Ok(None);
        }
        let row: Option<(i64, i64, i64, Vec<u8>)> = self
            .conn
            .prepare_cached(
                "SELECT sort_ts, seq, events, data FROM fold_checkpoints \
                 WHERE session_id = ?1 AND fold = ?2 AND (sort_ts < ?3 OR (sort_ts = ?3 AND seq <= ?4)) \
                 ORDER BY sort_ts DESC, seq DESC LIMIT 1",
            )
            .and_then(|mut s| {
                s.query_row(params![session_id, fold, at.0, at.1], |r| {
                    Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
                })
                .optional()
            })
            .map_err(self.err("reading a fold checkpoint"))?;
        let Some((sort_ts, seq, events, packed)) = row else {
            return Ok(None);
        };
        let mut data = Vec::new();
        if DeflateDecoder::new(packed.as_slice())
            .read_to_end(&mut data)
            .is_err()
        {
            // A cache: a damaged entry is as good as none.
            return Ok(None);
        }
        Ok(Some(FoldCheckpoint {
            sort_ts,
            seq,
            events: u64::try_from(events).unwrap_or(0),
            data,
        }))
    }

    /// The stored bytes of the session's checkpoints (all folds): what they cost on disk.
    pub fn fold_checkpoint_bytes(&self, session_id: &str) -> Result<u64> {
        if !self.has_table(TABLE)? {
            return Ok(0);
        }
        let n: i64 = self
            .conn
            .query_row(
                "SELECT coalesce(sum(length(data)), 0) FROM fold_checkpoints WHERE session_id = ?1",
                [session_id],
                |r| r.get(0),
            )
            .map_err(self.err("reading fold checkpoints"))?;
        Ok(u64::try_from(n).unwrap_or(0))
    }

    /// Takes the write lock to replace the session's checkpoints of a fold: what is read
    /// through this store until [`CheckpointWrite::commit`] is what they are computed from,
    /// and no writer can change it meanwhile. Fails on a read-only store.
    pub fn write_fold_checkpoints(&self) -> Result<CheckpointWrite<'_>> {
        self.conn
            .execute_batch("BEGIN IMMEDIATE")
            .map_err(self.err("writing fold checkpoints"))?;
        Ok(CheckpointWrite {
            store: self,
            open: true,
        })
    }
}

/// An open transaction writing checkpoints (see [`Store::write_fold_checkpoints`]); dropped
/// uncommitted, it writes nothing.
pub struct CheckpointWrite<'s> {
    store: &'s Store,
    open: bool,
}

impl CheckpointWrite<'_> {
    /// Deletes the session's checkpoints of `fold` after (`sort_ts`, `seq`) (all for `None`).
    pub fn clear_after(
        &self,
        session_id: &str,
        fold: &str,
        after: Option<(i64, i64)>,
    ) -> Result<()> {
        let (ts, seq) = after.unwrap_or((i64::MIN, i64::MIN));
        self.store
            .conn
            .prepare_cached(
                "DELETE FROM fold_checkpoints WHERE session_id = ?1 AND fold = ?2 \
                 AND (sort_ts > ?3 OR (sort_ts = ?3 AND seq > ?4))",
            )
            .and_then(|mut s| s.execute(params![session_id, fold, ts, seq]))
            .map_err(self.store.err("writing fold checkpoints"))?;
        Ok(())
    }

    /// Stores one checkpoint, compressed.
    pub fn put(&self, session_id: &str, fold: &str, c: &FoldCheckpoint) -> Result<()> {
        let mut enc = DeflateEncoder::new(Vec::new(), Compression::fast());
        let packed = enc
            .write_all(&c.data)
            .and_then(|()| enc.finish())
            .map_err(StoreError::Output)?;
        self.store
            .conn
            .prepare_cached(
                "INSERT OR REPLACE INTO fold_checkpoints (session_id, fold, sort_ts, seq, events, data) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            )
            .and_then(|mut s| {
                s.execute(params![
                    session_id,
                    fold,
                    c.sort_ts,
                    c.seq,
                    i64::try_from(c.events).unwrap_or(i64::MAX),
                    packed
                ])
            })
            .map_err(self.store.err("writing fold checkpoints"))?;
        Ok(())
    }

    pub fn commit(mut self) -> Result<()> {
        self.open = false;
        self.store
            .conn
            .execute_batch("COMMIT")
            .map_err(self.store.err("writing fold checkpoints"))
    }
}

impl Drop for CheckpointWrite<'_> {
    fn drop(&mut self) {
        if self.open {
            let _ = self.store.conn.execute_batch("ROLLBACK");
        }
    }
}

/// Deletes the checkpoints that events written in this transaction invalidate: for each
/// session, those at or after the earliest sort position written (`from`: sort_ts). Appends at
/// the end delete nothing. Called by `write.rs` before it commits.
pub(super) fn invalidate(
    tx: &rusqlite::Connection,
    session_id: &str,
    from: i64,
) -> rusqlite::Result<()> {
    tx.prepare_cached("DELETE FROM fold_checkpoints WHERE session_id = ?1 AND sort_ts >= ?2")?
        .execute(params![session_id, from])?;
    Ok(())
}
