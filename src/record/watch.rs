//! `flightrec watch`: record every session of the workspace that is or becomes running, found by
//! polling the session list and, with webhooks, by the nudges the intake sends.

use serde::Deserialize;
use std::collections::HashMap;
use std::path::PathBuf;
use std::time::Duration;
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;

use super::live::{RecordError, RecordOptions, Report, record};
use crate::source::api::{ApiClient, ApiError};
use crate::webhook::{Nudge, Reaction};

#[derive(Deserialize)]
struct SessionRef {
    id: String,
}

/// What happened to one session's recording.
pub type Outcome = (String, Result<Report, RecordError>);

/// The recordings under way and those finished.
struct Recorders {
    client: ApiClient,
    db: PathBuf,
    template: RecordOptions,
    shutdown: watch::Receiver<bool>,
    running: HashMap<String, JoinHandle<()>>,
    finished: Vec<Outcome>,
    /// Each recording sends its outcome here as it ends, so it is reported then.
    ended: mpsc::UnboundedSender<Outcome>,
}

impl Recorders {
    /// Starts recording `id` unless a recording of it runs; `history_only` for one pass.
    fn start(&mut self, id: &str, history_only: bool) {
        if self.running.contains_key(id) {
            return;
        }
        let opts = RecordOptions {
            session: id.to_string(),
            history_only: history_only || self.template.history_only,
            ..self.template.clone()
        };
        let (client, db, sd) = (self.client.clone(), self.db.clone(), self.shutdown.clone());
        let (owned, ended) = (id.to_string(), self.ended.clone());
        self.running.insert(
            owned.clone(),
            tokio::spawn(async move {
                let _ = ended.send((owned.clone(), record(client, db, opts, sd, |_| {}).await));
            }),
        );
    }

    fn nudge(&mut self, n: &Nudge) {
        match n.reaction {
            Reaction::Record => self.start(&n.session_id, false),
            Reaction::Confirm => self.start(&n.session_id, true),
            Reaction::Ignore => {}
        }
    }

    fn ended(&mut self, outcome: Outcome, on_done: &mut impl FnMut(&Outcome)) {
        self.running.remove(&outcome.0);
        on_done(&outcome);
        self.finished.push(outcome);
    }
}

/// The next nudge; never, without webhooks or once the intake is gone.
async fn next_nudge(nudges: &mut Option<mpsc::UnboundedReceiver<Nudge>>) -> Option<Nudge> {
    match nudges {
        Some(rx) => rx.recv().await,
        None => std::future::pending().await,
    }
}

/// Polls the session list every `poll` and records each running session with `template` (its
/// `session` replaced), until `shutdown`; between polls, acts on `nudges` at once. `on_done`
/// hears about every recording that ends.
pub async fn watch_sessions(
    client: ApiClient,
    db: PathBuf,
    template: RecordOptions,
    poll: Duration,
    mut shutdown: watch::Receiver<bool>,
    mut nudges: Option<mpsc::UnboundedReceiver<Nudge>>,
    mut on_done: impl FnMut(&Outcome),
) -> Result<Vec<Outcome>, ApiError> {
    let (ended, mut outcomes) = mpsc::unbounded_channel();
    let mut rec = Recorders {
        client,
        db,
        template,
        shutdown: shutdown.clone(),
        running: HashMap::new(),
        finished: Vec::new(),
        ended,
    };
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
    let tasks: Vec<JoinHandle<()>> = rec.running.drain().map(|(_, h)| h).collect();
    for h in tasks {
        let _ = h.await;
    }
    while let Ok(outcome) = outcomes.try_recv() {
        rec.ended(outcome, &mut on_done);
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
