//! The writer thread's loop over every attached recording: live messages first, taken from the
//! recordings' queues in turn, then a slice of the oldest history page; one commit for all.

use std::collections::{HashSet, VecDeque};
use std::future::poll_fn;
use std::task::Poll;
use std::time::Instant;
use tokio::sync::mpsc::error::TryRecvError;
use tokio::sync::{mpsc, oneshot, watch};

use super::state::{HistoryJob, State};
use super::{
    Attached, Control, HISTORY_SLICE, MAX_BATCH_TIME, MAX_PER_COMMIT, Msg, SNAPSHOT_EVERY, Snapshot,
};
use crate::record::metrics::Metrics;
use crate::store::{Store, StoreError, UpsertCounts};

/// One attached recording.
struct Session {
    key: u64,
    st: State,
    rx: mpsc::Receiver<Msg>,
    snapshots: watch::Sender<Snapshot>,
    done: Option<oneshot::Sender<Result<UpsertCounts, String>>>,
    metrics: Option<Metrics>,
    /// Every sender is gone and the queue is empty: it detaches once its history is written.
    closed: bool,
    /// Changed since its snapshot was published.
    dirty: bool,
    /// Handled a message in the batch under way.
    in_batch: bool,
    /// `st.counts.new` at the previous commit, for the metrics.
    committed_new: u64,
    last_snapshot: Instant,
}

/// Every recording attached to the writer, and the history pages being written.
pub(super) struct Fleet {
    control: Option<mpsc::UnboundedReceiver<Control>>,
    /// Control messages taken while waiting, handled before the next batch.
    pending: Vec<Control>,
    sessions: Vec<Session>,
    history: VecDeque<(u64, HistoryJob)>,
    next_key: u64,
    /// Where the next turn over the recordings' queues starts, so none is starved.
    cursor: usize,
}

impl Fleet {
    pub(super) fn new(control: mpsc::UnboundedReceiver<Control>) -> Fleet {
        Fleet {
            control: Some(control),
            pending: Vec::new(),
            sessions: Vec::new(),
            history: VecDeque::new(),
            next_key: 0,
            cursor: 0,
        }
    }

    /// Runs until the control channel is closed and every recording has detached.
    pub(super) fn run(&mut self, store: &mut Store) -> Result<(), StoreError> {
        loop {
            self.take_controls(store);
            self.detach_closed(store)?;
            if self.control.is_none() && self.sessions.is_empty() && self.history.is_empty() {
                return Ok(());
            }
            // Block for work only when no history page is part-way through.
            let first = if self.history.is_empty() {
                match self.wait() {
                    Some(m) => Some(m),
                    None => continue,
                }
            } else {
                self.try_next()
            };
            self.batch(store, first)?;
        }
    }

    /// Tells every recording and every waiting attach that the writer stopped on `why`.
    pub(super) fn fail(&mut self, why: &str) {
        for s in &mut self.sessions {
            s.snapshots
                .send_modify(|snap| snap.failed = Some(why.to_string()));
            if let Some(done) = s.done.take() {
                let _ = done.send(Err(why.to_string()));
            }
        }
        self.control = None;
        for Control::Attach { reply, .. } in self.pending.drain(..) {
            let gone = std::io::Error::other(format!("the database writer stopped: {why}"));
            let _ = reply.send(Err(StoreError::Output(gone)));
        }
    }

    fn take_controls(&mut self, store: &mut Store) {
        while let Some(rx) = &mut self.control {
            match rx.try_recv() {
                Ok(c) => self.pending.push(c),
                Err(TryRecvError::Empty) => break,
                Err(TryRecvError::Disconnected) => self.control = None,
            }
        }
        for Control::Attach {
            session_id,
            metrics,
            rx,
            reply,
        } in std::mem::take(&mut self.pending)
        {
            let state = match store.recording_state(&session_id) {
                Ok(state) => state,
                Err(e) => {
                    let _ = reply.send(Err(e));
                    continue;
                }
            };
            let (snap_tx, snapshots) = watch::channel(Snapshot {
                state,
                ..Snapshot::default()
            });
            let (done_tx, done) = oneshot::channel();
            if reply.send(Ok(Attached { snapshots, done })).is_err() {
                continue; // the recording gave up waiting
            }
            self.next_key += 1;
            self.sessions.push(Session {
                key: self.next_key,
                st: State::new(session_id),
                rx,
                snapshots: snap_tx,
                done: Some(done_tx),
                metrics,
                closed: false,
                dirty: false,
                in_batch: false,
                committed_new: 0,
                last_snapshot: Instant::now(),
            });
        }
    }

    /// Detaches the recordings whose senders are all gone, once all they sent is written.
    fn detach_closed(&mut self, store: &mut Store) -> Result<(), StoreError> {
        let busy: HashSet<u64> = self.history.iter().map(|(k, _)| *k).collect();
        let mut i = 0;
        while i < self.sessions.len() {
            let s = &self.sessions[i];
            if !s.closed || busy.contains(&s.key) {
                i += 1;
                continue;
            }
            let mut s = self.sessions.remove(i);
            if s.dirty {
                publish(store, &mut s)?;
            }
            if let Some(done) = s.done.take() {
                let _ = done.send(Ok(s.st.counts));
            }
        }
        Ok(())
    }

    /// Waits for a control message (handled at the next turn) or a recording's message.
    fn wait(&mut self) -> Option<(usize, Msg)> {
        futures_executor::block_on(poll_fn(|cx| {
            if let Some(rx) = &mut self.control {
                match rx.poll_recv(cx) {
                    Poll::Ready(Some(c)) => {
                        self.pending.push(c);
                        return Poll::Ready(None);
                    }
                    Poll::Ready(None) => {
                        self.control = None;
                        return Poll::Ready(None);
                    }
                    Poll::Pending => {}
                }
            }
            let n = self.sessions.len();
            for k in 0..n {
                let i = (self.cursor + k) % n;
                let s = &mut self.sessions[i];
                if s.closed {
                    continue;
                }
                match s.rx.poll_recv(cx) {
                    Poll::Ready(Some(m)) => {
                        self.cursor = i + 1;
                        return Poll::Ready(Some((i, m)));
                    }
                    Poll::Ready(None) => {
                        s.closed = true;
                        return Poll::Ready(None);
                    }
                    Poll::Pending => {}
                }
            }
            Poll::Pending
        }))
    }

    /// The next message of any recording, taking their queues in turn; `None` when all are empty.
    fn try_next(&mut self) -> Option<(usize, Msg)> {
        let n = self.sessions.len();
        for k in 0..n {
            let i = (self.cursor + k) % n;
            let s = &mut self.sessions[i];
            if s.closed {
                continue;
            }
            match s.rx.try_recv() {
                Ok(m) => {
                    self.cursor = i + 1;
                    return Some((i, m));
                }
                Err(TryRecvError::Disconnected) => s.closed = true,
                Err(TryRecvError::Empty) => {}
            }
        }
        None
    }

    /// One transaction: `first` and what follows it, then a slice of the oldest history page;
    /// then each touched recording's latencies, metrics, snapshot and flush replies.
    fn batch(&mut self, store: &mut Store, first: Option<(usize, Msg)>) -> Result<(), StoreError> {
        let mut touched = Vec::new();
        let mut batch = store.batch()?;
        let started = Instant::now();
        let mut n = 0;
        let mut next = first;
        while let Some((i, msg)) = next {
            let s = &mut self.sessions[i];
            if !s.in_batch {
                s.in_batch = true;
                touched.push(i);
            }
            match msg {
                Msg::History {
                    thread_id,
                    events,
                    received_at,
                    reply,
                } => self.history.push_back((
                    s.key,
                    HistoryJob {
                        thread_id,
                        events,
                        received_at,
                        reply: Some(reply),
                        done: 0,
                        counts: UpsertCounts::default(),
                    },
                )),
                msg => s.st.handle(&mut batch, msg)?,
            }
            n += 1;
            // A batch ends when the queues are empty, or it is big or old enough: the first frame
            // in it waits for all the others before it is committed.
            next = if n < MAX_PER_COMMIT && started.elapsed() < MAX_BATCH_TIME {
                self.try_next()
            } else {
                None
            };
        }
        // Live frames went first; now a slice of the oldest history page.
        if let Some((key, mut job)) = self.history.pop_front()
            && let Some(i) = self.sessions.iter().position(|s| s.key == key)
        {
            let s = &mut self.sessions[i];
            if !s.in_batch {
                s.in_batch = true;
                touched.push(i);
            }
            // Small slices while live frames are flowing, whole pages when nothing waits.
            let slice = if n > 0 { HISTORY_SLICE } else { MAX_PER_COMMIT };
            s.st.history_slice(&mut batch, &mut job, slice)?;
            match job.reply.take() {
                Some(reply) if job.done == job.events.len() => {
                    let _ = reply.send(job.counts);
                }
                reply => {
                    job.reply = reply;
                    self.history.push_front((key, job));
                }
            }
        }
        batch.commit()?;
        let committed = Instant::now();
        for &i in &touched {
            let s = &mut self.sessions[i];
            s.in_batch = false;
            s.dirty = true;
            for arrived in s.st.pending_arrivals.drain(..) {
                let micros = committed.duration_since(arrived).as_micros() as u64;
                s.st.latency.record(micros);
                s.metrics.iter().for_each(|m| m.latency_micros(micros));
            }
            let new = s.st.counts.new - s.committed_new;
            s.metrics.iter().for_each(|m| m.committed(new));
            s.committed_new = s.st.counts.new;
        }
        // The snapshot goes out before flush replies, so a flusher then sees the flushed state.
        // Under a flood it is refreshed at most every SNAPSHOT_EVERY; always when the recording
        // is caught up or someone flushed.
        let busy: HashSet<u64> = self.history.iter().map(|(k, _)| *k).collect();
        for s in self.sessions.iter_mut().filter(|s| s.dirty) {
            let caught_up = s.rx.is_empty() && !busy.contains(&s.key);
            if caught_up
                || !s.st.flush_replies.is_empty()
                || s.last_snapshot.elapsed() >= SNAPSHOT_EVERY
            {
                publish(store, s)?;
            }
            for (thread, reply) in s.st.flush_replies.drain(..) {
                let _ = reply.send(store.newest_processed_at(&s.st.session_id, &thread)?);
            }
        }
        Ok(())
    }
}

fn publish(store: &mut Store, s: &mut Session) -> Result<(), StoreError> {
    let state = store.recording_state(&s.st.session_id)?;
    s.snapshots.send_replace(Snapshot {
        state,
        counts: s.st.counts,
        quarantined: s.st.quarantined,
        failed: None,
        latency: s.st.latency.clone(),
        thread_events: s.st.thread_events,
    });
    s.dirty = false;
    s.last_snapshot = Instant::now();
    Ok(())
}
