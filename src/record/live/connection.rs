//! One stream's connection loop (the session's, or a thread's): open the stream, backfill from
//! the newest time proven complete, follow the stream until it ends or a stop condition holds,
//! note the connection in the capture log; then stop, retry or reconnect as `decide` says.

use std::sync::atomic::Ordering;
use std::time::Instant;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use super::decide::{Attempt, ConnectionEnd, Next};
use super::history::PassError;
use super::{RecordError, Stopped, Target};
use crate::model::capture::{ConnectDetail, ConnectionDetail, RetryDetail};
use crate::model::time::now;
use crate::record::backoff::Backoff;
use crate::record::reader::{self, EndCause};
use crate::source::api::ApiError;

impl Target {
    /// The connection loop of one stream: until it stops, with the number of connections.
    pub(super) async fn run(
        &self,
        mut shutdown: watch::Receiver<bool>,
    ) -> Result<(Stopped, u64), RecordError> {
        let mut backoff = Backoff::standard();
        // The newest time proven complete: where the next connection's backfill starts.
        let mut proven_until: Option<String> = None;
        let mut failing_since: Option<Instant> = None;
        let mut conn = 0u64;
        loop {
            if *shutdown.borrow() {
                return Ok((Stopped::Interrupted, conn));
            }
            conn += 1;
            let attempt = self.attempt(conn, &mut proven_until, &mut shutdown).await?;
            if attempt.recovered() {
                failing_since = None;
            }
            match attempt.next() {
                Next::Stop { stopped, counted } => {
                    return Ok((stopped, if counted { conn } else { conn - 1 }));
                }
                Next::Fail(e) => {
                    self.fail(e, &mut backoff, &mut failing_since, &shutdown)
                        .await?
                }
                Next::Reconnect { reset_backoff } => {
                    self.pause(&mut backoff, reset_backoff, &mut shutdown).await
                }
            }
        }
    }

    /// The backoff's wait before reconnecting (from the floor again when events flowed); the
    /// session's loop cuts it short on shutdown.
    async fn pause(
        &self,
        backoff: &mut Backoff,
        reset: bool,
        shutdown: &mut watch::Receiver<bool>,
    ) {
        if reset {
            backoff.reset();
        }
        let delay = backoff.next_delay(None);
        tokio::select! {
            _ = tokio::time::sleep(delay) => {}
            _ = shutdown.wait_for(|s| *s), if self.thread.is_empty() => {}
        }
    }

    /// Connection `conn`: opens the stream, follows it to its end and notes it in the capture
    /// log. Advances `proven_until` as far as the connection proves.
    async fn attempt(
        &self,
        conn: u64,
        proven_until: &mut Option<String>,
        shutdown: &mut watch::Receiver<bool>,
    ) -> Result<Attempt, RecordError> {
        let from = proven_until.clone();
        if let Some(m) = self.opts.metrics.as_ref().filter(|_| conn > 1) {
            m.reconnect(&self.opts.session, &self.thread, conn);
        }
        let opened_at = now();
        let opened = tokio::select! {
            r = self.client.open_stream(&self.opts.session, &self.thread, self.opts.deltas, self.opts.idle_timeout) => r,
            _ = shutdown.wait_for(|s| *s) => return Ok(Attempt::InterruptedOpening),
        };
        let stream = match opened {
            Ok(s) => s,
            Err(e) => {
                let detail = RetryDetail::connect(&self.run, conn, e.status(), e.to_string());
                self.capture(opened_at, None, detail).await;
                return Ok(Attempt::OpenFailed(e));
            }
        };
        self.live.send_modify(|l| {
            l.connected = true;
            l.connections += 1;
        });
        let detail = ConnectDetail {
            connection: conn,
            run: Some(self.run.clone()),
        };
        self.capture(opened_at.clone(), None, detail).await;
        let (mut reader, delivered) =
            reader::spawn(stream, self.tx.clone(), self.thread.clone(), conn);
        let mut backfilled = false;
        let end = match self.history_pass(from.as_deref(), shutdown).await {
            Ok(_) => {
                *proven_until = self.flush().await?.or(proven_until.take());
                backfilled = true;
                self.follow(&mut reader, proven_until.as_deref(), shutdown)
                    .await?
            }
            Err(PassError::Shutdown) => ConnectionEnd::Stopped(Stopped::Interrupted),
            Err(PassError::Writer) => return Err(RecordError::Writer(self.writer_failure())),
            Err(PassError::Api(e)) => ConnectionEnd::PassFailed(e),
        };
        // Ended already when the stream did.
        reader.abort();
        if end.is_stop() {
            // While the connection still covers this time, so the capture log shows no gap.
            self.final_thread_list().await;
        }
        let events = delivered.load(Ordering::Relaxed);
        let newest = self.flush().await?;
        if end.proves_newest() {
            *proven_until = newest.or(proven_until.take());
        }
        let cause = end.cause();
        let detail = ConnectionDetail {
            backfill_from: from,
            cause: cause.clone(),
            connection: conn,
            events: Some(events),
            run: Some(self.run.clone()),
        };
        self.capture(opened_at, Some(now()), detail).await;
        self.live.send_modify(|l| {
            l.connected = false;
            if !end.is_stop() {
                l.last_problem = Some(cause);
            }
        });
        Ok(Attempt::Opened {
            end,
            events,
            backfilled,
        })
    }

    /// Follows an open stream, its backfill done, until it ends or this loop should stop. Each
    /// malformed frame gets a history pass (what it held is recovered from the log).
    async fn follow(
        &self,
        reader: &mut JoinHandle<EndCause>,
        proven_until: Option<&str>,
        shutdown: &mut watch::Receiver<bool>,
    ) -> Result<ConnectionEnd, RecordError> {
        let mut snaps = self.snapshots.clone();
        let mut seen_quarantined = snaps.borrow().quarantined;
        loop {
            let snap = snaps.borrow_and_update().clone();
            if let Some(why) = snap.failed {
                return Err(RecordError::Writer(why));
            }
            if let Some(why) = self.stop_reason(&snap, shutdown)
                && let Some(end) = self.confirm_stop(why, proven_until, shutdown).await?
            {
                return Ok(end);
            }
            if snap.quarantined > seen_quarantined {
                seen_quarantined = snap.quarantined;
                // Only a failed page ends the connection; a stop is seen on the next round.
                if let Err(PassError::Api(e)) = self.history_pass(proven_until, shutdown).await {
                    return Ok(ConnectionEnd::PassFailed(e));
                }
                continue;
            }
            tokio::select! {
                end = &mut *reader => {
                    return Ok(ConnectionEnd::StreamEnded(
                        end.unwrap_or(EndCause::Broken("reader task failed".into())),
                    ));
                }
                changed = snaps.changed() => {
                    if changed.is_err() {
                        return Err(RecordError::Writer(self.writer_failure()));
                    }
                }
                _ = shutdown.wait_for(|s| *s) => {
                    if self.thread.is_empty() {
                        return Ok(ConnectionEnd::Stopped(Stopped::Interrupted));
                    }
                    // A thread stops once the session recording has: re-checked above.
                }
            }
        }
    }

    /// A stop condition held: a final history pass confirms it, since only the newest status
    /// counts (a thread's stop stands either way). `None`: not confirmed, follow on.
    async fn confirm_stop(
        &self,
        why: String,
        proven_until: Option<&str>,
        shutdown: &watch::Receiver<bool>,
    ) -> Result<Option<ConnectionEnd>, RecordError> {
        match self.history_pass(proven_until, shutdown).await {
            Ok(_) => {
                self.flush().await?;
                let confirmed = self.snapshots.borrow().clone();
                let why = self
                    .stop_reason(&confirmed, shutdown)
                    .or(Some(why).filter(|_| !self.thread.is_empty()));
                Ok(why.map(|why| ConnectionEnd::Stopped(Stopped::Condition(why))))
            }
            Err(PassError::Shutdown) => Ok(Some(ConnectionEnd::Stopped(Stopped::Interrupted))),
            Err(PassError::Writer) => Err(RecordError::Writer(self.writer_failure())),
            Err(PassError::Api(e)) => Ok(Some(ConnectionEnd::PassFailed(e))),
        }
    }

    /// Notes a failed request in the status and waits its backoff, unless failures have gone on
    /// for longer than `give_up_after`.
    pub(super) async fn wait_after_failure(
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
}
