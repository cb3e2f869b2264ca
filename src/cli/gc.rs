//! `flightrec gc --older-than TIME`: deletes the sessions whose newest activity is older, with
//! every row keyed by them, a chunk per transaction so recorders and readers never wait long,
//! then gives the space back (`flightrec::retention`, SQL in `store/gc.rs`). Exit 0 when done
//! (deleting nothing included), 2 on an error.

use std::path::Path;

use super::args::{DEFAULT_STUCK_AFTER, TimeArg, parse_duration_micros, parse_now, parse_time};
use super::{Outcome, exit, output, resolve};
use flightrec::model::time::format_micros;
use flightrec::retention::{self, Planned, Policy, Report};
use flightrec::store::{GcOptions, Store};

#[derive(clap::Args)]
#[command(
    after_help = "A database made before this version frees the space of deleted sessions \
                        for reuse but keeps its size until one `gc --vacuum`, which also sets it \
                        up to shrink in short steps at every later gc."
)]
pub struct Args {
    /// Delete sessions whose newest event is before TIME: 90d, 12h (that long ago), a date
    /// (2026-09-01, midnight UTC) or RFC 3339
    #[arg(long, value_name = "TIME", value_parser = parse_time)]
    older_than: TimeArg,
    /// Keep the sessions that need attention at the current time (what `check` exits 1 on:
    /// blocked, stalled, retries exhausted, budget reached, …)
    #[arg(long)]
    keep_stuck: bool,
    /// With --keep-stuck: a running session with no event for longer than this is stalled
    #[arg(long, value_name = "DUR", default_value = DEFAULT_STUCK_AFTER, value_parser = parse_duration_micros)]
    stuck_after: i64,
    /// Only these sessions (ids, unique prefixes or suffixes), when they are old enough
    #[arg(long = "session", value_name = "SESSION", num_args = 1..)]
    sessions: Vec<String>,
    /// List what would be deleted (sessions, events, bytes of text) and delete nothing
    #[arg(long)]
    dry_run: bool,
    /// Afterwards rewrite the whole database (VACUUM): the file shrinks to its data, but writers
    /// wait until it ends (readers do not); needs free disk of about the database's size
    #[arg(long, conflicts_with = "dry_run")]
    vacuum: bool,
    /// Print one JSON object (the sessions and a summary) instead of text
    #[arg(long)]
    json: bool,
    /// The current time (RFC 3339) that 90d counts back from, for tests [default: the wall clock]
    #[arg(long, value_name = "TIME", hide = true, value_parser = parse_now)]
    now: Option<i64>,
}

#[derive(serde::Serialize)]
struct Json<'a> {
    dry_run: bool,
    cutoff: String,
    sessions: &'a [Planned],
    summary: &'a Report,
    bytes_freed: u64,
}

pub fn run(db: &Path, args: Args) -> Outcome {
    let now = args.now.unwrap_or_else(super::explain::wall_clock);
    let cutoff = args
        .older_than
        .resolve_without_session(now, "--older-than")?;
    let mut store = Store::open_existing(db)?;
    let only = if args.sessions.is_empty() {
        None
    } else {
        Some(
            args.sessions
                .iter()
                .map(|s| resolve::session_id(&store, s))
                .collect::<anyhow::Result<Vec<_>>>()?,
        )
    };
    let policy = Policy {
        cutoff,
        now,
        keep_stuck: args.keep_stuck,
        stuck_after_us: args.stuck_after,
        only,
        never: Default::default(),
    };
    let planned = retention::plan(&store, &policy)?;
    let verb = if args.dry_run {
        "would delete"
    } else {
        "deleted"
    };
    let report = if args.dry_run {
        for p in &planned {
            if !args.json {
                output::print(line(p, verb))?;
            }
        }
        retention::dry_run(&store, &planned)?
    } else {
        let mut failed = None;
        let report = retention::run(
            &mut store,
            &planned,
            cutoff,
            args.vacuum,
            &GcOptions::default(),
            |p, d| {
                if args.json || failed.is_some() {
                    return;
                }
                let text = if d.complete {
                    line(p, verb)
                } else {
                    format!(
                        "{}  left alone: active again while being deleted ({} events deleted)",
                        p.candidate.session_id, d.events
                    )
                };
                if let Err(e) = output::print(text) {
                    failed = Some(e);
                }
            },
        )?;
        if let Some(e) = failed {
            return Err(e.into());
        }
        report
    };
    if args.json {
        output::print_json(&Json {
            dry_run: args.dry_run,
            cutoff: format_micros(cutoff),
            sessions: &planned,
            bytes_freed: report.bytes_freed(),
            summary: &report,
        })?;
    } else {
        output::print(summary(&report, args.dry_run, cutoff))?;
    }
    Ok(exit::OK)
}

/// One session: deleted (or would be), or kept and why.
fn line(p: &Planned, verb: &str) -> String {
    let c = &p.candidate;
    let when = c.last_active_ts.map_or_else(|| "-".into(), format_micros);
    match &p.kept {
        Some(why) => format!("{}  kept: {why}  (last active {when})", c.session_id),
        None => format!(
            "{}  {verb}  last active {when}  {} events  {}",
            c.session_id,
            c.events,
            size(c.bytes)
        ),
    }
}

fn summary(r: &Report, dry_run: bool, cutoff: i64) -> String {
    let what = format!(
        "{} session{} ({} events, {} of text)",
        r.sessions,
        if r.sessions == 1 { "" } else { "s" },
        r.events,
        size(r.bytes)
    );
    let cutoff = format_micros(cutoff);
    if dry_run {
        return format!(
            "would delete {what} last active before {cutoff}; the database is {}, {} of it free",
            size(r.before.bytes()),
            size(r.before.free_bytes())
        );
    }
    let space = match r.reclaimed {
        "none" if r.after.free_bytes() > 0 => format!(
            "; {} free for reuse inside the file (gc --vacuum shrinks it)",
            size(r.after.free_bytes())
        ),
        _ => String::new(),
    };
    format!(
        "deleted {what} last active before {cutoff}; database {} → {}{space}",
        size(r.before.bytes()),
        size(r.after.bytes())
    )
}

/// Bytes in B, KiB, MiB or GiB.
fn size(bytes: u64) -> String {
    const UNITS: [&str; 4] = ["B", "KiB", "MiB", "GiB"];
    let mut v = bytes as f64;
    let mut unit = 0;
    while v >= 1024.0 && unit + 1 < UNITS.len() {
        v /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{bytes} B")
    } else {
        format!("{v:.1} {}", UNITS[unit])
    }
}

/// How often `watch --retain` runs the gc (and once as it starts).
const RETAIN_EVERY: std::time::Duration = std::time::Duration::from_secs(3600);

/// `watch --retain DUR`: the gc of `--older-than DUR --keep-stuck` now and every hour, on a
/// blocking thread, until `shutdown`. Sessions under a recorder (an open connection in the
/// capture log, as every stream of the watcher's has) are never chosen, and one that becomes
/// active while being deleted is left alone (`store/gc.rs`).
pub async fn retain(
    db: std::path::PathBuf,
    retain_us: i64,
    mut shutdown: tokio::sync::watch::Receiver<bool>,
) {
    loop {
        let path = db.clone();
        let line = match tokio::task::spawn_blocking(move || retain_once(&path, retain_us)).await {
            Ok(Ok(Some(line))) => Some(line),
            Ok(Ok(None)) => None,
            Ok(Err(e)) => Some(format!("retention: {e:#}")),
            Err(e) => Some(format!("retention: {e}")),
        };
        if let Some(line) = line {
            let _ = output::print(line);
        }
        tokio::select! {
            _ = tokio::time::sleep(RETAIN_EVERY) => {}
            _ = shutdown.wait_for(|s| *s) => return,
        }
    }
}

/// One pass of `watch --retain`: a line when it deleted something.
fn retain_once(db: &Path, retain_us: i64) -> anyhow::Result<Option<String>> {
    let now = super::explain::wall_clock();
    let cutoff = now.saturating_sub(retain_us);
    let mut store = Store::open(db)?;
    let stuck_after = parse_duration_micros(DEFAULT_STUCK_AFTER).map_err(anyhow::Error::msg)?;
    let policy = Policy {
        cutoff,
        now,
        keep_stuck: true,
        stuck_after_us: stuck_after,
        ..Policy::default()
    };
    let planned = retention::plan(&store, &policy)?;
    if planned.iter().all(|p| p.kept.is_some()) {
        return Ok(None);
    }
    let report = retention::run(
        &mut store,
        &planned,
        cutoff,
        false,
        &GcOptions::default(),
        |_, _| {},
    )?;
    Ok(Some(format!(
        "retention: {}",
        summary(&report, false, cutoff)
    )))
}
