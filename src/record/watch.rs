//! `flightrec watch`: record every session of the workspace that is or becomes running.

use serde::Deserialize;
use std::collections::HashMap;
use std::path::PathBuf;
use std::time::Duration;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use super::live::{RecordError, RecordOptions, Report, record};
use crate::source::api::{ApiClient, ApiError};

#[derive(Deserialize)]
struct SessionRef {
    id: String,
}

/// What happened to one session's recording.
pub type Outcome = (String, Result<Report, RecordError>);

/// Polls the session list every `poll` and records each running session with `template` (its
/// `session` replaced), until `shutdown`. `on_done` hears about every recording that ends.
pub async fn watch_sessions(
    client: ApiClient,
    db: PathBuf,
    template: RecordOptions,
    poll: Duration,
    mut shutdown: watch::Receiver<bool>,
    mut on_done: impl FnMut(&Outcome),
) -> Result<Vec<Outcome>, ApiError> {
    let mut running: HashMap<String, JoinHandle<Outcome>> = HashMap::new();
    let mut finished = Vec::new();
    loop {
        let ids = match list_active(&client).await {
            Ok(ids) => ids,
            Err(e) if e.is_fatal() => return Err(e),
            Err(_) => Vec::new(), // transient: try again at the next poll
        };
        for id in ids {
            if running.contains_key(&id) {
                continue;
            }
            let opts = RecordOptions {
                session: id.clone(),
                ..template.clone()
            };
            let (client, db, sd) = (client.clone(), db.clone(), shutdown.clone());
            running.insert(
                id.clone(),
                tokio::spawn(async move { (id, record(client, db, opts, sd, |_| {}).await) }),
            );
        }
        let done: Vec<String> = running
            .iter()
            .filter(|(_, h)| h.is_finished())
            .map(|(k, _)| k.clone())
            .collect();
        for id in done {
            if let Some(h) = running.remove(&id)
                && let Ok(outcome) = h.await
            {
                on_done(&outcome);
                finished.push(outcome);
            }
        }
        tokio::select! {
            _ = tokio::time::sleep(poll) => {}
            _ = shutdown.wait_for(|s| *s) => break,
        }
    }
    for (_, h) in running {
        if let Ok(outcome) = h.await {
            on_done(&outcome);
            finished.push(outcome);
        }
    }
    Ok(finished)
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
