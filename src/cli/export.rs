//! `flightrec export SESSION --format FORMAT [-o FILE] [--redact …]`, and `--otlp-endpoint URL`
//! to push the session's trace to an OpenTelemetry collector.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Context;

use super::args::{
    DEFAULT_STUCK_AFTER, parse_duration as duration, parse_duration_micros, parse_now,
};
use super::explain::wall_clock;
use super::redact_args::RedactArgs;
use super::{Outcome, exit, open_existing, output, resolve};
use flightrec::export::SessionDoc;
use flightrec::export::html::{write_html, write_html_streamed};
use flightrec::export::jsonl::{one_line, write_jsonl, write_jsonl_redacted};
use flightrec::export::md::{write_md, write_md_streamed};
use flightrec::export::otlp::live::MAX_BATCH;
use flightrec::export::otlp::{Trace, encode_protobuf, push::PushTarget, write_otlp_json};
use flightrec::export::perfetto::{write_perfetto, write_perfetto_from_store};
use flightrec::export::stream::Session;
use flightrec::export::tape::{TapeOptions, write_tape, write_tape_streamed};
use flightrec::redact::redact_doc;

#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum Format {
    /// One event per line, exactly as received
    Jsonl,
    /// One self-describing file that `flightrec import`, `serve --tape` and `view` read back
    /// (docs/tape.md)
    Tape,
    /// A readable transcript: the explain verdict, then messages, tool calls and errors
    Md,
    /// One self-contained HTML page: verdict, timeline, searchable events (no network)
    Html,
    /// Chrome trace event JSON for the Perfetto UI: one track per lane, spans as slices
    Perfetto,
    /// OTLP/JSON: the session as an OpenTelemetry trace (GenAI semantic conventions)
    Otlp,
}

#[derive(clap::Args)]
pub struct Args {
    /// The session: its id, a unique prefix or suffix, latest or latest-stuck
    session: String,
    /// Output format [default: jsonl, or otlp with --otlp-endpoint]
    #[arg(long, value_enum)]
    format: Option<Format>,
    /// Write to FILE instead of standard output (`-`: standard output)
    #[arg(short, long, value_name = "FILE")]
    output: Option<PathBuf>,
    /// With --format jsonl: the events of this thread's stream (sthr_…) instead of the session's
    /// own, so that `import --thread` restores them to the same stream
    #[arg(long, value_name = "THREAD")]
    thread: Option<String>,
    /// With --format tape: gzip the tape
    #[arg(long)]
    compress: bool,
    /// With --format tape: leave out the capture log (connections, pages, retries, imports)
    #[arg(long)]
    no_capture_log: bool,
    #[command(flatten)]
    redact: RedactArgs,
    /// Transcripts: a running session with no event for longer than this is stalled
    #[arg(long, value_name = "DUR", default_value = DEFAULT_STUCK_AFTER, value_parser = parse_duration_micros)]
    stuck_after: i64,
    /// The current time (RFC 3339), for tests [default: the wall clock]
    #[arg(long, value_name = "TIME", hide = true, value_parser = parse_now)]
    now: Option<i64>,
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

/// Standard output (none, or `-`), or a new file.
fn open_output(path: Option<&Path>) -> anyhow::Result<Box<dyn Write>> {
    Ok(match path {
        Some(p) if p != Path::new("-") => Box::new(BufWriter::new(
            File::create(p).with_context(|| format!("{}: cannot create", p.display()))?,
        )),
        _ => output::stdout_for_files(),
    })
}

pub fn run(db: &Path, mut args: Args) -> Outcome {
    // Bad rules, flags, endpoints and headers are reported before anything is read or created.
    let redactor = args.redact.redactor()?;
    let target = match &args.otlp_endpoint {
        Some(url) => {
            let env = std::env::var("OTEL_EXPORTER_OTLP_HEADERS").ok();
            let target =
                PushTarget::new(url, env.as_deref(), &args.otlp_headers, args.otlp_timeout)?;
            Some(target)
        }
        None => None,
    };
    // With an endpoint, push alone unless asked to write too (-o FILE, or an explicit --format).
    let write = match (&target, &args.output, args.format) {
        (Some(_), None, None) => None,
        (Some(_), _, f) => Some(f.unwrap_or(Format::Otlp)),
        (None, _, f) => Some(f.unwrap_or(Format::Jsonl)),
    };
    if write != Some(Format::Tape) && (args.compress || args.no_capture_log) {
        anyhow::bail!("--compress and --no-capture-log apply to --format tape only");
    }
    if write != Some(Format::Jsonl) && args.thread.is_some() {
        anyhow::bail!("--thread applies to --format jsonl only (a tape keeps every stream)");
    }
    let thread = args.thread.as_deref().unwrap_or("");
    let store = open_existing(db)?;
    args.session = resolve::session_id(&store, &args.session)?;
    if target.is_none() && write == Some(Format::Jsonl) {
        // Streamed from the store, redacted row by row when asked: the session is never held.
        let mut out = open_output(args.output.as_deref())?;
        let (other, manifest) = match &redactor {
            None => (
                write_jsonl(&store, &args.session, thread, &mut out)?.1,
                None,
            ),
            Some(r) => {
                let session = Session::open(&store, &args.session, Some(r))?;
                let (_, other, m) = write_jsonl_redacted(&session, thread, &mut out)?;
                (other, m)
            }
        };
        out.flush()?;
        note_other_streams(other, thread);
        if let Some(m) = &manifest {
            output::eprint_line(m.summary_line())?;
        }
        return Ok(exit::OK);
    }
    if target.is_none() && matches!(write, Some(Format::Html | Format::Md)) {
        // Streamed: a pass for the facts, verdict and timeline, then one writing the events.
        let session = Session::open(&store, &args.session, redactor.as_ref())?;
        let manifest = session.manifest()?;
        let now = args.now.unwrap_or_else(wall_clock);
        let mut out = open_output(args.output.as_deref())?;
        if write == Some(Format::Md) {
            write_md_streamed(&session, now, args.stuck_after, &mut out)?;
        } else {
            write_html_streamed(&session, now, args.stuck_after, &mut out)?;
        }
        out.flush()?;
        if let Some(m) = &manifest {
            output::eprint_line(m.summary_line())?;
        }
        return Ok(exit::OK);
    }
    if target.is_none() && write == Some(Format::Tape) {
        // Streamed: a redacted tape's header holds the manifest, so redaction tallies it in a
        // first pass that keeps nothing, then redacts each row again as it is written.
        let session = Session::open(&store, &args.session, redactor.as_ref())?;
        let manifest = session.manifest()?;
        let manifest_json = manifest.as_ref().map(serde_json::to_value).transpose()?;
        let exported_at = flightrec::model::time::now();
        let opts = TapeOptions {
            capture_log: !args.no_capture_log,
            compress: args.compress,
            redaction: manifest_json.as_ref(),
            exported_at: &exported_at,
        };
        let mut out = open_output(args.output.as_deref())?;
        write_tape_streamed(&session, &opts, &mut out)?;
        out.flush()?;
        if let Some(m) = &manifest {
            output::eprint_line(m.summary_line())?;
        }
        return Ok(exit::OK);
    }
    if redactor.is_none() && matches!(write, None | Some(Format::Perfetto | Format::Otlp)) {
        // Traces are folded over scans of the store: the events are never held.
        let summary = store.require_session(&args.session)?;
        if let Some(target) = &target {
            push(target, &Trace::from_store(&store, &summary)?, &args.session)?;
        }
        if let Some(format) = write {
            let mut out = open_output(args.output.as_deref())?;
            match format {
                Format::Perfetto => write_perfetto_from_store(&store, &summary, &mut out)?,
                _ => Trace::from_store(&store, &summary)?.write_json(&mut out)?,
            }
            out.flush()?;
        }
        return Ok(exit::OK);
    }
    // Every other path reads the session once, and redacts it before any format or push sees it.
    let mut doc = SessionDoc::load(&store, &args.session)?;
    let manifest = redactor.as_ref().map(|r| redact_doc(&mut doc, r));
    if let Some(target) = &target {
        push(target, &Trace::of_doc(&doc), &args.session)?;
    }
    if let Some(format) = write {
        let mut out = open_output(args.output.as_deref())?;
        match format {
            Format::Jsonl => {
                let mut other = 0;
                for e in &doc.events {
                    if e.thread_id != thread {
                        other += 1;
                        continue;
                    }
                    out.write_all(one_line(&e.raw).as_bytes())?;
                    out.write_all(b"\n")?;
                }
                note_other_streams(other, thread);
            }
            Format::Tape => {
                let manifest_json = manifest.as_ref().map(serde_json::to_value).transpose()?;
                let origins = store.preview_origins(&args.session)?;
                let exported_at = flightrec::model::time::now();
                let opts = TapeOptions {
                    capture_log: !args.no_capture_log,
                    compress: args.compress,
                    redaction: manifest_json.as_ref(),
                    exported_at: &exported_at,
                };
                write_tape(&doc, &origins, &opts, &mut out)?;
            }
            Format::Md | Format::Html => {
                let x = doc.explain(args.now.unwrap_or_else(wall_clock), args.stuck_after);
                match format {
                    Format::Md => write_md(&doc, &x, args.stuck_after, &mut out)?,
                    _ => write_html(&doc, &x, args.stuck_after, &mut out)?,
                }
            }
            Format::Perfetto => write_perfetto(&doc, &mut out)?,
            Format::Otlp => write_otlp_json(&doc, &mut out)?,
        }
        out.flush()?;
    }
    if let Some(m) = &manifest {
        output::eprint_line(m.summary_line())?;
    }
    Ok(exit::OK)
}

/// Pushes the trace `req` of `session` to `target`, and says so on stderr.
fn push(target: &PushTarget, trace: &Trace, session: &str) -> anyhow::Result<()> {
    // In batches, as `watch --otlp-endpoint` sends them: a large session is many requests.
    let (count, requests) = trace.for_each_batch(MAX_BATCH, |req| {
        target
            .push(encode_protobuf(&req))
            .map_err(anyhow::Error::from)
    })?;
    let plural = if requests == 1 { "" } else { "s" };
    output::eprint_line(format!(
        "pushed {count} spans of {session} to {} in {requests} request{plural}",
        target.url()
    ))?;
    Ok(())
}

/// Says on stderr that events of other streams were left out of a JSON Lines export, and how to
/// export them.
fn note_other_streams(other: u64, thread: &str) {
    if other == 0 {
        return;
    }
    let this = if thread.is_empty() {
        "the session's own stream".to_string()
    } else {
        format!("thread {thread}'s stream")
    };
    eprintln!(
        "flightrec: note: exported {this}; {other} events of other streams left out \
         (export each thread with --thread sthr_…, or all streams as a tape)"
    );
}
