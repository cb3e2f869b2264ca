//! A session's spans through the store: all of them ([`session_spans`], one fold of every span
//! event up to the point) or only the open ones ([`open_spans`], from the newest open-spans
//! checkpoint at or before the point, see [`super::checkpoints`]), which costs the same on a
//! session of any size.

use super::checkpoints;
use crate::analysis::spans::{SLIM_TYPES, SPAN_TYPES, SpanBuilder};
use crate::analysis::{Point, Span};
use crate::store::{Result, SessionSummary, Store, TimelineQuery};

/// The spans of a session up to `point` (the whole recording for `None`), in order of their
/// opening event; open spans are aged at the point, or at the last event.
pub fn session_spans(
    store: &Store,
    summary: &SessionSummary,
    point: Option<Point>,
) -> Result<Vec<Span>> {
    fold(store, summary, point, SpanBuilder::default(), None)
}

/// The spans of [`session_spans`] still open at `point`, in the same order: read from the
/// newest checkpoint at or before the point and the span events after it.
pub fn open_spans(
    store: &Store,
    summary: &SessionSummary,
    point: Option<Point>,
) -> Result<Vec<Span>> {
    let at = point.map_or((i64::MAX, i64::MAX), |p| (p.ts, p.seq));
    let (b, from) = match checkpoints::load_open_spans(store, &summary.id, at)? {
        Some((b, from)) => (b, Some(from)),
        None => (SpanBuilder::default(), None),
    };
    let mut spans = fold(store, summary, point, b, from)?;
    spans.retain(|s| s.open);
    Ok(spans)
}

/// Feeds `b` (the fold of the span events up to `from`, or none for `None`) the span events
/// after `from` up to `point`, pipelined (the scan and the fold on two threads).
fn fold(
    store: &Store,
    summary: &SessionSummary,
    point: Option<Point>,
    b: SpanBuilder,
    from: Option<checkpoints::Position>,
) -> Result<Vec<Span>> {
    let q = TimelineQuery {
        types: SPAN_TYPES.iter().map(|t| t.to_string()).collect(),
        since_ts: from.map(|f| f.0),
        until_ts: point.and_then(|p| p.time()),
        slim_types: SLIM_TYPES.iter().map(|t| t.to_string()).collect(),
        ..TimelineQuery::default()
    };
    let after = |ts: Option<i64>, seq: i64| from.is_none_or(|f| (ts.unwrap_or(i64::MAX), seq) > f);
    let builder = store.scan_events_pipelined(&summary.id, &q, b, |b, ev| {
        if point.is_none_or(|p| p.includes_ref(ev)) && after(ev.ts, ev.seq) {
            b.push(ev);
        }
    })?;
    let end = point.and_then(|p| p.time()).or(summary.last_ts);
    Ok(builder.finish(end))
}
