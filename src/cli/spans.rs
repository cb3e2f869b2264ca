//! `flightrec spans SESSION`

use std::path::Path;

use super::args::{Window, WindowArgs};
use super::{Outcome, at, exit, open_existing, output, resolve};
use flightrec::analysis::{Span, SpanKind};
use flightrec::inspect;
use flightrec::model::time::format_duration_micros;

#[derive(clap::Args)]
#[command(
    mut_arg("since", |a| a.help("Only spans still going at or after TIME: 1h, 30m, 2d (ago), a date, RFC 3339, or +DUR after the start")),
    mut_arg("until", |a| a.help("Only spans begun at or before TIME (the forms of --since)"))
)]
pub struct Args {
    /// The session: its id, a unique prefix or suffix, latest or latest-stuck
    session: String,
    /// Only spans still open (at the end of the recording, or at --at)
    #[arg(long)]
    open: bool,
    /// Only spans of this kind (repeatable): tool, mcp_tool, custom_tool, permission,
    /// model_request, outcome_evaluation, thread, workflow_run, workflow_phase
    #[arg(long = "kind", value_name = "KIND", value_parser = parse_kind)]
    kinds: Vec<SpanKind>,
    /// The spans as they stood at this point: an event id (or a unique prefix or suffix of one), a time, or +DURATION
    #[arg(long, value_name = "EVENT_ID|TIME")]
    at: Option<String>,
    #[command(flatten)]
    window: WindowArgs,
    /// Print JSON instead of a table
    #[arg(long)]
    json: bool,
}

/// Whether `s` overlaps the window: begun by its end (a span begun before the recording has) and
/// not ended before its start (an open span has not).
fn in_window(s: &Span, w: Window) -> bool {
    let begun = match (w.until, s.start_ts) {
        (Some(until), Some(start)) => start <= until,
        _ => true,
    };
    let going = match (w.since, s.end_ts) {
        (Some(since), Some(end)) => end >= since,
        _ => true,
    };
    begun && going
}

fn parse_kind(s: &str) -> Result<SpanKind, String> {
    SpanKind::parse(s).ok_or_else(|| {
        let all: Vec<&str> = SpanKind::ALL.iter().map(|k| k.as_str()).collect();
        format!("'{s}' is not a span kind: use one of {}", all.join(", "))
    })
}

pub fn run(db: &Path, args: Args) -> Outcome {
    let store = open_existing(db)?;
    let summary = resolve::session(&store, &args.session)?;
    let window = args.window.in_session(summary.first_ts)?;
    let point = match &args.at {
        Some(a) => Some(at::resolve(
            &store,
            &summary,
            a,
            super::explain::wall_clock(),
        )?),
        None => None,
    };
    // The open spans alone come from the checkpoints: the same answer at any session size.
    let mut list = if args.open {
        inspect::open_spans(&store, &summary, point)?
    } else {
        inspect::session_spans(&store, &summary, point)?
    };
    list.retain(|s| {
        (!args.open || s.open)
            && (args.kinds.is_empty() || args.kinds.contains(&s.kind))
            && in_window(s, window)
    });
    if args.json {
        output::print_json(&list)?;
    } else {
        output::print_styled(table(&list, summary.first_ts))?;
    }
    Ok(exit::OK)
}

fn ms(v: f64) -> String {
    format_duration_micros((v * 1000.0) as i64)
}

fn table(list: &[Span], origin: Option<i64>) -> output::Table {
    let mut t = output::table(&[
        "START", "KIND", "NAME", "DURATION", "STATUS", "START ID", "DETAIL",
    ]);
    for s in list {
        let start = match (s.start_ts, origin) {
            (Some(a), Some(o)) => format!("+{}", format_duration_micros(a - o)),
            _ if s.partial => "before the recording".into(),
            _ => flightrec::model::time::untimed_label(s.started_at.as_deref()),
        };
        let duration = match (s.duration_ms, s.age_ms) {
            (Some(d), _) => ms(d),
            (None, Some(age)) => format!("{} so far", ms(age)),
            _ => String::new(),
        };
        let status = if s.open {
            "OPEN"
        } else if s.is_error {
            "error"
        } else {
            "ok"
        };
        let mut detail = s.detail.clone().unwrap_or_default();
        if let Some(u) = &s.usage {
            let tokens = format!(
                "in {} out {} cache r/w {}/{}",
                u.input_tokens,
                u.output_tokens,
                u.cache_read_input_tokens,
                u.cache_creation_input_tokens
            );
            detail = if detail.is_empty() {
                tokens
            } else {
                format!("{detail}; {tokens}")
            };
        }
        if let Some(th) = &s.thread_id {
            detail = if detail.is_empty() {
                th.clone()
            } else {
                format!("{detail}; {th}")
            };
        }
        t.add_row(vec![
            start,
            s.kind.to_string(),
            s.name.clone(),
            duration,
            status.into(),
            s.start_id.clone(),
            detail,
        ]);
    }
    t
}
