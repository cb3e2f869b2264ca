//! `flightrec view [SESSION]`: starts the desktop viewer (`flightrec-ui`, a separate binary so
//! the CLI never links a GUI) on the same database.

use std::path::{Path, PathBuf};
use std::process::Command;

use super::{Outcome, exit, open_existing, resolve};

#[derive(clap::Args)]
pub struct Args {
    /// Open this session at once (its id, a unique prefix or suffix, latest or latest-stuck); or a tape file (flightrec export --format tape) to view it
    #[arg(value_name = "SESSION|TAPE")]
    session: Option<String>,
    /// Do not reload the open session when the database changes
    #[arg(long)]
    no_follow: bool,
}

/// The viewer's binary name.
const UI: &str = "flightrec-ui";

/// `flightrec-ui` next to this executable, else on PATH.
fn find_ui() -> Option<PathBuf> {
    let name = format!("{UI}{}", std::env::consts::EXE_SUFFIX);
    let beside = std::env::current_exe()
        .ok()
        .and_then(|exe| exe.parent().map(|d| d.join(&name)))
        .filter(|p| p.is_file());
    beside.or_else(|| {
        std::env::var_os("PATH").and_then(|paths| {
            std::env::split_paths(&paths)
                .map(|d| d.join(&name))
                .find(|p| p.is_file())
        })
    })
}

pub fn run(db: &Path, args: Args) -> Outcome {
    let Some(ui) = find_ui() else {
        eprintln!(
            "flightrec: the viewer is not built; build it with `cargo build --release -p flightrec-ui`"
        );
        return Ok(exit::ERROR);
    };
    // A tape is restored into a temporary database that outlives the viewer (we wait for it).
    let tape = match args.session.as_deref().map(Path::new) {
        Some(p) if p.is_file() => Some(super::import::tape_to_temp_db(p)?),
        _ => None,
    };
    // A session named by a prefix, a suffix or `latest` is resolved here; the viewer takes ids.
    let named = match (&tape, &args.session) {
        (None, Some(name)) if db.exists() => Some(resolve::session_id(&open_existing(db)?, name)?),
        _ => args.session.clone(),
    };
    let (db, session) = match &tape {
        Some(t) => (t.db.as_path(), Some(t.session_id.as_str())),
        None => (db, named.as_deref()),
    };
    let mut cmd = Command::new(&ui);
    cmd.arg("--db").arg(db);
    if args.no_follow {
        cmd.arg("--no-follow");
    }
    if let Some(s) = session {
        cmd.arg(s);
    }
    let status = cmd
        .status()
        .map_err(|e| anyhow::anyhow!("{}: cannot start the viewer: {e}", ui.display()))?;
    drop(tape);
    Ok(match status.code() {
        Some(0) => exit::OK,
        _ => exit::ERROR,
    })
}
