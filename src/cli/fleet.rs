//! `watch`'s telemetry on the command line: `--metrics-addr` (Prometheus), `--stuck-after`, and
//! what a person or a log collector sees on stderr: one redrawn status line on a terminal, else
//! one line per happening (`--log-format text|json`).

use anyhow::Context as _;
use indicatif::{ProgressBar, ProgressStyle};
use serde_json::Value;
use std::io::{IsTerminal, Write};
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;

use super::output;
use flightrec::analysis::rules::Thresholds;
use flightrec::record::metrics::{Happening, Metrics, Sink, StatusFigures};
use flightrec::record::watch::Outcome;

/// How often the watched sessions are surveyed (status, rules, oldest wait).
const SURVEY_EVERY: Duration = Duration::from_secs(2);

#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    /// `TIME LEVEL message key=value ...`
    Text,
    /// One JSON object per line: `ts`, `level`, `msg` and the happening's fields
    Json,
}

#[derive(clap::Args)]
pub struct FleetArgs {
    /// Serve GET /metrics on ADDR in the Prometheus text format (port 0 picks a free port)
    #[arg(long, value_name = "ADDR")]
    metrics_addr: Option<SocketAddr>,
    /// Log one line per happening on stderr (recording started or ended, reconnect, webhook
    /// delivery, error) [default: text; on a terminal, a status line instead]
    #[arg(long, value_enum, value_name = "FORMAT")]
    log_format: Option<LogFormat>,
}

/// The telemetry of one `watch`.
pub struct Fleet {
    pub metrics: Metrics,
    bar: Option<ProgressBar>,
}

/// Starts the telemetry: the status line or the log, the metrics endpoint (its address said on
/// stdout) and the survey of the watched sessions against `th` (the alerts' thresholds: one
/// `--stuck-after` for both), until `shutdown`.
pub async fn start(
    db: &Path,
    args: &FleetArgs,
    th: Thresholds,
    shutdown: watch::Receiver<bool>,
) -> anyhow::Result<Fleet> {
    let on_terminal = std::io::stderr().is_terminal() && args.log_format != Some(LogFormat::Json);
    let bar = on_terminal.then(status_bar);
    let sink: Sink = match (&bar, args.log_format.unwrap_or(LogFormat::Text)) {
        (Some(b), _) => {
            let b = b.clone();
            Arc::new(move |h: &Happening| b.println(text_line(h)))
        }
        (None, LogFormat::Text) => Arc::new(|h: &Happening| write_line(&text_line(h))),
        (None, LogFormat::Json) => Arc::new(|h: &Happening| write_line(&json_line(h))),
    };
    let metrics = Metrics::new(Some(sink));
    if let Some(addr) = args.metrics_addr {
        let listener = tokio::net::TcpListener::bind(addr)
            .await
            .with_context(|| format!("--metrics-addr: cannot listen on {addr}"))?;
        let bound = listener.local_addr().context("reading the bound address")?;
        output::print(format!(
            "metrics: listening on http://{bound}{}",
            flightrec::serve::metrics::PATH
        ))?;
        let (m, mut sd) = (metrics.clone(), shutdown.clone());
        tokio::spawn(async move {
            let stop = async move {
                let _ = sd.wait_for(|s| *s).await;
            };
            flightrec::serve::metrics::run(listener, m, stop).await;
        });
    }
    if args.metrics_addr.is_some() || bar.is_some() {
        let (m, db) = (metrics.clone(), db.to_path_buf());
        tokio::spawn(async move { m.survey_on_clock(db, th, SURVEY_EVERY, shutdown).await });
    }
    if let Some(b) = &bar {
        let (b, m) = (b.clone(), metrics.clone());
        tokio::spawn(async move {
            while !b.is_finished() {
                b.set_message(status_text(&m.status()));
                tokio::time::sleep(Duration::from_millis(250)).await;
            }
        });
    }
    Ok(Fleet { metrics, bar })
}

impl Fleet {
    /// A recording ended: logged.
    pub fn ended(&self, outcome: &Outcome) {
        self.metrics.recording_ended(outcome);
    }
}

impl Drop for Fleet {
    /// Clears the status line.
    fn drop(&mut self) {
        if let Some(b) = &self.bar {
            b.finish_and_clear();
        }
    }
}

fn status_bar() -> ProgressBar {
    let bar = ProgressBar::new_spinner();
    bar.set_style(
        ProgressStyle::with_template("{spinner} {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_spinner()),
    );
    bar.enable_steady_tick(Duration::from_millis(200));
    bar
}

/// `3 live · 1,204 events · last commit 2s ago · 1 stuck`
fn status_text(s: &StatusFigures) -> String {
    let last = match s.last_commit {
        Some(d) => format!("last commit {}s ago", d.as_secs()),
        None => "no commit yet".into(),
    };
    format!(
        "{} live · {} events · {last} · {} stuck",
        s.live, s.events, s.stuck
    )
}

/// One line on stderr; a closed stderr is not worth failing the watcher over.
fn write_line(line: &str) {
    let mut err = std::io::stderr().lock();
    let _ = writeln!(err, "{line}");
}

/// `2026-12-06T05:00:00.000Z INFO recording started session_id=sesn_… history_only=false`;
/// a value with a space, a quote or a control character is JSON-quoted, and the line is made
/// safe for a terminal.
fn text_line(h: &Happening) -> String {
    let mut line = format!(
        "{} {} {}",
        flightrec::model::time::now(),
        h.level.as_str().to_uppercase(),
        h.msg
    );
    for (k, v) in &h.fields {
        let text = match v {
            Value::String(s)
                if s.is_empty()
                    || s.chars()
                        .any(|c| c.is_whitespace() || c == '"' || c.is_control()) =>
            {
                v.to_string()
            }
            Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        line.push_str(&format!(" {k}={text}"));
    }
    flightrec::model::term::visible(&line).into_owned()
}

/// `{"ts":…,"level":…,"msg":…, fields…}`
fn json_line(h: &Happening) -> String {
    let mut obj = serde_json::Map::new();
    obj.insert("ts".into(), Value::String(flightrec::model::time::now()));
    obj.insert("level".into(), Value::String(h.level.as_str().into()));
    obj.insert("msg".into(), Value::String(h.msg.into()));
    for (k, v) in &h.fields {
        obj.insert((*k).into(), v.clone());
    }
    Value::Object(obj).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use flightrec::record::metrics::Level;
    use serde_json::json;

    fn happening() -> Happening {
        Happening {
            level: Level::Warn,
            msg: "reconnecting",
            fields: vec![
                ("session_id", json!("sesn_1")),
                ("error", json!("stream ended: \u{1b}[31m red")),
                ("connection", json!(2)),
            ],
        }
    }

    #[test]
    fn a_text_line_quotes_what_needs_it_and_shows_controls() {
        let line = text_line(&happening());
        let rest = line.split_once(' ').unwrap().1;
        assert_eq!(
            rest,
            r#"WARN reconnecting session_id=sesn_1 error="stream ended: \u001b[31m red" connection=2"#
        );
    }

    #[test]
    fn a_json_line_is_one_object_with_ts_level_msg_and_the_fields() {
        let v: Value = serde_json::from_str(&json_line(&happening())).unwrap();
        assert_eq!(v["level"], "warn");
        assert_eq!(v["msg"], "reconnecting");
        assert_eq!(v["connection"], 2);
        assert!(v["ts"].as_str().unwrap().ends_with('Z'));
    }
}
