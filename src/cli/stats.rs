//! `flightrec stats [SESSION]`: tokens, cost estimate, tool latency, errors, slowest spans; across
//! sessions, optionally within `--since/--until` and grouped `--by agent|model|day`.

use std::path::Path;

use super::args::WindowArgs;
use super::{Outcome, exit, open_existing, output, resolve};
use flightrec::analysis::stats::Accumulator;
use flightrec::analysis::stats::groups::{By, Grouper};
use flightrec::inspect;
use flightrec::model::time::format_micros;
use flightrec::report::stats::by::{ByReport, by_text};
use flightrec::report::stats::{
    AllReport, SessionInfo, SessionReport, SessionRow, all_text, session_text,
};
use flightrec::store::{SessionFilter, SessionSummary, Store};

#[derive(clap::Args)]
#[command(
    mut_arg("since", |a| a.help("Only sessions active at or after TIME; with --by, only requests made then: 1h, 30m, 2d (ago), a date, RFC 3339")
        .long_help("Only sessions active at or after TIME (their last event is at or after it); with --by, \
                    only the model requests made at or after it. TIME is 1h, 30m, 2d (that long before now), \
                    a date (2026-12-01, taken as midnight UTC) or an RFC 3339 time (2026-08-07T14:02:11Z).")),
    mut_arg("until", |a| a.help("Only sessions active at or before TIME; with --by, only requests made then: the forms of --since")
        .long_help(None::<&str>))
)]
pub struct Args {
    /// The session (its id, a unique prefix or suffix, latest or latest-stuck); without it, every session in the database (one row each, then totals)
    session: Option<String>,
    /// Also list every model request: model, tokens, duration, estimated cost
    #[arg(long, conflicts_with = "by")]
    requests: bool,
    /// Across sessions, one row per agent, model or UTC day (of each request): sessions, requests, tokens, cost and its share
    #[arg(long, value_name = "GROUP", value_parser = parse_by)]
    by: Option<By>,
    #[command(flatten)]
    window: WindowArgs,
    /// Print JSON instead of tables
    #[arg(long)]
    json: bool,
}

fn parse_by(s: &str) -> Result<By, String> {
    By::parse(s).ok_or_else(|| format!("'{s}' is not a grouping: use {}", By::NAMES))
}

pub fn run(db: &Path, args: Args) -> Outcome {
    let store = open_existing(db)?;
    let Some(id) = &args.session else {
        return across(&store, &args);
    };
    if args.by.is_some() || args.window.since.is_some() || args.window.until.is_some() {
        anyhow::bail!(
            "--by, --since and --until read across sessions: leave out the session {id} \
             (one session's events in a window: flightrec timeline {id} --since …)"
        );
    }
    let summary = resolve::session(&store, id)?;
    let stats = inspect::stats_cache::session_report(&store, &summary, args.requests)?;
    if args.json {
        output::print_json(&SessionReport {
            session: SessionInfo::of(&summary),
            stats: &stats,
        })?;
    } else {
        output::print(output::render(&session_text(&summary, &stats)).trim_end())?;
    }
    Ok(exit::OK)
}

/// Every session active in the window: a row each then totals, or with `--by` a row per group.
fn across(store: &Store, args: &Args) -> Outcome {
    let window = args.window.without_session()?;
    let sessions = store.sessions_matching(&SessionFilter {
        since_ts: window.since,
        until_ts: window.until,
        ..SessionFilter::default()
    })?;
    if let Some(by) = args.by {
        return grouped(store, args, by, (window.since, window.until), &sessions);
    }
    let mut total = Accumulator::default();
    let mut rows = Vec::with_capacity(sessions.len());
    for s in &sessions {
        let acc = inspect::stats_cache::session_stats_cached(store, s, args.requests)?;
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
    Ok(exit::OK)
}

fn grouped(
    store: &Store,
    args: &Args,
    by: By,
    (since, until): (Option<i64>, Option<i64>),
    sessions: &[SessionSummary],
) -> Outcome {
    let mut g = Grouper::new(by, since, until);
    for (s, requests) in sessions.iter().zip(inspect::requests_of(store, sessions)?) {
        let agent = match by {
            By::Agent => store.session_agent_ref(&s.id)?,
            _ => None,
        };
        g.add_session(agent.as_ref(), &requests);
    }
    let grouped = g.finish();
    let window = (since.map(format_micros), until.map(format_micros));
    let report = ByReport::new(by, window, sessions.len() as u64, &grouped);
    if args.json {
        output::print_json(&report)?;
    } else {
        output::print(output::render(&by_text(&report)).trim_end())?;
    }
    Ok(exit::OK)
}
