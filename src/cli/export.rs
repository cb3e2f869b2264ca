//! `flightrec export SESSION --format FORMAT [-o FILE]`

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use anyhow::Context;

use super::{Outcome, exit, open_existing};
use flightrec::export::SessionDoc;
use flightrec::export::jsonl::write_jsonl;
use flightrec::export::tape::{TapeOptions, write_tape};

#[derive(Clone, Copy, clap::ValueEnum)]
enum Format {
    /// One event per line, exactly as received
    Jsonl,
    /// One self-describing file that `flightrec import`, `serve --tape` and `view` read back
    /// (docs/tape.md)
    Tape,
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
    /// With --format tape: gzip the tape
    #[arg(long)]
    compress: bool,
    /// With --format tape: leave out the capture log (connections, pages, retries, imports)
    #[arg(long)]
    no_capture_log: bool,
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
    if !matches!(args.format, Format::Tape) && (args.compress || args.no_capture_log) {
        anyhow::bail!("--compress and --no-capture-log apply to --format tape only");
    }
    let mut out = open_output(args.output.as_deref())?;
    match args.format {
        Format::Jsonl => {
            write_jsonl(&store, &args.session, &mut out)?;
        }
        Format::Tape => {
            let doc = SessionDoc::load(&store, &args.session)?;
            let origins = store.preview_origins(&args.session)?;
            let exported_at = flightrec::record::now();
            let opts = TapeOptions {
                capture_log: !args.no_capture_log,
                compress: args.compress,
                redaction: None,
                exported_at: &exported_at,
            };
            write_tape(&doc, &origins, &opts, &mut out)?;
        }
    }
    out.flush()?;
    Ok(exit::OK)
}
