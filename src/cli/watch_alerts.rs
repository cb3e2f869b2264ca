//! `flightrec watch`'s alert flags, and the alert thread wired into the watcher: rules evaluated
//! on every commit and every second, alerts stored (`flightrec alerts` lists them), notices to
//! `--alert-exec` and `--alert-webhook`, and one line per alert on stdout.
//!
//! Metrics hook: every [`AlertEvent`] (a transition carries its rule and state) is passed to the
//! `observe` callback given to [`start`], after the line is printed: the place to count
//! `flightrec_alerts_total{rule,state}`.

use std::path::Path;
use std::thread::JoinHandle;
use std::time::Duration;
use tokio::sync::{mpsc, watch};

use super::args::parse_duration_micros;
use super::output;
use flightrec::analysis::rules::Thresholds;
use flightrec::record::alerts::deliver::{Policy, Target};
use flightrec::record::alerts::{AlertEvent, AlertOptions, spawn};
use flightrec::webhook::Nudge;

#[derive(clap::Args)]
pub struct AlertArgs {
    /// Run CMD with `sh -c` for each alert that fires or resolves, the alert as one JSON object
    /// on its stdin (session_id, rule, state, event_id, at, summary, unblock); a non-zero exit
    /// is retried
    #[arg(long, value_name = "CMD", value_parser = command)]
    alert_exec: Option<String>,
    /// POST each alert to URL as the same JSON plus a `text` line that chat tools show
    /// (Slack-compatible incoming webhooks); a non-2xx answer is retried
    #[arg(long, value_name = "URL", value_parser = webhook_url)]
    alert_webhook: Option<String>,
    /// Alert on a session waiting for action (a tool result, a confirmation) longer than this
    #[arg(long, value_name = "DUR", default_value = "10m", value_parser = parse_duration_micros)]
    stuck_after: i64,
    /// Alert on a running session with no event for longer than this
    #[arg(long, value_name = "DUR", default_value = "10m", value_parser = parse_duration_micros)]
    silent_after: i64,
    /// Attempts per alert notice and target (retried with backoff from 1 s, doubling)
    #[arg(long, value_name = "N", default_value_t = 5,
          value_parser = clap::value_parser!(u32).range(1..=20))]
    alert_attempts: u32,
}

fn command(s: &str) -> Result<String, String> {
    if s.trim().is_empty() {
        return Err("the command is empty".into());
    }
    Ok(s.to_string())
}

fn webhook_url(s: &str) -> Result<String, String> {
    match reqwest::Url::parse(s) {
        Ok(u) if matches!(u.scheme(), "http" | "https") && u.has_host() => Ok(s.to_string()),
        Ok(_) => Err(format!("'{s}' is not an http(s) URL")),
        Err(e) => Err(format!("'{s}' is not a URL: {e}")),
    }
}

/// The alert thread, joined when dropped (it ends within a tick of the shutdown or of the
/// recorder dropping its nudges), so a delivery outcome is stored before `watch` exits.
pub struct Alerting(Option<JoinHandle<()>>);

impl Drop for Alerting {
    fn drop(&mut self) {
        if let Some(t) = self.0.take() {
            let _ = t.join();
        }
    }
}

impl AlertArgs {
    /// The rules' thresholds these flags set (the others at their defaults); the metrics'
    /// survey uses them too.
    pub fn thresholds(&self) -> Thresholds {
        Thresholds {
            stuck_after_us: self.stuck_after,
            silent_after_us: self.silent_after,
            ..Thresholds::default()
        }
    }
}

/// Starts the alert thread (inside the runtime) and returns the nudges the recorder reads: the
/// alert thread's confirming passes, and the webhook intake's nudges forwarded among them.
pub fn start(
    args: &AlertArgs,
    db: &Path,
    poll: Duration,
    shutdown: watch::Receiver<bool>,
    intake: Option<mpsc::UnboundedReceiver<Nudge>>,
    mut observe: impl FnMut(&AlertEvent) + Send + 'static,
) -> (mpsc::UnboundedReceiver<Nudge>, Alerting) {
    let (tx, rx) = mpsc::unbounded_channel();
    if let Some(mut intake) = intake {
        let tx = tx.clone();
        tokio::spawn(async move {
            while let Some(n) = intake.recv().await {
                if tx.send(n).is_err() {
                    break;
                }
            }
        });
    }
    let mut targets = Vec::new();
    targets.extend(args.alert_exec.clone().map(Target::Exec));
    targets.extend(args.alert_webhook.clone().map(Target::Webhook));
    let thresholds = args.thresholds();
    let opts = AlertOptions {
        targets,
        thresholds,
        policy: Policy {
            attempts: args.alert_attempts,
            ..Policy::default()
        },
        every: Duration::from_secs(1),
        confirm_every: poll.max(Duration::from_secs(1)),
    };
    let thread = spawn(db.to_path_buf(), opts, shutdown, tx, move |e| {
        report(e);
        observe(e);
    });
    (rx, Alerting(Some(thread)))
}

/// One line per alert on stdout; failed deliveries and errors on stderr.
fn report(e: &AlertEvent) {
    let _ = match e {
        AlertEvent::Transition {
            session_id,
            rule,
            event_id,
            state,
            ..
        } => output::print(format!(
            "alert {}: {rule} {session_id} {event_id}",
            state.as_str()
        )),
        AlertEvent::Attempt(a) => match &a.error {
            None => Ok(()),
            Some(err) => output::eprint_line(format!(
                "flightrec: alert {} ({}) to {}: attempt {} of {} failed: {err}",
                a.alert_id,
                a.state.as_str(),
                a.target,
                a.attempt,
                a.of
            )),
        },
        AlertEvent::Error(m) => output::eprint_line(format!("flightrec: {m}")),
    };
}
