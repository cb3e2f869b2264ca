//! A session's spans accounted into its statistics in opening order, a run at a time as they
//! settle ([`SpanBuilder::take_settled_passing`]), then the rest at the end: the statistics hold
//! what they sum, not every span.
//!
//! Tool calls and permissions are accounted in the order a single pass over all the spans at the
//! end takes, so the latencies, the first error of each tool and each tool's slowest call come
//! out the same. The spans of the other kinds ([`passable`]) may come later, as they settle:
//! what they add does not depend on order once each carries its opening index (model requests
//! are put back in that order before they are priced, a thread's agent is its span opened last,
//! the slowest spans break ties by it, and evaluations add integers). Model
//! requests wait until the end as compact [`Request`]s: their model comes from the session's
//! agents, which a fold following an import learns only then, and from their thread's agent,
//! named by a thread span that may come later.

use std::collections::HashMap;

use super::{Accumulator, SLOWEST, SlowSpan, slow_span};
use crate::analysis::rules::tool_watched;
use crate::analysis::seen::id_hash;
#[cfg(doc)]
use crate::analysis::spans::SpanBuilder;
use crate::analysis::spans::{Span, SpanKind};
use crate::model::typed::ModelUsage;

/// Whether spans of `kind` may be accounted out of opening order (see the module docs).
pub(super) fn passable(kind: SpanKind) -> bool {
    matches!(
        kind,
        SpanKind::ModelRequest
            | SpanKind::OutcomeEvaluation
            | SpanKind::Thread
            | SpanKind::WorkflowRun
            | SpanKind::WorkflowPhase
    )
}

/// A model request as its accounting reads it.
pub(super) struct Request {
    /// Its opening-order index.
    index: usize,
    pub start_id: String,
    pub started_at: Option<String>,
    pub thread_id: Option<String>,
    /// The closing event's id, kept only for a request that failed (it names the error).
    pub end_id: Option<String>,
    pub usage: Option<ModelUsage>,
    pub is_error: bool,
    pub partial: bool,
    pub start_ts: Option<i64>,
    /// `start_ts`, else the end's.
    pub ts: Option<i64>,
    pub duration: Option<i64>,
}

impl Request {
    fn of(index: usize, s: Span, duration: Option<i64>) -> Request {
        Request {
            index,
            end_id: s.end_id.filter(|_| s.is_error),
            start_id: s.start_id,
            started_at: s.started_at,
            thread_id: s.thread_id,
            usage: s.usage,
            is_error: s.is_error,
            partial: s.partial,
            start_ts: s.start_ts,
            ts: s.start_ts.or(s.end_ts),
            duration,
        }
    }
}

/// What accounting keeps from one span to the next.
#[derive(Default)]
pub(super) struct Ledger {
    /// (opening-order index, agent name) by thread id, from the thread span opened last.
    thread_agents: HashMap<String, (usize, String)>,
    /// How long each tool waited for a permission, by its opening id: the spans before it.
    waits: HashMap<String, i64>,
    requests: Vec<Request>,
    /// (duration, index, span) of the slowest spans so far; trimmed to [`SLOWEST`] now and
    /// then, after which `floor` is the shortest kept: a span shorter can never be among them.
    slow: Vec<(i64, usize, SlowSpan)>,
    floor: Option<i64>,
    /// The rules' tool calls, when they are read.
    calls: Option<Calls>,
}

/// The rules' tool calls: each completed call's tool and duration, less the wait of the
/// permission span with its opening id, wherever that span is (`rules::tool_calls`).
#[derive(Default)]
struct Calls {
    /// (tool, hash of the opening id, duration µs), in opening order.
    pending: Vec<(String, u64, i64)>,
    /// Permission waits by the hash of their opening id (a later span wins).
    waits: HashMap<u64, i64>,
}

impl Ledger {
    /// A ledger that also reads the rules' tool calls when `calls`.
    pub fn new(calls: bool) -> Ledger {
        Ledger {
            calls: calls.then(Calls::default),
            ..Ledger::default()
        }
    }

    /// Accounts `spans`, each with its opening-order index: tool calls and permissions in
    /// opening order, the [`passable`] kinds in any.
    pub fn take(
        &mut self,
        acc: &mut Accumulator,
        session_id: &str,
        spans: impl IntoIterator<Item = (usize, Span)>,
    ) {
        for (i, s) in spans {
            let duration = match (s.start_ts, s.end_ts) {
                (Some(a), Some(b)) => Some((b - a).max(0)),
                _ => None,
            };
            if let Some(c) = &mut self.calls {
                c.note(&s);
            }
            if s.kind != SpanKind::Thread
                && let Some(d) = duration
                && self.floor.is_none_or(|f| d >= f)
            {
                self.slow.push((d, i, slow_span(session_id, &s, d)));
                if self.slow.len() >= 4 * SLOWEST {
                    self.trim_slow();
                }
            }
            match s.kind {
                SpanKind::Thread => {
                    // The thread's span opened last names its agent.
                    if let Some(t) = s.thread_id {
                        let e = self.thread_agents.entry(t).or_insert((i, String::new()));
                        if e.0 <= i {
                            *e = (i, s.name);
                        }
                    }
                }
                SpanKind::ModelRequest => self.requests.push(Request::of(i, s, duration)),
                SpanKind::Permission => {
                    if let Some(d) = duration {
                        self.waits.insert(s.start_id, d);
                    }
                }
                SpanKind::Tool | SpanKind::McpTool | SpanKind::CustomTool => {
                    let wait = match self.waits.is_empty() {
                        true => 0,
                        false => self.waits.get(s.start_id.as_str()).copied().unwrap_or(0),
                    };
                    acc.tool(session_id, &s, duration.map(|d| (d - wait).max(0)));
                }
                SpanKind::OutcomeEvaluation => {
                    if let Some(u) = &s.usage {
                        acc.grader.add(u, s.is_error);
                    }
                }
                _ => {}
            }
        }
    }

    /// Keeps the [`SLOWEST`] longest spans, the earlier first among equals.
    fn trim_slow(&mut self) {
        let rank = |&(d, i, _): &(i64, usize, SlowSpan)| (std::cmp::Reverse(d), i);
        if self.slow.len() > SLOWEST {
            self.slow.select_nth_unstable_by_key(SLOWEST - 1, rank);
            self.slow.truncate(SLOWEST);
            self.floor = self.slow.iter().map(|s| s.0).min();
        }
        self.slow.sort_unstable_by_key(rank);
    }

    /// Accounts the model requests, each with the model `model_of` gives for its start and its
    /// thread's agent (`None`: the primary thread's), and the slowest spans; gives the rules'
    /// tool calls (empty when they are not read).
    pub fn finish<'m>(
        mut self,
        acc: &mut Accumulator,
        session_id: &str,
        model_of: impl Fn(Option<i64>, Option<&str>) -> Option<&'m str>,
    ) -> Vec<(String, i64)> {
        let mut requests = std::mem::take(&mut self.requests);
        requests.sort_by_key(|r| r.index);
        for r in requests {
            let agent = r
                .thread_id
                .as_deref()
                .and_then(|t| self.thread_agents.get(t));
            let model = model_of(r.start_ts, agent.map(|a| a.1.as_str()));
            acc.request(session_id, r, model);
        }
        self.trim_slow();
        acc.slowest = self.slow.into_iter().map(|(_, _, s)| s).collect();
        let Some(c) = self.calls else {
            return Vec::new();
        };
        (c.pending.into_iter())
            .map(|(tool, id, d)| (tool, (d - c.waits.get(&id).copied().unwrap_or(0)).max(0)))
            .collect()
    }
}

impl Calls {
    fn note(&mut self, s: &Span) {
        let (Some(a), Some(b)) = (s.start_ts, s.end_ts) else {
            return;
        };
        if s.kind == SpanKind::Permission {
            self.waits.insert(id_hash(&s.start_id), b - a);
        } else if tool_watched(s.kind)
            && !s.open
            && !s.detail.as_deref().is_some_and(|d| d.starts_with("denied"))
        {
            self.pending
                .push((s.name.clone(), id_hash(&s.start_id), b - a));
        }
    }
}
