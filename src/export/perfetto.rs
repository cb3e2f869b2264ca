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

use std::collections::{BTreeMap, HashSet};
use std::io::Write;

use serde_json::{Map, Value, json};

use super::SessionDoc;
use crate::analysis::lanes::Grouping;
use crate::analysis::spans::{Span, SpanBuilder, SpanKind};
use crate::analysis::summary::summarize;
use crate::analysis::text::{excerpt, input_excerpt};
use crate::model::catalogue::status_of_type;
use crate::model::typed::Event;
use crate::store::{EventRef, SessionSummary, Store, TimelineQuery};

/// The one process id: the session.
const PID: u32 = 1;

/// A lane: a track, or several when its spans overlap without nesting. Ordered as drawn.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum Lane {
    Session,
    /// `None` is the primary thread.
    Thread(Option<String>),
    Model,
    Permission,
    Evaluation,
    Workflow,
    Errors,
}

/// Something drawn on a lane: a slice (`dur` set) or an instant.
struct Item {
    lane: Lane,
    name: String,
    cat: &'static str,
    ts: i64,
    dur: Option<i64>,
    /// The `args` object as JSON text: a few hundred bytes, not a tree of them.
    args: Box<str>,
}

/// Writes the trace of `doc` to `out` (a redacted document; [`write_perfetto_from_store`] reads
/// the store itself and writes the same bytes).
pub fn write_perfetto(doc: &SessionDoc, out: &mut dyn Write) -> std::io::Result<()> {
    let mut g = Gathered::default();
    for e in &doc.events {
        g.push(&e.as_ref());
    }
    write_gathered(g, &doc.summary, out)
}

/// Writes the trace of session `summary` to `out`, gathered in one scan of its events: only what
/// the trace draws (spans, status bands, messages and errors as short excerpts, tool inputs) is
/// kept, never the events themselves.
pub fn write_perfetto_from_store(
    store: &Store,
    summary: &SessionSummary,
    out: &mut dyn Write,
) -> crate::store::Result<()> {
    let g = store.scan_events_pipelined(
        &summary.id,
        &TimelineQuery::default(),
        Gathered::default(),
        |g, ev| g.push(ev),
    )?;
    write_gathered(g, summary, out).map_err(crate::store::StoreError::Output)
}

/// A session status event (the first copy of each).
struct Status {
    event_id: String,
    status: &'static str,
    ts: i64,
    stop_reason: Option<String>,
}

/// What the trace needs of a session's events, gathered one event at a time in session order.
#[derive(Default)]
struct Gathered {
    /// The first processed time and the `processed_at` of the first event at it.
    t0: Option<i64>,
    start_time: Option<String>,
    end: Option<i64>,
    spans: SpanBuilder,
    statuses: Vec<Status>,
    status_seen: HashSet<String>,
    /// Messages and errors, timed in µs since the epoch until the start is known.
    instants: Vec<Item>,
    instant_seen: HashSet<String>,
    /// Tool inputs by the id of their `agent.*tool_use` event, shortened for display.
    inputs: BTreeMap<String, String>,
}

impl Gathered {
    fn push(&mut self, e: &EventRef<'_>) {
        if let Some(ts) = e.ts {
            if self.t0.is_none_or(|t0| ts < t0) {
                self.t0 = Some(ts);
                self.start_time = None;
            }
            if self.t0 == Some(ts) && self.start_time.is_none() {
                self.start_time = e.processed_at.map(str::to_string);
            }
            self.end = Some(self.end.map_or(ts, |end| end.max(ts)));
        }
        self.spans.push(e);
        self.status(e);
        self.instant(e);
        self.tool_input(e);
    }

    fn status(&mut self, e: &EventRef<'_>) {
        if !e.thread_id.is_empty() {
            return;
        }
        let (Some(status), Some(ts)) = (status_of_type(e.event_type), e.ts) else {
            return;
        };
        if !(e.event_id.is_empty() || self.status_seen.insert(e.event_id.to_string())) {
            return;
        }
        let stop_reason = Event::parse(e.raw)
            .kind
            .stop_reason()
            .map(|sr| sr.kind.as_str().to_string());
        self.statuses.push(Status {
            event_id: e.event_id.to_string(),
            status,
            ts,
            stop_reason,
        });
    }

    /// Messages on their thread's lane, errors on the errors lane.
    fn instant(&mut self, e: &EventRef<'_>) {
        let Some(ts) = e.ts else { return };
        let t = e.event_type;
        let is_message = matches!(t, "user.message" | "agent.message");
        let is_error = matches!(t, "session.error" | "workflow_run.error");
        if !(is_message || is_error)
            || !(e.event_id.is_empty() || self.instant_seen.insert(e.event_id.to_string()))
        {
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
        self.instants.push(Item {
            lane: if is_error {
                Lane::Errors
            } else {
                Lane::Thread(thread)
            },
            name: t.to_string(),
            cat: if is_error { "error" } else { "message" },
            ts,
            dur: None,
            args: Value::Object(args).to_string().into_boxed_str(),
        });
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
}

/// Writes the trace of what was gathered, one event at a time (keys sorted, events in a fixed
/// order: the process and track names, then slices and instants by time).
fn write_gathered(
    g: Gathered,
    summary: &SessionSummary,
    out: &mut dyn Write,
) -> std::io::Result<()> {
    let t0 = g.t0.unwrap_or_default();
    let end = g.end.unwrap_or(t0);
    let start_time = g.start_time;
    let spans = g.spans.finish(g.end);
    let mut items = Vec::new();
    status_bands(&g.statuses, t0, end, &mut items);
    let mut agent_names = BTreeMap::new();
    // Each span is dropped once drawn: the spans and their items are not held twice.
    for s in spans {
        if s.kind == SpanKind::Thread
            && let Some(t) = &s.thread_id
        {
            agent_names.insert(t.clone(), s.name.clone());
        }
        items.push(span_item(&s, t0, end, &g.inputs));
    }
    items.extend(g.instants.into_iter().map(|mut i| {
        i.ts -= t0;
        i
    }));

    // Every lane is drawn, empty or not, so that tracks keep their places from one session to
    // the next; a child thread has a lane when it has a span.
    let mut lanes: BTreeMap<Lane, Vec<usize>> = [
        Lane::Session,
        Lane::Thread(None),
        Lane::Model,
        Lane::Permission,
        Lane::Evaluation,
        Lane::Workflow,
        Lane::Errors,
    ]
    .into_iter()
    .map(|l| (l, Vec::new()))
    .collect();
    // Slices of a lane in (start, longest first) order, each on the first track where it nests.
    items.sort_by(|a, b| {
        (a.ts, std::cmp::Reverse(a.dur))
            .cmp(&(b.ts, std::cmp::Reverse(b.dur)))
            .then_with(|| a.name.cmp(&b.name))
    });
    for (i, item) in items.iter().enumerate() {
        lanes.entry(item.lane.clone()).or_default().push(i);
    }
    let mut events = Vec::new();
    let mut tids = vec![0u32; items.len()];
    let mut tid = 0u32;
    for (lane, lane_items) in &lanes {
        let base = lane_name(lane, &agent_names);
        // Per track: the ends of the slices that enclose the current point.
        let mut tracks: Vec<Vec<i64>> = vec![Vec::new()];
        let first_tid = tid + 1;
        for &i in lane_items {
            let item = &items[i];
            let track = match item.dur {
                None => 0,
                Some(dur) => place(&mut tracks, item.ts, item.ts + dur),
            };
            tids[i] = first_tid + track as u32;
        }
        for (n, _) in tracks.iter().enumerate() {
            tid += 1;
            let name = if n == 0 {
                base.clone()
            } else {
                format!("{base} #{}", n + 1)
            };
            events.push(
                json!({"name": "thread_name", "ph": "M", "ts": 0, "pid": PID, "tid": tid,
                "args": {"name": name}}),
            );
            events.push(
                json!({"name": "thread_sort_index", "ph": "M", "ts": 0, "pid": PID,
                "tid": tid, "args": {"sort_index": tid}}),
            );
        }
    }
    let mut drawn: Vec<(u32, Item)> = tids.into_iter().zip(items).collect();
    drawn.sort_by_key(|(tid, item)| (item.ts, *tid));

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
        "start_time": start_time,
        "start_us": t0,
        "time_unit": "ts and dur are µs since start_time",
    });
    out.write_all(b"{\"displayTimeUnit\":\"ms\",\"metadata\":")?;
    serde_json::to_writer(&mut *out, &metadata)?;
    out.write_all(b",\"traceEvents\":[")?;
    let process = json!({"name": "process_name", "ph": "M", "ts": 0, "pid": PID, "tid": 0,
        "args": {"name": process}});
    serde_json::to_writer(&mut *out, &process)?;
    for e in events {
        out.write_all(b",")?;
        serde_json::to_writer(&mut *out, &e)?;
    }
    // Each slice or instant becomes text as it is written: a large session is not held twice.
    for (tid, item) in drawn {
        let mut e = Map::new();
        e.insert("name".into(), item.name.into());
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
        // Keys are written sorted, and `args` sorts first.
        let rest = serde_json::to_string(&e)?;
        out.write_all(b",{\"args\":")?;
        out.write_all(item.args.as_bytes())?;
        out.write_all(b",")?;
        out.write_all(rest.get(1..).unwrap_or_default().as_bytes())?;
    }
    out.write_all(b"]}\n")
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

fn span_item(s: &Span, t0: i64, end: i64, inputs: &BTreeMap<String, String>) -> Item {
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
    }
}

/// One band per session status, from its event to the next status event (or the end).
fn status_bands(statuses: &[Status], t0: i64, end: i64, items: &mut Vec<Item>) {
    for (i, st) in statuses.iter().enumerate() {
        let next = statuses.get(i + 1).map_or(end, |n| n.ts);
        let mut args = Map::new();
        args.insert("event_id".into(), st.event_id.clone().into());
        if let Some(sr) = &st.stop_reason {
            args.insert("stop_reason".into(), sr.clone().into());
        }
        items.push(Item {
            lane: Lane::Session,
            name: st.status.to_string(),
            cat: "status",
            ts: st.ts - t0,
            dur: Some((next - st.ts).max(0)),
            args: Value::Object(args).to_string().into_boxed_str(),
        });
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
        let events = rows(EVENTS);
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
    fn overlapping_slices_that_do_not_nest_go_to_another_track() {
        let mut tracks = vec![Vec::new()];
        assert_eq!(place(&mut tracks, 0, 10), 0);
        assert_eq!(place(&mut tracks, 2, 5), 0, "nested");
        assert_eq!(place(&mut tracks, 5, 12), 1, "crosses the end of the first");
        assert_eq!(place(&mut tracks, 10, 11), 0, "after the first ended");
        assert_eq!(place(&mut tracks, 20, 20), 0);
    }
}
