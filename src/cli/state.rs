//! `flightrec state SESSION [--at EVENT_ID|TIME]`, and the store reads that feed the state fold
//! (shared with `explain` and `check`).
//!
//! A long session is not read whole: the fold needs every event only from the second-newest
//! turn-ending idle before the point on, and before that only a few types (see
//! `flightrec::analysis::state`). The idles are found by widening windows back from the point.

use std::path::Path;

use super::{Outcome, at, exit, open_existing, output, resolve};
use flightrec::analysis::Point;
use flightrec::analysis::explain::{At, OpenSpan};
use flightrec::inspect::{Scope, reconstruct, session_object_facts, thread_tree};
use flightrec::model::time::format_micros;
use flightrec::report::state::{StateReport, Usage, text};
use flightrec::store::{SessionSummary, Store};

#[derive(clap::Args)]
pub struct Args {
    /// The session: its id, a unique prefix or suffix, latest or latest-stuck
    session: String,
    /// The point: an event id (or a unique prefix or suffix of one), a time, or +DURATION [default: the end of the recording]
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
    now: i64,
) -> anyhow::Result<(Option<Point>, Option<At>)> {
    let Some(a) = arg else {
        return Ok((None, None));
    };
    let (point, event_id) = at::resolve_with_id(store, summary, a, now)?;
    let at = At {
        event_id,
        time: point.time().map(format_micros),
        ts: point.time(),
    };
    Ok((Some(point), Some(at)))
}

pub fn run(db: &Path, args: Args) -> Outcome {
    let store = open_existing(db)?;
    let summary = resolve::session(&store, &args.session)?;
    let (point, at) = at_of(
        &store,
        &summary,
        args.at.as_deref(),
        super::explain::wall_clock(),
    )?;
    let state = reconstruct(&store, &summary, point, Scope::Full)?;
    let ledger = state.ledger.clone().unwrap_or_default();
    let report = StateReport {
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
        output::print(text(&report))?;
    }
    Ok(exit::OK)
}
