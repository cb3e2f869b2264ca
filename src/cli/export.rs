//! `flightrec export SESSION --format FORMAT [-o FILE]`, and `--otlp-endpoint URL` to push the
//! session's trace to an OpenTelemetry collector.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Context;

use super::args::parse_duration as duration;
use super::{Outcome, exit, open_existing};
use flightrec::export::SessionDoc;
use flightrec::export::jsonl::write_jsonl;
use flightrec::export::otlp::{encode_protobuf, otlp_request, push::PushTarget, write_otlp_json};
use flightrec::export::perfetto::write_perfetto;

#[derive(Clone, Copy, PartialEq, clap::ValueEnum)]
enum Format {
    /// One event per line, exactly as received
    Jsonl,
    /// Chrome trace event JSON for the Perfetto UI: one track per lane, spans as slices
    Perfetto,
    /// OTLP/JSON: the session as an OpenTelemetry trace (GenAI semantic conventions)
    Otlp,
}

#[derive(clap::Args)]
pub struct Args {
    /// The session id
    session: String,
    /// Output format [default: jsonl, or otlp with --otlp-endpoint]
    #[arg(long, value_enum)]
    format: Option<Format>,
    /// Write to FILE instead of standard output
    #[arg(short, long, value_name = "FILE")]
    output: Option<PathBuf>,
    /// Push the session's trace to this OpenTelemetry collector (OTLP/HTTP protobuf, POST
    /// URL/v1/traces); writes nothing unless -o FILE or --format is given too
    #[arg(long, value_name = "URL")]
    otlp_endpoint: Option<String>,
    /// A header for the push, such as a hosted backend's key (repeatable; values never printed).
    /// OTEL_EXPORTER_OTLP_HEADERS (k1=v1,k2=v2, percent-encoded) is read too; these win
    #[arg(
        long = "otlp-header",
        value_name = "KEY=VALUE",
        requires = "otlp_endpoint"
    )]
    otlp_headers: Vec<String>,
    /// How long to wait for the collector
    #[arg(long, value_name = "DUR", default_value = "30s", value_parser = duration, requires = "otlp_endpoint")]
    otlp_timeout: Duration,
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
    // Check the endpoint and headers before reading anything.
    let target = match &args.otlp_endpoint {
        Some(url) => {
            let env = std::env::var("OTEL_EXPORTER_OTLP_HEADERS").ok();
            let target =
                PushTarget::new(url, env.as_deref(), &args.otlp_headers, args.otlp_timeout)?;
            Some(target)
        }
        None => None,
    };
    let store = open_existing(db)?;
    store.require_session(&args.session)?;
    // With an endpoint, push alone unless asked to write too (-o FILE, or an explicit --format).
    let write = match (&target, &args.output, args.format) {
        (Some(_), None, None) => None,
        (Some(_), _, f) => Some(f.unwrap_or(Format::Otlp)),
        (None, _, f) => Some(f.unwrap_or(Format::Jsonl)),
    };
    // Read once, for the push and the file alike.
    let doc = match (&target, write) {
        (None, None | Some(Format::Jsonl)) => None,
        _ => Some(SessionDoc::load(&store, &args.session)?),
    };
    if let (Some(target), Some(doc)) = (&target, &doc) {
        let req = otlp_request(doc);
        let count: usize = req
            .resource_spans
            .iter()
            .flat_map(|r| &r.scope_spans)
            .map(|s| s.spans.len())
            .sum();
        target.push(encode_protobuf(&req))?;
        eprintln!(
            "pushed {count} spans of {} to {}",
            args.session,
            target.url()
        );
    }
    let Some(format) = write else {
        return Ok(exit::OK);
    };
    let mut out = open_output(args.output.as_deref())?;
    let read = |doc: Option<SessionDoc>| match doc {
        Some(doc) => Ok(doc),
        None => SessionDoc::load(&store, &args.session),
    };
    match format {
        Format::Jsonl => {
            write_jsonl(&store, &args.session, &mut out)?;
        }
        Format::Perfetto => write_perfetto(&read(doc)?, &mut out)?,
        Format::Otlp => write_otlp_json(&read(doc)?, &mut out)?,
    }
    out.flush()?;
    Ok(exit::OK)
}
