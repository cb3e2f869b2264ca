//! Checkpoints of the state fold (issue 15): every [`EVERY`] events of a session, and at its
//! end, the [`StateBuilder`] as it was, stored (`store::FoldCheckpoint`), so a read at a point
//! goes on from the newest checkpoint at or before it instead of from the session's start.
//!
//! Written at the end of `flightrec import` for the sessions it touched ([`update`]); writing an
//! event that sorts before a checkpoint deletes it (the store does that), and a read that finds
//! none folds as before. A checkpoint is what the fold fed every event up to it holds: the
//! lib tests compare the answers both ways at every event of every sample.

use crate::analysis::checkpoint;
use crate::analysis::spans::SLIM_TYPES;
use crate::analysis::state::StateBuilder;
use crate::store::{FoldCheckpoint, Result, Store, TimelineQuery};

/// Events folded between two checkpoints: a read folds at most this many past its checkpoint
/// (and, before the turn in progress, only the few types that carry across turns).
pub const EVERY: u64 = 2048;

/// The fold's name in the store. It names the build, and the format of the builder's JSON: a
/// checkpoint another build wrote is never read (import writes them again).
fn fold_name() -> String {
    format!("state@{}", env!("FLIGHTREC_VERSION"))
}

/// The position of an event in the session's order, as checkpoints are keyed.
pub(super) type Position = (i64, i64);

/// The newest state checkpoint at or before `at`, ready to go on folding; `None` when there is
/// none or it cannot be read (it is only a cache).
pub(super) fn load(
    store: &Store,
    session_id: &str,
    at: Position,
) -> Result<Option<(StateBuilder, Position)>> {
    let Some(c) = store.fold_checkpoint(session_id, &fold_name(), at)? else {
        return Ok(None);
    };
    Ok(checkpoint::from_json::<StateBuilder>(&c.data)
        .ok()
        .map(|b| (b, (c.sort_ts, c.seq))))
}

/// Brings the session's state checkpoints up to date: from the newest one (or the session's
/// start), folds every event after it, as `reconstruct` feeds them, keeping a checkpoint every
/// `every` events and one at the last processed event. Holds the write lock throughout, so no
/// event is written meanwhile. Returns how many it wrote.
pub fn update(store: &Store, session_id: &str, every: u64) -> Result<usize> {
    let every = every.max(1);
    let name = fold_name();
    let tx = store.write_fold_checkpoints()?;
    let newest = store.fold_checkpoint(session_id, &name, (i64::MAX, i64::MAX))?;
    let resumed = newest.as_ref().and_then(|c| {
        checkpoint::from_json::<StateBuilder>(&c.data)
            .ok()
            .map(|b| (b, (c.sort_ts, c.seq), c.events))
    });
    // A checkpoint that cannot be read goes, with every one after it.
    tx.clear_after(session_id, &name, resumed.as_ref().map(|r| r.1))?;
    let (mut b, from, mut n) = match resumed {
        Some((b, from, n)) => (b, Some(from), n),
        None => (StateBuilder::new(session_id), None, 0),
    };
    let q = TimelineQuery {
        since_ts: from.map(|f| f.0),
        slim_types: SLIM_TYPES.iter().map(|t| t.to_string()).collect(),
        ..TimelineQuery::default()
    };
    let mut out: Vec<FoldCheckpoint> = Vec::new();
    let mut last: Option<(Position, u64)> = None;
    let mut failed = None;
    store.scan_events(session_id, &q, |ev| {
        // Queued events sort last and are never a checkpoint's.
        let Some(ts) = ev.ts else { return false };
        let pos = (ts, ev.seq);
        if from.is_some_and(|f| pos <= f) {
            return true;
        }
        b.push(&ev);
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
    if let Some((pos, n)) = last.filter(|l| out.last().is_none_or(|c| (c.sort_ts, c.seq) != l.0)) {
        match snapshot(&mut b, pos, n) {
            Ok(c) => out.push(c),
            Err(e) => failed = Some(e),
        }
    }
    if failed.is_some() {
        // Cannot happen (the builder is plain data); a cache writes nothing rather than fail.
        return Ok(0);
    }
    for c in &out {
        tx.put(session_id, &name, c)?;
    }
    tx.commit()?;
    Ok(out.len())
}

fn snapshot(b: &mut StateBuilder, pos: Position, n: u64) -> serde_json::Result<FoldCheckpoint> {
    b.compact();
    Ok(FoldCheckpoint {
        sort_ts: pos.0,
        seq: pos.1,
        events: n,
        data: checkpoint::to_json(b)?,
    })
}
