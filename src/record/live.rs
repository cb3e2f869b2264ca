//! `flightrec record`: attach to a session and keep every event, whatever the network does.
//!
//! For the session and each of its threads, a connection loop: open the stream first, then page
//! the log (the stream never replays history), upsert both; on any end of the stream, back off and
//! do it again, backfilling from the newest time proven complete (`created_at[gte]`, since events
//! can share a timestamp). Every connection, history pass and retry goes to the capture log.

use serde_json::json;
use std::collections::HashSet;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};
use tokio::sync::{mpsc, oneshot, watch};

use super::backoff::Backoff;
use super::reader::{self, EndCause};
use super::threads::{FINAL_FETCH_LIMIT, ThreadList};
use super::writer::{self, Msg, Snapshot};
use crate::model::time::now;
use crate::source::api::{ApiClient, ApiError, EventFilter, Page};
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

/// Records until the stop condition, `shutdown` turning true, or a fatal error.
pub async fn record(
    client: ApiClient,
    db: PathBuf,
    opts: RecordOptions,
    shutdown: watch::Receiver<bool>,
    on_start: impl FnOnce(Watchers),
) -> Result<Report, RecordError> {
    let w = writer::start(db, opts.session.clone())?;
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
    drop(w.tx);
    let joined = tokio::task::spawn_blocking(move || w.handle.join()).await;
    let counts = match joined {
        Ok(Ok(r)) => r?,
        _ => return Err(RecordError::Writer("the writer thread panicked".into())),
    };
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

enum PassError {
    Api(ApiError),
    Shutdown,
    Writer,
}

impl Target {
    /// The session's loop, starting the threads' loops as threads appear.
    async fn session_run(
        &self,
        shutdown: watch::Receiver<bool>,
    ) -> Result<(Stopped, u64), RecordError> {
        let session = self.opts.session.clone();
        // The session object at start; this also turns a wrong key or id into a clear error.
        let mut backoff = Backoff::standard();
        let started = Instant::now();
        loop {
            match self.client.get_session(&session).await {
                Ok(raw) => {
                    self.send(Msg::SessionObject { raw }).await?;
                    break;
                }
                Err(e) if e.is_fatal() => return Err(RecordError::from_api(e)),
                Err(e) => {
                    self.wait_after_failure(&mut backoff, started, &e, &shutdown)
                        .await?
                }
            }
        }
        if self.opts.history_only {
            return match self.history_pass(None, &shutdown).await {
                Ok(_) => {
                    self.final_thread_list().await;
                    self.flush().await?;
                    Ok((Stopped::Condition("history read".into()), 0))
                }
                Err(PassError::Shutdown) => Ok((Stopped::Interrupted, 0)),
                Err(PassError::Writer) => Err(RecordError::Writer(self.writer_failure())),
                Err(PassError::Api(e)) => Err(RecordError::from_api(e)),
            };
        }
        let (stop_children_tx, stop_children) = watch::channel(false);
        let mut children = Vec::new();
        let mut started_threads: HashSet<String> = HashSet::new();
        let mut main = Box::pin(self.run(shutdown.clone()));
        let mut snaps = self.snapshots.clone();
        let list = self.threads.clone();
        let (list_snaps, list_stop) = (self.snapshots.clone(), stop_children.clone());
        let mut follow = Box::pin(async move {
            if let Some(list) = list {
                list.follow(list_snaps, list_stop).await;
            }
        });
        let mut following = true;
        let result = loop {
            tokio::select! {
                r = &mut main => break r,
                _ = &mut follow, if following => following = false,
                changed = snaps.changed(), if self.opts.threads => {
                    if changed.is_err() { continue; }
                    let threads = snaps.borrow().state.threads.clone();
                    for (tid, _) in threads {
                        if started_threads.insert(tid.clone()) {
                            let child = Target { thread: tid, threads: None, ..self.clone() };
                            let stop = stop_children.clone();
                            children.push(tokio::spawn(async move { child.run(stop).await }));
                        }
                    }
                }
            }
        };
        let _ = stop_children_tx.send(true);
        if following {
            follow.await;
        }
        for c in children {
            let _ = c.await;
        }
        result
    }

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

    async fn capture(
        &self,
        kind: &'static str,
        started_at: String,
        ended_at: Option<String>,
        detail: serde_json::Value,
    ) {
        let _ = self
            .tx
            .send(Msg::Capture {
                thread_id: self.thread.clone(),
                kind,
                started_at,
                ended_at,
                detail,
            })
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

    async fn wait_after_failure(
        &self,
        backoff: &mut Backoff,
        failing_since: Instant,
        e: &ApiError,
        shutdown: &watch::Receiver<bool>,
    ) -> Result<(), RecordError> {
        self.live.send_modify(|l| {
            l.connected = false;
            l.last_problem = Some(e.to_string());
        });
        if failing_since.elapsed() >= self.opts.give_up_after {
            return Err(RecordError::GaveUp {
                after: failing_since.elapsed(),
                last: e.to_string(),
            });
        }
        let delay = backoff.next_delay(e.retry_after());
        let mut shutdown = shutdown.clone();
        tokio::select! {
            _ = tokio::time::sleep(delay) => {}
            _ = shutdown.wait_for(|s| *s) => {}
        }
        Ok(())
    }

    /// A failed request: fatal ones end the recording; others wait their backoff, unless
    /// failures have gone on for longer than `give_up_after`.
    async fn fail(
        &self,
        e: ApiError,
        backoff: &mut Backoff,
        failing_since: &mut Option<Instant>,
        shutdown: &watch::Receiver<bool>,
    ) -> Result<(), RecordError> {
        if e.is_fatal() {
            return Err(RecordError::from_api(e));
        }
        let since = *failing_since.get_or_insert_with(Instant::now);
        self.wait_after_failure(backoff, since, &e, shutdown).await
    }

    /// The connection loop of one stream (the session's, or a thread's).
    async fn run(
        &self,
        mut shutdown: watch::Receiver<bool>,
    ) -> Result<(Stopped, u64), RecordError> {
        let mut backoff = Backoff::standard();
        let mut proven_until: Option<String> = None;
        let mut failing_since: Option<Instant> = None;
        let mut conn = 0u64;
        loop {
            if *shutdown.borrow() {
                return Ok((Stopped::Interrupted, conn));
            }
            let from = proven_until.clone();
            conn += 1;
            let opened_at = now();
            let opened = tokio::select! {
                r = self.client.open_stream(&self.opts.session, &self.thread, self.opts.deltas, self.opts.idle_timeout) => r,
                _ = shutdown.wait_for(|s| *s) => return Ok((Stopped::Interrupted, conn - 1)),
            };
            let stream = match opened {
                Ok(s) => s,
                Err(e) => {
                    let detail = json!({ "run": self.run, "connection": conn, "during": "connect", "status": e.status(), "error": e.to_string() });
                    self.capture("retry", opened_at, None, detail).await;
                    self.fail(e, &mut backoff, &mut failing_since, &shutdown)
                        .await?;
                    continue;
                }
            };
            self.live.send_modify(|l| {
                l.connected = true;
                l.connections += 1;
            });
            self.capture(
                "connect",
                opened_at.clone(),
                None,
                json!({ "run": self.run, "connection": conn }),
            )
            .await;
            let (mut reader, delivered) =
                reader::spawn(stream, self.tx.clone(), self.thread.clone(), conn);
            let mut stop: Option<Stopped> = None;
            let mut pass_failed: Option<ApiError> = None;
            match self.history_pass(from.as_deref(), &shutdown).await {
                Ok(_) => {
                    proven_until = self.flush().await?.or(proven_until);
                    failing_since = None;
                }
                Err(PassError::Shutdown) => stop = Some(Stopped::Interrupted),
                Err(PassError::Writer) => return Err(RecordError::Writer(self.writer_failure())),
                Err(PassError::Api(e)) => pass_failed = Some(e),
            }
            let mut snaps = self.snapshots.clone();
            let mut seen_quarantined = snaps.borrow().quarantined;
            let cause = if stop.is_some() || pass_failed.is_some() {
                reader.abort();
                EndCause::Broken("history pass did not complete".into())
            } else {
                loop {
                    let snap = snaps.borrow_and_update().clone();
                    if let Some(why) = snap.failed {
                        return Err(RecordError::Writer(why));
                    }
                    if let Some(why) = self.stop_reason(&snap, &shutdown) {
                        // Confirm with a final history pass: only the newest status counts.
                        match self.history_pass(proven_until.as_deref(), &shutdown).await {
                            Ok(_) => {
                                self.flush().await?;
                                let confirmed = self.snapshots.borrow().clone();
                                if let Some(why) = self
                                    .stop_reason(&confirmed, &shutdown)
                                    .or(Some(why).filter(|_| !self.thread.is_empty()))
                                {
                                    reader.abort();
                                    stop = Some(Stopped::Condition(why));
                                    break EndCause::WriterGone;
                                }
                            }
                            Err(PassError::Shutdown) => {
                                reader.abort();
                                stop = Some(Stopped::Interrupted);
                                break EndCause::WriterGone;
                            }
                            Err(PassError::Writer) => {
                                return Err(RecordError::Writer(self.writer_failure()));
                            }
                            Err(PassError::Api(e)) => {
                                reader.abort();
                                pass_failed = Some(e);
                                break EndCause::Broken(
                                    "final history pass did not complete".into(),
                                );
                            }
                        }
                    }
                    if snap.quarantined > seen_quarantined {
                        // A malformed frame: what it held is recovered from the log.
                        seen_quarantined = snap.quarantined;
                        if let Err(PassError::Api(e)) =
                            self.history_pass(proven_until.as_deref(), &shutdown).await
                        {
                            reader.abort();
                            pass_failed = Some(e);
                            break EndCause::Broken(
                                "history pass after a malformed frame did not complete".into(),
                            );
                        }
                        continue;
                    }
                    tokio::select! {
                        end = &mut reader => break end.unwrap_or(EndCause::Broken("reader task failed".into())),
                        changed = snaps.changed() => {
                            if changed.is_err() { return Err(RecordError::Writer(self.writer_failure())); }
                        }
                        _ = shutdown.wait_for(|s| *s) => {
                            if self.thread.is_empty() {
                                reader.abort();
                                stop = Some(Stopped::Interrupted);
                                break EndCause::WriterGone;
                            }
                            // A thread stops once the session recording has: re-check above.
                        }
                    }
                }
            };
            if stop.is_some() {
                // While the connection still covers this time, so the capture log shows no gap.
                self.final_thread_list().await;
            }
            let n = delivered.load(Ordering::Relaxed);
            let newest = self.flush().await?;
            if pass_failed.is_none() && stop != Some(Stopped::Interrupted) {
                proven_until = newest.or(proven_until);
            }
            let cause_text = match (&stop, &pass_failed) {
                (Some(Stopped::Condition(why)), _) => format!("stopped: {why}"),
                (Some(Stopped::Interrupted), _) => "stopped: interrupted".into(),
                (None, Some(e)) => format!("history pass failed: {e}"),
                (None, None) => cause.to_string(),
            };
            let detail = json!({ "run": self.run, "connection": conn, "cause": cause_text, "events": n, "backfill_from": from });
            self.capture("connection", opened_at, Some(now()), detail)
                .await;
            self.live.send_modify(|l| {
                l.connected = false;
                if stop.is_none() {
                    l.last_problem = Some(cause_text.clone());
                }
            });
            if let Some(s) = stop {
                return Ok((s, conn));
            }
            if let Some(e) = pass_failed {
                self.fail(e, &mut backoff, &mut failing_since, &shutdown)
                    .await?;
                continue;
            }
            if n > 0 {
                backoff.reset();
            }
            let delay = backoff.next_delay(None);
            tokio::select! {
                _ = tokio::time::sleep(delay) => {}
                _ = shutdown.wait_for(|s| *s), if self.thread.is_empty() => {}
            }
        }
    }

    /// Pages through the log from `from` (inclusive) and stores every page. The pass proves the
    /// history complete only when it reaches the last page; a failed pass proves nothing.
    async fn history_pass(
        &self,
        from: Option<&str>,
        shutdown: &watch::Receiver<bool>,
    ) -> Result<UpsertCounts, PassError> {
        let started_at = now();
        let filter = EventFilter {
            created_at_gte: from.map(str::to_string),
            types: vec![],
            limit: Some(self.opts.page_size),
        };
        let mut cursor: Option<String> = None;
        let mut seen: HashSet<String> = HashSet::new();
        let mut counts = UpsertCounts::default();
        let mut pages = 0u64;
        loop {
            let page = self
                .page_with_retries(&filter, cursor.as_deref(), shutdown)
                .await?;
            pages += 1;
            let (reply, rx) = oneshot::channel();
            let msg = Msg::History {
                thread_id: self.thread.clone(),
                events: page.items,
                received_at: now(),
                reply,
            };
            self.tx.send(msg).await.map_err(|_| PassError::Writer)?;
            counts.merge(&rx.await.map_err(|_| PassError::Writer)?);
            match page.next_page {
                None => break,
                Some(next) if !seen.insert(next.clone()) => {
                    let detail = json!({ "warning": "the server repeated a page cursor; stopped paging", "cursor": next });
                    self.capture("history", started_at.clone(), Some(now()), detail)
                        .await;
                    break;
                }
                Some(next) => cursor = Some(next),
            }
        }
        let detail = json!({
            "from": from, "pages": pages, "new": counts.new, "updated": counts.updated,
            "duplicate": counts.duplicate, "quarantined": counts.quarantined, "complete": true,
        });
        self.capture("history", started_at, Some(now()), detail)
            .await;
        Ok(counts)
    }

    async fn page_with_retries(
        &self,
        filter: &EventFilter,
        cursor: Option<&str>,
        shutdown: &watch::Receiver<bool>,
    ) -> Result<Page, PassError> {
        let mut backoff = Backoff::standard();
        let mut attempt = 0;
        loop {
            if *shutdown.borrow() && self.thread.is_empty() {
                return Err(PassError::Shutdown);
            }
            let at = now();
            match self
                .client
                .list_events(&self.opts.session, &self.thread, filter, cursor)
                .await
            {
                Ok(p) => return Ok(p),
                Err(e) => {
                    attempt += 1;
                    let detail = json!({ "during": "history page", "attempt": attempt, "status": e.status(), "error": e.to_string() });
                    self.capture("retry", at, None, detail).await;
                    if e.is_fatal() || attempt >= 6 {
                        return Err(PassError::Api(e));
                    }
                    let mut sd = shutdown.clone();
                    tokio::select! {
                        _ = tokio::time::sleep(backoff.next_delay(e.retry_after())) => {}
                        _ = sd.wait_for(|s| *s), if self.thread.is_empty() => return Err(PassError::Shutdown),
                    }
                }
            }
        }
    }
}
