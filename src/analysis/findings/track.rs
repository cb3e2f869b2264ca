//! The findings fold: what it keeps per turn and across turns, and when each finding is decided.
//! Most are decided at their event; a turn's empty output, its loops, its unrecovered errors and
//! its unmet outcome when the turn ends; an MCP server's recovery, queued events and capture
//! gaps at the end of the recording (or the point).

use std::collections::{BTreeMap, HashMap, HashSet};

use serde::{Deserialize, Serialize};

use super::calls::Calls;
use super::out::Out;
use super::parse::{self, ErrorFacts, IdleFacts};
use super::{Code, Finding, Findings, OutcomeReport, Severity};
use crate::analysis::capture::Gap;
use crate::analysis::checkpoint::{self, StaticStr};
use crate::analysis::spans::StreamCopies;
use crate::model::parse_timestamp_micros;
use crate::store::EventRef;

/// An event a finding points at.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Spot {
    pub event_id: String,
    pub at: Option<String>,
    pub ts: Option<i64>,
}

impl Spot {
    fn of(row: &EventRef<'_>) -> Spot {
        Spot {
            event_id: row.event_id.to_string(),
            at: row.processed_at.map(str::to_string),
            ts: row.ts,
        }
    }
}

#[derive(Debug, Serialize, Deserialize)]
struct TurnError {
    spot: Spot,
    facts: ErrorFacts,
    /// A model request succeeded or the agent spoke after it.
    recovered: bool,
}

/// What the turn in progress has done so far.
#[derive(Debug, Default, Serialize, Deserialize)]
struct Turn {
    agent_messages: usize,
    model_requests: usize,
    output_tokens: u64,
    interrupted: bool,
    last_user: Option<String>,
    /// Every `session.error` of the turn but the MCP ones, oldest first.
    errors: Vec<TurnError>,
    calls: Calls,
}

#[derive(Debug, Serialize, Deserialize)]
struct Child {
    agent_name: Option<String>,
    #[serde(with = "checkpoint::known")]
    status: StaticStr,
    stop: parse::Stop,
    idle: Option<Spot>,
}

#[derive(Debug, Serialize, Deserialize)]
struct Outcome {
    report: OutcomeReport,
    turn: usize,
    settled: bool,
}

/// The fold. Feed it events in time order with [`push`](Self::push), then
/// [`finish`](Self::finish).
/// It serializes (see `analysis::checkpoint`), so a fold can stop and go on later.
#[derive(Debug, Serialize, Deserialize)]
pub struct FindingsBuilder {
    first_ts: Option<i64>,
    turn_no: usize,
    /// The time of each turn-ending idle, oldest first.
    turn_ends: Vec<Option<i64>>,
    turn: Turn,
    #[serde(with = "checkpoint::known")]
    status: StaticStr,
    /// The newest session status is an idle that ended a turn, with its stop reason.
    ended: Option<String>,
    children: BTreeMap<String, Child>,
    outcomes: Vec<Outcome>,
    /// MCP tool-use event id → server.
    mcp_uses: HashMap<String, String>,
    /// `(index into out, server, retry status)` of MCP failures, until a call to the server works.
    mcp_failures: Vec<(usize, String, Option<String>)>,
    #[serde(serialize_with = "crate::analysis::checkpoint::sorted_set::serialize")]
    recovered_servers: HashSet<String>,
    spend: (Option<String>, Option<String>),
    /// Queued user events, with whether each answers a call.
    queued: Vec<(Finding, bool)>,
    #[serde(serialize_with = "crate::analysis::checkpoint::sorted_set::serialize")]
    flagged_idles: HashSet<String>,
    copies: StreamCopies,
    out: Out,
}

impl Default for FindingsBuilder {
    fn default() -> Self {
        FindingsBuilder::new()
    }
}

const REPLIES: &[&str] = &[
    "user.custom_tool_result",
    "user.tool_result",
    "user.tool_confirmation",
];

impl FindingsBuilder {
    pub fn new() -> FindingsBuilder {
        FindingsBuilder {
            first_ts: None,
            turn_no: 1,
            turn_ends: Vec::new(),
            turn: Turn::default(),
            status: "unknown",
            ended: None,
            children: BTreeMap::new(),
            outcomes: Vec::new(),
            mcp_uses: HashMap::new(),
            mcp_failures: Vec::new(),
            recovered_servers: HashSet::new(),
            spend: (None, None),
            queued: Vec::new(),
            flagged_idles: HashSet::new(),
            copies: StreamCopies::default(),
            out: Out::default(),
        }
    }

    fn emit(&mut self, code: Code, severity: Severity, spot: Spot, message: String) -> usize {
        self.out.push(Finding {
            code,
            severity,
            turn: self.turn_no,
            event_id: Some(spot.event_id),
            at: spot.at,
            offset_ms: None,
            message,
            ts: spot.ts,
        });
        self.out.len() - 1
    }

    /// A row of the primary thread: the session's stream, or a thread no `session.thread_created`
    /// named (the primary thread's own stream).
    fn primary(&self, row: &EventRef<'_>) -> bool {
        row.thread_id.is_empty() || !self.children.contains_key(row.thread_id)
    }

    /// Takes the next event in time order.
    pub fn push(&mut self, row: &EventRef<'_>) {
        if self.copies.is_copy(row) {
            return;
        }
        if row.ts.is_none() {
            // Only a null or absent processed_at means queued; one that is not a timestamp
            // (a redacted "...") was processed at a time the recording does not tell.
            if row.processed_at.is_none() {
                self.queued_event(row);
            }
            return;
        }
        self.first_ts = self.first_ts.or(row.ts);
        let t = row.event_type;
        match t {
            "session.status_running" => self.set_status("running"),
            "session.status_rescheduled" => self.set_status("rescheduling"),
            "session.status_terminated" => {
                self.set_status("terminated");
                self.unrecovered_errors(None);
            }
            "session.deleted" => self.set_status("deleted"),
            "session.status_idle" => {
                self.set_status("idle");
                let idle = parse::idle(row.raw);
                if idle.stop.kind.as_deref() != Some("requires_action") {
                    self.end_turn(row, idle);
                }
            }
            "session.error" => self.session_error(row),
            "workflow_run.error" => {
                let e = parse::error(row.raw);
                let msg = format!(
                    "workflow run error {}: {}",
                    e.error_type,
                    parse::clause(e.message.as_deref(), "(no message)")
                );
                self.emit(Code::Error, Severity::Warning, Spot::of(row), msg);
            }
            "user.message" => self.turn.last_user = Some(parse::text_excerpt(row.raw)),
            "user.interrupt" => self.interrupt(row),
            "agent.message" if self.primary(row) => {
                self.turn.agent_messages += 1;
                self.progress();
            }
            "span.model_request_end" => {
                let (tokens, is_error) = parse::request_end(row.raw);
                if self.primary(row) {
                    self.turn.model_requests += 1;
                    self.turn.output_tokens += tokens;
                }
                if !is_error {
                    self.progress();
                }
            }
            "agent.tool_use" | "agent.mcp_tool_use" | "agent.custom_tool_use" => {
                let call = parse::call(row.raw);
                if t == "agent.mcp_tool_use" {
                    let server = call.tool.split('.').next().unwrap_or_default();
                    self.mcp_uses
                        .insert(row.event_id.to_string(), server.to_string());
                }
                self.turn.calls.call(t, Spot::of(row), call, row.thread_id);
            }
            "agent.tool_result"
            | "agent.mcp_tool_result"
            | "user.custom_tool_result"
            | "user.tool_result" => self.tool_result(row),
            "agent.thread_message_received" => self.received(row),
            "session.thread_created"
            | "session.thread_status_running"
            | "session.thread_status_rescheduled"
            | "session.thread_status_idle"
            | "session.thread_status_terminated" => self.thread_event(row),
            "user.define_outcome" => self.define_outcome(row),
            "span.outcome_evaluation_end" => self.evaluation_end(row),
            "session.usage" => self.spend = parse::spend(row.raw),
            _ => {}
        }
    }

    fn set_status(&mut self, status: &'static str) {
        self.status = status;
        self.ended = None;
    }

    /// Progress after errors: the retrying ones of the turn were recovered from.
    fn progress(&mut self) {
        for e in &mut self.turn.errors {
            if e.facts.retry_status.as_deref() == Some("retrying") {
                e.recovered = true;
            }
        }
    }

    fn session_error(&mut self, row: &EventRef<'_>) {
        let e = parse::error(row.raw);
        let spot = Spot::of(row);
        let text = format!(
            "{}{}: {}",
            e.error_type,
            e.retry_status
                .as_ref()
                .map(|r| format!(" ({r})"))
                .unwrap_or_default(),
            parse::clause(e.message.as_deref(), "(no message)")
        );
        if let Some(server) = e
            .mcp_server_name
            .clone()
            .filter(|_| e.error_type.starts_with("mcp_"))
        {
            let severity = match e.retry_status.as_deref() {
                Some("exhausted" | "terminal") => Severity::Error,
                _ => Severity::Warning,
            };
            let i = self.emit(
                Code::McpFailure,
                severity,
                spot.clone(),
                format!("MCP server {server}: {text}"),
            );
            self.mcp_failures.push((i, server, e.retry_status.clone()));
        } else if e.error_type.starts_with("repository_") {
            let repo = e.repository_url.as_deref().unwrap_or("(unidentified)");
            let msg = format!("{text}; the session goes on without repository {repo}");
            self.emit(Code::Error, Severity::Warning, spot.clone(), msg);
        } else if e.retry_status.as_deref() == Some("terminal") {
            let msg = format!("{text}; the session terminates");
            self.emit(Code::Error, Severity::Error, spot.clone(), msg);
        }
        let chained = !e.error_type.starts_with("repository_")
            && e.retry_status.as_deref() != Some("terminal");
        self.turn.errors.push(TurnError {
            spot,
            recovered: !chained,
            facts: e,
        });
    }

    /// Errors of the turn neither recovered from nor explained by the turn's end: findings.
    /// `stop`: how the turn ended (`None`: the session terminated).
    fn unrecovered_errors(&mut self, stop: Option<&str>) {
        if stop == Some("retries_exhausted") {
            return;
        }
        let left: Vec<(Spot, String)> = self
            .turn
            .errors
            .iter_mut()
            .filter(|e| !e.recovered && !e.facts.error_type.starts_with("mcp_"))
            .map(|e| {
                e.recovered = true;
                let msg = format!(
                    "{}{}, never recovered from: {}",
                    e.facts.error_type,
                    e.facts
                        .retry_status
                        .as_ref()
                        .map(|r| format!(" ({r})"))
                        .unwrap_or_default(),
                    parse::clause(e.facts.message.as_deref(), "(no message)")
                );
                (e.spot.clone(), msg)
            })
            .collect();
        for (spot, msg) in left {
            self.emit(Code::Error, Severity::Error, spot, msg);
        }
    }

    fn interrupt(&mut self, row: &EventRef<'_>) {
        let msg = match parse::session_thread_id(row.raw) {
            Some(t) => format!("the user interrupted child thread {t}"),
            None => {
                self.turn.interrupted = true;
                format!("the user interrupted turn {}", self.turn_no)
            }
        };
        self.emit(Code::Interrupted, Severity::Info, Spot::of(row), msg);
    }

    fn tool_result(&mut self, row: &EventRef<'_>) {
        let Some(link) = row.link_id else { return };
        let is_error = parse::is_error(row.raw);
        self.turn.calls.result(link, is_error);
        if let Some(server) = self.mcp_uses.get(link).filter(|_| !is_error) {
            self.recovered_servers.insert(server.clone());
        }
        if is_error {
            let what = match self.turn.calls.describe(link) {
                Some((kind, tool, input)) => format!("{kind} {tool} ({input})"),
                None => format!("the call {link}"),
            };
            let msg = format!("{what} answered is_error ({})", row.event_type);
            self.emit(Code::ToolError, Severity::Info, Spot::of(row), msg);
        }
    }

    fn received(&mut self, row: &EventRef<'_>) {
        let (from, agent, empty) = parse::received(row.raw);
        if empty {
            let msg = format!(
                "child thread {}{} reported back an empty result",
                from.as_deref().unwrap_or("?"),
                agent.map(|a| format!(" ({a})")).unwrap_or_default()
            );
            self.emit(Code::EmptyTurn, Severity::Warning, Spot::of(row), msg);
        }
    }

    fn thread_event(&mut self, row: &EventRef<'_>) {
        let idle = parse::idle(row.raw);
        let Some(tid) = idle.thread_id.clone() else {
            return;
        };
        if row.event_type == "session.thread_created" {
            self.children.insert(
                tid,
                Child {
                    agent_name: idle.agent_name,
                    status: "created",
                    stop: parse::Stop::default(),
                    idle: None,
                },
            );
            return;
        }
        let Some(child) = self.children.get_mut(&tid) else {
            return;
        };
        child.agent_name = idle.agent_name.or(child.agent_name.take());
        child.status = match row.event_type {
            "session.thread_status_running" => "running",
            "session.thread_status_rescheduled" => "rescheduling",
            "session.thread_status_idle" => "idle",
            _ => "terminated",
        };
        child.stop = idle.stop;
        child.idle = (child.status == "idle").then(|| Spot::of(row));
    }

    /// Child threads left waiting or failed while the session is idle.
    fn blocked_threads(&mut self, session_stop: &str) {
        let mut found: Vec<(Spot, Severity, String)> = Vec::new();
        for (tid, c) in &self.children {
            let (Some(spot), Some(kind)) = (&c.idle, c.stop.kind.as_deref()) else {
                continue;
            };
            if c.status != "idle"
                || kind == "end_turn"
                || self.flagged_idles.contains(&spot.event_id)
            {
                continue;
            }
            let waiting = kind == "requires_action";
            let on = if c.stop.event_ids.is_empty() {
                String::new()
            } else {
                format!(" on {}", c.stop.event_ids.join(", "))
            };
            let msg = format!(
                "child thread {tid}{} is idle {kind}{} while the session is idle {session_stop}",
                c.agent_name
                    .as_ref()
                    .map(|a| format!(" ({a})"))
                    .unwrap_or_default(),
                if waiting {
                    format!(", waiting{on}")
                } else {
                    String::new()
                }
            );
            let severity = if waiting {
                Severity::Warning
            } else {
                Severity::Error
            };
            found.push((spot.clone(), severity, msg));
        }
        for (spot, severity, msg) in found {
            self.flagged_idles.insert(spot.event_id.clone());
            self.emit(Code::ThreadBlocked, severity, spot, msg);
        }
    }

    fn define_outcome(&mut self, row: &EventRef<'_>) {
        let o = parse::outcome(row.raw);
        self.outcomes.push(Outcome {
            report: OutcomeReport {
                outcome_id: o.outcome_id,
                description: o.description,
                max_iterations: o.max_iterations,
                defined_by: row.event_id.to_string(),
                result: None,
                iteration: None,
                explanation: None,
                evaluation_id: None,
                evaluated_at: None,
                results: Vec::new(),
                met: None,
                evaluated_ts: None,
            },
            turn: self.turn_no,
            settled: false,
        });
    }

    fn evaluation_end(&mut self, row: &EventRef<'_>) {
        let e = parse::outcome(row.raw);
        let i = match self
            .outcomes
            .iter()
            .rposition(|o| e.outcome_id.is_some() && o.report.outcome_id == e.outcome_id)
        {
            Some(i) => i,
            // Graded without its definition in the recording: keep what the grader said.
            None => {
                self.outcomes.push(Outcome {
                    report: OutcomeReport {
                        outcome_id: e.outcome_id.clone(),
                        description: None,
                        max_iterations: None,
                        defined_by: String::new(),
                        result: None,
                        iteration: None,
                        explanation: None,
                        evaluation_id: None,
                        evaluated_at: None,
                        results: Vec::new(),
                        met: None,
                        evaluated_ts: None,
                    },
                    turn: self.turn_no,
                    settled: false,
                });
                self.outcomes.len() - 1
            }
        };
        let turn = self.turn_no;
        let o = &mut self.outcomes[i];
        let result = e.result.unwrap_or_else(|| "unknown".into());
        o.turn = turn;
        o.report.results.push(result.clone());
        o.report.result = Some(result.clone());
        o.report.iteration = e.iteration;
        o.report.explanation = e.explanation;
        o.report.evaluation_id = Some(row.event_id.to_string());
        o.report.evaluated_at = row.processed_at.map(str::to_string);
        o.report.evaluated_ts = row.ts;
        if result == "needs_revision" || o.settled {
            return;
        }
        o.settled = true;
        o.report.met = Some(result == "satisfied");
        if result == "satisfied" {
            return;
        }
        let severity = if result == "interrupted" {
            Severity::Info
        } else {
            Severity::Warning
        };
        let msg = unmet_message(&o.report);
        self.emit(Code::OutcomeUnmet, severity, Spot::of(row), msg);
    }

    fn end_turn(&mut self, row: &EventRef<'_>, idle: IdleFacts) {
        let kind = idle.stop.kind.clone().unwrap_or_else(|| "unknown".into());
        let spot = Spot::of(row);
        let turn = self.turn_no;
        match kind.as_str() {
            "end_turn"
                if !self.turn.interrupted
                    && self.turn.agent_messages == 0
                    && self.turn.output_tokens == 0 =>
            {
                let msg = format!(
                    "turn {turn} ended end_turn with no agent.message and 0 output tokens from {} model request(s)",
                    self.turn.model_requests
                );
                self.emit(Code::EmptyTurn, Severity::Warning, spot.clone(), msg);
            }
            "refusal" => {
                let d = idle.details.as_ref();
                let field = |k: &str| {
                    d.and_then(|d| d.get(k))
                        .and_then(|v| v.as_str())
                        .map(str::to_string)
                };
                let msg = format!(
                    "the model's output was refused{}{}{}",
                    field("category")
                        .map(|c| format!(" (category {c})"))
                        .unwrap_or_default(),
                    field("explanation")
                        .map(|e| format!(": {}", parse::clause(Some(&e), "")))
                        .unwrap_or_default(),
                    self.turn
                        .last_user
                        .as_ref()
                        .map(|u| format!("; the request: \"{u}\""))
                        .unwrap_or_default()
                );
                self.emit(Code::Refusal, Severity::Error, spot.clone(), msg);
            }
            "retries_exhausted" => {
                let chain: Vec<String> = self
                    .turn
                    .errors
                    .iter()
                    .map(|e| {
                        format!(
                            "{}{}",
                            e.facts.error_type,
                            e.facts
                                .retry_status
                                .as_ref()
                                .map(|r| format!(" ({r})"))
                                .unwrap_or_default()
                        )
                    })
                    .collect();
                let last = self
                    .turn
                    .errors
                    .last()
                    .and_then(|e| e.facts.message.clone())
                    .map(|m| format!(": {}", parse::clause(Some(&m), "")))
                    .unwrap_or_default();
                let msg = if chain.is_empty() {
                    "the turn died with retries exhausted (no session.error in the recording)"
                        .to_string()
                } else {
                    format!(
                        "the turn died with retries exhausted after {}{last}",
                        chain.join(" → ")
                    )
                };
                self.emit(Code::RetriesExhausted, Severity::Error, spot.clone(), msg);
            }
            "budget_reached" => {
                let msg = match &self.spend {
                    (Some(spent), Some(budget)) => format!(
                        "the spend ({}) reached the budget ({}); only a session update that raises or removes it resumes the session",
                        parse::dollars(spent),
                        parse::dollars(budget)
                    ),
                    _ => "the spend reached the session's budget; only a session update that raises or removes it resumes the session".to_string(),
                };
                self.emit(Code::BudgetReached, Severity::Warning, spot.clone(), msg);
            }
            _ => {}
        }
        self.close_turn(Some(&kind), &spot);
        self.blocked_threads(&kind);
        self.turn_ends.push(row.ts);
        self.turn_no += 1;
        self.turn = Turn::default();
        self.ended = Some(kind);
    }

    /// The turn's loops, unrecovered errors and unsettled outcomes. `end`: how it ended, at
    /// which idle (`None`: the recording ends in it).
    fn close_turn(&mut self, stop: Option<&str>, at: &Spot) {
        for r in self.turn.calls.repeats() {
            self.emit(Code::RepeatedCall, Severity::Warning, r.at, r.message);
        }
        let Some(stop) = stop else { return };
        self.unrecovered_errors(Some(stop));
        let turn = self.turn_no;
        let mut unmet: Vec<String> = Vec::new();
        for o in self
            .outcomes
            .iter_mut()
            .filter(|o| !o.settled && o.turn == turn)
        {
            o.settled = true;
            o.report.met = Some(false);
            unmet.push(format!(
                "the turn ended {stop} before outcome {} reached a final result{}",
                o.report.outcome_id.as_deref().unwrap_or("?"),
                match (&o.report.result, o.report.iteration) {
                    (Some(r), Some(i)) => format!(" (last: {r} at iteration {i})"),
                    _ => " (it was never evaluated)".to_string(),
                }
            ));
        }
        for msg in unmet {
            self.emit(Code::OutcomeUnmet, Severity::Warning, at.clone(), msg);
        }
    }

    fn queued_event(&mut self, row: &EventRef<'_>) {
        if !row.event_type.starts_with("user.") && row.event_type != "system.message" {
            return;
        }
        let answer = REPLIES.contains(&row.event_type);
        let msg = format!(
            "{} {}is still queued (processed_at null): the server had not processed it when the recording ended",
            row.event_type,
            row.link_id
                .filter(|_| answer)
                .map(|l| format!("answering {l} "))
                .unwrap_or_default()
        );
        self.queued.push((
            Finding {
                code: Code::QueuedAnswer,
                severity: Severity::Warning,
                turn: 0,
                event_id: Some(row.event_id.to_string()),
                at: None,
                offset_ms: None,
                message: msg,
                ts: None,
            },
            answer,
        ));
    }

    /// The findings at the end of the recording (or the point), with the capture's gaps there.
    pub fn finish(mut self, gaps: &[Gap]) -> Findings {
        let at_end = Spot::default();
        match self.ended.clone() {
            Some(stop) => self.blocked_threads(&stop),
            None => self.close_turn(None, &at_end),
        }
        for (i, server, retry) in std::mem::take(&mut self.mcp_failures) {
            let Some(f) = self.out.edit().get_mut(i) else {
                continue;
            };
            if self.recovered_servers.contains(&server) {
                f.severity = Severity::Info;
                f.message
                    .push_str(&format!("; a later call to {server} succeeded"));
            } else if retry.as_deref() == Some("retrying") {
                f.message
                    .push_str(&format!("; no later call to {server} succeeded"));
            }
        }
        let running = matches!(self.status, "running" | "rescheduling");
        for (mut q, answer) in std::mem::take(&mut self.queued) {
            q.turn = self.turn_no;
            if running && !answer {
                // A message queued while the agent works waits for the turn to end: normal.
                q.severity = Severity::Info;
            }
            self.out.push(q);
        }
        for g in gaps {
            let ts = parse_timestamp_micros(&g.from);
            let turn = 1 + self
                .turn_ends
                .iter()
                .filter(|e| e.zip(ts).is_some_and(|(e, t)| e < t))
                .count();
            self.out.push(Finding {
                code: Code::CaptureGap,
                severity: Severity::Warning,
                turn,
                event_id: None,
                at: Some(g.from.clone()),
                offset_ms: None,
                message: format!(
                    "the live capture cannot prove it saw every event from {} to {} ({:.1}s): events there may be missing",
                    g.from, g.to, g.seconds
                ),
                ts,
            });
        }
        for f in self.out.edit().iter_mut() {
            f.offset_ms = f.ts.zip(self.first_ts).map(|(t, s)| (t - s) / 1000);
        }
        self.out.edit().sort_by_key(|f| f.ts.unwrap_or(i64::MAX));
        let verdict_turn = if self.ended.is_some() {
            self.turn_no - 1
        } else {
            self.turn_no
        };
        let outcome = self
            .outcomes
            .iter()
            .rev()
            .find(|o| o.turn == verdict_turn)
            .map(|o| o.report.clone());
        Findings {
            findings: self.out.into_vec(),
            outcome,
            verdict_turn,
        }
    }
}

/// What an unmet outcome's finding says.
pub fn unmet_message(o: &OutcomeReport) -> String {
    format!("outcome {}", unmet_tail(o))
}

/// An unmet outcome after the word "outcome": its id, result, iteration, history and the
/// grader's explanation.
pub fn unmet_tail(o: &OutcomeReport) -> String {
    let before: Vec<&str> = o
        .results
        .iter()
        .take(o.results.len().saturating_sub(1))
        .map(String::as_str)
        .collect();
    format!(
        "{} ended {} at iteration {}{}{}: {}",
        o.outcome_id.as_deref().unwrap_or("?"),
        o.result.as_deref().unwrap_or("?"),
        o.iteration.map_or("?".to_string(), |i| i.to_string()),
        o.max_iterations
            .map(|m| format!(" (max_iterations {m})"))
            .unwrap_or_default(),
        if before.is_empty() {
            String::new()
        } else {
            format!(" after {}", before.join(", "))
        },
        parse::clause(o.explanation.as_deref(), "(no explanation)")
    )
}
