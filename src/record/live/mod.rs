//! `flightrec record`: attach to a session and keep every event, whatever the network does.
//!
//! For the session and each of its threads, a connection loop: open the stream first, then page
//! the log (the stream never replays history), upsert both; on any end of the stream, back off and
//! do it again, backfilling from the newest time proven complete (`created_at[gte]`, since events
//! can share a timestamp). Every connection, history pass and retry goes to the capture log.
//!
//! Here: the options, the report and the shared plumbing of a stream's loop (`Target`). The
//! session's loop and its threads' loops are in `session`, one stream's connection loop in
//! `connection`, the history passes in `history`, and what the loop does after each connection
//! (stop, retry, reconnect) in `decide`, without I/O.

mod connection;
mod decide;
mod history;
mod session;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{mpsc, oneshot, watch};

use super::threads::{FINAL_FETCH_LIMIT, ThreadList};
use super::writer::{Msg, SharedWriter, Snapshot, WriterHandle};
use crate::model::capture::CaptureDetail;
use crate::source::api::{ApiClient, ApiError};
use crate::store::{StoreError, UpsertCounts};

/// When a recording ends by itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Until {
    /// The newest session status is idle (with no workflow run open), or the session ended.
    Idle,
    /// The session is terminated or deleted.
    Terminated,
    /// Only on Ctrl-C / SIGTERM.
    Never,
}

#[derive(Debug, Clone)]
pub struct RecordOptions {
    pub session: String,
    pub until: Until,
    pub deltas: bool,
    /// No bytes at all (not even a ping) for this long: reconnect.
    pub idle_timeout: Duration,
    /// Give up when nothing has succeeded for this long.
    pub give_up_after: Duration,
    /// Record child threads' own streams too.
    pub threads: bool,
    pub page_size: u32,
    /// Only page through the event log once (no stream): for finished sessions.
    pub history_only: bool,
    /// `watch`'s telemetry: events, latencies, reconnects and history passes are counted there.
    pub metrics: Option<super::metrics::Metrics>,
}

#[derive(Debug, thiserror::Error)]
pub enum RecordError {
    #[error("authentication refused: {0}; check the API key (ANTHROPIC_API_KEY or --api-key)")]
    Auth(ApiError),
    #[error("no such session: {0}")]
    NotFound(ApiError),
    #[error("the server refused the request: {0}")]
    Refused(ApiError),
    #[error("gave up after {after:?} of failures; last: {last}")]
    GaveUp { after: Duration, last: String },
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("the database writer stopped: {0}")]
    Writer(String),
}

impl RecordError {
    fn from_api(e: ApiError) -> RecordError {
        match e.status() {
            Some(401 | 403) => RecordError::Auth(e),
            Some(404) => RecordError::NotFound(e),
            _ => RecordError::Refused(e),
        }
    }
}

/// Why a recording ended without error.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Stopped {
    Condition(String),
    Interrupted,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct Report {
    pub stopped: Stopped,
    pub counts: UpsertCounts,
    pub connections: u64,
    pub status: Option<String>,
    /// Arrival-to-commit latency of stream frames (upper bounds within 12.5 %).
    pub latency_p50_micros: Option<u64>,
    pub latency_p90_micros: Option<u64>,
    pub latency_p99_micros: Option<u64>,
    pub latency_p999_micros: Option<u64>,
    pub frames_timed: u64,
    /// Thread objects stored by the newest fetch of the thread list (`GET …/threads`).
    pub thread_objects: Option<usize>,
    /// Why the newest fetch of the thread list failed (also in the capture log, kind `threads`).
    pub thread_list_error: Option<String>,
}

/// Connection state, for a status line.
#[derive(Debug, Clone, Default)]
pub struct LiveStatus {
    pub connected: bool,
    pub connections: u64,
    pub last_problem: Option<String>,
}

/// What the caller can watch while recording.
pub struct Watchers {
    pub snapshots: watch::Receiver<Snapshot>,
    pub live: watch::Receiver<LiveStatus>,
}

/// Records until the stop condition, `shutdown` turning true, or a fatal error, with a writer of
/// its own.
pub async fn record(
    client: ApiClient,
    db: PathBuf,
    opts: RecordOptions,
    shutdown: watch::Receiver<bool>,
    on_start: impl FnOnce(Watchers),
) -> Result<Report, RecordError> {
    let shared = SharedWriter::start(&db)?;
    let result = record_with(&shared.handle(), client, opts, shutdown, on_start).await;
    let _ = tokio::task::spawn_blocking(move || shared.close()).await;
    result
}

/// [`record`] on a writer shared with other recordings (`watch`).
pub async fn record_with(
    writer: &WriterHandle,
    client: ApiClient,
    opts: RecordOptions,
    shutdown: watch::Receiver<bool>,
    on_start: impl FnOnce(Watchers),
) -> Result<Report, RecordError> {
    // Counted live (and told) until this recording ends.
    let _live = opts
        .metrics
        .as_ref()
        .map(|m| m.recording_started(&opts.session, opts.history_only));
    let w = writer.attach(&opts.session, opts.metrics.clone()).await?;
    let (live_tx, live_rx) = watch::channel(LiveStatus::default());
    on_start(Watchers {
        snapshots: w.snapshots.clone(),
        live: live_rx,
    });
    let opts = Arc::new(opts);
    let run = format!("{:016x}", fastrand::u64(..));
    let thread_list = Arc::new(ThreadList::new(
        client.clone(),
        opts.session.clone(),
        w.tx.clone(),
        run.clone(),
    ));
    let target = Target {
        client: client.clone(),
        opts: opts.clone(),
        thread: String::new(),
        tx: w.tx.clone(),
        snapshots: w.snapshots.clone(),
        live: Arc::new(live_tx),
        run: run.clone(),
        threads: Some(Arc::clone(&thread_list)),
    };
    let result = target.session_run(shutdown).await;
    if let Ok(raw) = client.get_session(&opts.session).await {
        let _ = w.tx.send(Msg::SessionObject { raw }).await;
    }
    let threads = thread_list.outcome();
    // The list holds a sender: the writer ends only once every sender is gone.
    drop(thread_list);
    let snapshots = w.snapshots.clone();
    drop(target);
    let counts = w.finish().await.map_err(RecordError::Writer)?;
    let (stopped, connections) = result?;
    let snap = snapshots.borrow().clone();
    Ok(Report {
        stopped,
        counts,
        connections,
        status: snap.state.summary.and_then(|s| s.status),
        latency_p50_micros: snap.latency.quantile_micros(0.5),
        latency_p90_micros: snap.latency.quantile_micros(0.9),
        latency_p99_micros: snap.latency.quantile_micros(0.99),
        latency_p999_micros: snap.latency.quantile_micros(0.999),
        frames_timed: snap.latency.count,
        thread_objects: threads.clone().and_then(Result::ok),
        thread_list_error: threads.and_then(Result::err),
    })
}

#[derive(Clone)]
struct Target {
    client: ApiClient,
    opts: Arc<RecordOptions>,
    /// "" for the session's own stream and log.
    thread: String,
    tx: mpsc::Sender<Msg>,
    snapshots: watch::Receiver<Snapshot>,
    live: Arc<watch::Sender<LiveStatus>>,
    /// This process's recording run, so capture-log entries of different runs are told apart.
    run: String,
    /// The session's thread list (the session's own loop only): fetched while recording and
    /// once more when the loop stops.
    threads: Option<Arc<ThreadList>>,
}

impl Target {
    async fn send(&self, msg: Msg) -> Result<(), RecordError> {
        self.tx
            .send(msg)
            .await
            .map_err(|_| RecordError::Writer(self.writer_failure()))
    }

    fn writer_failure(&self) -> String {
        self.snapshots
            .borrow()
            .failed
            .clone()
            .unwrap_or_else(|| "the writer thread ended".into())
    }

    /// An entry of this stream's capture log (never an error: a gone writer shows elsewhere).
    async fn capture(
        &self,
        started_at: String,
        ended_at: Option<String>,
        detail: impl Into<CaptureDetail>,
    ) {
        let _ = self
            .tx
            .send(Msg::capture(
                self.thread.clone(),
                started_at,
                ended_at,
                detail,
            ))
            .await;
    }

    /// Commits what the writer has and returns the newest processed_at of this stream.
    async fn flush(&self) -> Result<Option<String>, RecordError> {
        let (reply, rx) = oneshot::channel();
        self.send(Msg::Flush {
            thread_id: self.thread.clone(),
            reply,
        })
        .await?;
        rx.await
            .map_err(|_| RecordError::Writer(self.writer_failure()))
    }

    /// The session's thread list once more as the recording stops, so per-thread usage is
    /// current; bounded in time, and never an error (a failure is in the capture log).
    async fn final_thread_list(&self) {
        if let Some(list) = &self.threads {
            let _ = tokio::time::timeout(FINAL_FETCH_LIMIT, list.fetch(super::threads::END)).await;
        }
    }

    /// Why this loop should stop now, if it should.
    fn stop_reason(&self, s: &Snapshot, shutdown: &watch::Receiver<bool>) -> Option<String> {
        if !self.thread.is_empty() {
            if *shutdown.borrow() {
                return Some("the session recording ended".into());
            }
            let done = s
                .state
                .threads
                .iter()
                .any(|(t, terminated)| *t == self.thread && *terminated);
            return done.then(|| "thread terminated".into());
        }
        let status = s.state.summary.as_ref().and_then(|x| x.status.as_deref());
        match (self.opts.until, status) {
            (Until::Never, _) => None,
            (_, Some("terminated" | "deleted")) => {
                Some(format!("session {}", status.unwrap_or_default()))
            }
            (Until::Idle, Some("idle")) if s.state.open_runs == 0 => Some("session idle".into()),
            _ => None,
        }
    }
}
