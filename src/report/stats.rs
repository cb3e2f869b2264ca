//! The report of `flightrec stats`: the `--json` objects (one session, or every session with
//! totals) and the text form, tables as [`Table`]s. A missing duration, ratio or cost shows as
//! nothing ([`Missing::Empty`]).

use serde::Serialize;
use std::fmt::Write as _;

use super::format::{
    Missing, format_duration_micros, format_micros, ms_f64, percent, thousands, usd,
};
use super::{Doc, Table};
use crate::analysis::prices;
use crate::analysis::stats::{Stats, Tokens};
use crate::store::SessionSummary;

pub mod by;

/// `--json` for one session.
#[derive(Serialize)]
pub struct SessionReport<'a> {
    pub session: SessionInfo<'a>,
    #[serde(flatten)]
    pub stats: &'a Stats,
}

#[derive(Serialize)]
pub struct SessionInfo<'a> {
    pub id: &'a str,
    pub title: Option<&'a str>,
    pub event_count: u64,
    pub first_event_at: Option<String>,
    pub last_event_at: Option<String>,
}

impl<'a> SessionInfo<'a> {
    pub fn of(s: &'a SessionSummary) -> SessionInfo<'a> {
        SessionInfo {
            id: &s.id,
            title: s.title.as_deref(),
            event_count: s.event_count,
            first_event_at: s.first_ts.map(format_micros),
            last_event_at: s.last_ts.map(format_micros),
        }
    }
}

/// `--json` without a session.
#[derive(Serialize)]
pub struct AllReport<'a> {
    pub sessions: Vec<SessionRow<'a>>,
    pub totals: Stats,
}

/// One session's line in the all-sessions report.
#[derive(Serialize)]
pub struct SessionRow<'a> {
    pub id: &'a str,
    pub title: Option<&'a str>,
    pub event_count: u64,
    /// Model ids seen (`null` for requests of an unknown model).
    pub models: Vec<Option<String>>,
    #[serde(flatten)]
    pub tokens: Tokens,
    pub tool_calls: u64,
    /// Every error counted in the session's report.
    pub errors: u64,
    pub estimate_usd: Option<f64>,
    pub unpriced_requests: u64,
    /// `list_cost` of the newest `session.usage`.
    pub reported_list_cost_usd: Option<f64>,
}

impl<'a> SessionRow<'a> {
    pub fn of(s: &'a SessionSummary, st: &Stats) -> SessionRow<'a> {
        SessionRow {
            id: &s.id,
            title: s.title.as_deref(),
            event_count: s.event_count,
            models: st.models.iter().map(|m| m.model.clone()).collect(),
            tokens: st.tokens.clone(),
            tool_calls: st.tools.iter().map(|t| t.calls).sum(),
            errors: st.errors.iter().map(|e| e.count).sum(),
            estimate_usd: st.cost.estimate_usd,
            unpriced_requests: st.cost.unpriced_requests,
            reported_list_cost_usd: st.reported.as_ref().and_then(|r| r.list_cost_usd),
        }
    }
}

/// One session's text report: the heading, then [`render`].
pub fn session_text(summary: &SessionSummary, stats: &Stats) -> Doc {
    let mut out = Doc::new();
    out.push_str(&session_heading(summary));
    out.append(render(stats, false));
    out
}

/// The text report of every session: a row each, then the totals.
pub fn all_text(rows: &[SessionRow], totals: &Stats) -> Doc {
    let mut out = Doc::new();
    let _ = writeln!(out, "{} sessions\n", rows.len());
    out.table(sessions_table(rows));
    out.push_str("\n\n");
    out.push_str("Totals over every session\n\n");
    out.append(render(totals, true));
    out
}

/// The heading of one session's report: id, title, events and how long they span.
pub fn session_heading(s: &SessionSummary) -> String {
    let mut h = s.id.clone();
    if let Some(t) = &s.title {
        let _ = write!(h, "  “{t}”");
    }
    let _ = write!(h, "  {} events", thousands(s.event_count));
    if let (Some(a), Some(b)) = (s.first_ts, s.last_ts) {
        let _ = write!(h, " over {}", format_duration_micros(b - a));
    }
    h.push_str("\n\n");
    h
}

/// A cost cell: the estimate, with how many requests it leaves out.
fn cost_cell(usd_value: Option<f64>, unpriced: u64) -> String {
    match (usd_value, unpriced) {
        (None, 0) => String::new(),
        (None, _) => "no price".into(),
        (Some(v), 0) => usd(v),
        (Some(v), n) => format!("{} + {n} unpriced", usd(v)),
    }
}

fn token_cells(t: &Tokens) -> Vec<String> {
    vec![
        thousands(t.requests),
        thousands(t.failed_requests),
        thousands(t.input_tokens),
        thousands(t.output_tokens),
        thousands(t.cache_read_input_tokens),
        thousands(t.cache_creation_input_tokens),
        percent(t.cache_hit_ratio),
    ]
}

/// The text report of statistics: one session's, or with `many`, the totals over sessions (each
/// slowest call and first error then names its session).
pub fn render(s: &Stats, many: bool) -> Doc {
    let mut out = Doc::new();
    // Model requests and cost.
    let mut t = Table::new(&[
        "MODEL",
        "REQUESTS",
        "FAILED",
        "INPUT",
        "OUTPUT",
        "CACHE READ",
        "CACHE WRITE",
        "HIT RATIO",
        "LIST COST (EST.)",
    ]);
    for m in &s.models {
        let mut row = vec![m.model.clone().unwrap_or_else(|| "unknown model".into())];
        row.extend(token_cells(&m.tokens));
        row.push(cost_cell(m.cost_usd, m.unpriced_requests));
        t.add_row(row);
    }
    if s.models.len() != 1 {
        let mut row = vec!["total".to_string()];
        row.extend(token_cells(&s.tokens));
        row.push(cost_cell(s.cost.estimate_usd, s.cost.unpriced_requests));
        t.add_row(row);
    }
    if s.grader.requests > 0 {
        let mut row = vec!["outcome grader".to_string()];
        row.extend(token_cells(&s.grader));
        row.push("not priced".into());
        t.add_row(row);
    }
    out.push_str("Model requests\n");
    out.table(t);
    out.push('\n');
    let _ = writeln!(
        out,
        "Costs are estimates from list prices as of {} (src/analysis/prices.rs); cache writes at the 5-minute rate.",
        prices::AS_OF
    );
    if s.tokens.partial_requests > 0 {
        let _ = writeln!(
            out,
            "{} request(s) began before the recording (its span.model_request_start is missing): counted, with no duration.",
            s.tokens.partial_requests
        );
    }
    if s.models.iter().any(|m| m.model.is_none()) {
        out.push_str(
            "The model of some requests is not in the recording (no session object, no session.updated agent): no price.\n",
        );
    }
    if let Some(r) = &s.reported {
        let from = match (&r.event_id, &r.processed_at) {
            (Some(id), Some(at)) => format!("newest session.usage, {id} at {at}"),
            _ => format!("newest session.usage of {} sessions, summed", r.sessions),
        };
        let cost = r.list_cost_usd.map(usd).unwrap_or_else(|| "none".into());
        let _ = writeln!(
            out,
            "Reported by the server ({from}): input {}, output {}, cache read {}, cache write {} (5m) / {} (1h), list cost {cost}",
            thousands(r.input_tokens),
            thousands(r.output_tokens),
            thousands(r.cache_read_input_tokens),
            thousands(r.cache_creation_5m_input_tokens),
            thousands(r.cache_creation_1h_input_tokens),
        );
    }
    out.push('\n');

    if let Some(list) = &s.requests {
        let mut t = Table::new(&[
            "START",
            "ID",
            "MODEL",
            "DURATION",
            "INPUT",
            "OUTPUT",
            "CACHE R/W",
            "COST",
            "STATUS",
        ]);
        for r in list {
            t.add_row(vec![
                Missing::Empty.or(r.started_at.as_deref()).to_string(),
                r.start_id.clone(),
                r.model.clone().unwrap_or_else(|| "unknown".into()),
                ms_f64(r.duration_ms, Missing::Empty),
                thousands(r.input_tokens),
                thousands(r.output_tokens),
                format!(
                    "{}/{}",
                    thousands(r.cache_read_input_tokens),
                    thousands(r.cache_creation_input_tokens)
                ),
                r.cost_usd.map(usd).unwrap_or_else(|| "no price".into()),
                if r.is_error { "error" } else { "ok" }.into(),
            ]);
        }
        out.push_str("Each model request\n");
        out.table(t);
        out.push_str("\n\n");
    }

    if s.tools.is_empty() {
        out.push_str("No tool calls.\n\n");
    } else {
        let mut t = Table::new(&[
            "TOOL",
            "KIND",
            "CALLS",
            "ERRORS",
            "DENIED",
            "OPEN",
            "P50",
            "P95",
            "MAX",
            "SLOWEST CALL",
        ]);
        for r in &s.tools {
            let slowest = match (&r.slowest_id, &r.slowest_session_id) {
                (Some(id), Some(sid)) if many => format!("{id} ({sid})"),
                (Some(id), _) => id.clone(),
                _ => String::new(),
            };
            t.add_row(vec![
                r.tool.clone(),
                r.kind.to_string(),
                thousands(r.calls),
                thousands(r.errors),
                thousands(r.denied),
                thousands(r.open),
                ms_f64(r.p50_ms, Missing::Empty),
                ms_f64(r.p95_ms, Missing::Empty),
                ms_f64(r.max_ms, Missing::Empty),
                slowest,
            ]);
        }
        out.push_str("Tool latency (result time less any wait for a confirmation)\n");
        out.table(t);
        out.push_str("\n\n");
    }

    if s.errors.is_empty() {
        out.push_str("No errors.\n\n");
    } else {
        let mut t =
            Table::new(&["SOURCE", "TYPE", "COUNT", "RETRY STATUS", "FIRST EVENT"]).with_ids(&[4]);
        for e in &s.errors {
            let statuses: Vec<String> = e
                .retry_statuses
                .iter()
                .map(|(k, n)| format!("{k} {n}"))
                .collect();
            let first = if many {
                format!("{} ({})", e.first_event_id, e.first_session_id)
            } else {
                e.first_event_id.clone()
            };
            t.add_row(vec![
                e.source.clone(),
                e.error_type.clone(),
                thousands(e.count),
                statuses.join(", "),
                first,
            ]);
        }
        out.push_str("Errors\n");
        out.table(t);
        out.push_str("\n\n");
    }

    if !s.slowest_spans.is_empty() {
        let mut header = vec!["DURATION", "KIND", "NAME", "START ID", "STATUS"];
        if many {
            header.push("SESSION");
        }
        let mut t = Table::new(&header).with_ids(&[3, 5]);
        for x in &s.slowest_spans {
            let mut row = vec![
                ms_f64(Some(x.duration_ms), Missing::Empty),
                x.kind.to_string(),
                x.name.clone(),
                x.start_id.clone(),
                if x.is_error { "error" } else { "ok" }.into(),
            ];
            if many {
                row.push(x.session_id.clone());
            }
            t.add_row(row);
        }
        out.push_str("Slowest spans\n");
        out.table(t);
        out.push('\n');
    }
    out
}

/// The all-sessions table, one row per session.
pub fn sessions_table(rows: &[SessionRow]) -> Table {
    let mut t = Table::new(&[
        "SESSION",
        "TITLE",
        "EVENTS",
        "REQUESTS",
        "INPUT",
        "OUTPUT",
        "CACHE READ",
        "CACHE WRITE",
        "HIT RATIO",
        "TOOL CALLS",
        "ERRORS",
        "LIST COST (EST.)",
        "REPORTED",
    ])
    .with_ids(&[0])
    // On a narrow terminal: errors, cost and requests before the token detail.
    .with_optional(&[10, 11, 3, 4, 5, 9, 2, 8, 6, 7, 12]);
    for r in rows {
        t.add_row(vec![
            r.id.to_string(),
            Missing::Empty.or(r.title).to_string(),
            thousands(r.event_count),
            thousands(r.tokens.requests),
            thousands(r.tokens.input_tokens),
            thousands(r.tokens.output_tokens),
            thousands(r.tokens.cache_read_input_tokens),
            thousands(r.tokens.cache_creation_input_tokens),
            percent(r.tokens.cache_hit_ratio),
            thousands(r.tool_calls),
            thousands(r.errors),
            cost_cell(r.estimate_usd, r.unpriced_requests),
            r.reported_list_cost_usd.map(usd).unwrap_or_default(),
        ]);
    }
    t
}
