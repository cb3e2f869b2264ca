//! `flightrec search QUERY`
//!
//! Full-text search over what was said and done: messages, tool names, inputs and results,
//! outcomes and errors. The index is brought up to date first (only what changed since the last
//! search is read). On a database this process cannot write, or one another writer keeps locked
//! past the busy timeout, the index is searched as it is and a warning on stderr says how many
//! events it misses.

use serde::Serialize;
use std::path::Path;

use super::args::WindowArgs;
use super::{Outcome, exit, open_existing, output, resolve};
use flightrec::analysis::text::excerpt;
use flightrec::model::time::format_micros;
use flightrec::store::{SearchHit, SearchOrder, SearchQuery, Stale, Store};

/// Default number of hits shown.
const DEFAULT_LIMIT: u64 = 20;

/// Characters of a snippet shown in the table (the JSON has it whole).
const SNIPPET_CHARS: usize = 160;

#[derive(clap::Args)]
#[command(
    mut_arg("since", |a| a.help("Only events at or after TIME: 1h, 30m, 2d (ago), a date, RFC 3339, or +DUR after the start of --session")),
    mut_arg("until", |a| a.help("Only events at or before TIME (the forms of --since)"))
)]
pub struct Args {
    /// Words to find, all required (`get_weather`, `test_auth.py`, `"rm -rf"` or `-- rm -rf`; `pre*` for a prefix)
    #[arg(required = true, num_args = 1.., value_name = "QUERY")]
    query: Vec<String>,
    /// Only in this session (its id, a unique prefix or suffix, latest or latest-stuck)
    #[arg(long, value_name = "SESSION")]
    session: Option<String>,
    /// Only events of this type (repeatable)
    #[arg(long = "type", value_name = "TYPE")]
    types: Vec<String>,
    #[command(flatten)]
    window: WindowArgs,
    /// At most N hits (0: all)
    #[arg(long, value_name = "N", default_value_t = DEFAULT_LIMIT)]
    limit: u64,
    /// Order: best match first (rank), or by processed_at (time)
    #[arg(long, value_name = "ORDER", default_value = "rank", value_parser = ["rank", "time"])]
    sort: String,
    /// Pass QUERY to SQLite FTS5 as is (AND, OR, NOT, NEAR, "phrases", prefix*, ^start)
    #[arg(long)]
    raw_fts: bool,
    /// Print JSON instead of a table
    #[arg(long)]
    json: bool,
}

/// The `--json` shape of one hit.
#[derive(Serialize)]
struct HitJson<'a> {
    session_id: &'a str,
    event_id: &'a str,
    #[serde(rename = "type")]
    event_type: &'a str,
    processed_at: Option<&'a str>,
    thread_id: &'a str,
    /// Matched words between » and «, cuts marked with …
    snippet: &'a str,
    /// bm25: lower is a better match.
    score: f64,
}

pub fn run(db: &Path, args: Args) -> Outcome {
    let mut store = open(db)?;
    let session = match &args.session {
        Some(name) => Some(resolve::session_id(&store, name)?),
        None => None,
    };
    // +DURATION counts from the first event of --session; without it there is no one start.
    let window = match &session {
        Some(id) => args
            .window
            .in_session(store.require_session(id)?.first_ts)?,
        None => args.window.without_session()?,
    };
    let q = SearchQuery {
        text: args.query.join(" "),
        raw_fts: args.raw_fts,
        session,
        types: args.types.clone(),
        since_ts: window.since,
        until_ts: window.until,
        // One more than shown, to tell whether there are more.
        limit: (args.limit > 0).then(|| args.limit.saturating_add(1)),
        order: match args.sort.as_str() {
            "time" => SearchOrder::Time,
            _ => SearchOrder::Rank,
        },
    };
    let results = store.search(&q)?;
    let mut hits = results.hits;
    let shown = usize::try_from(args.limit).unwrap_or(usize::MAX);
    let more = args.limit > 0 && hits.len() > shown;
    if more {
        hits.truncate(shown);
    }

    if let Some(why) = results.index.stale_because {
        let why = match why {
            Stale::ReadOnly => "cannot be written by this user",
            Stale::Busy => "is busy with another writer",
        };
        output::eprint_line(format!(
            "flightrec: warning: {} {why}: searched the index as it is, which misses {} events",
            db.display(),
            results.index.stale
        ))?;
    }
    if args.json {
        let rows: Vec<HitJson> = hits.iter().map(to_json).collect();
        output::print_json(&rows)?;
    } else if hits.is_empty() {
        output::eprint_line(format!("flightrec: no events match {}", q.text))?;
    } else {
        output::print_styled(table(&hits, args.session.is_none()))?;
        if more {
            output::eprint_line(format!(
                "flightrec: {} hits shown, more match; --limit N for more, --limit 0 for all",
                args.limit
            ))?;
        }
    }
    Ok(exit::OK)
}

/// Opens the database for writing (to update the index); failing that (a file or directory this
/// user cannot write), read-only, so the index it has can still be searched.
fn open(db: &Path) -> anyhow::Result<Store> {
    match Store::open_existing(db) {
        Ok(store) => Ok(store),
        Err(e) => open_existing(db).or(Err(e.into())),
    }
}

fn to_json(h: &SearchHit) -> HitJson<'_> {
    HitJson {
        session_id: &h.session_id,
        event_id: &h.event_id,
        event_type: &h.event_type,
        processed_at: h.processed_at.as_deref(),
        thread_id: &h.thread_id,
        snippet: &h.snippet,
        score: h.score,
    }
}

fn table(hits: &[SearchHit], with_session: bool) -> output::Table {
    let mut header = vec!["TIME", "TYPE", "ID", "MATCH"];
    if with_session {
        header.insert(0, "SESSION");
    }
    let mut t = output::table(&header);
    for h in hits {
        let mut row = vec![
            h.ts.map(format_micros).unwrap_or_else(|| {
                flightrec::model::time::untimed_label(h.processed_at.as_deref())
            }),
            h.event_type.clone(),
            h.event_id.clone(),
            excerpt(&h.snippet, SNIPPET_CHARS),
        ];
        if with_session {
            row.insert(0, h.session_id.clone());
        }
        t.add_row(row);
    }
    t
}
