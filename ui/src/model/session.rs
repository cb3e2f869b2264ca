//! One opened session as the viewer holds it: the summary, the compact index and the lanes,
//! built in one pass over the events (pure: the loader feeds it from the store).

use flightrec::analysis::spans::{SLIM_TYPES, SPAN_TYPES, SpanBuilder};
use flightrec::store::{EventRef, SessionSummary};

use super::index::{EventIndex, IndexBuilder};
use super::lanes::Lanes;
use super::lanes_build::LaneBuilder;

/// Types whose text neither the index, the lanes nor the spans read: a load asks the store for
/// them slim (see `TimelineQuery::slim_types`), so large messages and results are never read.
pub const LOAD_SLIM_TYPES: &[&str] = &[
    "user.message",
    "agent.message",
    "agent.thinking",
    "system.message",
    "agent.thread_message_sent",
    "agent.thread_message_received",
    "user.define_outcome",
    "session.updated",
    "session.usage",
];

/// Span types whose text the index and the lanes do not read either (when spans are paired on
/// their own scan, see [`SessionBuilder::without_spans`]).
const SPAN_ONLY_TYPES: &[&str] = &[
    "span.model_request_start",
    "span.model_request_end",
    "span.outcome_evaluation_start",
    "span.outcome_evaluation_ongoing",
    "span.outcome_evaluation_end",
    "workflow_run.created",
    "workflow_run.status_ended",
    "workflow_run.phase_started",
    "workflow_run.phase_ended",
];

/// The slim types of a load: [`LOAD_SLIM_TYPES`] and the span module's, and when spans are
/// paired apart, the span-only types.
pub fn load_slim_types(with_spans: bool) -> Vec<String> {
    let extra: &[&str] = if with_spans { &[] } else { SPAN_ONLY_TYPES };
    LOAD_SLIM_TYPES
        .iter()
        .chain(SLIM_TYPES)
        .chain(extra)
        .map(|t| t.to_string())
        .collect()
}

/// What a span-only scan reads: the span types, slim where spans allow.
pub fn span_query() -> flightrec::store::TimelineQuery {
    flightrec::store::TimelineQuery {
        types: SPAN_TYPES.iter().map(|t| t.to_string()).collect(),
        slim_types: SLIM_TYPES.iter().map(|t| t.to_string()).collect(),
        ..Default::default()
    }
}

/// A loaded session.
#[derive(Debug, Clone, Default)]
pub struct SessionData {
    pub summary: Option<SessionSummary>,
    pub index: EventIndex,
    pub lanes: Lanes,
    /// The first and last processed times (µs); equal when there is one event, 0 when none.
    pub start: i64,
    pub end: i64,
}

/// Feeds the index, the lanes and the span pairing from one pass.
pub struct SessionBuilder {
    index: IndexBuilder,
    lanes: LaneBuilder,
    /// `None` when spans are paired on a scan of their own.
    spans: Option<SpanBuilder>,
    /// Per type id: whether spans read it.
    span_type: Vec<bool>,
    first_ts: Option<i64>,
    last_ts: Option<i64>,
}

impl Default for SessionBuilder {
    fn default() -> Self {
        SessionBuilder {
            index: IndexBuilder::new(),
            lanes: LaneBuilder::new(),
            spans: Some(SpanBuilder::default()),
            span_type: Vec::new(),
            first_ts: None,
            last_ts: None,
        }
    }
}

impl SessionBuilder {
    /// A builder that leaves spans to another scan (see [`SessionBuilder::finish_with`]).
    pub fn without_spans() -> SessionBuilder {
        SessionBuilder {
            spans: None,
            ..SessionBuilder::default()
        }
    }

    /// Takes the next event in time order.
    pub fn push(&mut self, row: &EventRef<'_>) {
        let pos = self.index.len() as u32;
        self.index.push(row);
        let Some(&ev) = self.index.last() else { return };
        let ty = usize::from(ev.ty);
        if ty >= self.span_type.len() {
            self.span_type.resize(ty + 1, false);
            self.span_type[ty] = SPAN_TYPES.contains(&row.event_type);
        }
        if self.span_type[ty]
            && let Some(spans) = &mut self.spans
        {
            spans.push(row);
        }
        self.lanes.push(row, pos, &ev);
        if let Some(ts) = row.ts {
            self.first_ts.get_or_insert(ts);
            self.last_ts = Some(ts);
        }
    }

    pub fn len(&self) -> usize {
        self.index.len()
    }

    pub fn is_empty(&self) -> bool {
        self.index.is_empty()
    }

    pub fn finish(mut self, summary: Option<SessionSummary>) -> SessionData {
        let spans = self.spans.take().unwrap_or_default();
        self.finish_with(summary, spans)
    }

    /// Finishes with spans paired elsewhere from the same events.
    pub fn finish_with(self, summary: Option<SessionSummary>, spans: SpanBuilder) -> SessionData {
        let start = self.first_ts.unwrap_or(0);
        let end = self.last_ts.unwrap_or(start);
        let spans = spans.finish(Some(end));
        let index = &self.index;
        let lanes = self
            .lanes
            .finish(spans, |id| index.position_of_id(id), start, end);
        SessionData {
            summary,
            index: self.index.finish(),
            lanes,
            start,
            end,
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::model::lanes::{BAR_OPEN, Status};

    /// Builds a session from JSON Lines text, as the store would hand it over (time order).
    pub fn session_of(jsonl: &str) -> SessionData {
        let mut b = SessionBuilder::default();
        let rows: Vec<_> = jsonl.lines().filter(|l| !l.trim().is_empty()).collect();
        for (i, line) in rows.iter().enumerate() {
            let v: serde_json::Value = serde_json::from_str(line).expect("json");
            let t = v["type"].as_str().unwrap_or_default().to_string();
            let id = v["id"].as_str().unwrap_or_default().to_string();
            let ts = v["processed_at"]
                .as_str()
                .and_then(flightrec::model::time::parse_timestamp_micros);
            let link = [
                "tool_use_id",
                "custom_tool_use_id",
                "model_request_start_id",
            ]
            .iter()
            .find_map(|k| v[k].as_str().map(str::to_string));
            b.push(&EventRef {
                seq: i as i64 + 1,
                event_id: &id,
                event_type: &t,
                processed_at: None,
                ts,
                thread_id: "",
                link_id: link.as_deref(),
                raw: line,
            });
        }
        b.finish(None)
    }

    #[test]
    fn a_stuck_custom_tool_is_an_open_bar_to_the_end() {
        let s = session_of(include_str!(
            "../../../sample-logs/stuck-custom-tool.sesn_011CZstuckCustomTool0002.jsonl"
        ));
        assert_eq!(s.index.len(), 20);
        let tools = &s.lanes.tools.bars;
        let weather: Vec<_> = tools
            .iter()
            .filter(|b| s.lanes.name(b.name) == "get_weather")
            .collect();
        assert_eq!(weather.len(), 2);
        assert!(!weather[0].is(BAR_OPEN));
        assert!(weather[1].is(BAR_OPEN));
        assert_eq!(weather[1].end, s.end);
        assert!(s.lanes.model.bars.len() >= 2);
        let states = &s.lanes.session.states;
        assert_eq!(states.first(), Some(&Status::Running));
        assert_eq!(states.last(), Some(&Status::Idle));
        let last_reason = *s.lanes.session.reasons.last().expect("reason");
        assert_eq!(s.lanes.name(last_reason), "requires_action");
        // The tool use's opening event is found, and it links to nothing after it.
        let pos = weather[1].pos as usize;
        assert_eq!(
            s.index.type_name(&s.index.events[pos]),
            "agent.custom_tool_use"
        );
        assert_eq!(s.index.linked(pos), None);
    }
}
