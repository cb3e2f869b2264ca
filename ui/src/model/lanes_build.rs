//! Builds [`Lanes`] from a session's events in time order and the spans the core pairs from
//! them (`flightrec::analysis::spans`): the lanes keep only times, interned names and flags.

use rustc_hash::FxHashMap;
use serde::Deserialize;
use std::borrow::Cow;

use super::index::{ERROR, Ev};
use super::lanes::{
    BAR_ERROR, BAR_OPEN, BAR_WAITING, BandLane, Bar, BarLane, Lanes, MarkerKind, NO_POS, Status,
};
use flightrec::analysis::lanes::Grouping;
use flightrec::analysis::{Span, SpanKind};
use flightrec::store::EventRef;

#[derive(Deserialize, Default)]
#[serde(default)]
struct StopReason<'a> {
    #[serde(borrow, rename = "type")]
    kind: Option<Cow<'a, str>>,
}

/// The fields of status events the bands need.
#[derive(Deserialize, Default)]
#[serde(default)]
struct StatusFields<'a> {
    #[serde(borrow)]
    session_thread_id: Option<Cow<'a, str>>,
    #[serde(borrow)]
    agent_name: Option<Cow<'a, str>>,
    #[serde(borrow)]
    stop_reason: Option<StopReason<'a>>,
}

/// The viewer's bar lanes.
#[derive(Clone, Copy)]
enum BarSlot {
    Model,
    Tools,
    Waits,
    Work,
}

/// The viewer's bar lanes for the shared span lanes: evaluations and workflows share one, and
/// threads have their status bands instead of bars.
const BAR_LANES: Grouping<Option<BarSlot>> = Grouping {
    thread: None,
    model: Some(BarSlot::Model),
    tools: Some(BarSlot::Tools),
    permission: Some(BarSlot::Waits),
    evaluation: Some(BarSlot::Work),
    workflow: Some(BarSlot::Work),
};

/// Collects bands and markers from events; bars come from spans at [`LaneBuilder::finish`].
#[derive(Default)]
pub struct LaneBuilder {
    lanes: Lanes,
    name_ids: FxHashMap<String, u32>,
    /// Thread id → index in `lanes.threads`.
    threads: FxHashMap<String, usize>,
}

impl LaneBuilder {
    pub fn new() -> LaneBuilder {
        let mut b = LaneBuilder::default();
        b.intern("");
        b.lanes.session.label = "session".into();
        b
    }

    /// Continues lanes already built, to append later events and re-paired spans to them.
    pub fn resume(lanes: Lanes) -> LaneBuilder {
        let name_ids = lanes
            .names
            .iter()
            .enumerate()
            .map(|(i, n)| (n.clone(), i as u32))
            .collect();
        let threads = lanes
            .thread_ids
            .iter()
            .enumerate()
            .map(|(i, t)| (t.clone(), i))
            .collect();
        LaneBuilder {
            lanes,
            name_ids,
            threads,
        }
    }

    fn intern(&mut self, name: &str) -> u32 {
        if let Some(&id) = self.name_ids.get(name) {
            return id;
        }
        let id = self.lanes.names.len() as u32;
        self.lanes.names.push(name.to_string());
        self.name_ids.insert(name.to_string(), id);
        id
    }

    fn thread_lane(&mut self, thread: &str, agent: Option<&str>) -> &mut BandLane {
        let n = self.lanes.threads.len();
        let i = *self.threads.entry(thread.to_string()).or_insert(n);
        if i == n {
            self.lanes.threads.push(BandLane::default());
            self.lanes.thread_ids.push(thread.to_string());
        }
        let lane = &mut self.lanes.threads[i];
        if lane.label.is_empty() || agent.is_some() {
            let short = thread
                .get(thread.len().saturating_sub(6)..)
                .unwrap_or(thread);
            lane.label = match agent {
                Some(a) if !a.is_empty() => a.to_string(),
                _ => format!("thread …{short}"),
            };
        }
        lane
    }

    /// Takes the next event in time order, at index position `pos` (`ev` is its index entry).
    pub fn push(&mut self, row: &EventRef<'_>, pos: u32, ev: &Ev) {
        let Some(ts) = row.ts else { return };
        let t = row.event_type;
        if ev.flags & ERROR != 0 {
            self.lanes.errors.push(ts, MarkerKind::Error, pos);
        }
        match t {
            "user.message" | "user.interrupt" | "system.message" => {
                self.lanes.messages.push(ts, MarkerKind::User, pos)
            }
            "agent.message" => self.lanes.messages.push(ts, MarkerKind::Agent, pos),
            "agent.thread_message_sent" | "agent.thread_message_received" => {
                self.lanes.messages.push(ts, MarkerKind::ThreadMessage, pos)
            }
            _ => {}
        }
        let status = match t {
            "session.status_running" | "session.thread_status_running" => Status::Running,
            "session.status_idle" | "session.thread_status_idle" => Status::Idle,
            "session.status_rescheduled" | "session.thread_status_rescheduled" => {
                Status::Rescheduling
            }
            "session.status_terminated"
            | "session.deleted"
            | "session.thread_status_terminated" => Status::Terminated,
            "session.thread_created" => Status::Created,
            _ => return,
        };
        let f: StatusFields = serde_json::from_str(row.raw).unwrap_or_default();
        let reason = match f.stop_reason.and_then(|s| s.kind) {
            Some(r) => self.intern(&r),
            None => 0,
        };
        if t.starts_with("session.thread_") {
            let thread = f.session_thread_id.as_deref().unwrap_or_default();
            let lane = self.thread_lane(thread, f.agent_name.as_deref());
            lane.push(ts, status, reason, pos);
        } else {
            self.lanes.session.push(ts, status, reason, pos);
        }
    }

    /// The lanes, with bars from `spans`; `pos_of` finds a span's opening event by id, `end`
    /// is the end of the recording (where open spans are drawn to).
    pub fn finish(
        self,
        spans: Vec<Span>,
        pos_of: impl Fn(&str) -> Option<u32>,
        start: i64,
        end: i64,
    ) -> Lanes {
        self.finish_since(i64::MIN, spans, pos_of, start, end)
    }

    /// Like [`LaneBuilder::finish`] for resumed lanes: the bars starting before `since` are
    /// kept, the others replaced by bars from `spans` (paired again from the events since then).
    pub fn finish_since(
        mut self,
        since: i64,
        spans: Vec<Span>,
        pos_of: impl Fn(&str) -> Option<u32>,
        start: i64,
        end: i64,
    ) -> Lanes {
        let kept = |lane: &mut BarLane| {
            let mut bars = std::mem::take(&mut lane.bars);
            bars.retain(|b| b.start < since);
            bars
        };
        let mut model = kept(&mut self.lanes.model);
        let mut tools = kept(&mut self.lanes.tools);
        let mut waits = kept(&mut self.lanes.waits);
        let mut work = kept(&mut self.lanes.work);
        for s in spans {
            let Some(from) = s.start_ts.filter(|&t| t >= since) else {
                continue;
            };
            let lane = match BAR_LANES.of(s.kind) {
                Some(BarSlot::Model) => &mut model,
                Some(BarSlot::Tools) => &mut tools,
                Some(BarSlot::Waits) => &mut waits,
                Some(BarSlot::Work) => &mut work,
                None => continue,
            };
            let mut flags = 0;
            if s.is_error {
                flags |= BAR_ERROR;
            }
            if matches!(s.kind, SpanKind::Permission | SpanKind::CustomTool) {
                flags |= BAR_WAITING;
            }
            let to = if s.open {
                flags |= BAR_OPEN;
                end.max(from)
            } else {
                s.end_ts.unwrap_or(from).max(from)
            };
            let tokens = s.usage.as_ref().map_or([0; 3], |u| {
                [u.input_tokens, u.output_tokens, u.cache_read_input_tokens]
                    .map(|v| u32::try_from(v).unwrap_or(u32::MAX))
            });
            let name = self.intern(&s.name);
            lane.push(Bar {
                start: from,
                end: to,
                name,
                kind: s.kind,
                flags,
                row: 0,
                pos: pos_of(&s.start_id).unwrap_or(NO_POS),
                tokens,
            });
        }
        let total = (end - start).max(1);
        self.lanes.model = BarLane::new("model", model, total);
        self.lanes.tools = BarLane::new("tools", tools, total);
        self.lanes.waits = BarLane::new("permission", waits, total);
        self.lanes.work = BarLane::new("outcomes & runs", work, total);
        self.lanes.messages.label = "messages".into();
        self.lanes.errors.label = "errors".into();
        self.lanes.end = end;
        self.lanes
    }
}
