//! `flightrec sessions`: the recorded sessions, most recently active first, filtered in the
//! store (`SessionFilter`); this file only parses and prints. The `--json` array is documented
//! in docs/sessions-json.md.

use serde::Serialize;
use std::path::Path;

use super::args::WindowArgs;
use super::{Outcome, exit, open_existing, output};
use flightrec::model::time::{format_duration_micros, format_micros};
use flightrec::store::{AgentRef, SessionFilter, SessionSummary, Store};

/// The statuses `--status` takes (what the newest `session.status_*` event says).
const STATUSES: [&str; 5] = ["running", "idle", "rescheduling", "terminated", "deleted"];

/// `--stop-reason`: a stop reason's `type`. The union is open (a newer API may add reasons),
/// so any lowercase word is taken; the known ones are in the help.
fn stop_reason_arg(s: &str) -> Result<String, String> {
    let word = !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if word {
        Ok(s.to_string())
    } else {
        Err(format!(
            "'{s}' is not a stop reason: use end_turn, requires_action, retries_exhausted, \
             budget_reached, refusal (or a newer one, in lowercase)"
        ))
    }
}

#[derive(clap::Args)]
#[command(
    mut_arg("since", |a| a.help("Only sessions active at or after TIME (their last event): 1h, 30m, 2d (ago), a date, RFC 3339")
        .long_help("Only sessions active at or after TIME (their last event is at or after it). TIME is 1h, 30m, \
                    2d (that long before now), a date (2026-12-01, taken as midnight UTC) or an RFC 3339 time \
                    (2026-08-07T14:02:11Z).")),
    mut_arg("until", |a| a.help("Only sessions active at or before TIME (their first event): the forms of --since")
        .long_help(None::<&str>))
)]
pub struct Args {
    /// Only sessions in this status (repeatable, or a comma list): running, idle, rescheduling,
    /// terminated, deleted
    #[arg(long = "status", value_name = "STATUS", value_delimiter = ',', value_parser = STATUSES)]
    statuses: Vec<String>,
    /// Only idle sessions stopped for this reason (repeatable, or a comma list): end_turn,
    /// requires_action, retries_exhausted, budget_reached, refusal, or a newer one
    #[arg(long = "stop-reason", value_name = "REASON", value_delimiter = ',', value_parser = stop_reason_arg)]
    stop_reasons: Vec<String>,
    /// Only sessions of this agent: its id (agent_…) or its name (any case), from the session
    /// object or a session.updated event
    #[arg(long, value_name = "NAME_OR_ID")]
    agent: Option<String>,
    #[command(flatten)]
    window: WindowArgs,
    /// At most N sessions, the most recently active
    #[arg(long, value_name = "N")]
    limit: Option<u64>,
    /// Print JSON (an array, one object per session; see docs/sessions-json.md) instead of a table
    #[arg(long)]
    json: bool,
}

/// The `--json` shape of one session (docs/sessions-json.md).
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
    agent_id: Option<String>,
    agent_name: Option<String>,
}

pub fn run(db: &Path, args: Args) -> Outcome {
    let window = args.window.without_session()?;
    let filter = SessionFilter {
        statuses: args.statuses,
        stop_reasons: args.stop_reasons,
        agent: args.agent,
        since_ts: window.since,
        until_ts: window.until,
        limit: args.limit,
    };
    let filtered = filter != SessionFilter::default();
    let store = open_existing(db)?;
    let sessions = store.sessions_matching(&filter)?;
    if filtered && sessions.is_empty() && !args.json {
        output::eprint_line("flightrec: no sessions match these filters")?;
    } else if args.json {
        let rows = sessions
            .iter()
            .map(|s| to_json(&store, s))
            .collect::<anyhow::Result<Vec<SessionJson>>>()?;
        output::print_json(&rows)?;
    } else {
        output::print_styled(table(&sessions))?;
    }
    Ok(exit::OK)
}

fn to_json<'a>(store: &Store, s: &'a SessionSummary) -> anyhow::Result<SessionJson<'a>> {
    let agent = store.session_agent_ref(&s.id)?;
    let (agent_id, agent_name) = match agent {
        Some(AgentRef { id, name }) => (id, name),
        None => (None, None),
    };
    Ok(SessionJson {
        id: &s.id,
        title: s.title.as_deref(),
        first_event_at: s.first_ts.map(format_micros),
        last_event_at: s.last_ts.map(format_micros),
        duration_seconds: duration(s).map(|d| d as f64 / 1e6),
        event_count: s.event_count,
        status: s.status.as_deref(),
        stop_reason: stop_reason(s),
        agent_id,
        agent_name,
    })
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

pub fn table(sessions: &[SessionSummary]) -> output::Table {
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
