//! Spans: pairs of events that open and close something that takes time (§5 of the reference).
//!
//! A tool call, an MCP or custom tool call, a wait for a permission, a model request, an outcome
//! evaluation, a thread's life, a workflow run and each of its phases. Each span names its opening
//! and closing event ids; a span with no closing event is open, with its age at the end of the
//! recording.
//!
//! Events copied to several streams (a child thread's events cross-posted to the primary stream)
//! count once: the first copy in time order wins.

use rustc_hash::FxHashMap as HashMap;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::borrow::Cow;

use crate::analysis::checkpoint;
use crate::model::typed::{ModelUsage, WorkflowPhase};
use crate::store::{EventRef, EventRow};

/// The event types that open, close or mark a span: what a store read for spans asks for.
pub const SPAN_TYPES: &[&str] = &[
    "agent.tool_use",
    "agent.tool_result",
    "user.tool_result",
    "agent.mcp_tool_use",
    "agent.mcp_tool_result",
    "agent.custom_tool_use",
    "user.custom_tool_result",
    "user.tool_confirmation",
    "span.model_request_start",
    "span.model_request_end",
    "span.outcome_evaluation_start",
    "span.outcome_evaluation_ongoing",
    "span.outcome_evaluation_end",
    "session.thread_created",
    "session.thread_status_running",
    "session.thread_status_idle",
    "session.thread_status_terminated",
    "session.status_terminated",
    "session.deleted",
    "workflow_run.created",
    "workflow_run.status_ended",
    "workflow_run.error",
    "workflow_run.phase_started",
    "workflow_run.phase_ended",
];

/// The closing types whose content spans never read: a store may hand them over with only
/// `is_error` and `session_thread_id` (see `TimelineQuery::slim_types`).
pub const SLIM_TYPES: &[&str] = &[
    "agent.tool_result",
    "user.tool_result",
    "agent.mcp_tool_result",
    "user.custom_tool_result",
];

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SpanKind {
    /// `agent.tool_use` → `agent.tool_result` (or `user.tool_result` when self-hosted).
    Tool,
    /// `agent.mcp_tool_use` → `agent.mcp_tool_result`.
    McpTool,
    /// `agent.custom_tool_use` → `user.custom_tool_result`.
    CustomTool,
    /// A tool use with `evaluated_permission: ask` → `user.tool_confirmation`.
    Permission,
    /// `span.model_request_start` → `span.model_request_end`.
    ModelRequest,
    /// `span.outcome_evaluation_start` → `span.outcome_evaluation_end`.
    OutcomeEvaluation,
    /// A thread's busy stretch: `session.thread_created` (or a `session.thread_status_running`
    /// after an idle) → `session.thread_status_idle` or `session.thread_status_terminated`. An
    /// idle thread is not open: it may run again, which opens another span.
    Thread,
    /// `workflow_run.created` → `workflow_run.status_ended`.
    WorkflowRun,
    /// `workflow_run.phase_started` → `workflow_run.phase_ended`.
    WorkflowPhase,
}

impl SpanKind {
    pub const ALL: [SpanKind; 9] = [
        SpanKind::Tool,
        SpanKind::McpTool,
        SpanKind::CustomTool,
        SpanKind::Permission,
        SpanKind::ModelRequest,
        SpanKind::OutcomeEvaluation,
        SpanKind::Thread,
        SpanKind::WorkflowRun,
        SpanKind::WorkflowPhase,
    ];

    /// The name used on the command line and in JSON (`mcp_tool`, `model_request`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            SpanKind::Tool => "tool",
            SpanKind::McpTool => "mcp_tool",
            SpanKind::CustomTool => "custom_tool",
            SpanKind::Permission => "permission",
            SpanKind::ModelRequest => "model_request",
            SpanKind::OutcomeEvaluation => "outcome_evaluation",
            SpanKind::Thread => "thread",
            SpanKind::WorkflowRun => "workflow_run",
            SpanKind::WorkflowPhase => "workflow_phase",
        }
    }

    pub fn parse(s: &str) -> Option<SpanKind> {
        SpanKind::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

impl std::fmt::Display for SpanKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Span {
    pub kind: SpanKind,
    /// Tool name (`github.create_issue` for MCP tools), agent name for threads, run or phase
    /// name, `outcome_id#iteration` for evaluations, the model speed or `model request`.
    pub name: String,
    /// The session thread the span ran on (`sthr_…`), `None` for the primary thread.
    pub thread_id: Option<String>,
    pub start_id: String,
    #[serde(deserialize_with = "span_type")]
    pub start_type: checkpoint::StaticStr,
    pub end_id: Option<String>,
    #[serde(default, deserialize_with = "opt_span_type")]
    pub end_type: Option<checkpoint::StaticStr>,
    pub started_at: Option<String>,
    pub ended_at: Option<String>,
    /// µs since the epoch (internal; the JSON carries the RFC 3339 times, checkpoints both).
    #[serde(default, skip_serializing_if = "checkpoint::outside")]
    pub start_ts: Option<i64>,
    #[serde(default, skip_serializing_if = "checkpoint::outside")]
    pub end_ts: Option<i64>,
    #[serde(default, with = "checkpoint::opt_f64")]
    pub duration_ms: Option<f64>,
    /// True when the span has no closing event in the recording.
    pub open: bool,
    /// For open spans: how long it had been open at the end of the recording.
    #[serde(default, with = "checkpoint::opt_f64")]
    pub age_ms: Option<f64>,
    pub is_error: bool,
    /// Model usage (model requests and outcome evaluations).
    pub usage: Option<ModelUsage>,
    /// What else there is to say: `allow`/`deny` for permissions, a denial, an outcome result,
    /// a run's result, the number of `ongoing` marks.
    pub detail: Option<String>,
    /// Only the closing event is in the recording (a capture that began mid-request): the span
    /// is counted, its start and duration unknown. `start_id` is then the id the closing event
    /// links to.
    #[serde(default, skip_serializing_if = "is_false")]
    pub partial: bool,
}

fn is_false(b: &bool) -> bool {
    !*b
}

/// A span's event type back from a checkpoint, as one of [`SPAN_TYPES`].
fn span_type<'de, D: serde::Deserializer<'de>>(d: D) -> Result<&'static str, D::Error> {
    Ok(static_type(&String::deserialize(d)?))
}

fn opt_span_type<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<&'static str>, D::Error> {
    Ok(Option::<String>::deserialize(d)?.map(|t| static_type(&t)))
}

impl Span {
    fn open(kind: SpanKind, name: String, thread_id: Option<String>, row: &EventRef<'_>) -> Span {
        Span {
            kind,
            name,
            thread_id,
            start_id: row.event_id.to_string(),
            start_type: static_type(row.event_type),
            end_id: None,
            end_type: None,
            started_at: row.processed_at.map(str::to_string),
            ended_at: None,
            start_ts: row.ts,
            end_ts: None,
            duration_ms: None,
            open: true,
            age_ms: None,
            is_error: false,
            usage: None,
            detail: None,
            partial: false,
        }
    }

    fn close(&mut self, row: &EventRef<'_>) {
        self.end_id = Some(row.event_id.to_string());
        self.end_type = Some(static_type(row.event_type));
        self.ended_at = row.processed_at.map(str::to_string);
        self.end_ts = row.ts;
        self.open = false;
        self.duration_ms = match (self.start_ts, row.ts) {
            (Some(a), Some(b)) => Some(micros_to_ms(b - a)),
            _ => None,
        };
    }

    /// Closed by a decision recorded on the opening event itself (a tool denied by policy).
    fn close_at_start(&mut self) {
        self.open = false;
        self.duration_ms = Some(0.0);
    }
}

/// The span event type `t` as one of [`SPAN_TYPES`] (spans are only made of those).
fn static_type(t: &str) -> &'static str {
    SPAN_TYPES
        .iter()
        .find(|s| **s == t)
        .copied()
        .unwrap_or("unknown")
}

fn micros_to_ms(us: i64) -> f64 {
    us as f64 / 1000.0
}

/// The fields spans read, borrowed from the raw text; everything else is skipped.
#[derive(Deserialize, Default)]
#[serde(default)]
struct Fields<'a> {
    #[serde(borrow)]
    name: Option<Cow<'a, str>>,
    #[serde(borrow)]
    mcp_server_name: Option<Cow<'a, str>>,
    #[serde(borrow)]
    evaluated_permission: Option<Cow<'a, str>>,
    #[serde(borrow)]
    session_thread_id: Option<Cow<'a, str>>,
    #[serde(borrow)]
    agent_name: Option<Cow<'a, str>>,
    #[serde(borrow)]
    outcome_id: Option<Cow<'a, str>>,
    iteration: Option<u32>,
    #[serde(borrow)]
    workflow_run_id: Option<Cow<'a, str>>,
    #[serde(borrow)]
    workflow_run_phase_id: Option<Cow<'a, str>>,
    phases: Option<Vec<WorkflowPhase>>,
    is_error: Option<bool>,
    model_usage: Option<Usage<'a>>,
    usage: Option<Usage<'a>>,
    /// A string (confirmations, outcome ends) or an object (workflow run ends).
    result: Option<Value>,
    error: Option<Value>,
    #[serde(borrow)]
    deny_message: Option<Cow<'a, str>>,
    stop_reason: Option<Value>,
}

/// `ModelUsage` without its catch-all map (flattening makes serde buffer every field).
#[derive(Deserialize, Default)]
#[serde(default)]
struct Usage<'a> {
    input_tokens: u64,
    output_tokens: u64,
    cache_creation_input_tokens: u64,
    cache_read_input_tokens: u64,
    #[serde(borrow)]
    speed: Option<Cow<'a, str>>,
}

impl From<&Usage<'_>> for ModelUsage {
    fn from(u: &Usage<'_>) -> ModelUsage {
        ModelUsage {
            input_tokens: u.input_tokens,
            output_tokens: u.output_tokens,
            cache_creation_input_tokens: u.cache_creation_input_tokens,
            cache_read_input_tokens: u.cache_read_input_tokens,
            speed: u.speed.as_deref().map(str::to_string),
            extra: Default::default(),
        }
    }
}

/// What the builders read of one event, parsed once, when the first builder reads it: a fold
/// that pushes an event to several builders ([`SpanBuilder::push_read`]) parses it once, not
/// once for each, and not at all when none takes it.
pub struct SpanFields<'a> {
    /// The event's text, when its type's spans read fields.
    raw: Option<&'a str>,
    fields: std::cell::OnceCell<Fields<'a>>,
}

impl<'a> SpanFields<'a> {
    /// The fields of `row`, to be parsed when read; nothing is for a type whose span reads none.
    pub fn of(row: &EventRef<'a>) -> SpanFields<'a> {
        SpanFields {
            raw: reads_fields(row.event_type).then_some(row.raw),
            fields: std::cell::OnceCell::new(),
        }
    }

    fn get(&self) -> &Fields<'a> {
        self.fields.get_or_init(|| match self.raw {
            Some(raw) => serde_json::from_str(raw).unwrap_or_default(),
            None => Fields::default(),
        })
    }
}

/// Whether a builder reads the fields of an event of type `t` (the span types but the starts
/// of model requests, the ends of phases and the session's end, which carry nothing spans read).
fn reads_fields(t: &str) -> bool {
    SPAN_TYPES.contains(&t)
        && !matches!(
            t,
            "span.model_request_start"
                | "workflow_run.phase_ended"
                | "session.status_terminated"
                | "session.deleted"
        )
}

/// A key of the open set looked up by its parts, without making a `String` of the id: the
/// open set's `(SpanKind, String)` keys borrow as it, and hash and compare the same.
trait OpenKey {
    fn kind(&self) -> SpanKind;
    fn id(&self) -> &str;
}

impl OpenKey for (SpanKind, String) {
    fn kind(&self) -> SpanKind {
        self.0
    }
    fn id(&self) -> &str {
        &self.1
    }
}

impl OpenKey for (SpanKind, &str) {
    fn kind(&self) -> SpanKind {
        self.0
    }
    fn id(&self) -> &str {
        self.1
    }
}

impl<'a> std::borrow::Borrow<dyn OpenKey + 'a> for (SpanKind, String) {
    fn borrow(&self) -> &(dyn OpenKey + 'a) {
        self
    }
}

impl std::hash::Hash for dyn OpenKey + '_ {
    // As the tuple hashes: its fields in order (a `String` hashes as its `str`).
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.kind().hash(state);
        self.id().hash(state);
    }
}

impl PartialEq for dyn OpenKey + '_ {
    fn eq(&self, other: &Self) -> bool {
        self.kind() == other.kind() && self.id() == other.id()
    }
}

impl Eq for dyn OpenKey + '_ {}

fn text(v: &Option<Cow<'_, str>>) -> String {
    v.as_deref().unwrap_or_default().to_string()
}

/// Pairs what is open with what closes it, in one pass over time-ordered events: feed it with
/// [`SpanBuilder::push`], then [`SpanBuilder::finish`].
#[derive(Clone, Default, Serialize, Deserialize)]
pub struct SpanBuilder {
    spans: Vec<Span>,
    /// Opening event id (or thread / run id) → index in `spans`, per kind.
    #[serde(with = "checkpoint::pairs")]
    open: HashMap<(SpanKind, String), usize>,
    /// Ongoing marks per (outcome, iteration), counted onto the evaluation span.
    #[serde(with = "checkpoint::pairs")]
    evaluations: HashMap<(String, u32), usize>,
    /// How many `ongoing` marks each evaluation span (by index) received.
    #[serde(with = "checkpoint::pairs")]
    ongoing: HashMap<usize, u32>,
    /// Phase names per (run id, phase id), from `workflow_run.created`.
    #[serde(with = "checkpoint::pairs")]
    phase_names: HashMap<(String, String), String>,
    /// Threads created in the recording: (agent name, detail) of their spans, to reopen one when
    /// an idle thread runs again.
    threads: HashMap<String, (String, Option<String>)>,
    copies: StreamCopies,
}

/// The stream-copy rule of every fold over a session's rows: an event recorded from two streams
/// (the session's and a thread's) is stored twice with the same id and `processed_at`, and
/// counted once. Copies share their `processed_at`, so only the ids seen at the current time are
/// kept.
#[derive(Debug, Default, Clone, Serialize, Deserialize)]
pub struct StreamCopies {
    /// Ids seen at `ts`; the first `len` strings are live (their buffers are reused).
    seen: Vec<String>,
    len: usize,
    ts: Option<i64>,
}

impl StreamCopies {
    /// Whether this row is another stream's copy of an event already seen (rows in time order).
    pub fn is_copy(&mut self, row: &EventRef<'_>) -> bool {
        if row.event_id.is_empty() {
            return false;
        }
        if row.ts != self.ts {
            self.ts = row.ts;
            self.len = 0;
        }
        if self.seen[..self.len].iter().any(|s| s == row.event_id) {
            return true;
        }
        match self.seen.get_mut(self.len) {
            Some(buf) => {
                buf.clear();
                buf.push_str(row.event_id);
            }
            None => self.seen.push(row.event_id.to_string()),
        }
        self.len += 1;
        false
    }
}

impl SpanBuilder {
    fn start(&mut self, key: String, span: Span) {
        let kind = span.kind;
        self.spans.push(span);
        self.open.insert((kind, key), self.spans.len() - 1);
    }

    /// The open span of `kind` keyed `key`, removed from the open set.
    fn take(&mut self, kind: SpanKind, key: Option<&str>) -> Option<&mut Span> {
        let i = self.open.remove(&(kind, key?) as &dyn OpenKey)?;
        self.spans.get_mut(i)
    }

    /// Whether a span of `kind` keyed `key` is open.
    fn is_open(&self, kind: SpanKind, key: &str) -> bool {
        self.open.contains_key(&(kind, key) as &dyn OpenKey)
    }

    /// Takes the next event in time order.
    pub fn push(&mut self, row: &EventRef<'_>) {
        if SPAN_TYPES.contains(&row.event_type) {
            self.push_read(row, &SpanFields::of(row));
        } else {
            // Nothing opens or closes, but it is seen: a stream's copy of it is one.
            self.copies.is_copy(row);
        }
    }

    /// [`SpanBuilder::push`] of an event whose fields are read: `f` is [`SpanFields::of`] `row`.
    pub fn push_read(&mut self, row: &EventRef<'_>, f: &SpanFields<'_>) {
        if self.copies.is_copy(row) {
            return;
        }
        let f = f.get();
        let link = row.link_id;
        let thread = || {
            f.session_thread_id
                .as_deref()
                .filter(|s| !s.is_empty())
                .map(str::to_string)
                .or_else(|| (!row.thread_id.is_empty()).then(|| row.thread_id.to_string()))
        };
        let id = || row.event_id.to_string();
        match row.event_type {
            "agent.tool_use" | "agent.mcp_tool_use" => self.tool_use(row, f, thread()),
            "agent.custom_tool_use" => {
                let span = Span::open(SpanKind::CustomTool, text(&f.name), thread(), row);
                self.start(id(), span);
            }
            "agent.tool_result" | "user.tool_result" => {
                if let Some(s) = self.take(SpanKind::Tool, link) {
                    s.close(row);
                    s.is_error = f.is_error.unwrap_or(false);
                }
            }
            "agent.mcp_tool_result" => {
                if let Some(s) = self.take(SpanKind::McpTool, link) {
                    s.close(row);
                    s.is_error = f.is_error.unwrap_or(false);
                }
            }
            "user.custom_tool_result" => {
                if let Some(s) = self.take(SpanKind::CustomTool, link) {
                    s.close(row);
                    s.is_error = f.is_error.unwrap_or(false);
                }
            }
            "user.tool_confirmation" => self.confirmation(row, f),
            "span.model_request_start" => {
                let span = Span::open(
                    SpanKind::ModelRequest,
                    "model request".into(),
                    thread(),
                    row,
                );
                self.start(id(), span);
            }
            "span.model_request_end" => {
                if !self.is_open(SpanKind::ModelRequest, link.unwrap_or_default()) {
                    // Its start is not in the recording: count it anyway, marked partial.
                    let mut span = Span::open(
                        SpanKind::ModelRequest,
                        "model request".into(),
                        thread(),
                        row,
                    );
                    span.start_id = link.unwrap_or_default().to_string();
                    span.start_type = "span.model_request_start";
                    span.started_at = None;
                    span.start_ts = None;
                    span.partial = true;
                    span.detail =
                        Some("its span.model_request_start is not in the recording".into());
                    self.start(span.start_id.clone(), span);
                }
                if let Some(s) = self.take(SpanKind::ModelRequest, link) {
                    s.close(row);
                    s.is_error = f.is_error.unwrap_or(false);
                    if let Some(speed) = f.model_usage.as_ref().and_then(|u| u.speed.as_deref()) {
                        s.name = format!("model request ({speed})");
                    }
                    s.usage = f.model_usage.as_ref().map(ModelUsage::from);
                }
            }
            "span.outcome_evaluation_start" => {
                let outcome = text(&f.outcome_id);
                let iteration = f.iteration.unwrap_or(0);
                let name = format!("{outcome}#{iteration}");
                let span = Span::open(SpanKind::OutcomeEvaluation, name, thread(), row);
                self.start(id(), span);
                self.evaluations
                    .insert((outcome, iteration), self.spans.len() - 1);
            }
            "span.outcome_evaluation_ongoing" => {
                let key = (text(&f.outcome_id), f.iteration.unwrap_or(0));
                if let Some(&i) = self.evaluations.get(&key) {
                    *self.ongoing.entry(i).or_default() += 1;
                }
            }
            "span.outcome_evaluation_end" => {
                let key = link;
                if let Some(s) = self.take(SpanKind::OutcomeEvaluation, key) {
                    s.close(row);
                    s.usage = f.usage.as_ref().map(ModelUsage::from);
                    let result = f.result.as_ref().and_then(Value::as_str).unwrap_or("");
                    s.is_error = result == "failed";
                    s.detail = Some(result.to_string());
                }
            }
            "session.thread_created" => {
                let tid = text(&f.session_thread_id);
                let mut span = Span::open(
                    SpanKind::Thread,
                    text(&f.agent_name),
                    Some(tid.clone()),
                    row,
                );
                span.detail = f
                    .workflow_run_id
                    .as_deref()
                    .map(|run| format!("workflow run {run}"));
                self.threads
                    .insert(tid.clone(), (span.name.clone(), span.detail.clone()));
                self.start(tid, span);
            }
            "session.thread_status_running" => {
                let tid = text(&f.session_thread_id);
                let reopen = !self.is_open(SpanKind::Thread, &tid);
                if let Some((name, detail)) = self.threads.get(&tid).filter(|_| reopen) {
                    let name = f
                        .agent_name
                        .as_deref()
                        .filter(|n| !n.is_empty())
                        .map_or_else(|| name.clone(), str::to_string);
                    let mut span = Span::open(SpanKind::Thread, name, Some(tid.clone()), row);
                    span.detail = detail.clone();
                    self.start(tid, span);
                }
            }
            "session.thread_status_idle" => {
                if let Some(s) = self.take(SpanKind::Thread, f.session_thread_id.as_deref()) {
                    s.close(row);
                    let stop = f
                        .stop_reason
                        .as_ref()
                        .and_then(|r| r.get("type"))
                        .and_then(Value::as_str)
                        .unwrap_or("no stop reason");
                    s.detail = Some(match s.detail.take() {
                        Some(d) => format!("{d}; idle: {stop}"),
                        None => format!("idle: {stop}"),
                    });
                }
            }
            "session.thread_status_terminated" => {
                if let Some(s) = self.take(SpanKind::Thread, f.session_thread_id.as_deref()) {
                    s.close(row);
                }
                if let Some(t) = f.session_thread_id.as_deref() {
                    self.note_open(Some(t), "thread terminated");
                }
            }
            "session.status_terminated" => self.note_open(None, "session terminated"),
            "session.deleted" => self.note_open(None, "session deleted"),
            "workflow_run.created" => {
                let run = text(&f.workflow_run_id);
                for p in f.phases.iter().flatten() {
                    self.phase_names
                        .insert((run.clone(), p.id.clone()), p.name.clone());
                }
                let span = Span::open(SpanKind::WorkflowRun, text(&f.name), thread(), row);
                self.start(run, span);
            }
            "workflow_run.error" => {
                let key = (SpanKind::WorkflowRun, text(&f.workflow_run_id));
                if let Some(s) = self.open.get(&key).and_then(|&i| self.spans.get_mut(i)) {
                    s.is_error = true;
                    let kind = error_type(f.error.as_ref());
                    s.detail = Some(format!("error: {kind}"));
                }
            }
            "workflow_run.status_ended" => {
                if let Some(s) = self.take(SpanKind::WorkflowRun, f.workflow_run_id.as_deref()) {
                    s.close(row);
                    let result = f
                        .result
                        .as_ref()
                        .and_then(|r| r.get("type"))
                        .and_then(Value::as_str)
                        .unwrap_or("");
                    if result == "error" {
                        s.is_error = true;
                        let err = f.result.as_ref().and_then(|r| r.get("error"));
                        s.detail = Some(format!("error: {}", error_type(err)));
                    } else {
                        s.detail = Some(result.to_string());
                    }
                }
            }
            "workflow_run.phase_started" => {
                let run = text(&f.workflow_run_id);
                let phase = text(&f.workflow_run_phase_id);
                let name = self
                    .phase_names
                    .get(&(run, phase.clone()))
                    .cloned()
                    .unwrap_or(phase);
                let span = Span::open(SpanKind::WorkflowPhase, name, thread(), row);
                self.start(id(), span);
            }
            "workflow_run.phase_ended" => {
                if let Some(s) = self.take(SpanKind::WorkflowPhase, link) {
                    s.close(row);
                }
            }
            _ => {}
        }
    }

    /// Notes on the spans still open (of thread `thread`, or all) that they can no longer close:
    /// a terminated thread takes no replies (§3.1).
    fn note_open(&mut self, thread: Option<&str>, why: &str) {
        for &i in self.open.values() {
            if let Some(s) = self.spans.get_mut(i)
                && s.open
                && s.kind != SpanKind::Thread
                && thread.is_none_or(|t| s.thread_id.as_deref() == Some(t))
                && s.detail.is_none()
            {
                s.detail = Some(format!("{why} while open"));
            }
        }
    }

    fn tool_use(&mut self, row: &EventRef<'_>, f: &Fields, thread: Option<String>) {
        let mcp = row.event_type == "agent.mcp_tool_use";
        let (kind, name) = if mcp {
            let server = text(&f.mcp_server_name);
            (SpanKind::McpTool, format!("{server}.{}", text(&f.name)))
        } else {
            (SpanKind::Tool, text(&f.name))
        };
        let id = row.event_id.to_string();
        match f.evaluated_permission.as_deref() {
            Some("ask") => {
                let wait = Span::open(SpanKind::Permission, name.clone(), thread.clone(), row);
                self.start(id.clone(), wait);
                self.start(id, Span::open(kind, name, thread, row));
            }
            Some("deny") => {
                // Denied before it ran; an error result may still follow and close it properly.
                let mut span = Span::open(kind, name, thread, row);
                span.close_at_start();
                span.is_error = true;
                span.detail = Some("denied by policy".into());
                self.spans.push(span);
                self.open.insert((kind, id), self.spans.len() - 1);
            }
            _ => self.start(id, Span::open(kind, name, thread, row)),
        }
    }

    fn confirmation(&mut self, row: &EventRef<'_>, f: &Fields) {
        let result = f.result.as_ref().and_then(Value::as_str).unwrap_or("");
        let use_id = row.link_id;
        if let Some(s) = self.take(SpanKind::Permission, use_id) {
            s.close(row);
            s.detail = Some(result.to_string());
        }
        if result == "deny" {
            // A denial resolves the call on the server: no result ever follows (§3.1).
            let deny_message = f.deny_message.as_deref().map(str::to_string);
            for kind in [SpanKind::Tool, SpanKind::McpTool] {
                if let Some(s) = self.take(kind, use_id) {
                    s.close(row);
                    s.is_error = true;
                    s.detail = Some(match &deny_message {
                        Some(m) => format!("denied: {m}"),
                        None => "denied".into(),
                    });
                }
            }
        }
    }

    /// Forgets every closed span, keeping what the open ones need to close (the open set, the
    /// threads, the phase names, the stream copies): [`SpanBuilder::finish`] then gives the
    /// open spans as the whole fold would, and only them (what `spans --open` checkpoints
    /// hold). A closed span never opens again; what would still change it (a result after a
    /// denial, an evaluation's late `ongoing` mark) only changes a closed span.
    pub fn retain_open(&mut self) {
        self.split_off(|_, s| !s.open);
    }

    /// A builder of this one's open spans only: what a copy of it would be after
    /// [`SpanBuilder::retain_open`], without copying the closed spans. Spans given back
    /// ([`SpanBuilder::take_settled`] and the like) are closed and named by nothing, so the view
    /// of a builder that gave some back is the view of one that did not.
    pub fn open_view(&self) -> SpanBuilder {
        const GONE: usize = usize::MAX;
        let mut moved = vec![GONE; self.spans.len()];
        let mut spans = Vec::new();
        for (i, s) in self.spans.iter().enumerate().filter(|(_, s)| s.open) {
            moved[i] = spans.len();
            spans.push(s.clone());
        }
        let to = |i: usize| moved.get(i).copied().filter(|&t| t != GONE);
        fn remapped<K: Clone + Eq + std::hash::Hash>(
            m: &HashMap<K, usize>,
            to: impl Fn(usize) -> Option<usize>,
        ) -> HashMap<K, usize> {
            m.iter()
                .filter_map(|(k, &i)| Some((k.clone(), to(i)?)))
                .collect()
        }
        SpanBuilder {
            spans,
            open: remapped(&self.open, to),
            evaluations: remapped(&self.evaluations, to),
            ongoing: (self.ongoing.iter())
                .filter_map(|(&i, &n)| Some((to(i)?, n)))
                .collect(),
            phase_names: self.phase_names.clone(),
            threads: self.threads.clone(),
            copies: self.copies.clone(),
        }
    }

    /// The spans not yet given back, in order of their opening event.
    pub fn held(&self) -> &[Span] {
        &self.spans
    }

    /// Removes the leading spans nothing can change any more and gives them back, in order:
    /// closed, and no longer named by the open set, an evaluation or its `ongoing` marks.
    /// [`SpanBuilder::finish`] then gives the rest, so the two together are what `finish` alone
    /// would give; a writer that takes them as it goes holds the spans from the oldest one still
    /// open, not the session's.
    pub fn take_settled(&mut self) -> Vec<Span> {
        let settled = self.settled();
        let k = settled.iter().take_while(|s| **s).count();
        if k == 0 {
            return Vec::new();
        }
        self.split_off(|i, _| i < k)
    }

    /// [`SpanBuilder::take_settled`], passing over the leading spans not settled yet that `pass`
    /// allows (a fold whose sums do not depend on their order): they stay held, and the settled
    /// spans after them are taken, in order, with the indices they had in
    /// [`SpanBuilder::held`].
    pub fn take_settled_passing(&mut self, pass: impl Fn(&Span) -> bool) -> Vec<(usize, Span)> {
        let settled = self.settled();
        let k = (self.spans.iter().zip(&settled))
            .take_while(|(s, settled)| **settled || pass(s))
            .count();
        if k == 0 {
            return Vec::new();
        }
        self.split_off_at(|i, _| i < k && settled[i])
    }

    /// Removes every span nothing can change any more, wherever it is, and gives them back in
    /// order with the indices they had in [`SpanBuilder::held`]: what a writer that can put them
    /// back in order later takes when the oldest open span would hold every later one.
    pub fn take_settled_anywhere(&mut self) -> (Vec<usize>, Vec<Span>) {
        let settled = self.settled();
        let at: Vec<usize> = (0..settled.len()).filter(|&i| settled[i]).collect();
        let taken = self.split_off(|i, _| settled[i]);
        (at, taken)
    }

    /// Whether each held span is one nothing can change any more, by index.
    fn settled(&self) -> Vec<bool> {
        let mut settled: Vec<bool> = self.spans.iter().map(|s| !s.open).collect();
        for &i in (self.open.values())
            .chain(self.evaluations.values())
            .chain(self.ongoing.keys())
        {
            if let Some(s) = settled.get_mut(i) {
                *s = false;
            }
        }
        settled
    }

    /// Removes the spans `take` says, in order, and gives them back; the indices of the rest
    /// move, and an entry naming a removed span goes with it.
    fn split_off(&mut self, take: impl Fn(usize, &Span) -> bool) -> Vec<Span> {
        self.split_off_at(take)
            .into_iter()
            .map(|(_, s)| s)
            .collect()
    }

    /// As [`SpanBuilder::split_off`], each span with the index it had.
    fn split_off_at(&mut self, take: impl Fn(usize, &Span) -> bool) -> Vec<(usize, Span)> {
        const GONE: usize = usize::MAX;
        let n = self.spans.len();
        let mut taken = Vec::new();
        let mut kept = Vec::with_capacity(n);
        // Each span's index among those kept (GONE: taken).
        let mut moved = vec![GONE; n];
        for (i, s) in std::mem::take(&mut self.spans).into_iter().enumerate() {
            if take(i, &s) {
                taken.push((i, s));
            } else {
                moved[i] = kept.len();
                kept.push(s);
            }
        }
        self.spans = kept;
        let to = |i: usize| moved.get(i).copied().filter(|&t| t != GONE);
        fn remap<K>(m: &mut HashMap<K, usize>, to: impl Fn(usize) -> Option<usize>) {
            m.retain(|_, i| match to(*i) {
                Some(t) => {
                    *i = t;
                    true
                }
                None => false,
            });
        }
        remap(&mut self.open, to);
        remap(&mut self.evaluations, to);
        self.ongoing = std::mem::take(&mut self.ongoing)
            .into_iter()
            .filter_map(|(i, n)| Some((to(i)?, n)))
            .collect();
        taken
    }

    /// How many spans are held (the spans [`SpanBuilder::take_final`] gave back are not).
    pub fn len(&self) -> usize {
        self.spans.len()
    }

    pub fn is_empty(&self) -> bool {
        self.spans.is_empty()
    }

    /// Removes the spans nothing can change any more, and gives them back with the index each
    /// had among the spans held (in order): closed, and no longer named by what is open (a
    /// call denied at its start may still get its result) nor by an evaluation (which may
    /// still get `ongoing` marks). [`SpanBuilder::finish`] then gives the rest; both together
    /// are the spans of the whole fold.
    pub fn take_final(&mut self) -> Vec<(usize, Span)> {
        let named: rustc_hash::FxHashSet<usize> = self
            .open
            .values()
            .chain(self.evaluations.values())
            .copied()
            .collect();
        self.split_off_at(|i, s| !s.open && !named.contains(&i))
    }

    /// The spans, in order of their opening event; open ones aged at `end_ts` (µs).
    pub fn finish(mut self, end_ts: Option<i64>) -> Vec<Span> {
        for (&i, &n) in &self.ongoing {
            if let Some(s) = self.spans.get_mut(i) {
                let marks = format!("{n} ongoing");
                s.detail = Some(match s.detail.take() {
                    Some(d) => format!("{d} ({marks})"),
                    None => marks,
                });
            }
        }
        for s in &mut self.spans {
            if s.open {
                s.age_ms = match (s.start_ts, end_ts) {
                    (Some(a), Some(b)) => Some(micros_to_ms((b - a).max(0))),
                    _ => None,
                };
            }
        }
        self.spans
    }
}

fn error_type(e: Option<&Value>) -> String {
    e.and_then(|e| e.get("type"))
        .and_then(Value::as_str)
        .unwrap_or("unknown")
        .to_string()
}

/// Every span in `events` (time-ordered, as the store reads them), in order of their opening
/// event. `end_ts` is the end of the recording (µs), for the age of open spans.
pub fn spans(events: &[EventRow], end_ts: Option<i64>) -> Vec<Span> {
    let mut b = SpanBuilder::default();
    for row in events {
        b.push(&row.as_ref());
    }
    b.finish(end_ts)
}

mod requests;
mod streamed;
pub use requests::{ClosedRequest, RequestPairs};
pub use streamed::FinalSpans;

#[cfg(test)]
mod tests;
