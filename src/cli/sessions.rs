//! `flightrec sessions`

use serde::Serialize;
use std::path::Path;

use super::{Outcome, exit, open_existing, output};
use flightrec::model::time::{format_duration_micros, format_micros};
use flightrec::store::SessionSummary;

#[derive(clap::Args)]
pub struct Args {
    /// Print JSON instead of a table
    #[arg(long)]
    json: bool,
}

/// The `--json` shape of one session.
#[derive(Serialize)]
struct SessionJson<'a> {
    id: &'a str,
    title: Option<&'a str>,
    first_event_at: Option<String>,
    last_event_at: Option<String>,
    duration_seconds: Option<f64>,
    event_count: u64,
    status: Option<&'a str>,
    stop_reason: Option<&'a str>,
}

pub fn run(db: &Path, args: Args) -> Outcome {
    let store = open_existing(db)?;
    let sessions = store.sessions()?;
    if args.json {
        let rows: Vec<SessionJson> = sessions.iter().map(to_json).collect();
        output::print_json(&rows)?;
    } else {
        output::print(table(&sessions))?;
    }
    Ok(exit::OK)
}

fn to_json(s: &SessionSummary) -> SessionJson<'_> {
    SessionJson {
        id: &s.id,
        title: s.title.as_deref(),
        first_event_at: s.first_ts.map(format_micros),
        last_event_at: s.last_ts.map(format_micros),
        duration_seconds: duration(s).map(|d| d as f64 / 1e6),
        event_count: s.event_count,
        status: s.status.as_deref(),
        stop_reason: stop_reason(s),
    }
}

/// The stop reason of an idle session: one that has moved on (running, terminated) has none.
fn stop_reason(s: &SessionSummary) -> Option<&str> {
    s.stop_reason
        .as_deref()
        .filter(|_| s.status.as_deref() == Some("idle"))
}

fn duration(s: &SessionSummary) -> Option<i64> {
    Some(s.last_ts? - s.first_ts?)
}

pub fn table(sessions: &[SessionSummary]) -> comfy_table::Table {
    let mut t = output::table(&[
        "SESSION",
        "TITLE",
        "FIRST EVENT",
        "LAST EVENT",
        "DURATION",
        "EVENTS",
        "STATUS",
        "STOP REASON",
    ]);
    for s in sessions {
        t.add_row(vec![
            s.id.clone(),
            s.title.clone().unwrap_or_default(),
            s.first_ts.map(format_micros).unwrap_or_default(),
            s.last_ts.map(format_micros).unwrap_or_default(),
            duration(s).map(format_duration_micros).unwrap_or_default(),
            s.event_count.to_string(),
            s.status.clone().unwrap_or_else(|| "-".into()),
            stop_reason(s).unwrap_or_default().to_string(),
        ]);
    }
    t
}
