//! `flightrec demo`: the bundled sample logs, loaded into a fresh demo database and shown.

use include_dir::{Dir, include_dir};
use std::path::{Path, PathBuf};

use super::{Outcome, exit, output, sessions, timeline};
use flightrec::record::{FileReport, ImportError, import_reader, session_id_from_name};
use flightrec::store::Store;

/// The sample logs, compiled in so the demo works from any directory.
static SAMPLES: Dir<'_> = include_dir!("$CARGO_MANIFEST_DIR/sample-logs");

/// The sample whose timeline the demo prints: a session stuck on an unanswered custom tool.
const FEATURED: &str = "stuck-custom-tool";

#[derive(clap::Args)]
pub struct Args {
    /// Print only the sessions table, not the featured timeline
    #[arg(long)]
    quiet: bool,
}

/// The demo's database: `--db` when given, else a fixed file in the temporary directory.
fn demo_db(db: Option<PathBuf>) -> PathBuf {
    db.unwrap_or_else(|| std::env::temp_dir().join("flightrec-demo.db"))
}

/// Sample files in name order: the event logs only (not the README or the generator).
pub fn sample_files() -> Vec<&'static include_dir::File<'static>> {
    let mut files: Vec<_> = SAMPLES
        .files()
        .filter(|f| {
            matches!(
                f.path().extension().and_then(|e| e.to_str()),
                Some("jsonl" | "sse" | "json")
            )
        })
        .collect();
    files.sort_by_key(|f| f.path());
    files
}

pub fn run(db: Option<PathBuf>, args: Args) -> Outcome {
    let path = demo_db(db);
    remove_database(&path)?;
    let mut store = Store::open(&path)?;
    let mut reports = Vec::new();
    for file in sample_files() {
        reports.push(import_sample(&mut store, file)?);
    }
    store.checkpoint()?;
    let events: u64 = reports.iter().map(|r| r.counts.new).sum();
    output::print(format!(
        "Loaded {} sample logs ({} events) into {}\n",
        reports.len(),
        events,
        path.display()
    ))?;
    output::print(sessions::table(&store.sessions()?))?;
    let featured = reports
        .iter()
        .find(|r| Path::new(&r.path).starts_with(FEATURED) || r.path.starts_with(FEATURED));
    if let (false, Some(f)) = (args.quiet, featured) {
        output::print(format!("\nTimeline of {} ({}):\n", f.session_id, FEATURED))?;
        output::print(timeline::session_table(&store, &f.session_id)?)?;
    }
    output::print(format!(
        "\nExplore: flightrec --db {} timeline SESSION   (or sessions, export)",
        path.display()
    ))?;
    Ok(exit::OK)
}

fn import_sample(store: &mut Store, file: &include_dir::File<'_>) -> anyhow::Result<FileReport> {
    let name = file.path().display().to_string();
    let session = session_id_from_name(file.path())
        .ok_or_else(|| ImportError::NoSession { path: name.clone() })?;
    let bytes = file.contents();
    Ok(import_reader(
        store,
        &name,
        &session,
        "",
        bytes,
        bytes.len() as u64,
        &mut |_, _| {},
    )?)
}

/// Starts the demo afresh: the database and its WAL companions go.
fn remove_database(path: &Path) -> anyhow::Result<()> {
    for suffix in ["", "-wal", "-shm"] {
        let mut p = path.as_os_str().to_owned();
        p.push(suffix);
        match std::fs::remove_file(PathBuf::from(p)) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => {
                return Err(anyhow::anyhow!(
                    "{}: cannot remove the old demo database: {e}",
                    path.display()
                ));
            }
        }
    }
    Ok(())
}
