//! Checkpoints of the state and findings folds (issue 15): every [`EVERY`] events of a session,
//! and at its end, the [`StateBuilder`] and [`FindingsBuilder`] as they were, stored
//! (`store::FoldCheckpoint`), so a read at a point goes on from the newest checkpoint at or
//! before it instead of from the session's start.
//!
//! Written at the end of `flightrec import` for the sessions it touched ([`update`]); writing an
//! event that sorts before a checkpoint deletes it (the store does that), and a read that finds
//! none folds as before. A checkpoint is what the fold fed every event up to it holds: the
//! lib tests compare the answers both ways at every event of every sample.

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::analysis::checkpoint;
use crate::analysis::findings::FindingsBuilder;
use crate::analysis::spans::SLIM_TYPES;
use crate::analysis::state::StateBuilder;
use crate::store::{FoldCheckpoint, Result, Store, TimelineQuery};

/// Events folded between two checkpoints: a read folds at most this many past its checkpoint
/// (and, before the turn in progress, only the few types that carry across turns).
pub const EVERY: u64 = 2048;

/// A fold's name in the store. It names the build, and so the format of the builder's JSON: a
/// checkpoint another build wrote is never read (import writes them again).
fn fold_name(fold: &str) -> String {
    format!("{fold}@{}", env!("FLIGHTREC_VERSION"))
}

const STATE: &str = "state";
const FINDINGS: &str = "findings";

/// The position of an event in the session's order, as checkpoints are keyed.
pub(super) type Position = (i64, i64);

/// The newest state checkpoint at or before `at`, ready to go on folding; `None` when there is
/// none or it cannot be read (it is only a cache).
pub(super) fn load(
    store: &Store,
    session_id: &str,
    at: Position,
) -> Result<Option<(StateBuilder, Position)>> {
    load_fold(store, session_id, STATE, at)
}

/// [`load`] for the findings fold.
pub(super) fn load_findings(
    store: &Store,
    session_id: &str,
    at: Position,
) -> Result<Option<(FindingsBuilder, Position)>> {
    load_fold(store, session_id, FINDINGS, at)
}

fn load_fold<B: DeserializeOwned>(
    store: &Store,
    session_id: &str,
    fold: &str,
    at: Position,
) -> Result<Option<(B, Position)>> {
    let Some(c) = store.fold_checkpoint(session_id, &fold_name(fold), at)? else {
        return Ok(None);
    };
    Ok(checkpoint::from_json::<B>(&c.data)
        .ok()
        .map(|b| (b, (c.sort_ts, c.seq))))
}

/// Both folds, as a checkpoint holds them.
struct Folds {
    state: StateBuilder,
    findings: FindingsBuilder,
}

/// The newest checkpoint of both folds, at the same event, with how many events they took.
fn newest(store: &Store, session_id: &str) -> Result<Option<(Folds, Position, u64)>> {
    let end = (i64::MAX, i64::MAX);
    let (Some(s), Some(f)) = (
        store.fold_checkpoint(session_id, &fold_name(STATE), end)?,
        store.fold_checkpoint(session_id, &fold_name(FINDINGS), end)?,
    ) else {
        return Ok(None);
    };
    if (s.sort_ts, s.seq) != (f.sort_ts, f.seq) {
        return Ok(None);
    }
    let (Ok(state), Ok(findings)) = (
        checkpoint::from_json(&s.data),
        checkpoint::from_json(&f.data),
    ) else {
        return Ok(None);
    };
    Ok(Some((
        Folds { state, findings },
        (s.sort_ts, s.seq),
        s.events,
    )))
}

/// Brings the session's checkpoints up to date: from the newest (or the session's start),
/// folds every event after it, as `reconstruct` and `findings` feed them, in one scan feeding
/// both folds, keeping a checkpoint every `every` events and one at the last processed event.
/// Holds the write lock throughout, so no event is written meanwhile. Returns how many
/// positions it checkpointed.
pub fn update(store: &Store, session_id: &str, every: u64) -> Result<usize> {
    let every = every.max(1);
    let tx = store.write_fold_checkpoints()?;
    let resumed = newest(store, session_id)?;
    // Checkpoints that cannot be gone on from go, with every one after them.
    for fold in [STATE, FINDINGS] {
        tx.clear_after(session_id, &fold_name(fold), resumed.as_ref().map(|r| r.1))?;
    }
    let (mut b, from, mut n) = match resumed {
        Some((b, from, n)) => (b, Some(from), n),
        None => (
            Folds {
                state: StateBuilder::new(session_id),
                findings: FindingsBuilder::new(),
            },
            None,
            0,
        ),
    };
    let q = TimelineQuery {
        since_ts: from.map(|f| f.0),
        slim_types: SLIM_TYPES.iter().map(|t| t.to_string()).collect(),
        ..TimelineQuery::default()
    };
    let mut out: Vec<(FoldCheckpoint, FoldCheckpoint)> = Vec::new();
    let mut last: Option<(Position, u64)> = None;
    let mut failed = None;
    store.scan_events(session_id, &q, |ev| {
        // Queued events sort last and are never a checkpoint's.
        let Some(ts) = ev.ts else { return false };
        let pos = (ts, ev.seq);
        if from.is_some_and(|f| pos <= f) {
            return true;
        }
        b.state.push(&ev);
        b.findings.push(&ev);
        n += 1;
        last = Some((pos, n));
        if n % every == 0 {
            match snapshot(&mut b, pos, n) {
                Ok(c) => out.push(c),
                Err(e) => failed = Some(e),
            }
        }
        failed.is_none()
    })?;
    if let Some((pos, n)) =
        last.filter(|l| out.last().is_none_or(|c| (c.0.sort_ts, c.0.seq) != l.0))
    {
        match snapshot(&mut b, pos, n) {
            Ok(c) => out.push(c),
            Err(e) => failed = Some(e),
        }
    }
    if failed.is_some() {
        // Cannot happen (the builder is plain data); a cache writes nothing rather than fail.
        return Ok(0);
    }
    for (state, findings) in &out {
        tx.put(session_id, &fold_name(STATE), state)?;
        tx.put(session_id, &fold_name(FINDINGS), findings)?;
    }
    tx.commit()?;
    Ok(out.len())
}

fn snapshot(
    b: &mut Folds,
    pos: Position,
    n: u64,
) -> serde_json::Result<(FoldCheckpoint, FoldCheckpoint)> {
    b.state.compact();
    let at = |data: Vec<u8>| FoldCheckpoint {
        sort_ts: pos.0,
        seq: pos.1,
        events: n,
        data,
    };
    Ok((at(json(&b.state)?), at(json(&b.findings)?)))
}

fn json<T: Serialize>(v: &T) -> serde_json::Result<Vec<u8>> {
    checkpoint::to_json(v)
}
