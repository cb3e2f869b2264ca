//! What `diff` reads of a session without holding its events: its steps' signatures from one
//! scan, handed on in chunks as they are made, then, once the two sides are aligned, only the
//! events the comparison shows.

use std::collections::{BTreeMap, BTreeSet};

use crate::analysis::diff::{SharedKinds, Sig, Signer, Sigs};
use crate::store::{EventRow, Result, Store, TimelineQuery};

/// Signatures handed on at a time.
pub const CHUNK: usize = 4096;

/// Signs a session's steps, numbering their kinds in `kinds`, and hands them to `send` in
/// session order, in chunks of up to [`CHUNK`]; stops reading when `send` says `false`.
/// Gives how many events were read.
pub fn sign_steps(
    store: &Store,
    session_id: &str,
    kinds: &SharedKinds,
    send: impl FnMut(Vec<Sig>) -> bool + Send,
) -> Result<u64> {
    store.require_session(session_id)?;
    let (signer, mut send, open) = store.scan_events_pipelined(
        session_id,
        &TimelineQuery::default(),
        (Signer::sharing(kinds), send, true),
        |(s, send, open), ev| {
            if !*open {
                return;
            }
            s.push(ev);
            if s.pending() >= CHUNK {
                *open = send(s.take_steps());
            }
        },
    )?;
    let events = signer.events() as u64;
    let rest = signer.finish().steps;
    if open && !rest.is_empty() {
        send(rest);
    }
    Ok(events)
}

/// A session's steps as signatures, all in memory, and how many events it has.
pub fn step_signatures(store: &Store, session_id: &str) -> Result<(u64, Sigs)> {
    let kinds = SharedKinds::default();
    let mut steps = Vec::new();
    let events = sign_steps(store, session_id, &kinds, |chunk| {
        steps.extend(chunk);
        true
    })?;
    Ok((
        events,
        Sigs {
            steps,
            kinds: kinds.names(),
        },
    ))
}

/// The events at `wanted` (indices among the session's events): a second scan that stops
/// after the last one.
pub fn shown_events(
    store: &Store,
    session_id: &str,
    wanted: &BTreeSet<usize>,
) -> Result<BTreeMap<usize, EventRow>> {
    let Some(&last) = wanted.last() else {
        return Ok(BTreeMap::new());
    };
    let mut found = BTreeMap::new();
    let mut index = 0;
    store.scan_events(session_id, &TimelineQuery::default(), |e| {
        if wanted.contains(&index) {
            found.insert(index, e.to_row());
        }
        index += 1;
        index <= last
    })?;
    Ok(found)
}
