//! A session as Chrome trace event JSON, for the Perfetto UI (ui.perfetto.dev) and chrome://tracing.
//!
//! One process for the session and one track (a `tid` with `thread_name` and `thread_sort_index`
//! metadata) per lane: the session's status, the primary thread, each child thread, model
//! requests, permission waits, outcome evaluations, workflow runs and errors. Spans are complete
//! events (`ph: "X"`); open spans reach the end of the recording with `args.open = true`; status
//! bands are complete events too; messages and errors are thread-scoped instants (`ph: "i"`).
//!
//! Times (`ts`, `dur`) are µs since the session's first processed event; `metadata.start_time`
//! (RFC 3339) and `metadata.start_us` (µs since the epoch) say when that was. A track holds only
//! properly nested slices (Perfetto drops complete events that cross a sibling's end), so spans
//! that overlap without nesting, such as parallel tool calls, go to a second track of the same
//! lane, named `… #2`. The output is deterministic: same session, same bytes.
//!
//! Written from one scan, holding what is open and never the session: each span, status band,
//! message and error becomes an item as soon as it is final, the items are sorted by lane and
//! placed on tracks, then sorted by time and written, both sorts spilling to a temporary file
//! past a budget (`spill`). The track names come first in the file, so every item is placed
//! before the first is written.

mod items;

use std::collections::BTreeMap;
use std::io::Write;

use serde_json::{Map, Value, json};

use super::SessionDoc;
use super::spill::{self, Spill};
use crate::analysis::lanes::Grouping;
use crate::analysis::spans::{FinalSpans, Span, SpanKind, StreamCopies};
use crate::analysis::summary::summarize;
use crate::analysis::text::{excerpt, input_excerpt};
use crate::model::catalogue::status_of_type;
use crate::model::typed::Event;
use crate::store::{EventRef, SessionSummary, Store, StoreError, TimelineQuery};
use items::{ByLane, ByTime, Item, Lane, Made};

/// The one process id: the session.
const PID: u32 = 1;

/// Writes the trace of `doc` to `out` (a redacted document; [`write_perfetto_from_store`] reads
/// the store itself and writes the same bytes).
pub fn write_perfetto(doc: &SessionDoc, out: &mut dyn Write) -> std::io::Result<()> {
    let t0 = doc.events.iter().filter_map(|e| e.ts).min();
    let mut g = Gathered::new(t0, spill::BUDGET);
    for e in &doc.events {
        g.push(&e.as_ref());
    }
    g.write(&doc.summary, out)
}

/// Writes the trace of session `summary` to `out` from one scan of its events: only what is
/// still open (spans, the current status, tool inputs of open calls) is held, and the items
/// drawn, past a budget, wait on disk.
pub fn write_perfetto_from_store(
    store: &Store,
    summary: &SessionSummary,
    out: &mut dyn Write,
) -> crate::store::Result<()> {
    write_perfetto_within(store, summary, spill::BUDGET, out)
}

/// As [`write_perfetto_from_store`], holding at most about `budget` bytes of items per sort.
pub(crate) fn write_perfetto_within(
    store: &Store,
    summary: &SessionSummary,
    budget: usize,
    out: &mut dyn Write,
) -> crate::store::Result<()> {
    let g = store.scan_events_pipelined(
        &summary.id,
        &TimelineQuery::default(),
        Gathered::new(summary.first_ts, budget),
        |g, ev| g.push(ev),
    )?;
    g.write(summary, out).map_err(StoreError::Output)
}

/// A session status event (the first copy of each), waiting for the next to end its band.
struct Status {
    event_id: String,
    status: &'static str,
    ts: i64,
    stop_reason: Option<String>,
}

/// What the trace needs of a session's events, gathered one event at a time in session order.
struct Gathered {
    /// The session's first processed time (µs since the epoch): what `ts` counts from.
    t0: i64,
    /// The `processed_at` of the first event at `t0`.
    start_time: Option<String>,
    end: Option<i64>,
    spans: FinalSpans,
    /// The newest status, and how many came before it.
    status: Option<Status>,
    statuses: u64,
    /// Another stream's copies (the same id at the same time) of the statuses and of the
    /// instants: drawn once. Only that: a reused id at another time (placeholder ids) is
    /// another event.
    status_seen: StreamCopies,
    instants: u64,
    instant_seen: StreamCopies,
    /// Tool inputs by the id of their `agent.*tool_use` event, shortened for display, kept
    /// while a span that shows them is held (the first input of an id wins while it is kept:
    /// in a recording with placeholder ids, a call that opens after the last one with its id
    /// ended shows its own input).
    inputs: BTreeMap<String, String>,
    /// How many inputs were kept after they were last pruned.
    inputs_kept: usize,
    /// Each child thread's agent name: the one its newest span (by number) has.
    agent_names: BTreeMap<String, (u64, String)>,
    /// Every item made so far, by lane; the first error writing it.
    items: Spill<ByLane>,
    failed: std::io::Result<()>,
}

impl Gathered {
    fn new(t0: Option<i64>, budget: usize) -> Gathered {
        Gathered {
            t0: t0.unwrap_or_default(),
            start_time: None,
            end: None,
            spans: FinalSpans::default(),
            status: None,
            statuses: 0,
            status_seen: StreamCopies::default(),
            instants: 0,
            instant_seen: StreamCopies::default(),
            inputs: BTreeMap::new(),
            inputs_kept: 0,
            agent_names: BTreeMap::new(),
            items: Spill::with_budget(budget),
            failed: Ok(()),
        }
    }

    fn push(&mut self, e: &EventRef<'_>) {
        if self.failed.is_err() {
            return;
        }
        if let Some(ts) = e.ts {
            if self.t0 == ts && self.start_time.is_none() {
                self.start_time = e.processed_at.map(str::to_string);
            }
            self.end = Some(self.end.map_or(ts, |end| end.max(ts)));
        }
        // Inputs first: a span that shows one is final at the earliest after its opening event.
        self.tool_input(e);
        let mut spans = std::mem::take(&mut self.spans);
        let pushed = spans.push(e, &mut |n, s| self.span(n, &s));
        self.spans = spans;
        self.failed = pushed;
        self.status(e);
        self.instant(e);
        if self.inputs.len() >= 2 * self.inputs_kept + 64 {
            // Only the inputs of the spans still held can be shown again.
            let held: std::collections::HashSet<&str> =
                self.spans.held().map(|s| s.start_id.as_str()).collect();
            self.inputs.retain(|id, _| held.contains(id.as_str()));
            self.inputs_kept = self.inputs.len();
        }
    }

    fn item(&mut self, item: Item) {
        if self.failed.is_ok() {
            self.failed = self.items.push(ByLane(item));
        }
    }

    /// Span number `n`, final.
    fn span(&mut self, n: u64, s: &Span) -> std::io::Result<()> {
        if s.kind == SpanKind::Thread
            && let Some(t) = &s.thread_id
        {
            let newest = self
                .agent_names
                .get(t)
                .is_none_or(|(newest, _)| *newest < n);
            if newest {
                self.agent_names.insert(t.clone(), (n, s.name.clone()));
            }
        }
        let end = self.end.unwrap_or(self.t0);
        let item = span_item(s, n, self.t0, end, &self.inputs);
        self.items.push(ByLane(item))
    }

    fn status(&mut self, e: &EventRef<'_>) {
        if !e.thread_id.is_empty() {
            return;
        }
        let (Some(status), Some(ts)) = (status_of_type(e.event_type), e.ts) else {
            return;
        };
        if self.status_seen.is_copy(e) {
            return;
        }
        let stop_reason = Event::parse(e.raw)
            .kind
            .stop_reason()
            .map(|sr| sr.kind.as_str().to_string());
        let next = Status {
            event_id: e.event_id.to_string(),
            status,
            ts,
            stop_reason,
        };
        if let Some(st) = self.status.replace(next) {
            self.band(st, ts);
        }
    }

    /// The band of status `st`, from its event to `next`.
    fn band(&mut self, st: Status, next: i64) {
        let mut args = Map::new();
        args.insert("event_id".into(), st.event_id.into());
        if let Some(sr) = st.stop_reason {
            args.insert("stop_reason".into(), sr.into());
        }
        let item = Item {
            lane: Lane::Session,
            name: st.status.to_string(),
            cat: "status",
            ts: st.ts - self.t0,
            dur: Some((next - st.ts).max(0)),
            args: Value::Object(args).to_string().into_boxed_str(),
            made: (Made::Status, self.statuses),
            track: 0,
        };
        self.statuses += 1;
        self.item(item);
    }

    /// Messages on their thread's lane, errors on the errors lane.
    fn instant(&mut self, e: &EventRef<'_>) {
        let Some(ts) = e.ts else { return };
        let t = e.event_type;
        let is_message = matches!(t, "user.message" | "agent.message");
        let is_error = matches!(t, "session.error" | "workflow_run.error");
        if !(is_message || is_error) || self.instant_seen.is_copy(e) {
            return;
        }
        let event = Event::parse(e.raw);
        let thread = serde_json::from_str::<ThreadOf>(e.raw)
            .ok()
            .and_then(|t| t.session_thread_id)
            .filter(|s| !s.is_empty())
            .or_else(|| (!e.thread_id.is_empty()).then(|| e.thread_id.to_string()));
        let mut args = Map::new();
        args.insert("event_id".into(), e.event_id.into());
        args.insert("summary".into(), excerpt(&summarize(&event), 300).into());
        if let Some(t) = &thread {
            args.insert("thread_id".into(), t.clone().into());
        }
        let item = Item {
            lane: if is_error {
                Lane::Errors
            } else {
                Lane::Thread(thread)
            },
            name: t.to_string(),
            cat: if is_error { "error" } else { "message" },
            ts: ts - self.t0,
            dur: None,
            args: Value::Object(args).to_string().into_boxed_str(),
            made: (Made::Instant, self.instants),
            track: 0,
        };
        self.instants += 1;
        self.item(item);
    }

    fn tool_input(&mut self, e: &EventRef<'_>) {
        if !matches!(
            e.event_type,
            "agent.tool_use" | "agent.mcp_tool_use" | "agent.custom_tool_use"
        ) || self.inputs.contains_key(e.event_id)
        {
            return;
        }
        let Ok(t) = serde_json::from_str::<ToolUse<'_>>(e.raw) else {
            return;
        };
        let name = t.name.unwrap_or_default();
        // An input nested past the 128 levels a `Value` allows is shown as its raw text.
        let text = match t.input.map(|r| serde_json::from_str::<Value>(r.get())) {
            None => input_excerpt(&name, &Value::Null, 200),
            Some(Ok(input)) => input_excerpt(&name, &input, 200),
            Some(Err(_)) => excerpt(t.input.map_or("", |r| r.get()), 200),
        };
        self.inputs.insert(e.event_id.to_string(), text);
    }

    /// Ends the gathering and writes the trace: the process and track names, then slices and
    /// instants by time.
    fn write(mut self, summary: &SessionSummary, out: &mut dyn Write) -> std::io::Result<()> {
        std::mem::replace(&mut self.failed, Ok(()))?;
        let end = self.end.unwrap_or(self.t0);
        let spans = std::mem::take(&mut self.spans);
        spans.finish(self.end, &mut |n, s| self.span(n, &s))?;
        if let Some(st) = self.status.take() {
            self.band(st, end);
        }
        std::mem::replace(&mut self.failed, Ok(()))?;
        let budget = self.items.budget();
        let by_lane = self.items.sorted();

        // Every lane is drawn, empty or not, so that tracks keep their places from one session
        // to the next; a child thread has a lane when it has an item.
        let mut lanes: BTreeMap<Lane, u32> = [
            Lane::Session,
            Lane::Thread(None),
            Lane::Model,
            Lane::Permission,
            Lane::Evaluation,
            Lane::Workflow,
            Lane::Errors,
        ]
        .into_iter()
        .map(|l| (l, 1))
        .collect();
        // Slices of a lane in (start, longest first) order, each on the first track where it
        // nests: per track, the ends of the slices that enclose the current point.
        let mut by_time = Spill::with_budget(budget);
        let mut lane: Option<Lane> = None;
        let mut tracks: Vec<Vec<i64>> = Vec::new();
        by_lane.for_each(|ByLane(item)| {
            if lane.as_ref() != Some(&item.lane) {
                tracks = vec![Vec::new()];
                lane = Some(item.lane.clone());
            }
            let track = match item.dur {
                None => 0,
                Some(dur) => place(&mut tracks, item.ts, item.ts + dur),
            };
            lanes.insert(item.lane.clone(), tracks.len() as u32);
            by_time.push(ByTime(Item {
                lane: item.lane.clone(),
                name: item.name.clone(),
                args: item.args.clone(),
                track: track as u32,
                ..*item
            }))
        })?;
        drop(by_lane);
        let by_time = by_time.sorted();

        let title = summary.title.clone().unwrap_or_default();
        let process = if title.is_empty() {
            format!("session {}", summary.id)
        } else {
            format!("session {} ({title})", summary.id)
        };
        let metadata = json!({
            "generator": "flightrec",
            "session_id": summary.id,
            "title": title,
            "start_time": self.start_time,
            "start_us": self.t0,
            "time_unit": "ts and dur are µs since start_time",
        });
        out.write_all(b"{\"displayTimeUnit\":\"ms\",\"metadata\":")?;
        serde_json::to_writer(&mut *out, &metadata)?;
        out.write_all(b",\"traceEvents\":[")?;
        let process = json!({"name": "process_name", "ph": "M", "ts": 0, "pid": PID, "tid": 0,
            "args": {"name": process}});
        serde_json::to_writer(&mut *out, &process)?;
        let agent_names: BTreeMap<String, String> = self
            .agent_names
            .into_iter()
            .map(|(t, (_, name))| (t, name))
            .collect();
        // The first tid of each lane; tids count from 1.
        let mut first_tids = BTreeMap::new();
        let mut tid = 0u32;
        for (lane, &count) in &lanes {
            first_tids.insert(lane.clone(), tid + 1);
            let base = lane_name(lane, &agent_names);
            for n in 0..count {
                tid += 1;
                let name = if n == 0 {
                    base.clone()
                } else {
                    format!("{base} #{}", n + 1)
                };
                for e in [
                    json!({"name": "thread_name", "ph": "M", "ts": 0, "pid": PID, "tid": tid,
                    "args": {"name": name}}),
                    json!({"name": "thread_sort_index", "ph": "M", "ts": 0, "pid": PID,
                    "tid": tid, "args": {"sort_index": tid}}),
                ] {
                    out.write_all(b",")?;
                    serde_json::to_writer(&mut *out, &e)?;
                }
            }
        }
        // Each slice or instant becomes text as it is written.
        by_time.for_each(|ByTime(item)| {
            let tid = first_tids.get(&item.lane).copied().unwrap_or_default() + item.track;
            write_item(item, tid, out)
        })?;
        out.write_all(b"]}\n")
    }
}

/// One slice or instant, keys sorted (`args` first).
fn write_item(item: &Item, tid: u32, out: &mut dyn Write) -> std::io::Result<()> {
    let mut e = Map::new();
    e.insert("name".into(), item.name.as_str().into());
    e.insert("cat".into(), item.cat.into());
    e.insert("pid".into(), PID.into());
    e.insert("tid".into(), tid.into());
    e.insert("ts".into(), item.ts.into());
    match item.dur {
        Some(d) => {
            e.insert("ph".into(), "X".into());
            e.insert("dur".into(), d.into());
        }
        None => {
            e.insert("ph".into(), "i".into());
            e.insert("s".into(), "t".into());
        }
    }
    let rest = serde_json::to_string(&e)?;
    out.write_all(b",{\"args\":")?;
    out.write_all(item.args.as_bytes())?;
    out.write_all(b",")?;
    out.write_all(rest.get(1..).unwrap_or_default().as_bytes())
}

/// The track of `tracks` where a slice from `start` to `end` nests (a new one if none).
fn place(tracks: &mut Vec<Vec<i64>>, start: i64, end: i64) -> usize {
    for (i, stack) in tracks.iter_mut().enumerate() {
        while stack.last().is_some_and(|&e| e <= start) {
            stack.pop();
        }
        if stack.last().is_none_or(|&e| e >= end) {
            stack.push(end);
            return i;
        }
    }
    tracks.push(vec![end]);
    tracks.len() - 1
}

fn lane_name(lane: &Lane, agents: &BTreeMap<String, String>) -> String {
    match lane {
        Lane::Session => "session status".into(),
        Lane::Thread(None) => "thread primary".into(),
        Lane::Thread(Some(t)) => match agents.get(t).filter(|a| !a.is_empty()) {
            Some(agent) => format!("thread {t} ({agent})"),
            None => format!("thread {t}"),
        },
        Lane::Model => "model requests".into(),
        Lane::Permission => "permission waits".into(),
        Lane::Evaluation => "outcome evaluations".into(),
        Lane::Workflow => "workflow runs".into(),
        Lane::Errors => "errors".into(),
    }
}

/// The trace's lanes for the shared span lanes: tool calls go to their thread's lane, with the
/// thread's busy stretches (the thread is filled in from the span).
const SPAN_LANES: Grouping<Lane> = Grouping {
    thread: Lane::Thread(None),
    model: Lane::Model,
    tools: Lane::Thread(None),
    permission: Lane::Permission,
    evaluation: Lane::Evaluation,
    workflow: Lane::Workflow,
};

/// The lane a span is drawn on.
fn span_lane(s: &Span) -> Lane {
    match SPAN_LANES.of(s.kind) {
        Lane::Thread(_) => Lane::Thread(s.thread_id.clone()),
        lane => lane.clone(),
    }
}

/// A tool call's name and input, read without building a `Value` of the whole event.
#[derive(serde::Deserialize)]
struct ToolUse<'a> {
    name: Option<String>,
    #[serde(borrow)]
    input: Option<&'a serde_json::value::RawValue>,
}

/// The thread a cross-posted event names.
#[derive(serde::Deserialize)]
struct ThreadOf {
    session_thread_id: Option<String>,
}

/// Span number `n` as an item (`end`: the end of the recording, where open spans stop).
fn span_item(s: &Span, n: u64, t0: i64, end: i64, inputs: &BTreeMap<String, String>) -> Item {
    let start = s.start_ts.unwrap_or(t0);
    let stop = if s.open {
        end
    } else {
        s.end_ts.unwrap_or(start)
    };
    let mut args = Map::new();
    args.insert("kind".into(), s.kind.as_str().into());
    args.insert("start_id".into(), s.start_id.clone().into());
    if let Some(id) = &s.end_id {
        args.insert("end_id".into(), id.clone().into());
    }
    if let Some(t) = &s.thread_id {
        args.insert("thread_id".into(), t.clone().into());
    }
    args.insert("is_error".into(), s.is_error.into());
    args.insert("open".into(), s.open.into());
    if let Some(d) = &s.detail {
        args.insert("detail".into(), d.clone().into());
    }
    if matches!(
        s.kind,
        SpanKind::Tool | SpanKind::McpTool | SpanKind::CustomTool | SpanKind::Permission
    ) && let Some(input) = inputs.get(s.start_id.as_str())
    {
        args.insert("input".into(), input.clone().into());
    }
    if let Some(u) = &s.usage {
        args.insert(
            "usage".into(),
            json!({
                "input_tokens": u.input_tokens,
                "output_tokens": u.output_tokens,
                "cache_creation_input_tokens": u.cache_creation_input_tokens,
                "cache_read_input_tokens": u.cache_read_input_tokens,
            }),
        );
    }
    Item {
        lane: span_lane(s),
        name: s.name.clone(),
        cat: s.kind.as_str(),
        ts: start - t0,
        dur: Some((stop - start).max(0)),
        args: Value::Object(args).to_string().into_boxed_str(),
        made: (Made::Span, n),
        track: 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::testing::rows;
    use crate::store::SessionSummary;

    const EVENTS: &str = r#"{"type":"user.message","id":"sevt_u1","processed_at":"2026-08-07T09:00:00.000Z","content":[{"type":"text","text":"go"}]}
{"type":"session.status_running","id":"sevt_r1","processed_at":"2026-08-07T09:00:00.100Z"}
{"type":"span.model_request_start","id":"sevt_m1","processed_at":"2026-08-07T09:00:00.200Z"}
{"type":"agent.tool_use","id":"sevt_t1","name":"bash","input":{"command":"pytest -q"},"processed_at":"2026-08-07T09:00:01.000Z"}
{"type":"agent.tool_use","id":"sevt_t2","name":"read","input":{"file_path":"a.py"},"processed_at":"2026-08-07T09:00:01.500Z"}
{"type":"span.model_request_end","id":"sevt_m1e","model_request_start_id":"sevt_m1","model_usage":{"input_tokens":100,"output_tokens":20},"processed_at":"2026-08-07T09:00:01.600Z"}
{"type":"agent.tool_result","id":"sevt_t1r","tool_use_id":"sevt_t1","is_error":true,"processed_at":"2026-08-07T09:00:02.000Z"}
{"type":"session.error","id":"sevt_e1","error":{"type":"unknown_error","message":"boom"},"processed_at":"2026-08-07T09:00:02.500Z"}
{"type":"session.status_idle","id":"sevt_i1","stop_reason":{"type":"end_turn"},"processed_at":"2026-08-07T09:00:03.000Z"}"#;

    fn trace() -> Value {
        trace_of(EVENTS)
    }

    fn trace_of(jsonl: &str) -> Value {
        let events = rows(jsonl);
        let mut out = Vec::new();
        let doc = SessionDoc {
            summary: SessionSummary {
                id: "sesn_p".into(),
                title: None,
                event_count: events.len() as u64,
                first_ts: None,
                last_ts: None,
                status: None,
                stop_reason: None,
            },
            object: None,
            events,
            revisions: vec![],
            previews: vec![],
            capture: vec![],
        };
        write_perfetto(&doc, &mut out).expect("written to memory");
        serde_json::from_slice(&out).expect("JSON")
    }

    fn named<'a>(t: &'a Value, name: &str) -> &'a Value {
        let events = t["traceEvents"].as_array().expect("events");
        events
            .iter()
            .find(|e| e["name"] == name && e["ph"] != "M")
            .unwrap_or_else(|| panic!("no {name}"))
    }

    fn track(t: &Value, tid: &Value) -> String {
        let events = t["traceEvents"].as_array().expect("events");
        let m = events
            .iter()
            .find(|e| e["name"] == "thread_name" && &e["tid"] == tid)
            .expect("a named track");
        m["args"]["name"].as_str().unwrap_or_default().to_string()
    }

    #[test]
    fn spans_are_slices_on_their_lanes_in_microseconds_from_the_start() {
        let t = trace();
        let bash = named(&t, "bash");
        assert_eq!(
            (bash["ph"].as_str(), bash["ts"].as_i64()),
            (Some("X"), Some(1_000_000))
        );
        assert_eq!(bash["dur"], 1_000_000);
        assert_eq!(bash["args"]["is_error"], true);
        assert_eq!(bash["args"]["input"], "pytest -q");
        assert_eq!(track(&t, &bash["tid"]), "thread primary");
        // `read` is still open: it reaches the end of the recording, and crosses the end of
        // `bash`, so it goes to a second track of the lane.
        let read = named(&t, "read");
        assert_eq!(read["args"]["open"], true);
        assert_eq!(
            read["ts"]
                .as_i64()
                .zip(read["dur"].as_i64())
                .map(|(a, b)| a + b),
            Some(3_000_000)
        );
        assert_eq!(track(&t, &read["tid"]), "thread primary #2");

        let model = named(&t, "model request");
        assert_eq!(track(&t, &model["tid"]), "model requests");
        assert_eq!(model["args"]["usage"]["output_tokens"], 20);

        let running = named(&t, "running");
        assert_eq!(
            (running["ts"].as_i64(), running["dur"].as_i64()),
            (Some(100_000), Some(2_900_000))
        );
        assert_eq!(named(&t, "idle")["args"]["stop_reason"], "end_turn");

        let error = named(&t, "session.error");
        assert_eq!(
            (error["ph"].as_str(), error["s"].as_str()),
            (Some("i"), Some("t"))
        );
        assert_eq!(track(&t, &error["tid"]), "errors");
        assert_eq!(
            track(&t, &named(&t, "user.message")["tid"]),
            "thread primary"
        );
        assert_eq!(t["metadata"]["start_time"], "2026-08-07T09:00:00.000Z");
    }

    #[test]
    fn every_tool_call_shows_its_input_however_long_it_stays_open() {
        // One call open to the end, while 300 others open and close: inputs are let go as
        // their calls end, never the open one's.
        let mut lines = vec![
            r#"{"type":"agent.tool_use","id":"sevt_open","name":"bash","input":{"command":"sleep 1000"},"processed_at":"2026-08-07T09:00:00.000Z"}"#.to_string(),
        ];
        for i in 0..300 {
            let at = |ms: u32| format!("2026-08-07T09:00:{:02}.{:03}Z", 1 + ms / 1000, ms % 1000);
            lines.push(format!(
                r#"{{"type":"agent.tool_use","id":"sevt_t{i}","name":"bash","input":{{"command":"echo {i}"}},"processed_at":"{}"}}"#,
                at(i * 100)
            ));
            lines.push(format!(
                r#"{{"type":"agent.tool_result","id":"sevt_r{i}","tool_use_id":"sevt_t{i}","processed_at":"{}"}}"#,
                at(i * 100 + 50)
            ));
        }
        let t = trace_of(&lines.join("\n"));
        let events = t["traceEvents"].as_array().expect("events");
        let inputs: Vec<&str> = events
            .iter()
            .filter(|e| e["name"] == "bash")
            .map(|e| e["args"]["input"].as_str().unwrap_or("none"))
            .collect();
        assert_eq!(inputs.len(), 301);
        assert_eq!(inputs[0], "sleep 1000");
        assert_eq!(named(&t, "bash")["args"]["open"], true);
        for (i, input) in inputs[1..].iter().enumerate() {
            assert_eq!(*input, format!("echo {i}"));
        }
    }

    #[test]
    fn overlapping_slices_that_do_not_nest_go_to_another_track() {
        let mut tracks = vec![Vec::new()];
        assert_eq!(place(&mut tracks, 0, 10), 0);
        assert_eq!(place(&mut tracks, 2, 5), 0, "nested");
        assert_eq!(place(&mut tracks, 5, 12), 1, "crosses the end of the first");
        assert_eq!(place(&mut tracks, 10, 11), 0, "after the first ended");
        assert_eq!(place(&mut tracks, 20, 20), 0);
    }
}
