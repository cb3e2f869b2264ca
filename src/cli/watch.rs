//! `flightrec watch`

use std::path::Path;
use std::time::Duration;

use super::api_args::{ApiArgs, runtime, shutdown_signal};
use super::args::parse_duration as duration;
use super::{Outcome, exit, output};
use flightrec::record::live::{RecordOptions, Stopped, Until};
use flightrec::record::watch::watch_sessions;

#[derive(clap::Args)]
pub struct Args {
    /// How often to look for sessions that started running
    #[arg(long, value_name = "DUR", default_value = "5s", value_parser = duration)]
    poll: Duration,
    /// Reconnect when no byte (not even a ping) arrives for this long
    #[arg(long, value_name = "DUR", default_value = "120s", value_parser = duration)]
    idle_timeout: Duration,
    /// Also record live previews (event_start / event_delta)
    #[arg(long)]
    deltas: bool,
    #[command(flatten)]
    api: ApiArgs,
}

pub fn run(db: &Path, args: Args) -> Outcome {
    let client = args.api.client()?;
    let template = RecordOptions {
        session: String::new(),
        until: Until::Idle,
        deltas: args.deltas,
        idle_timeout: args.idle_timeout,
        give_up_after: Duration::from_secs(600),
        threads: true,
        page_size: 1000,
        history_only: false,
    };
    let db = db.to_path_buf();
    let rt = runtime()?;
    let result = rt.block_on(async move {
        let shutdown = shutdown_signal();
        watch_sessions(client, db, template, args.poll, shutdown, |(id, r)| {
            let line = match r {
                Ok(rep) => format!(
                    "{id}: {} new events; {}",
                    rep.counts.new,
                    match &rep.stopped {
                        Stopped::Condition(w) => w.clone(),
                        Stopped::Interrupted => "interrupted".into(),
                    }
                ),
                Err(e) => format!("{id}: {e}"),
            };
            let _ = output::print(line);
        })
        .await
    });
    match result {
        Ok(outcomes) if outcomes.iter().all(|(_, r)| r.is_ok()) => Ok(exit::OK),
        Ok(_) => Ok(exit::ERROR),
        Err(e) => {
            let code = match e.status() {
                Some(401 | 403) => exit::AUTH,
                _ => exit::ERROR,
            };
            output::error_line(&anyhow::Error::new(e));
            Ok(code)
        }
    }
}
