//! The loader thread: answers requests in batches (dropping those a later one makes moot), and
//! while following a session polls the database and reloads the session when it changed.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::mpsc::{Receiver, RecvTimeoutError, SyncSender};
use std::time::{Duration, Instant};

use flightrec::analysis::Point;
use flightrec::store::{Fingerprint, Store};

use super::{FOLLOW_POLL, Reply, Request, Waker, explainer, state, work};
use crate::model::session::SessionData;

/// The session loaded last: the database's fingerprint before it was read, and the data, shared
/// with the UI, that new events are appended to.
struct Loaded {
    session: String,
    before: Fingerprint,
    data: Arc<SessionData>,
}

/// The loader thread's state.
pub(super) struct Worker {
    db: PathBuf,
    store: Option<Store>,
    replies: SyncSender<Reply>,
    waker: Waker,
    open: Option<Loaded>,
    following: bool,
    /// No follow reload before this (a reload of a huge session is throttled to its own cost).
    next_reload: Instant,
    /// The thread that answers explain requests, started on the first.
    explainer: Option<SyncSender<(String, Option<Point>)>>,
}

impl Worker {
    pub(super) fn new(db: PathBuf, replies: SyncSender<Reply>, waker: Waker) -> Worker {
        Worker {
            db,
            store: None,
            replies,
            waker,
            open: None,
            following: false,
            next_reload: Instant::now(),
            explainer: None,
        }
    }

    /// Sends a reply and wakes the UI; false when the UI is gone.
    fn reply(&self, r: Reply) -> bool {
        let ok = self.replies.send(r).is_ok();
        (self.waker)();
        ok
    }

    fn store(&mut self) -> Result<&Store, String> {
        if self.store.is_none() {
            let s = Store::open_reader(&self.db).map_err(|e| e.to_string())?;
            // The viewer keeps its own compact index; mapped pages would only add to its RSS.
            s.set_mmap_size(0).map_err(|e| e.to_string())?;
            self.store = Some(s);
        }
        self.store.as_ref().ok_or_else(|| "no database".to_string())
    }

    pub(super) fn run(mut self, requests: Receiver<Request>) {
        loop {
            let first = match requests.recv_timeout(FOLLOW_POLL) {
                Ok(r) => Some(r),
                Err(RecvTimeoutError::Timeout) => None,
                Err(RecvTimeoutError::Disconnected) => return,
            };
            // Take everything queued; of the requests that replace each other keep the last.
            let mut batch: Vec<Request> = first.into_iter().collect();
            batch.extend(requests.try_iter());
            let batch = coalesce(batch);
            for r in batch {
                if !self.handle(r) {
                    return;
                }
            }
            if self.following && Instant::now() >= self.next_reload && !self.poll() {
                return;
            }
        }
    }

    /// Answers one request; false when the UI is gone.
    fn handle(&mut self, r: Request) -> bool {
        let result = match r {
            Request::Follow(on) => {
                self.following = on;
                return true;
            }
            Request::Sessions => self
                .store()
                .and_then(|s| s.sessions().map_err(|e| e.to_string()))
                .map(Reply::Sessions),
            Request::Open { session } => return self.open(session, false),
            Request::Rows { session, seqs } => self
                .store()
                .and_then(|s| work::rows(s, &session, &seqs))
                .map(|rows| Reply::Rows {
                    session,
                    asked: seqs,
                    rows,
                }),
            Request::Text { session, text } => self
                .store()
                .and_then(|s| {
                    s.seqs_containing(&session, &text)
                        .map_err(|e| e.to_string())
                })
                .map(|seqs| Reply::Text {
                    session,
                    text,
                    seqs,
                }),
            Request::Locate { session, ids } => self
                .store()
                .and_then(|s| work::locate(s, &session, &ids))
                .map(|found| Reply::Located { session, found }),
            Request::Explain { session, at } => {
                if self.explainer.is_none() {
                    self.explainer =
                        explainer::start(self.db.clone(), self.replies.clone(), self.waker.clone());
                }
                // The explainer replies itself; without one, answer here.
                if let Some(tx) = &self.explainer
                    && tx.send((session.clone(), at)).is_ok()
                {
                    return true;
                }
                self.store()
                    .and_then(|s| state::explain_at(s, &session, at))
                    .map(|(explanation, state, extras)| Reply::Explained {
                        session,
                        at,
                        explanation: Box::new(explanation),
                        state: Box::new(state),
                        extras: Box::new(extras),
                    })
            }
        };
        self.reply(result.unwrap_or_else(Reply::Error))
    }

    fn open(&mut self, session: String, reload: bool) -> bool {
        let started = Instant::now();
        let replies = self.replies.clone();
        let waker = self.waker.clone();
        let db = self.db.clone();
        let store = match self.store() {
            Ok(s) => s,
            Err(e) => return self.reply(Reply::Error(e)),
        };
        let progress = |events: usize| {
            let p = Reply::Progress {
                session: session.clone(),
                events,
            };
            // Progress is best effort: never wait for a busy UI.
            if replies.try_send(p).is_ok() {
                waker();
            }
        };
        let loaded = store
            .fingerprint(&session)
            .map_err(|e| e.to_string())
            .and_then(|fp| work::load(store, &db, &session, progress).map(|d| (fp, d)));
        match loaded {
            Ok((before, data)) => {
                // A follow reload of a huge session waits its own cost again before the next; a
                // first load waits only the poll interval (appends after it are cheap).
                let wait = if reload {
                    started.elapsed() * 2
                } else {
                    FOLLOW_POLL
                };
                self.loaded(session, before, Arc::new(data), reload, started, wait)
            }
            Err(e) => self.reply(Reply::Error(e)),
        }
    }

    /// Keeps what was read and sends it to the UI.
    fn loaded(
        &mut self,
        session: String,
        before: Fingerprint,
        data: Arc<SessionData>,
        reload: bool,
        started: Instant,
        wait: Duration,
    ) -> bool {
        let elapsed = started.elapsed();
        self.open = Some(Loaded {
            session: session.clone(),
            before,
            data: Arc::clone(&data),
        });
        self.next_reload = Instant::now() + wait;
        self.reply(Reply::Opened {
            session,
            data,
            reload,
            elapsed,
        })
    }

    /// Brings the followed session up to date when the database says it changed: new events
    /// that sort after those read are appended; anything else (a replaced copy, an event that
    /// sorts earlier) reloads the session.
    fn poll(&mut self) -> bool {
        let Some(Loaded {
            session,
            before,
            mut data,
        }) = self.open.take()
        else {
            return true;
        };
        let started = Instant::now();
        let Ok(store) = self.store() else { return true };
        let Ok(now) = store.fingerprint(&session) else {
            self.open = Some(Loaded {
                session,
                before,
                data,
            });
            return true;
        };
        let revised = now.max_revision != before.max_revision
            && store
                .revised_since(&session, before.max_revision)
                .unwrap_or(true);
        if now.event_count == before.event_count && !revised {
            self.open = Some(Loaded {
                session,
                before: now,
                data,
            });
            return true;
        }
        if !revised && let Ok(true) = work::append(store, &session, &mut data) {
            return self.loaded(session, now, data, true, started, FOLLOW_POLL);
        }
        drop(data);
        self.open(session, true)
    }
}

/// Drops requests a later one in the batch makes moot (an older open, explain or text query).
fn coalesce(batch: Vec<Request>) -> Vec<Request> {
    let last_of = |pred: fn(&Request) -> bool| batch.iter().rposition(pred);
    let open = last_of(|r| matches!(r, Request::Open { .. }));
    let explain = last_of(|r| matches!(r, Request::Explain { .. }));
    let text = last_of(|r| matches!(r, Request::Text { .. }));
    batch
        .into_iter()
        .enumerate()
        .filter(|(i, r)| match r {
            Request::Open { .. } => Some(*i) == open,
            Request::Explain { .. } => Some(*i) == explain,
            Request::Text { .. } => Some(*i) == text,
            _ => true,
        })
        .map(|(_, r)| r)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn coalescing_keeps_the_last_of_each_kind_and_every_row_request() {
        let s = |x: &str| x.to_string();
        let batch = vec![
            Request::Open { session: s("a") },
            Request::Rows {
                session: s("a"),
                seqs: vec![1],
            },
            Request::Explain {
                session: s("a"),
                at: None,
            },
            Request::Open { session: s("b") },
            Request::Rows {
                session: s("b"),
                seqs: vec![2],
            },
            Request::Explain {
                session: s("b"),
                at: None,
            },
        ];
        let kept = coalesce(batch);
        assert_eq!(
            kept,
            vec![
                Request::Rows {
                    session: s("a"),
                    seqs: vec![1]
                },
                Request::Open { session: s("b") },
                Request::Rows {
                    session: s("b"),
                    seqs: vec![2]
                },
                Request::Explain {
                    session: s("b"),
                    at: None
                },
            ]
        );
    }
}
