//! The webhook intake `watch --webhook-listen` serves: `POST /webhooks/anthropic`, verified
//! (`crate::webhook`), stored once per delivery id (`store::webhooks`), and passed to the watcher
//! as a [`Nudge`] when it is new and names a session to record or confirm.
//!
//! 204 for a valid delivery (a repeat too), 401 with a short JSON reason for a missing or wrong
//! signature or a timestamp more than 5 minutes off, 400 for a verified body that is not the
//! payload, 413 above [`MAX_BODY_BYTES`]. Refusals are counted per reason in the store, and
//! every outcome in the watcher's [`Metrics`] when it keeps them.

use axum::Router;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::mpsc::UnboundedSender;

use crate::record::metrics::Metrics;
use crate::store::{NewWebhook, Store};
use crate::webhook::{Delivery, Headers, Nudge, Verifier};

/// The path deliveries are POSTed to.
pub const PATH: &str = "/webhooks/anthropic";

/// The largest body accepted (payloads are thin notifications of a few hundred bytes).
pub const MAX_BODY_BYTES: usize = 64 * 1024;

struct Intake {
    verifier: Verifier,
    store: Mutex<Store>,
    nudges: UnboundedSender<Nudge>,
    metrics: Option<Metrics>,
}

/// Serves the intake on `listener` into `store` (a connection of its own), counting outcomes in
/// `metrics`, until `shutdown` resolves.
pub async fn run(
    listener: TcpListener,
    store: Store,
    verifier: Verifier,
    nudges: UnboundedSender<Nudge>,
    metrics: Option<Metrics>,
    shutdown: impl Future<Output = ()>,
) {
    let intake = Arc::new(Intake {
        verifier,
        store: Mutex::new(store),
        nudges,
        metrics,
    });
    let app = Router::new()
        .route(PATH, post(deliver))
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .with_state(intake);
    super::accept::serve(listener, app, Duration::from_secs(10), 256, shutdown).await;
}

fn reason(status: StatusCode, text: &str) -> Response {
    (status, axum::Json(serde_json::json!({ "error": text }))).into_response()
}

async fn deliver(
    State(intake): State<Arc<Intake>>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let body = match body {
        Ok(b) => b,
        Err(rejection) => {
            let too_large = rejection.status() == StatusCode::PAYLOAD_TOO_LARGE;
            let code = if too_large {
                "too_large"
            } else {
                "unreadable_body"
            };
            count_refusal(&intake, code).await;
            return rejection.into_response();
        }
    };
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let h = Headers {
        id: header("webhook-id"),
        timestamp: header("webhook-timestamp"),
        signature: header("webhook-signature"),
    };
    let now = chrono::Utc::now().timestamp();
    let timestamp = match intake.verifier.verify(&h, &body, now) {
        Ok(ts) => ts,
        Err(refusal) => {
            count_refusal(&intake, refusal.code()).await;
            return reason(StatusCode::UNAUTHORIZED, &refusal.to_string());
        }
    };
    let Some(delivery) = Delivery::parse(&body) else {
        count_refusal(&intake, "bad_payload").await;
        return reason(StatusCode::BAD_REQUEST, "not a webhook payload");
    };
    let webhook_id = h.id.unwrap_or_default().to_string();
    let store_it = Arc::clone(&intake);
    let d = delivery.clone();
    let stored = tokio::task::spawn_blocking(move || {
        let mut store = store_it.store.lock().unwrap_or_else(|p| p.into_inner());
        store.record_webhook(&NewWebhook {
            id: &d.id,
            webhook_id: &webhook_id,
            received_at: &crate::model::time::now(),
            timestamp,
            data_type: &d.data.kind,
            data_id: &d.data.id,
            body: &body,
        })
    })
    .await;
    if let Some(m) = &intake.metrics {
        let outcome = match &stored {
            Ok(Ok(true)) => "accepted",
            Ok(Ok(false)) => "repeat",
            _ => "not_stored",
        };
        let data = &delivery.data;
        m.webhook_delivery(outcome, Some(&data.kind), Some(&data.id));
    }
    match stored {
        Ok(Ok(is_new)) => {
            if is_new && let Some(n) = delivery.nudge() {
                // The watcher gone (shutting down) is no reason to refuse the delivery.
                let _ = intake.nudges.send(n);
            }
            StatusCode::NO_CONTENT.into_response()
        }
        // Not stored: a 5xx, so the platform delivers it again.
        _ => reason(StatusCode::SERVICE_UNAVAILABLE, "not stored, try again"),
    }
}

/// Counts a refusal; a failure to count is not the sender's problem and is left out.
async fn count_refusal(intake: &Arc<Intake>, code: &'static str) {
    if let Some(m) = &intake.metrics {
        m.webhook_delivery(code, None, None);
    }
    let intake = Arc::clone(intake);
    let _ = tokio::task::spawn_blocking(move || {
        let mut store = intake.store.lock().unwrap_or_else(|p| p.into_inner());
        store.count_webhook_refusal(code, &crate::model::time::now())
    })
    .await;
}
