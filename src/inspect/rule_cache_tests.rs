//! The rules' cache against the uncached read, over every sample: the same hits at several times
//! and thresholds, the same p99 per tool, and no stale entry ever served.

// Test code: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used)]

use std::collections::BTreeSet;

use super::super::{rule_hits, rules, workspace_tool_p99};

use super::*;
use crate::analysis::rules::Rule;
use crate::record::{ImportOptions, import_file};

fn import_samples(store: &mut Store) {
    for f in &crate::analysis::testing::sample_files(true) {
        // Files with problems (placeholder ids) still import their events.
        let _ = import_file(store, f, &ImportOptions::default(), &mut |_, _| {});
    }
}

/// Thresholds that make every rule easy to fire, the defaults, and ones that fire little.
fn thresholds(p99: &BTreeMap<String, i64>) -> Vec<Thresholds> {
    let eager = Thresholds {
        stuck_after_us: 1,
        silent_after_us: 1_000_000,
        reschedule_count: 1,
        reschedule_window_us: i64::MAX / 4,
        tool_floor_us: 1,
        tool_p99_us: p99.clone(),
    };
    let lazy = Thresholds {
        stuck_after_us: 3_600_000_000,
        silent_after_us: 3_600_000_000,
        reschedule_count: 5,
        reschedule_window_us: 60_000_000,
        tool_floor_us: 3_600_000_000,
        tool_p99_us: BTreeMap::new(),
    };
    let defaults = Thresholds {
        tool_p99_us: p99.clone(),
        ..Thresholds::default()
    };
    vec![eager, defaults, lazy]
}

#[test]
fn cached_rule_hits_equal_the_uncached_ones_on_every_sample() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(&dir.path().join("s.db")).unwrap();
    import_samples(&mut store);
    let sessions = store.sessions().unwrap();
    assert_eq!(fill(&store, &sessions).unwrap(), sessions.len());
    let cache = RuleCache::load(&store).unwrap();
    let (mut rest, mut fired) = (0, BTreeSet::new());
    for s in &sessions {
        let entry = read(&store, &s.id).unwrap().unwrap();
        let at_rest = matches!(entry.inputs, Inputs::Rest);
        rest += usize::from(at_rest);
        let end = s.last_ts.unwrap_or(1_767_225_600_000_000);
        let p99 = workspace_tool_p99(&store, end - 7 * 86_400_000_000).unwrap();
        assert_eq!(
            cache.tool_p99(&store, end - 7 * 86_400_000_000).unwrap(),
            p99
        );
        for th in thresholds(&p99) {
            for after in [
                0,
                1_000_000,
                6 * 60_000_000,
                11 * 60_000_000,
                7_200_000_000,
                30 * 86_400_000_000,
            ] {
                let now = end + after;
                let want = rules::uncached_hits(&store, s, now, &th).unwrap();
                assert_eq!(
                    cache.hits(&store, s, now, &th).unwrap(),
                    want,
                    "{} at +{after}µs with {th:?}",
                    s.id
                );
                assert_eq!(rule_hits(&store, s, now, &th).unwrap(), want);
                assert!(!at_rest || want.is_empty(), "{} rests but fires", s.id);
                fired.extend(want.iter().map(|h| h.rule));
            }
        }
    }
    assert!(
        rest > 0 && rest < sessions.len(),
        "{rest} of {}",
        sessions.len()
    );
    for rule in Rule::FIRED_BY_SAMPLES {
        assert!(fired.contains(&rule), "no sample fires {rule}: {fired:?}");
    }
}

#[test]
fn a_stale_entry_is_never_served() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(&dir.path().join("s.db")).unwrap();
    let f = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("sample-logs/happy-path.sesn_011CZhappyPath0000000001.jsonl");
    let opts = ImportOptions::default();
    import_file(&mut store, &f, &opts, &mut |_, _| {}).unwrap();
    let id = "sesn_011CZhappyPath0000000001";
    let summary = store.session_summary(id).unwrap().unwrap();
    assert_eq!(fill(&store, std::slice::from_ref(&summary)).unwrap(), 1);
    let body = store.session_cached(&kind(), id).unwrap().unwrap().body;
    assert!(body.is_some() && read(&store, id).unwrap().is_some());
    // A later write drops it: neither read serves it, and the next fill computes it again.
    import_file(&mut store, &f, &opts, &mut |_, _| {}).unwrap();
    assert!(read(&store, id).unwrap().is_none());
    assert!(RuleCache::load(&store).unwrap().bodies.is_empty());
    // Another build's entry (the same body under its kind) is not this build's.
    let c = store.session_cached("rules@other", id).unwrap().unwrap();
    let other = CacheEntry {
        session_id: id.into(),
        version: c.version,
        body: body.unwrap(),
    };
    assert_eq!(store.put_session_cache("rules@other", &[other]).unwrap(), 1);
    assert!(read(&store, id).unwrap().is_none());
    assert!(RuleCache::load(&store).unwrap().bodies.is_empty());
    assert_eq!(fill(&store, std::slice::from_ref(&summary)).unwrap(), 1);
    assert!(read(&store, id).unwrap().is_some());
}

/// `import` reads each session's tool calls in its statistics' scan and hands them to the
/// rules: they are the calls the rules read alone, on every sample, and the entries kept from
/// them are the entries kept without them. Calls read before a write are not used after it.
#[test]
fn tool_calls_read_with_the_statistics_are_the_rules_own() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(&dir.path().join("s.db")).unwrap();
    import_samples(&mut store);
    let sessions = store.sessions().unwrap();
    let (_, mut calls) = crate::inspect::stats_cache::fill_with_calls(&store, &sessions).unwrap();
    assert_eq!(calls.len(), sessions.len());
    let mut some = 0;
    for s in &sessions {
        let alone = session_calls(&store, &s.id, None).unwrap();
        some += usize::from(!alone.is_empty());
        assert_eq!(calls[&s.id].1, alone, "{}", s.id);
    }
    assert!(some >= 5, "only {some} samples with tool calls");
    // Each entry's calls (the rest of an entry does not depend on them; its sets serialize
    // in no fixed order).
    let kept = |store: &Store| -> Vec<(String, serde_json::Value)> {
        sessions
            .iter()
            .map(|s| {
                let body = store.session_cached(&kind(), &s.id).unwrap().unwrap().body;
                let entry: serde_json::Value = serde_json::from_str(&body.unwrap()).unwrap();
                (s.id.clone(), entry["calls"].clone())
            })
            .collect()
    };
    assert_eq!(
        fill_with(&store, &sessions, &mut calls.clone()).unwrap(),
        sessions.len()
    );
    let with = kept(&store);
    // The same entries, computed without the calls (a fresh database of the same events).
    let dir2 = tempfile::tempdir().unwrap();
    let mut alone = Store::open(&dir2.path().join("s.db")).unwrap();
    import_samples(&mut alone);
    assert_eq!(fill(&alone, &sessions).unwrap(), sessions.len());
    assert!(
        with.iter()
            .any(|(_, c)| c.as_object().is_some_and(|m| !m.is_empty()))
    );
    assert_eq!(with, kept(&alone));
    // Calls stamped with another write count are read again from the events, not used.
    let s = sessions
        .iter()
        .find(|s| !calls[&s.id].1.is_empty())
        .unwrap();
    let entry = calls.get_mut(&s.id).unwrap();
    entry.0 -= 1;
    entry.1.clear();
    let c = rusqlite::Connection::open(dir.path().join("s.db")).unwrap();
    c.execute("DELETE FROM session_cache", []).unwrap();
    fill_with(&store, &sessions, &mut calls).unwrap();
    assert_eq!(kept(&store), with, "stale calls were used");
}
