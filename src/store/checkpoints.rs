//! Checkpoints of the folds over a session (migration 0010, `fold_checkpoints`): the bytes a
//! fold serialized after the session's events up to one (see `inspect::checkpoints`), kept
//! compressed. The store owns the table and the compression; what the bytes mean is the fold's.
//!
//! A cache, never the truth: writing an event that sorts at or before a checkpoint deletes it
//! (`write.rs`), and a database of an older schema, or one opened read-only, simply has none.
//!
//! A fold's state grows with the session (the findings keep every turn's end), so checkpoints
//! every K events, each compressed alone, grew with the square of the session (10.5 MB for
//! 300,000 events, ~100 MB for a million). Each is now stored as a *key* (one zstd frame) or a
//! *delta*: a zstd frame made with an earlier key of the same fold as its dictionary, which holds
//! nearly all of it (see [`Packed`]). A delta's key is always earlier, so deleting the
//! checkpoints from a point on never orphans one; reading one decompresses at most two frames.

use std::cell::RefCell;
use std::collections::HashMap;

use rusqlite::{OptionalExtension, params};

use super::{Result, Store, StoreError};

/// A delta is made against the newest key until it grows past this share of the key's size (or
/// [`MAX_DELTAS`] were made): then the checkpoint is a new key.
const DELTA_SHARE: usize = 4;
const MAX_DELTAS: u32 = 64;
const LEVEL: i32 = 3;
/// Deltas against a key of [`LARGE_KEY`] bytes or more need level 6's larger match tables: at
/// level 3 such a key (the findings of a session past ~600,000 events) overflows them, and a
/// delta came out 60 times larger than with level 6 (68 KB against 1 KB, measured), so every
/// checkpoint became a key. Against smaller keys level 3 makes deltas 10 % larger in half the
/// time (the 300,000-event synthetic session: 2.1 MB of checkpoints against 1.9 MB, packed in
/// 0.08 s against 0.16 s).
const DELTA_LEVEL: i32 = 3;
const LARGE_DELTA_LEVEL: i32 = 6;
/// Level 3 deltas stay small against keys up to ~950 KB (measured: 2.9 KB against 950 KB,
/// 18 KB against 1,088 KB); this leaves a margin.
const LARGE_KEY: usize = 768 << 10;
/// Large enough that a delta reaches the start of its key (the fold's JSON, tens of MB at most).
const WINDOW_LOG: u32 = 27;
/// A checkpoint's bytes decompress to at most this (a damaged size reads as no checkpoint).
const MAX_DATA: u64 = 1 << 30;

/// A checkpoint's bytes as stored in `data`: a tag byte, then for a key one zstd frame; for a
/// delta the key's position (sort_ts, seq: 8 bytes each, little-endian) and one zstd frame made
/// with the key's bytes as a raw-content dictionary.
enum Packed<'a> {
    Key(&'a [u8]),
    Delta((i64, i64), &'a [u8]),
}

const KEY: u8 = 1;
const DELTA: u8 = 2;

impl<'a> Packed<'a> {
    fn parse(b: &'a [u8]) -> Option<Self> {
        match b.split_first()? {
            (&KEY, frame) => Some(Packed::Key(frame)),
            (&DELTA, rest) if rest.len() > 16 => {
                let ts = i64::from_le_bytes(rest[..8].try_into().ok()?);
                let seq = i64::from_le_bytes(rest[8..16].try_into().ok()?);
                Some(Packed::Delta((ts, seq), &rest[16..]))
            }
            _ => None,
        }
    }
}

/// One frame back, with `dict` as its dictionary when given; `None` when it cannot be read.
fn unpack_frame(frame: &[u8], dict: Option<&[u8]>) -> Option<Vec<u8>> {
    let size = zstd::zstd_safe::get_frame_content_size(frame).ok()??;
    if size > MAX_DATA {
        return None;
    }
    let mut d = match dict {
        Some(dict) => zstd::bulk::Decompressor::with_dictionary(dict).ok()?,
        None => zstd::bulk::Decompressor::new().ok()?,
    };
    d.set_parameter(zstd::zstd_safe::DParameter::WindowLogMax(WINDOW_LOG))
        .ok()?;
    d.decompress(frame, usize::try_from(size).ok()?).ok()
}

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
        // A cache: a damaged entry (or a delta whose key is gone) is as good as none.
        let data = match Packed::parse(&packed) {
            Some(Packed::Key(frame)) => unpack_frame(frame, None),
            Some(Packed::Delta(base, frame)) => self
                .checkpoint_key(session_id, fold, base)?
                .and_then(|key| unpack_frame(frame, Some(&key))),
            None => None,
        };
        let Some(data) = data else {
            return Ok(None);
        };
        Ok(Some(FoldCheckpoint {
            sort_ts,
            seq,
            events: u64::try_from(events).unwrap_or(0),
            data,
        }))
    }

    /// The bytes of the key checkpoint of `fold` at `at` exactly, if it is stored and is a key.
    fn checkpoint_key(
        &self,
        session_id: &str,
        fold: &str,
        at: (i64, i64),
    ) -> Result<Option<Vec<u8>>> {
        let packed: Option<Vec<u8>> = self
            .conn
            .prepare_cached(
                "SELECT data FROM fold_checkpoints \
                 WHERE session_id = ?1 AND fold = ?2 AND sort_ts = ?3 AND seq = ?4",
            )
            .and_then(|mut s| {
                s.query_row(params![session_id, fold, at.0, at.1], |r| r.get(0))
                    .optional()
            })
            .map_err(self.err("reading a fold checkpoint"))?;
        Ok(match packed.as_deref().and_then(Packed::parse) {
            Some(Packed::Key(frame)) => unpack_frame(frame, None),
            _ => None,
        })
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
            packers: RefCell::new(HashMap::new()),
        })
    }
}

/// A session's stored events, such that any write to them changes it: how many there are, the
/// newest seq (seqs are never handed out twice), and how many replaced copies they keep (a
/// replacement keeps its seq and adds one).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RowsMark {
    pub events: u64,
    pub last_seq: i64,
    pub revisions: u64,
}

/// What a connection can tell cheaply of the writes to its database since a point: the
/// database's `data_version` then (which changes when another connection commits) and this
/// connection's count of changed rows since (which its own writes raise). Equal later, nothing
/// was written since but by this connection before the count was taken.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WriteMark {
    data_version: i64,
    changes: u64,
}

impl Store {
    /// The mark of the writes since `data_version` ([`super::WriteBatch::data_version`]) was
    /// read on this connection, counting this connection's writes up to now.
    pub fn write_mark_since(&self, data_version: i64) -> WriteMark {
        WriteMark {
            data_version,
            changes: self.conn.total_changes(),
        }
    }
}

impl super::WriteBatch<'_> {
    /// The database's `data_version` as this transaction sees it (see [`WriteMark`]).
    pub fn data_version(&self) -> Result<i64> {
        super::follow::data_version(self.tx).map_err(self.wrap("reading the database's version"))
    }
}

/// An open transaction writing checkpoints (see [`Store::write_fold_checkpoints`]); dropped
/// uncommitted, it writes nothing.
pub struct CheckpointWrite<'s> {
    store: &'s Store,
    open: bool,
    /// Per session, what [`CheckpointWrite::put`] packs with.
    packers: RefCell<HashMap<String, Packer>>,
}

/// Packs one session's checkpoints for storing ([`CheckpointWrite::put_packed`]), each fold's
/// in order: a delta against the newest key it packed of the same fold while that stays small,
/// else a new key. It holds no connection, so the packing (zstd, the costly part) can be done
/// on the thread that folds while another reads.
#[derive(Default)]
pub struct Packer {
    /// Per fold, the newest key packed, which deltas are made against.
    keys: HashMap<String, Key>,
}

/// A checkpoint packed for storing.
pub struct PackedCheckpoint {
    pub sort_ts: i64,
    pub seq: i64,
    pub events: u64,
    data: Vec<u8>,
}

/// A key checkpoint written in this transaction, ready to make deltas against.
struct Key {
    at: (i64, i64),
    packed_len: usize,
    deltas: u32,
    compressor: zstd::bulk::Compressor<'static>,
}

fn compressor(dict: Option<&[u8]>) -> std::io::Result<zstd::bulk::Compressor<'static>> {
    let mut c = match dict {
        Some(d) if d.len() >= LARGE_KEY => {
            zstd::bulk::Compressor::with_dictionary(LARGE_DELTA_LEVEL, d)?
        }
        Some(d) => zstd::bulk::Compressor::with_dictionary(DELTA_LEVEL, d)?,
        None => zstd::bulk::Compressor::new(LEVEL)?,
    };
    c.set_parameter(zstd::zstd_safe::CParameter::WindowLog(WINDOW_LOG))?;
    Ok(c)
}

impl CheckpointWrite<'_> {
    /// Whether nothing was written to the database since `mark` was taken (checked under the
    /// write lock, so nothing is until this transaction ends).
    pub fn unchanged_since(&self, mark: WriteMark) -> Result<bool> {
        let now = self.store.data_version()?;
        Ok(now == mark.data_version && self.store.conn.total_changes() == mark.changes)
    }

    /// The session's stored events as any write to them changes it (see [`RowsMark`]).
    pub fn rows_mark(&self, session_id: &str) -> Result<RowsMark> {
        let (events, last_seq, revisions): (i64, i64, i64) = self
            .store
            .conn
            .prepare_cached(
                "WITH k AS (SELECT key FROM session_keys WHERE session_id = ?1) \
                 SELECT count(*), coalesce(max(seq), 0), (SELECT count(*) FROM event_revisions r \
                 JOIN event_rows e ON e.seq = r.event_seq WHERE e.sess = (SELECT key FROM k)) \
                 FROM event_rows WHERE sess = (SELECT key FROM k)",
            )
            .and_then(|mut s| s.query_row([session_id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?))))
            .map_err(self.store.err("reading a session's events"))?;
        Ok(RowsMark {
            events: u64::try_from(events).unwrap_or(0),
            last_seq,
            revisions: u64::try_from(revisions).unwrap_or(0),
        })
    }

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

    /// Stores one checkpoint, packed (see [`Packer`]). Checkpoints of one session and fold
    /// must be put in order.
    pub fn put(&self, session_id: &str, fold: &str, c: &FoldCheckpoint) -> Result<()> {
        let packed = self
            .packers
            .borrow_mut()
            .entry(session_id.to_string())
            .or_default()
            .pack(fold, c)
            .map_err(StoreError::Output)?;
        self.put_packed(session_id, fold, &packed)
    }

    /// Stores one checkpoint a [`Packer`] packed for this session and fold.
    pub fn put_packed(&self, session_id: &str, fold: &str, c: &PackedCheckpoint) -> Result<()> {
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
                    c.data
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

impl Packer {
    pub fn new() -> Packer {
        Packer::default()
    }

    /// `c` of `fold` packed: a delta while it stays under a share of its key, else a key.
    pub fn pack(&mut self, fold: &str, c: &FoldCheckpoint) -> std::io::Result<PackedCheckpoint> {
        let packed = |data: Vec<u8>| PackedCheckpoint {
            sort_ts: c.sort_ts,
            seq: c.seq,
            events: c.events,
            data,
        };
        if let Some(key) = self.keys.get_mut(fold)
            && key.deltas < MAX_DELTAS
        {
            let frame = key.compressor.compress(&c.data)?;
            if frame.len() * DELTA_SHARE <= key.packed_len {
                key.deltas += 1;
                let mut out = Vec::with_capacity(17 + frame.len());
                out.push(DELTA);
                out.extend_from_slice(&key.at.0.to_le_bytes());
                out.extend_from_slice(&key.at.1.to_le_bytes());
                out.extend_from_slice(&frame);
                return Ok(packed(out));
            }
        }
        let frame = compressor(None)?.compress(&c.data)?;
        self.keys.insert(
            fold.to_string(),
            Key {
                at: (c.sort_ts, c.seq),
                packed_len: frame.len(),
                deltas: 0,
                compressor: compressor(Some(&c.data))?,
            },
        );
        let mut out = Vec::with_capacity(1 + frame.len());
        out.push(KEY);
        out.extend_from_slice(&frame);
        Ok(packed(out))
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

#[cfg(test)]
mod tests {
    // Test code: a failed unwrap is a failed test.
    #![allow(clippy::unwrap_used)]

    use super::*;

    /// A fold state that grows as a session's does: every checkpoint repeats the one before.
    fn state(n: usize) -> Vec<u8> {
        let ends: Vec<String> = (0..n * 40)
            .map(|i| (1_786_093_200_000_000_i64 + i as i64 * 7_919_993).to_string())
            .collect();
        format!(r#"{{"turn_no":{n},"turn_ends":[{}]}}"#, ends.join(",")).into_bytes()
    }

    fn at(i: usize) -> (i64, i64) {
        (1000 + i as i64, i as i64)
    }

    /// A store holding `states` as checkpoints of one fold, the i-th at `at(i)`.
    fn stored(states: &[Vec<u8>]) -> (tempfile::TempDir, Store) {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("c.db")).unwrap();
        let w = store.write_fold_checkpoints().unwrap();
        for (i, data) in states.iter().enumerate() {
            let c = FoldCheckpoint {
                sort_ts: at(i).0,
                seq: at(i).1,
                events: i as u64,
                data: data.clone(),
            };
            w.put("sesn_1", "f", &c).unwrap();
        }
        w.commit().unwrap();
        (dir, store)
    }

    #[test]
    fn deltas_read_back_exactly_cost_a_fraction_and_never_outlive_their_key() {
        let states: Vec<Vec<u8>> = (0..60).map(|i| state(i + 1)).collect();
        let alone: usize = states
            .iter()
            .map(|d| 1 + zstd::bulk::compress(d, LEVEL).unwrap().len())
            .sum();
        let (_dir, store) = stored(&states);
        for i in 0..60 {
            let c = store
                .fold_checkpoint("sesn_1", "f", at(i))
                .unwrap()
                .unwrap();
            assert_eq!((c.sort_ts, c.seq, c.data), (at(i).0, at(i).1, state(i + 1)));
        }
        let stored = store.fold_checkpoint_bytes("sesn_1").unwrap() as usize;
        assert!(stored * 3 < alone, "{stored} bytes stored, {alone} alone");
        let kinds: Vec<u8> = store
            .conn
            .prepare("SELECT substr(data, 1, 1) FROM fold_checkpoints ORDER BY seq")
            .unwrap()
            .query_map([], |r| r.get::<_, Vec<u8>>(0))
            .unwrap()
            .map(|b| b.unwrap()[0])
            .collect();
        assert_eq!(kinds[0], KEY);
        assert!(
            kinds.iter().filter(|k| **k == DELTA).count() > 40,
            "{kinds:?}"
        );
        // Deleting from a key on leaves the earlier checkpoints readable.
        let second_key = kinds.iter().skip(1).position(|k| *k == KEY).unwrap() + 1;
        invalidate(&store.conn, "sesn_1", at(second_key).0).unwrap();
        let c = store
            .fold_checkpoint("sesn_1", "f", at(59))
            .unwrap()
            .unwrap();
        assert_eq!(c.data, state(second_key));
        // A delta whose key is gone (not something the store does) reads as no checkpoint.
        store
            .conn
            .execute("DELETE FROM fold_checkpoints WHERE seq = 0", [])
            .unwrap();
        assert_eq!(store.fold_checkpoint("sesn_1", "f", at(3)).unwrap(), None);
    }

    /// The findings of a session past ~600,000 events are over a megabyte: at level 3 the
    /// deltas against such a key came out 60 times larger, past the share, so every checkpoint
    /// became a key (61 MB of them at a million events).
    #[test]
    fn deltas_stay_small_against_a_key_of_megabytes() {
        let states: Vec<Vec<u8>> = (0..3).map(|i| state(2200 + i * 10)).collect();
        assert!(states.iter().all(|d| d.len() > 1_400_000));
        let (_dir, store) = stored(&states);
        let rows: Vec<(u8, i64)> = store
            .conn
            .prepare("SELECT data, length(data) FROM fold_checkpoints ORDER BY seq")
            .unwrap()
            .query_map([], |r| Ok((r.get::<_, Vec<u8>>(0)?[0], r.get(1)?)))
            .unwrap()
            .map(|r| r.unwrap())
            .collect();
        assert_eq!(
            rows.iter().map(|r| r.0).collect::<Vec<_>>(),
            [KEY, DELTA, DELTA]
        );
        assert!(rows[2].1 * 20 < rows[0].1, "{rows:?}");
        let c = store
            .fold_checkpoint("sesn_1", "f", at(2))
            .unwrap()
            .unwrap();
        assert_eq!(c.data, state(2220));
    }
}
