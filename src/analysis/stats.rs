//! Session statistics: tokens per model and in total with the cache hit ratio, a list-price cost
//! estimate, tool latency percentiles, errors by type and the slowest spans.
//!
//! One pass over a session's span events plus a few more types ([`STATS_TYPES`]), fed to a
//! [`StatsBuilder`] in time order; [`StatsBuilder::finish`] gives an [`Accumulator`], which merges
//! with other sessions' and is turned into a [`Stats`] report.
//!
//! **Which model made a request.** `model_usage` carries no model id. The model comes from the
//! session's agent: the stored session object's `agent.model` (the agent as the session was
//! created, §6.1), then each `session.updated` that carries an `agent`, which takes effect from
//! the next turn (the next `session.status_running`). A request on a child thread uses the model
//! its agent is given in the agent's `multiagent` configuration (by agent name; the advisor by
//! its own entry); inline agents have no configuration to read. Otherwise the model is unknown,
//! and an unknown model has no price.
//!
//! **Tool latency** is a tool span's duration less the time it waited for a permission, over the
//! calls that completed and were not denied. Percentiles are nearest-rank.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::borrow::Cow;
use std::collections::BTreeMap;

use super::checkpoint;
use super::prices::{self, RequestTokens};
use super::spans::{Span, SpanBuilder, SpanFields, SpanKind};
use crate::model::typed::{ModelUsage, SessionUsage};
use crate::store::EventRef;

/// The types read besides the span types ([`super::spans::SPAN_TYPES`]).
pub const STATS_TYPES: &[&str] = &[
    "session.error",
    "session.updated",
    "session.usage",
    "session.status_running",
];

/// How many slowest spans a report lists.
pub const SLOWEST: usize = 10;

/// Token counts of a set of model requests.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Tokens {
    pub requests: u64,
    /// Requests whose `span.model_request_end` has `is_error: true`.
    pub failed_requests: u64,
    pub input_tokens: u64,
    pub output_tokens: u64,
    pub cache_read_input_tokens: u64,
    pub cache_creation_input_tokens: u64,
    /// cache reads / (input + cache reads + cache writes); `None` when nothing was read.
    #[serde(with = "checkpoint::opt_f64")]
    pub cache_hit_ratio: Option<f64>,
    /// Requests whose `span.model_request_start` is not in the recording (a capture that began
    /// mid-request): counted, but with no start or duration.
    pub partial_requests: u64,
}

impl Tokens {
    fn add(&mut self, u: &ModelUsage, is_error: bool) {
        self.requests += 1;
        self.failed_requests += u64::from(is_error);
        self.input_tokens += u.input_tokens;
        self.output_tokens += u.output_tokens;
        self.cache_read_input_tokens += u.cache_read_input_tokens;
        self.cache_creation_input_tokens += u.cache_creation_input_tokens;
    }

    fn merge(&mut self, o: &Tokens) {
        self.requests += o.requests;
        self.failed_requests += o.failed_requests;
        self.input_tokens += o.input_tokens;
        self.output_tokens += o.output_tokens;
        self.cache_read_input_tokens += o.cache_read_input_tokens;
        self.cache_creation_input_tokens += o.cache_creation_input_tokens;
        self.partial_requests += o.partial_requests;
    }

    fn with_ratio(mut self) -> Tokens {
        self.cache_hit_ratio = cache_hit_ratio(
            self.input_tokens,
            self.cache_read_input_tokens,
            self.cache_creation_input_tokens,
        );
        self
    }
}

/// cache_read / (input + cache_read + cache_creation), `None` for no input at all.
pub fn cache_hit_ratio(input: u64, cache_read: u64, cache_creation: u64) -> Option<f64> {
    let all = input + cache_read + cache_creation;
    (all > 0).then(|| cache_read as f64 / all as f64)
}

/// Tokens and estimated cost of one model's requests.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelRow {
    /// The model id; `None` when the recording does not say which model it was.
    pub model: Option<String>,
    #[serde(flatten)]
    pub tokens: Tokens,
    /// Requests made in fast mode (`model_usage.speed: "fast"`).
    pub fast_requests: u64,
    /// The price-table entry used (`prices::PRICES`); `None`: no price.
    #[serde(deserialize_with = "price_entry")]
    pub priced_as: Option<checkpoint::StaticStr>,
    /// Estimated list cost of the requests that could be priced, USD; `None` when none could.
    #[serde(with = "checkpoint::opt_f64")]
    pub cost_usd: Option<f64>,
    /// Requests without a price (unknown model, or fast mode without a fast price).
    pub unpriced_requests: u64,
}

/// The cost estimate over every model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Cost {
    /// The date of the price table ([`prices::AS_OF`]).
    #[serde(deserialize_with = "price_table")]
    pub prices_as_of: checkpoint::StaticStr,
    /// Sum over the requests that could be priced, USD; `None` when none could.
    #[serde(with = "checkpoint::opt_f64")]
    pub estimate_usd: Option<f64>,
    pub unpriced_requests: u64,
    /// Every request was priced.
    pub complete: bool,
}

/// What the server reported in the newest `session.usage` (summed over sessions in totals).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Reported {
    /// The `session.usage` event (`None` in totals).
    pub event_id: Option<String>,
    pub processed_at: Option<String>,
    /// Sessions that had a `session.usage`.
    pub sessions: u64,
    pub input_tokens: u64,
    pub output_tokens: u64,
    pub cache_read_input_tokens: u64,
    pub cache_creation_5m_input_tokens: u64,
    pub cache_creation_1h_input_tokens: u64,
    /// `list_cost` in USD (`None` when a snapshot had none or another currency).
    #[serde(with = "checkpoint::opt_f64")]
    pub list_cost_usd: Option<f64>,
}

impl Reported {
    fn from_usage(event_id: String, processed_at: Option<String>, u: &SessionUsage) -> Reported {
        let cc = u.cache_creation.as_ref();
        Reported {
            event_id: Some(event_id),
            processed_at,
            sessions: 1,
            input_tokens: u.input_tokens.unwrap_or(0),
            output_tokens: u.output_tokens.unwrap_or(0),
            cache_read_input_tokens: u.cache_read_input_tokens.unwrap_or(0),
            cache_creation_5m_input_tokens: cc
                .and_then(|c| c.ephemeral_5m_input_tokens)
                .unwrap_or(0),
            cache_creation_1h_input_tokens: cc
                .and_then(|c| c.ephemeral_1h_input_tokens)
                .unwrap_or(0),
            list_cost_usd: u.list_cost.as_ref().and_then(|m| {
                let cents: i64 = m.amount.parse().ok()?;
                (m.currency == "USD").then_some(cents as f64 / 100.0)
            }),
        }
    }

    fn merge(&mut self, o: &Reported) {
        self.event_id = None;
        self.processed_at = None;
        self.sessions += o.sessions;
        self.input_tokens += o.input_tokens;
        self.output_tokens += o.output_tokens;
        self.cache_read_input_tokens += o.cache_read_input_tokens;
        self.cache_creation_5m_input_tokens += o.cache_creation_5m_input_tokens;
        self.cache_creation_1h_input_tokens += o.cache_creation_1h_input_tokens;
        self.list_cost_usd = match (self.list_cost_usd, o.list_cost_usd) {
            (Some(a), Some(b)) => Some(a + b),
            _ => None,
        };
    }
}

/// Latency of one tool.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ToolRow {
    /// `bash`; `server.tool` for MCP tools; the custom tool's name.
    pub tool: String,
    pub kind: SpanKind,
    pub calls: u64,
    /// Calls with a result, not denied: the ones the latency is measured over.
    pub completed: u64,
    /// Calls with no result by the end of the recording.
    pub open: u64,
    /// Completed calls whose result has `is_error: true`.
    pub errors: u64,
    /// Calls denied by policy or by a `user.tool_confirmation`.
    pub denied: u64,
    #[serde(with = "checkpoint::opt_f64")]
    pub p50_ms: Option<f64>,
    #[serde(with = "checkpoint::opt_f64")]
    pub p95_ms: Option<f64>,
    #[serde(with = "checkpoint::opt_f64")]
    pub max_ms: Option<f64>,
    /// The slowest call's `agent.*tool_use` event.
    pub slowest_id: Option<String>,
    pub slowest_session_id: Option<String>,
}

/// How often one kind of error occurred.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ErrorRow {
    /// `session.error`, `workflow_run.error`, `span.model_request_end`, or the tool result type
    /// (`agent.tool_result`, `agent.mcp_tool_result`, `user.custom_tool_result`, …).
    pub source: String,
    /// `error.type`; the tool's name for tool results; `is_error` for model requests.
    pub error_type: String,
    pub count: u64,
    /// `retry_status.type` counts (session errors only).
    pub retry_statuses: BTreeMap<String, u64>,
    pub first_event_id: String,
    pub first_session_id: String,
}

/// A span among the slowest.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SlowSpan {
    pub session_id: String,
    pub kind: SpanKind,
    pub name: String,
    pub start_id: String,
    pub started_at: Option<String>,
    #[serde(with = "checkpoint::f64_bits")]
    pub duration_ms: f64,
    pub is_error: bool,
    // What ranks it among other sessions' (merge): written only in a cached accumulator.
    #[serde(default, skip_serializing_if = "checkpoint::outside")]
    duration_us: i64,
    #[serde(default, skip_serializing_if = "checkpoint::outside")]
    start_ts: i64,
}

/// One model request (listed on demand).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RequestRow {
    pub session_id: String,
    pub start_id: String,
    pub started_at: Option<String>,
    pub thread_id: Option<String>,
    pub model: Option<String>,
    pub speed: Option<String>,
    pub duration_ms: Option<f64>,
    pub is_error: bool,
    pub input_tokens: u64,
    pub output_tokens: u64,
    pub cache_read_input_tokens: u64,
    pub cache_creation_input_tokens: u64,
    pub cost_usd: Option<f64>,
    /// When the request was made (its start, else its end), µs: the day `stats --by day` counts
    /// it on.
    #[serde(skip)]
    pub ts: Option<i64>,
    /// Its `span.model_request_start` is not in the recording ([`Tokens::partial_requests`]).
    #[serde(skip)]
    pub partial: bool,
}

/// The report. Kept whole by a cache (`to_cache`), but for the listed requests.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Stats {
    /// Every model request.
    pub tokens: Tokens,
    pub models: Vec<ModelRow>,
    /// Outcome grader usage (`span.outcome_evaluation_end.usage`): not in `tokens`, not priced
    /// (the grader's model is not recorded).
    pub grader: Tokens,
    pub cost: Cost,
    /// The server's own figures, from the newest `session.usage`.
    pub reported: Option<Reported>,
    pub tools: Vec<ToolRow>,
    pub errors: Vec<ErrorRow>,
    /// The longest closed spans of every kind but threads (whose span is their whole life).
    pub slowest_spans: Vec<SlowSpan>,
    /// Each model request, when asked for.
    #[serde(skip_serializing_if = "Option::is_none", skip_deserializing)]
    pub requests: Option<Vec<RequestRow>>,
}

impl Stats {
    /// The report as a cache keeps it: every field (floats as their bits, so it reads back
    /// exactly), the listed requests left out.
    pub fn to_cache(&self) -> serde_json::Result<Vec<u8>> {
        let requests = None;
        checkpoint::to_json(&Stats {
            requests,
            ..self.clone()
        })
    }

    /// A report back from [`Stats::to_cache`]'s bytes (with no requests listed); `None` when
    /// they do not read as one.
    pub fn from_cache(bytes: &[u8]) -> Option<Stats> {
        checkpoint::from_json(bytes).ok()
    }
}

/// [`ModelRow::priced_as`] back from a cache: the price-table entry of that name.
fn price_entry<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<&'static str>, D::Error> {
    let name = Option::<String>::deserialize(d)?;
    Ok(name.and_then(|n| {
        prices::PRICES
            .iter()
            .find(|p| p.model == n)
            .map(|p| p.model)
    }))
}

/// [`Cost::prices_as_of`] back from a cache: this build's table (a cache names its build).
fn price_table<'de, D: serde::Deserializer<'de>>(d: D) -> Result<&'static str, D::Error> {
    serde::de::IgnoredAny::deserialize(d)?;
    Ok(prices::AS_OF)
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct ModelAcc {
    /// The model's price, looked up again when read back ([`Accumulator::from_cache`]).
    #[serde(skip)]
    price: Option<&'static prices::Price>,
    tokens: Tokens,
    fast: u64,
    #[serde(with = "checkpoint::f64_bits")]
    cost: f64,
    priced: u64,
    unpriced: u64,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct ToolAcc {
    durations: Vec<i64>,
    calls: u64,
    open: u64,
    errors: u64,
    denied: u64,
    /// (duration µs, session, start id) of the slowest completed call.
    slowest: Option<(i64, String, String)>,
}

/// Everything a report is made of, mergeable across sessions. Kept whole by a cache
/// ([`Accumulator::to_cache`]), but for the listed requests.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Accumulator {
    /// Per model id (`None`: unknown); a handful, searched in order.
    models: Vec<(Option<String>, ModelAcc)>,
    grader: Tokens,
    /// Per tool name, then kind (a name could be both a custom and a built-in tool).
    tools: BTreeMap<String, Vec<(SpanKind, ToolAcc)>>,
    /// By (source, error type): written as the rows alone.
    #[serde(with = "error_rows")]
    errors: BTreeMap<(String, String), ErrorRow>,
    slowest: Vec<SlowSpan>,
    reported: Option<Reported>,
    #[serde(skip)]
    requests: Option<Vec<RequestRow>>,
}

/// [`Accumulator::errors`] as a list of rows, each keyed again by its source and type.
mod error_rows {
    use super::*;
    use serde::{Deserializer, Serializer};

    pub fn serialize<S: Serializer>(
        m: &BTreeMap<(String, String), ErrorRow>,
        s: S,
    ) -> Result<S::Ok, S::Error> {
        s.collect_seq(m.values())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<BTreeMap<(String, String), ErrorRow>, D::Error> {
        Ok(Vec::<ErrorRow>::deserialize(d)?
            .into_iter()
            .map(|r| ((r.source.clone(), r.error_type.clone()), r))
            .collect())
    }
}

/// The agents of the session object's `agent` (JSON text).
fn initial_agents(agent: Option<&str>) -> Agents {
    agent
        .and_then(|a| serde_json::from_str::<Value>(a).ok())
        .map(|a| Agents::parse(&a))
        .unwrap_or_default()
}

/// The model ids an agent configuration names.
#[derive(Debug, Clone, Default, PartialEq)]
struct Agents {
    main: Option<String>,
    advisor: Option<String>,
    /// (agent name, model) of configured sub-agents and workflow agents.
    by_name: Vec<(String, String)>,
}

/// `"claude-…"` or `{"id": "claude-…", …}`.
fn model_id(v: Option<&Value>) -> Option<String> {
    match v? {
        Value::String(s) => Some(s.clone()),
        Value::Object(o) => o.get("id").and_then(Value::as_str).map(str::to_string),
        _ => None,
    }
}

impl Agents {
    fn parse(agent: &Value) -> Agents {
        let mut a = Agents {
            main: model_id(agent.get("model")),
            ..Agents::default()
        };
        let Some(multi) = agent.get("multiagent").filter(|m| m.is_object()) else {
            return a;
        };
        let mut named = |list: Option<&Value>| {
            for entry in list.and_then(Value::as_array).into_iter().flatten() {
                let model = model_id(entry.get("model"));
                if entry.get("type").and_then(Value::as_str) == Some("advisor") {
                    a.advisor = a.advisor.take().or(model);
                } else if let (Some(name), Some(model)) =
                    (entry.get("name").and_then(Value::as_str), model)
                {
                    a.by_name.push((name.to_string(), model));
                }
            }
        };
        // The coordinator form, then the multiagent_20261001 form.
        named(multi.get("agents"));
        for part in ["subagents", "workflows"] {
            named(multi.get(part).and_then(|p| p.get("predefined_agents")));
        }
        if let Some(adv) = multi.get("advisor") {
            a.advisor = a.advisor.take().or_else(|| model_id(adv.get("model")));
        }
        a
    }

    /// The model of a request on a thread run by `agent_name` (`None`: the session's agent).
    fn model_for(&self, agent_name: Option<&str>) -> Option<&str> {
        match agent_name {
            None => self.main.as_deref(),
            Some("anthropic.advisor") => self.advisor.as_deref(),
            Some(name) => self
                .by_name
                .iter()
                .find(|(n, _)| n == name)
                .map(|(_, m)| m.as_str()),
        }
    }
}

/// The fields of the extra types, borrowed from the raw text.
#[derive(Deserialize, Default)]
#[serde(default)]
struct Extras<'a> {
    #[serde(borrow)]
    error: Option<ErrorFields<'a>>,
    agent: Option<Value>,
    usage: Option<SessionUsage>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct ErrorFields<'a> {
    #[serde(rename = "type", borrow)]
    kind: Option<Cow<'a, str>>,
    retry_status: Option<RetryStatus<'a>>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct RetryStatus<'a> {
    #[serde(rename = "type", borrow)]
    kind: Option<Cow<'a, str>>,
}

/// Reads one session's events in time order (as the store scans them) into an [`Accumulator`].
pub struct StatsBuilder {
    session_id: String,
    spans: SpanBuilder,
    /// (effective from µs, agents), in time order; the first from the session object.
    agents: Vec<(i64, Agents)>,
    pending: Option<Agents>,
    acc: Accumulator,
    counted_errors: super::spans::StreamCopies,
    /// The newest `session.usage` (id, processed_at, raw), parsed once at the end.
    newest_usage: Option<(String, Option<String>, String)>,
    /// The spans accounted as they settled.
    ledger: ledger::Ledger,
    /// The opening-order index of each span held (in the order held), and of the next.
    held: Vec<usize>,
    opened: usize,
    /// How many spans held make the next try at accounting the settled ones.
    next_settle: usize,
    /// The fewest spans held between two tries.
    settle_every: usize,
}

/// Spans held before the settled ones are first accounted (and the fewest more after).
const SETTLE_EVERY: usize = 4096;

impl StatsBuilder {
    /// `agent` is the session object's `agent` (JSON text), if one was stored.
    pub fn new(session_id: &str, agent: Option<&str>) -> StatsBuilder {
        StatsBuilder {
            session_id: session_id.to_string(),
            spans: SpanBuilder::default(),
            agents: vec![(i64::MIN, initial_agents(agent))],
            pending: None,
            acc: Accumulator::default(),
            counted_errors: super::spans::StreamCopies::default(),
            newest_usage: None,
            ledger: ledger::Ledger::new(false),
            held: Vec::new(),
            opened: 0,
            next_settle: SETTLE_EVERY,
            settle_every: SETTLE_EVERY,
        }
    }

    /// Tries to account the settled spans once `n` are held (and at least `n` more after each
    /// try): the tests compare every `n`, down to 1, with never (`usize::MAX`).
    #[cfg(test)]
    pub(crate) fn settling_every(mut self, n: usize) -> StatsBuilder {
        (self.next_settle, self.settle_every) = (n, n);
        self
    }

    /// Reads the rules' tool calls too, for [`StatsBuilder::finish_with_calls`] (asked for
    /// before the first event).
    pub fn read_calls(mut self) -> StatsBuilder {
        self.ledger = ledger::Ledger::new(true);
        self
    }

    /// The session object's `agent` given after the events (it is read only at the end): the
    /// same as given to [`StatsBuilder::new`].
    pub fn set_agent(&mut self, agent: Option<&str>) {
        if let Some(first) = self.agents.first_mut() {
            first.1 = initial_agents(agent);
        }
    }

    /// Its span builder, fed every span event so far (its settled spans given back).
    pub fn spans(&self) -> &SpanBuilder {
        &self.spans
    }

    /// Lists every model request in the report.
    pub fn keep_requests(mut self) -> StatsBuilder {
        self.acc.requests = Some(Vec::new());
        self
    }

    /// Takes the next event in time order.
    pub fn push(&mut self, ev: &EventRef<'_>) {
        self.push_read(ev, &SpanFields::of(ev));
    }

    /// [`StatsBuilder::push`] of an event whose span fields are read: `f` is
    /// [`SpanFields::of`] `ev` (a fold feeding it to other builders too reads it once).
    pub fn push_read(&mut self, ev: &EventRef<'_>, f: &SpanFields<'_>) {
        match ev.event_type {
            "session.error" | "workflow_run.error" => {
                self.error(ev);
                if ev.event_type == "workflow_run.error" {
                    self.spans.push_read(ev, f);
                    self.settle();
                }
            }
            "session.updated" => {
                let x: Extras = serde_json::from_str(ev.raw).unwrap_or_default();
                if let Some(agent) = x.agent.filter(Value::is_object) {
                    self.pending = Some(Agents::parse(&agent));
                }
            }
            "session.status_running" => {
                if let Some(next) = self.pending.take() {
                    self.agents.push((ev.ts.unwrap_or(i64::MAX), next));
                }
            }
            "session.usage" => {
                // Periodic snapshots: only the newest counts, so keep its text for the end.
                let slot = self.newest_usage.get_or_insert_with(Default::default);
                slot.0.clear();
                slot.0.push_str(ev.event_id);
                slot.1 = ev.processed_at.map(str::to_string);
                slot.2.clear();
                slot.2.push_str(ev.raw);
            }
            _ => {
                self.spans.push_read(ev, f);
                self.settle();
            }
        }
    }

    /// Accounts the leading spans nothing can change any more, when enough are held: a long
    /// session's statistics then hold what they sum, not its spans. Spans whose accounting does
    /// not depend on order are passed over while open ([`ledger::passable`]); a tool call or a
    /// permission left open early holds back the spans after it, so the next try waits for twice
    /// as many.
    fn settle(&mut self) {
        // The spans the event opened.
        while self.held.len() < self.spans.len() {
            self.held.push(self.opened);
            self.opened += 1;
        }
        if self.spans.len() < self.next_settle {
            return;
        }
        let settled = (self.spans).take_settled_passing(|s| ledger::passable(s.kind));
        let mut at = settled.iter().map(|(i, _)| *i).peekable();
        let mut i = 0;
        let mut opened = Vec::with_capacity(settled.len());
        self.held.retain(|&o| {
            let taken = at.next_if_eq(&i).is_some();
            i += 1;
            if taken {
                opened.push(o);
            }
            !taken
        });
        let settled = opened.into_iter().zip(settled.into_iter().map(|(_, s)| s));
        self.ledger.take(&mut self.acc, &self.session_id, settled);
        let held = self.spans.len();
        self.next_settle = held.saturating_add(held.max(self.settle_every));
    }

    fn error(&mut self, ev: &EventRef<'_>) {
        // A copy of the same event on another stream (the same id at the same time) counts
        // once; a reused id at another time (placeholder ids) is another error.
        if self.counted_errors.is_copy(ev) {
            return;
        }
        let x: Extras = serde_json::from_str(ev.raw).unwrap_or_default();
        let e = x.error.unwrap_or_default();
        let kind = e.kind.as_deref().unwrap_or("unknown");
        let retry = e.retry_status.and_then(|r| r.kind).map(Cow::into_owned);
        self.acc
            .count_error(ev.event_type, kind, retry, ev.event_id, &self.session_id);
    }

    /// The agents in effect at `ts`.
    fn agents_at(&self, ts: Option<i64>) -> &Agents {
        let ts = ts.unwrap_or(i64::MAX);
        let i = self.agents.partition_point(|(from, _)| *from <= ts);
        &self.agents[i.saturating_sub(1)].1
    }

    /// The accumulated statistics; `end_ts` is the end of the recording (µs).
    pub fn finish(self, end_ts: Option<i64>) -> Accumulator {
        self.finish_spans(end_ts, false).0
    }

    /// [`StatsBuilder::finish`] and the session's completed tool calls, as
    /// [`super::rules::tool_calls`] reads them from the spans of the session's
    /// [`super::rules::TOOL_TYPES`] events: these spans pair by their own ids, so the statistics'
    /// spans (of every span type) hold the same calls. They are read only when
    /// [`StatsBuilder::read_calls`] was asked for (empty otherwise).
    pub fn finish_with_calls(self, end_ts: Option<i64>) -> (Accumulator, Vec<(String, i64)>) {
        self.finish_spans(end_ts, true)
    }

    fn finish_spans(
        mut self,
        end_ts: Option<i64>,
        calls: bool,
    ) -> (Accumulator, Vec<(String, i64)>) {
        let rest = std::mem::take(&mut self.spans).finish(end_ts);
        let mut acc = std::mem::take(&mut self.acc);
        if let Some((id, at, raw)) = self.newest_usage.take() {
            let x: Extras = serde_json::from_str(&raw).unwrap_or_default();
            acc.reported = x.usage.map(|u| Reported::from_usage(id, at, &u));
        }
        let mut ledger = std::mem::take(&mut self.ledger);
        let next = self.opened;
        let opened = std::mem::take(&mut self.held).into_iter().chain(next..);
        ledger.take(&mut acc, &self.session_id, opened.zip(rest));
        // A thread not created in the recording is the primary one.
        let read = ledger.finish(&mut acc, &self.session_id, |ts, agent| {
            self.agents_at(ts).model_for(agent)
        });
        (acc, if calls { read } else { Vec::new() })
    }
}

fn slow_span(session_id: &str, s: &Span, d: i64) -> SlowSpan {
    SlowSpan {
        session_id: session_id.to_string(),
        kind: s.kind,
        name: s.name.clone(),
        start_id: s.start_id.clone(),
        started_at: s.started_at.clone(),
        duration_ms: ms(d),
        is_error: s.is_error,
        duration_us: d,
        start_ts: s.start_ts.unwrap_or(i64::MAX),
    }
}

fn ms(us: i64) -> f64 {
    us as f64 / 1000.0
}

/// The nearest-rank percentile `p` (0 < p ≤ 100) of ascending `sorted`.
pub fn percentile(sorted: &[i64], p: f64) -> Option<i64> {
    if sorted.is_empty() {
        return None;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted.get(rank.clamp(1, sorted.len()) - 1).copied()
}

impl Accumulator {
    /// The accumulator as a cache keeps it: every field (floats as their bits, so it reads back
    /// exactly), the listed requests left out.
    pub fn to_cache(&self) -> serde_json::Result<Vec<u8>> {
        checkpoint::to_json(self)
    }

    /// An accumulator back from [`Accumulator::to_cache`]'s bytes (with no requests listed);
    /// `None` when they do not read as one.
    pub fn from_cache(bytes: &[u8]) -> Option<Accumulator> {
        let mut acc: Accumulator = checkpoint::from_json(bytes).ok()?;
        for (model, m) in &mut acc.models {
            m.price = model.as_deref().and_then(prices::lookup);
        }
        Some(acc)
    }

    /// The listed model requests, taken out (the report then lists none): for a caller that
    /// keeps them apart, without [`Accumulator::report`] copying them.
    pub fn take_requests(&mut self) -> Option<Vec<RequestRow>> {
        self.requests.take()
    }

    /// Lists `rows` as the model requests, as a [`StatsBuilder::keep_requests`] fold would have
    /// (the rows of the same session, in order).
    pub fn with_requests(mut self, rows: Vec<RequestRow>) -> Accumulator {
        self.requests = Some(rows);
        self
    }

    fn count_error(
        &mut self,
        source: &str,
        kind: &str,
        retry: Option<String>,
        event_id: &str,
        session_id: &str,
    ) {
        let row = self
            .errors
            .entry((source.to_string(), kind.to_string()))
            .or_insert_with(|| ErrorRow {
                source: source.to_string(),
                error_type: kind.to_string(),
                count: 0,
                retry_statuses: BTreeMap::new(),
                first_event_id: event_id.to_string(),
                first_session_id: session_id.to_string(),
            });
        row.count += 1;
        if let Some(r) = retry {
            *row.retry_statuses.entry(r).or_default() += 1;
        }
    }

    fn request(&mut self, session_id: &str, mut s: ledger::Request, model: Option<&str>) {
        let duration = s.duration;
        let mut u = s.usage.take().unwrap_or_default();
        let speed = u.speed.take();
        let tokens = RequestTokens {
            input: u.input_tokens,
            output: u.output_tokens,
            cache_read: u.cache_read_input_tokens,
            cache_write_5m: u.cache_creation_input_tokens,
            cache_write_1h: 0,
            fast: speed.as_deref() == Some("fast"),
        };
        let m = self.model(model);
        let cost = m.price.and_then(|p| p.cost(&tokens));
        m.tokens.add(&u, s.is_error);
        m.tokens.partial_requests += u64::from(s.partial);
        m.fast += u64::from(tokens.fast);
        match cost {
            Some(c) => {
                m.cost += c;
                m.priced += 1;
            }
            None => m.unpriced += 1,
        }
        if s.is_error {
            self.count_error(
                "span.model_request_end",
                "is_error",
                None,
                s.end_id.as_deref().unwrap_or(&s.start_id),
                session_id,
            );
        }
        if let Some(list) = &mut self.requests {
            list.push(RequestRow {
                session_id: session_id.to_string(),
                start_id: s.start_id,
                started_at: s.started_at,
                thread_id: s.thread_id,
                model: model.map(str::to_string),
                speed,
                duration_ms: duration.map(ms),
                is_error: s.is_error,
                input_tokens: u.input_tokens,
                output_tokens: u.output_tokens,
                cache_read_input_tokens: u.cache_read_input_tokens,
                cache_creation_input_tokens: u.cache_creation_input_tokens,
                cost_usd: cost,
                ts: s.ts,
                partial: s.partial,
            });
        }
    }

    /// The accumulator of `model`, priced once.
    fn model(&mut self, model: Option<&str>) -> &mut ModelAcc {
        let i = match self.models.iter().position(|(k, _)| k.as_deref() == model) {
            Some(i) => i,
            None => {
                let acc = ModelAcc {
                    price: model.and_then(prices::lookup),
                    ..ModelAcc::default()
                };
                self.models.push((model.map(str::to_string), acc));
                self.models.len() - 1
            }
        };
        &mut self.models[i].1
    }

    /// Applies `f` to the accumulator of tool `name` of `kind` (allocating its name once).
    fn with_tool<R: Default>(
        &mut self,
        name: &str,
        kind: SpanKind,
        f: impl FnOnce(&mut ToolAcc) -> R,
    ) -> R {
        if !self.tools.contains_key(name) {
            self.tools.insert(name.to_string(), Vec::new());
        }
        let Some(list) = self.tools.get_mut(name) else {
            return R::default();
        };
        let i = match list.iter().position(|(k, _)| *k == kind) {
            Some(i) => i,
            None => {
                list.push((kind, ToolAcc::default()));
                list.len() - 1
            }
        };
        f(&mut list[i].1)
    }

    fn tool(&mut self, session_id: &str, s: &Span, latency: Option<i64>) {
        let denied = s.detail.as_deref().is_some_and(|d| d.starts_with("denied"));
        let failed = self.with_tool(&s.name, s.kind, |t| {
            t.calls += 1;
            if s.open {
                t.open += 1;
            } else if denied {
                t.denied += 1;
            } else if let Some(d) = latency {
                t.durations.push(d);
                if t.slowest.as_ref().is_none_or(|(best, _, _)| d > *best) {
                    t.slowest = Some((d, session_id.to_string(), s.start_id.clone()));
                }
                t.errors += u64::from(s.is_error);
                return s.is_error;
            }
            false
        });
        if failed {
            let source = s.end_type.unwrap_or("tool_result");
            let id = s.end_id.as_deref().unwrap_or(&s.start_id);
            self.count_error(source, &s.name, None, id, session_id);
        }
    }

    /// Adds another session's (or set of sessions') statistics.
    pub fn merge(&mut self, o: Accumulator) {
        for (k, m) in o.models {
            let e = self.model(k.as_deref());
            e.tokens.merge(&m.tokens);
            e.fast += m.fast;
            e.cost += m.cost;
            e.priced += m.priced;
            e.unpriced += m.unpriced;
        }
        self.grader.merge(&o.grader);
        for (name, list) in o.tools {
            for (kind, t) in list {
                self.with_tool(&name, kind, |e| {
                    e.durations.extend(t.durations);
                    e.calls += t.calls;
                    e.open += t.open;
                    e.errors += t.errors;
                    e.denied += t.denied;
                    if let Some(s) = t.slowest
                        && e.slowest.as_ref().is_none_or(|(best, _, _)| s.0 > *best)
                    {
                        e.slowest = Some(s);
                    }
                });
            }
        }
        for (k, r) in o.errors {
            match self.errors.get_mut(&k) {
                Some(e) => {
                    e.count += r.count;
                    for (status, n) in r.retry_statuses {
                        *e.retry_statuses.entry(status).or_default() += n;
                    }
                }
                None => {
                    self.errors.insert(k, r);
                }
            }
        }
        self.slowest.extend(o.slowest);
        self.slowest.sort_by(|a, b| {
            b.duration_us
                .cmp(&a.duration_us)
                .then_with(|| a.start_ts.cmp(&b.start_ts))
                .then_with(|| a.session_id.cmp(&b.session_id))
        });
        self.slowest.truncate(SLOWEST);
        if let Some(r) = o.reported {
            match &mut self.reported {
                Some(mine) => mine.merge(&r),
                None => {
                    let mut r = r;
                    r.event_id = None;
                    r.processed_at = None;
                    self.reported = Some(r);
                }
            }
        }
        if let Some(list) = o.requests {
            self.requests.get_or_insert_with(Vec::new).extend(list);
        }
    }

    /// The report.
    pub fn report(&self) -> Stats {
        let mut tokens = Tokens::default();
        let mut models = Vec::new();
        let (mut estimate, mut priced, mut unpriced) = (0.0, 0u64, 0u64);
        // Known models by id, the unknown one last.
        let mut ordered: Vec<&(Option<String>, ModelAcc)> = self.models.iter().collect();
        ordered.sort_by_key(|(k, _)| (k.is_none(), k.clone()));
        for (model, m) in ordered {
            tokens.merge(&m.tokens);
            estimate += m.cost;
            priced += m.priced;
            unpriced += m.unpriced;
            models.push(ModelRow {
                model: model.clone(),
                tokens: m.tokens.clone().with_ratio(),
                fast_requests: m.fast,
                priced_as: m.price.map(|p| p.model),
                cost_usd: (m.priced > 0).then_some(m.cost),
                unpriced_requests: m.unpriced,
            });
        }
        let tools = self
            .tools
            .iter()
            .flat_map(|(name, list)| list.iter().map(move |(kind, t)| (kind, name, t)))
            .map(|(kind, name, t)| {
                let mut d = t.durations.clone();
                d.sort_unstable();
                ToolRow {
                    tool: name.clone(),
                    kind: *kind,
                    calls: t.calls,
                    completed: d.len() as u64,
                    open: t.open,
                    errors: t.errors,
                    denied: t.denied,
                    p50_ms: percentile(&d, 50.0).map(ms),
                    p95_ms: percentile(&d, 95.0).map(ms),
                    max_ms: d.last().copied().map(ms),
                    slowest_id: t.slowest.as_ref().map(|s| s.2.clone()),
                    slowest_session_id: t.slowest.as_ref().map(|s| s.1.clone()),
                }
            })
            .collect();
        Stats {
            tokens: tokens.with_ratio(),
            models,
            grader: self.grader.clone().with_ratio(),
            cost: Cost {
                prices_as_of: prices::AS_OF,
                estimate_usd: (priced > 0).then_some(estimate),
                unpriced_requests: unpriced,
                complete: unpriced == 0,
            },
            reported: self.reported.clone(),
            tools,
            errors: self.errors.values().cloned().collect(),
            slowest_spans: self.slowest.clone(),
            requests: self.requests.clone(),
        }
    }
}

pub mod groups;
mod ledger;

#[cfg(test)]
mod ledger_tests;
#[cfg(test)]
mod tests;
