//! `serve` as the platform double, beyond the events API: deployment runs
//! (`GET /v1/deployment_runs/{id}`, from `--deployment-run` files, else the database's
//! `deployment_runs`), and in live mode the webhooks the platform sends (`--webhook-url`): as
//! each stored session's revealed status changes, a Standard Webhooks signed POST of the types
//! `webhook::outgoing` names; `session.created` at a session's first reveal; and
//! `deployment_run.failed` at start for each failed run served. Sends follow the chaos plan;
//! each is tried a few times, and failures are told on stderr, never stopping the server.

use axum::extract::{Path, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;

use super::error::ApiError;
use super::{App, Live};
use crate::analysis::deployment::RunFacts;
use crate::store::StatusEvent;
use crate::webhook::Verifier;
use crate::webhook::outgoing::{Chaos, payload, plan, signed_headers, status_webhooks};

/// Where and how `serve --live` sends webhooks.
#[derive(Clone, Debug)]
pub struct WebhookTarget {
    pub url: String,
    /// The endpoint's signing key (`whsec_…`).
    pub key: Verifier,
    pub chaos: Chaos,
}

/// Attempts per send (the first and two retries), a growing pause between them.
const ATTEMPTS: u32 = 3;

/// `GET /v1/deployment_runs/{id}`: a served run file's text, else the stored body, verbatim.
pub async fn get_deployment_run(
    State(app): State<Arc<App>>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let served = app
        .opts
        .deployment_runs
        .iter()
        .find(|text| RunFacts::parse(text).is_ok_and(|r| r.id == id))
        .cloned();
    let body = match served {
        Some(text) => Some(text),
        None => {
            let rid = id.clone();
            app.db
                .call(move |s| s.deployment_run(&rid))
                .await?
                .map(|r| r.body)
        }
    };
    match body {
        Some(b) => Ok(([(header::CONTENT_TYPE, "application/json")], b).into_response()),
        None => Err(ApiError::not_found(format!(
            "deployment run {id} not found"
        ))),
    }
}

/// One delivery to send: its due time (recorded µs, on the live clock) and `data`.
struct Planned {
    at: i64,
    data_type: &'static str,
    data_id: String,
}

/// The deliveries of the stored sessions' status changes, on the schedule's clock.
fn deliveries(live: &Live, status: &[StatusEvent], runs: &[String]) -> Vec<Planned> {
    let schedule = live.schedule();
    let mut out = Vec::new();
    for run in runs.iter().filter_map(|t| RunFacts::parse(t).ok()) {
        if run.failed() {
            out.push(Planned {
                at: 0,
                data_type: "deployment_run.failed",
                data_id: run.id,
            });
        }
    }
    let mut created = std::collections::HashSet::new();
    for ev in status {
        let log = schedule.log(&ev.session_id, "");
        if created.insert(ev.session_id.clone())
            && let Some(first) = log.first()
        {
            out.push(Planned {
                at: first.at,
                data_type: "session.created",
                data_id: ev.session_id.clone(),
            });
        }
        let Some(copy) = log.iter().find(|c| c.seq == ev.seq && c.rev.is_none()) else {
            continue;
        };
        for t in status_webhooks(&ev.event_type, ev.stop_reason.as_deref()) {
            out.push(Planned {
                at: copy.at,
                data_type: t,
                data_id: ev.session_id.clone(),
            });
        }
    }
    out
}

/// Sends the webhooks of the stored sessions until every one is sent or the server stops.
pub(super) async fn send_webhooks(app: Arc<App>, target: WebhookTarget) {
    let Some(live) = app.live.as_ref() else {
        return;
    };
    let status = match app.db.call(|s| s.status_events()).await {
        Ok(s) => s,
        Err(e) => {
            eprintln!("flightrec: webhooks: reading status events: {e}");
            return;
        }
    };
    let planned = deliveries(live, &status, &app.opts.deployment_runs);
    let sends = plan(
        &planned.iter().map(|p| p.at).collect::<Vec<_>>(),
        &target.chaos,
    );
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap_or_default();
    // Unique per server run, so a second run's deliveries are not taken for repeats.
    let run = format!("{:012x}", fastrand::u64(..) >> 16);
    let planned = Arc::new(planned);
    let mut tasks = tokio::task::JoinSet::new();
    for s in sends {
        let (app, target, http, planned) =
            (app.clone(), target.clone(), http.clone(), planned.clone());
        let suffix = format!("{run}{:06}", s.delivery);
        tasks.spawn(async move {
            let p = &planned[s.delivery];
            if !wait_until_due(&app, &p.data_id, s.at).await {
                return;
            }
            let body = payload(
                &format!("wevt_{suffix}"),
                &crate::model::time::now(),
                p.data_type,
                &p.data_id,
            );
            deliver(
                http,
                target,
                format!("msg_{suffix}"),
                body,
                app.stop.clone(),
            )
            .await;
        });
    }
    while tasks.join_next().await.is_some() {}
}

/// Waits until a send due at `at` (recorded µs) in `session_id`'s log is due on the live clock:
/// a session held at a `requires_action` idle (`serve --hold`) sends what follows only once it
/// goes on, and an answer can move its clock, so the time is read again as it nears. False when
/// the server stops first.
async fn wait_until_due(app: &App, session_id: &str, at: i64) -> bool {
    let Some(live) = app.live.as_ref() else {
        return false;
    };
    let mut stop = app.stop.clone();
    loop {
        let next = match live.due(session_id, at) {
            Some(t) if t <= tokio::time::Instant::now() => return true,
            Some(t) => t.min(tokio::time::Instant::now() + Duration::from_millis(100)),
            None => tokio::time::Instant::now() + Duration::from_millis(100),
        };
        tokio::select! {
            _ = tokio::time::sleep_until(next) => {}
            _ = stop.wait_for(|s| *s) => return false,
        }
    }
}

/// POSTs one delivery, signed afresh at each attempt; tells stderr when every attempt failed.
async fn deliver(
    http: reqwest::Client,
    target: WebhookTarget,
    msg_id: String,
    body: String,
    mut stop: watch::Receiver<bool>,
) {
    let mut last = String::new();
    for attempt in 0..ATTEMPTS {
        if attempt > 0 {
            let pause = Duration::from_millis(250 * 4u64.pow(attempt - 1));
            tokio::select! {
                _ = tokio::time::sleep(pause) => {}
                _ = stop.wait_for(|s| *s) => return,
            }
        }
        let now = chrono::Utc::now().timestamp();
        let mut req = http
            .post(&target.url)
            .header(header::CONTENT_TYPE, "application/json")
            .body(body.clone());
        for (name, value) in signed_headers(&target.key, &msg_id, now, body.as_bytes()) {
            req = req.header(name, value);
        }
        match req.send().await {
            Ok(r) if r.status().is_success() => return,
            Ok(r) => last = format!("HTTP {}", r.status().as_u16()),
            Err(e) => last = e.without_url().to_string(),
        }
    }
    eprintln!(
        "flightrec: webhook {msg_id} to {}: not delivered after {ATTEMPTS} attempts ({last})",
        target.url
    );
}
