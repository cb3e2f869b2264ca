//! `watch --otlp-endpoint URL [--otlp-header K=V]… [--otlp-timeout DUR]`: the live OTLP push's
//! flags, and starting and stopping the pusher around the watch.

use std::path::Path;
use std::time::Duration;

use super::args::parse_duration as duration;
use super::output;
use flightrec::export::otlp::live::{LivePush, LiveReport};
use flightrec::export::otlp::push::PushTarget;

#[derive(clap::Args)]
pub struct OtlpArgs {
    /// Push each session's spans as they close, and its root span when it idles or ends, to
    /// this OpenTelemetry collector (OTLP/HTTP protobuf, POST URL/v1/traces), with the trace
    /// and span ids `export --format otlp` gives
    #[arg(long, value_name = "URL")]
    otlp_endpoint: Option<String>,
    /// A header for the pushes, such as a hosted backend's key (repeatable; values never
    /// printed). OTEL_EXPORTER_OTLP_HEADERS (k1=v1,k2=v2, percent-encoded) is read too; these win
    #[arg(
        long = "otlp-header",
        value_name = "KEY=VALUE",
        requires = "otlp_endpoint"
    )]
    otlp_headers: Vec<String>,
    /// How long to wait for the collector on each push
    #[arg(long, value_name = "DUR", default_value = "10s", value_parser = duration, requires = "otlp_endpoint")]
    otlp_timeout: Duration,
}

impl OtlpArgs {
    /// Starts the pusher when an endpoint is given (a bad endpoint or header is an error before
    /// anything starts), saying where it pushes on stdout.
    pub fn start(&self, db: &Path) -> anyhow::Result<Option<LivePush>> {
        let Some(url) = &self.otlp_endpoint else {
            return Ok(None);
        };
        let env = std::env::var("OTEL_EXPORTER_OTLP_HEADERS").ok();
        let target = PushTarget::new(url, env.as_deref(), &self.otlp_headers, self.otlp_timeout)?;
        output::print(format!("otlp: pushing spans to {}", target.endpoint_key()))?;
        let push = LivePush::start(db.to_path_buf(), target, |line| {
            let _ = output::print(line);
        })?;
        Ok(Some(push))
    }
}

/// The pusher's last pass, once the recorders are done, and a line saying what it pushed.
pub fn finish(push: Option<LivePush>) {
    if let Some(p) = push {
        let LiveReport {
            spans,
            requests,
            retries,
            refused,
        } = p.finish();
        let _ = output::print(format!(
            "otlp: {spans} spans pushed in {requests} requests ({retries} retried, {refused} refused)"
        ));
    }
}
