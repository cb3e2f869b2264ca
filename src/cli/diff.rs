//! `flightrec diff A B`: two sessions aligned step by step, the first divergence, and the
//! deltas in tokens, tool calls, latency, errors and duration. Exit 0 when the sessions are the
//! same, 1 when they diverge, 2 on error. The `--json` object is documented in docs/diff-json.md.

use std::path::{Path, PathBuf};
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::time::Duration;

use super::args::VerdictArgs;
use super::explain::explain_session;
use super::{Outcome, exit, open_existing, output, resolve};
use anyhow::Context;
use flightrec::analysis::diff::{Alignment, DiffOptions, SharedKinds, SideFacts, Sig, report};
use flightrec::analysis::explain::Explanation;
use flightrec::analysis::stats::Stats;
use flightrec::inspect::diff::{shown_events, sign_steps};
use flightrec::report::diff::text;
use flightrec::store::{SessionSummary, Store};

/// How long the alignment may search for the shortest alignment before settling (time spent
/// waiting for steps to be read is not counted).
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

/// One side read from its database: its facts, never its events (its steps' signatures go to
/// the alignment as they are made).
struct Loaded {
    summary: SessionSummary,
    event_count: u64,
    stats: Stats,
    explanation: Explanation,
}

impl Loaded {
    /// Signs the steps of `summary`'s session into `steps`, then reads its facts.
    fn read(
        store: &Store,
        summary: SessionSummary,
        kinds: &SharedKinds,
        steps: SyncSender<Vec<Sig>>,
        now: i64,
        stuck_after: i64,
    ) -> anyhow::Result<Loaded> {
        let event_count = sign_steps(store, &summary.id, kinds, |chunk| steps.send(chunk).is_ok())?;
        // The alignment has every step of this side.
        drop(steps);
        Ok(Loaded {
            event_count,
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

/// Chunks of signatures waiting for the alignment, each side.
const QUEUED_CHUNKS: usize = 8;

pub fn run(db: &Path, args: Args) -> Outcome {
    let (now, stuck_after) = (args.verdict.now(), args.verdict.stuck_after);
    let store_a = open_existing(db)?;
    let store_b = open_existing(args.db_b.as_deref().unwrap_or(db))?;
    let attention = resolve::Attention { now, stuck_after };
    let sum_a = resolve::session_at(&store_a, &args.a, &attention)?;
    let sum_b = resolve::session_at(&store_b, &args.b, &attention)?;
    let opts = DiffOptions {
        context: args.context,
        budget: Some(ALIGN_BUDGET),
    };
    // Each side is read on a connection and a thread of its own (reading is most of a diff's
    // time) and aligned as its steps come: neither side's steps are held whole.
    let kinds = SharedKinds::default();
    let (al, (store_a, a), (store_b, b)) = std::thread::scope(|s| {
        let (tx_a, rx_a) = sync_channel::<Vec<Sig>>(QUEUED_CHUNKS);
        let (tx_b, rx_b) = sync_channel::<Vec<Sig>>(QUEUED_CHUNKS);
        let kinds = &kinds;
        let side_a = s.spawn(move || {
            let a = Loaded::read(&store_a, sum_a, kinds, tx_a, now, stuck_after);
            (store_a, a)
        });
        let side_b = s.spawn(move || {
            let b = Loaded::read(&store_b, sum_b, kinds, tx_b, now, stuck_after);
            (store_b, b)
        });
        let steps = |rx: Receiver<Vec<Sig>>| rx.into_iter().flatten();
        let al = Alignment::streamed(steps(rx_a), steps(rx_b), &opts, kinds);
        // A panic on either side is a bug: let it surface as one.
        let join = |h: std::thread::ScopedJoinHandle<'_, _>| {
            h.join().unwrap_or_else(|p| std::panic::resume_unwind(p))
        };
        (al, join(side_a), join(side_b))
    });
    let (a, b) = (a?, b?);
    let (shown_a, shown_b) = al.shown_events();
    let ea = shown_events(&store_a, &a.summary.id, &shown_a)?;
    let eb = shown_events(&store_b, &b.summary.id, &shown_b)?;
    let d = report(
        &al,
        (&a.facts(), &|i| ea.get(&i)),
        (&b.facts(), &|i| eb.get(&i)),
    )
    .context("a session changed while it was compared: run the diff again")?;
    if args.verdict.json {
        output::print_json(&d)?;
    } else {
        output::print(output::render(&text(&d)).trim_end())?;
    }
    Ok(if d.same { exit::OK } else { exit::DIFFERENT })
}
