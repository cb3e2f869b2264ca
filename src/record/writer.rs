//! The recorder's writer: one thread owns the database connection. It takes messages from the
//! network tasks, commits whenever its queue runs dry (so latency stays low and throughput high),
//! and publishes what the recorder's stop conditions need after every commit.

use std::collections::HashMap;
use std::path::PathBuf;
use std::time::Instant;
use tokio::sync::{mpsc, oneshot, watch};

use super::import::ThreadProbe;
use super::metrics::Metrics;
use crate::model::capture::{CaptureDetail, ErrorFrameDetail};
use crate::model::time::now;
use crate::model::{Envelope, Source};
use crate::source::SseFrame;
use crate::store::{
    Incoming, Outcome, RecordingState, Store, StoreError, UpsertCounts, WriteBatch,
};

/// Messages to the writer.
pub enum Msg {
    /// A frame from a stream connection.
    Frame {
        thread_id: String,
        connection: u64,
        frame: SseFrame,
        received_at: String,
        arrived: Instant,
    },
    /// A complete history pass: written in one transaction, or not at all.
    History {
        thread_id: String,
        events: Vec<String>,
        received_at: String,
        reply: oneshot::Sender<UpsertCounts>,
    },
    /// An entry for the capture log; built by [`Msg::capture`] from a typed detail.
    Capture {
        thread_id: String,
        kind: &'static str,
        started_at: String,
        ended_at: Option<String>,
        detail: serde_json::Value,
    },
    /// The session object (`GET /v1/sessions/{id}`) as received.
    SessionObject { raw: String },
    /// Every item of a complete thread list (`GET /v1/sessions/{id}/threads`) as received; each
    /// replaces the stored copy of its thread.
    ThreadObjects {
        objects: Vec<String>,
        received_at: String,
    },
    /// Commit and answer with the newest processed_at of a stream (for the next backfill).
    Flush {
        thread_id: String,
        reply: oneshot::Sender<Option<String>>,
    },
}

impl Msg {
    /// A capture-log entry of `thread_id`: its kind and detail from the typed detail.
    pub fn capture(
        thread_id: String,
        started_at: String,
        ended_at: Option<String>,
        detail: impl Into<CaptureDetail>,
    ) -> Msg {
        let detail = detail.into();
        Msg::Capture {
            thread_id,
            kind: detail.kind(),
            started_at,
            ended_at,
            detail: detail.to_value(),
        }
    }
}

/// What the writer publishes after each commit.
#[derive(Debug, Clone, Default)]
pub struct Snapshot {
    pub state: RecordingState,
    pub counts: UpsertCounts,
    /// Frames quarantined so far; a rise means a backfill is due.
    pub quarantined: u64,
    /// The writer stopped on a database error.
    pub failed: Option<String>,
    /// Time from a stream frame's arrival to its commit.
    pub latency: LatencyHistogram,
    /// `session.thread_*` events stored new or changed so far: a rise means the thread objects
    /// have changed on the server.
    pub thread_events: u64,
}

/// Arrival-to-commit latencies, log-linear: 8 buckets per power of two of microseconds, so a
/// quantile is known to within 12.5 %.
#[derive(Debug, Clone, PartialEq)]
pub struct LatencyHistogram {
    buckets: Vec<u64>,
    pub count: u64,
}

const SUB: u32 = 8;

impl Default for LatencyHistogram {
    fn default() -> Self {
        LatencyHistogram {
            buckets: vec![0; (64 * SUB) as usize],
            count: 0,
        }
    }
}

impl LatencyHistogram {
    fn index(micros: u64) -> usize {
        if micros < u64::from(SUB) {
            return micros as usize;
        }
        let octave = 63 - micros.leading_zeros(); // >= 3
        let sub = (micros >> (octave - 3)) & u64::from(SUB - 1);
        (octave * SUB + sub as u32) as usize - (3 * SUB - SUB) as usize
    }

    /// The largest value that lands in bucket `i`.
    fn upper(i: usize) -> u64 {
        if i < SUB as usize {
            return i as u64;
        }
        let i = i + (2 * SUB) as usize;
        let octave = (i as u32) / SUB;
        let sub = u64::from((i as u32) % SUB);
        ((SUB as u64 + sub + 1) << (octave - 3)) - 1
    }

    pub fn record(&mut self, micros: u64) {
        let i = Self::index(micros).min(self.buckets.len() - 1);
        self.buckets[i] += 1;
        self.count += 1;
    }

    /// An upper bound for quantile `q` (0..1), in microseconds.
    pub fn quantile_micros(&self, q: f64) -> Option<u64> {
        if self.count == 0 {
            return None;
        }
        let target = ((self.count as f64) * q).ceil().max(1.0) as u64;
        let mut seen = 0;
        for (i, n) in self.buckets.iter().enumerate() {
            seen += n;
            if seen >= target {
                return Some(Self::upper(i));
            }
        }
        None
    }
}

/// Most messages handled before a commit, to bound the transaction.
const MAX_PER_COMMIT: usize = 500;
/// How often the checkpointer folds the WAL into the database while recording.
const CHECKPOINT_EVERY: std::time::Duration = std::time::Duration::from_millis(500);

/// Messages waiting for the writer: the network tasks wait (TCP holds the rest) beyond this, so
/// an event never sits long in memory uncommitted. A frame's latency includes its wait here, so
/// under a flood the queue length is the latency: measured p99 with 256 / 64 / 32 slots,
/// 10.2 / 6.7 / 5.6 ms, for 10% less throughput at 32 (still ~47,000 events/s).
const QUEUE: usize = 32;

pub struct Writer {
    pub tx: mpsc::Sender<Msg>,
    pub snapshots: watch::Receiver<Snapshot>,
    pub handle: std::thread::JoinHandle<Result<UpsertCounts, StoreError>>,
}

/// Starts the writer thread on the database at `db` for `session_id`.
pub fn start(
    db: PathBuf,
    session_id: String,
    metrics: Option<Metrics>,
) -> Result<Writer, StoreError> {
    let mut store = Store::open(&db)?;
    let initial = Snapshot {
        state: store.recording_state(&session_id)?,
        ..Snapshot::default()
    };
    // Checkpoints would stall the writer (and every frame queued behind it): another connection
    // does them, on its own thread, while the writer runs.
    store.set_autocheckpoint(0)?;
    let checkpointer = Store::open(&db)?;
    let (tx, rx) = mpsc::channel(QUEUE);
    let (snap_tx, snapshots) = watch::channel(initial);
    let (done_tx, done_rx) = std::sync::mpsc::channel::<()>();
    std::thread::Builder::new()
        .name("flightrec-checkpoint".into())
        .spawn(move || {
            while let Err(std::sync::mpsc::RecvTimeoutError::Timeout) =
                done_rx.recv_timeout(CHECKPOINT_EVERY)
            {
                let _ = checkpointer.checkpoint_passive();
            }
        })
        .map_err(|e| StoreError::Output(std::io::Error::other(e)))?;
    let handle = std::thread::Builder::new()
        .name("flightrec-writer".into())
        .spawn(move || {
            let result = run(&mut store, &session_id, rx, &snap_tx, metrics);
            drop(done_tx);
            if let Err(e) = &result {
                snap_tx.send_modify(|s| s.failed = Some(e.to_string()));
            }
            let _ = store.checkpoint();
            result
        })
        .map_err(|e| StoreError::Output(std::io::Error::other(e)))?;
    Ok(Writer {
        tx,
        snapshots,
        handle,
    })
}

/// How long a batch may collect work before it is committed.
const MAX_BATCH_TIME: std::time::Duration = std::time::Duration::from_millis(2);

/// How stale the published snapshot may get while the writer is flooded.
const SNAPSHOT_EVERY: std::time::Duration = std::time::Duration::from_millis(50);

/// History items written per commit, between bursts of live frames.
const HISTORY_SLICE: usize = 100;

/// A history page being written a slice at a time.
struct HistoryJob {
    thread_id: String,
    events: Vec<String>,
    received_at: String,
    reply: Option<oneshot::Sender<UpsertCounts>>,
    done: usize,
    counts: UpsertCounts,
}

struct State {
    session_id: String,
    counts: UpsertCounts,
    quarantined: u64,
    /// Preview ordinals per (connection, previewed event id).
    preview_ordinals: HashMap<(u64, String), u32>,
    flush_replies: Vec<(String, oneshot::Sender<Option<String>>)>,
    latency: LatencyHistogram,
    pending_arrivals: Vec<Instant>,
    thread_events: u64,
}

fn run(
    store: &mut Store,
    session_id: &str,
    mut rx: mpsc::Receiver<Msg>,
    snapshots: &watch::Sender<Snapshot>,
    metrics: Option<Metrics>,
) -> Result<UpsertCounts, StoreError> {
    let mut st = State {
        session_id: session_id.to_string(),
        counts: UpsertCounts::default(),
        quarantined: 0,
        preview_ordinals: HashMap::new(),
        flush_replies: Vec::new(),
        latency: LatencyHistogram::default(),
        pending_arrivals: Vec::new(),
        thread_events: 0,
    };
    let mut history: std::collections::VecDeque<HistoryJob> = std::collections::VecDeque::new();
    let mut last_snapshot = Instant::now();
    loop {
        // Block for work only when no history page is part-way through.
        let first = if history.is_empty() {
            match rx.blocking_recv() {
                Some(m) => Some(m),
                None => break,
            }
        } else {
            rx.try_recv().ok()
        };
        let new_before = st.counts.new;
        let mut batch = store.batch()?;
        let started = Instant::now();
        let mut n = 0;
        let mut next = first;
        while let Some(msg) = next {
            match msg {
                Msg::History {
                    thread_id,
                    events,
                    received_at,
                    reply,
                } => history.push_back(HistoryJob {
                    thread_id,
                    events,
                    received_at,
                    reply: Some(reply),
                    done: 0,
                    counts: UpsertCounts::default(),
                }),
                msg => st.handle(&mut batch, msg)?,
            }
            n += 1;
            // A batch ends when the queue is empty, or it is big or old enough: the first frame
            // in it waits for all the others before it is committed.
            next = if n < MAX_PER_COMMIT && started.elapsed() < MAX_BATCH_TIME {
                rx.try_recv().ok()
            } else {
                None
            };
        }
        // Live frames went first; now a slice of the oldest history page.
        if let Some(mut job) = history.pop_front() {
            // Small slices while live frames are flowing, whole pages when nothing waits.
            let slice = if n > 0 { HISTORY_SLICE } else { MAX_PER_COMMIT };
            st.history_slice(&mut batch, &mut job, slice)?;
            match job.reply.take() {
                Some(reply) if job.done == job.events.len() => {
                    let _ = reply.send(job.counts);
                }
                reply => {
                    job.reply = reply;
                    history.push_front(job);
                }
            }
        }
        batch.commit()?;
        let committed = Instant::now();
        for arrived in st.pending_arrivals.drain(..) {
            let micros = committed.duration_since(arrived).as_micros() as u64;
            st.latency.record(micros);
            metrics.iter().for_each(|m| m.latency_micros(micros));
        }
        metrics
            .iter()
            .for_each(|m| m.committed(st.counts.new - new_before));
        // The snapshot goes out before flush replies, so a flusher then sees the flushed state.
        // Under a flood it is refreshed at most every SNAPSHOT_EVERY; always when the writer
        // catches up or someone flushed.
        let caught_up = rx.is_empty() && history.is_empty();
        if caught_up || !st.flush_replies.is_empty() || last_snapshot.elapsed() >= SNAPSHOT_EVERY {
            let state = store.recording_state(&st.session_id)?;
            snapshots.send_replace(Snapshot {
                state,
                counts: st.counts,
                quarantined: st.quarantined,
                failed: None,
                latency: st.latency.clone(),
                thread_events: st.thread_events,
            });
            last_snapshot = Instant::now();
        }
        for (thread, reply) in st.flush_replies.drain(..) {
            let _ = reply.send(store.newest_processed_at(&st.session_id, &thread)?);
        }
    }
    Ok(st.counts)
}

impl State {
    fn history_slice(
        &mut self,
        b: &mut WriteBatch<'_>,
        job: &mut HistoryJob,
        slice: usize,
    ) -> Result<(), StoreError> {
        let end = (job.done + slice).min(job.events.len());
        for i in job.done..end {
            let text = &job.events[i];
            match Envelope::parse(text, None) {
                Ok(env) => {
                    let o = b.upsert(&self.incoming(
                        &job.thread_id,
                        &env,
                        Source::List,
                        &job.received_at,
                        0,
                    ))?;
                    self.counts.add(o);
                    job.counts.add(o);
                    self.note_thread_event(&env, o);
                }
                Err(e) => {
                    let origin = format!("history page item {}", i + 1);
                    self.quarantine(
                        b,
                        &job.thread_id,
                        Source::List,
                        &origin,
                        &e.to_string(),
                        &job.received_at,
                        text,
                    )?;
                    job.counts.quarantined += 1;
                }
            }
        }
        job.done = end;
        Ok(())
    }

    fn handle(&mut self, b: &mut WriteBatch<'_>, msg: Msg) -> Result<(), StoreError> {
        match msg {
            Msg::Frame {
                thread_id,
                connection,
                frame,
                received_at,
                arrived,
            } => {
                self.pending_arrivals.push(arrived);
                self.frame(b, &thread_id, connection, &frame, &received_at)?
            }
            Msg::History { reply, .. } => {
                // `run` takes history pages apart; this is not reached.
                let _ = reply.send(UpsertCounts::default());
            }
            Msg::Capture {
                thread_id,
                kind,
                started_at,
                ended_at,
                detail,
            } => {
                b.log_capture(
                    Some(&self.session_id),
                    &thread_id,
                    kind,
                    &started_at,
                    ended_at.as_deref(),
                    &detail,
                )?;
            }
            Msg::SessionObject { raw } => b.set_session_object(&self.session_id, &raw, &now())?,
            Msg::ThreadObjects {
                objects,
                received_at,
            } => {
                for (i, raw) in objects.iter().enumerate() {
                    self.thread_object(b, i, raw, &received_at)?;
                }
            }
            Msg::Flush { thread_id, reply } => self.flush_replies.push((thread_id, reply)),
        }
        Ok(())
    }

    fn frame(
        &mut self,
        b: &mut WriteBatch<'_>,
        thread: &str,
        conn: u64,
        f: &SseFrame,
        at: &str,
    ) -> Result<(), StoreError> {
        match f.name.as_str() {
            "ping" => return Ok(()),
            "error" => {
                let detail = CaptureDetail::from(ErrorFrameDetail::Stream {
                    connection: conn,
                    data: f.data.clone(),
                });
                b.log_capture(
                    Some(&self.session_id),
                    thread,
                    detail.kind(),
                    at,
                    None,
                    &detail.to_value(),
                )?;
                return Ok(());
            }
            _ => {}
        }
        let name = (f.name != "message").then_some(f.name.as_str());
        match Envelope::parse(&f.data, name) {
            Ok(env) => {
                let ordinal = if env.is_preview() {
                    let key = (conn, env.link_id.as_deref().unwrap_or("").to_string());
                    let n = self.preview_ordinals.entry(key).or_insert(0);
                    *n += 1;
                    *n
                } else {
                    0
                };
                let o = b.upsert(&self.incoming(thread, &env, Source::Stream, at, ordinal))?;
                self.counts.add(o);
                self.note_thread_event(&env, o);
            }
            Err(e) => {
                let origin = format!("stream connection {conn}");
                self.quarantine(
                    b,
                    thread,
                    Source::Stream,
                    &origin,
                    &e.to_string(),
                    at,
                    &f.data,
                )?;
            }
        }
        Ok(())
    }

    /// Counts a thread's creation or status change that was not stored before.
    fn note_thread_event(&mut self, env: &Envelope<'_>, o: Outcome) {
        if env.event_type.starts_with("session.thread_")
            && matches!(o, Outcome::Inserted | Outcome::Updated)
        {
            self.thread_events += 1;
        }
    }

    /// Stores one item of a thread list under its `id`; an item without one is quarantined
    /// (without asking for a backfill: it is not an event).
    fn thread_object(
        &mut self,
        b: &mut WriteBatch<'_>,
        index: usize,
        raw: &str,
        at: &str,
    ) -> Result<(), StoreError> {
        let reason = match serde_json::from_str::<ThreadProbe<'_>>(raw) {
            Ok(t) if !t.id.is_empty() => {
                let parent = t.parent_thread_id.as_deref();
                return b.set_thread_object(&self.session_id, &t.id, parent, raw, at);
            }
            Ok(_) => "a thread object with an empty \"id\"".to_string(),
            Err(e) => format!("not a thread object: {e}"),
        };
        let origin = format!("thread list item {}", index + 1);
        b.quarantine(
            Some(&self.session_id),
            "",
            Source::List,
            &origin,
            &reason,
            at,
            raw.as_bytes(),
        )?;
        self.counts.quarantined += 1;
        Ok(())
    }

    fn incoming<'a>(
        &'a self,
        thread: &'a str,
        env: &'a Envelope<'a>,
        source: Source,
        at: &'a str,
        ordinal: u32,
    ) -> Incoming<'a> {
        Incoming {
            session_id: &self.session_id,
            thread_id: thread,
            envelope: env,
            source,
            received_at: at,
            preview_ordinal: ordinal,
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn quarantine(
        &mut self,
        b: &mut WriteBatch<'_>,
        thread: &str,
        source: Source,
        origin: &str,
        reason: &str,
        at: &str,
        raw: &str,
    ) -> Result<(), StoreError> {
        b.quarantine(
            Some(&self.session_id),
            thread,
            source,
            origin,
            reason,
            at,
            raw.as_bytes(),
        )?;
        self.counts.quarantined += 1;
        self.quarantined += 1;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::LatencyHistogram;

    #[test]
    fn buckets_bound_their_values_within_an_eighth() {
        for v in [
            0u64, 1, 7, 8, 9, 15, 16, 100, 999, 1000, 8191, 9000, 123_456, 10_000_000,
        ] {
            let i = LatencyHistogram::index(v);
            let hi = LatencyHistogram::upper(i);
            assert!(hi >= v, "{v} -> bucket {i} upper {hi}");
            assert!(hi as f64 <= (v as f64) * 1.125 + 1.0, "{v} -> {hi}");
        }
    }

    #[test]
    fn quantiles() {
        let mut h = LatencyHistogram::default();
        for v in 1..=1000u64 {
            h.record(v * 10);
        }
        let p99 = h.quantile_micros(0.99).unwrap();
        assert!((9900..=11_200).contains(&p99), "{p99}");
        assert_eq!(LatencyHistogram::default().quantile_micros(0.5), None);
    }
}
