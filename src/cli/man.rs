//! `flightrec man`: the roff man page on stdout (clap_mangen), or with `--dir DIR` one page per
//! command: flightrec.1, flightrec-import.1, ... (`man -l DIR/flightrec.1`, or DIR in MANPATH).

use anyhow::Context;
use clap::CommandFactory;
use clap_mangen::Man;
use std::io::Write;
use std::path::{Path, PathBuf};

use super::{Cli, Outcome, exit, output};

#[derive(clap::Args)]
pub struct Args {
    /// Write one page per command into this directory (created if needed) instead of printing
    /// flightrec(1)
    #[arg(long, value_name = "DIR")]
    dir: Option<PathBuf>,
}

pub fn run(args: Args) -> Outcome {
    let root = root();
    match args.dir {
        None => {
            let mut out = std::io::stdout().lock();
            page(root).render(&mut out)?;
            out.flush()?;
        }
        Some(dir) => {
            let written = write_all(root, &dir)?;
            output::eprint_line(format!("wrote {written} man pages to {}", dir.display()))?;
        }
    }
    Ok(exit::OK)
}

/// The command as the pages describe it: no `help` subcommand (`--help` is on every page).
fn root() -> clap::Command {
    let mut cmd = Cli::command().disable_help_subcommand(true);
    cmd.build();
    cmd
}

/// The page of one command, dated by the commit it was built from (when known).
fn page(cmd: clap::Command) -> Man {
    // The version alone in the footer: with the commit it runs into the date at 80 columns.
    let man = Man::new(cmd)
        .manual("flightrec manual")
        .source(concat!("flightrec ", env!("CARGO_PKG_VERSION")));
    match commit_date() {
        Some(date) => man.date(date),
        None => man,
    }
}

/// `2026-12-06` of `0.1.0 (abc1234 2026-12-06)`.
fn commit_date() -> Option<&'static str> {
    let inner = env!("FLIGHTREC_VERSION").split_once('(')?.1;
    inner.trim_end_matches(')').split_whitespace().nth(1)
}

/// Writes the page of `cmd` and of each of its visible subcommands into `dir`; returns how many.
fn write_all(cmd: clap::Command, dir: &Path) -> anyhow::Result<usize> {
    std::fs::create_dir_all(dir)
        .with_context(|| format!("cannot create the man page directory {}", dir.display()))?;
    let mut written = 0;
    for sub in cmd.get_subcommands().filter(|s| !s.is_hide_set()) {
        written += write_all(sub.clone(), dir)?;
    }
    let man = page(cmd);
    let path = dir.join(man.get_filename());
    let mut text = Vec::new();
    man.render(&mut text)?;
    std::fs::write(&path, text)
        .with_context(|| format!("cannot write the man page {}", path.display()))?;
    Ok(written + 1)
}
