//! The session's thread objects while recording (`GET /v1/sessions/{id}/threads`, §1.4 and §6.3
//! of the reference): the whole list, every page, is fetched soon after the recording starts,
//! again when a thread is created or changes status (debounced: one fetch covers every change
//! that arrived before it starts), and once more at the end, so each thread's `usage`, `stats`
//! and status are current. Each fetch that reaches the last page sends every object, as
//! received, to the writer, which replaces the stored copy of its thread.
//!
//! A failed fetch never stops the recording of events: it is noted in the capture log (kind
//! `threads`) and the next change or the end tries again. A refusal that no retry can fix (a 404
//! from a server without the endpoint, a 403) is noted once and the list is not asked for again
//! in this recording.

use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;
use tokio::sync::{mpsc, watch};

use super::backoff::Backoff;
use super::writer::{Msg, Snapshot};
use crate::model::capture::ThreadsDetail;
use crate::model::time::now;
use crate::source::api::{ApiClient, ApiError};

/// How long a thread change waits before the list is fetched, so that a burst of changes costs
/// one fetch.
pub const DEBOUNCE: Duration = Duration::from_secs(2);

/// Attempts of one page before a fetch is given up (transient failures only).
const ATTEMPTS: u32 = 3;

/// Why the last fetch of a recording runs.
pub const END: &str = "end";

/// A fetch at the end of a recording gives up after this long.
pub const FINAL_FETCH_LIMIT: Duration = Duration::from_secs(15);

/// What one fetch came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fetched {
    /// Every page was read and this many objects went to the writer.
    Stored(usize),
    /// The fetch failed; noted in the capture log.
    Failed,
    /// An earlier refusal stopped fetching for this recording.
    Off,
}

/// Fetches and stores a session's thread list.
pub struct ThreadList {
    client: ApiClient,
    session: String,
    tx: mpsc::Sender<Msg>,
    run: String,
    /// Set after a refusal no retry can fix, or once the fetch at the end has run.
    off: AtomicBool,
    /// One fetch at a time, so an older list never lands after a newer one.
    one: tokio::sync::Mutex<()>,
    /// Objects in the newest complete list once one was read, or why the newest fetch failed.
    last: std::sync::Mutex<Option<Result<usize, String>>>,
}

impl ThreadList {
    pub fn new(client: ApiClient, session: String, tx: mpsc::Sender<Msg>, run: String) -> Self {
        ThreadList {
            client,
            session,
            tx,
            run,
            off: AtomicBool::new(false),
            one: tokio::sync::Mutex::new(()),
            last: std::sync::Mutex::new(None),
        }
    }

    /// How many thread objects the newest fetch stored, or why it failed; `None` before any.
    pub fn outcome(&self) -> Option<Result<usize, String>> {
        self.last.lock().ok().and_then(|l| l.clone())
    }

    fn set_outcome(&self, outcome: Result<usize, String>) {
        if let Ok(mut last) = self.last.lock() {
            *last = Some(outcome);
        }
    }

    /// Reads every page and hands the objects to the writer; notes the outcome in the capture
    /// log. Never fails: the recording of events goes on whatever happens here.
    pub async fn fetch(&self, why: &'static str) -> Fetched {
        let _one = self.one.lock().await;
        if self.off.load(Ordering::Relaxed) {
            return Fetched::Off;
        }
        if why == END {
            // Nothing is fetched after the last: its note stays inside the recording's time.
            self.off.store(true, Ordering::Relaxed);
        }
        let started_at = now();
        match self.all_pages().await {
            Ok((objects, pages)) => {
                let n = objects.len();
                let received_at = now();
                let msg = Msg::ThreadObjects {
                    objects,
                    received_at: received_at.clone(),
                };
                if self.tx.send(msg).await.is_err() {
                    return Fetched::Failed;
                }
                self.set_outcome(Ok(n));
                let detail = ThreadsDetail::Stored {
                    pages,
                    run: self.run.clone(),
                    threads: n,
                    why: why.into(),
                };
                self.note(started_at, Some(received_at), detail).await;
                Fetched::Stored(n)
            }
            Err(e) => {
                self.set_outcome(Err(e.to_string()));
                let fatal = e.is_fatal();
                if fatal {
                    self.off.store(true, Ordering::Relaxed);
                }
                let detail = ThreadsDetail::Failed {
                    error: e.to_string(),
                    run: self.run.clone(),
                    status: e.status(),
                    warning: if fatal {
                        ThreadsDetail::UNAVAILABLE
                    } else {
                        ThreadsDetail::UNREAD
                    }
                    .into(),
                    why: why.into(),
                };
                self.note(started_at, Some(now()), detail).await;
                Fetched::Failed
            }
        }
    }

    async fn note(&self, started_at: String, ended_at: Option<String>, detail: ThreadsDetail) {
        let _ = self
            .tx
            .send(Msg::capture(String::new(), started_at, ended_at, detail))
            .await;
    }

    /// Every item of every page, and the number of pages. A repeated cursor ends the paging (as
    /// for event pages, §8.9).
    async fn all_pages(&self) -> Result<(Vec<String>, u64), ApiError> {
        let mut objects = Vec::new();
        let mut cursor: Option<String> = None;
        let mut seen: HashSet<String> = HashSet::new();
        let mut pages = 0u64;
        loop {
            let page = self.page(cursor.as_deref()).await?;
            pages += 1;
            objects.extend(page.items);
            match page.next_page {
                Some(next) if seen.insert(next.clone()) => cursor = Some(next),
                _ => return Ok((objects, pages)),
            }
        }
    }

    async fn page(&self, cursor: Option<&str>) -> Result<crate::source::api::Page, ApiError> {
        let mut backoff = Backoff::standard();
        let mut attempt = 0;
        loop {
            match self.client.list_threads(&self.session, cursor).await {
                Ok(p) => return Ok(p),
                Err(e) => {
                    attempt += 1;
                    if e.is_fatal() || attempt >= ATTEMPTS {
                        return Err(e);
                    }
                    tokio::time::sleep(backoff.next_delay(e.retry_after())).await;
                }
            }
        }
    }

    /// Fetches soon after the start and again after each rise of the writer's count of thread
    /// changes, at most once per [`DEBOUNCE`] plus the fetch itself, until `stop` turns true.
    pub async fn follow(
        &self,
        mut snaps: watch::Receiver<Snapshot>,
        mut stop: watch::Receiver<bool>,
    ) {
        let mut why = "start";
        loop {
            tokio::select! {
                _ = tokio::time::sleep(DEBOUNCE) => {}
                _ = stop.wait_for(|s| *s) => return,
            }
            let fetched_at = snaps.borrow_and_update().thread_events;
            if self.fetch(why).await == Fetched::Off {
                return;
            }
            why = "thread change";
            // Wait for a change the fetch may not have seen.
            loop {
                tokio::select! {
                    changed = snaps.changed() => {
                        if changed.is_err() {
                            return;
                        }
                        if snaps.borrow_and_update().thread_events != fetched_at {
                            break;
                        }
                    }
                    _ = stop.wait_for(|s| *s) => return,
                }
            }
        }
    }
}
