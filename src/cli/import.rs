//! `flightrec import FILE...`

use anyhow::Context;
use indicatif::{ProgressBar, ProgressStyle};
use std::io::IsTerminal;
use std::path::{Path, PathBuf};

use super::{Outcome, exit, output};
use flightrec::record::tape::import_tape;
use flightrec::record::{FileReport, ImportOptions, import_file, import_input};
use flightrec::source::tape::is_tape_file;
use flightrec::store::{Store, UpsertCounts};

#[derive(clap::Args)]
pub struct Args {
    /// Files to import (format detected from content); `-` is standard input
    #[arg(required = true, value_name = "FILE")]
    files: Vec<PathBuf>,
    /// The session the events belong to [default: the sesn_… id in each file name]
    #[arg(long, value_name = "SESSION")]
    session: Option<String>,
    /// The thread whose log this is, when it came from /threads/{id}/events or /stream
    #[arg(long, value_name = "THREAD", default_value = "")]
    thread: String,
    /// Print the per-file reports as JSON
    #[arg(long)]
    json: bool,
}

/// Imports of at least this many bytes are bulk writes (see `Store::begin_bulk`).
const BULK_MIN_BYTES: u64 = 16 << 20;
/// The page cache for bulk writes: room for the indexes of a few million events.
const BULK_CACHE_MIB: u32 = 256;

/// Inputs bigger than this get a progress bar (on a terminal).
const PROGRESS_MIN_BYTES: u64 = 8 << 20;

pub fn run(db: &Path, args: Args) -> Outcome {
    if let Some(s) = args
        .session
        .as_deref()
        .filter(|s| !flightrec::model::is_session_id(s))
    {
        anyhow::bail!("--session {s:?} is not a session id (sesn_ followed by letters and digits)");
    }
    let mut store = Store::open(db)?;
    let total: u64 = args
        .files
        .iter()
        .filter_map(|f| std::fs::metadata(f).ok())
        .map(|m| m.len())
        .sum();
    let bulk = if total >= BULK_MIN_BYTES {
        store.begin_bulk(BULK_CACHE_MIB)?;
        true
    } else {
        false
    };
    let opts = ImportOptions {
        session: args.session.clone(),
        thread: args.thread.clone(),
    };
    let mut reports = Vec::new();
    let mut failed = false;
    for file in &args.files {
        match import_one(&mut store, file, &opts) {
            Ok(r) => reports.push(r),
            Err(e) => {
                failed = true;
                output::error_line(&e);
            }
        }
    }
    if bulk {
        store.end_bulk()?;
    }
    store.checkpoint()?;
    print_reports(&reports, args.json)?;
    let problems = reports
        .iter()
        .any(|r| r.counts.quarantined > 0 || !r.id_collisions.is_empty());
    Ok(if failed {
        exit::ERROR
    } else if problems {
        exit::PROBLEMS
    } else {
        exit::OK
    })
}

fn import_one(store: &mut Store, file: &Path, opts: &ImportOptions) -> anyhow::Result<FileReport> {
    if file == Path::new("-") {
        // Standard input, read once as a stream (no reopening, so nothing is lost to a sniff).
        let input = std::io::BufReader::with_capacity(1 << 16, std::io::stdin().lock());
        return Ok(import_input(
            store,
            "-",
            opts.session.as_deref(),
            &opts.thread,
            input,
            0,
            &mut |_, _| {},
        )?);
    }
    if is_tape_file(file).unwrap_or(false) {
        return import_tape_file(store, file, opts);
    }
    let size = std::fs::metadata(file).map(|m| m.len()).unwrap_or(0);
    let bar = (size >= PROGRESS_MIN_BYTES && std::io::stderr().is_terminal()).then(|| {
        let bar = ProgressBar::new(size);
        bar.set_style(
            ProgressStyle::with_template(
                "{msg} {bar:30} {bytes}/{total_bytes} {bytes_per_sec} eta {eta}",
            )
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
        bar.set_message(output::visible(&file.display().to_string()).into_owned());
        bar
    });
    let mut on_bytes = |done: u64, _total: u64| {
        if let Some(b) = &bar {
            b.set_position(done);
        }
    };
    let report = import_file(store, file, opts, &mut on_bytes);
    if let Some(b) = bar {
        b.finish_and_clear();
    }
    Ok(report?)
}

/// A tape names its own session and threads: `--session` may only repeat it.
fn import_tape_file(
    store: &mut Store,
    file: &Path,
    opts: &ImportOptions,
) -> anyhow::Result<FileReport> {
    if !opts.thread.is_empty() {
        anyhow::bail!(
            "{}: a tape keeps each event's thread; --thread does not apply",
            file.display()
        );
    }
    Ok(import_tape(store, file, opts.session.as_deref())?)
}

/// A tape restored into a fresh database in a temporary directory, for `serve --tape` and
/// `view TAPE`. The database lives as long as the returned directory.
pub struct TapeDb {
    /// Removed (with the database) when dropped.
    _dir: tempfile::TempDir,
    pub db: PathBuf,
    pub session_id: String,
}

pub fn tape_to_temp_db(tape: &Path) -> anyhow::Result<TapeDb> {
    let dir = tempfile::Builder::new()
        .prefix("flightrec-tape-")
        .tempdir()
        .context("creating a temporary directory for the tape's database")?;
    let db = dir.path().join("tape.db");
    let mut store = Store::open(&db)?;
    let report = import_tape(&mut store, tape, None)?;
    store.checkpoint()?;
    Ok(TapeDb {
        _dir: dir,
        db,
        session_id: report.session_id,
    })
}

pub fn print_reports(reports: &[FileReport], json: bool) -> anyhow::Result<()> {
    if json {
        return output::print_json(&reports);
    }
    let mut total = UpsertCounts::default();
    for r in reports {
        total.merge(&r.counts);
        output::print(format!(
            "{}: {} {}, {}",
            r.path,
            r.format,
            r.session_id,
            counts_text(&r.counts)
        ))?;
        for p in r.problems.iter().take(20) {
            output::eprint_line(format!("flightrec: warning: {p}"))?;
        }
        for c in r.id_collisions.iter().take(20) {
            output::eprint_line(format!("flightrec: warning: {c}"))?;
        }
        if r.id_collisions.len() > 20 {
            output::eprint_line(format!(
                "flightrec: warning: … and {} more ids reused by another type in {}",
                r.id_collisions.len() - 20,
                r.path
            ))?;
        }
        if r.problems.len() > 20 {
            output::eprint_line(format!(
                "flightrec: warning: … and {} more quarantined in {}",
                r.problems.len() - 20,
                r.path
            ))?;
        }
    }
    if reports.len() > 1 {
        output::print(format!(
            "total: {} files, {}",
            reports.len(),
            counts_text(&total)
        ))?;
    }
    Ok(())
}

fn counts_text(c: &UpsertCounts) -> String {
    format!(
        "{} new, {} updated, {} duplicate, {} previews, {} quarantined",
        c.new, c.updated, c.duplicate, c.previews, c.quarantined
    )
}
