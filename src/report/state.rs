//! The report of `flightrec state`: the `--json` object and its text form. A missing duration
//! shows as nothing ([`Missing::Empty`]).

use serde::Serialize;

use super::format::{Missing, point, when};
use crate::analysis::explain::blocking::Blocking;
use crate::analysis::explain::{At, OpenSpan};
use crate::analysis::session_facts::{SessionFacts, server_tool_use_text, stats_text, usage_text};
use crate::analysis::state::{
    BudgetMark, ErrorMark, Mark, ThreadMessages, ThreadState, TokenSums, UsageMark,
};
use crate::analysis::threads::ThreadTree;

/// The `--json` object of `flightrec state` (documented in docs/explain-json.md).
#[derive(Serialize)]
pub struct StateReport<'a> {
    pub session_id: &'a str,
    pub at: Option<At>,
    /// running | idle | rescheduling | terminated | deleted | unknown
    pub state: &'a str,
    /// The newest `session.status_*` (or `session.deleted`) event.
    pub state_set_by: Option<&'a Mark>,
    /// Null unless the session is idle.
    pub stop_reason: Option<&'a str>,
    /// The newest idle's stop reason once the session has moved on from it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub previous_stop_reason: Option<&'a str>,
    pub threads: &'a [ThreadState],
    /// The thread tree: thread events up to the point merged with the stored thread objects.
    pub thread_tree: ThreadTree,
    /// What the stored session object says; null when none was stored.
    pub session_object: Option<SessionFacts>,
    pub open_spans: Vec<OpenSpan>,
    pub blocking: &'a [Blocking],
    pub usage: Usage<'a>,
    pub messages: &'a [ThreadMessages],
    /// Every error so far.
    pub errors: &'a [ErrorMark],
    pub last_event: Option<&'a Mark>,
}

#[derive(Serialize)]
pub struct Usage<'a> {
    pub model_requests: &'a TokenSums,
    pub session_usage: Option<&'a UsageMark>,
    pub budget: Option<&'a BudgetMark>,
}

fn ms(v: Option<i64>) -> String {
    super::format::ms(v, Missing::Empty)
}

/// The text form: one line per fact, the thread tree and the session object among them.
pub fn text(r: &StateReport<'_>) -> String {
    let mut out: Vec<String> = Vec::new();
    out.push(format!("{} at {}", r.session_id, point(r.at.as_ref())));
    match r.state_set_by {
        Some(m) => out.push(format!(
            "status: {}{} since {} ({})",
            r.state,
            r.stop_reason
                .filter(|_| r.state == "idle")
                .map(|x| format!(" ({x})"))
                .unwrap_or_default(),
            when(m.at.as_deref()),
            m.event_id
        )),
        None => out.push("status: unknown (no session status event)".into()),
    }
    threads(r, &mut out);
    out.push(format!("open spans: {}", r.open_spans.len()));
    for s in &r.open_spans {
        out.push(format!(
            "  {} {} ({}) open {}",
            s.kind,
            s.name,
            s.start_id,
            ms(s.age_ms)
        ));
    }
    out.push(format!("blocking: {}", r.blocking.len()));
    for b in r.blocking {
        let state = match &b.resolved_by {
            Some(by) if b.resolution.as_deref() == Some("queued") => {
                format!("answer {by} sent, queued (not yet processed)")
            }
            Some(by) if b.resolved => format!("answered by {by}"),
            _ if b.resolved => "answered".to_string(),
            _ if b.waiting_on == Some("worker") => {
                format!("WAITING for a {} from the self-hosted worker", b.needs)
            }
            _ => format!("WAITING for a {}", b.needs),
        };
        out.push(format!(
            "  {} {} {}: {state} (waited {})",
            b.event_id,
            Missing::Question.or(b.event_type.as_deref()),
            Missing::Empty.or(b.name.as_deref()),
            ms(b.waited_ms)
        ));
    }
    let m = r.usage.model_requests;
    out.push(format!(
        "model requests: {} ({} failed): input {} · output {} · cache read {} · cache write {}",
        m.requests,
        m.failed_requests,
        m.input_tokens,
        m.output_tokens,
        m.cache_read_input_tokens,
        m.cache_creation_input_tokens
    ));
    if let Some(u) = r.usage.session_usage {
        let cost = u
            .usage
            .list_cost
            .as_ref()
            .map(|c| c.display())
            .unwrap_or_else(|| Missing::Question.text().into());
        let mut more = String::new();
        if let Some(a) = u.usage.active_seconds {
            more.push_str(&format!(" · active {a}s"));
        }
        if let Some(t) = server_tool_use_text(u.usage.server_tool_use.as_ref()) {
            more.push_str(&format!(" · {t}"));
        }
        out.push(format!(
            "session usage ({}): list cost {cost}{more}",
            u.mark.event_id
        ));
    }
    if let Some(b) = r.usage.budget {
        let budget = b
            .budget
            .as_ref()
            .and_then(|b| b.max_list_cost.as_ref())
            .map(|m| m.display());
        out.push(format!(
            "budget: {} (set by {})",
            budget.unwrap_or_else(|| "none".into()),
            b.set_by.event_id
        ));
    }
    if let Some(f) = &r.session_object {
        session_object(f, &mut out);
    }
    for m in r.messages {
        out.push(format!(
            "messages on {}: {} user, {} agent{}",
            m.thread_id.as_deref().unwrap_or("the session stream"),
            m.user_messages,
            m.agent_messages,
            m.last_agent_message
                .as_ref()
                .map(|a| format!("; last: “{}”", a.excerpt))
                .unwrap_or_default()
        ));
    }
    out.push(format!("errors so far: {}", r.errors.len()));
    for e in r.errors {
        out.push(format!(
            "  {} {} ({}): {}",
            when(e.mark.at.as_deref()),
            e.error_type,
            Missing::Dash.or(e.retry_status.as_deref()),
            Missing::Empty.or(e.message.as_deref())
        ));
    }
    out.join("\n")
}

/// The thread tree, one line per thread indented under its parent, with its usage and stats
/// (from its object) on the next line.
fn threads(r: &StateReport<'_>, out: &mut Vec<String>) {
    let nodes = r.thread_tree.walk();
    if nodes.is_empty() {
        return;
    }
    out.push("threads:".into());
    for (depth, n) in nodes {
        let pad = "  ".repeat(depth + 1);
        let id = n
            .thread_id
            .clone()
            .unwrap_or_else(|| "primary thread (id not in the recording)".into());
        let primary = if n.primary && n.thread_id.is_some() {
            " (primary)"
        } else {
            ""
        };
        let name = n
            .agent_name
            .clone()
            .or_else(|| n.agent_type.clone())
            .map(|a| format!(" {a}"))
            .unwrap_or_default();
        let since = n
            .since
            .as_ref()
            .map(|m| format!(" since {}", when(m.at.as_deref())))
            .unwrap_or_default();
        out.push(format!(
            "{pad}{id}{primary}{name}: {}{since} [{}]",
            n.status_text(),
            n.learnt_from.join("+")
        ));
        let mut more = Vec::new();
        if let Some(u) = n.usage.as_ref().map(usage_text).filter(|u| !u.is_empty()) {
            more.push(format!("usage: {u}"));
        }
        if let Some(s) = n.stats.as_ref().map(stats_text).filter(|s| !s.is_empty()) {
            more.push(format!("stats: {s}"));
        }
        if !more.is_empty() {
            out.push(format!("{pad}    {}", more.join("; ")));
        }
    }
    for p in &r.thread_tree.problems {
        out.push(format!("  note: {p}"));
    }
}

/// What the stored session object says; absent figures are left out, never shown as 0.
fn session_object(f: &SessionFacts, out: &mut Vec<String>) {
    let mut head = vec![format!(
        "session object (fetched {})",
        f.fetched_at.as_deref().unwrap_or("at an unknown time")
    )];
    if let Some(s) = &f.status {
        head.push(format!("status {s}"));
    }
    match f.stats.as_ref().map(stats_text) {
        Some(s) if !s.is_empty() => head.push(format!("stats: {s}")),
        _ => head.push("no stats".into()),
    }
    if let Some(d) = &f.deployment_id {
        head.push(format!("deployment {d}"));
    }
    out.push(head.join(" · "));
    if let Some(u) = f.usage.as_ref().map(usage_text).filter(|u| !u.is_empty()) {
        out.push(format!("  usage: {u}"));
    }
    if let Some(list) = &f.outcome_evaluations {
        out.push(format!("  outcome evaluations: {}", list.len()));
        for e in list {
            let iteration = e
                .iteration
                .map(|i| format!(" iteration {i}"))
                .unwrap_or_default();
            let explanation = e
                .explanation
                .as_ref()
                .map(|x| format!(": “{x}”"))
                .unwrap_or_default();
            out.push(format!(
                "    {}{iteration}: {}{explanation}",
                e.outcome_id.as_deref().unwrap_or("(no outcome id)"),
                e.result.as_deref().unwrap_or("(no result)")
            ));
        }
    }
    for p in &f.problems {
        out.push(format!("  note: {p}"));
    }
}
