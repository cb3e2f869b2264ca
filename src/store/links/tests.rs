#![allow(clippy::unwrap_used)]

//! The lookups against what the session's rows, read whole, say: on every sample.

use std::collections::{HashMap, HashSet};

use crate::record::import::{ImportOptions, import_file};
use crate::store::{LinkedRow, QUEUED_SORT_TS, Store, TimelineQuery};

const REPLY_TYPES: &[&str] = &["agent.tool_result", "user.tool_confirmation"];

#[test]
fn repeated_ids_links_and_places_equal_the_rows_read_whole_on_every_sample() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(&dir.path().join("s.db")).unwrap();
    for f in crate::analysis::testing::sample_files(true) {
        import_file(&mut store, &f, &ImportOptions::default(), &mut |_, _| {}).unwrap();
    }
    let (mut repeated_seen, mut linked_seen) = (0, 0);
    for s in store.sessions().unwrap() {
        let rows = store.events(&s.id, &TimelineQuery::default()).unwrap();
        let mut count: HashMap<&str, usize> = HashMap::new();
        for e in &rows {
            *count.entry(&e.event_id).or_default() += 1;
        }
        let want: HashSet<String> = (count.iter())
            .filter(|(id, n)| !id.is_empty() && **n > 1)
            .map(|(id, _)| id.to_string())
            .collect();
        assert_eq!(store.repeated_ids(&s.id).unwrap(), want, "{}", s.id);
        repeated_seen += want.len();

        store.index_links(&s.id, REPLY_TYPES).unwrap();
        // An empty link names nothing: those rows are not indexed.
        for id in count.keys().filter(|id| !id.is_empty()) {
            let want: Vec<LinkedRow> = (rows.iter())
                .filter(|e| REPLY_TYPES.contains(&e.event_type.as_str()))
                .filter(|e| e.link_id.as_deref() == Some(id))
                .map(|e| LinkedRow {
                    sort_ts: e.ts.unwrap_or(QUEUED_SORT_TS),
                    seq: e.seq,
                    event_id: e.event_id.clone(),
                })
                .collect();
            linked_seen += want.len();
            assert_eq!(store.linked_to(id).unwrap(), want, "{} {id}", s.id);
        }
    }
    // The samples hold copies from a second stream and replies.
    assert!(
        repeated_seen > 0 && linked_seen > 10,
        "{repeated_seen} {linked_seen}"
    );
}
