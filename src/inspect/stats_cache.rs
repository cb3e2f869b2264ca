//! One session's statistics (`flightrec stats SESSION`) from the session's kept results
//! (`store/cache.rs`, `session_results`): its report ([`Stats`], kind `stats-report@BUILD`, a
//! size that does not grow with the session, for `stats SESSION`) and the [`Accumulator`] of the
//! whole recording (kind [`kind`], for `stats` over many sessions, which merges them: it holds
//! every tool call's latency), both serialized with floats as their bits; the model requests of
//! `--requests` come from the requests cache entry (`requests.rs`). Read only while the
//! session's write count is the one they were kept with; otherwise folded from the events
//! ([`session_stats`]).
//!
//! `flightrec import` and `record` fill both entries at their end ([`fill`], from one fold);
//! reading commands open the database read-only and never write them.

use super::requests;
use super::{session_stats, session_stats_and_calls};
use crate::analysis::stats::{Accumulator, RequestRow, Stats};
use crate::store::{CacheEntry, PackedEntry, Result, SessionSummary, Store};
use std::collections::HashMap;

/// The cache kind of a session's accumulator: this build's (another's is never read).
pub fn kind() -> String {
    super::checkpoints::fold_name("stats")
}

fn report_kind() -> String {
    super::checkpoints::fold_name("stats-report")
}

/// The report of [`session_stats_cached`]: from the kept report when there is one for the
/// session as it is (whatever the session's size, it reads a few KiB).
pub fn session_report(store: &Store, summary: &SessionSummary, requests: bool) -> Result<Stats> {
    match cached_report(store, summary, requests)? {
        Some(report) => Ok(report),
        None => Ok(session_stats_cached(store, summary, requests)?.report()),
    }
}

/// The kept report, `None` on any miss (as [`cached`]).
pub(super) fn cached_report(
    store: &Store,
    summary: &SessionSummary,
    requests: bool,
) -> Result<Option<Stats>> {
    let Some(c) = store.session_result(&report_kind(), &summary.id)? else {
        return Ok(None);
    };
    let Some(mut report) = c
        .body
        .as_deref()
        .and_then(|b| Stats::from_cache(b.as_bytes()))
    else {
        return Ok(None);
    };
    if requests {
        let Some(rows) = cached_requests(store, summary, c.version)? else {
            return Ok(None);
        };
        report.requests = Some(rows);
    }
    Ok(Some(report))
}

/// The session's cached requests when they were kept at write count `version`.
fn cached_requests(
    store: &Store,
    summary: &SessionSummary,
    version: i64,
) -> Result<Option<Vec<RequestRow>>> {
    let Some(r) = store.session_cached(&requests::kind(), &summary.id)? else {
        return Ok(None);
    };
    if r.version != version {
        return Ok(None);
    }
    Ok(requests::parse(r.body.as_deref(), &summary.id))
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
    let Some(c) = store.session_result(&kind(), &summary.id)? else {
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
    Ok(cached_requests(store, summary, c.version)?.map(|rows| acc.with_requests(rows)))
}

/// Keeps each session's accumulator, report and requests (those it lacks), from one fold per
/// session. Returns how many entries were kept; a session written meanwhile keeps none.
pub fn fill(store: &Store, sessions: &[SessionSummary]) -> Result<usize> {
    Ok(fill_with_calls(store, sessions)?.0)
}

/// Sessions' completed tool calls, by session id, each with the session's write count before
/// they were read (see `rule_cache::fill_with`).
pub type SessionCalls = HashMap<String, (i64, Vec<(String, i64)>)>;

/// [`fill`], and the tool calls of the sessions it folded, read in the same scan: what the
/// rules' facts are made of (`rule_cache::fill_with`).
pub fn fill_with_calls(
    store: &Store,
    sessions: &[SessionSummary],
) -> Result<(usize, SessionCalls)> {
    let mut calls = SessionCalls::new();
    let mut entries = Entries::default();
    for s in sessions {
        let Some(version) = wanted(store, s)? else {
            continue;
        };
        let (acc, tool_calls) = session_stats_and_calls(store, s, true)?;
        calls.insert(s.id.clone(), (version, tool_calls));
        entries.add(&s.id, version, acc);
    }
    Ok((entries.keep(store)?, calls))
}

/// The session's write count when it lacks any of its entries (its accumulator, report or
/// requests at that count); `None` when it has them all (or has no rollup yet).
pub fn wanted(store: &Store, s: &SessionSummary) -> Result<Option<i64>> {
    let Some(c) = store.session_result(&kind(), &s.id)? else {
        return Ok(None);
    };
    let have_report = store
        .session_result(&report_kind(), &s.id)?
        .is_some_and(|r| r.version == c.version && r.body.is_some());
    let have_requests = store
        .session_cached(&requests::kind(), &s.id)?
        .is_some_and(|r| r.version == c.version && r.body.is_some());
    Ok((c.body.is_none() || !have_report || !have_requests).then_some(c.version))
}

/// Sessions' entries, made as each session is folded (with its requests), kept together.
#[derive(Default)]
pub struct Entries {
    stats: Vec<CacheEntry>,
    reports: Vec<CacheEntry>,
    requests: Vec<CacheEntry>,
    /// Requests entries packed ahead of the write ([`Entries::pack_requests`]).
    packed_requests: Vec<PackedEntry>,
}

impl Entries {
    /// The entries of session `id` folded at write count `version`.
    pub fn add(&mut self, id: &str, version: i64, mut acc: Accumulator) {
        // Taken out first: the report would copy them, and the cached report leaves them out.
        let rows = acc.take_requests().unwrap_or_default();
        let report = acc.report();
        self.requests.extend(requests::entry(id, version, &rows));
        let entry = |bytes: serde_json::Result<Vec<u8>>| {
            Some(CacheEntry {
                session_id: id.to_string(),
                version,
                body: String::from_utf8(bytes.ok()?).ok()?,
            })
        };
        self.stats.extend(entry(acc.to_cache()));
        self.reports.extend(entry(report.to_cache()));
        free_apart(rows, acc);
    }

    /// Gives every entry write count `version`.
    pub fn set_version(&mut self, version: i64) {
        for e in (self.stats.iter_mut())
            .chain(self.reports.iter_mut())
            .chain(self.requests.iter_mut())
        {
            e.version = version;
        }
        for e in &mut self.packed_requests {
            e.version = version;
        }
    }

    /// Packs the requests entries (the large ones) now, as [`Entries::keep`] would.
    pub fn pack_requests(&mut self) {
        let packed = std::mem::take(&mut self.requests);
        self.packed_requests
            .extend(packed.iter().map(CacheEntry::packed));
    }

    /// Takes `other`'s entries too.
    pub fn merge(&mut self, other: Entries) {
        self.stats.extend(other.stats);
        self.reports.extend(other.reports);
        self.requests.extend(other.requests);
        self.packed_requests.extend(other.packed_requests);
    }

    /// Keeps them (those whose session was not written since); returns how many were kept.
    pub fn keep(mut self, store: &Store) -> Result<usize> {
        self.pack_requests();
        Ok(store.put_session_results(&kind(), &self.stats)?
            + store.put_session_results(&report_kind(), &self.reports)?
            + store.put_packed_session_cache(&requests::kind(), &self.packed_requests)?)
    }
}

/// Requests past which a session's statistics are freed on a thread of their own: freeing the
/// 53,752 requests of the 300k-event session took 15–20 ms, at the end of an import, while the
/// writer waited for the statistics.
const FREE_APART: usize = 10_000;

/// Frees a session's folded statistics, apart when they are large (here if no thread starts).
fn free_apart(rows: Vec<RequestRow>, acc: Accumulator) {
    if rows.len() < FREE_APART {
        return;
    }
    let _ = std::thread::Builder::new()
        .name("flightrec-free".into())
        .spawn(move || drop((rows, acc)));
}

#[cfg(test)]
mod tests {
    // Test code: a failed unwrap is a failed test.
    #![allow(clippy::unwrap_used)]

    use super::*;
    use crate::record::{ImportOptions, import_file, import_reader};
    use std::path::PathBuf;

    fn import(store: &mut Store, files: &[PathBuf]) {
        for f in files {
            import_file(store, f, &ImportOptions::default(), &mut |_, _| {}).unwrap();
        }
    }

    /// The report as `stats --json` prints it.
    fn json(acc: &Accumulator) -> String {
        serde_json::to_string_pretty(&acc.report()).unwrap()
    }

    /// Every session's statistics read through the cache equal the fold, field for field
    /// (floats to the bit) and in the printed JSON, with and without the requests; returns how
    /// many sessions were answered from the cache.
    fn assert_cache_equals_fold(store: &Store) -> usize {
        let mut hits = 0;
        let (mut all_cached, mut all_folded) = (Accumulator::default(), Accumulator::default());
        for s in store.sessions().unwrap() {
            for requests in [false, true] {
                let want = session_stats(store, &s, requests).unwrap();
                if let Some(got) = cached(store, &s, requests).unwrap() {
                    hits += 1;
                    assert_eq!(format!("{got:?}"), format!("{want:?}"), "{}", s.id);
                }
                let got = session_stats_cached(store, &s, requests).unwrap();
                assert_eq!(json(&got), json(&want), "{} (requests: {requests})", s.id);
                let report = session_report(store, &s, requests).unwrap();
                let printed = serde_json::to_string_pretty(&report).unwrap();
                assert_eq!(printed, json(&want), "{} (requests: {requests})", s.id);
                if let Some(got) = cached_report(store, &s, requests).unwrap() {
                    hits += 1;
                    assert_eq!(got, want.report(), "{}", s.id);
                }
                if !requests {
                    all_cached.merge(got);
                    all_folded.merge(want);
                }
            }
        }
        assert_eq!(json(&all_cached), json(&all_folded), "the totals");
        hits
    }

    #[test]
    fn cached_statistics_equal_the_fold_over_every_sample_and_go_stale_with_writes() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(&dir.path().join("s.db")).unwrap();
        let files = crate::analysis::testing::sample_files(true);
        let (first, rest) = files.split_at(files.len() / 2);
        import(&mut store, first);
        let sessions = store.sessions().unwrap();
        assert_eq!(assert_cache_equals_fold(&store), 0, "nothing cached yet");
        let kept = fill(&store, &sessions).unwrap();
        assert_eq!(
            kept,
            3 * sessions.len(),
            "an accumulator, a report and requests each"
        );
        assert_eq!(fill(&store, &sessions).unwrap(), 0, "already filled");
        assert_eq!(assert_cache_equals_fold(&store), 4 * sessions.len());
        // The rest, then the first half again in reverse (repeats, replaced copies): every
        // session written is folded again until filled again.
        import(&mut store, rest);
        let mut again = first.to_vec();
        again.reverse();
        import(&mut store, &again);
        assert_eq!(
            assert_cache_equals_fold(&store),
            0,
            "stale entries were read"
        );
        let sessions = store.sessions().unwrap();
        fill(&store, &sessions).unwrap();
        assert_eq!(assert_cache_equals_fold(&store), 4 * sessions.len());
        // Another build's entries are never read.
        let path = dir.path().join("s.db");
        let c = rusqlite::Connection::open(&path).unwrap();
        let moved = c
            .execute(
                "UPDATE session_results SET kind = kind || ' (another build)'",
                [],
            )
            .unwrap();
        assert_eq!(moved, 2 * sessions.len());
        assert_eq!(assert_cache_equals_fold(&store), 0);
        // Nor an entry kept at another write count (one a commit did not delete).
        fill(&store, &sessions).unwrap();
        let bumped = c
            .execute("UPDATE session_rollups SET writes = writes + 1", [])
            .unwrap();
        assert_eq!(bumped, sessions.len());
        assert_eq!(assert_cache_equals_fold(&store), 0);
    }

    #[test]
    fn earlier_events_written_after_the_cache_was_filled_are_counted() {
        let id = "sesn_011CZhappyPath0000000001";
        let owned = crate::analysis::testing::sample_lines(id);
        let lines: Vec<&str> = owned.iter().map(String::as_str).collect();
        let (early, late) = lines.split_at(lines.len() / 2);
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(&dir.path().join("s.db")).unwrap();
        let import = |store: &mut Store, lines: &[&str]| {
            let body = lines.join("\n");
            import_reader(store, "part", id, "", body.as_bytes(), 0, &mut |_, _| {}).unwrap();
        };
        import(&mut store, late);
        let summary = || store.session_summary(id).unwrap().unwrap();
        let late_only = session_stats(&store, &summary(), true).unwrap();
        fill(&store, &[summary()]).unwrap();
        assert_eq!(assert_cache_equals_fold(&store), 4);
        import(&mut store, early);
        let summary = store.session_summary(id).unwrap().unwrap();
        assert!(cached(&store, &summary, false).unwrap().is_none());
        let now = session_stats_cached(&store, &summary, true).unwrap();
        assert_ne!(json(&now), json(&late_only), "the earlier half counts");
        assert_eq!(assert_cache_equals_fold(&store), 0);
        fill(&store, &[summary]).unwrap();
        assert_eq!(assert_cache_equals_fold(&store), 4);
    }
}
