//! `flightrec watch`: record every session of the workspace that is or becomes running, found by
//! polling the session list and, with webhooks, by the nudges the intake sends.
//!
//! At most `max_streams` sessions are followed on a stream at once; others get a history pass
//! when they are found or change status. A nudge for a session whose history pass is under way
//! runs another pass after it, so no status change is missed. On start, the sessions whose
//! recording was interrupted (`WatchOptions::resume`) are followed again. A `deployment_run.failed`
//! nudge reads the run, stores it, and tells `WatchOptions::runs`.

use serde::Deserialize;
use std::collections::HashMap;
use std::path::PathBuf;
use std::time::Duration;
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;

use super::live::{RecordError, RecordOptions, Report, record_with};
use super::writer::SharedWriter;
use crate::analysis::deployment::RunFacts;
use crate::source::api::{ApiClient, ApiError};
use crate::store::{DeploymentRunRow, Store};
use crate::webhook::{Nudge, Reaction};

#[derive(Deserialize)]
struct SessionRef {
    id: String,
}

/// What happened to one session's recording.
pub type Outcome = (String, Result<Report, RecordError>);

/// A deployment run read after a `deployment_run.failed` webhook: its id and what was stored
/// (or why nothing was).
pub type RunFetched = (String, Result<RunFacts, String>);

/// How to watch, besides what each recording does.
#[derive(Debug, Clone)]
pub struct WatchOptions {
    /// How often the session list is read.
    pub poll: Duration,
    /// Sessions followed on a stream at once; `None`: no bound.
    pub max_streams: Option<usize>,
    /// Sessions to follow at once on start (those interrupted last time).
    pub resume: Vec<String>,
    /// Told about each deployment run read.
    pub runs: Option<mpsc::UnboundedSender<RunFetched>>,
}

impl WatchOptions {
    pub fn new(poll: Duration) -> WatchOptions {
        WatchOptions {
            poll,
            max_streams: None,
            resume: Vec::new(),
            runs: None,
        }
    }
}

/// One recording under way.
struct Running {
    task: JoinHandle<()>,
    /// On a stream (else one history pass).
    stream: bool,
}

/// The recordings under way and those finished.
struct Recorders {
    client: ApiClient,
    db: PathBuf,
    /// One writer (one connection) for every recording, started with the first.
    writer: Option<SharedWriter>,
    template: RecordOptions,
    max_streams: usize,
    shutdown: watch::Receiver<bool>,
    running: HashMap<String, Running>,
    /// Sessions nudged while their history pass ran: another recording when it ends (true: a
    /// stream was asked for).
    again: HashMap<String, bool>,
    finished: Vec<Outcome>,
    /// Each recording sends its outcome here as it ends, so it is reported then.
    ended: mpsc::UnboundedSender<Outcome>,
    runs: Option<mpsc::UnboundedSender<RunFetched>>,
}

impl Recorders {
    /// Starts recording `id` unless a recording of it runs (after a history pass, another comes);
    /// `history_only` for one pass, and so beyond `max_streams`.
    fn start(&mut self, id: &str, history_only: bool) {
        let stream = !(history_only || self.template.history_only);
        if let Some(r) = self.running.get(id) {
            if !r.stream {
                *self.again.entry(id.to_string()).or_insert(stream) |= stream;
            }
            return;
        }
        let streams = self.running.values().filter(|r| r.stream).count();
        let stream = stream && streams < self.max_streams;
        let opts = RecordOptions {
            session: id.to_string(),
            history_only: !stream,
            ..self.template.clone()
        };
        let (client, sd) = (self.client.clone(), self.shutdown.clone());
        let (owned, ended) = (id.to_string(), self.ended.clone());
        let writer = match &self.writer {
            Some(w) => Ok(w.handle()),
            None => SharedWriter::start(&self.db).map(|w| {
                let handle = w.handle();
                self.writer = Some(w);
                handle
            }),
        };
        let task = tokio::spawn(async move {
            let report = match writer {
                Ok(w) => record_with(&w, client, opts, sd, |_| {}).await,
                Err(e) => Err(RecordError::Store(e)),
            };
            let _ = ended.send((owned, report));
        });
        self.running
            .insert(id.to_string(), Running { task, stream });
    }

    fn nudge(&mut self, n: &Nudge) {
        match n.reaction {
            Reaction::Record => self.start(&n.session_id, false),
            Reaction::Confirm => self.start(&n.session_id, true),
            Reaction::FetchRun => {
                tokio::spawn(fetch_run(
                    self.client.clone(),
                    self.db.clone(),
                    n.session_id.clone(),
                    self.runs.clone(),
                ));
            }
            Reaction::Ignore => {}
        }
    }

    fn ended(&mut self, outcome: Outcome, on_done: &mut impl FnMut(&Outcome)) {
        self.running.remove(&outcome.0);
        if let Some(stream) = self.again.remove(&outcome.0)
            && !*self.shutdown.borrow()
        {
            self.start(&outcome.0, !stream);
        }
        on_done(&outcome);
        self.finished.push(outcome);
    }
}

/// Reads a run, stores it, and tells `runs`.
async fn fetch_run(
    client: ApiClient,
    db: PathBuf,
    id: String,
    runs: Option<mpsc::UnboundedSender<RunFetched>>,
) {
    let got = match client.get_deployment_run(&id).await {
        Ok(body) => match RunFacts::parse(&body) {
            Ok(facts) => {
                let row = DeploymentRunRow {
                    id: facts.id.clone(),
                    status: facts.status.clone(),
                    session_id: facts.session_id.clone(),
                    deployment_id: facts.deployment_id.clone(),
                    error_type: facts.error_type.clone(),
                    created_at: facts.created_at.clone(),
                    fetched_at: crate::model::time::now(),
                    body,
                };
                tokio::task::spawn_blocking(move || {
                    Store::open(&db).and_then(|mut s| s.store_deployment_run(&row))
                })
                .await
                .map_err(|e| e.to_string())
                .and_then(|r| r.map_err(|e| e.to_string()))
                .map(|()| facts)
            }
            Err(e) => Err(format!("GET /v1/deployment_runs/{id}: {e}")),
        },
        Err(e) => Err(e.to_string()),
    };
    if let Some(tx) = runs {
        let _ = tx.send((id, got));
    }
}

/// The next nudge; never, without webhooks or once the intake is gone.
async fn next_nudge(nudges: &mut Option<mpsc::UnboundedReceiver<Nudge>>) -> Option<Nudge> {
    match nudges {
        Some(rx) => rx.recv().await,
        None => std::future::pending().await,
    }
}

/// Polls the session list every `opts.poll` and records each running session with `template`
/// (its `session` replaced), until `shutdown`; between polls, acts on `nudges` at once. `on_done`
/// hears about every recording that ends.
pub async fn watch_sessions(
    client: ApiClient,
    db: PathBuf,
    template: RecordOptions,
    opts: WatchOptions,
    mut shutdown: watch::Receiver<bool>,
    mut nudges: Option<mpsc::UnboundedReceiver<Nudge>>,
    mut on_done: impl FnMut(&Outcome),
) -> Result<Vec<Outcome>, ApiError> {
    let (ended, mut outcomes) = mpsc::unbounded_channel();
    let mut rec = Recorders {
        client,
        db,
        writer: None,
        template,
        max_streams: opts.max_streams.unwrap_or(usize::MAX),
        shutdown: shutdown.clone(),
        running: HashMap::new(),
        again: HashMap::new(),
        finished: Vec::new(),
        ended,
        runs: opts.runs,
    };
    let poll = opts.poll;
    for id in &opts.resume {
        rec.start(id, false);
    }
    'watch: loop {
        let ids = match list_active(&rec.client).await {
            Ok(ids) => ids,
            Err(e) if e.is_fatal() => return Err(e),
            Err(_) => Vec::new(), // transient: try again at the next poll
        };
        for id in ids {
            rec.start(&id, false);
        }
        let next_poll = tokio::time::Instant::now() + poll;
        loop {
            tokio::select! {
                _ = tokio::time::sleep_until(next_poll) => break,
                _ = shutdown.wait_for(|s| *s) => break 'watch,
                Some(outcome) = outcomes.recv() => rec.ended(outcome, &mut on_done),
                Some(n) = next_nudge(&mut nudges) => rec.nudge(&n),
            }
        }
    }
    let tasks: Vec<JoinHandle<()>> = rec.running.drain().map(|(_, r)| r.task).collect();
    for h in tasks {
        let _ = h.await;
    }
    while let Ok(outcome) = outcomes.try_recv() {
        rec.ended(outcome, &mut on_done);
    }
    if let Some(w) = rec.writer.take() {
        let _ = tokio::task::spawn_blocking(move || w.close()).await;
    }
    Ok(rec.finished)
}

/// Ids of the sessions that are running or rescheduling, all pages.
async fn list_active(client: &ApiClient) -> Result<Vec<String>, ApiError> {
    let mut ids = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let page = client
            .list_sessions(&["running", "rescheduling"], cursor.as_deref())
            .await?;
        for item in &page.items {
            if let Ok(s) = serde_json::from_str::<SessionRef>(item) {
                ids.push(s.id);
            }
        }
        match page.next_page {
            Some(next) if cursor.as_deref() != Some(next.as_str()) => cursor = Some(next),
            _ => return Ok(ids),
        }
    }
}
