//! `flightrec stats [SESSION]`: tokens, cost estimate, tool latency, errors, slowest spans.

use std::path::Path;

use super::{Outcome, exit, open_existing, output};
use flightrec::analysis::spans::{SLIM_TYPES, SPAN_TYPES};
use flightrec::analysis::stats::{Accumulator, STATS_TYPES, StatsBuilder};
use flightrec::report::stats::{
    AllReport, SessionInfo, SessionReport, SessionRow, all_text, session_text,
};
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
                output::print(output::render(&session_text(&summary, &stats)).trim_end())?;
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
                output::print(output::render(&all_text(&rows, &totals)).trim_end())?;
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
