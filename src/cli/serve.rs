//! `flightrec serve`: serve a database as the Managed Agents API until Ctrl-C.

use anyhow::Context;
use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;

use super::args::{parse_duration as duration, positive};
use super::{Outcome, exit, output};
use flightrec::analysis::deployment::RunFacts;
use flightrec::serve::{Chaos, ServeOptions, WebhookTarget};
use flightrec::store::Store;
use flightrec::webhook::Verifier;
use flightrec::webhook::outgoing::Chaos as WebhookChaos;

#[derive(clap::Args)]
pub struct Args {
    /// Address to listen on (port 0 picks a free port)
    #[arg(long, default_value = "127.0.0.1:8787", value_name = "ADDR")]
    addr: SocketAddr,
    /// Replay: pace the initial stream replay by the recorded gaps divided by X. Live: the
    /// clock's rate [default: 1]
    #[arg(long, value_name = "X", value_parser = positive)]
    speed: Option<f64>,
    /// Reveal each session progressively from server start, as if it were happening now
    #[arg(long)]
    live: bool,
    /// With --live: shorten recorded gaps longer than DUR (e.g. 2s), so long sessions replay fast
    #[arg(long, value_name = "DUR", value_parser = duration)]
    max_gap: Option<Duration>,
    /// With --live: each session waits at its requires_action idles until a client answers
    /// them (POST …/events, e.g. `flightrec unblock`), then plays on; the recorded answers are
    /// left out
    #[arg(long, requires = "live")]
    hold: bool,
    /// Require this key (as `Authorization: Bearer K` or `x-api-key: K`); prefer the variable,
    /// since a command line is visible to every user in `ps`. Needed to listen on any address
    /// other than loopback
    #[arg(
        long,
        env = "FLIGHTREC_SERVE_API_KEY",
        hide_env_values = true,
        value_name = "K"
    )]
    api_key: Option<String>,
    /// Also answer requests whose Host is NAME (repeatable; `*` for any). Loopback names and the
    /// listening address are always answered; other names are refused, against DNS rebinding
    #[arg(long, value_name = "NAME")]
    allow_host: Vec<String>,
    /// Ping a quiet stream this often (e.g. 15s, 500ms)
    #[arg(long, default_value = "15s", value_name = "DUR", value_parser = duration)]
    ping_interval: Duration,
    /// Chaos: end each stream connection after K event frames
    #[arg(long, value_name = "K")]
    chaos_drop_every: Option<u64>,
    /// Chaos: send every Kth event frame twice
    #[arg(long, value_name = "K")]
    chaos_repeat_every: Option<u64>,
    /// Chaos: write each frame in pieces cut at random byte offsets
    #[arg(long)]
    chaos_split: bool,
    /// Chaos: once per connection, send nothing at all for DUR
    #[arg(long, value_name = "DUR", value_parser = duration)]
    chaos_stall: Option<Duration>,
    /// Chaos: answer this fraction (0 to 1) of event-list requests with 429 or 500
    #[arg(long, value_name = "RATE", default_value = "0", value_parser = rate)]
    chaos_list_errors: f64,
    /// Chaos: send a broken frame before every Kth event frame
    #[arg(long, value_name = "K")]
    chaos_malformed_every: Option<u64>,
    /// Chaos: the seed that makes the chaos repeatable
    #[arg(long, value_name = "N", default_value = "0")]
    chaos_seed: u64,
    /// Close a connection that has not sent a whole request head within DUR
    #[arg(long, default_value = "10s", value_name = "DUR", value_parser = duration)]
    header_timeout: Duration,
    /// Serve at most N connections at once (streams included); more wait to be accepted
    #[arg(long, default_value = "4096", value_name = "N")]
    max_connections: usize,
    /// Keep counters (database calls, open streams) in FILE as JSON, rewritten every 100 ms
    #[arg(long, value_name = "FILE", hide = true)]
    stats_file: Option<std::path::PathBuf>,
    /// With --live: POST the platform's webhooks to URL as each session changes status
    /// (session.created, session.running, session.requires_action, ...), signed with
    /// --webhook-secret (Standard Webhooks)
    #[arg(long, value_name = "URL", requires_all = ["live", "webhook_secret"])]
    webhook_url: Option<String>,
    /// The signing key of --webhook-url (whsec_ followed by base64)
    #[arg(
        long,
        env = "FLIGHTREC_SERVE_WEBHOOK_SECRET",
        hide_env_values = true,
        value_name = "KEY"
    )]
    webhook_secret: Option<String>,
    /// Chaos for --webhook-url, comma-separated: repeat=P (send a delivery twice with chance
    /// P), delay=DUR (hold each send back up to DUR), reorder (swap about half the consecutive
    /// deliveries), seed=N
    #[arg(long, value_name = "SPEC", requires = "webhook_url", value_parser = webhook_chaos)]
    webhook_chaos: Option<WebhookChaos>,
    /// Serve this deployment run object (JSON) at GET /v1/deployment_runs/{id} (repeatable);
    /// with --webhook-url, a failed one is also announced by a deployment_run.failed webhook
    #[arg(long, value_name = "FILE")]
    deployment_run: Vec<std::path::PathBuf>,
    /// Serve this tape (flightrec export --format tape) instead of the database
    #[arg(long, value_name = "FILE")]
    tape: Option<std::path::PathBuf>,
}

fn webhook_chaos(s: &str) -> Result<WebhookChaos, String> {
    WebhookChaos::parse(s, duration)
}

/// Each `--deployment-run` file's text, checked to be a run object.
fn deployment_runs(files: &[std::path::PathBuf]) -> anyhow::Result<Vec<String>> {
    files
        .iter()
        .map(|f| {
            let text = std::fs::read_to_string(f)
                .with_context(|| format!("--deployment-run: cannot read {}", f.display()))?;
            RunFacts::parse(&text).with_context(|| format!("--deployment-run {}", f.display()))?;
            Ok(text)
        })
        .collect()
}

fn rate(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(x) if (0.0..=1.0).contains(&x) => Ok(x),
        _ => Err(format!("expected a number from 0 to 1, got {s:?}")),
    }
}

pub fn run(db: &Path, args: Args) -> Outcome {
    // Before anything else, and long before listening: an empty key, or the network without one.
    flightrec::serve::check_exposure(args.addr, args.api_key.as_deref())?;
    // A tape is restored into a temporary database, kept until the server stops.
    let tape = args
        .tape
        .as_deref()
        .map(super::import::tape_to_temp_db)
        .transpose()?;
    let db = tape.as_ref().map_or(db, |t| t.db.as_path());
    // Refuse a missing, foreign or newer database before listening; bring an older one up to
    // date (as every reading command does), so the pool's read-only connections can read it.
    drop(Store::open_reader(db)?);
    let webhooks = match (args.webhook_url, args.webhook_secret) {
        (Some(url), Some(secret)) => Some(WebhookTarget {
            url,
            key: Verifier::new(&secret).map_err(|e| anyhow::anyhow!("--webhook-secret: {e}"))?,
            chaos: args.webhook_chaos.unwrap_or_default(),
        }),
        _ => None,
    };
    let deployment_runs = deployment_runs(&args.deployment_run)?;
    let opts = ServeOptions {
        webhooks,
        deployment_runs,
        db: db.to_path_buf(),
        speed: args.speed,
        live: args.live,
        max_gap: args.max_gap,
        hold: args.hold,
        api_key: args.api_key,
        allow_hosts: args.allow_host,
        stats_file: args.stats_file,
        header_timeout: args.header_timeout,
        max_connections: args.max_connections,
        ping_interval: args.ping_interval,
        chaos: Chaos {
            drop_every: args.chaos_drop_every,
            repeat_every: args.chaos_repeat_every,
            split: args.chaos_split,
            stall: args.chaos_stall,
            list_error_rate: args.chaos_list_errors,
            malformed_every: args.chaos_malformed_every,
            seed: args.chaos_seed,
        },
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    runtime.block_on(async {
        let listener = tokio::net::TcpListener::bind(args.addr)
            .await
            .with_context(|| format!("cannot listen on {}", args.addr))?;
        let addr = listener.local_addr().context("reading the bound address")?;
        output::print(format!("listening on http://{addr}"))?;
        if opts.api_key.is_none() {
            eprintln!(
                "flightrec: warning: serving without an API key: any program on this machine can read every session (set FLIGHTREC_SERVE_API_KEY to require one)"
            );
        }
        let ctrl_c = async {
            let _ = tokio::signal::ctrl_c().await;
        };
        anyhow::Ok(flightrec::serve::run(listener, opts, ctrl_c).await?)
    })?;
    drop(tape);
    Ok(exit::OK)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_parse() {
        assert_eq!(duration("15s"), Ok(Duration::from_secs(15)));
        assert_eq!(duration("250ms"), Ok(Duration::from_millis(250)));
        assert_eq!(duration("2"), Ok(Duration::from_secs(2)));
        assert_eq!(duration("1.5m"), Ok(Duration::from_secs(90)));
        assert!(duration("soon").is_err() && duration("-1s").is_err() && duration("").is_err());
    }
}
