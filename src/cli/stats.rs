//! `flightrec stats [SESSION]`: tokens, cost estimate, tool latency, errors, slowest spans.

use std::path::Path;

use super::{Outcome, exit, open_existing, output, resolve};
use flightrec::analysis::stats::Accumulator;
use flightrec::inspect;
use flightrec::report::stats::{
    AllReport, SessionInfo, SessionReport, SessionRow, all_text, session_text,
};

#[derive(clap::Args)]
pub struct Args {
    /// The session (its id, a unique prefix or suffix, latest or latest-stuck); without it, every session in the database (one row each, then totals)
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
            let summary = resolve::session(&store, id)?;
            let stats = inspect::session_stats(&store, &summary, args.requests)?.report();
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
                let acc = inspect::session_stats(&store, s, args.requests)?;
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
