//! The rollups against their reference: over every sample, imported in order, out of order (its
//! lines reversed, a few per transaction) and filled by the migration, each session's stored
//! summary and agent equal what `rollups::compute` reads from the events.

// Test code: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};

use super::super::{SessionFilter, SessionSummary, Store};
use crate::record::{ImportOptions, import_file};

/// Every sample file, sorted (pages of one session in order).
fn samples() -> Vec<PathBuf> {
    crate::analysis::testing::sample_files(true)
}

fn import(store: &mut Store, f: &Path) {
    import_file(store, f, &ImportOptions::default(), &mut |_, _| {}).unwrap();
}

/// Every session's rollup equals the reference; returns the reference summaries.
fn assert_rollups_match(store: &Store) -> Vec<SessionSummary> {
    let listed = store.sessions().unwrap();
    let mut ids: Vec<String> = store
        .conn
        .prepare("SELECT id FROM sessions ORDER BY id")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<rusqlite::Result<_>>()
        .unwrap();
    let mut listed_ids: Vec<String> = listed.iter().map(|s| s.id.clone()).collect();
    listed_ids.sort();
    assert_eq!(listed_ids, ids, "every session is listed once");
    let mut want = Vec::new();
    for id in ids.drain(..) {
        let reference = store.reference_summary(&id).unwrap().unwrap();
        assert_eq!(store.session_summary(&id).unwrap().unwrap(), reference);
        let row = listed.iter().find(|s| s.id == id).unwrap();
        assert_eq!(row, &reference);
        let (aid, aname) = store.reference_agent(&id).unwrap();
        let agent = store.session_agent_ref(&id).unwrap();
        assert_eq!(
            agent.map(|a| (a.id, a.name)),
            (aid.is_some() || aname.is_some()).then_some((aid, aname)),
            "{id}"
        );
        want.push(reference);
    }
    want
}

/// Which reference summaries a filter keeps.
type Keep = Box<dyn Fn(&SessionSummary) -> bool>;

/// Each filter of the listing selects what the reference summaries say, in the same order.
fn assert_filters_match(store: &Store, reference: &[SessionSummary]) {
    let mut sorted = reference.to_vec();
    sorted.sort_by(|a, b| b.last_ts.cmp(&a.last_ts).then_with(|| a.id.cmp(&b.id)));
    let ids = |v: &[SessionSummary]| v.iter().map(|s| s.id.clone()).collect::<Vec<_>>();
    assert_eq!(ids(&store.sessions().unwrap()), ids(&sorted));
    let mid = {
        let mut ts: Vec<i64> = sorted.iter().filter_map(|s| s.last_ts).collect();
        ts.sort();
        ts[ts.len() / 2]
    };
    let cases: Vec<(SessionFilter, Keep)> = vec![
        (
            SessionFilter {
                statuses: vec!["idle".into(), "terminated".into()],
                ..SessionFilter::default()
            },
            Box::new(|s| matches!(s.status.as_deref(), Some("idle" | "terminated"))),
        ),
        (
            SessionFilter {
                stop_reasons: vec!["requires_action".into()],
                ..SessionFilter::default()
            },
            Box::new(|s| {
                s.status.as_deref() == Some("idle")
                    && s.stop_reason.as_deref() == Some("requires_action")
            }),
        ),
        (
            SessionFilter {
                since_ts: Some(mid),
                limit: Some(3),
                ..SessionFilter::default()
            },
            Box::new(move |s| s.last_ts.is_some_and(|t| t >= mid)),
        ),
    ];
    for (filter, keep) in cases {
        let mut want: Vec<SessionSummary> = sorted.iter().filter(|s| keep(s)).cloned().collect();
        if let Some(n) = filter.limit {
            want.truncate(n as usize);
        }
        assert!(
            !want.is_empty(),
            "{filter:?} selects nothing in the samples"
        );
        assert_eq!(
            store.sessions_matching(&filter).unwrap(),
            want,
            "{filter:?}"
        );
    }
}

#[test]
fn rollups_equal_the_reference_over_every_sample() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(&dir.path().join("s.db")).unwrap();
    for f in samples() {
        import(&mut store, &f);
    }
    let reference = assert_rollups_match(&store);
    assert!(reference.len() >= 30, "{} sessions", reference.len());
    assert_filters_match(&store, &reference);
    // Again: nothing changes, and repeats are no excuse for a stale row.
    for f in samples() {
        import(&mut store, &f);
    }
    assert_eq!(assert_rollups_match(&store), reference);
}

#[test]
fn rollups_equal_the_reference_when_events_arrive_out_of_order() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(&dir.path().join("s.db")).unwrap();
    let parts = dir.path().join("parts");
    std::fs::create_dir(&parts).unwrap();
    for f in samples().iter().rev() {
        let name = f.file_name().unwrap().to_str().unwrap();
        if !name.ends_with(".jsonl") {
            import(&mut store, f);
            continue;
        }
        // The lines newest first, three per import (each its own transaction), then the whole
        // file again (a replaced copy of an event is then a newer one).
        let text = std::fs::read_to_string(f).unwrap();
        let lines: Vec<&str> = text.lines().rev().collect();
        for (i, chunk) in lines.chunks(3).enumerate() {
            let part = parts.join(format!("{i:03}.{name}"));
            std::fs::write(&part, chunk.join("\n") + "\n").unwrap();
            import(&mut store, &part);
            assert_rollups_match(&store);
        }
    }
    let reference = assert_rollups_match(&store);
    assert_filters_match(&store, &reference);
}

#[test]
fn the_migration_fills_the_rollups_of_an_existing_database() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.db");
    let mut store = Store::open(&path).unwrap();
    for f in samples() {
        import(&mut store, &f);
    }
    let reference = assert_rollups_match(&store);
    // Without them, as before 0011; then 0011's step of `migrate` (its SQL and the fill). The
    // version is not rewound: 0012, after it, rebuilds `events` and cannot run twice.
    store
        .conn
        .execute_batch("DROP TABLE session_rollups; DROP TABLE session_cache;")
        .unwrap();
    let tx = store.conn.transaction().unwrap();
    tx.execute_batch(super::MIGRATION).unwrap();
    super::refresh_all(&tx).unwrap();
    tx.commit().unwrap();
    drop(store);
    let store = Store::open(&path).unwrap();
    assert_eq!(assert_rollups_match(&store), reference);
}

#[test]
fn sessions_interleaved_in_one_batch_across_a_flush_keep_their_rollups() {
    // The writer keeps the last session's key and whether its rollup is marked: events of two
    // sessions taking turns, with a commit among them, must still refresh both rollups.
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(&dir.path().join("s.db")).unwrap();
    let files: Vec<PathBuf> = samples()
        .into_iter()
        .filter(|f| f.extension().is_some_and(|e| e == "jsonl"))
        .collect();
    let (a, b) = (
        std::fs::read_to_string(&files[0]).unwrap(),
        std::fs::read_to_string(&files[1]).unwrap(),
    );
    // Two of A's, one of B's, and so on, up to the commit after the eighth; then the rest of A
    // (the session of the last event before the commit) and the rest of B.
    let (mut la, mut lb) = (a.lines(), b.lines());
    let mut order = Vec::new();
    while order.len() < 8 {
        order.extend(la.next().map(|l| ("sesn_a", l)));
        order.extend(la.next().map(|l| ("sesn_a", l)));
        order.extend(lb.next().map(|l| ("sesn_b", l)));
    }
    order.truncate(8);
    order.extend(la.map(|l| ("sesn_a", l)));
    order.extend(lb.map(|l| ("sesn_b", l)));
    let mut batch = store.batch().unwrap();
    for (i, (session, line)) in order.iter().enumerate() {
        let Ok(env) = crate::model::Envelope::parse(line, None) else {
            continue;
        };
        batch
            .upsert(&super::super::Incoming {
                session_id: session,
                thread_id: "",
                envelope: &env,
                source: crate::model::Source::Stream,
                received_at: "2026-08-07T14:00:00.000Z",
                preview_ordinal: 1,
            })
            .unwrap();
        if i == 7 {
            batch.flush().unwrap();
        }
    }
    batch.commit().unwrap();
    let listed = assert_rollups_match(&store);
    let count = |id: &str| listed.iter().find(|s| s.id == id).map(|s| s.event_count);
    assert!(
        count("sesn_a") > Some(4) && count("sesn_b") > Some(4),
        "{listed:?}"
    );
}
