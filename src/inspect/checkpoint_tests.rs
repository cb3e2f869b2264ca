//! The state, findings and open spans read through checkpoints equal the whole folds: at every
//! event of every sample, and after writes that land before checkpoints (a page of earlier
//! events, a replaced copy).

// Test code: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used)]

use super::tests::{naive, sample_files};
use super::*;
use crate::analysis::spans::SPAN_TYPES;
use crate::record::{ImportOptions, import_file, import_reader};

/// Checkpoints every few events, so reads go on from them.
const EVERY: u64 = 3;

/// The findings fold fed every event up to the point, as `findings` reads them, from the start.
fn naive_findings(store: &Store, summary: &SessionSummary, point: Option<Point>) -> Findings {
    let q = TimelineQuery {
        slim_types: owned(SLIM_TYPES),
        ..TimelineQuery::default()
    };
    let mut b = FindingsBuilder::new();
    scan_to_point(store, &summary.id, &q, point, |ev| b.push(ev)).unwrap();
    b.finish(&[])
}

/// The open spans of the span fold fed every span event up to the point, from the start, as
/// `spans --open` prints them (JSON).
fn naive_open_spans(store: &Store, summary: &SessionSummary, point: Option<Point>) -> String {
    let mut b = crate::analysis::spans::SpanBuilder::default();
    for r in store
        .events(&summary.id, &TimelineQuery::default())
        .unwrap()
    {
        if SPAN_TYPES.contains(&r.event_type.as_str()) && point.is_none_or(|p| p.includes(&r)) {
            b.push(&r.as_ref());
        }
    }
    let mut spans = b.finish(point.and_then(|p| p.time()).or(summary.last_ts));
    spans.retain(|s| s.open);
    serde_json::to_string_pretty(&spans).unwrap()
}

/// `state` and the findings at every event (and the end) of every session equals the whole fold; returns at how
/// many points a checkpoint was used.
fn assert_equal_everywhere(store: &Store) -> usize {
    let mut used = 0;
    for summary in store.sessions().unwrap() {
        let events = store
            .events(&summary.id, &TimelineQuery::default())
            .unwrap();
        let points = std::iter::once(None).chain(events.iter().map(|r| Some(Point::at_event(r))));
        for point in points {
            let want = naive(store, &summary, point);
            let got = reconstruct(store, &summary, point, Scope::Full).unwrap();
            assert_eq!(got, want, "{} at {point:?}", summary.id);
            let want = naive_findings(store, &summary, point);
            let got = findings(store, &summary, point, &[]).unwrap();
            assert_eq!(got, want, "findings of {} at {point:?}", summary.id);
            let want = naive_open_spans(store, &summary, point);
            let got = serde_json::to_string_pretty(&open_spans(store, &summary, point).unwrap());
            assert_eq!(
                got.unwrap(),
                want,
                "open spans of {} at {point:?}",
                summary.id
            );
            let at = point.map_or((i64::MAX, i64::MAX), |p| (p.ts, p.seq));
            used += usize::from(checkpoints::load(store, &summary.id, at).unwrap().is_some());
            used += usize::from(
                checkpoints::load_findings(store, &summary.id, at)
                    .unwrap()
                    .is_some(),
            );
            used += usize::from(
                checkpoints::load_open_spans(store, &summary.id, at)
                    .unwrap()
                    .is_some(),
            );
        }
    }
    used
}

fn update_all(store: &Store) -> usize {
    store
        .sessions()
        .unwrap()
        .iter()
        .map(|s| checkpoints::update(store, &s.id, EVERY).unwrap())
        .sum()
}

#[test]
fn the_state_from_checkpoints_equals_the_full_fold_at_every_event_of_every_sample() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(&dir.path().join("s.db")).unwrap();
    for f in &sample_files() {
        import_file(&mut store, f, &ImportOptions::default(), &mut |_, _| {}).unwrap();
    }
    let written = update_all(&store);
    assert!(written >= 50, "only {written} checkpoints");
    // Up to date: a second pass writes nothing new but the end again.
    let used = assert_equal_everywhere(&store);
    assert!(used >= 200, "checkpoints were used at only {used} points");
}

fn session_events(store: &Store, id: &str) -> Vec<EventRow> {
    store.events(id, &TimelineQuery::default()).unwrap()
}

/// How many of the session's events have a checkpoint.
fn checkpoint_count(store: &Store, id: &str) -> usize {
    session_events(store, id)
        .iter()
        .filter(|r| {
            let at = (r.ts.unwrap_or(i64::MAX), r.seq);
            checkpoints::load(store, id, at)
                .unwrap()
                .is_some_and(|(_, from)| from == at)
        })
        .count()
}

#[test]
fn earlier_events_written_after_the_checkpoints_delete_those_they_precede() {
    let id = "sesn_011CZhappyPath0000000001";
    let owned = crate::analysis::testing::sample_lines(id);
    let lines: Vec<&str> = owned.iter().map(String::as_str).collect();
    let half = lines.len() / 2;
    let (early, late) = lines.split_at(half);
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(&dir.path().join("s.db")).unwrap();
    let import = |store: &mut Store, lines: &[&str]| {
        let body = lines.join("\n");
        import_reader(store, "part", id, "", body.as_bytes(), 0, &mut |_, _| {}).unwrap();
    };
    // The later half first, checkpointed; then the earlier half, which sorts before them all.
    import(&mut store, late);
    assert!(checkpoints::update(&store, id, EVERY).unwrap() > 0);
    assert!(checkpoint_count(&store, id) > 0);
    import(&mut store, early);
    assert_eq!(
        checkpoint_count(&store, id),
        0,
        "stale checkpoints were kept"
    );
    assert_equal_everywhere(&store);
    // Checkpointed again, then a replaced copy of an early event: the checkpoints from it go.
    assert!(checkpoints::update(&store, id, EVERY).unwrap() > 0);
    let before = checkpoint_count(&store, id);
    let first = session_events(&store, id)[1].clone();
    let replaced = first.raw.replacen('{', r#"{"replaced_copy":true,"#, 1);
    import(&mut store, &[replaced.as_str()]);
    let after = checkpoint_count(&store, id);
    assert!(after < before, "{after} checkpoints of {before} left");
    assert!(session_events(&store, id).iter().all(|r| {
        let at = (r.ts.unwrap_or(i64::MAX), r.seq);
        at < (first.ts.unwrap_or(i64::MAX), first.seq)
            || checkpoints::load(&store, id, at)
                .unwrap()
                .is_none_or(|(_, from)| from < (first.ts.unwrap_or(i64::MAX), first.seq))
    }));
    assert_equal_everywhere(&store);
    // Appends at the end delete nothing.
    checkpoints::update(&store, id, EVERY).unwrap();
    let kept = checkpoint_count(&store, id);
    let mut last: serde_json::Value = serde_json::from_str(lines[lines.len() - 1]).unwrap();
    last["id"] = "sevt_appended_at_the_end".into();
    last["processed_at"] = "2099-01-01T00:00:00Z".into();
    import(&mut store, &[last.to_string().as_str()]);
    assert_eq!(checkpoint_count(&store, id), kept);
    assert_equal_everywhere(&store);
}
