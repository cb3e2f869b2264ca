//! `flightrec diff A B`: two sessions aligned step by step, the first divergence, and the
//! deltas in tokens, tool calls, latency, errors and duration. Exit 0 when the sessions are the
//! same, 1 when they diverge, 2 on error. The `--json` object is documented in docs/diff-json.md.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use super::args::VerdictArgs;
use super::explain::explain_session;
use super::{Outcome, exit, open_existing, output, resolve};
use anyhow::Context;
use flightrec::analysis::diff::{Alignment, DiffOptions, SideFacts, Sigs, report};
use flightrec::analysis::explain::Explanation;
use flightrec::analysis::stats::Stats;
use flightrec::inspect::diff::{shown_events, step_signatures};
use flightrec::report::diff::text;
use flightrec::store::{SessionSummary, Store};

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

/// One side read from its database: its facts and its steps' signatures, never its events.
struct Loaded {
    summary: SessionSummary,
    event_count: u64,
    sigs: Sigs,
    stats: Stats,
    explanation: Explanation,
}

impl Loaded {
    fn read(store: &Store, name: &str, now: i64, stuck_after: i64) -> anyhow::Result<Loaded> {
        let attention = resolve::Attention { now, stuck_after };
        let summary = resolve::session_at(store, name, &attention)?;
        let (event_count, sigs) = step_signatures(store, &summary.id)?;
        Ok(Loaded {
            event_count,
            sigs,
            // The kept report when the session is as it was kept: a fold holds every span.
            stats: flightrec::inspect::stats_cache::session_report(store, &summary, false)?,
            explanation: explain_session(store, &summary, None, now, stuck_after)?,
            summary,
        })
    }

    fn facts(&self) -> SideFacts<'_> {
        SideFacts {
            summary: &self.summary,
            event_count: self.event_count,
            stats: &self.stats,
            explanation: &self.explanation,
        }
    }
}

pub fn run(db: &Path, args: Args) -> Outcome {
    let (now, stuck_after) = (args.verdict.now(), args.verdict.stuck_after);
    // Each side on a connection and a thread of its own: reading a side (its steps' signatures
    // above all) is most of a diff's time, and the sides do not depend on each other.
    let store_a = open_existing(db)?;
    let store_b = open_existing(args.db_b.as_deref().unwrap_or(db))?;
    let (a, (store_b, b)) = std::thread::scope(|s| {
        let b = s.spawn(|| {
            let b = Loaded::read(&store_b, &args.b, now, stuck_after);
            (store_b, b)
        });
        let a = Loaded::read(&store_a, &args.a, now, stuck_after);
        // A panic on B's side is a bug: let it surface as one.
        (a, b.join().unwrap_or_else(|p| std::panic::resume_unwind(p)))
    });
    let (a, b, store_b) = (a?, b?, &store_b);
    let al = Alignment::new(
        &a.sigs,
        &b.sigs,
        &DiffOptions {
            context: args.context,
            deadline: Some(Instant::now() + ALIGN_BUDGET),
        },
    );
    let (shown_a, shown_b) = al.shown_steps();
    let ea = shown_events(&store_a, &a.summary.id, &a.sigs, &shown_a)?;
    let eb = shown_events(store_b, &b.summary.id, &b.sigs, &shown_b)?;
    let d = report(
        &al,
        (&a.facts(), &a.sigs, &|i| ea.get(&i)),
        (&b.facts(), &b.sigs, &|i| eb.get(&i)),
    )
    .context("a session changed while it was compared: run the diff again")?;
    if args.verdict.json {
        output::print_json(&d)?;
    } else {
        output::print(output::render(&text(&d)).trim_end())?;
    }
    Ok(if d.same { exit::OK } else { exit::DIFFERENT })
}
