//! What a writer keeps, after writing sessions, for later reads to take instead of the events
//! (`import`, `record`, and `watch`'s deriver call it): the checkpoints of the state, findings
//! and open-spans folds ([`super::checkpoints`]), each session's statistics and model requests
//! ([`super::stats_cache`]), and the rules' facts (`rule_cache`), which fold from those checkpoints.
//!
//! One read of each session serves the checkpoints and the statistics: the statistics (and the
//! tool calls the rules keep) fold on the reading thread as the checkpoint scan reads, while the
//! checkpoint folds run on a second thread. When the checkpoints go on from an earlier one
//! (their scan then reads only the newest events), the statistics read the session apart.

use super::rule_cache::fill_with as fill_rules;
use super::stats_cache::{Entries, SessionCalls, wanted};
use super::{StatsFold, checkpoints, session_stats_and_calls};
use crate::store::{Store, StoreError};

/// Sessions derived together: the statistics of this many are kept in one transaction.
const CHUNK: usize = 256;

/// Derives and keeps everything above for `sessions`. Caches: a failure is handed to `failed`
/// (with what was being done) and the rest goes on.
pub fn derive(store: &Store, sessions: &[&str], failed: &mut dyn FnMut(&'static str, StoreError)) {
    for ids in sessions.chunks(CHUNK) {
        let mut summaries = Vec::with_capacity(ids.len());
        for id in ids {
            match store.session_summary(id) {
                Ok(Some(s)) => summaries.push(s),
                Ok(None) => {}
                Err(e) => failed("reading a session", e),
            }
        }
        let mut entries = Entries::default();
        let mut calls = SessionCalls::new();
        for s in &summaries {
            let version = wanted(store, s).unwrap_or_else(|e| {
                failed("caching statistics", e);
                None
            });
            let mut fold = match version.map(|_| StatsFold::new(store, s, true, true)) {
                Some(Ok(f)) => Some(f),
                Some(Err(e)) => {
                    failed("caching statistics", e);
                    None
                }
                None => None,
            };
            let mut alongside = |ev: &crate::store::EventRef<'_>| {
                if let Some(f) = fold.as_mut() {
                    f.push(ev)
                }
            };
            let whole =
                match checkpoints::update_with(store, &s.id, checkpoints::EVERY, &mut alongside) {
                    Ok((_, whole)) => whole,
                    Err(e) => {
                        failed("writing checkpoints", e);
                        false
                    }
                };
            let Some(version) = version else { continue };
            let folded = match fold {
                Some(f) if whole => Ok(f.finish()),
                _ => session_stats_and_calls(store, s, true),
            };
            match folded {
                Ok((acc, tool_calls)) => {
                    calls.insert(s.id.clone(), (version, tool_calls));
                    entries.add(&s.id, version, acc);
                }
                Err(e) => failed("caching statistics", e),
            }
        }
        if let Err(e) = entries.keep(store) {
            failed("caching statistics", e);
        }
        if let Err(e) = fill_rules(store, &summaries, &mut calls) {
            failed("caching the rules' facts", e);
        }
    }
}

#[cfg(test)]
mod tests {
    // Test code: a failed unwrap is a failed test.
    #![allow(clippy::unwrap_used)]

    use super::*;
    use crate::inspect::rule_cache::{kind as rules_kind, session_calls};
    use crate::inspect::{session_stats, stats_cache};
    use crate::record::{ImportOptions, import_file, import_reader};

    /// Every session's kept statistics are the fold of its events, and its kept tool calls the
    /// rules' own read; `stats` answers from the cache for each.
    fn assert_derived_equal_the_folds(store: &Store, min_calls: usize) {
        let sessions = store.sessions().unwrap();
        let mut calls = 0;
        for s in &sessions {
            let want = session_stats(store, s, true).unwrap();
            let got = stats_cache::cached(store, s, true).unwrap();
            assert_eq!(format!("{got:?}"), format!("{:?}", Some(want)), "{}", s.id);
            let body = store.session_cached(&rules_kind(), &s.id).unwrap().unwrap();
            let entry: serde_json::Value = serde_json::from_str(&body.body.unwrap()).unwrap();
            let mut by_tool = std::collections::BTreeMap::<String, Vec<i64>>::new();
            for (tool, time) in session_calls(store, &s.id, None).unwrap() {
                by_tool.entry(tool).or_default().push(time);
                calls += 1;
            }
            assert_eq!(
                entry["calls"],
                serde_json::to_value(&by_tool).unwrap(),
                "{}",
                s.id
            );
        }
        assert!(calls >= min_calls, "only {calls} tool calls");
    }

    #[test]
    fn one_read_derives_what_separate_reads_do_on_every_sample() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(&dir.path().join("s.db")).unwrap();
        for f in &crate::analysis::testing::sample_files(true) {
            // Files with problems (placeholder ids) still import their events.
            let _ = import_file(&mut store, f, &ImportOptions::default(), &mut |_, _| {});
        }
        let sessions = store.sessions().unwrap();
        let ids: Vec<&str> = sessions.iter().map(|s| s.id.as_str()).collect();
        let mut failures = Vec::new();
        derive(&store, &ids, &mut |doing, e| {
            failures.push(format!("{doing}: {e}"))
        });
        assert_eq!(failures, Vec::<String>::new());
        assert_derived_equal_the_folds(&store, 20);
    }

    /// Events after the newest checkpoint: the checkpoints go on from it (their scan reads only
    /// the new events), and the statistics are read apart, of the whole session.
    #[test]
    fn statistics_of_a_session_whose_checkpoints_go_on_are_of_the_whole_session() {
        let id = "sesn_011CZhappyPath0000000001";
        let owned = crate::analysis::testing::sample_lines(id);
        let lines: Vec<&str> = owned.iter().map(String::as_str).collect();
        let early = lines.len() / 2;
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(&dir.path().join("s.db")).unwrap();
        let body = lines.join("\n");
        import_reader(&mut store, "s", id, "", body.as_bytes(), 0, &mut |_, _| {}).unwrap();
        // Checkpoints of the first half only (every other event): the derive goes on from them.
        checkpoints::update(&store, id, 2).unwrap();
        let c = rusqlite::Connection::open(dir.path().join("s.db")).unwrap();
        let half: i64 = c
            .query_row(
                "SELECT seq FROM events WHERE session_id = ?1 ORDER BY sort_ts, seq LIMIT 1 OFFSET ?2",
                rusqlite::params![id, early as i64 - 1],
                |r| r.get(0),
            )
            .unwrap();
        let keep_half = || {
            c.execute("DELETE FROM fold_checkpoints WHERE seq > ?1", [half])
                .unwrap();
            c.query_row("SELECT count(*) FROM fold_checkpoints", [], |r| {
                r.get::<_, i64>(0)
            })
            .unwrap()
        };
        assert!(keep_half() > 0);
        c.execute("DELETE FROM session_results", []).unwrap();
        c.execute("DELETE FROM session_cache", []).unwrap();
        let summary = store.session_summary(id).unwrap().unwrap();
        let mut seen = 0;
        let (_, whole) =
            checkpoints::update_with(&store, id, checkpoints::EVERY, &mut |_| seen += 1).unwrap();
        assert!(!whole && seen < lines.len(), "{seen} events read");
        assert!(keep_half() > 0);
        let mut no_failures = |doing: &'static str, e: StoreError| panic!("{doing}: {e}");
        derive(&store, &[id], &mut no_failures);
        assert!(
            stats_cache::cached(&store, &summary, true)
                .unwrap()
                .is_some()
        );
        assert_derived_equal_the_folds(&store, 5);
    }
}
