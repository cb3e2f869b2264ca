//! The recorder's writer: one thread owns the database connection. It takes messages from the
//! network tasks, commits whenever its queue runs dry (so latency stays low and throughput high),
//! and publishes what the recorder's stop conditions need after every commit.

use serde_json::json;
use std::collections::HashMap;
use std::path::PathBuf;
use std::time::Instant;
use tokio::sync::{mpsc, oneshot, watch};

use super::import::now;
use crate::model::{Envelope, Source};
use crate::source::SseFrame;
use crate::store::{Incoming, RecordingState, Store, StoreError, UpsertCounts, WriteBatch};

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
    /// An entry for the capture log.
    Capture {
        thread_id: String,
        kind: &'static str,
        started_at: String,
        ended_at: Option<String>,
        detail: serde_json::Value,
    },
    /// The session object (`GET /v1/sessions/{id}`) as received.
    SessionObject { raw: String },
    /// Commit and answer with the newest processed_at of a stream (for the next backfill).
    Flush {
        thread_id: String,
        reply: oneshot::Sender<Option<String>>,
    },
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
}

/// Arrival-to-commit latencies in power-of-two microsecond buckets (bucket i: < 2^i µs).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LatencyHistogram {
    pub buckets: [u64; 32],
    pub count: u64,
}

impl LatencyHistogram {
    pub fn record(&mut self, micros: u64) {
        let i = (64 - micros.leading_zeros() as usize).min(31);
        self.buckets[i] += 1;
        self.count += 1;
    }

    /// The upper bound of the bucket holding quantile `q` (0..1), in microseconds.
    pub fn quantile_micros(&self, q: f64) -> Option<u64> {
        if self.count == 0 {
            return None;
        }
        let target = ((self.count as f64) * q).ceil().max(1.0) as u64;
        let mut seen = 0;
        for (i, n) in self.buckets.iter().enumerate() {
            seen += n;
            if seen >= target {
                return Some(1u64 << i);
            }
        }
        None
    }
}

/// Most messages handled before a commit, to bound the transaction.
const MAX_PER_COMMIT: usize = 5000;

pub struct Writer {
    pub tx: mpsc::Sender<Msg>,
    pub snapshots: watch::Receiver<Snapshot>,
    pub handle: std::thread::JoinHandle<Result<UpsertCounts, StoreError>>,
}

/// Starts the writer thread on the database at `db` for `session_id`.
pub fn start(db: PathBuf, session_id: String) -> Result<Writer, StoreError> {
    let mut store = Store::open(&db)?;
    let initial = Snapshot {
        state: store.recording_state(&session_id)?,
        ..Snapshot::default()
    };
    let (tx, rx) = mpsc::channel(4096);
    let (snap_tx, snapshots) = watch::channel(initial);
    let handle = std::thread::Builder::new()
        .name("flightrec-writer".into())
        .spawn(move || {
            let result = run(&mut store, &session_id, rx, &snap_tx);
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

struct State {
    session_id: String,
    counts: UpsertCounts,
    quarantined: u64,
    /// Preview ordinals per (connection, previewed event id).
    preview_ordinals: HashMap<(u64, String), u32>,
    flush_replies: Vec<(String, oneshot::Sender<Option<String>>)>,
    latency: LatencyHistogram,
    pending_arrivals: Vec<Instant>,
}

fn run(
    store: &mut Store,
    session_id: &str,
    mut rx: mpsc::Receiver<Msg>,
    snapshots: &watch::Sender<Snapshot>,
) -> Result<UpsertCounts, StoreError> {
    let mut st = State {
        session_id: session_id.to_string(),
        counts: UpsertCounts::default(),
        quarantined: 0,
        preview_ordinals: HashMap::new(),
        flush_replies: Vec::new(),
        latency: LatencyHistogram::default(),
        pending_arrivals: Vec::new(),
    };
    while let Some(first) = rx.blocking_recv() {
        let mut batch = store.batch()?;
        st.handle(&mut batch, first)?;
        let mut n = 1;
        while n < MAX_PER_COMMIT {
            match rx.try_recv() {
                Ok(msg) => st.handle(&mut batch, msg)?,
                Err(_) => break,
            }
            n += 1;
        }
        batch.commit()?;
        let committed = Instant::now();
        for arrived in st.pending_arrivals.drain(..) {
            st.latency
                .record(committed.duration_since(arrived).as_micros() as u64);
        }
        // The snapshot goes out before flush replies, so a flusher then sees the flushed state.
        let state = store.recording_state(&st.session_id)?;
        snapshots.send_replace(Snapshot {
            state,
            counts: st.counts,
            quarantined: st.quarantined,
            failed: None,
            latency: st.latency.clone(),
        });
        for (thread, reply) in st.flush_replies.drain(..) {
            let _ = reply.send(store.newest_processed_at(&st.session_id, &thread)?);
        }
    }
    Ok(st.counts)
}

impl State {
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
            Msg::History {
                thread_id,
                events,
                received_at,
                reply,
            } => {
                let before = b.counts();
                for (i, text) in events.iter().enumerate() {
                    match Envelope::parse(text, None) {
                        Ok(env) => {
                            let o = b.upsert(&self.incoming(
                                &thread_id,
                                &env,
                                Source::List,
                                &received_at,
                                0,
                            ))?;
                            self.counts.add(o);
                        }
                        Err(e) => {
                            let origin = format!("history pass item {}", i + 1);
                            self.quarantine(
                                b,
                                &thread_id,
                                Source::List,
                                &origin,
                                &e.to_string(),
                                &received_at,
                                text,
                            )?
                        }
                    }
                }
                let after = b.counts();
                let _ = reply.send(UpsertCounts {
                    new: after.new - before.new,
                    updated: after.updated - before.updated,
                    duplicate: after.duplicate - before.duplicate,
                    previews: after.previews - before.previews,
                    quarantined: after.quarantined - before.quarantined,
                });
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
                let detail = json!({ "connection": conn, "data": f.data });
                b.log_capture(
                    Some(&self.session_id),
                    thread,
                    "error_frame",
                    at,
                    None,
                    &detail,
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
