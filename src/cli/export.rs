//! `flightrec export SESSION --format FORMAT [-o FILE] [--redact …]`

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use anyhow::Context;

use super::redact_args::RedactArgs;
use super::{Outcome, exit, open_existing};
use flightrec::export::SessionDoc;
use flightrec::export::jsonl::{one_line, write_jsonl};
use flightrec::redact::redact_doc;

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
    // Bad rules are reported before anything is read or created.
    let redactor = args.redact.redactor()?;
    let store = open_existing(db)?;
    store.require_session(&args.session)?;
    match (args.format, redactor) {
        (Format::Jsonl, None) => {
            let mut out = open_output(args.output.as_deref())?;
            write_jsonl(&store, &args.session, &mut out)?;
            out.flush()?;
        }
        (Format::Jsonl, Some(redactor)) => {
            let mut doc = SessionDoc::load(&store, &args.session)?;
            let manifest = redact_doc(&mut doc, &redactor);
            let mut out = open_output(args.output.as_deref())?;
            for e in &doc.events {
                out.write_all(one_line(&e.raw).as_bytes())?;
                out.write_all(b"\n")?;
            }
            out.flush()?;
            eprintln!("{}", manifest.summary_line());
        }
    }
    Ok(exit::OK)
}
