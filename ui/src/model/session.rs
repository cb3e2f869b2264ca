//! One opened session as the viewer holds it: the summary, the compact index and the lanes,
//! built in one pass over the events (pure: the loader feeds it from the store).

use flightrec::analysis::spans::{SLIM_TYPES, SPAN_TYPES, SpanBuilder};
use flightrec::store::{EventRef, SessionSummary};

use super::index::{EventIndex, IndexBuilder, QUEUED_TS};
use super::lanes::{BAR_OPEN, Lanes};
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

/// Span types that name what later span events use (a run's phase names): pairing spans again
/// from a point (see [`SessionData::append`]) first reads these from before it.
pub const SPAN_CONTEXT_TYPES: &[&str] = &["workflow_run.created"];

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

impl SessionData {
    /// The time and seq of the last event, the key later events must sort after to be appended.
    pub fn last_key(&self) -> Option<(i64, i64)> {
        self.index.events.last().map(|e| (e.ts, e.seq))
    }

    /// Where spans must be paired again for events from `first_new` on: the start of the
    /// earliest bar still open, if earlier.
    pub fn repair_since(&self, first_new: i64) -> i64 {
        let l = &self.lanes;
        [&l.model, &l.tools, &l.waits, &l.work]
            .iter()
            .flat_map(|lane| lane.bars.iter())
            .filter(|b| b.is(BAR_OPEN))
            .map(|b| b.start)
            .fold(first_new, i64::min)
    }

    /// Appends `rows`, later events in time order that all sort after [`SessionData::last_key`],
    /// without reading the session again:
    /// - `earlier` gives the position of an already loaded event a new row links to, by id;
    /// - `spans` has paired the span events from `since` (see [`SessionData::repair_since`]) on,
    ///   after the [`SPAN_CONTEXT_TYPES`] before it, and `located` gives the seq and time of the
    ///   events it read, by id.
    ///
    /// Bars starting before `since` are kept; later ones are replaced by the new pairing.
    pub fn append(
        &mut self,
        summary: Option<SessionSummary>,
        rows: &[EventRef<'_>],
        earlier: impl Fn(&str) -> Option<u32>,
        since: i64,
        spans: SpanBuilder,
        located: impl Fn(&str) -> Option<(i64, Option<i64>)>,
    ) {
        let data = std::mem::take(self);
        let range = data.index.time_range();
        let mut index = IndexBuilder::resume(data.index);
        let mut lanes = LaneBuilder::resume(data.lanes);
        let (mut first, mut last) = (range.map(|r| r.0), range.map(|r| r.1));
        for row in rows {
            let pos = index.len() as u32;
            index.push_linked(row, row.link_id.and_then(&earlier));
            let Some(&ev) = index.last() else { continue };
            lanes.push(row, pos, &ev);
            if let Some(ts) = row.ts.filter(|&t| t != QUEUED_TS) {
                first.get_or_insert(ts);
                last = Some(last.map_or(ts, |l| l.max(ts)));
            }
        }
        let start = first.unwrap_or(0);
        let end = last.unwrap_or(start);
        let index = index.finish();
        let pos_of = |id: &str| {
            let (seq, ts) = located(id)?;
            index.position(seq, ts).and_then(|p| u32::try_from(p).ok())
        };
        let lanes = lanes.finish_since(since, spans.finish(Some(end)), pos_of, start, end);
        *self = SessionData {
            summary: summary.or(data.summary),
            index,
            lanes,
            start,
            end,
        };
    }
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

    /// The fields of one event of a JSON Lines text, owned.
    pub struct Owned {
        seq: i64,
        id: String,
        ty: String,
        ts: Option<i64>,
        link: Option<String>,
        raw: String,
    }

    impl Owned {
        fn as_ref(&self) -> EventRef<'_> {
            EventRef {
                seq: self.seq,
                event_id: &self.id,
                event_type: &self.ty,
                processed_at: None,
                ts: self.ts,
                thread_id: "",
                link_id: self.link.as_deref(),
                raw: &self.raw,
            }
        }
    }

    /// The events of a JSON Lines text, in time order as the store would hand them over.
    pub fn rows_of(jsonl: &str) -> Vec<Owned> {
        let lines: Vec<_> = jsonl.lines().filter(|l| !l.trim().is_empty()).collect();
        let mut rows: Vec<Owned> = lines
            .iter()
            .enumerate()
            .map(|(i, line)| {
                let v: serde_json::Value = serde_json::from_str(line).expect("json");
                let link = [
                    "tool_use_id",
                    "custom_tool_use_id",
                    "mcp_tool_use_id",
                    "model_request_start_id",
                ]
                .iter()
                .find_map(|k| v[k].as_str().map(str::to_string));
                Owned {
                    seq: i as i64 + 1,
                    id: v["id"].as_str().unwrap_or_default().to_string(),
                    ty: v["type"].as_str().unwrap_or_default().to_string(),
                    ts: v["processed_at"]
                        .as_str()
                        .and_then(flightrec::model::time::parse_timestamp_micros),
                    link,
                    raw: line.to_string(),
                }
            })
            .collect();
        rows.sort_by_key(|r| (r.ts.unwrap_or(QUEUED_TS), r.seq));
        rows
    }

    /// Builds a session from JSON Lines text, as the store would hand it over (time order).
    pub fn session_of(jsonl: &str) -> SessionData {
        let mut b = SessionBuilder::default();
        for r in rows_of(jsonl) {
            b.push(&r.as_ref());
        }
        b.finish(None)
    }

    /// Loads the first `k` rows, then appends the rest as live follow does.
    fn loaded_then_appended(rows: &[Owned], k: usize) -> SessionData {
        let mut b = SessionBuilder::default();
        for r in &rows[..k] {
            b.push(&r.as_ref());
        }
        let mut data = b.finish(None);
        let Some(first_new) = rows.get(k) else {
            return data;
        };
        let since = data.repair_since(first_new.ts.unwrap_or(QUEUED_TS));
        let mut spans = SpanBuilder::default();
        let before = |r: &&Owned| r.ts.unwrap_or(QUEUED_TS) < since;
        for r in rows.iter().filter(before) {
            if SPAN_CONTEXT_TYPES.contains(&r.ty.as_str()) {
                spans.push(&r.as_ref());
            }
        }
        for r in rows.iter().filter(|r| r.ts.unwrap_or(QUEUED_TS) >= since) {
            if SPAN_TYPES.contains(&r.ty.as_str()) {
                spans.push(&r.as_ref());
            }
        }
        let positions: std::collections::HashMap<&str, u32> = rows[..k]
            .iter()
            .enumerate()
            .map(|(i, r)| (r.id.as_str(), i as u32))
            .collect();
        let refs: Vec<EventRef<'_>> = rows[k..].iter().map(Owned::as_ref).collect();
        data.append(
            None,
            &refs,
            |id| positions.get(id).copied(),
            since,
            spans,
            |id| rows.iter().find(|r| r.id == id).map(|r| (r.seq, r.ts)),
        );
        data
    }

    /// Appending events one poll at a time gives the session a single load of them gives,
    /// whatever the split: index, links, bands, markers and bars (open ones closed by later
    /// events included).
    #[test]
    fn appending_later_events_equals_loading_them_all() {
        for text in [
            include_str!(
                "../../../sample-logs/stuck-custom-tool.sesn_011CZstuckCustomTool0002.jsonl"
            ),
            include_str!("../../../sample-logs/happy-path.sesn_011CZhappyPath0000000001.jsonl"),
            include_str!("../../../sample-logs/mcp-failure.sesn_011CZmcpFailure000000009.jsonl"),
            include_str!(
                "../../../sample-logs/resolved-confirmation.sesn_011CZresolvedConfirm0005.jsonl"
            ),
            include_str!("../../../sample-logs/workflow-run.sesn_011CZworkflowRun00000014.jsonl"),
        ] {
            let rows = rows_of(text);
            let whole = session_of(text);
            for k in 1..rows.len() {
                let got = loaded_then_appended(&rows, k);
                assert_same(&got, &whole, &format!("split at {k}"));
            }
        }
    }

    /// Asserts two loads of a session agree: index, links, bands, markers and bars.
    pub(crate) fn assert_same(got: &SessionData, whole: &SessionData, at: &str) {
        assert_eq!(got.index.events, whole.index.events, "{at}");
        assert_eq!(got.index.links, whole.index.links, "{at}");
        assert_eq!(got.index.back_links, whole.index.back_links, "{at}");
        assert_eq!((got.start, got.end), (whole.start, whole.end), "{at}");
        let l = (&got.lanes, &whole.lanes);
        assert_eq!(l.0.session.states, l.1.session.states, "{at}");
        // Names are interned in another order; the names themselves must agree.
        let reasons = |lanes: &Lanes| {
            let r = &lanes.session.reasons;
            r.iter()
                .map(|&n| lanes.name(n).to_string())
                .collect::<Vec<_>>()
        };
        assert_eq!(reasons(l.0), reasons(l.1), "{at}");
        assert_eq!(l.0.session.pos, l.1.session.pos, "{at}");
        assert_eq!(l.0.thread_ids, l.1.thread_ids, "{at}");
        for (a, b) in [(&l.0.messages, &l.1.messages), (&l.0.errors, &l.1.errors)] {
            assert_eq!((&a.ts, &a.kinds, &a.pos), (&b.ts, &b.kinds, &b.pos), "{at}");
        }
        for (a, b) in [
            (&l.0.model, &l.1.model),
            (&l.0.tools, &l.1.tools),
            (&l.0.waits, &l.1.waits),
            (&l.0.work, &l.1.work),
        ] {
            let bars = |lanes: &Lanes, lane: &crate::model::lanes::BarLane| {
                lane.bars
                    .iter()
                    .map(|b| {
                        (
                            b.start,
                            b.end,
                            b.flags,
                            b.pos,
                            lanes.name(b.name).to_string(),
                        )
                    })
                    .collect::<Vec<_>>()
            };
            assert_eq!(bars(l.0, a), bars(l.1, b), "{} {at}", a.label);
        }
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
