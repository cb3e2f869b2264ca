//! The loader's reads, each through the core crate's store and analyses.

use std::path::Path;
use std::sync::Arc;

use rustc_hash::FxHashMap;

use flightrec::analysis::spans::SpanBuilder;
use flightrec::analysis::summarize;
use flightrec::model::typed::Event;
use flightrec::store::{EventRow, Store, TimelineQuery};

use super::RowDetail;
use crate::model::index::QUEUED_TS;
use crate::model::session::{
    SPAN_CONTEXT_TYPES, SessionBuilder, SessionData, load_slim_types, span_query,
};

/// How often a load reports progress (events).
const PROGRESS_EVERY: usize = 100_000;

/// Reads a whole session into the compact index and lanes: one ordered scan for the index and
/// the lanes, and in parallel, on a second connection, one over the span types for the spans.
pub fn load(
    store: &Store,
    db: &Path,
    session: &str,
    progress: impl Fn(usize),
) -> Result<SessionData, String> {
    let summary = store.require_session(session).map_err(err)?;
    std::thread::scope(|s| {
        let spans = std::thread::Builder::new()
            .name("flightrec-spans".into())
            .spawn_scoped(s, || pair_spans(db, session))
            .map_err(err)?;
        let q = TimelineQuery {
            slim_types: load_slim_types(false),
            ..TimelineQuery::default()
        };
        let mut b = SessionBuilder::without_spans();
        store
            .scan_events(session, &q, |ev| {
                b.push(&ev);
                if b.len().is_multiple_of(PROGRESS_EVERY) {
                    progress(b.len());
                }
                true
            })
            .map_err(err)?;
        let spans = spans
            .join()
            .map_err(|_| "the span reader failed".to_string())??;
        Ok(b.finish_with(Some(summary), spans))
    })
}

/// Appends the events stored since `data` was read, reading only them and the span events since
/// the earliest span still open. `false` when that would not give what a full load gives (some
/// new event sorts before the last one read, or the last one read is still queued): then only a
/// full load is right.
pub fn append(store: &Store, session: &str, data: &mut Arc<SessionData>) -> Result<bool, String> {
    let summary = store.require_session(session).map_err(err)?;
    let Some(last) = data.last_key() else {
        return Ok(false);
    };
    if last.0 == QUEUED_TS {
        return Ok(false);
    }
    let max_seq = data.index.events.iter().map(|e| e.seq).max().unwrap_or(0);
    let q = TimelineQuery {
        since_ts: Some(last.0),
        slim_types: load_slim_types(true),
        ..TimelineQuery::default()
    };
    let key = |r: &EventRow| (r.ts.unwrap_or(QUEUED_TS), r.seq);
    let mut rows = store.events(session, &q).map_err(err)?;
    rows.retain(|r| key(r) > last);
    // Every event read was new (it sorts after the last one read, so it arrived after it was
    // read); an event that arrived since and sorts among those read needs a full load.
    let new_last = rows.last().map_or(last, key);
    let arrived = store
        .arrived_since_upto(session, max_seq, new_last.0, new_last.1)
        .map_err(err)?;
    if arrived != rows.len() as i64 {
        return Ok(false);
    }
    let Some(first_new) = rows.first().map(|r| key(r).0) else {
        return Ok(true);
    };
    // Links to events read before: their positions in the loaded index.
    let mut earlier: FxHashMap<String, u32> = FxHashMap::default();
    for link in rows.iter().filter_map(|r| r.link_id.as_deref()) {
        if earlier.contains_key(link) {
            continue;
        }
        if let Some(t) = store.event_by_id(session, link).map_err(err)?
            && key(&t) <= last
            && let Some(p) = data.index.position(t.seq, t.ts)
        {
            earlier.insert(link.to_string(), p as u32);
        }
    }
    // Spans: paired again from the earliest one still open, after what names their parts.
    let since = data.repair_since(first_new);
    let mut spans = SpanBuilder::default();
    let context = TimelineQuery {
        types: SPAN_CONTEXT_TYPES.iter().map(|t| t.to_string()).collect(),
        until_ts: Some(since.saturating_sub(1)),
        ..TimelineQuery::default()
    };
    store
        .scan_events(session, &context, |ev| {
            spans.push(&ev);
            true
        })
        .map_err(err)?;
    let mut located: FxHashMap<String, (i64, Option<i64>)> = FxHashMap::default();
    let window = TimelineQuery {
        since_ts: Some(since),
        ..span_query()
    };
    store
        .scan_events(session, &window, |ev| {
            spans.push(&ev);
            located.insert(ev.event_id.to_string(), (ev.seq, ev.ts));
            true
        })
        .map_err(err)?;
    let refs: Vec<_> = rows.iter().map(EventRow::as_ref).collect();
    Arc::make_mut(data).append(
        Some(summary),
        &refs,
        |id| earlier.get(id).copied(),
        since,
        spans,
        |id| located.get(id).copied(),
    );
    Ok(true)
}

/// Pairs the session's spans on a connection of its own.
fn pair_spans(db: &Path, session: &str) -> Result<SpanBuilder, String> {
    let store = Store::open_reader(db).map_err(err)?;
    store.set_mmap_size(0).map_err(err)?;
    let mut b = SpanBuilder::default();
    store
        .scan_events(session, &span_query(), |ev| {
            b.push(&ev);
            true
        })
        .map_err(err)?;
    Ok(b)
}

fn err(e: impl std::fmt::Display) -> String {
    e.to_string()
}

/// Full rows with their summaries.
pub fn rows(store: &Store, session: &str, seqs: &[i64]) -> Result<Vec<RowDetail>, String> {
    let rows = store
        .events_by_seq(session, seqs)
        .map_err(|e| e.to_string())?;
    Ok(rows
        .into_iter()
        .map(|row| RowDetail {
            summary: summarize(&Event::parse(&row.raw)),
            row,
        })
        .collect())
}

/// (id, seq, time) of the events with these ids that the session has.
pub fn locate(
    store: &Store,
    session: &str,
    ids: &[String],
) -> Result<Vec<(String, i64, Option<i64>)>, String> {
    let mut out = Vec::new();
    for id in ids {
        if let Some(r) = store.event_by_id(session, id).map_err(|e| e.to_string())? {
            out.push((id.clone(), r.seq, r.ts));
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    // Test code: a failed unwrap is a failed test.
    #![allow(clippy::unwrap_used)]

    use super::*;
    use crate::model::session::tests::assert_same;
    use flightrec::record::import::import_reader;

    const STUCK: &str = "sesn_011CZstuckCustomTool0002";

    fn import(db: &Path, lines: &[&str]) {
        let mut store = Store::open(db).unwrap();
        let text = lines.iter().map(|l| format!("{l}\n")).collect::<String>();
        import_reader(
            &mut store,
            "part.jsonl",
            STUCK,
            "",
            std::io::Cursor::new(text),
            0,
            &mut |_, _| {},
        )
        .unwrap();
    }

    fn load_all(db: &Path) -> SessionData {
        let store = Store::open_read_only(db).unwrap();
        load(&store, db, STUCK, |_| {}).unwrap()
    }

    /// Following a session that a recorder writes: the events stored since a load, appended
    /// (the custom tool call left open closed by its result among them), give what loading
    /// everything again gives.
    #[test]
    fn appending_what_a_recorder_stored_equals_a_full_load() {
        let text = include_str!(
            "../../../sample-logs/stuck-custom-tool.sesn_011CZstuckCustomTool0002.jsonl"
        );
        let result = r#"{"type":"user.custom_tool_result","id":"sevt_011CZzzzResultLate000001","processed_at":"2099-01-01T00:00:00.000Z","custom_tool_use_id":"USE","content":[{"type":"text","text":"sunny"}]}"#;
        let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
        let pending = lines
            .iter()
            .rev()
            .find(|l| l.contains("\"agent.custom_tool_use\""))
            .unwrap();
        let use_id = serde_json::from_str::<serde_json::Value>(pending).unwrap()["id"]
            .as_str()
            .unwrap()
            .to_string();
        let result = result.replace("USE", &use_id);
        let mut all = lines.clone();
        all.push(&result);
        for k in [1, 4, 9, 14, all.len() - 1] {
            let dir = tempfile::tempdir().unwrap();
            let db = dir.path().join("follow.db");
            import(&db, &all[..k]);
            let mut data = Arc::new(load_all(&db));
            import(&db, &all[k..]);
            let store = Store::open_read_only(&db).unwrap();
            assert!(append(&store, STUCK, &mut data).unwrap(), "split at {k}");
            assert_same(&data, &load_all(&db), &format!("split at {k}"));
        }
    }

    /// An event that sorts among those already read (a backfilled page) cannot be appended.
    #[test]
    fn an_event_sorting_earlier_asks_for_a_full_load() {
        let text = include_str!(
            "../../../sample-logs/stuck-custom-tool.sesn_011CZstuckCustomTool0002.jsonl"
        );
        let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("follow.db");
        // Everything but the second event, which then arrives late.
        let mut first: Vec<&str> = lines.clone();
        let late = first.remove(1);
        import(&db, &first);
        let mut data = Arc::new(load_all(&db));
        let before = data.index.len();
        import(&db, &[late]);
        let store = Store::open_read_only(&db).unwrap();
        assert!(!append(&store, STUCK, &mut data).unwrap());
        assert_eq!(data.index.len(), before);
        // Nothing new: nothing to append, and nothing wrong.
        let mut fresh = Arc::new(load_all(&db));
        assert!(append(&store, STUCK, &mut fresh).unwrap());
        assert_eq!(fresh.index.len(), lines.len());
    }
}
