//! `flightrec state SESSION [--at EVENT_ID|TIME]`, and the store reads that feed the state fold
//! (shared with `explain` and `check`).
//!
//! A long session is not read whole: the fold needs every event only from the second-newest
//! turn-ending idle before the point on, and before that only a few types (see
//! `flightrec::analysis::state`). The idles are found by widening windows back from the point.

use serde::Serialize;
use std::path::Path;

use super::{Outcome, at, exit, open_existing, output};
use flightrec::analysis::Point;
use flightrec::analysis::explain::blocking::Blocking;
use flightrec::analysis::explain::{At, OpenSpan};
use flightrec::analysis::session_facts::{SessionFacts, stats_text, usage_text};
use flightrec::analysis::state::{
    BudgetMark, ErrorMark, Mark, ThreadMessages, ThreadState, TokenSums, UsageMark,
};
use flightrec::analysis::threads::ThreadTree;
use flightrec::inspect::{Scope, reconstruct, session_object_facts, thread_tree};
use flightrec::model::time::{format_duration_micros, format_micros};
use flightrec::store::{SessionSummary, Store};

#[derive(clap::Args)]
pub struct Args {
    /// The session id
    session: String,
    /// The point: an event id, a time, or +DURATION [default: the end of the recording]
    #[arg(long, value_name = "EVENT_ID|TIME")]
    at: Option<String>,
    /// Print JSON instead of text
    #[arg(long)]
    json: bool,
}

/// `--at` resolved, as shown in reports.
pub fn at_of(
    store: &Store,
    summary: &SessionSummary,
    arg: Option<&str>,
) -> anyhow::Result<(Option<Point>, Option<At>)> {
    let Some(a) = arg else {
        return Ok((None, None));
    };
    // An event id is looked up once here; anything else goes to the shared resolver.
    let (point, event_id) = match store.event_by_id(&summary.id, a)? {
        Some(row) => (Point::at_event(&row), Some(row.event_id)),
        None => (at::resolve(store, summary, a)?, None),
    };
    let at = At {
        event_id,
        time: point.time().map(format_micros),
        ts: point.time(),
    };
    Ok((Some(point), Some(at)))
}

/// The `--json` object of `flightrec state` (documented in docs/explain-json.md).
#[derive(Serialize)]
struct Report<'a> {
    session_id: &'a str,
    at: Option<At>,
    /// running | idle | rescheduling | terminated | deleted | unknown
    state: &'a str,
    /// The newest `session.status_*` (or `session.deleted`) event.
    state_set_by: Option<&'a Mark>,
    /// Null unless the session is idle.
    stop_reason: Option<&'a str>,
    /// The newest idle's stop reason once the session has moved on from it.
    #[serde(skip_serializing_if = "Option::is_none")]
    previous_stop_reason: Option<&'a str>,
    threads: &'a [ThreadState],
    /// The thread tree: thread events up to the point merged with the stored thread objects.
    thread_tree: ThreadTree,
    /// What the stored session object says; null when none was stored.
    session_object: Option<SessionFacts>,
    open_spans: Vec<OpenSpan>,
    blocking: &'a [Blocking],
    usage: Usage<'a>,
    messages: &'a [ThreadMessages],
    /// Every error so far.
    errors: &'a [ErrorMark],
    last_event: Option<&'a Mark>,
}

#[derive(Serialize)]
struct Usage<'a> {
    model_requests: &'a TokenSums,
    session_usage: Option<&'a UsageMark>,
    budget: Option<&'a BudgetMark>,
}

pub fn run(db: &Path, args: Args) -> Outcome {
    let store = open_existing(db)?;
    let summary = store.require_session(&args.session)?;
    let (point, at) = at_of(&store, &summary, args.at.as_deref())?;
    let state = reconstruct(&store, &summary, point, Scope::Full)?;
    let ledger = state.ledger.clone().unwrap_or_default();
    let report = Report {
        session_id: &summary.id,
        at,
        state: state
            .session_status
            .as_ref()
            .map_or("unknown", |s| s.status.as_str()),
        state_set_by: state.session_status.as_ref().map(|s| &s.mark),
        stop_reason: state.stop_reason(),
        previous_stop_reason: state.previous_stop_reason(),
        threads: &state.threads,
        thread_tree: thread_tree(&store, &summary, point)?,
        session_object: session_object_facts(&store, &summary.id)?,
        open_spans: state.open_spans.iter().map(OpenSpan::of).collect(),
        blocking: &state.blocking,
        usage: Usage {
            model_requests: &ledger.model_requests,
            session_usage: ledger.session_usage.as_ref(),
            budget: ledger.budget.as_ref(),
        },
        messages: &ledger.messages,
        errors: &ledger.errors,
        last_event: state.last_event.as_ref(),
    };
    if args.json {
        output::print_json(&report)?;
    } else {
        print_text(&report)?;
    }
    Ok(exit::OK)
}

fn when(at: &Option<String>) -> String {
    at.clone().unwrap_or_else(|| "(queued)".into())
}

fn ms(v: Option<i64>) -> String {
    v.map(|v| format_duration_micros(v.saturating_mul(1000)))
        .unwrap_or_default()
}

fn print_text(r: &Report<'_>) -> anyhow::Result<()> {
    let point =
        r.at.as_ref()
            .and_then(|a| a.event_id.clone().or(a.time.clone()));
    output::print(format!(
        "{} at {}",
        r.session_id,
        point.unwrap_or_else(|| "the end of the recording".into())
    ))?;
    match r.state_set_by {
        Some(m) => output::print(format!(
            "status: {}{} since {} ({})",
            r.state,
            r.stop_reason
                .filter(|_| r.state == "idle")
                .map(|x| format!(" ({x})"))
                .unwrap_or_default(),
            when(&m.at),
            m.event_id
        ))?,
        None => output::print("status: unknown (no session status event)")?,
    }
    print_threads(r)?;
    output::print(format!("open spans: {}", r.open_spans.len()))?;
    for s in &r.open_spans {
        output::print(format!(
            "  {} {} ({}) open {}",
            s.kind,
            s.name,
            s.start_id,
            ms(s.age_ms)
        ))?;
    }
    output::print(format!("blocking: {}", r.blocking.len()))?;
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
        output::print(format!(
            "  {} {} {}: {state} (waited {})",
            b.event_id,
            b.event_type.as_deref().unwrap_or("?"),
            b.name.as_deref().unwrap_or(""),
            ms(b.waited_ms)
        ))?;
    }
    let m = r.usage.model_requests;
    output::print(format!(
        "model requests: {} ({} failed): input {} · output {} · cache read {} · cache write {}",
        m.requests,
        m.failed_requests,
        m.input_tokens,
        m.output_tokens,
        m.cache_read_input_tokens,
        m.cache_creation_input_tokens
    ))?;
    if let Some(u) = r.usage.session_usage {
        let cost = u
            .usage
            .list_cost
            .as_ref()
            .map(|c| c.display())
            .unwrap_or_else(|| "?".into());
        let mut more = String::new();
        if let Some(a) = u.usage.active_seconds {
            more.push_str(&format!(" · active {a}s"));
        }
        if let Some(t) = flightrec::analysis::session_facts::server_tool_use_text(
            u.usage.server_tool_use.as_ref(),
        ) {
            more.push_str(&format!(" · {t}"));
        }
        output::print(format!(
            "session usage ({}): list cost {cost}{more}",
            u.mark.event_id
        ))?;
    }
    if let Some(b) = r.usage.budget {
        let budget = b
            .budget
            .as_ref()
            .and_then(|b| b.max_list_cost.as_ref())
            .map(|m| m.display());
        output::print(format!(
            "budget: {} (set by {})",
            budget.unwrap_or_else(|| "none".into()),
            b.set_by.event_id
        ))?;
    }
    if let Some(f) = &r.session_object {
        print_session_object(f)?;
    }
    for m in r.messages {
        output::print(format!(
            "messages on {}: {} user, {} agent{}",
            m.thread_id.as_deref().unwrap_or("the session stream"),
            m.user_messages,
            m.agent_messages,
            m.last_agent_message
                .as_ref()
                .map(|a| format!("; last: “{}”", a.excerpt))
                .unwrap_or_default()
        ))?;
    }
    output::print(format!("errors so far: {}", r.errors.len()))?;
    for e in r.errors {
        output::print(format!(
            "  {} {} ({}): {}",
            when(&e.mark.at),
            e.error_type,
            e.retry_status.as_deref().unwrap_or("-"),
            e.message.as_deref().unwrap_or("")
        ))?;
    }
    Ok(())
}

/// The thread tree, one line per thread indented under its parent, with its usage and stats
/// (from its object) on the next line.
fn print_threads(r: &Report<'_>) -> anyhow::Result<()> {
    let nodes = r.thread_tree.walk();
    if nodes.is_empty() {
        return Ok(());
    }
    output::print("threads:")?;
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
            .map(|m| format!(" since {}", when(&m.at)))
            .unwrap_or_default();
        output::print(format!(
            "{pad}{id}{primary}{name}: {}{since} [{}]",
            n.status_text(),
            n.learnt_from.join("+")
        ))?;
        let mut more = Vec::new();
        if let Some(u) = n.usage.as_ref().map(usage_text).filter(|u| !u.is_empty()) {
            more.push(format!("usage: {u}"));
        }
        if let Some(s) = n.stats.as_ref().map(stats_text).filter(|s| !s.is_empty()) {
            more.push(format!("stats: {s}"));
        }
        if !more.is_empty() {
            output::print(format!("{pad}    {}", more.join("; ")))?;
        }
    }
    for p in &r.thread_tree.problems {
        output::print(format!("  note: {p}"))?;
    }
    Ok(())
}

/// What the stored session object says; absent figures are left out, never shown as 0.
fn print_session_object(f: &SessionFacts) -> anyhow::Result<()> {
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
    output::print(head.join(" · "))?;
    if let Some(u) = f.usage.as_ref().map(usage_text).filter(|u| !u.is_empty()) {
        output::print(format!("  usage: {u}"))?;
    }
    if let Some(list) = &f.outcome_evaluations {
        output::print(format!("  outcome evaluations: {}", list.len()))?;
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
            output::print(format!(
                "    {}{iteration}: {}{explanation}",
                e.outcome_id.as_deref().unwrap_or("(no outcome id)"),
                e.result.as_deref().unwrap_or("(no result)")
            ))?;
        }
    }
    for p in &f.problems {
        output::print(format!("  note: {p}"))?;
    }
    Ok(())
}
