//! `flightrec tail SESSION` and `flightrec timeline SESSION --follow`: a session's events as any
//! process (record, watch, import) stores them, like `tail -f`.
//!
//! The store is polled every [`POLL`]: `PRAGMA data_version` says whether anything was committed
//! since the last look, and only then are the arrivals read, by `seq` (arrival order), each once.
//! An event older than one already shown (a backfilled page) is marked late; a newer copy of an
//! event already shown keeps its `seq` and is not shown again. Lines are timeline's
//! ([`super::timeline::line`]), coloured as replay colours them. On a terminal a status line
//! at the bottom says what `explain` says of the session and how long it has been silent.
//! Ctrl-C ends it (exit 0); so does the session's end (terminated or deleted).

mod screen;

use std::io::IsTerminal;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use screen::{Screen, interrupted};

use super::api_args::ApiArgs;
use super::args::{DEFAULT_STUCK_AFTER, parse_duration_micros};
use super::attach::{self, Attached};
use super::explain::{explain_session, text, wall_clock};
use super::output::{self, Painter};
use super::{Outcome, exit, open_existing, resolve, timeline};
use flightrec::analysis::explain::Explanation;
use flightrec::analysis::timeline_rows;
use flightrec::model::time::format_duration_micros;
use flightrec::store::{EventRow, SessionSummary, Store};

/// How often the store is looked at.
const POLL: Duration = Duration::from_millis(100);
/// Events of the database scanned per read while catching up.
const SCAN: u64 = 2000;
/// How often the status line's verdict is worked out again while nothing arrives (it turns to
/// stalled with time alone); the silence counter moves every second.
/// How long a recorder may take to finish at the idle before it is stopped.
const RECORDER_GRACE: Duration = Duration::from_secs(10);
const REEXPLAIN: Duration = Duration::from_secs(5);
/// At most this often when events arrive (explaining reads the whole session).
const REEXPLAIN_BUSY: Duration = Duration::from_millis(500);

#[derive(clap::Args)]
pub struct Args {
    /// The session id
    session: String,
    /// Print the last N events first
    #[arg(short = 'n', long = "lines", default_value = "10", value_name = "N")]
    lines: u64,
    /// Only events of this type (repeatable)
    #[arg(long = "type", value_name = "TYPE")]
    types: Vec<String>,
    #[command(flatten)]
    follow: FollowArgs,
}

/// The options of following, shared by `tail` and `timeline --follow`.
#[derive(clap::Args)]
pub struct FollowArgs {
    /// Stop at the session's next idle (or its end) and print explain's verdict; exit 1 when
    /// it needs attention, as `check` does
    #[arg(long)]
    pub until_idle: bool,
    /// For the status line and --until-idle: a running session with no event for longer than
    /// this is stalled
    #[arg(long, value_name = "DUR", default_value = DEFAULT_STUCK_AFTER, value_parser = parse_duration_micros)]
    pub stuck_after: i64,
    /// Also record the session from the API while following (as `flightrec record` does,
    /// until the session is terminated or Ctrl-C); the database is created if need be
    #[arg(long)]
    pub record: bool,
    #[command(flatten, next_help_heading = "Recording (--record)")]
    pub api: ApiArgs,
}

/// The database to follow, the recorder started for `--record`, and the session's id.
pub type Opened = (Store, Option<Attached>, String);

/// Opens the database for following `session` (a name as `resolve` takes it), and the id it
/// names: with `--record`, once the recorder started here has stored the session (a name that
/// matches no recorded session is then the id of a new one, as `record` takes it). `Err(code)`
/// when there is nothing to follow (the recorder failed, or Ctrl-C came first).
pub fn open(
    db: &std::path::Path,
    session: &str,
    opts: &FollowArgs,
) -> anyhow::Result<Result<Opened, u8>> {
    if !opts.record {
        let store = open_existing(db)?;
        let id = resolve::session_id(&store, session)?;
        return Ok(Ok((store, None, id)));
    }
    let id = match db.exists().then(|| open_existing(db).ok()).flatten() {
        Some(store) => resolve::session_id_or_itself(&store, session)?,
        None => session.to_string(),
    };
    let mut rec = attach::start(db, &id, &opts.api, opts.until_idle)?;
    match attach::wait_for_session(db, &mut rec, &|| interrupted().load(Ordering::Relaxed))? {
        Ok(store) => Ok(Ok((store, Some(rec), id))),
        Err(code) => Ok(Err(rec.stop().unwrap_or(code))),
    }
}

pub fn run(db: &std::path::Path, args: Args) -> Outcome {
    let (store, rec, id) = match open(db, &args.session, &args.follow)? {
        Ok(opened) => opened,
        Err(code) => return Ok(code),
    };
    let summary = store.require_session(&id)?;
    let cursor = store.max_seq()?;
    let mut backlog = store.last_events(&summary.id, args.lines, cursor)?;
    if !args.types.is_empty() {
        // The last N of these types: read them as timeline reads them.
        let q = flightrec::store::TimelineQuery {
            types: args.types.clone(),
            ..Default::default()
        };
        backlog = store.events(&summary.id, &q)?;
        backlog.retain(|e| e.seq <= cursor);
        let skip = backlog.len().saturating_sub(args.lines as usize);
        backlog.drain(..skip);
    }
    let from = Start {
        summary,
        backlog,
        cursor,
    };
    follow(&store, from, &args.types, &args.follow, rec)
}

/// Where following starts: the session, the events shown first, the newest `seq` they cover.
pub struct Start {
    pub summary: SessionSummary,
    pub backlog: Vec<EventRow>,
    pub cursor: i64,
}

/// What ends following, besides Ctrl-C and the session's end: an arrival (then explain's
/// verdict is printed, as with `--until-idle`), or a deadline.
pub struct End<'a> {
    /// Whether a stored event ends it.
    pub arrival: &'a dyn Fn(&EventRow) -> bool,
    /// When to give up: the exit code is [`exit::TIMED_OUT`], after this one-line message.
    pub deadline: Option<(Instant, String)>,
    /// How long a recorder may take to end by itself at the end before it is stopped.
    pub grace: Duration,
}

/// Prints `backlog`, then every event of the session stored after `seq` `cursor`, until Ctrl-C,
/// the session's end, or (with `--until-idle`) its next idle.
/// A recorder started with `--record` is stopped at the end; its failure is the exit code.
pub fn follow(
    store: &Store,
    from: Start,
    types: &[String],
    opts: &FollowArgs,
    rec: Option<Attached>,
) -> Outcome {
    let idle = |e: &EventRow| opts.until_idle && e.event_type == "session.status_idle";
    let end = End {
        arrival: &idle,
        deadline: None,
        grace: RECORDER_GRACE,
    };
    follow_to(store, from, types, opts, rec, &end)
}

/// [`follow`], ended by `end`.
pub fn follow_to(
    store: &Store,
    from: Start,
    types: &[String],
    opts: &FollowArgs,
    mut rec: Option<Attached>,
    end: &End<'_>,
) -> Outcome {
    // Lines must show as they come: no pager from here on (what was held is printed now).
    output::unpaged()?;
    let outcome = follow_until_done(store, from, types, opts, &mut rec, end);
    match rec.and_then(Attached::stop) {
        Some(code) => Ok(code),
        None => outcome,
    }
}

fn follow_until_done(
    store: &Store,
    Start {
        summary,
        backlog,
        cursor,
    }: Start,
    types: &[String],
    opts: &FollowArgs,
    rec: &mut Option<Attached>,
    until: &End<'_>,
) -> Outcome {
    let interrupted = interrupted();
    let terminal = std::io::stdout().is_terminal();
    let mut f = Follower {
        origin: summary.first_ts,
        newest_ts: None,
        color: output::painter().color,
        screen: Screen::new(terminal),
        status: None,
        stale: false,
    };
    f.show(&backlog, false)?;
    let id = summary.id.clone();
    if ended(summary.status.as_deref()) {
        return f.finish(store, &id, opts, rec, until.grace);
    }
    f.refresh(store, &id, opts)?;
    let (mut cursor, mut version) = (cursor, store.data_version()?);
    loop {
        if interrupted.load(Ordering::Relaxed) {
            f.screen.clear();
            return Ok(exit::OK);
        }
        if let Some(code) = rec.as_mut().and_then(Attached::failed) {
            f.screen.clear();
            return Ok(code);
        }
        if let Some((_, why)) = until
            .deadline
            .as_ref()
            .filter(|(d, _)| Instant::now() >= *d)
        {
            f.screen.clear();
            output::error_line(&anyhow::anyhow!("{why}"));
            return Ok(exit::TIMED_OUT);
        }
        // A recorder that stopped at the idle (by itself) has stored all it will: what is read
        // next is the last, and then it is the idle's turn.
        let recorder_done = opts.until_idle && rec.as_ref().is_some_and(Attached::ended);
        let now = store.data_version()?;
        let mut end = recorder_done;
        if now != version {
            version = now;
            end |= f.catch_up(store, &id, &mut cursor, types, until.arrival)?;
        }
        if end {
            return f.finish(store, &id, opts, rec, until.grace);
        }
        f.refresh(store, &id, opts)?;
        std::thread::sleep(POLL);
    }
}

/// Whether a session status means nothing more will happen.
fn ended(status: Option<&str>) -> bool {
    matches!(status, Some("terminated" | "deleted"))
}

/// The session status a session-level event type sets.
fn type_status(event_type: &str) -> Option<&str> {
    match event_type {
        "session.status_terminated" => Some("terminated"),
        "session.deleted" => Some("deleted"),
        _ => None,
    }
}

struct Follower {
    origin: Option<i64>,
    /// The newest `processed_at` shown: an event older than it is late.
    newest_ts: Option<i64>,
    color: bool,
    screen: Screen,
    /// The status line's explanation and when it was worked out.
    status: Option<(Explanation, Instant)>,
    /// Whether events arrived since.
    stale: bool,
}

impl Follower {
    /// One line per event, in the order given; `arrivals` marks those older than one shown.
    fn show(&mut self, events: &[EventRow], arrivals: bool) -> std::io::Result<()> {
        // A session created by a recorder before its first event: times from that event.
        self.origin = self.origin.or_else(|| events.iter().find_map(|e| e.ts));
        for r in timeline_rows(events, self.origin) {
            let ts = r.offset_us.zip(self.origin).map(|(o, origin)| o + origin);
            let late = arrivals && ts.is_some_and(|t| self.newest_ts.is_some_and(|n| t < n));
            self.newest_ts = self.newest_ts.max(ts);
            let line = paint(
                self.color,
                &r.event_type,
                &r.summary,
                &timeline::line(&r, late),
            );
            self.screen.line(&line)?;
        }
        Ok(())
    }

    /// Shows every event of the session stored after `cursor` (of `types`, when given), a
    /// chunk of the database at a time, moving `cursor` past them. Whether one of them ends the
    /// following: the session's end, or one `ends` (whatever `types` says).
    fn catch_up(
        &mut self,
        store: &Store,
        id: &str,
        cursor: &mut i64,
        types: &[String],
        ends: &dyn Fn(&EventRow) -> bool,
    ) -> anyhow::Result<bool> {
        let mut end = false;
        loop {
            let mut a = store.arrivals(id, *cursor, SCAN)?;
            if a.through == *cursor {
                return Ok(end);
            }
            *cursor = a.through;
            end |= a
                .events
                .iter()
                .any(|e| ended(type_status(&e.event_type)) || ends(e));
            a.events
                .retain(|e| types.is_empty() || types.contains(&e.event_type));
            self.show(&a.events, true)?;
            self.stale |= !a.events.is_empty();
        }
    }

    /// Redraws the status line (on a terminal only): the verdict again when it is stale.
    fn refresh(&mut self, store: &Store, id: &str, opts: &FollowArgs) -> anyhow::Result<()> {
        if !self.screen.drawn() {
            return Ok(());
        }
        let due = |at: &Instant| {
            at.elapsed() >= REEXPLAIN || (self.stale && at.elapsed() >= REEXPLAIN_BUSY)
        };
        if self.status.as_ref().is_none_or(|(_, at)| due(at)) {
            self.status = Some((explain_now(store, id, opts)?, Instant::now()));
            self.stale = false;
        }
        if let Some((x, at)) = &self.status {
            self.screen.status(status_text(x, at.elapsed()));
        }
        Ok(())
    }

    /// The end: explain's verdict with `--until-idle` (exit 1 when it needs attention), else a
    /// note that the session is over.
    fn finish(
        self,
        store: &Store,
        id: &str,
        opts: &FollowArgs,
        rec: &mut Option<Attached>,
        grace: Duration,
    ) -> Outcome {
        self.screen.clear();
        // A recorder stops at the idle by itself after its last check; explain what it proved.
        if let Some(code) = rec.take().and_then(|r| r.finish(grace)) {
            return Ok(code);
        }
        let x = explain_now(store, id, opts)?;
        if opts.until_idle {
            output::print(text(&x))?;
            return Ok(if x.attention {
                exit::ATTENTION
            } else {
                exit::OK
            });
        }
        output::eprint_line(format!(
            "flightrec: {id} is {}: nothing more will come",
            x.state
        ))?;
        Ok(exit::OK)
    }
}

fn explain_now(store: &Store, id: &str, opts: &FollowArgs) -> anyhow::Result<Explanation> {
    let summary = store.require_session(id)?;
    explain_session(store, &summary, None, wall_clock(), opts.stuck_after)
}

/// The status line: the verdict, how long the session has been silent, explain's summary.
fn status_text(x: &Explanation, since: Duration) -> String {
    let mut s = x.verdict.as_str().to_string();
    if let Some(ms) = x.silent_ms {
        let us = (ms + since.as_millis() as i64) * 1000;
        let secs = us - us % 1_000_000;
        s.push_str(&format!(" · waiting {}", format_duration_micros(secs)));
    }
    if !x.summary.is_empty() {
        s.push_str(" · ");
        s.push_str(&x.summary);
    }
    output::visible(&s).into_owned()
}

/// An event's line, coloured by its kind when `color` (the palette `replay` and `timeline` use). The line is
/// made visible either way.
pub fn paint(color: bool, event_type: &str, summary: &str, line: &str) -> String {
    Painter { color }.paint(output::event_style(event_type, summary), line)
}
