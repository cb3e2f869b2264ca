//! The loader's reads, each through the core crate's store and analyses.

use std::path::Path;

use flightrec::analysis::spans::SpanBuilder;
use flightrec::analysis::summarize;
use flightrec::model::typed::Event;
use flightrec::store::{Store, TimelineQuery};

use super::RowDetail;
use crate::model::session::{SessionBuilder, SessionData, load_slim_types, span_query};

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

/// Pairs the session's spans on a connection of its own.
fn pair_spans(db: &Path, session: &str) -> Result<SpanBuilder, String> {
    let store = Store::open_read_only(db).map_err(err)?;
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
