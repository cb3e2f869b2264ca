//! The session's loop: the session object first (a wrong key or id is a clear error), then the
//! session's own connection loop, starting a thread's loop as each thread appears, and the thread
//! list followed alongside; or, with `history_only`, one history pass.

use std::collections::HashSet;
use std::time::Instant;
use tokio::sync::watch;

use super::history::PassError;
use super::{RecordError, Stopped, Target};
use crate::record::backoff::Backoff;
use crate::record::writer::Msg;

impl Target {
    /// The session's loop, starting the threads' loops as threads appear.
    pub(super) async fn session_run(
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
}
