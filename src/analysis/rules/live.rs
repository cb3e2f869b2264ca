//! The rules read from the state and the findings at the end of a recording: a rescheduling
//! loop, a tool call open too long, an empty turn and a child thread left blocked.

use super::tools::watched;
use super::{Facts, Hit, Rule, Thresholds, turn_over};
use crate::analysis::findings::{Code, Finding, Severity};
use crate::analysis::spans::SpanKind;
use crate::model::time::format_duration_micros;

fn hit(f: &Facts<'_>, rule: Rule, event_id: &str, at: Option<&str>, summary: String) -> Hit {
    Hit {
        session_id: f.explanation.session_id.clone(),
        rule,
        event_id: Some(event_id.to_string()),
        at: at.map(str::to_string),
        summary,
        unblock: None,
    }
}

/// Whether the session is working (not at rest): what the loop and the overdue call need.
fn busy(f: &Facts<'_>) -> bool {
    matches!(f.explanation.state.as_str(), "running" | "rescheduling")
}

/// `reschedule_loop`: the session, still running or rescheduling, was rescheduled at least
/// `reschedule_count` times in the turn within the window before `now`. About the newest
/// reschedule.
pub fn reschedule_loop(f: &Facts<'_>, now: i64, th: &Thresholds) -> Option<Hit> {
    if !busy(f) || th.reschedule_count == 0 {
        return None;
    }
    let from = now.saturating_sub(th.reschedule_window_us);
    let recent: Vec<_> = f
        .state
        .turn
        .reschedules
        .iter()
        .filter(|m| m.ts.is_some_and(|t| t >= from && t <= now))
        .collect();
    let last = recent
        .last()
        .filter(|_| recent.len() >= th.reschedule_count)?;
    let summary = format!(
        "Rescheduled {} times in the last {} (the newest at {}), and still {}: the platform keeps failing and retrying this turn.",
        recent.len(),
        format_duration_micros(th.reschedule_window_us),
        last.at.as_deref().unwrap_or("?"),
        f.explanation.state
    );
    Some(hit(
        f,
        Rule::RescheduleLoop,
        &last.event_id,
        last.at.as_deref(),
        summary,
    ))
}

/// `tool_overdue`: while the session works, each tool or MCP call open longer than its tool's
/// p99 in this workspace (never less than the floor), measured from the tool use to `now` (a
/// wait for a confirmation included). Calls the session is blocked on are `requires_action`'s;
/// calls made before the turn's newest reschedule were cut off by it (`reschedule_loop`'s).
pub fn tool_overdue(f: &Facts<'_>, now: i64, th: &Thresholds) -> Vec<Hit> {
    if !busy(f) {
        return Vec::new();
    }
    let restarted = f.state.turn.reschedules.last().and_then(|m| m.ts);
    let blocked = |id: &str| {
        f.explanation
            .blocking
            .iter()
            .any(|b| !b.resolved && b.event_id == id)
    };
    let mut hits = Vec::new();
    for s in f.state.open_spans.iter().filter(|s| watched(s.kind)) {
        let Some(start) = s.start_ts.filter(|t| restarted.is_none_or(|r| *t > r)) else {
            continue;
        };
        let open_for = now - start;
        let limit = th.tool_limit_us(&s.name);
        if open_for <= limit || blocked(&s.start_id) {
            continue;
        }
        let why = match th.tool_p99_us.get(&s.name) {
            Some(p) if *p >= th.tool_floor_us => {
                format!(
                    "this workspace's p99 for it is {}",
                    format_duration_micros(*p)
                )
            }
            Some(p) => format!(
                "its p99 here is {}, under the {} floor",
                format_duration_micros(*p),
                format_duration_micros(th.tool_floor_us)
            ),
            None => format!(
                "no completed call of it is stored: the {} floor",
                format_duration_micros(th.tool_floor_us)
            ),
        };
        let thread = s
            .thread_id
            .as_ref()
            .map(|t| format!(" on thread {t}"))
            .unwrap_or_default();
        let summary = format!(
            "{} call {} ({}){thread} has been open {}, longer than {} ({why}).",
            match s.kind {
                SpanKind::McpTool => "MCP tool",
                _ => "Tool",
            },
            s.start_id,
            s.name,
            format_duration_micros(open_for),
            format_duration_micros(limit),
        );
        hits.push(hit(
            f,
            Rule::ToolOverdue,
            &s.start_id,
            s.started_at.as_deref(),
            summary,
        ));
    }
    hits
}

/// The findings of `code` in the turn the verdict is about, once that turn is over.
fn of_last_turn<'a>(f: &Facts<'a>, code: Code) -> impl Iterator<Item = &'a Finding> + use<'a> {
    let over = turn_over(f.explanation);
    f.findings
        .findings
        .iter()
        .filter(move |x| over && x.code == code && x.event_id.is_some())
}

/// `empty_turn`: the turn just ended produced nothing (the findings' `empty_turn`: no agent
/// message and no output tokens, or a child thread that reported back nothing). Fires while the
/// session rests after that turn; the next turn clears it.
pub fn empty_turn(f: &Facts<'_>) -> Vec<Hit> {
    of_last_turn(f, Code::EmptyTurn)
        .filter(|x| x.turn == f.findings.verdict_turn)
        .filter_map(|x| {
            let id = x.event_id.as_deref()?;
            let summary = format!("The turn produced nothing: {}.", x.message);
            Some(hit(f, Rule::EmptyTurn, id, x.at.as_deref(), summary))
        })
        .collect()
}

/// `child_blocked`: a child thread still idle on something other than `end_turn` (the findings'
/// `thread_blocked`) while the session rests. A child waiting on `requires_action` fires once
/// its idle is older than `stuck_after` (someone may still answer it); a failed child at once.
pub fn child_blocked(f: &Facts<'_>, now: i64, th: &Thresholds) -> Vec<Hit> {
    of_last_turn(f, Code::ThreadBlocked)
        .filter_map(|x| {
            let id = x.event_id.as_deref()?;
            let current = f
                .state
                .threads
                .iter()
                .any(|t| t.status == "idle" && t.since.event_id == id);
            let waiting = x.severity < Severity::Error;
            let due = !waiting || x.ts.is_some_and(|t| now - t > th.stuck_after_us);
            (current && due).then(|| {
                let summary = format!("A child thread is blocked: {}.", x.message);
                hit(f, Rule::ChildBlocked, id, x.at.as_deref(), summary)
            })
        })
        .collect()
}
