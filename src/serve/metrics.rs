//! `watch --metrics-addr`: `GET /metrics`, the watcher's [`Metrics`] in the Prometheus text
//! format (0.0.4), on the same accept loop as `serve` (header timeout, connection cap). Anything
//! else is 404.

use axum::Router;
use axum::extract::State;
use axum::http::header::CONTENT_TYPE;
use axum::response::IntoResponse;
use axum::routing::get;
use std::future::Future;
use std::time::Duration;
use tokio::net::TcpListener;

use crate::record::metrics::Metrics;

/// The path scraped.
pub const PATH: &str = "/metrics";

/// Serves `metrics` on `listener` until `shutdown` resolves.
pub async fn run(listener: TcpListener, metrics: Metrics, shutdown: impl Future<Output = ()>) {
    let app = Router::new().route(PATH, get(scrape)).with_state(metrics);
    super::accept::serve(listener, app, Duration::from_secs(10), 64, shutdown).await;
}

async fn scrape(State(metrics): State<Metrics>) -> impl IntoResponse {
    ([(CONTENT_TYPE, Metrics::CONTENT_TYPE)], metrics.encode())
}
