//! `flightrec timeline SESSION`

use std::path::Path;

use super::args::WindowArgs;
use super::{Outcome, exit, open_existing, output};
use flightrec::analysis::{TimelineRow, timeline_rows};
use flightrec::model::time::format_duration_micros;
use flightrec::store::{Store, TimelineQuery};

#[derive(clap::Args)]
pub struct Args {
    /// The session id
    session: String,
    /// Only events of this type (repeatable)
    #[arg(long = "type", value_name = "TYPE")]
    types: Vec<String>,
    #[command(flatten)]
    window: WindowArgs,
    /// At most N events
    #[arg(long, value_name = "N")]
    limit: Option<u64>,
    /// Print JSON instead of a table
    #[arg(long)]
    json: bool,
}

pub fn run(db: &Path, args: Args) -> Outcome {
    let store = open_existing(db)?;
    let rows = rows(&store, &args)?;
    if args.json {
        output::print_json(&rows)?;
    } else {
        output::print_styled(table(&rows))?;
    }
    Ok(exit::OK)
}

fn rows(store: &Store, args: &Args) -> anyhow::Result<Vec<TimelineRow>> {
    let summary = store.require_session(&args.session)?;
    let window = args.window.in_session(summary.first_ts)?;
    let q = TimelineQuery {
        types: args.types.clone(),
        since_ts: window.since,
        until_ts: window.until,
        limit: args.limit,
        ..TimelineQuery::default()
    };
    let events = store.events(&args.session, &q)?;
    Ok(timeline_rows(&events, summary.first_ts))
}

/// The timeline of `session` as a table (used by `demo` too).
pub fn session_table(store: &Store, session: &str) -> anyhow::Result<output::Table> {
    let args = Args {
        session: session.to_string(),
        types: vec![],
        window: WindowArgs::default(),
        limit: None,
        json: false,
    };
    Ok(table(&rows(store, &args)?))
}

/// The table of rows. A session whose events came on more than one stream gets a STREAM column
/// ("session" or the thread id), so an event seen on both shows as two rows told apart. With
/// colour on, the TYPE is coloured by kind (as `replay` colours lines) and the ids are dim.
fn table(rows: &[TimelineRow]) -> output::Table {
    use output::Style;
    let streams = rows.iter().any(|r| !r.thread_id.is_empty());
    let mut header = vec!["TIME", "TYPE", "ID", "SUMMARY"];
    if streams {
        header.insert(1, "STREAM");
    }
    let mut t = output::table(&header);
    for r in rows {
        let time = match r.offset_us {
            Some(us) => format!("+{}", format_duration_micros(us)),
            None => flightrec::model::time::untimed_label(r.processed_at.as_deref()),
        };
        let kind = output::event_style(&r.event_type, &r.summary);
        let mut row = vec![
            (Style::Plain, time),
            (kind, r.event_type.clone()),
            (Style::Dim, r.id.clone()),
            (Style::Plain, r.summary.clone()),
        ];
        if streams {
            let stream = if r.thread_id.is_empty() {
                "session"
            } else {
                &r.thread_id
            };
            row.insert(1, (Style::Dim, stream.to_string()));
        }
        t.add_styled_row(row);
    }
    t
}
