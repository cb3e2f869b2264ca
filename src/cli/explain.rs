//! `flightrec explain SESSION [--at EVENT_ID|TIME]`: why the session is idle or stuck, the
//! evidence, and what to do now. The `--json` object is documented in docs/explain-json.md.

use std::path::Path;

use super::args::{parse_duration_micros, parse_time};
use super::state::at_of;
use super::{Outcome, exit, open_existing, output};
use flightrec::analysis::explain::Explanation;
pub use flightrec::analysis::explain::report::text;
use flightrec::inspect::{self, ExplainAt};
use flightrec::store::{SessionSummary, Store};

/// A running session silent for longer than this is stalled, unless --stuck-after says otherwise.
pub const DEFAULT_STUCK_AFTER: &str = "10m";

#[derive(clap::Args)]
pub struct Args {
    /// The session id
    session: String,
    /// Explain the session as it stood at this point: an event id, a time, or +DURATION
    #[arg(long, value_name = "EVENT_ID|TIME")]
    at: Option<String>,
    /// A running session with no event for longer than this is stalled
    #[arg(long, value_name = "DUR", default_value = DEFAULT_STUCK_AFTER, value_parser = parse_duration_micros)]
    stuck_after: i64,
    /// The current time (RFC 3339), for tests [default: the wall clock]
    #[arg(long, value_name = "TIME", hide = true, value_parser = parse_now)]
    now: Option<i64>,
    /// Print JSON instead of text
    #[arg(long)]
    json: bool,
}

/// `--now`: an absolute RFC 3339 time.
pub fn parse_now(s: &str) -> Result<i64, String> {
    match parse_time(s)? {
        super::args::TimeArg::Absolute(t) => Ok(t),
        super::args::TimeArg::AfterStart(_) => Err(format!("'{s}': --now takes an RFC 3339 time")),
    }
}

pub fn wall_clock() -> i64 {
    chrono::Utc::now().timestamp_micros()
}

/// The explanation of one session at `--at` (the end of the recording for `None`), with the
/// findings of the session up to there.
pub fn explain_session(
    store: &Store,
    summary: &SessionSummary,
    at: Option<&str>,
    now: i64,
    stuck_after: i64,
) -> anyhow::Result<Explanation> {
    let (point, at) = at_of(store, summary, at)?;
    let x = ExplainAt {
        point,
        at,
        now,
        stuck_after_us: stuck_after,
    };
    Ok(inspect::explain_with_findings(store, summary, &x)?.0)
}

pub fn run(db: &Path, args: Args) -> Outcome {
    let store = open_existing(db)?;
    let summary = store.require_session(&args.session)?;
    let now = args.now.unwrap_or_else(wall_clock);
    let x = explain_session(&store, &summary, args.at.as_deref(), now, args.stuck_after)?;
    if args.json {
        output::print_json(&x)?;
    } else {
        output::print(text(&x))?;
    }
    Ok(exit::OK)
}
