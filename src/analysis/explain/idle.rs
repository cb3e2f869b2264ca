//! The verdicts of a session-level idle, one function per stop reason.

use super::unblock::{J, update_budget};
use super::verdicts::{at, blocking_evidence, describe, error_note, ms};
use super::{Evidence, Explanation, Refusal, UsageReport, Verdict};
use crate::analysis::explain::blocking::Blocking;
use crate::analysis::spans::SpanKind;
use crate::analysis::state::{Idle, State, Turn};
use crate::model::parse_timestamp_micros;
use crate::model::typed::Money;

/// How long `b` had waited, against the clocks the reader can check: the point or the end of the
/// recording (with its time), and now while the session is still being recorded.
fn waited(x: &Explanation, b: &Blocking) -> String {
    let Some(w) = b.waited_ms else {
        return String::new();
    };
    let when = match (&x.at, &x.recording_ended_at) {
        (Some(a), _) => format!(
            "at the point ({})",
            a.time.as_deref().or(a.event_id.as_deref()).unwrap_or("?")
        ),
        (None, Some(end)) => format!("when the recording ended ({end})"),
        (None, None) => "when the recording ended".into(),
    };
    let now = match b.waited_until_now_ms {
        Some(n) => format!(
            ", and {} until now (the session is still being recorded)",
            ms(n)
        ),
        None => String::new(),
    };
    format!("; it had waited {} {when}{now}", ms(w))
}

pub(super) fn requires_action(x: &mut Explanation, idle: &Idle, silent_too_long: bool) {
    let pending: Vec<&Blocking> = x.blocking.iter().filter(|b| !b.resolved).collect();
    let queued: Vec<&Blocking> = x
        .blocking
        .iter()
        .filter(|b| b.resolution.as_deref() == Some("queued"))
        .collect();
    for b in &x.blocking {
        if let (Some(by), Some(t)) = (&b.resolved_by, &b.resolved_by_type) {
            x.evidence.push(Evidence {
                event_id: by.clone(),
                event_type: t.clone(),
                at: b.resolved_at.clone(),
                note: format!(
                    "answers {} ({})",
                    b.event_id,
                    b.resolution.as_deref().unwrap_or("")
                ),
                ts: b.resolved_at.as_deref().and_then(parse_timestamp_micros),
            });
        }
        let state = match (b.resolved, b.resolution.as_deref()) {
            (true, Some("queued")) => "answer queued",
            (true, _) => "answered",
            (false, _) => "waiting",
        };
        let note = format!("blocking: {} ({state})", describe(b));
        x.evidence.push(blocking_evidence(b, note));
    }
    if x.blocking.is_empty() {
        x.verdict = Verdict::RequiresAction;
        x.attention = true;
        x.summary = format!(
            "Idle since {} with requires_action naming no event: on a self-hosted environment a failed work claim can do this.",
            at(&idle.mark.at)
        );
        x.advice.push("Check the environment's worker; a user.interrupt or a new message may move the session on.".into());
        return;
    }
    if pending.is_empty() {
        let answers: Vec<String> = x
            .blocking
            .iter()
            .filter_map(|b| b.resolved_by.clone())
            .collect();
        x.verdict = if silent_too_long {
            Verdict::Stalled
        } else {
            Verdict::Resuming
        };
        x.attention = silent_too_long;
        let answers = if answers.is_empty() {
            "not in the recording".into()
        } else {
            answers.join(", ")
        };
        if !queued.is_empty() {
            let ids: Vec<&str> = queued
                .iter()
                .filter_map(|b| b.resolved_by.as_deref())
                .collect();
            x.summary = format!(
                "Every blocking event has its answer ({answers}); {} still queued (processed_at null): the server has not processed {} yet, so the session stays idle until it does.",
                ids.join(", "),
                if ids.len() == 1 { "it" } else { "them" }
            );
            x.advice.push(format!(
                "Do not send another answer: {} is already on its way, and a second one for the same call would be refused or answer it twice.",
                ids.join(", ")
            ));
            x.advice.push(format!(
                "Check that it gets a processed_at (GET /v1/sessions/{}/events) and that a session.status_running follows; if it stays queued, check the session's live status (GET /v1/sessions/{}).",
                x.session_id, x.session_id
            ));
            return;
        }
        if silent_too_long {
            x.summary = if x.recording_live || x.at.is_some() {
                format!(
                    "Every blocking event has its answer ({answers}), but the session has not resumed: no event for {}.",
                    ms(x.silent_ms.unwrap_or(0))
                )
            } else {
                format!(
                    "Every blocking event has its answer ({answers}), but no session.status_running follows before the recording ends ({}, {} before {}): the session may have resumed since.",
                    x.recording_ended_at.as_deref().unwrap_or("?"),
                    ms(x.silent_ms.unwrap_or(0)),
                    x.now
                )
            };
            x.advice.push(
                "Check the live status with the API; if it is still idle, send the replies again."
                    .into(),
            );
        } else {
            x.summary = format!(
                "Every blocking event has its answer ({answers}); the session should resume (no session.status_running yet)."
            );
            x.advice.push(
                "Nothing to do: the session resumes once the server has processed the replies."
                    .into(),
            );
        }
        return;
    }
    x.verdict = Verdict::RequiresAction;
    x.attention = true;
    let first = pending[0];
    let waited = waited(x, first);
    let others = match pending.len() {
        1 => String::new(),
        n => format!(" (and {} more)", n - 1),
    };
    let who = match first.waiting_on {
        Some("worker") => {
            " It runs on a self-hosted environment: the session waits for your own worker to run it, not for a person."
        }
        _ => "",
    };
    x.summary = format!(
        "Blocked on {} of {} event(s): {} {} needs a {}{waited}{others}.{who}",
        pending.len(),
        x.blocking.len(),
        describe(first),
        first.event_id,
        first.needs
    );
    if pending.iter().any(|b| b.waiting_on == Some("worker")) {
        x.advice.push(
            "Check the environment's worker (the process that claims the session's work and runs the agent-toolset tools): a worker that died or never claimed the call leaves it unanswered. Once it runs again it sends the user.tool_result; or send the result yourself.".into(),
        );
    }
    for b in &pending {
        let mut line = format!("Answer {} ({}) with a {}", b.event_id, describe(b), b.needs);
        match &b.note {
            Some(n) if b.unblock.is_empty() => line.push_str(&format!(": {n}.")),
            _ => line
                .push_str(": the request is shown with it under blocking (`unblock` in --json)."),
        }
        x.advice.push(line);
        if let Some(t) = &b.thread_id {
            x.advice.push(format!(
                "{} came from child thread {t}: send the reply without session_thread_id; the server routes it by the tool-use id.",
                b.event_id
            ));
        }
    }
}

pub(super) fn end_turn(x: &mut Explanation, idle: &Idle, turn: &Turn) {
    x.verdict = Verdict::EndTurn;
    let interrupt = turn.interrupts.last();
    x.summary = match interrupt {
        Some(i) => {
            x.evidence
                .push(Evidence::of(i, "the interrupt that ended the turn"));
            format!(
                "The turn was interrupted (user.interrupt {} at {}) and ended at {}.",
                if i.event_id.is_empty() {
                    "with an empty id"
                } else {
                    &i.event_id
                },
                at(&i.at),
                at(&idle.mark.at)
            )
        }
        None => format!("The turn finished at {}.", at(&idle.mark.at)),
    };
    if let Some(m) = &turn.last_agent_message {
        x.summary
            .push_str(&format!(" The agent's last message: “{}”.", m.excerpt));
        x.evidence
            .push(Evidence::of(&m.mark, "the agent's last message"));
    }
    if !turn.errors.is_empty() {
        let kinds: Vec<&str> = turn.errors.iter().map(|e| e.error_type.as_str()).collect();
        x.summary.push_str(&format!(
            " ({} error(s) during the turn: {}.)",
            kinds.len(),
            kinds.join(", ")
        ));
        for e in &turn.errors {
            x.evidence.push(Evidence::of(&e.mark, error_note(e)));
        }
    }
    background_work(x);
    x.advice
        .push("The session is idle and takes a new user.message.".into());
}

/// Threads and workflow runs still open after the turn ended.
fn background_work(x: &mut Explanation) {
    let mut threads: Vec<String> = Vec::new();
    for s in &x.open_spans {
        match s.kind {
            SpanKind::WorkflowRun => x.advice.push(format!(
                "The workflow run “{}” ({}) is still going: its events continue after the idle.",
                s.name, s.start_id
            )),
            SpanKind::Thread => threads.push(format!("“{}”", s.name)),
            _ => {}
        }
    }
    if !threads.is_empty() {
        x.advice.push(format!(
            "Threads still open after the idle: {}.",
            threads.join(", ")
        ));
    }
}

pub(super) fn retries_exhausted(x: &mut Explanation, idle: &Idle, turn: &Turn) {
    x.verdict = Verdict::RetriesExhausted;
    x.attention = true;
    let errors = &turn.errors;
    if errors.is_empty() {
        x.summary = format!(
            "The turn died at {} after its retries were used up, but no session.error in the recording says why. The session is idle and takes a new prompt.",
            at(&idle.mark.at)
        );
    } else {
        let mut kinds: Vec<(String, usize)> = Vec::new();
        for e in errors {
            match kinds.iter_mut().find(|(k, _)| *k == e.error_type) {
                Some((_, n)) => *n += 1,
                None => kinds.push((e.error_type.clone(), 1)),
            }
        }
        let kinds: Vec<String> = kinds
            .iter()
            .map(|(k, n)| {
                if *n > 1 {
                    format!("{k} ×{n}")
                } else {
                    k.clone()
                }
            })
            .collect();
        let chain: Vec<&str> = errors
            .iter()
            .map(|e| e.retry_status.as_deref().unwrap_or("?"))
            .collect();
        let last = &errors[errors.len() - 1];
        x.summary = format!(
            "The turn died after {} error(s) ({}; {}; the last at {}: “{}”). The session is idle and takes a new prompt.",
            errors.len(),
            kinds.join(", "),
            chain.join(" → "),
            at(&last.mark.at),
            last.message.as_deref().unwrap_or("")
        );
    }
    for e in errors {
        x.evidence.push(Evidence::of(&e.mark, error_note(e)));
    }
    for r in &turn.reschedules {
        x.evidence.push(Evidence::of(r, "rescheduled to retry"));
    }
    for a in x
        .errors
        .iter()
        .map(|e| e.advice.clone())
        .collect::<Vec<_>>()
    {
        if !x.advice.contains(&a) {
            x.advice.push(a);
        }
    }
    x.advice
        .push("Send a new user.message to try the turn again.".into());
}

pub(super) fn refusal(x: &mut Explanation, idle: &Idle, turn: &Turn) {
    x.verdict = Verdict::Refusal;
    x.attention = true;
    let detail = |k: &str| {
        idle.stop_details
            .as_ref()
            .and_then(|d| d.get(k))
            .and_then(|v| v.as_str())
            .map(str::to_string)
    };
    let request = turn.last_user_message.clone();
    let category = detail("category");
    x.summary = format!(
        "The model's output was refused at {}{}{}. The session is idle and takes a new prompt.",
        at(&idle.mark.at),
        category
            .as_ref()
            .map(|c| format!(" (category {c})"))
            .unwrap_or_default(),
        request
            .as_ref()
            .map(|m| format!("; the request: “{}”", m.excerpt))
            .unwrap_or_default(),
    );
    if let Some(m) = &request {
        x.evidence
            .push(Evidence::of(&m.mark, "the request that drew the refusal"));
    }
    x.refusal = Some(Refusal {
        category,
        explanation: detail("explanation"),
        request,
    });
    x.advice.push("Send a different or narrower request; the explanation is for people and may change, so do not parse it.".into());
}

fn amount(m: Option<&Money>) -> Option<i64> {
    m.and_then(|m| m.amount.parse::<i64>().ok())
}

pub(super) fn budget_reached(x: &mut Explanation, state: &State, idle: &Idle, session: &str) {
    x.verdict = Verdict::BudgetReached;
    x.attention = true;
    let Some(ledger) = &state.ledger else {
        x.summary = format!(
            "The spend reached the session's budget at {}.",
            at(&idle.mark.at)
        );
        return;
    };
    let spent = ledger
        .session_usage
        .as_ref()
        .and_then(|u| u.usage.list_cost.clone());
    let budget = ledger.budget.as_ref().and_then(|b| b.budget.clone());
    let limit = budget.as_ref().and_then(|b| b.max_list_cost.clone());
    if let Some(u) = &ledger.session_usage {
        x.evidence
            .push(Evidence::of(&u.mark, "cumulative usage and list cost"));
    }
    if let Some(b) = &ledger.budget {
        x.evidence
            .push(Evidence::of(&b.set_by, "the budget in force"));
    }
    x.summary = format!(
        "The spend ({}) reached the session's budget ({}) at {}: no event resumes it, only a session update that raises or removes the budget.",
        spent
            .as_ref()
            .map_or_else(|| "unknown".into(), Money::display),
        limit
            .as_ref()
            .map_or_else(|| "unknown".into(), Money::display),
        at(&idle.mark.at)
    );
    if let (Some(s), Some(l)) = (amount(spent.as_ref()), amount(limit.as_ref()))
        && s < l
    {
        x.advice.push(
            "The recorded spend is below the budget: a model with no list price may have been used, which the budget cannot measure.".into(),
        );
    }
    let base = amount(limit.as_ref())
        .max(amount(spent.as_ref()))
        .unwrap_or(0)
        .max(1);
    let currency = limit
        .as_ref()
        .or(spent.as_ref())
        .map_or("USD", |m| m.currency.as_str());
    let raised = J::Obj(vec![
        ("type", J::s("limit")),
        (
            "max_list_cost",
            J::Obj(vec![
                ("amount", J::Str((base * 2).to_string())),
                ("currency", J::s(currency)),
            ]),
        ),
    ]);
    x.requests
        .push(update_budget(session, "raise_budget", raised));
    x.requests
        .push(update_budget(session, "remove_budget", J::Null));
    x.advice.push(
        "Raise the budget above the spend, or remove it (the requests are under `requests`; amounts are in the currency's minor units). It cannot be lowered to or below the cost already spent, nor added back once removed.".into(),
    );
    x.usage = Some(UsageReport {
        model_requests: ledger.model_requests.clone(),
        session_usage: ledger.session_usage.clone(),
        spent: spent.as_ref().map(Money::display),
        budget_display: limit.as_ref().map(Money::display),
        budget,
        budget_set_by: ledger.budget.as_ref().map(|b| b.set_by.clone()),
    });
}
