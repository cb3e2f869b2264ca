//! `flightrec record SESSION`

use indicatif::{ProgressBar, ProgressStyle};
use std::path::Path;
use std::time::Duration;

use super::api_args::{ApiArgs, recorder_runtime, shutdown_signal};
use super::args::parse_duration as duration;
use super::{Outcome, exit, open_existing, output, resolve};
use flightrec::analysis::text::thousands;
use flightrec::record::live::{
    RecordError, RecordOptions, Report, Stopped, Until, Watchers, record,
};

#[derive(Clone, Copy, clap::ValueEnum)]
enum UntilArg {
    /// The session is idle (no workflow run open) or has ended
    Idle,
    /// The session is terminated or deleted
    Terminated,
    /// Until Ctrl-C
    Never,
}

#[derive(clap::Args)]
pub struct Args {
    /// The session id; or a unique prefix or suffix of a recorded one, latest or latest-stuck
    session: String,
    /// When to stop
    #[arg(long, value_enum, default_value = "idle")]
    until: UntilArg,
    /// Also record live previews (event_start / event_delta)
    #[arg(long)]
    deltas: bool,
    /// Reconnect when no byte (not even a ping) arrives for this long
    #[arg(long, value_name = "DUR", default_value = "120s", value_parser = duration)]
    idle_timeout: Duration,
    /// Give up when nothing succeeds for this long
    #[arg(long, value_name = "DUR", default_value = "10m", value_parser = duration)]
    give_up_after: Duration,
    /// Stop (exit 7) if the stop condition is not met within this time
    #[arg(long, value_name = "DUR", value_parser = duration)]
    timeout: Option<Duration>,
    /// Do not record child threads' own streams
    #[arg(long)]
    no_threads: bool,
    /// Events per history page
    #[arg(long, default_value = "1000", value_name = "N")]
    page_size: u32,
    /// Only page through the event log once, without the stream (for finished sessions)
    #[arg(long)]
    no_stream: bool,
    /// No status line
    #[arg(long, short)]
    quiet: bool,
    /// Print the final report as JSON
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    api: ApiArgs,
}

pub fn run(db: &Path, mut args: Args) -> Outcome {
    // A prefix, a suffix or `latest` names a session already recorded; a name that matches
    // none is taken as the id of a session not recorded yet.
    // A database that cannot be read here (an older schema) is the recorder's to upgrade.
    if let Some(store) = db.exists().then(|| open_existing(db).ok()).flatten() {
        args.session = resolve::session_id_or_itself(&store, &args.session)?;
    }
    if !flightrec::model::is_session_id(&args.session) {
        anyhow::bail!(
            "{:?} is not a session id (sesn_ followed by letters and digits)",
            args.session
        );
    }
    let client = args.api.client()?;
    let opts = RecordOptions {
        session: args.session.clone(),
        until: match args.until {
            UntilArg::Idle => Until::Idle,
            UntilArg::Terminated => Until::Terminated,
            UntilArg::Never => Until::Never,
        },
        deltas: args.deltas,
        idle_timeout: args.idle_timeout,
        give_up_after: args.give_up_after,
        threads: !args.no_threads,
        page_size: args.page_size.clamp(1, 1000),
        history_only: args.no_stream,
        metrics: None,
    };
    let rt = recorder_runtime()?;
    let quiet = args.quiet;
    let timeout = args.timeout;
    let session = args.session.clone();
    let db = db.to_path_buf();
    let db_path = db.clone();
    let result = rt.block_on(async move {
        let shutdown = shutdown_signal();
        let mut bar: Option<ProgressBar> = None;
        let run = record(client, db, opts, shutdown, |w| {
            if !quiet {
                bar = Some(status_line(&session, w));
            }
        });
        let r = match timeout {
            Some(t) => tokio::time::timeout(t, run).await.ok(),
            None => Some(run.await),
        };
        if let Some(b) = bar {
            b.finish_and_clear();
        }
        r
    });
    // Whatever arrived (a timeout and a failure included) is stored: derive from it what reads use.
    if let Some(store) = db_path
        .exists()
        .then(|| flightrec::store::Store::open(&db_path).ok())
        .flatten()
        .filter(|s| matches!(s.session_summary(&args.session), Ok(Some(_))))
    {
        super::import::cache_derived(&store, &[args.session.as_str()]);
    }
    match result {
        None => {
            let t = args.timeout.unwrap_or_default();
            output::error_line(&anyhow::anyhow!(
                "{}: stop condition not met within {t:?}; what arrived is stored, run again to continue",
                args.session
            ));
            Ok(exit::TIMED_OUT)
        }
        Some(Ok(report)) if args.json => {
            output::print_json(&report)?;
            Ok(exit::OK)
        }
        Some(Ok(report)) => {
            output::print(summary(&args.session, &report))?;
            Ok(exit::OK)
        }
        Some(Err(e)) => {
            let code = exit_code(&e);
            output::error_line(&anyhow::Error::new(e).context(args.session.clone()));
            Ok(code)
        }
    }
}

/// The exit code of a recorder's failure.
pub fn exit_code(e: &RecordError) -> u8 {
    match e {
        RecordError::Auth(_) => exit::AUTH,
        RecordError::NotFound(_) => exit::NOT_FOUND,
        RecordError::GaveUp { .. } => exit::GAVE_UP,
        _ => exit::ERROR,
    }
}

fn summary(session: &str, r: &Report) -> String {
    let stopped = match &r.stopped {
        Stopped::Condition(why) => why.clone(),
        Stopped::Interrupted => "interrupted".into(),
    };
    let threads = match (&r.thread_objects, &r.thread_list_error) {
        (Some(n), _) => format!("{n} thread object(s)"),
        (None, Some(e)) => format!("no thread list ({e})"),
        (None, None) => "no thread list".to_string(),
    };
    format!(
        "{session}: {} new, {} updated, {} duplicate, {} previews, {} quarantined over {} connection(s); {threads}; status {}; stopped: {stopped}",
        thousands(r.counts.new),
        thousands(r.counts.updated),
        thousands(r.counts.duplicate),
        thousands(r.counts.previews),
        r.counts.quarantined,
        r.connections,
        r.status.as_deref().unwrap_or("unknown"),
    )
}

/// A spinner line on stderr (drawn only on a terminal), refreshed from the recorder's state.
fn status_line(session: &str, w: Watchers) -> ProgressBar {
    let bar = ProgressBar::new_spinner();
    bar.set_style(
        ProgressStyle::with_template("{spinner} {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_spinner()),
    );
    bar.enable_steady_tick(Duration::from_millis(200));
    let b = bar.clone();
    let session = session.to_string();
    tokio::spawn(async move {
        loop {
            let s = w.snapshots.borrow().clone();
            let l = w.live.borrow().clone();
            let status = s
                .state
                .summary
                .as_ref()
                .and_then(|x| x.status.clone())
                .unwrap_or_else(|| "?".into());
            let events = s.state.summary.as_ref().map(|x| x.event_count).unwrap_or(0);
            let conn = if l.connected {
                "connected".to_string()
            } else {
                "reconnecting".to_string()
            };
            let problem = l
                .last_problem
                .as_deref()
                .map(|p| format!(" · last: {}", flightrec::analysis::text::excerpt(p, 60)))
                .unwrap_or_default();
            b.set_message(format!(
                "{session}: {} events · {status} · {conn} (#{}){problem}",
                thousands(events),
                l.connections
            ));
            if b.is_finished() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
    });
    bar
}
