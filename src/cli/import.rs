//! `flightrec import FILE...`

use anyhow::Context;
use indicatif::{ProgressBar, ProgressStyle};
use std::io::{BufRead, IsTerminal};
use std::path::{Path, PathBuf};

use super::{Outcome, exit, output};
use flightrec::inspect;
use flightrec::inspect::derive::Follow;
use flightrec::record::tape::{import_tape, import_tape_reader};
use flightrec::record::{
    FileReport, Follower, ImportError, ImportOptions, import_input_following, session_id_from_name,
};
use flightrec::source::open_input;
use flightrec::source::tape::looks_like_tape;
use flightrec::store::{Store, UpsertCounts};
use std::collections::HashMap;

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
    // What derives from each new session, folded as its file is written (inspect::derive).
    let mut following = HashMap::new();
    for file in &args.files {
        let mut follow = Follow::default();
        match import_one(&mut store, file, &opts, &mut follow) {
            Ok(r) => {
                if let Some(mut f) = follow.into_following().filter(|_| r.followed) {
                    if let Some(mark) = r.written_alone {
                        f.written_alone(mark);
                    }
                    following.insert(r.session_id.clone(), f);
                }
                reports.push(r)
            }
            Err(e) => {
                failed = true;
                output::error_line(&e);
            }
        }
    }
    let mut touched: Vec<&str> = reports.iter().map(|r| r.session_id.as_str()).collect();
    touched.sort_unstable();
    // A session written by two files was not followed whole by either.
    for pair in touched.windows(2).filter(|p| p[0] == p[1]) {
        following.remove(pair[0]);
    }
    touched.dedup();
    touched.retain(|id| !id.is_empty());
    // The events are committed: their WAL is copied beside the derivation.
    store.checkpoint_soon();
    inspect::derive::derive_following(&store, &touched, following, &mut |doing, e| {
        output::error_line(&anyhow::Error::from(e).context(doing))
    });
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

fn import_one(
    store: &mut Store,
    file: &Path,
    opts: &ImportOptions,
    follower: &mut dyn Follower,
) -> anyhow::Result<FileReport> {
    if file == Path::new("-") {
        // Standard input, read once as a stream (no reopening, so nothing is lost to a sniff).
        let input = std::io::BufReader::with_capacity(1 << 16, std::io::stdin());
        return import_stream(store, "-", None, input, 0, opts, &mut |_, _| {}, follower);
    }
    // Opened once and sniffed from its buffer, so a pipe (/dev/stdin, <(…), a FIFO) keeps every
    // byte. A FIFO with no writer is waited for, with a message, then refused.
    let shown = file.display().to_string();
    let mut say_waiting = || {
        let limit = match flightrec::source::fifo_wait() {
            Some(d) => format!("up to {} s; FLIGHTREC_FIFO_WAIT_SECS", d.as_secs()),
            None => "without limit: FLIGHTREC_FIFO_WAIT_SECS=0".into(),
        };
        let _ = output::eprint_line(format!(
            "flightrec: waiting for a writer on FIFO {} ({limit})",
            output::visible(&shown)
        ));
    };
    let (input, size) =
        open_input(file, &mut say_waiting).map_err(|error| ImportError::Source {
            path: shown.clone(),
            error,
        })?;
    let bar = (size >= PROGRESS_MIN_BYTES && std::io::stderr().is_terminal()).then(|| {
        let bar = ProgressBar::new(size);
        bar.set_style(
            ProgressStyle::with_template(
                "{msg} {bar:30} {bytes}/{total_bytes} {bytes_per_sec} eta {eta}",
            )
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
        bar.set_message(output::visible(&shown).into_owned());
        bar
    });
    let mut on_bytes = |done: u64, _total: u64| {
        if let Some(b) = &bar {
            b.set_position(done);
        }
    };
    let named = session_id_from_name(file);
    let report = import_stream(
        store,
        &shown,
        named,
        input,
        size,
        opts,
        &mut on_bytes,
        follower,
    );
    if let Some(b) = bar {
        b.finish_and_clear();
    }
    report
}

/// Imports one open input: a tape (told from its first bytes, peeked, not consumed), or an
/// event log, whose stored events go to `follower` (see `import_input_following`). `named`:
/// the session the input's name gives.
#[allow(clippy::too_many_arguments)]
fn import_stream<R: BufRead + Unpin + Send>(
    store: &mut Store,
    name: &str,
    named: Option<String>,
    mut input: R,
    size: u64,
    opts: &ImportOptions,
    on_bytes: &mut dyn FnMut(u64, u64),
    follower: &mut dyn Follower,
) -> anyhow::Result<FileReport> {
    let head = input.fill_buf().map_err(|e| ImportError::Source {
        path: name.to_string(),
        error: e.into(),
    })?;
    if looks_like_tape(head) {
        // A tape names its own session and threads: `--session` may only repeat it.
        if !opts.thread.is_empty() {
            anyhow::bail!("{name}: a tape keeps each event's thread; --thread does not apply");
        }
        return Ok(import_tape_reader(
            store,
            name,
            input,
            opts.session.as_deref(),
        )?);
    }
    let session = opts.session.clone().or(named);
    Ok(import_input_following(
        store,
        name,
        session.as_deref(),
        &opts.thread,
        input,
        size,
        on_bytes,
        Some(follower),
    )?)
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

/// Writes what later reads take from the store instead of the events, for the sessions just
/// written (`inspect::derive`): checkpoints, statistics, the rules' facts. Reading commands
/// open the database read-only and cannot fill them. Caches: a failure is said in one line and
/// fails nothing.
pub(super) fn cache_derived(store: &Store, sessions: &[&str]) {
    inspect::derive::derive(store, sessions, &mut |doing, e| {
        output::error_line(&anyhow::Error::from(e).context(doing))
    });
}
