//! `flightrec diff A B`: two sessions aligned step by step, the first divergence, and the
//! deltas in tokens, tool calls, latency, errors and duration. Exit 0 when the sessions are the
//! same, 1 when they diverge, 2 on error. The `--json` object is documented in docs/diff-json.md.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use super::args::VerdictArgs;
use super::explain::explain_session;
use super::{Outcome, exit, open_existing, output, resolve};
use flightrec::analysis::diff::{DiffOptions, Side, diff};
use flightrec::analysis::explain::Explanation;
use flightrec::analysis::stats::Stats;
use flightrec::report::diff::text;
use flightrec::store::{EventRow, SessionSummary, Store, TimelineQuery};

/// How long the alignment may search for the shortest alignment before settling.
const ALIGN_BUDGET: Duration = Duration::from_secs(2);

#[derive(clap::Args)]
#[command(
    mut_arg("stuck_after", |a| a.help("A running session with no event for longer than this is stalled (for the verdicts)")),
    mut_arg("json", |a| a.help("Print JSON instead of text (docs/diff-json.md)"))
)]
pub struct Args {
    /// Session A (the reference)
    a: String,
    /// Session B (compared with A)
    b: String,
    /// Read session B from this database [default: the --db database]
    #[arg(long, value_name = "PATH")]
    db_b: Option<PathBuf>,
    /// Aligned steps to show before and after the first divergence
    #[arg(long, value_name = "N", default_value_t = 3)]
    context: usize,
    #[command(flatten)]
    verdict: VerdictArgs,
}

/// One side read from its database.
struct Loaded {
    summary: SessionSummary,
    events: Vec<EventRow>,
    stats: Stats,
    explanation: Explanation,
}

impl Loaded {
    fn read(store: &Store, name: &str, now: i64, stuck_after: i64) -> anyhow::Result<Loaded> {
        let attention = resolve::Attention { now, stuck_after };
        let summary = resolve::session_at(store, name, &attention)?;
        Ok(Loaded {
            events: store.events(&summary.id, &TimelineQuery::default())?,
            stats: flightrec::inspect::session_stats(store, &summary, false)?.report(),
            explanation: explain_session(store, &summary, None, now, stuck_after)?,
            summary,
        })
    }

    fn side(&self) -> Side<'_> {
        Side {
            summary: &self.summary,
            events: &self.events,
            stats: &self.stats,
            explanation: &self.explanation,
        }
    }
}

pub fn run(db: &Path, args: Args) -> Outcome {
    let (now, stuck_after) = (args.verdict.now(), args.verdict.stuck_after);
    let store_a = open_existing(db)?;
    let a = Loaded::read(&store_a, &args.a, now, stuck_after)?;
    let b = match &args.db_b {
        Some(path) => Loaded::read(&open_existing(path)?, &args.b, now, stuck_after)?,
        None => Loaded::read(&store_a, &args.b, now, stuck_after)?,
    };
    let d = diff(
        &a.side(),
        &b.side(),
        &DiffOptions {
            context: args.context,
            deadline: Some(Instant::now() + ALIGN_BUDGET),
        },
    );
    if args.verdict.json {
        output::print_json(&d)?;
    } else {
        output::print(output::render(&text(&d)).trim_end())?;
    }
    Ok(if d.same { exit::OK } else { exit::DIFFERENT })
}
