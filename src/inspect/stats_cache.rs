//! One session's statistics (`flightrec stats SESSION`) from the session cache (`store/cache.rs`):
//! the [`Accumulator`] of the whole recording, kept under this build's kind [`kind`] (serialized
//! by `Accumulator::to_cache`, floats as their bits), with the model requests of `--requests`
//! from the requests entry (`requests.rs`). Read only while the session's write count is the
//! one both entries were kept with; otherwise folded from the events ([`session_stats`]).
//!
//! `flightrec import` and `record` fill both entries at their end ([`fill`], from one fold);
//! reading commands open the database read-only and never write them.

use super::requests;
use super::session_stats;
use crate::analysis::stats::Accumulator;
use crate::store::{CacheEntry, Result, SessionSummary, Store};

/// The cache kind of a session's accumulator: this build's (another's is never read).
pub fn kind() -> String {
    super::checkpoints::fold_name("stats")
}

/// The session's statistics, with every model request listed when `requests`: from the cache
/// when it holds them for the session as it is, else folded from its events.
pub fn session_stats_cached(
    store: &Store,
    summary: &SessionSummary,
    requests: bool,
) -> Result<Accumulator> {
    match cached(store, summary, requests)? {
        Some(acc) => Ok(acc),
        None => session_stats(store, summary, requests),
    }
}

/// The cached accumulator, `None` on any miss (no entry, one that does not read, or the
/// requests' entry kept at another write count than the accumulator's).
pub(super) fn cached(
    store: &Store,
    summary: &SessionSummary,
    requests: bool,
) -> Result<Option<Accumulator>> {
    let Some(c) = store.session_cached(&kind(), &summary.id)? else {
        return Ok(None);
    };
    let Some(acc) = c
        .body
        .as_deref()
        .and_then(|b| Accumulator::from_cache(b.as_bytes()))
    else {
        return Ok(None);
    };
    if !requests {
        return Ok(Some(acc));
    }
    let Some(r) = store.session_cached(&requests::kind(), &summary.id)? else {
        return Ok(None);
    };
    if r.version != c.version {
        return Ok(None);
    }
    Ok(requests::parse(r.body.as_deref(), &summary.id).map(|rows| acc.with_requests(rows)))
}

/// Keeps each session's accumulator and requests in the cache (those it lacks), from one fold
/// per session. Returns how many entries were kept; a session written meanwhile keeps none.
pub fn fill(store: &Store, sessions: &[SessionSummary]) -> Result<usize> {
    let (stats_kind, requests_kind) = (kind(), requests::kind());
    let (mut stats, mut requests) = (Vec::new(), Vec::new());
    for s in sessions {
        let Some(c) = store.session_cached(&stats_kind, &s.id)? else {
            continue;
        };
        let r = store.session_cached(&requests_kind, &s.id)?;
        let have_requests = r.is_some_and(|r| r.version == c.version && r.body.is_some());
        if c.body.is_some() && have_requests {
            continue;
        }
        let acc = session_stats(store, s, true)?;
        let rows = acc.report().requests.unwrap_or_default();
        requests.extend(requests::entry(&s.id, c.version, &rows));
        let Ok(body) = acc.to_cache().map(String::from_utf8) else {
            continue;
        };
        stats.extend(body.ok().map(|body| CacheEntry {
            session_id: s.id.clone(),
            version: c.version,
            body,
        }));
    }
    Ok(store.put_session_cache(&stats_kind, &stats)?
        + store.put_session_cache(&requests_kind, &requests)?)
}
