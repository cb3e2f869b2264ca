//! `flightrec stats [SESSION]`: tokens, cost estimate, tool latency, errors, slowest spans.

use serde::Serialize;
use std::fmt::Write as _;
use std::path::Path;

use super::{Outcome, exit, open_existing, output};
use flightrec::analysis::prices;
use flightrec::analysis::spans::{SLIM_TYPES, SPAN_TYPES};
use flightrec::analysis::stats::{Accumulator, STATS_TYPES, Stats, StatsBuilder, Tokens};
use flightrec::analysis::text::thousands;
use flightrec::model::time::{format_duration_micros, format_micros};
use flightrec::store::{SessionSummary, Store, TimelineQuery};

#[derive(clap::Args)]
pub struct Args {
    /// The session id; without it, every session in the database (one row each, then totals)
    session: Option<String>,
    /// Also list every model request: model, tokens, duration, estimated cost
    #[arg(long)]
    requests: bool,
    /// Print JSON instead of tables
    #[arg(long)]
    json: bool,
}

/// `--json` for one session.
#[derive(Serialize)]
struct SessionReport<'a> {
    session: SessionInfo<'a>,
    #[serde(flatten)]
    stats: &'a Stats,
}

#[derive(Serialize)]
struct SessionInfo<'a> {
    id: &'a str,
    title: Option<&'a str>,
    event_count: u64,
    first_event_at: Option<String>,
    last_event_at: Option<String>,
}

impl<'a> SessionInfo<'a> {
    fn of(s: &'a SessionSummary) -> SessionInfo<'a> {
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
struct AllReport<'a> {
    sessions: Vec<SessionRow<'a>>,
    totals: Stats,
}

/// One session's line in the all-sessions report.
#[derive(Serialize)]
struct SessionRow<'a> {
    id: &'a str,
    title: Option<&'a str>,
    event_count: u64,
    /// Model ids seen (`null` for requests of an unknown model).
    models: Vec<Option<String>>,
    #[serde(flatten)]
    tokens: Tokens,
    tool_calls: u64,
    /// Every error counted in the session's report.
    errors: u64,
    estimate_usd: Option<f64>,
    unpriced_requests: u64,
    /// `list_cost` of the newest `session.usage`.
    reported_list_cost_usd: Option<f64>,
}

impl<'a> SessionRow<'a> {
    fn of(s: &'a SessionSummary, st: &Stats) -> SessionRow<'a> {
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

pub fn run(db: &Path, args: Args) -> Outcome {
    let store = open_existing(db)?;
    match &args.session {
        Some(id) => {
            let summary = store.require_session(id)?;
            let stats = session_stats(&store, &summary, args.requests)?.report();
            if args.json {
                output::print_json(&SessionReport {
                    session: SessionInfo::of(&summary),
                    stats: &stats,
                })?;
            } else {
                let mut out = session_heading(&summary);
                out.push_str(&render(&stats, false));
                output::print(out.trim_end())?;
            }
        }
        None => {
            let sessions = store.sessions()?;
            let mut total = Accumulator::default();
            let mut rows = Vec::with_capacity(sessions.len());
            for s in &sessions {
                let acc = session_stats(&store, s, args.requests)?;
                rows.push(SessionRow::of(s, &acc.report()));
                total.merge(acc);
            }
            let totals = total.report();
            if args.json {
                output::print_json(&AllReport {
                    sessions: rows,
                    totals,
                })?;
            } else {
                let mut out = String::new();
                let _ = writeln!(out, "{} sessions\n", sessions.len());
                let _ = writeln!(out, "{}\n", sessions_table(&rows));
                out.push_str("Totals over every session\n\n");
                out.push_str(&render(&totals, true));
                output::print(out.trim_end())?;
            }
        }
    }
    Ok(exit::OK)
}

/// One session's statistics, from one scan of its span, error, update and usage events.
///
/// The scan (SQLite) and the analysis (pairing spans) take about as long as each other on large
/// sessions, so they run on two threads: rows are copied out in batches and analysed while the
/// next batch is read.
pub fn session_stats(
    store: &Store,
    summary: &SessionSummary,
    requests: bool,
) -> anyhow::Result<Accumulator> {
    let agent = store.session_agent(&summary.id)?;
    let mut b = StatsBuilder::new(&summary.id, agent.as_deref());
    if requests {
        b = b.keep_requests();
    }
    let q = TimelineQuery {
        types: SPAN_TYPES
            .iter()
            .chain(STATS_TYPES)
            .map(|t| t.to_string())
            .collect(),
        slim_types: SLIM_TYPES.iter().map(|t| t.to_string()).collect(),
        ..TimelineQuery::default()
    };
    let end = summary.last_ts;
    let b = store.scan_events_pipelined(&summary.id, &q, b, |b, ev| b.push(ev))?;
    Ok(b.finish(end))
}

fn session_heading(s: &SessionSummary) -> String {
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

fn usd(v: f64) -> String {
    if v < 1.0 {
        format!("${v:.4}")
    } else {
        format!("${v:.2}")
    }
}

fn ratio(r: Option<f64>) -> String {
    r.map(|r| format!("{:.1}%", r * 100.0)).unwrap_or_default()
}

fn duration_ms(ms: Option<f64>) -> String {
    ms.map(|v| format_duration_micros((v * 1000.0).round() as i64))
        .unwrap_or_default()
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
        ratio(t.cache_hit_ratio),
    ]
}

fn render(s: &Stats, many: bool) -> String {
    let mut out = String::new();
    // Model requests and cost.
    let mut t = output::table(&[
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
    let _ = writeln!(out, "Model requests\n{t}");
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
        let mut t = output::table(&[
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
                r.started_at.clone().unwrap_or_default(),
                r.start_id.clone(),
                r.model.clone().unwrap_or_else(|| "unknown".into()),
                duration_ms(r.duration_ms),
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
        let _ = writeln!(out, "Each model request\n{t}\n");
    }

    if s.tools.is_empty() {
        out.push_str("No tool calls.\n\n");
    } else {
        let mut t = output::table(&[
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
                duration_ms(r.p50_ms),
                duration_ms(r.p95_ms),
                duration_ms(r.max_ms),
                slowest,
            ]);
        }
        let _ = writeln!(
            out,
            "Tool latency (result time less any wait for a confirmation)\n{t}\n"
        );
    }

    if s.errors.is_empty() {
        out.push_str("No errors.\n\n");
    } else {
        let mut t = output::table(&["SOURCE", "TYPE", "COUNT", "RETRY STATUS", "FIRST EVENT"]);
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
        let _ = writeln!(out, "Errors\n{t}\n");
    }

    if !s.slowest_spans.is_empty() {
        let mut header = vec!["DURATION", "KIND", "NAME", "START ID", "STATUS"];
        if many {
            header.push("SESSION");
        }
        let mut t = output::table(&header);
        for x in &s.slowest_spans {
            let mut row = vec![
                duration_ms(Some(x.duration_ms)),
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
        let _ = writeln!(out, "Slowest spans\n{t}");
    }
    out
}

fn sessions_table(rows: &[SessionRow]) -> comfy_table::Table {
    let mut t = output::table(&[
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
    ]);
    for r in rows {
        t.add_row(vec![
            r.id.to_string(),
            r.title.unwrap_or_default().to_string(),
            thousands(r.event_count),
            thousands(r.tokens.requests),
            thousands(r.tokens.input_tokens),
            thousands(r.tokens.output_tokens),
            thousands(r.tokens.cache_read_input_tokens),
            thousands(r.tokens.cache_creation_input_tokens),
            ratio(r.tokens.cache_hit_ratio),
            thousands(r.tool_calls),
            thousands(r.errors),
            cost_cell(r.estimate_usd, r.unpriced_requests),
            r.reported_list_cost_usd.map(usd).unwrap_or_default(),
        ]);
    }
    t
}
