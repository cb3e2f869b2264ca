//! Timeline rows: each event with its time relative to the session's first event and a summary.

use serde::Serialize;

use super::summarize;
use crate::model::typed::Event;
use crate::store::EventRow;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TimelineRow {
    pub seq: i64,
    pub id: String,
    #[serde(rename = "type")]
    pub event_type: String,
    pub processed_at: Option<String>,
    /// µs since the session's first event; `None` for queued events.
    pub offset_us: Option<i64>,
    pub thread_id: String,
    pub summary: String,
}

/// Rows for `events`, with offsets from `origin_ts` (the session's first event time).
pub fn timeline_rows(events: &[EventRow], origin_ts: Option<i64>) -> Vec<TimelineRow> {
    events
        .iter()
        .map(|e| TimelineRow {
            seq: e.seq,
            id: e.event_id.clone(),
            event_type: e.event_type.clone(),
            processed_at: e.processed_at.clone(),
            offset_us: match (e.ts, origin_ts) {
                (Some(t), Some(o)) => Some(t - o),
                _ => None,
            },
            thread_id: e.thread_id.clone(),
            summary: summarize(&Event::parse(&e.raw)),
        })
        .collect()
}
