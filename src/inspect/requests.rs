//! The model requests of many sessions, for `stats --by` (and `stats --requests`): each
//! session's from its cache entry (`store/cache.rs`, kind [`kind`], named after the build), else from [`session_stats`] over its events, then offered
//! to the cache, so a second question about the same sessions reads no events.
//!
//! An entry is every [`RequestRow`] in order, floats as their bits, so a row read back is the
//! row computed, bit for bit.

use serde::{Deserialize, Serialize};

use super::session_stats;
use crate::analysis::stats::RequestRow;
use crate::store::{CacheEntry, Result, SessionSummary, Store};

/// The cache kind of a session's requests: this build's (another's rows are never read).
pub fn kind() -> String {
    super::checkpoints::fold_name("requests")
}

/// A [`RequestRow`] as cached (its session is the entry's): a JSON array, not an object, so
/// the field names are not repeated in every row (a 300,000-event session's requests were 17 MB
/// as objects). In order: start id, started_at, thread, model, speed, duration (bits), error,
/// input, output, cache read and cache creation tokens, cost (bits), ts, partial.
#[derive(Serialize, Deserialize)]
struct Stored<S>(
    S,
    Option<S>,
    Option<S>,
    Option<S>,
    Option<S>,
    Option<u64>,
    bool,
    u64,
    u64,
    u64,
    u64,
    Option<u64>,
    Option<i64>,
    bool,
);

impl Stored<String> {
    fn row(self, session_id: &str) -> RequestRow {
        let Stored(
            start_id,
            started_at,
            thread_id,
            model,
            speed,
            duration_bits,
            is_error,
            input_tokens,
            output_tokens,
            cache_read_input_tokens,
            cache_creation_input_tokens,
            cost_bits,
            ts,
            partial,
        ) = self;
        RequestRow {
            session_id: session_id.to_string(),
            start_id,
            started_at,
            thread_id,
            model,
            speed,
            duration_ms: duration_bits.map(f64::from_bits),
            is_error,
            input_tokens,
            output_tokens,
            cache_read_input_tokens,
            cache_creation_input_tokens,
            cost_usd: cost_bits.map(f64::from_bits),
            ts,
            partial,
        }
    }
}

/// The requests of a session computed from its events: the reference the cache must equal.
pub fn session_requests(store: &Store, summary: &SessionSummary) -> Result<Vec<RequestRow>> {
    Ok(session_stats(store, summary, true)?
        .report()
        .requests
        .unwrap_or_default())
}

/// The rows of a cache entry's `body` (for session `session_id`); `None` when there is none
/// or it does not read.
pub(super) fn parse(body: Option<&str>, session_id: &str) -> Option<Vec<RequestRow>> {
    let stored = serde_json::from_str::<Vec<Stored<String>>>(body?).ok()?;
    Some(stored.into_iter().map(|r| r.row(session_id)).collect())
}

impl<'a> Stored<&'a str> {
    /// A row as [`Stored`] reads it back, written from the row borrowed (not copying its texts).
    fn of(r: &'a RequestRow) -> Stored<&'a str> {
        Stored(
            &r.start_id,
            r.started_at.as_deref(),
            r.thread_id.as_deref(),
            r.model.as_deref(),
            r.speed.as_deref(),
            r.duration_ms.map(f64::to_bits),
            r.is_error,
            r.input_tokens,
            r.output_tokens,
            r.cache_read_input_tokens,
            r.cache_creation_input_tokens,
            r.cost_usd.map(f64::to_bits),
            r.ts,
            r.partial,
        )
    }
}

/// A cache entry of `rows`, for the session's write count `version`.
pub(super) fn entry(session_id: &str, version: i64, rows: &[RequestRow]) -> Option<CacheEntry> {
    let stored: Vec<Stored<&str>> = rows.iter().map(Stored::of).collect();
    Some(CacheEntry {
        session_id: session_id.to_string(),
        version,
        body: serde_json::to_string(&stored).ok()?,
    })
}

/// Each session's requests, in the order given: cached, else computed (and then cached when the
/// database can be written; a read-only one is only read).
pub fn requests_of(store: &Store, sessions: &[SessionSummary]) -> Result<Vec<Vec<RequestRow>>> {
    let kind = kind();
    let mut out = Vec::with_capacity(sessions.len());
    let mut fresh = Vec::new();
    for s in sessions {
        let cached = store.session_cached(&kind, &s.id)?;
        if let Some(rows) = parse(cached.as_ref().and_then(|c| c.body.as_deref()), &s.id) {
            out.push(rows);
            continue;
        }
        let rows = session_requests(store, s)?;
        fresh.extend(cached.and_then(|c| entry(&s.id, c.version, &rows)));
        out.push(rows);
    }
    // The answer is complete without the cache: a database this process cannot write (or a
    // writer holding the lock past the busy timeout) only means the next run computes again.
    let _ = store.put_session_cache(&kind, &fresh);
    Ok(out)
}

#[cfg(test)]
mod tests {
    // Test code: a failed unwrap is a failed test.
    #![allow(clippy::unwrap_used)]

    use super::*;
    use crate::record::{ImportOptions, import_file};
    use std::path::Path;

    #[test]
    fn cached_requests_equal_the_fold_over_every_sample() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(&dir.path().join("s.db")).unwrap();
        let files = crate::analysis::testing::sample_files(true);
        let (first, rest) = files.split_at(files.len() / 2);
        let import = |store: &mut Store, fs: &[std::path::PathBuf]| {
            for f in fs {
                import_file(store, f, &ImportOptions::default(), &mut |_, _| {}).unwrap();
            }
        };
        import(&mut store, first);
        let check = |store: &Store| {
            let sessions = store.sessions().unwrap();
            let want: Vec<Vec<RequestRow>> = sessions
                .iter()
                .map(|s| session_requests(store, s).unwrap())
                .collect();
            // Computed and cached, then read back from the cache.
            assert_eq!(requests_of(store, &sessions).unwrap(), want);
            let cached = sessions
                .iter()
                .filter(|s| {
                    let c = store.session_cached(&kind(), &s.id).unwrap().unwrap();
                    c.body.is_some()
                })
                .count();
            assert_eq!(cached, sessions.len());
            assert_eq!(requests_of(store, &sessions).unwrap(), want);
            want
        };
        let before = check(&store);
        assert!(before.iter().any(|r| !r.is_empty()));
        // The rest, and the first half again in reverse (repeats, replaced copies): every
        // session written drops its entry and is computed again.
        import(&mut store, rest);
        let mut again = first.to_vec();
        again.reverse();
        import(&mut store, &again);
        check(&store);
    }

    #[test]
    fn an_entry_computed_before_a_write_is_not_kept() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(&dir.path().join("s.db")).unwrap();
        let f = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("sample-logs/happy-path.sesn_011CZhappyPath0000000001.jsonl");
        import_file(&mut store, &f, &ImportOptions::default(), &mut |_, _| {}).unwrap();
        let id = "sesn_011CZhappyPath0000000001";
        let stale = store.session_cached(&kind(), id).unwrap().unwrap();
        assert_eq!(stale.body, None);
        // A write lands between the read of the version and the offer.
        import_file(
            &mut store,
            &f,
            &ImportOptions {
                session: Some(id.into()),
                ..ImportOptions::default()
            },
            &mut |_, _| {},
        )
        .unwrap();
        let entry = CacheEntry {
            session_id: id.into(),
            version: stale.version,
            body: "[]".into(),
        };
        assert_eq!(
            store
                .put_session_cache(&kind(), std::slice::from_ref(&entry))
                .unwrap(),
            0
        );
        let now = store.session_cached(&kind(), id).unwrap().unwrap();
        assert!(now.version > stale.version);
        assert_eq!(
            store
                .put_session_cache(
                    &kind(),
                    &[CacheEntry {
                        version: now.version,
                        ..entry
                    }]
                )
                .unwrap(),
            1
        );
    }
}
