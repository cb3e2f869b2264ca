//! The state of a session at a point, reconstructed by one pure, incremental fold over its
//! events in time order ([`StateBuilder::push`], then [`StateBuilder::finish`]): the session's
//! and each thread's status, the turn in progress and the last finished one, what is open, what
//! the session is blocked on, and (in the full fold) usage, messages and errors so far.
//!
//! A turn ends at a session-level idle whose stop reason is not `requires_action`. Tools, model
//! requests and evaluations still open then were abandoned with the turn: they are kept on the
//! finished turn, not reported as open. Threads and workflow runs outlive turns.
//!
//! That makes a fast read possible on long sessions: fed every event from the second-newest
//! turn-ending idle on, and only the [`full_prefix_types`] (or, for a verdict, the
//! [`VERDICT_PREFIX_TYPES`]) before it, the fold gives the same answer as when fed everything.

mod parse;
#[cfg(test)]
mod tests;
mod turn;
mod types;

use std::collections::{BTreeMap, HashMap, HashSet};

use serde::{Deserialize, Serialize};

use crate::analysis::explain::blocking::{self, BlockingInput, Reply, ToolUse};
use crate::analysis::spans::{RequestPairs, SpanBuilder, SpanFields, StreamCopies};
use crate::model::typed::{Budget, Presence};
use crate::store::EventRef;

pub use parse::{StopReasonRead, idle_ends_turn, stop_reason as read_stop_reason};
use turn::{Finished, TurnBuilder};
pub use types::*;
use types::{Kept, keep, set_text};

/// What a verdict needs from before the turn in progress: threads, workflow runs, budget updates.
pub const VERDICT_PREFIX_TYPES: &[&str] = &[
    "session.thread_created",
    "session.thread_status_running",
    "session.thread_status_idle",
    "session.thread_status_rescheduled",
    "session.thread_status_terminated",
    "workflow_run.created",
    "workflow_run.status_ended",
    "workflow_run.error",
    "workflow_run.phase_started",
    "workflow_run.phase_ended",
    "session.updated",
];

/// What the full fold needs from before the turn in progress besides [`VERDICT_PREFIX_TYPES`]:
/// the ledger (statuses, errors, usage, messages, model request ends).
pub const LEDGER_PREFIX_TYPES: &[&str] = &[
    "session.status_running",
    "session.status_idle",
    "session.status_rescheduled",
    "session.status_terminated",
    "session.deleted",
    "session.error",
    "session.usage",
    "user.message",
    "agent.message",
    "span.model_request_start",
    "span.model_request_end",
];

/// What the full fold needs from before the turn in progress: the verdict's types and the
/// ledger's.
pub fn full_prefix_types() -> impl Iterator<Item = &'static str> {
    VERDICT_PREFIX_TYPES
        .iter()
        .chain(LEDGER_PREFIX_TYPES)
        .copied()
}

/// The fold. Feed it events in time order with [`push`](Self::push), then [`finish`](Self::finish).
/// It serializes (see `analysis::checkpoint`), so a fold can stop and go on later.
#[derive(Clone, Serialize, Deserialize)]
pub struct StateBuilder {
    session_id: String,
    status: Option<StatusMark>,
    newest_idle: Option<Idle>,
    /// `requires_action` idles since the session last entered running, oldest first.
    requires: Vec<Idle>,
    threads: BTreeMap<String, ThreadState>,
    turn: TurnBuilder,
    last_turn: Option<Finished>,
    long_spans: SpanBuilder,
    ledger: Option<Ledger>,
    /// The ledger's model requests, paired by the rules of the builder `spans` and `stats` use
    /// (an end whose start is not in the recording is counted, marked partial), each summed as
    /// it closes.
    requests: RequestPairs,
    /// The newest agent message per stream, and the newest `session.usage`.
    last_agent: HashMap<String, Option<Kept>>,
    last_usage: Option<Kept>,
    last: Option<Mark>,
    copies: StreamCopies,
}

impl StateBuilder {
    /// The full fold: everything, ledger included.
    pub fn new(session_id: &str) -> StateBuilder {
        StateBuilder {
            session_id: session_id.to_string(),
            status: None,
            newest_idle: None,
            requires: Vec::new(),
            threads: BTreeMap::new(),
            turn: TurnBuilder::default(),
            last_turn: None,
            long_spans: SpanBuilder::default(),
            ledger: Some(Ledger::default()),
            requests: RequestPairs::default(),
            last_agent: HashMap::new(),
            last_usage: None,
            last: None,
            copies: StreamCopies::default(),
        }
    }

    /// A fold for a verdict: no ledger, so it can be fed only [`VERDICT_PREFIX_TYPES`] before
    /// the turns it explains.
    pub fn for_verdict(session_id: &str) -> StateBuilder {
        StateBuilder {
            ledger: None,
            ..StateBuilder::new(session_id)
        }
    }

    fn set_status(&mut self, status: &str, row: &EventRef<'_>) {
        match &mut self.status {
            Some(s) => {
                set_text(&mut s.status, status);
                s.mark.set(row);
            }
            None => {
                self.status = Some(StatusMark {
                    status: status.to_string(),
                    mark: Mark::of(row),
                })
            }
        }
    }

    fn stream(row: &EventRef<'_>) -> Option<String> {
        (!row.thread_id.is_empty()).then(|| row.thread_id.to_string())
    }

    /// Takes the next event in time order.
    pub fn push(&mut self, row: &EventRef<'_>) {
        self.push_read(row, &SpanFields::of(row));
    }

    /// [`StateBuilder::push`] of an event whose span fields are read: `f` is
    /// [`SpanFields::of`] `row` (a fold feeding it to other builders too reads it once).
    pub fn push_read(&mut self, row: &EventRef<'_>, f: &SpanFields<'_>) {
        if self.copies.is_copy(row) {
            return;
        }
        match &mut self.last {
            Some(m) => m.set(row),
            None => self.last = Some(Mark::of(row)),
        }
        let t = row.event_type;
        match t {
            "session.status_running" => {
                self.set_status("running", row);
                self.requires.clear();
                self.turn.facts.started.get_or_insert_with(|| Mark::of(row));
            }
            "session.status_idle" => {
                self.set_status("idle", row);
                let idle = parse::idle(Mark::of(row), row.raw);
                self.newest_idle = Some(idle.clone());
                if idle.stop_reason.as_deref() == Some("requires_action") {
                    self.requires.push(idle);
                } else {
                    self.end_turn(idle, row.ts);
                }
            }
            "session.status_rescheduled" => {
                self.set_status("rescheduling", row);
                self.turn.facts.reschedules.push(Mark::of(row));
            }
            "session.status_terminated" => self.set_status("terminated", row),
            "session.deleted" => self.set_status("deleted", row),
            "session.error" | "workflow_run.error" => {
                let e = parse::error(Mark::of(row), row.raw);
                if let Some(l) = &mut self.ledger {
                    l.errors.push(e.clone());
                }
                self.turn.facts.errors.push(e);
                if t == "workflow_run.error" {
                    self.long_spans.push_read(row, f);
                }
            }
            // An interrupt aimed at one child thread does not end the session's turn.
            "user.interrupt" if parse::session_thread_id(row.raw).is_none() => {
                self.turn.facts.interrupts.push(Mark::of(row));
            }
            "user.message" => {
                if let Some(l) = &mut self.ledger {
                    Self::messages_of(l, row).user_messages += 1;
                }
                keep(&mut self.turn.last_user, row);
            }
            "agent.message" => {
                if let Some(l) = &mut self.ledger {
                    Self::messages_of(l, row).agent_messages += 1;
                    match self.last_agent.get_mut(row.thread_id) {
                        Some(slot) => keep(slot, row),
                        None => {
                            let mut slot = None;
                            keep(&mut slot, row);
                            self.last_agent.insert(row.thread_id.to_string(), slot);
                        }
                    }
                }
                keep(&mut self.turn.last_agent, row);
            }
            "session.usage" if self.ledger.is_some() => {
                keep(&mut self.last_usage, row);
                self.set_budget(parse::usage_budget(row.raw), row);
            }
            "session.updated" => match parse::updated_budget(row.raw) {
                Presence::Absent => {}
                Presence::Null => self.set_budget(None, row),
                Presence::Value(b) => self.set_budget(Some(b), row),
            },
            "session.thread_created"
            | "session.thread_status_running"
            | "session.thread_status_idle"
            | "session.thread_status_rescheduled"
            | "session.thread_status_terminated" => {
                self.thread_event(row, f);
            }
            "workflow_run.created"
            | "workflow_run.status_ended"
            | "workflow_run.phase_started"
            | "workflow_run.phase_ended" => self.long_spans.push_read(row, f),
            "span.model_request_end" => {
                if let Some(l) = &mut self.ledger
                    && let Some(c) = self.requests.push(row, f)
                {
                    l.model_requests.add(&c.usage, c.is_error);
                    l.model_requests.partial_requests += u64::from(c.partial);
                }
                self.close_in_turn(row, f);
            }
            "agent.tool_use" | "agent.mcp_tool_use" | "agent.custom_tool_use" => {
                self.turn.tool_uses.insert(
                    row.event_id.to_string(),
                    ToolUse {
                        mark: Mark::of(row),
                        raw: row.raw.to_string(),
                    },
                );
                self.open_in_turn(row, f);
            }
            "span.model_request_start" | "span.outcome_evaluation_start" => {
                if t == "span.model_request_start" && self.ledger.is_some() {
                    self.requests.push(row, f);
                }
                self.turn.evaluations += usize::from(t == "span.outcome_evaluation_start");
                self.open_in_turn(row, f);
            }
            "span.outcome_evaluation_ongoing" if self.turn.evaluations > 0 => {
                self.turn.spans.push_read(row, f)
            }
            "user.custom_tool_result" | "user.tool_result" | "user.tool_confirmation" => {
                let (result, is_error) = parse::reply(row.raw);
                self.turn.self_hosted |= t == "user.tool_result";
                if let Some(link) = row.link_id {
                    let reply = Reply {
                        mark: Mark::of(row),
                        result,
                        is_error,
                    };
                    self.turn
                        .replies
                        .entry(link.to_string())
                        .or_default()
                        .push(reply);
                }
                self.close_in_turn(row, f);
            }
            "agent.tool_result" | "agent.mcp_tool_result" | "span.outcome_evaluation_end" => {
                self.close_in_turn(row, f);
            }
            _ => {}
        }
    }

    fn messages_of<'l>(l: &'l mut Ledger, row: &EventRef<'_>) -> &'l mut ThreadMessages {
        match l
            .messages
            .iter()
            .position(|m| m.thread_id.as_deref().unwrap_or_default() == row.thread_id)
        {
            Some(i) => &mut l.messages[i],
            None => {
                l.messages.push(ThreadMessages {
                    thread_id: Self::stream(row),
                    ..ThreadMessages::default()
                });
                let last = l.messages.len() - 1;
                &mut l.messages[last]
            }
        }
    }

    fn set_budget(&mut self, budget: Option<Budget>, row: &EventRef<'_>) {
        if let Some(l) = &mut self.ledger {
            l.budget = Some(BudgetMark {
                budget,
                set_by: Mark::of(row),
            });
        }
    }

    fn open_in_turn(&mut self, row: &EventRef<'_>, f: &SpanFields<'_>) {
        self.turn.opened.insert(row.event_id.to_string());
        self.turn.spans.push_read(row, f);
    }

    fn close_in_turn(&mut self, row: &EventRef<'_>, f: &SpanFields<'_>) {
        if row.link_id.is_some_and(|l| self.turn.opened.contains(l)) {
            self.turn.spans.push_read(row, f);
        }
    }

    fn thread_event(&mut self, row: &EventRef<'_>, f: &SpanFields<'_>) {
        let (tid, agent, run, stop) = parse::thread(row.raw);
        let Some(tid) = tid else { return };
        let status = match row.event_type {
            "session.thread_created" => "created",
            "session.thread_status_running" => "running",
            "session.thread_status_idle" => "idle",
            "session.thread_status_rescheduled" => "rescheduling",
            _ => "terminated",
        };
        let entry = self
            .threads
            .entry(tid.clone())
            .or_insert_with(|| ThreadState {
                thread_id: tid,
                agent_name: None,
                workflow_run_id: None,
                status: String::new(),
                stop_reason: None,
                since: Mark::of(row),
            });
        entry.agent_name = agent.or(entry.agent_name.take());
        entry.workflow_run_id = run.or(entry.workflow_run_id.take());
        entry.status = status.to_string();
        entry.stop_reason = stop;
        entry.since = Mark::of(row);
        self.long_spans.push_read(row, f);
    }

    fn end_turn(&mut self, idle: Idle, ts: Option<i64>) {
        let (mut turn, open) = std::mem::take(&mut self.turn).finish(ts);
        turn.facts.ended_by = Some(idle);
        turn.facts.abandoned_spans = open;
        self.last_turn = Some(turn);
        self.requires.clear();
    }

    /// [`State::idle_with`] of the state [`finish`](Self::finish) will give.
    pub fn idle_with(&self, stop_reason: &str) -> bool {
        types::idle_with(self.status.as_ref(), self.newest_idle.as_ref(), stop_reason)
    }

    /// The state after every event pushed; open spans and waits are aged at `end_ts` (the point,
    /// or the end of the recording).
    pub fn finish(self, end_ts: Option<i64>) -> State {
        let over = self
            .status
            .as_ref()
            .map(|s| s.status.as_str())
            .filter(|s| matches!(*s, "terminated" | "deleted"));
        let terminated: HashSet<&str> = self
            .threads
            .values()
            .filter(|t| t.status == "terminated")
            .map(|t| t.thread_id.as_str())
            .collect();
        let blocking = blocking::resolve(&BlockingInput {
            session_id: &self.session_id,
            idles: &self.requires,
            tool_uses: &self.turn.tool_uses,
            replies: &self.turn.replies,
            terminated_threads: &terminated,
            session_over: over,
            self_hosted_hint: self.turn.self_hosted,
            end_ts,
        });
        let (turn, mut open_spans) = self.turn.finish(end_ts);
        let turn = turn.turn();
        open_spans.extend(
            self.long_spans
                .finish(end_ts)
                .into_iter()
                .filter(|s| s.open),
        );
        open_spans.sort_by_key(|s| s.start_ts.unwrap_or(i64::MAX));
        let mut ledger = self.ledger;
        if let Some(l) = &mut ledger {
            l.session_usage = self.last_usage.map(|k| UsageMark {
                usage: parse::session_usage(&k.raw),
                mark: k.mark,
            });
            for m in &mut l.messages {
                let key = m.thread_id.clone().unwrap_or_default();
                m.last_agent_message = self
                    .last_agent
                    .get(&key)
                    .and_then(Option::as_ref)
                    .map(Kept::message);
            }
        }
        State {
            session_status: self.status,
            newest_idle: self.newest_idle,
            threads: self.threads.into_values().collect(),
            open_spans,
            blocking,
            turn,
            last_turn: self.last_turn.map(Finished::turn),
            ledger,
            last_event: self.last,
            end_ts,
        }
    }
}
