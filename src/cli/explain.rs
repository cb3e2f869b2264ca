//! `flightrec explain SESSION [--at EVENT_ID|TIME]`: why the session is idle or stuck, the
//! evidence, and what to do now. The `--json` object is documented in docs/explain-json.md.

use std::path::Path;

use super::args::VerdictArgs;
use super::state::at_of;
use super::{Outcome, exit, open_existing, output, resolve};
use flightrec::analysis::explain::Explanation;
use flightrec::inspect::{self, ExplainAt};
pub use flightrec::report::explain::text;
use flightrec::store::{SessionSummary, Store};

#[derive(clap::Args)]
pub struct Args {
    /// The session: its id, a unique prefix or suffix, latest or latest-stuck
    session: String,
    /// Explain the session as it stood at this point: an event id (or a unique prefix or suffix of one), a time, or +DURATION
    #[arg(long, value_name = "EVENT_ID|TIME")]
    at: Option<String>,
    #[command(flatten)]
    verdict: VerdictArgs,
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
    let (point, at) = at_of(store, summary, at, now)?;
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
    let v = &args.verdict;
    let summary = resolve::session_at(&store, &args.session, &resolve::Attention::of(v))?;
    let x = explain_session(&store, &summary, args.at.as_deref(), v.now(), v.stuck_after)?;
    if v.json {
        output::print_json(&x)?;
    } else {
        output::print(text(&x))?;
    }
    Ok(exit::OK)
}
