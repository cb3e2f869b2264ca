//! The background loader: one thread that owns the database connection and answers the UI's
//! requests over bounded channels, so a frame never waits on SQLite. It wakes the UI (a
//! repaint) after each reply, and while following a session it polls the database for changes.

mod explainer;
mod state;

pub use state::Extras;
mod work;
mod worker;

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::mpsc::{Receiver, SyncSender, TrySendError, sync_channel};
use std::thread::JoinHandle;
use std::time::Duration;

use flightrec::analysis::Point;
use flightrec::analysis::explain::Explanation;
use flightrec::analysis::state::State;
use flightrec::store::{EventRow, SessionSummary};

use crate::model::session::SessionData;
use worker::Worker;

/// How many messages each channel holds before the sender waits (replies) or retries (requests).
const CHANNEL_CAPACITY: usize = 64;

/// How often a followed session is checked for new events.
pub const FOLLOW_POLL: Duration = Duration::from_millis(250);

/// What the UI asks for.
#[derive(Debug, Clone, PartialEq)]
pub enum Request {
    Sessions,
    Open {
        session: String,
    },
    /// Full rows, for the table and the inspector.
    Rows {
        session: String,
        seqs: Vec<i64>,
    },
    /// The seqs of events whose text contains `text`.
    Text {
        session: String,
        text: String,
    },
    /// Events by id (for jumps from an idle to what it waits on).
    Locate {
        session: String,
        ids: Vec<String>,
    },
    /// The explanation and state at a point (`None`: the end of the recording).
    Explain {
        session: String,
        at: Option<Point>,
    },
    /// Follow the open session: reload it when the database changes.
    Follow(bool),
}

/// One event with its one-line summary.
#[derive(Debug, Clone, PartialEq)]
pub struct RowDetail {
    pub row: EventRow,
    pub summary: String,
}

/// What the loader answers.
#[derive(Debug)]
pub enum Reply {
    Sessions(Vec<SessionSummary>),
    /// A load in progress: events read so far.
    Progress {
        session: String,
        events: usize,
    },
    /// A session, loaded (`reload`: again, or with events appended, after the database
    /// changed). The loader keeps a reference to append to while following.
    Opened {
        session: String,
        data: Arc<SessionData>,
        reload: bool,
        elapsed: Duration,
    },
    Rows {
        session: String,
        asked: Vec<i64>,
        rows: Vec<RowDetail>,
    },
    Text {
        session: String,
        text: String,
        seqs: Vec<i64>,
    },
    Located {
        session: String,
        found: Vec<(String, i64, Option<i64>)>,
    },
    Explained {
        session: String,
        at: Option<Point>,
        explanation: Box<Explanation>,
        state: Box<State>,
        /// The thread tree at the point and the session object's facts.
        extras: Box<Extras>,
    },
    /// Something failed; the message names what and where.
    Error(String),
}

/// Called after each reply, to wake the UI (`egui::Context::request_repaint`).
pub type Waker = Arc<dyn Fn() + Send + Sync>;

/// The UI's end of the loader.
pub struct Loader {
    requests: SyncSender<Request>,
    replies: Receiver<Reply>,
    /// Requests the full channel refused, sent again on the next [`Loader::flush`].
    backlog: Vec<Request>,
    thread: Option<JoinHandle<()>>,
}

impl Loader {
    /// Starts the loader thread on the database at `db`.
    pub fn start(db: PathBuf, waker: Waker) -> Loader {
        let (req_tx, req_rx) = sync_channel(CHANNEL_CAPACITY);
        let (rep_tx, rep_rx) = sync_channel(CHANNEL_CAPACITY);
        let thread = std::thread::Builder::new()
            .name("flightrec-loader".into())
            .spawn(move || Worker::new(db, rep_tx, waker).run(req_rx))
            .ok();
        Loader {
            requests: req_tx,
            replies: rep_rx,
            backlog: Vec::new(),
            thread,
        }
    }

    /// Queues a request; never blocks.
    pub fn send(&mut self, r: Request) {
        self.backlog.push(r);
        self.flush();
    }

    /// Sends what the channel refused before.
    pub fn flush(&mut self) {
        while !self.backlog.is_empty() {
            let r = self.backlog.remove(0);
            match self.requests.try_send(r) {
                Ok(()) => {}
                Err(TrySendError::Full(r)) => {
                    self.backlog.insert(0, r);
                    return;
                }
                Err(TrySendError::Disconnected(_)) => {
                    self.backlog.clear();
                    return;
                }
            }
        }
    }

    /// The replies that arrived, without waiting.
    pub fn try_recv(&self) -> Option<Reply> {
        self.replies.try_recv().ok()
    }

    /// Whether requests wait to be sent.
    pub fn has_backlog(&self) -> bool {
        !self.backlog.is_empty()
    }
}

impl Drop for Loader {
    fn drop(&mut self) {
        // Closing the request channel ends the thread's loop; it finishes the request at hand.
        let (dead, _) = sync_channel(1);
        self.requests = dead;
        if let Some(t) = self.thread.take() {
            // Drain so a loader blocked on a full reply channel can finish.
            while !t.is_finished() {
                while self.replies.try_recv().is_ok() {}
                std::thread::sleep(Duration::from_millis(5));
            }
            let _ = t.join();
        }
    }
}
