//! A session as an OpenTelemetry trace (OTLP), following the GenAI semantic conventions.
//!
//! One trace per session. Its trace id is a stable hash of the session id and each span id a
//! stable hash of the span's opening event id (and kind), so exporting the same session twice
//! gives the same ids and a backend merges rather than duplicates. The root span is the session,
//! `invoke_agent {agent}` (CLIENT: the agent runs remotely); each child thread is an
//! `invoke_agent {agent}` span (INTERNAL) under it; model requests are `chat {model}` (CLIENT)
//! and tool calls `execute_tool {tool}` (INTERNAL), under their thread's span (the root for the
//! primary thread). Permission waits sit under their tool call, workflow phases under their run.
//! Open spans end at the end of the recording, with `flightrec.open = true` and status unset.
//!
//! The wire types are `opentelemetry-proto`'s: [`encode_protobuf`] is the body of an OTLP/HTTP
//! protobuf request, and the types' serde form is OTLP/JSON (lowerCamelCase names, hex ids,
//! enums as integers, 64-bit integers as strings), which [`write_otlp_json`] writes.

#[cfg(feature = "net")]
pub mod live;
#[cfg(feature = "net")]
pub mod push;

mod facts;

use std::collections::BTreeMap;
use std::io::Write;

use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::any_value::Value as Any;
use opentelemetry_proto::tonic::common::v1::{AnyValue, InstrumentationScope, KeyValue};
use opentelemetry_proto::tonic::resource::v1::Resource;
use opentelemetry_proto::tonic::trace::v1::span::SpanKind as OtelKind;
use opentelemetry_proto::tonic::trace::v1::status::StatusCode;
use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans, Span as OtelSpan, Status};
use prost::Message;
use serde_json::Value;

use super::SessionDoc;
use super::spill::{Sorted, Spill};
use crate::analysis::spans::{FinalSpans, SLIM_TYPES, SPAN_TYPES, Span, SpanKind};
use crate::store::{SessionSummary, Store, TimelineQuery};
use facts::{Facts, Numbered, Parent};

/// The GenAI provider of every model request.
const PROVIDER: &str = "anthropic";

/// The agent a session runs, from its stored session object (when one was fetched or imported).
#[derive(Debug, Default, Clone, PartialEq)]
pub struct AgentInfo {
    pub id: Option<String>,
    pub name: Option<String>,
    pub model: Option<String>,
}

impl AgentInfo {
    /// Reads `agent.id`, `agent.name` and `agent.model` (a string or `{id}`) of a session object.
    pub fn from_session_object(raw: &str) -> AgentInfo {
        let Ok(v) = serde_json::from_str::<Value>(raw) else {
            return AgentInfo::default();
        };
        let agent = v.get("agent");
        let text = |v: Option<&Value>| v.and_then(Value::as_str).map(str::to_string);
        let model = agent.and_then(|a| a.get("model"));
        AgentInfo {
            id: text(agent.and_then(|a| a.get("id"))).or_else(|| text(agent)),
            name: text(agent.and_then(|a| a.get("name"))),
            model: text(model).or_else(|| text(model.and_then(|m| m.get("id")))),
        }
    }
}

/// The trace of `doc` as an OTLP export request.
pub fn otlp_request(doc: &SessionDoc) -> ExportTraceServiceRequest {
    // A document's spans are in memory: reading them back cannot fail.
    Trace::of_doc(doc).request().unwrap_or_default()
}

/// What a session's trace is made of: its summary, agent, time range, what the root and the
/// parents need of every span, and the spans in order. Read from a (redacted) document or
/// straight from the store; either way the same spans, ids and bytes.
pub struct Trace {
    summary: SessionSummary,
    agent: AgentInfo,
    t0: i64,
    end: i64,
    facts: Facts,
    spans: Sorted<Numbered>,
}

impl Trace {
    /// The trace of a document read whole.
    pub fn of_doc(doc: &SessionDoc) -> Trace {
        let t0 = doc.events.iter().filter_map(|e| e.ts).min().unwrap_or(0);
        let end = doc.end_ts().unwrap_or(t0);
        let session = doc.summary.id.as_str();
        let mut facts = Facts::default();
        // Held whole: a document is in memory already.
        let mut spans = Spill::with_budget(usize::MAX);
        for (n, s) in (0u64..).zip(doc.spans()) {
            facts.add(n, &s, session, t0, end);
            // Nothing is written to disk without a budget: pushing cannot fail.
            let _ = spans.push(Numbered(n, s));
        }
        facts.settle();
        Trace {
            summary: doc.summary.clone(),
            agent: doc
                .object
                .as_ref()
                .map(|o| AgentInfo::from_session_object(&o.raw))
                .unwrap_or_default(),
            t0,
            end,
            facts,
            spans: spans.sorted(),
        }
    }

    /// The trace of session `summary`, its spans folded over a scan of only the events spans
    /// read (tool results slimmed to their error flag). Each span is handed over as soon as it
    /// is final and sorted back into order, past a budget on disk: the events are never held,
    /// nor are the spans (only those still open, and what the parents need of threads and
    /// workflow runs).
    pub fn from_store(store: &Store, summary: &SessionSummary) -> crate::store::Result<Trace> {
        Trace::from_store_within(store, summary, super::spill::BUDGET)
    }

    /// As [`Trace::from_store`], holding at most about `budget` bytes of finished spans.
    pub(crate) fn from_store_within(
        store: &Store,
        summary: &SessionSummary,
        budget: usize,
    ) -> crate::store::Result<Trace> {
        let q = TimelineQuery {
            types: SPAN_TYPES.iter().map(|t| t.to_string()).collect(),
            slim_types: SLIM_TYPES.iter().map(|t| t.to_string()).collect(),
            ..TimelineQuery::default()
        };
        let t0 = summary.first_ts.unwrap_or(0);
        let end = summary.last_ts.unwrap_or(t0);
        let session = summary.id.as_str();
        let mut facts = Facts::default();
        let mut spans = Spill::with_budget(budget);
        let mut emit = |n: u64, s: Span| {
            facts.add(n, &s, session, t0, end);
            spans.push(Numbered(n, s))
        };
        let (fold, failed) = store.scan_events_pipelined(
            session,
            &q,
            (FinalSpans::default(), Ok(())),
            |(fold, result), ev| {
                if result.is_ok() {
                    *result = fold.push(ev, &mut emit);
                }
            },
        )?;
        failed
            .and_then(|()| fold.finish(summary.last_ts, &mut emit))
            .map_err(crate::store::StoreError::Output)?;
        facts.settle();
        Ok(Trace {
            agent: store
                .session_object(&summary.id)?
                .map(|o| AgentInfo::from_session_object(&o.raw))
                .unwrap_or_default(),
            t0,
            end,
            facts,
            spans: spans.sorted(),
            summary: summary.clone(),
        })
    }

    /// The whole trace as one OTLP export request.
    pub fn request(&self) -> std::io::Result<ExportTraceServiceRequest> {
        let mut spans = Vec::new();
        self.for_each_span(|s| {
            spans.push(s);
            Ok::<(), std::io::Error>(())
        })?;
        Ok(self.envelope(spans))
    }

    /// The trace as export requests of at most `max` spans each, in order, each under the same
    /// resource and scope, handed to `send` one at a time: what a push sends, so no request (and
    /// no collector's body limit) grows with the session. Stops at the first error `send` returns
    /// (or reading the spans back does). Returns the number of spans and of requests sent.
    pub fn for_each_batch<E: From<std::io::Error>>(
        &self,
        max: usize,
        mut send: impl FnMut(ExportTraceServiceRequest) -> Result<(), E>,
    ) -> Result<(usize, usize), E> {
        let max = max.max(1);
        let (mut spans, mut requests) = (0, 0);
        let mut batch = Vec::with_capacity(max.min(1024));
        self.for_each_span::<E>(|s| {
            batch.push(s);
            if batch.len() == max {
                spans += batch.len();
                requests += 1;
                send(self.envelope(std::mem::take(&mut batch)))?;
            }
            Ok(())
        })?;
        if !batch.is_empty() || requests == 0 {
            spans += batch.len();
            requests += 1;
            send(self.envelope(batch))?;
        }
        Ok((spans, requests))
    }

    /// Writes the trace as OTLP/JSON, converting one span at a time: the same bytes as
    /// serializing [`Trace::request`], without holding every converted span.
    pub fn write_json(&self, out: &mut dyn Write) -> std::io::Result<()> {
        let shell = serde_json::to_string(&self.envelope(Vec::new()))?;
        let (head, tail) = shell
            .split_once(EMPTY_SPANS)
            .ok_or_else(|| std::io::Error::other("OTLP/JSON without a span list"))?;
        out.write_all(head.as_bytes())?;
        out.write_all(b"\"spans\":[")?;
        let mut first = true;
        self.for_each_span(|s| {
            if !first {
                out.write_all(b",")?;
            }
            first = false;
            serde_json::to_writer(&mut *out, &s).map_err(std::io::Error::from)
        })?;
        out.write_all(b"]")?;
        out.write_all(tail.as_bytes())?;
        out.write_all(b"\n")
    }

    /// The resource and scope around `spans`.
    fn envelope(&self, spans: Vec<OtelSpan>) -> ExportTraceServiceRequest {
        let session = self.summary.id.as_str();
        ExportTraceServiceRequest {
            resource_spans: vec![ResourceSpans {
                resource: Some(Resource {
                    attributes: vec![
                        kv("service.name", "flightrec"),
                        kv("service.version", env!("CARGO_PKG_VERSION")),
                        kv("gen_ai.conversation.id", session),
                    ],
                    ..Default::default()
                }),
                scope_spans: vec![ScopeSpans {
                    scope: Some(InstrumentationScope {
                        name: "flightrec".into(),
                        version: env!("CARGO_PKG_VERSION").into(),
                        ..Default::default()
                    }),
                    spans,
                    ..Default::default()
                }],
                ..Default::default()
            }],
        }
    }

    /// Hands `f` the root span, then every span in order of its opening event; stops at the
    /// first error.
    fn for_each_span<E: From<std::io::Error>>(
        &self,
        mut f: impl FnMut(OtelSpan) -> Result<(), E>,
    ) -> Result<(), E> {
        let Trace {
            summary,
            agent,
            t0,
            end,
            facts,
            spans,
        } = self;
        let (t0, end) = (*t0, *end);
        let session = summary.id.as_str();
        let trace = trace_id(session).to_vec();
        let root_id = hash8(&["root", session]).to_vec();

        let mut root = OtelSpan {
            trace_id: trace.clone(),
            span_id: root_id.clone(),
            name: match &agent.name {
                Some(n) => format!("invoke_agent {n}"),
                None => "invoke_agent".into(),
            },
            kind: OtelKind::Client as i32,
            start_time_unix_nano: nanos(t0),
            end_time_unix_nano: nanos(end),
            ..Default::default()
        };
        let mut attrs = vec![
            kv("gen_ai.operation.name", "invoke_agent"),
            kv("gen_ai.provider.name", PROVIDER),
            kv("gen_ai.system", PROVIDER),
            kv("gen_ai.conversation.id", session),
        ];
        attrs.extend(agent.id.as_deref().map(|v| kv("gen_ai.agent.id", v)));
        attrs.extend(agent.name.as_deref().map(|v| kv("gen_ai.agent.name", v)));
        attrs.extend(
            agent
                .model
                .as_deref()
                .map(|v| kv("gen_ai.request.model", v)),
        );
        attrs.push(kv_int("gen_ai.usage.input_tokens", facts.input));
        attrs.push(kv_int("gen_ai.usage.output_tokens", facts.output));
        if let Some(title) = &summary.title {
            attrs.push(kv("flightrec.session.title", title));
        }
        if let Some(status) = &summary.status {
            attrs.push(kv("flightrec.session.status", status));
        }
        if let Some(reason) = &summary.stop_reason {
            attrs.push(kv("flightrec.session.stop_reason", reason));
            if reason == "retries_exhausted" {
                attrs.push(kv("error.type", reason));
                root.status = Some(status(StatusCode::Error, reason));
            }
        }
        root.attributes = attrs;
        f(root)?;

        spans.for_each(|Numbered(_, s)| {
            let parent = match s.kind {
                SpanKind::Thread => root_id.clone(),
                // A wait opens with its tool call, from the same event.
                SpanKind::Permission => {
                    let kind = match s.start_type {
                        "agent.mcp_tool_use" => SpanKind::McpTool,
                        _ => SpanKind::Tool,
                    };
                    hash8(&["span", session, kind.as_str(), &s.start_id]).to_vec()
                }
                SpanKind::WorkflowPhase => {
                    let (a, b) = times(s, t0, end);
                    let run = facts
                        .runs
                        .iter()
                        .find(|r| r.thread == s.thread_id && r.start <= a && b <= r.end);
                    match run {
                        Some(r) => r.id.to_vec(),
                        None => thread_parent(s, &facts.threads, &root_id),
                    }
                }
                _ => thread_parent(s, &facts.threads, &root_id),
            };
            f(convert(s, session, agent, &trace, parent, t0, end))
        })
    }
}

/// How an empty span list reads in OTLP/JSON: where [`Trace::write_json`] puts the spans.
const EMPTY_SPANS: &str = "\"spans\":[]";

/// The body of an OTLP/HTTP request in `application/x-protobuf`.
pub fn encode_protobuf(req: &ExportTraceServiceRequest) -> Vec<u8> {
    req.encode_to_vec()
}

/// Writes the trace of `doc` as OTLP/JSON (`application/json`, one request object).
pub fn write_otlp_json(doc: &SessionDoc, out: &mut dyn Write) -> std::io::Result<()> {
    Trace::of_doc(doc).write_json(out)
}

/// The trace id of session `id`: 16 bytes derived from it alone.
pub fn trace_id(id: &str) -> [u8; 16] {
    let mut t = [0u8; 16];
    t[..8].copy_from_slice(&hash8(&["trace", id]));
    t[8..].copy_from_slice(&hash8(&["trace/2", id]));
    t
}

/// The span id of `s`: its kind and opening event (a tool call and its permission wait share
/// the opening event), within the session.
fn span_id(session: &str, s: &Span) -> [u8; 8] {
    hash8(&["span", session, s.kind.as_str(), &s.start_id])
}

/// FNV-1a (64 bits) over the parts, each followed by a 0 byte; never all zero (an invalid id).
fn hash8(parts: &[&str]) -> [u8; 8] {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for p in parts {
        for b in p.bytes().chain([0]) {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0000_0100_0000_01b3);
        }
    }
    if h == 0 {
        h = 1;
    }
    h.to_be_bytes()
}

/// The span of the busy stretch of `s`'s thread that `s` started in (the newest one that started
/// at or before it, else the first); the root for the primary thread.
fn thread_parent(s: &Span, threads: &BTreeMap<String, Vec<Parent>>, root: &[u8]) -> Vec<u8> {
    let Some(stretches) = s.thread_id.as_ref().and_then(|t| threads.get(t)) else {
        return root.to_vec();
    };
    let at = s.start_ts.unwrap_or(i64::MIN);
    stretches
        .iter()
        .rev()
        .find(|p| p.start <= at)
        .or(stretches.first())
        .map_or_else(|| root.to_vec(), |p| p.id.to_vec())
}

/// Start and end (µs) of `s`: open spans reach the end of the recording.
fn times(s: &Span, t0: i64, end: i64) -> (i64, i64) {
    let a = s.start_ts.unwrap_or(t0);
    let b = if s.open { end } else { s.end_ts.unwrap_or(a) };
    (a, b.max(a))
}

fn nanos(us: i64) -> u64 {
    u64::try_from(us).unwrap_or(0).saturating_mul(1000)
}

fn convert(
    s: &Span,
    session: &str,
    agent: &AgentInfo,
    trace: &[u8],
    parent: Vec<u8>,
    t0: i64,
    end: i64,
) -> OtelSpan {
    let (a, b) = times(s, t0, end);
    let mut attrs = Vec::new();
    let (name, kind) = match s.kind {
        SpanKind::ModelRequest => {
            attrs.push(kv("gen_ai.operation.name", "chat"));
            attrs.push(kv("gen_ai.provider.name", PROVIDER));
            attrs.push(kv("gen_ai.system", PROVIDER));
            attrs.extend(
                agent
                    .model
                    .as_deref()
                    .map(|m| kv("gen_ai.request.model", m)),
            );
            let name = match &agent.model {
                Some(m) => format!("chat {m}"),
                None => "chat".into(),
            };
            (name, OtelKind::Client)
        }
        SpanKind::Tool | SpanKind::McpTool | SpanKind::CustomTool => {
            attrs.push(kv("gen_ai.operation.name", "execute_tool"));
            attrs.push(kv("gen_ai.tool.name", &s.name));
            attrs.push(kv("gen_ai.tool.call.id", &s.start_id));
            // Built-in and MCP tools run on the agent's side; custom tools in the client's code.
            let tool_type = match s.kind {
                SpanKind::CustomTool => "function",
                _ => "extension",
            };
            attrs.push(kv("gen_ai.tool.type", tool_type));
            (format!("execute_tool {}", s.name), OtelKind::Internal)
        }
        SpanKind::Thread => {
            attrs.push(kv("gen_ai.operation.name", "invoke_agent"));
            attrs.push(kv("gen_ai.provider.name", PROVIDER));
            if !s.name.is_empty() {
                attrs.push(kv("gen_ai.agent.name", &s.name));
            }
            (format!("invoke_agent {}", s.name), OtelKind::Internal)
        }
        SpanKind::WorkflowRun => {
            attrs.push(kv("gen_ai.operation.name", "invoke_workflow"));
            (format!("invoke_workflow {}", s.name), OtelKind::Internal)
        }
        SpanKind::Permission => (format!("permission {}", s.name), OtelKind::Internal),
        SpanKind::OutcomeEvaluation => {
            (format!("outcome_evaluation {}", s.name), OtelKind::Internal)
        }
        SpanKind::WorkflowPhase => (format!("workflow_phase {}", s.name), OtelKind::Internal),
    };
    attrs.push(kv("gen_ai.conversation.id", session));
    if let Some(u) = &s.usage {
        // The semconv's input tokens include cached ones; Anthropic reports them apart.
        let input = u.input_tokens + u.cache_creation_input_tokens + u.cache_read_input_tokens;
        attrs.push(kv_int("gen_ai.usage.input_tokens", input));
        attrs.push(kv_int("gen_ai.usage.output_tokens", u.output_tokens));
        attrs.push(kv_int(
            "gen_ai.usage.cache_read.input_tokens",
            u.cache_read_input_tokens,
        ));
        attrs.push(kv_int(
            "gen_ai.usage.cache_creation.input_tokens",
            u.cache_creation_input_tokens,
        ));
        if let Some(speed) = &u.speed {
            attrs.push(kv("flightrec.model.speed", speed));
        }
    }
    attrs.push(kv("flightrec.span.kind", s.kind.as_str()));
    attrs.push(kv("flightrec.start_event_id", &s.start_id));
    if let Some(id) = &s.end_id {
        attrs.push(kv("flightrec.end_event_id", id));
    }
    if let Some(t) = &s.thread_id {
        attrs.push(kv("flightrec.thread.id", t));
    }
    attrs.push(KeyValue {
        key: "flightrec.open".into(),
        value: Some(AnyValue {
            value: Some(Any::BoolValue(s.open)),
        }),
        ..Default::default()
    });
    if let Some(d) = &s.detail {
        attrs.push(kv("flightrec.detail", d));
    }
    let status = if s.is_error {
        let error_type = match s.detail.as_deref() {
            Some(d) if d.starts_with("denied") => "denied",
            Some(d) if d.starts_with("error: ") => d.trim_start_matches("error: "),
            _ if s.kind == SpanKind::OutcomeEvaluation => "failed",
            _ => "tool_error",
        };
        attrs.push(kv("error.type", error_type));
        Some(status(StatusCode::Error, s.detail.as_deref().unwrap_or("")))
    } else {
        // Unset, not Ok: the trace API leaves Ok to the application, not to instrumentation.
        None
    };
    OtelSpan {
        trace_id: trace.to_vec(),
        span_id: span_id(session, s).to_vec(),
        parent_span_id: parent,
        name,
        kind: kind as i32,
        start_time_unix_nano: nanos(a),
        end_time_unix_nano: nanos(b),
        attributes: attrs,
        status,
        ..Default::default()
    }
}

fn status(code: StatusCode, message: &str) -> Status {
    Status {
        code: code as i32,
        message: message.to_string(),
    }
}

fn kv(key: &str, value: &str) -> KeyValue {
    KeyValue {
        key: key.to_string(),
        value: Some(AnyValue {
            value: Some(Any::StringValue(value.to_string())),
        }),
        ..Default::default()
    }
}

fn kv_int(key: &str, value: u64) -> KeyValue {
    KeyValue {
        key: key.to_string(),
        value: Some(AnyValue {
            value: Some(Any::IntValue(i64::try_from(value).unwrap_or(i64::MAX))),
        }),
        ..Default::default()
    }
}

#[cfg(test)]
mod tests;
