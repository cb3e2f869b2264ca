//! `flightrec export SESSION --format FORMAT [-o FILE] [--redact …]`

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use anyhow::Context;

use super::redact_args::RedactArgs;
use super::{Outcome, exit, open_existing};
use flightrec::export::SessionDoc;
use flightrec::export::jsonl::{one_line, write_jsonl};
use flightrec::export::tape::{TapeOptions, write_tape};
use flightrec::redact::redact_doc;

#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
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
    #[command(flatten)]
    redact: RedactArgs,
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
    // Bad rules and flags are reported before anything is read or created.
    let redactor = args.redact.redactor()?;
    if args.format != Format::Tape && (args.compress || args.no_capture_log) {
        anyhow::bail!("--compress and --no-capture-log apply to --format tape only");
    }
    let store = open_existing(db)?;
    store.require_session(&args.session)?;
    if args.format == Format::Jsonl && redactor.is_none() {
        // Streamed from the store: no need to hold the session in memory.
        let mut out = open_output(args.output.as_deref())?;
        write_jsonl(&store, &args.session, &mut out)?;
        out.flush()?;
        return Ok(exit::OK);
    }
    // Every other path reads the whole session once, and redacts it before any format sees it.
    let mut doc = SessionDoc::load(&store, &args.session)?;
    let manifest = redactor.as_ref().map(|r| redact_doc(&mut doc, r));
    let manifest_json = manifest.as_ref().map(serde_json::to_value).transpose()?;
    let mut out = open_output(args.output.as_deref())?;
    match args.format {
        Format::Jsonl => {
            for e in &doc.events {
                out.write_all(one_line(&e.raw).as_bytes())?;
                out.write_all(b"\n")?;
            }
        }
        Format::Tape => {
            let origins = store.preview_origins(&args.session)?;
            let exported_at = flightrec::record::now();
            let opts = TapeOptions {
                capture_log: !args.no_capture_log,
                compress: args.compress,
                redaction: manifest_json.as_ref(),
                exported_at: &exported_at,
            };
            write_tape(&doc, &origins, &opts, &mut out)?;
        }
    }
    out.flush()?;
    if let Some(m) = &manifest {
        eprintln!("{}", m.summary_line());
    }
    Ok(exit::OK)
}
