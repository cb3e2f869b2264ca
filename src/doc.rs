//! One session read whole into memory, as every export format and redaction consume it.
//!
//! Above the store and the analysis it reads through, below `export` and `redact` that both use
//! it (redaction rewrites a document before any format writes it).

use crate::analysis::capture::{CaptureReport, capture_report};
use crate::analysis::explain::{ExplainInput, Explanation, explain};
use crate::analysis::spans::{Span, spans};
use crate::analysis::state::{State, StateBuilder};
use crate::store::{
    CaptureEntry, EventRow, PreviewRow, Result, RevisionRow, SessionObject, SessionSummary, Store,
    TimelineQuery,
};

/// Everything stored about one session: its object, events in session order (processed_at, then
/// arrival), the earlier copies that newer ones replaced, preview frames and the capture log.
#[derive(Debug, Clone)]
pub struct SessionDoc {
    pub summary: SessionSummary,
    pub object: Option<SessionObject>,
    pub events: Vec<EventRow>,
    pub revisions: Vec<RevisionRow>,
    pub previews: Vec<PreviewRow>,
    pub capture: Vec<CaptureEntry>,
}

impl SessionDoc {
    /// Reads the session `id`; an unknown session is an error naming it.
    pub fn load(store: &Store, id: &str) -> Result<SessionDoc> {
        let summary = store.require_session(id)?;
        Ok(SessionDoc {
            object: store.session_object(id)?,
            events: store.events(id, &TimelineQuery::default())?,
            revisions: store.session_revisions(id)?,
            previews: store.previews(id)?,
            capture: store.capture_log(id)?,
            summary,
        })
    }

    /// The end of the recording (µs): the newest processed event.
    pub fn end_ts(&self) -> Option<i64> {
        self.events.iter().filter_map(|e| e.ts).max()
    }

    /// How the session was captured, with event counts per source.
    pub fn capture_report(&self) -> CaptureReport {
        let mut per_source = std::collections::BTreeMap::new();
        for e in &self.events {
            *per_source.entry(e.source.clone()).or_insert(0u64) += 1;
        }
        capture_report(&self.capture, per_source)
    }

    /// Every span of the session, in order of their opening event.
    pub fn spans(&self) -> Vec<Span> {
        spans(&self.events, self.end_ts())
    }

    /// The session's state at the end of the recording, every event folded.
    pub fn state(&self) -> State {
        let mut b = StateBuilder::new(&self.summary.id);
        for e in &self.events {
            b.push(&e.as_ref());
        }
        b.finish(self.end_ts())
    }

    /// The explain verdict at the end of the recording. `now` (µs) ages a running session;
    /// `stuck_after` (µs) is how long a silent running session takes to count as stalled.
    pub fn explain(&self, now: i64, stuck_after: i64) -> Explanation {
        let capture = self.capture_report();
        explain(
            &self.state(),
            &ExplainInput {
                session_id: &self.summary.id,
                at: None,
                capture: Some(&capture),
                now,
                stuck_after,
            },
        )
    }
}
