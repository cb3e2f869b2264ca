//! The recorder's writer: one thread owns the database connection, for every recording attached
//! to it (`watch` attaches all of its sessions to one writer; `record` starts one for its session).
//! It takes messages from the network tasks of every recording, commits whenever its queues run
//! dry (so latency stays low and throughput high), and publishes what each recording's stop
//! conditions need after a commit touched it. A second connection, on its own thread, checkpoints.

mod latency;
mod run;
mod state;

use std::path::Path;
use std::time::Instant;
use tokio::sync::{mpsc, oneshot, watch};

pub use latency::LatencyHistogram;

use super::metrics::Metrics;
use crate::model::capture::CaptureDetail;
use crate::source::SseFrame;
use crate::store::{RecordingState, Store, StoreError, UpsertCounts};

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

/// Most messages handled before a commit, to bound the transaction.
const MAX_PER_COMMIT: usize = 500;
/// How often the checkpointer folds the WAL into the database while recording.
const CHECKPOINT_EVERY: std::time::Duration = std::time::Duration::from_millis(500);

/// Messages waiting for the writer: the network tasks wait (TCP holds the rest) beyond this, so
/// an event never sits long in memory uncommitted. A frame's latency includes its wait here, so
/// under a flood the queue length is the latency: measured p99 with 256 / 64 / 32 slots,
/// 10.2 / 6.7 / 5.6 ms, for 10% less throughput at 32 (still ~47,000 events/s).
const QUEUE: usize = 32;

/// The writer thread, shared by the recordings attached to it. Dropping it lets the thread end
/// once every recording has detached; [`SharedWriter::close`] also waits for that.
pub struct SharedWriter {
    handle: WriterHandle,
    thread: std::thread::JoinHandle<()>,
}

/// Attaches recordings to a [`SharedWriter`]; cheap to clone.
#[derive(Clone)]
pub struct WriterHandle {
    control: mpsc::UnboundedSender<Control>,
}

enum Control {
    Attach {
        session_id: String,
        metrics: Option<Metrics>,
        rx: mpsc::Receiver<Msg>,
        reply: oneshot::Sender<Result<Attached, StoreError>>,
    },
}

struct Attached {
    snapshots: watch::Receiver<Snapshot>,
    done: oneshot::Receiver<Result<UpsertCounts, String>>,
}

/// One recording's end of the writer: the loops send on `tx` and watch `snapshots`.
pub struct Writer {
    pub tx: mpsc::Sender<Msg>,
    pub snapshots: watch::Receiver<Snapshot>,
    done: oneshot::Receiver<Result<UpsertCounts, String>>,
}

impl Writer {
    /// Waits until every sender of this recording (`tx` and its clones) is gone and all it sent
    /// is committed; then what the recording stored, or why the writer stopped.
    pub async fn finish(self) -> Result<UpsertCounts, String> {
        drop(self.tx);
        self.done
            .await
            .unwrap_or_else(|_| Err("the writer thread ended".into()))
    }
}

fn thread_error(e: std::io::Error) -> StoreError {
    StoreError::Output(std::io::Error::other(e))
}

impl SharedWriter {
    /// Opens the database at `db` and starts the writer thread and its checkpointer.
    pub fn start(db: &Path) -> Result<SharedWriter, StoreError> {
        let mut store = Store::open(db)?.unmapped()?;
        // Checkpoints would stall the writer (and every frame queued behind it): another
        // connection does them, on its own thread, while the writer runs.
        let checkpoints = store.checkpoint_beside(CHECKPOINT_EVERY)?;
        let (control, control_rx) = mpsc::unbounded_channel();
        let thread = std::thread::Builder::new()
            .name("flightrec-writer".into())
            .spawn(move || {
                let mut fleet = run::Fleet::new(control_rx);
                if let Err(e) = fleet.run(&mut store) {
                    fleet.fail(&e.to_string());
                }
                drop(checkpoints);
                let _ = store.checkpoint();
            })
            .map_err(thread_error)?;
        Ok(SharedWriter {
            handle: WriterHandle { control },
            thread,
        })
    }

    pub fn handle(&self) -> WriterHandle {
        self.handle.clone()
    }

    /// Waits (blocking) until every recording has detached and the thread has ended; the handles
    /// given out must be gone first.
    pub fn close(self) {
        drop(self.handle);
        let _ = self.thread.join();
    }
}

impl WriterHandle {
    /// Attaches a recording of `session_id`: its initial snapshot is what is stored already.
    pub async fn attach(
        &self,
        session_id: &str,
        metrics: Option<Metrics>,
    ) -> Result<Writer, StoreError> {
        let gone = || StoreError::Output(std::io::Error::other("the writer thread ended"));
        let (tx, rx) = mpsc::channel(QUEUE);
        let (reply, answer) = oneshot::channel();
        self.control
            .send(Control::Attach {
                session_id: session_id.to_string(),
                metrics,
                rx,
                reply,
            })
            .map_err(|_| gone())?;
        let a = answer.await.map_err(|_| gone())??;
        Ok(Writer {
            tx,
            snapshots: a.snapshots,
            done: a.done,
        })
    }
}

/// How long a batch may collect work before it is committed.
const MAX_BATCH_TIME: std::time::Duration = std::time::Duration::from_millis(2);

/// How stale the published snapshot may get while the writer is flooded.
const SNAPSHOT_EVERY: std::time::Duration = std::time::Duration::from_millis(50);

/// History items written per commit, between bursts of live frames.
const HISTORY_SLICE: usize = 100;

#[cfg(test)]
mod tests;
