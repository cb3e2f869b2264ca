//! `flightrec serve`: a database served as the Managed Agents API, over real HTTP, so recorders
//! and SDK clients can be tested against recorded sessions.
//!
//! `handlers` serves sessions, threads and event pages (texts verbatim, keyset cursors);
//! `stream` the SSE endpoints (following the database through `feed`: one watcher per log,
//! whatever the number of streams), writing through `sink`, which owns the bytes and the chaos
//! options; `live` is the schedule that reveals sessions progressively (`hold`: where they wait
//! for a client's answers); `query` decodes query
//! strings and cursors; `objects` serves stored session and thread objects (and synthesizes a
//! session object when none was stored); `error` renders API errors
//! and checks keys and `Host` names (with `guard`, which also says what may be served unkeyed);
//! `accept` is the accept loop (header timeout, connection cap); `db` runs store reads off the
//! async threads. All SQL is in `store::pages`. `platform` serves deployment runs and, live,
//! sends the webhooks the platform would (`--webhook-url`). `webhooks` is apart: the intake of Anthropic's
//! webhooks that `watch --webhook-listen` serves.

mod accept;
mod db;
mod error;
mod feed;
mod guard;
mod handlers;
mod hold;
mod live;
pub mod metrics;
mod objects;
mod platform;
mod query;
#[cfg(test)]
mod query_props;
mod send;
mod sink;
mod stream;
pub mod webhooks;

use axum::Router;
use axum::routing::get;
use std::future::Future;
use std::path::PathBuf;
use std::sync::atomic::AtomicU64;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::watch;
use tokio::time::Instant;

use crate::store::StoreError;
use db::Db;
use error::ApiError;
pub use guard::{Exposure, check_exposure};
use live::Schedule;
pub use platform::WebhookTarget;

/// Why [`run`] could not start serving.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error("speed must be a positive number, got {0}")]
    Speed(f64),
    #[error("the list error rate must be between 0 and 1, got {0}")]
    ListErrorRate(f64),
    #[error("reading the bound address: {0}")]
    BoundAddress(std::io::Error),
    #[error(transparent)]
    Exposure(#[from] Exposure),
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Reading the sessions to reveal (`--live`) failed.
    #[error(transparent)]
    Database(#[from] ApiError),
}

/// How to serve.
#[derive(Clone)]
pub struct ServeOptions {
    pub db: PathBuf,
    /// Replay: pace the initial replay by recorded gaps divided by this. Live: the clock's rate
    /// (default 1).
    pub speed: Option<f64>,
    /// Reveal each session progressively from server start, as if it were happening now.
    pub live: bool,
    /// Live: recorded gaps longer than this are shortened to it (hours of idle become seconds).
    pub max_gap: Option<Duration>,
    /// Live: each session waits at its `requires_action` idles until a client answers them
    /// (`POST …/events`), then plays on; the recorded answers are left out.
    pub hold: bool,
    /// When set, requests must carry it (`Authorization: Bearer` or `x-api-key`). Must not be
    /// empty; without it, only a loopback address may be served.
    pub api_key: Option<String>,
    /// `Host` names answered besides loopback names and the bound address (`*`: any).
    pub allow_hosts: Vec<String>,
    /// Pings on a stream that has been quiet this long.
    pub ping_interval: Duration,
    pub chaos: Chaos,
    /// A connection that has not sent a whole request head this long after opening (or after
    /// its last response) is closed.
    pub header_timeout: Duration,
    /// Connections served at once; more wait to be accepted.
    pub max_connections: usize,
    /// Where to keep counters (database calls, open streams) as JSON, rewritten every 100 ms:
    /// how tests and benchmarks see what following costs.
    pub stats_file: Option<PathBuf>,
    /// Live: send the platform's webhooks here as sessions change status.
    pub webhooks: Option<WebhookTarget>,
    /// Deployment run objects (JSON texts) served by `GET /v1/deployment_runs/{id}` before the
    /// database's `deployment_runs`.
    pub deployment_runs: Vec<String>,
}

/// Shows whether a key is set, never the key.
impl std::fmt::Debug for ServeOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServeOptions")
            .field("db", &self.db)
            .field("speed", &self.speed)
            .field("live", &self.live)
            .field("max_gap", &self.max_gap)
            .field("hold", &self.hold)
            .field("api_key", &self.api_key.as_ref().map(|_| "<set>"))
            .field("allow_hosts", &self.allow_hosts)
            .field("ping_interval", &self.ping_interval)
            .field("chaos", &self.chaos)
            .field("stats_file", &self.stats_file)
            .field("header_timeout", &self.header_timeout)
            .field("max_connections", &self.max_connections)
            .field("webhooks", &self.webhooks)
            .field("deployment_runs", &self.deployment_runs.len())
            .finish()
    }
}

impl ServeOptions {
    /// Replay mode, no key, pings every 15 s, no chaos.
    pub fn new(db: PathBuf) -> ServeOptions {
        ServeOptions {
            db,
            speed: None,
            live: false,
            max_gap: None,
            hold: false,
            api_key: None,
            allow_hosts: Vec::new(),
            ping_interval: Duration::from_secs(15),
            chaos: Chaos::default(),
            stats_file: None,
            header_timeout: Duration::from_secs(10),
            max_connections: 4096,
            webhooks: None,
            deployment_runs: Vec::new(),
        }
    }
}

/// Faults to inject, for testing clients. Deterministic given `seed` and the order of
/// connections and list requests.
#[derive(Debug, Default, Clone)]
pub struct Chaos {
    /// End a stream connection after every K event frames.
    pub drop_every: Option<u64>,
    /// Send every Kth event frame twice.
    pub repeat_every: Option<u64>,
    /// Write each frame in pieces cut at random byte offsets.
    pub split: bool,
    /// Once per connection, after a few frames, send nothing (not even pings) for this long.
    pub stall: Option<Duration>,
    /// Answer this fraction of event-list requests with 429 or 500.
    pub list_error_rate: f64,
    /// Send a broken frame before every Kth event frame.
    pub malformed_every: Option<u64>,
    pub seed: u64,
}

/// Live mode's clock and schedule (which grows when events are sent to a session).
pub(crate) struct Live {
    start: Instant,
    speed: f64,
    schedule: std::sync::RwLock<Schedule>,
    /// Bumped whenever copies are added, so open streams look again.
    added: watch::Sender<u64>,
}

impl Live {
    /// Recorded µs since the server started.
    fn elapsed(&self) -> i64 {
        (self.start.elapsed().as_secs_f64() * self.speed * 1e6) as i64
    }

    /// A session's reveal point now (recorded µs; behind [`Live::elapsed`] once it has waited).
    fn now(&self, session_id: &str) -> i64 {
        self.schedule().now(session_id, self.elapsed())
    }

    /// The schedule, to read.
    fn schedule(&self) -> std::sync::RwLockReadGuard<'_, Schedule> {
        self.schedule
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Adds copies sent now to a session's log (answers to `answered` ids may let it go on) and
    /// wakes its streams.
    fn deliver(&self, session_id: &str, copies: Vec<live::Copy>, answered: &[String]) {
        let elapsed = self.elapsed();
        self.schedule
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .deliver(session_id, "", copies, answered, elapsed);
        self.added.send_modify(|n| *n += 1);
    }

    /// When a session's copy revealed at `at` recorded µs is due; `None` while the session
    /// waits for an answer.
    fn due(&self, session_id: &str, at: i64) -> Option<Instant> {
        let at = self.schedule().due(session_id, at)?;
        Some(self.start + Duration::from_secs_f64((at.max(0) as f64 / 1e6 / self.speed).min(1e12)))
    }
}

/// What every handler shares.
pub(crate) struct App {
    db: Arc<Db>,
    /// One watcher per followed log, shared by its streams.
    feeds: Arc<feed::Feeds>,
    opts: ServeOptions,
    /// The address the listener is bound to (its IP is a `Host` we answer for).
    bound: std::net::SocketAddr,
    live: Option<Live>,
    /// Becomes true when the server stops, so open streams end.
    stop: watch::Receiver<bool>,
    connections: AtomicU64,
    /// Streams open now.
    streams: AtomicU64,
    list_rng: Mutex<fastrand::Rng>,
}

impl App {
    /// In live mode, the recorded µs of a session revealed so far; `None` shows everything.
    fn reveal(&self, session_id: &str) -> Option<i64> {
        self.live
            .as_ref()
            .map(|l| l.schedule().revealed_time(session_id, l.elapsed()))
    }
}

fn router(app: Arc<App>) -> Router {
    use handlers::*;
    Router::new()
        .route("/v1/sessions", get(list_sessions))
        .route("/v1/sessions/{id}", get(get_session))
        .route(
            "/v1/sessions/{id}/events",
            get(session_events).post(send::send_events),
        )
        .route("/v1/sessions/{id}/events/stream", get(session_stream))
        .route("/v1/sessions/{id}/threads", get(list_threads))
        .route("/v1/sessions/{id}/threads/{tid}", get(get_thread))
        .route("/v1/sessions/{id}/threads/{tid}/events", get(thread_events))
        .route("/v1/sessions/{id}/threads/{tid}/stream", get(thread_stream))
        .route(
            "/v1/deployment_runs/{id}",
            get(platform::get_deployment_run),
        )
        .fallback(error::not_found)
        .method_not_allowed_fallback(error::method_not_allowed)
        .layer(axum::middleware::from_fn_with_state(
            Arc::clone(&app),
            error::middleware,
        ))
        .with_state(app)
}

/// Serves until `shutdown` resolves. Binds nothing itself: the caller passes a bound listener
/// (port 0 = ephemeral). Open streams end when `shutdown` resolves.
pub async fn run(
    listener: tokio::net::TcpListener,
    opts: ServeOptions,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), ServeError> {
    if let Some(speed) = opts.speed
        && !(speed.is_finite() && speed > 0.0)
    {
        return Err(ServeError::Speed(speed));
    }
    let bound = listener.local_addr().map_err(ServeError::BoundAddress)?;
    check_exposure(bound, opts.api_key.as_deref())?;
    let rate = opts.chaos.list_error_rate;
    if !(0.0..=1.0).contains(&rate) {
        return Err(ServeError::ListErrorRate(rate));
    }
    let db = Db::open(opts.db.clone())?;
    let live = if opts.live {
        let rows = db.call(|s| s.live_rows()).await?;
        Some(Live {
            start: Instant::now(),
            speed: opts.speed.unwrap_or(1.0),
            schedule: std::sync::RwLock::new(Schedule::build(
                rows,
                opts.max_gap.map(|g| g.as_micros() as i64),
                opts.hold,
            )),
            added: watch::channel(0).0,
        })
    } else {
        None
    };
    let (stop_tx, stop) = watch::channel(false);
    let app = Arc::new(App {
        feeds: Arc::new(feed::Feeds::new(Arc::clone(&db), stop.clone())),
        db,
        list_rng: Mutex::new(fastrand::Rng::with_seed(opts.chaos.seed)),
        opts,
        bound,
        live,
        stop,
        connections: AtomicU64::new(0),
        streams: AtomicU64::new(0),
    });
    if let Some(target) = app.opts.webhooks.clone() {
        tokio::spawn(platform::send_webhooks(Arc::clone(&app), target));
    }
    if let Some(path) = app.opts.stats_file.clone() {
        tokio::spawn(write_stats(Arc::clone(&app), path));
    }
    let (header_timeout, max) = (app.opts.header_timeout, app.opts.max_connections);
    let shutdown = async move {
        shutdown.await;
        let _ = stop_tx.send(true);
    };
    accept::serve(listener, router(app), header_timeout, max, shutdown).await;
    Ok(())
}

/// Rewrites the stats file every 100 ms until the server stops (through a temporary file and a
/// rename, so a reader never sees half of it).
async fn write_stats(app: Arc<App>, path: PathBuf) {
    use std::sync::atomic::Ordering::Relaxed;
    let tmp = path.with_extension("tmp");
    let mut stop = app.stop.clone();
    loop {
        let text = serde_json::json!({
            "db_calls": app.db.calls.load(Relaxed),
            "streams": app.streams.load(Relaxed),
            "watchers": app.feeds.len(),
        })
        .to_string();
        if std::fs::write(&tmp, text).is_ok() {
            let _ = std::fs::rename(&tmp, &path);
        }
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_millis(100)) => {}
            _ = stop.wait_for(|s| *s) => return,
        }
    }
}
