//! History passes: paging through a stream's event log from a time on, every page to the writer,
//! each failed page retried a few times.

use std::collections::HashSet;
use tokio::sync::{oneshot, watch};

use super::Target;
use crate::model::capture::{HistoryDetail, HistoryPass, RetryDetail};
use crate::model::time::now;
use crate::record::backoff::Backoff;
use crate::record::writer::Msg;
use crate::source::api::{ApiError, EventFilter, Page};
use crate::store::UpsertCounts;

/// Attempts of one page before the pass fails.
const PAGE_ATTEMPTS: u32 = 6;

/// Why a history pass did not complete.
pub(super) enum PassError {
    /// A page failed for good (fatal, or after every attempt).
    Api(ApiError),
    /// The session recording is stopping (never for a thread's pass).
    Shutdown,
    /// The writer is gone.
    Writer,
}

impl Target {
    /// Pages through the log from `from` (inclusive) and stores every page. The pass proves the
    /// history complete only when it reaches the last page; a failed pass proves nothing.
    pub(super) async fn history_pass(
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
                    let detail = HistoryDetail::repeated_cursor(next);
                    self.capture(started_at.clone(), Some(now()), detail).await;
                    break;
                }
                Some(next) => cursor = Some(next),
            }
        }
        let detail = HistoryPass {
            complete: true,
            duplicate: counts.duplicate,
            from: from.map(str::to_string),
            new: counts.new,
            pages,
            quarantined: counts.quarantined,
            updated: counts.updated,
        };
        self.capture(started_at, Some(now()), detail).await;
        self.opts.metrics.iter().for_each(|m| m.history_pass());
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
                    let detail = RetryDetail::history_page(attempt, e.status(), e.to_string());
                    self.capture(at, None, detail).await;
                    if e.is_fatal() || attempt >= PAGE_ATTEMPTS {
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
