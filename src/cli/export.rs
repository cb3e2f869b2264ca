//! `flightrec export SESSION --format FORMAT [-o FILE]`

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use anyhow::Context;

use super::args::parse_duration_micros;
use super::explain::{DEFAULT_STUCK_AFTER, parse_now, wall_clock};
use super::{Outcome, exit, open_existing};
use flightrec::export::SessionDoc;
use flightrec::export::html::write_html;
use flightrec::export::jsonl::write_jsonl;
use flightrec::export::md::write_md;

#[derive(Clone, Copy, clap::ValueEnum)]
enum Format {
    /// One event per line, exactly as received
    Jsonl,
    /// A readable transcript: the explain verdict, then messages, tool calls and errors
    Md,
    /// One self-contained HTML page: verdict, timeline, searchable events (no network)
    Html,
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
    /// Transcripts: a running session with no event for longer than this is stalled
    #[arg(long, value_name = "DUR", default_value = DEFAULT_STUCK_AFTER, value_parser = parse_duration_micros)]
    stuck_after: i64,
    /// The current time (RFC 3339), for tests [default: the wall clock]
    #[arg(long, value_name = "TIME", hide = true, value_parser = parse_now)]
    now: Option<i64>,
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
        Format::Md | Format::Html => {
            let doc = SessionDoc::load(&store, &args.session)?;
            let x = doc.explain(args.now.unwrap_or_else(wall_clock), args.stuck_after);
            match args.format {
                Format::Md => write_md(&doc, &x, args.stuck_after, &mut out)?,
                _ => write_html(&doc, &x, args.stuck_after, &mut out)?,
            }
        }
    }
    out.flush()?;
    Ok(exit::OK)
}
