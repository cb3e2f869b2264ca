//! `flightrec watch`

use std::path::Path;
use std::time::Duration;

use super::api_args::{ApiArgs, runtime, shutdown_signal};
use super::args::parse_duration as duration;
use super::{Outcome, exit, output};
use flightrec::record::live::{RecordOptions, Stopped, Until};
use flightrec::record::watch::{WatchOptions, watch_sessions};

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
    /// Also serve POST /webhooks/anthropic on ADDR for Anthropic's webhooks, verified with the
    /// signing key in $ANTHROPIC_WEBHOOK_SIGNING_KEY (polling goes on)
    #[arg(long, value_name = "ADDR")]
    webhook_listen: Option<std::net::SocketAddr>,
    /// Follow at most N sessions on a stream at once; others get a history pass each time they
    /// are found or change status
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    max_streams: Option<u32>,
    /// Also delete the sessions whose newest event is older than DUR (90d), now and every hour,
    /// keeping those that need attention and those being recorded (`gc --older-than DUR --keep-stuck`)
    #[arg(long, value_name = "DUR", value_parser = super::args::parse_duration_micros)]
    retain: Option<i64>,
    #[command(flatten)]
    alerts: super::watch_alerts::AlertArgs,
    #[command(flatten)]
    fleet: super::fleet::FleetArgs,
    #[command(flatten)]
    otlp: super::otlp_args::OtlpArgs,
    #[command(flatten)]
    api: ApiArgs,
}

pub fn run(db: &Path, args: Args) -> Outcome {
    let client = args.api.client()?;
    let mut template = RecordOptions {
        session: String::new(),
        until: Until::Idle,
        deltas: args.deltas,
        idle_timeout: args.idle_timeout,
        give_up_after: Duration::from_secs(600),
        threads: true,
        page_size: 1000,
        history_only: false,
        metrics: None,
    };
    let verifier = match args.webhook_listen {
        Some(_) => Some(webhook::signing_key()?),
        None => None,
    };
    let otlp = args.otlp.start(db)?;
    // Restart-safe: the sessions whose recording was interrupted are followed again at once.
    let resume = flightrec::store::Store::open(db)?.interrupted_sessions()?;
    let db = db.to_path_buf();
    let rt = runtime()?;
    let mut signalled = None;
    let result = rt.block_on(async {
        let shutdown = shutdown_signal();
        let thresholds = args.alerts.thresholds();
        let fleet = super::fleet::start(&db, &args.fleet, thresholds, shutdown.clone()).await?;
        template.metrics = Some(fleet.metrics.clone());
        let m = Some(fleet.metrics.clone());
        signalled = Some(shutdown.clone());
        if let Some(retain) = args.retain {
            tokio::spawn(super::gc::retain(db.clone(), retain, shutdown.clone()));
        }
        let (runs, mut fetched) =
            tokio::sync::mpsc::unbounded_channel::<flightrec::record::watch::RunFetched>();
        tokio::spawn(async move {
            while let Some((id, got)) = fetched.recv().await {
                let line = match got {
                    Ok(run) => format!("{id}: deployment run {} stored", run.status),
                    Err(e) => format!("{id}: deployment run not read: {e}"),
                };
                let _ = output::print(line);
            }
        });
        let opts = WatchOptions {
            max_streams: args.max_streams.map(|n| n as usize),
            resume,
            runs: Some(runs),
            ..WatchOptions::new(args.poll)
        };
        let nudges = match (args.webhook_listen, verifier) {
            (Some(addr), Some(v)) => {
                Some(webhook::listen(addr, &db, v, m, shutdown.clone()).await?)
            }
            _ => None,
        };
        let (nudges, _alerting) = super::watch_alerts::start(
            &args.alerts,
            &db,
            args.poll,
            shutdown.clone(),
            nudges,
            alert_metrics(fleet.metrics.clone()),
        );
        let derive = deriver(db.clone());
        anyhow::Ok(
            watch_sessions(
                client,
                db,
                template,
                opts,
                shutdown,
                Some(nudges),
                |outcome| {
                    fleet.ended(outcome);
                    let (id, r) = outcome;
                    if r.is_ok() {
                        // A closed channel means the deriving thread is gone: nothing to do.
                        let _ = derive.send(id.clone());
                    }
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
                },
            )
            .await,
        )
    });
    super::otlp_args::finish(otlp);
    let result = result?;
    // Stopped by SIGTERM or Ctrl-C: a service's normal end (every failure was told as it came).
    let stopped = signalled.is_some_and(|s| *s.borrow());
    match result {
        Ok(_) if stopped => Ok(exit::OK),
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

/// Writes what the reads derive from a session (fold checkpoints, `stats` results, the rules'
/// cache: `import::cache_derived`, as `import` and `record` do) each time one of its recordings
/// ends, so `explain`, `stats` and `check --all` read a watched session as fast as an imported
/// one. On a thread and a connection of its own: the recordings' writer goes on meanwhile (the
/// checkpoints take the write lock for one fold of the session). Ends with the watch.
///
/// When it starts, it also derives, one at a time and only while no recording is waiting, the
/// sessions this build has not derived (written by another build, or before derived data
/// existed), most recently active first: after an upgrade, reads get fast again without a
/// re-import.
fn deriver(db: std::path::PathBuf) -> std::sync::mpsc::Sender<String> {
    let (tx, rx) = std::sync::mpsc::channel::<String>();
    std::thread::spawn(move || {
        let store = match flightrec::store::Store::open(&db) {
            Ok(s) => s,
            Err(e) => {
                output::error_line(&anyhow::Error::from(e).context("writing derived data"));
                return;
            }
        };
        let mut backlog = match flightrec::inspect::underived_sessions(&store) {
            Ok(ids) => ids,
            Err(e) => {
                output::error_line(&anyhow::Error::from(e).context("listing underived sessions"));
                Vec::new()
            }
        };
        if !backlog.is_empty() {
            let _ = output::eprint_line(format!(
                "flightrec: deriving {} sessions this build has not (checkpoints, statistics, \
                 the rules' facts), in the background",
                backlog.len()
            ));
        }
        backlog.reverse();
        loop {
            // Recordings that ended come first; the backlog waits for a quiet moment.
            let first = match rx.try_recv() {
                Ok(id) => id,
                Err(std::sync::mpsc::TryRecvError::Disconnected) => return,
                Err(std::sync::mpsc::TryRecvError::Empty) => match backlog.pop() {
                    Some(id) => id,
                    None => match rx.recv() {
                        Ok(id) => id,
                        Err(_) => return,
                    },
                },
            };
            // Every recording that ended meanwhile, each session once.
            let mut ids = vec![first];
            while let Ok(id) = rx.try_recv() {
                if !ids.contains(&id) {
                    ids.push(id);
                }
            }
            backlog.retain(|b| !ids.contains(b));
            let ids: Vec<&str> = ids.iter().map(String::as_str).collect();
            super::import::cache_derived(&store, &ids);
        }
    });
    tx
}

/// `--webhook-listen`: the signing key and the intake.
mod webhook {
    use std::net::SocketAddr;
    use std::path::Path;
    use tokio::sync::{mpsc, watch};

    use super::output;
    use flightrec::record::metrics::Metrics;
    use flightrec::webhook::{Nudge, Verifier};

    /// The signing key from `ANTHROPIC_WEBHOOK_SIGNING_KEY`: missing, empty or not
    /// `whsec_<base64>` refuses to start.
    pub fn signing_key() -> anyhow::Result<Verifier> {
        let key = std::env::var("ANTHROPIC_WEBHOOK_SIGNING_KEY").unwrap_or_default();
        if key.trim().is_empty() {
            anyhow::bail!(
                "--webhook-listen needs the endpoint's signing key (whsec_...) in ANTHROPIC_WEBHOOK_SIGNING_KEY"
            );
        }
        Verifier::new(&key).map_err(|e| anyhow::anyhow!("ANTHROPIC_WEBHOOK_SIGNING_KEY: {e}"))
    }

    /// Binds `addr`, says where on stdout, and serves the intake in a task until `shutdown`.
    pub async fn listen(
        addr: SocketAddr,
        db: &Path,
        verifier: Verifier,
        metrics: Option<Metrics>,
        mut shutdown: watch::Receiver<bool>,
    ) -> anyhow::Result<mpsc::UnboundedReceiver<Nudge>> {
        use anyhow::Context as _;
        let store = flightrec::store::Store::open(db)?;
        let listener = tokio::net::TcpListener::bind(addr)
            .await
            .with_context(|| format!("--webhook-listen: cannot listen on {addr}"))?;
        let bound = listener.local_addr().context("reading the bound address")?;
        output::print(format!(
            "webhooks: listening on http://{bound}{}",
            flightrec::serve::webhooks::PATH
        ))?;
        let (tx, rx) = mpsc::unbounded_channel();
        tokio::spawn(async move {
            let stop = async move {
                let _ = shutdown.wait_for(|s| *s).await;
            };
            flightrec::serve::webhooks::run(listener, store, verifier, tx, metrics, stop).await;
        });
        Ok(rx)
    }
}

/// Counts each alert that fires or resolves in `flightrec_alerts_total{rule,state}`.
fn alert_metrics(
    m: flightrec::record::metrics::Metrics,
) -> impl FnMut(&flightrec::record::alerts::AlertEvent) + Send + 'static {
    move |e| {
        if let flightrec::record::alerts::AlertEvent::Transition { rule, state, .. } = e {
            m.alert(rule, state.as_str());
        }
    }
}
