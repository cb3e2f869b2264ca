//! What `diff` reads of a session without holding its events: its steps' signatures from one
//! scan, then, once the two sides are aligned, only the events the comparison shows.

use std::collections::{BTreeMap, BTreeSet};

use crate::analysis::diff::{Signer, Sigs};
use crate::store::{EventRow, Result, Store, TimelineQuery};

/// A session's steps as signatures, and how many events it has.
pub fn step_signatures(store: &Store, session_id: &str) -> Result<(u64, Sigs)> {
    // A hint only (at most 16M events' room: a larger session grows past it).
    let events = store.require_session(session_id)?.event_count.min(1 << 24);
    let signer = store.scan_events_pipelined(
        session_id,
        &TimelineQuery::default(),
        Signer::with_capacity(usize::try_from(events).unwrap_or(0)),
        |s, ev| s.push(ev),
    )?;
    Ok((signer.events() as u64, signer.finish()))
}

/// The events of `steps` (positions in `sigs`), by their index among the session's events: a
/// second scan that stops after the last one.
pub fn shown_events(
    store: &Store,
    session_id: &str,
    sigs: &Sigs,
    steps: &BTreeSet<usize>,
) -> Result<BTreeMap<usize, EventRow>> {
    let wanted: BTreeSet<usize> = steps
        .iter()
        .filter_map(|&i| Some(sigs.get(i)?.index as usize))
        .collect();
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
