//! `watch --otlp-endpoint`: every recorded session's spans pushed to a collector as they close,
//! and its root span when it idles or ends, so a tracing backend holds each session without an
//! export.
//!
//! The store is the queue. On each tick (1 s) the pusher asks the store which sessions changed
//! since the last arrival point (`Store::changed_since`), reads each of them, encodes it with
//! the export's own code ([`otlp_request`](super::otlp_request): the same trace and span ids, names and attributes as
//! `export --format otlp`), and keeps the spans that are due and not yet acknowledged in that
//! form: closed spans; the root once the session is at rest (idle with no workflow run open, or
//! terminated or deleted) and unchanged for [`ROOT_QUIET`], since events that trail an idle would
//! change it again; open spans too once it is terminated or deleted (as the export shows them). What a collector acknowledged
//! is noted per span with a digest of its encoding (`otlp_pushed_spans`), so a restarted
//! watcher sends only what changed, and a span that changed since (the root at the next idle)
//! is sent again under its same id. Batches hold at most [`MAX_BATCH`] spans; a collector that
//! is unreachable, slow, overloaded (5xx) or throttling (429) gets the same spans again after a
//! backoff (1 s doubling to 30 s, with jitter); any other refusal is told and not retried (until
//! a restart). A session whose object is not stored yet waits for it (up to
//! [`HOLD_FOR_OBJECT`]), since the agent's name and model name spans.
//!
//! It runs on its own thread, with its own connection to the database, beside the recorders.

use std::collections::{BTreeSet, HashMap};
use std::path::PathBuf;
use std::sync::mpsc::{self, RecvTimeoutError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, Span as OtelSpan};
use prost::Message;

use super::push::{PushError, PushTarget};
use crate::doc::SessionDoc;
use crate::store::{PushedSpan, Store, StoreError, TimelineQuery};

mod due;

pub use due::{Due, due_spans};
use due::{batches, digest, hex, session_of};

/// The most spans in one request.
pub const MAX_BATCH: usize = 512;
/// How long a session's spans wait for its object before they go without it.
pub const HOLD_FOR_OBJECT: Duration = Duration::from_secs(10);
/// How long a session at rest must stay unchanged before its root goes (events that trail an
/// idle, such as threads terminating after a workflow run, would change it again).
pub const ROOT_QUIET: Duration = Duration::from_secs(2);
/// How often the store is asked for changes.
const TICK: Duration = Duration::from_secs(1);
const BACKOFF_FLOOR: Duration = Duration::from_secs(1);
const BACKOFF_CEILING: Duration = Duration::from_secs(30);
/// Attempts of the last pass, when the watcher stops.
const FINAL_ATTEMPTS: u32 = 3;

/// What the pusher did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LiveReport {
    /// Spans acknowledged by the collector.
    pub spans: u64,
    /// Requests acknowledged.
    pub requests: u64,
    /// Requests that failed and were tried again.
    pub retries: u64,
    /// Spans the collector refused for good (a 4xx other than 429).
    pub refused: u64,
}

/// Why the pusher did not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("cannot start the OTLP pusher's thread: {0}")]
    Thread(std::io::Error),
}

/// The pusher's thread.
pub struct LivePush {
    stop: mpsc::Sender<()>,
    thread: JoinHandle<LiveReport>,
}

impl LivePush {
    /// Starts pushing what `db` records to `target`; `note` hears each problem (one line each).
    /// Where it starts: the arrival point saved by the last run with this collector, else now
    /// (sessions that change from then on are pushed whole).
    pub fn start(
        db: PathBuf,
        target: PushTarget,
        note: impl FnMut(String) + Send + 'static,
    ) -> Result<LivePush, StartError> {
        let store = Store::open(&db)?.unmapped()?;
        let endpoint = target.endpoint_key();
        let (seq, revision) = match store.otlp_watermark(&endpoint)? {
            Some(w) => w,
            None => store.marks()?,
        };
        let (stop, stopped) = mpsc::channel();
        let pusher = Pusher {
            store,
            target,
            endpoint,
            seq,
            revision,
            saved: None,
            dirty: BTreeSet::new(),
            pushed: HashMap::new(),
            first_seen: HashMap::new(),
            changed_at: HashMap::new(),
            backoff: BACKOFF_FLOOR,
            retry_at: None,
            report: LiveReport::default(),
            note: Box::new(note),
        };
        let thread = std::thread::Builder::new()
            .name("otlp-push".into())
            .spawn(move || pusher.run(&stopped))
            .map_err(StartError::Thread)?;
        Ok(LivePush { stop, thread })
    }

    /// A last pass (the recorders have committed everything), then the report.
    pub fn finish(self) -> LiveReport {
        let _ = self.stop.send(());
        self.thread.join().unwrap_or_default()
    }
}

struct Pusher {
    store: Store,
    target: PushTarget,
    endpoint: String,
    /// The arrival point looked at so far.
    seq: i64,
    revision: i64,
    /// The arrival point last saved as the watermark.
    saved: Option<(i64, i64)>,
    /// Sessions with something perhaps not pushed yet.
    dirty: BTreeSet<String>,
    /// Per session, span id (hex) → digest of what the collector acknowledged.
    pushed: HashMap<String, HashMap<String, String>>,
    /// When each session without its object was first looked at.
    first_seen: HashMap<String, Instant>,
    /// When each session last changed, as far as the pusher saw.
    changed_at: HashMap<String, Instant>,
    backoff: Duration,
    retry_at: Option<Instant>,
    report: LiveReport,
    note: Box<dyn FnMut(String) + Send>,
}

/// Why a pass stopped before pushing everything.
enum Stall {
    /// The collector may take it later.
    Retry(PushError),
    Store(StoreError),
}

impl Pusher {
    fn run(mut self, stopped: &mpsc::Receiver<()>) -> LiveReport {
        let rt = match tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
        {
            Ok(rt) => rt,
            Err(e) => {
                (self.note)(format!("otlp: cannot start the pusher: {e}"));
                return self.report;
            }
        };
        let client = match self.target.client() {
            Ok(c) => c,
            Err(e) => {
                (self.note)(format!("otlp: {e}"));
                return self.report;
            }
        };
        loop {
            let last = !matches!(stopped.recv_timeout(TICK), Err(RecvTimeoutError::Timeout));
            if last {
                for attempt in 1..=FINAL_ATTEMPTS {
                    match self.pass(&rt, &client, true) {
                        Err(Stall::Retry(_)) if attempt < FINAL_ATTEMPTS => {
                            std::thread::sleep(BACKOFF_FLOOR * attempt)
                        }
                        _ => break,
                    }
                }
                return self.report;
            }
            if self.retry_at.is_some_and(|t| Instant::now() < t) {
                continue;
            }
            match self.pass(&rt, &client, false) {
                Ok(()) => {
                    self.backoff = BACKOFF_FLOOR;
                    self.retry_at = None;
                }
                Err(Stall::Retry(_)) => {
                    let jitter = self.backoff.mul_f64(fastrand::f64() * 0.25);
                    self.retry_at = Some(Instant::now() + self.backoff + jitter);
                    self.backoff = (self.backoff * 2).min(BACKOFF_CEILING);
                }
                Err(Stall::Store(_)) => {}
            }
        }
    }

    /// Looks at what changed and pushes what is due. `last`: sessions waiting for their object
    /// wait no longer.
    fn pass(
        &mut self,
        rt: &tokio::runtime::Runtime,
        client: &reqwest::Client,
        last: bool,
    ) -> Result<(), Stall> {
        let r = self.pass_inner(rt, client, last);
        match &r {
            Err(Stall::Retry(e)) => {
                self.report.retries += 1;
                (self.note)(format!("otlp: {e}; trying again"));
            }
            Err(Stall::Store(e)) => (self.note)(format!("otlp: {e}")),
            Ok(()) => {}
        }
        r
    }

    fn pass_inner(
        &mut self,
        rt: &tokio::runtime::Runtime,
        client: &reqwest::Client,
        last: bool,
    ) -> Result<(), Stall> {
        let changed = self
            .store
            .changed_since(self.seq, self.revision)
            .map_err(Stall::Store)?;
        let now = Instant::now();
        for id in &changed.sessions {
            self.changed_at.insert(id.clone(), now);
        }
        self.dirty.extend(changed.sessions);
        (self.seq, self.revision) = (changed.seq, changed.revision);

        let mut due: Vec<(ResourceSpans, Vec<OtelSpan>)> = Vec::new();
        let mut waiting = BTreeSet::new();
        let mut ended = BTreeSet::new();
        for id in self.dirty.clone() {
            let Some(doc) = self.read(&id).map_err(Stall::Store)? else {
                self.dirty.remove(&id);
                continue;
            };
            if doc.object.is_none() && !last {
                let since = *self
                    .first_seen
                    .entry(id.clone())
                    .or_insert_with(Instant::now);
                if since.elapsed() < HOLD_FOR_OBJECT {
                    waiting.insert(id);
                    continue;
                }
            }
            let pushed = match self.pushed.get(&id) {
                Some(p) => p,
                None => {
                    let p = self
                        .store
                        .otlp_pushed(&self.endpoint, &id)
                        .map_err(Stall::Store)?;
                    self.pushed.entry(id.clone()).or_insert(p)
                }
            };
            let quiet = last
                || self
                    .changed_at
                    .get(&id)
                    .is_none_or(|t| t.elapsed() >= ROOT_QUIET);
            let Due {
                resource,
                spans,
                root_held,
            } = due_spans(&doc, pushed, quiet);
            if root_held {
                waiting.insert(id.clone());
            }
            if matches!(
                doc.summary.status.as_deref(),
                Some("terminated" | "deleted")
            ) {
                ended.insert(id.clone());
            }
            if !spans.is_empty() {
                due.push((resource, spans));
            }
        }

        for batch in batches(due, MAX_BATCH) {
            let sent: Vec<PushedSpan> = batch
                .iter()
                .flat_map(|(r, spans)| {
                    let session = session_of(r);
                    spans.iter().map(move |s| PushedSpan {
                        session_id: session.clone(),
                        span_id: hex(&s.span_id),
                        digest: digest(s),
                    })
                })
                .collect();
            let req = ExportTraceServiceRequest {
                resource_spans: batch
                    .into_iter()
                    .map(|(mut r, spans)| {
                        if let Some(scope) = r.scope_spans.first_mut() {
                            scope.spans = spans;
                        }
                        r
                    })
                    .collect(),
            };
            match rt.block_on(self.target.send(client, req.encode_to_vec())) {
                Ok(()) => {
                    self.report.requests += 1;
                    self.report.spans += sent.len() as u64;
                    let at = crate::model::time::now();
                    self.store
                        .note_otlp_pushed(&self.endpoint, &sent, &at)
                        .map_err(Stall::Store)?;
                    self.remember(sent);
                }
                Err(e) if e.is_retryable() => return Err(Stall::Retry(e)),
                Err(e) => {
                    // Refused for good: not sent again by this run, not noted as pushed either.
                    self.report.refused += sent.len() as u64;
                    (self.note)(format!("otlp: {e}; {} spans dropped", sent.len()));
                    self.remember(sent);
                }
            }
        }
        // Every due span was acknowledged or refused; only the sessions waiting for their
        // object or for quiet before their root stay. With none, every change is pushed whole:
        // a restart may start from here. An ended session is forgotten (it changes no more;
        // should it, what was pushed is read back from the database).
        self.dirty.retain(|id| waiting.contains(id));
        for id in ended.difference(&waiting) {
            self.pushed.remove(id);
            self.changed_at.remove(id);
            self.first_seen.remove(id);
        }
        if self.dirty.is_empty() && self.saved != Some((self.seq, self.revision)) {
            let at = crate::model::time::now();
            self.store
                .set_otlp_watermark(&self.endpoint, self.seq, self.revision, &at)
                .map_err(Stall::Store)?;
            self.saved = Some((self.seq, self.revision));
        }
        Ok(())
    }

    /// The session as the export reads it, less what no span needs (revisions, previews, the
    /// capture log); `None` when it is not in the database.
    fn read(&self, id: &str) -> Result<Option<SessionDoc>, StoreError> {
        let Some(summary) = self.store.session_summary(id)? else {
            return Ok(None);
        };
        Ok(Some(SessionDoc {
            object: self.store.session_object(id)?,
            events: self.store.events(id, &TimelineQuery::default())?,
            revisions: Vec::new(),
            previews: Vec::new(),
            capture: Vec::new(),
            summary,
        }))
    }

    fn remember(&mut self, sent: Vec<PushedSpan>) {
        for s in sent {
            let session = s.session_id.clone();
            self.pushed
                .entry(session.clone())
                .or_default()
                .insert(s.span_id, s.digest);
            self.first_seen.remove(&session);
        }
    }
}
