//! `flightrec export SESSION --format FORMAT [-o FILE]`

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use anyhow::Context;

use super::{Outcome, exit, open_existing};
use flightrec::export::jsonl::write_jsonl;

#[derive(Clone, Copy, clap::ValueEnum)]
enum Format {
    /// One event per line, exactly as received
    Jsonl,
}

#[derive(clap::Args)]
pub struct Args {
    /// The session id
    session: String,
    /// Output format
    #[arg(long, value_enum, default_value = "jsonl")]
    format: Format,
    /// Write to FILE instead of standard output
    #[arg(short, long, value_name = "FILE")]
    output: Option<PathBuf>,
}

/// Standard output, or a new file.
fn open_output(path: Option<&Path>) -> anyhow::Result<Box<dyn Write>> {
    Ok(match path {
        Some(p) => Box::new(BufWriter::new(
            File::create(p).with_context(|| format!("{}: cannot create", p.display()))?,
        )),
        None => Box::new(BufWriter::new(std::io::stdout().lock())),
    })
}

pub fn run(db: &Path, args: Args) -> Outcome {
    let store = open_existing(db)?;
    store.require_session(&args.session)?;
    let mut out = open_output(args.output.as_deref())?;
    match args.format {
        Format::Jsonl => {
            write_jsonl(&store, &args.session, &mut out)?;
        }
    }
    out.flush()?;
    Ok(exit::OK)
}
