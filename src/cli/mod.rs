//! The `flightrec` command line: argument parsing, one file per subcommand, and the one place
//! where errors become messages and exit codes.

mod alerts;
mod api_args;
mod args;
mod at;
mod attach;
mod capture;
mod check;
mod completions;
mod demo;
mod diff;
mod explain;
mod export;
mod fleet;
mod gc;
mod import;
mod man;
mod otlp_args;
mod output;
mod record;
mod redact;
mod redact_args;
mod replay;
mod resolve;
mod search;
mod serve;
mod sessions;
mod spans;
mod state;
mod stats;
mod tail;
mod timeline;
mod unblock;
mod view;
mod watch;
mod watch_alerts;

use clap::{CommandFactory, FromArgMatches, Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;

use flightrec::model::term;
use flightrec::store::Store;

/// Exit codes, documented in the README.
pub mod exit {
    /// Everything worked.
    pub const OK: u8 = 0;
    /// A check found something needing attention (`flightrec check`).
    pub const ATTENTION: u8 = 1;
    /// `flightrec diff`: the two sessions diverge (like diff(1)).
    pub const DIFFERENT: u8 = 1;
    /// An error: bad arguments, unreadable input, a database problem, an unknown session.
    pub const ERROR: u8 = 2;
    /// Imported with problems: some frames were not events and went to quarantine, or an id was
    /// reused by an event of another type (both kept).
    pub const PROBLEMS: u8 = 3;
    /// The API refused the credentials (401/403): the key is missing or wrong.
    pub const AUTH: u8 = 4;
    /// The API has no such session (404).
    pub const NOT_FOUND: u8 = 5;
    /// The server kept failing (5xx, timeouts) for longer than --give-up-after.
    pub const GAVE_UP: u8 = 6;
    /// The stop condition was not met within --timeout.
    pub const TIMED_OUT: u8 = 7;
}

#[derive(Parser)]
#[command(
    name = "flightrec",
    version = env!("FLIGHTREC_VERSION"),
    about = "Flight recorder and replay debugger for Claude Managed Agents sessions"
)]
struct Cli {
    /// The database file [default: flightrec.db in the user's data directory]
    #[arg(long, global = true, env = "FLIGHTREC_DB", value_name = "PATH")]
    db: Option<PathBuf>,

    /// When to colour output: auto (on a terminal, unless NO_COLOR is set), always, never
    #[arg(
        long,
        global = true,
        value_enum,
        default_value = "auto",
        value_name = "WHEN"
    )]
    color: output::ColorWhen,

    /// Print long output directly, not through the pager ($FLIGHTREC_PAGER, $PAGER, less)
    #[arg(long, global = true)]
    no_pager: bool,

    /// Print tables in full, not fitted to the terminal's width
    #[arg(long, global = true)]
    wide: bool,

    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Load the bundled sample logs into a demo database, then show the sessions and a timeline
    Demo(demo::Args),
    /// Import event logs: SSE captures (curl -N), JSON Lines, or list pages (format detected)
    Import(import::Args),
    /// List recorded sessions
    Sessions(sessions::Args),
    /// Show a session's events in order, each with a one-line summary
    Timeline(timeline::Args),
    /// Print a session's last events, then each new one as any process stores it (like tail -f)
    Tail(tail::Args),
    /// Find events by their text: messages, tool names, inputs and results, outcomes, errors
    Search(search::Args),
    /// List a session's spans: tool calls, permission waits, model requests, threads, runs
    Spans(spans::Args),
    /// Why a session is idle or stuck, with the evidence and the request that moves it on
    Explain(explain::Args),
    /// One line per session; exit 1 when any needs attention (blocked, stalled, failed), for cron and CI
    Check(check::Args),
    /// The session's state at a point: statuses, open spans, pending actions, usage, messages, errors
    State(state::Args),
    /// Tokens and cache hits per model, a list-price cost estimate, tool latency, errors by
    /// type and the slowest spans, for one session or every session
    Stats(stats::Args),
    /// Compare two sessions: align their events, show the first divergence (type, tool, input)
    /// and the token, latency, tool-call and error deltas
    #[command(
        after_help = "Exit status: 0 when the sessions are the same step for step, 1 when they diverge, \
                      2 on error (an unknown session, bad arguments, an unreadable database).\n\
                      Ids, times and token usage are not compared step by step; they are reported as deltas."
    )]
    Diff(diff::Args),
    /// Play a session's events in the terminal at the recorded pace, as if watching it live
    Replay(replay::Args),
    /// Write a session out: events as received, a tape, a Markdown or HTML transcript, a Perfetto
    /// or OpenTelemetry trace (or push it to a collector); --redact masks secrets in all of them
    Export(export::Args),
    /// Preview what --redact would mask in a session, and where (writes nothing)
    Redact(redact::Args),
    /// Record a live session over the API: stream and event log merged, reconnecting as needed
    Record(record::Args),
    /// Show how a session was captured: connections, history passes, retries, unproven intervals
    Capture(capture::Args),
    /// Record every session of the workspace that is or becomes running, until Ctrl-C
    Watch(watch::Args),
    /// The alerts watch raised (stuck, silent, failed sessions): open and recent, with their deliveries
    Alerts(alerts::Args),
    /// Delete sessions older than a time, with every row of theirs, and give the space back
    Gc(gc::Args),
    /// Send the event explain proposes (a tool result, allow/deny, an interrupt) to a blocked session
    Unblock(unblock::Args),
    /// Serve the database as the Managed Agents API (replay, live emission, chaos for testing clients)
    Serve(serve::Args),
    /// Open the desktop viewer (flightrec-ui) on this database: timeline, events, why idle, playback
    View(view::Args),
    /// Print a shell completion script (bash, zsh, fish, powershell, elvish); see --help to install
    Completions(completions::Args),
    /// Print the man page (roff), or write one page per command with --dir
    Man(man::Args),
    /// The session ids to complete (called by the completion scripts)
    #[command(name = "__complete-sessions", hide = true)]
    CompleteSessions(completions::SessionArgs),
}

/// What a subcommand reports back: the exit code to use.
pub type Outcome = anyhow::Result<u8>;

pub fn main() -> ExitCode {
    // An argument holding a control character (a file name, an id) that clap quotes back in an
    // error is shown, not obeyed: clap's styles are left out then, so its message is only text.
    let hostile = std::env::args_os().any(|a| a.to_string_lossy().contains(term::is_hazard));
    let parsed = if hostile {
        Cli::command()
            .styles(clap::builder::Styles::plain())
            .try_get_matches()
            .and_then(|m| Cli::from_arg_matches(&m))
    } else {
        Cli::try_parse()
    };
    let cli = match parsed {
        Ok(cli) => cli,
        Err(e) => {
            let code = if e.use_stderr() {
                exit::ERROR
            } else {
                exit::OK
            };
            if !hostile {
                let _ = e.print();
            } else if e.use_stderr() {
                let _ = output::eprint_line(e.render().ansi().to_string().trim_end());
            } else {
                let _ = output::print(e.render().ansi().to_string().trim_end());
            }
            return ExitCode::from(code);
        }
    };
    let db = cli.db.clone();
    output::setup(cli.color, cli.wide, !cli.no_pager && pageable(&cli.command));
    let result = match cli.command {
        Command::Demo(a) => demo::run(db, a),
        Command::Import(a) => import::run(&db_path(db), a),
        Command::Sessions(a) => sessions::run(&db_path(db), a),
        Command::Timeline(a) => timeline::run(&db_path(db), a),
        Command::Tail(a) => tail::run(&db_path(db), a),
        Command::Search(a) => search::run(&db_path(db), a),
        Command::Spans(a) => spans::run(&db_path(db), a),
        Command::Explain(a) => explain::run(&db_path(db), a),
        Command::Check(a) => check::run(&db_path(db), a),
        Command::State(a) => state::run(&db_path(db), a),
        Command::Stats(a) => stats::run(&db_path(db), a),
        Command::Diff(a) => diff::run(&db_path(db), a),
        Command::Replay(a) => replay::run(&db_path(db), a),
        Command::Export(a) => export::run(&db_path(db), a),
        Command::Redact(a) => redact::run(&db_path(db), a),
        Command::Record(a) => record::run(&db_path(db), a),
        Command::Capture(a) => capture::run(&db_path(db), a),
        Command::Watch(a) => watch::run(&db_path(db), a),
        Command::Alerts(a) => alerts::run(&db_path(db), a),
        Command::Gc(a) => gc::run(&db_path(db), a),
        Command::Unblock(a) => unblock::run(&db_path(db), a),
        Command::Serve(a) => serve::run(&db_path(db), a),
        Command::View(a) => view::run(&db_path(db), a),
        Command::Completions(a) => completions::run(a),
        Command::Man(a) => man::run(a),
        Command::CompleteSessions(a) => completions::sessions(db, a),
    };
    output::finish();
    match result {
        Ok(code) => ExitCode::from(code),
        Err(e) if output::is_broken_pipe(&e) => ExitCode::from(exit::OK),
        Err(e) => {
            output::error_line(&e);
            ExitCode::from(exit::ERROR)
        }
    }
}

/// The commands whose output may be long: on a terminal, it goes through the pager.
fn pageable(c: &Command) -> bool {
    use Command::*;
    matches!(
        c,
        Sessions(_)
            | Timeline(_)
            | Search(_)
            | Spans(_)
            | Explain(_)
            | State(_)
            | Stats(_)
            | Diff(_)
            | Capture(_)
            | Redact(_)
    )
}

/// `--db`, else `$FLIGHTREC_DB` (clap reads it), else the user's data directory.
fn db_path(db: Option<PathBuf>) -> PathBuf {
    db.unwrap_or_else(flightrec::store::default_path)
}

/// Opens a database that must already exist, read-only (for reading commands).
fn open_existing(path: &std::path::Path) -> anyhow::Result<Store> {
    Ok(Store::open_reader(path)?)
}
