//! `flightrec timeline SESSION`

use std::path::Path;

use super::args::WindowArgs;
use super::tail::{self, FollowArgs};
use super::{Outcome, exit, open_existing, output, resolve};
use flightrec::analysis::{TimelineRow, timeline_rows};
use flightrec::model::time::format_duration_micros;
use flightrec::store::{SessionSummary, Store, TimelineQuery};

#[derive(clap::Args)]
pub struct Args {
    /// The session: its id, a unique prefix or suffix, latest or latest-stuck
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
    #[arg(long, conflicts_with = "follow")]
    json: bool,
    /// Then print events as they are stored by any process (record, watch, import), one line
    /// each, until Ctrl-C (or the session's end); `flightrec tail` starts with the last 10
    #[arg(short = 'f', long)]
    follow: bool,
    #[command(flatten)]
    follow_opts: FollowArgs,
}

pub fn run(db: &Path, args: Args) -> Outcome {
    if args.follow {
        return follow(db, &args);
    }
    if args.follow_opts.until_idle || args.follow_opts.record {
        anyhow::bail!("--until-idle and --record are for following: add --follow");
    }
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
    let summary = resolve::session(store, &args.session)?;
    let events = store.events(&summary.id, &query(args, &summary)?)?;
    Ok(timeline_rows(&events, summary.first_ts))
}

/// The events `args` asks for (types, window, limit) in the session `summary`.
fn query(args: &Args, summary: &SessionSummary) -> anyhow::Result<TimelineQuery> {
    let window = args.window.in_session(summary.first_ts)?;
    Ok(TimelineQuery {
        types: args.types.clone(),
        since_ts: window.since,
        until_ts: window.until,
        limit: args.limit,
        ..TimelineQuery::default()
    })
}

/// `--follow`: the window as lines, then what arrives. The newest `seq` is read first, so an
/// event stored while the window is read is shown once, as an arrival.
fn follow(db: &Path, args: &Args) -> Outcome {
    let (store, rec, id) = match tail::open(db, &args.session, &args.follow_opts)? {
        Ok(opened) => opened,
        Err(code) => return Ok(code),
    };
    let summary = store.require_session(&id)?;
    let cursor = store.max_seq()?;
    let mut backlog = store.events(&id, &query(args, &summary)?)?;
    backlog.retain(|e| e.seq <= cursor);
    let from = tail::Start {
        summary,
        backlog,
        cursor,
    };
    tail::follow(&store, from, &args.types, &args.follow_opts, rec)
}

/// The timeline of `session` as a table (used by `demo` too).
pub fn session_table(store: &Store, session: &str) -> anyhow::Result<output::Table> {
    let summary = store.require_session(session)?;
    let events = store.events(session, &TimelineQuery::default())?;
    Ok(table(&timeline_rows(&events, summary.first_ts)))
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
        let [time, stream, event_type, id, summary] = cells(r);
        let kind = output::event_style(&r.event_type, &r.summary);
        let mut row = vec![
            (Style::Plain, time),
            (kind, event_type),
            (Style::Dim, id),
            (Style::Plain, summary),
        ];
        if streams {
            row.insert(1, (Style::Dim, stream));
        }
        t.add_styled_row(row);
    }
    t
}

/// How a row reads: its time (from the session's first event), stream ("session" or the
/// thread id), type, id and summary. The table lays these out; [`line`] puts them on one line.
fn cells(r: &TimelineRow) -> [String; 5] {
    let time = match r.offset_us {
        Some(us) if us < 0 => format!("-{}", format_duration_micros(-us)),
        Some(us) => format!("+{}", format_duration_micros(us)),
        None => flightrec::model::time::untimed_label(r.processed_at.as_deref()),
    };
    let stream = if r.thread_id.is_empty() {
        "session"
    } else {
        &r.thread_id
    };
    [
        time,
        stream.to_string(),
        r.event_type.clone(),
        r.id.clone(),
        r.summary.clone(),
    ]
}

/// A row as one line, for following (a table cannot grow): [`cells`] in fixed columns, with
/// `late` between the time and the stream when the event is older than one already shown.
pub fn line(r: &TimelineRow, late: bool) -> String {
    let [time, stream, event_type, id, summary] = cells(r);
    let late = if late { "late" } else { "" };
    let line = format!("{time:>9} {late:<4}  {stream:<7}  {event_type:<34} {id}  {summary}");
    line.trim_end().to_string()
}
