//! `flightrec import`: reads files through [`crate::source`], stores through [`crate::store`].

use serde::Serialize;
use std::collections::HashMap;
use std::io::BufRead;
use std::path::Path;

use crate::model::capture::{CaptureDetail, ErrorFrameDetail, ImportDetail};
use crate::model::time::now;
use crate::model::{Envelope, Source};
use crate::source::{self, Item, Origin, ReadError, SourceError};
use crate::store::{Outcome, Store, StoreError, UpsertCounts, WriteBatch, WriteMark, Written};
use std::sync::atomic::{AtomicU64, Ordering};

use super::pipeline::{self, Msg, Ready};

/// Events per transaction in a bulk import: bounds the WAL between checkpoints.
const EVENTS_PER_COMMIT: u64 = 200_000;
/// Longest an import holds the write lock at a time: other writers (a second import, a recorder)
/// wait at most about this long for their turn.
const MAX_COMMIT_INTERVAL: std::time::Duration = std::time::Duration::from_secs(1);
/// How often (in events) the clock is read for [`MAX_COMMIT_INTERVAL`].
const CLOCK_EVERY: u64 = 1024;

#[derive(Debug, Clone, Default)]
pub struct ImportOptions {
    /// The session the events belong to; otherwise taken from the file name (`…sesn_XXXX…`).
    pub session: Option<String>,
    /// The thread whose log this is; "" for the session's own.
    pub thread: String,
}

/// What importing one file did.
#[derive(Debug, Clone, Serialize)]
pub struct FileReport {
    pub path: String,
    pub format: String,
    pub session_id: String,
    #[serde(flatten)]
    pub counts: UpsertCounts,
    pub pings: u64,
    pub error_frames: u64,
    pub session_objects: u64,
    /// Thread objects stored (from dumps, thread list pages or `session_thread` lines).
    pub thread_objects: u64,
    /// One line per quarantined frame: where and why.
    pub problems: Vec<String>,
    /// One line per event whose id an event of another type already had: both are kept.
    pub id_collisions: Vec<String>,
    /// The follower ([`import_input_following`]) was handed every event of the session, in the
    /// session's order: the session had none before, and each was new, in time order.
    #[serde(skip)]
    pub followed: bool,
    /// For a followed session: the writes to the database since its emptiness was checked,
    /// marked after the last commit. Unchanged later, the session's events are still exactly
    /// those the follower was handed.
    #[serde(skip)]
    pub written_alone: Option<WriteMark>,
}

/// What [`import_input_following`] hands the events it stores (on a thread of its own).
pub trait Follower: Send {
    /// An event stored as new, in the session's order.
    fn written(&mut self, w: &Written<'_>);

    /// The session was followed to the end of the input: every event is stored, and the last
    /// commit is being made while this runs. `end` is what the writer read of the session in
    /// that commit's transaction.
    fn stored_all(&mut self, end: &FollowEnd) {
        let _ = end;
    }
}

impl<F: FnMut(&Written<'_>) + Send> Follower for F {
    fn written(&mut self, w: &Written<'_>) {
        self(w)
    }
}

/// What the writer knows of a followed session once it stored the last event (before the last
/// commit): what finishing the session's folds needs from the database, read before the commit
/// instead of after it.
#[derive(Debug, Clone, PartialEq)]
pub struct FollowEnd {
    /// The stored session object's `agent`, as JSON (`Store::session_agent`).
    pub agent: Option<String>,
    /// The time (µs) of the session's last event, which is the last one followed.
    pub last_ts: i64,
}

#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("{path}: {error}")]
    Source { path: String, error: SourceError },
    #[error("no events in {path}: {error}")]
    NoEvents { path: String, error: SourceError },
    #[error(
        "{path}: cannot tell which session this belongs to: pass --session sesn_… or put the session id in the file name"
    )]
    NoSession { path: String },
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The first `sesn_` id in a file name, if any.
pub fn session_id_from_name(path: &Path) -> Option<String> {
    let name = path.file_name()?.to_str()?;
    let at = name.find("sesn_")?;
    let id: String = name[at..]
        .chars()
        .enumerate()
        .take_while(|(i, c)| *i < 5 || c.is_ascii_alphanumeric())
        .map(|(_, c)| c)
        .collect();
    (id.len() > 5).then_some(id)
}

/// Imports one file. Frames that are not events are quarantined and listed in the report; only
/// unreadable input or a database failure is an error.
pub fn import_file(
    store: &mut Store,
    path: &Path,
    opts: &ImportOptions,
    on_bytes: &mut dyn FnMut(u64, u64),
) -> Result<FileReport, ImportError> {
    let shown = path.display().to_string();
    let session_id = opts.session.clone().or_else(|| session_id_from_name(path));
    let (input, total) = source::open_file(path).map_err(|error| ImportError::Source {
        path: shown.clone(),
        error,
    })?;
    import_input(
        store,
        &shown,
        session_id.as_deref(),
        &opts.thread,
        input,
        total,
        on_bytes,
    )
}

/// Imports one input named `name` (for messages) into `session_id`.
pub fn import_reader<R: BufRead + Unpin + Send>(
    store: &mut Store,
    name: &str,
    session_id: &str,
    thread_id: &str,
    input: R,
    total: u64,
    on_bytes: &mut dyn FnMut(u64, u64),
) -> Result<FileReport, ImportError> {
    import_input(
        store,
        name,
        Some(session_id),
        thread_id,
        input,
        total,
        on_bytes,
    )
}

/// [`import_reader`] where the session may be unknown: it is then the one a dump document's
/// session object names (and an input that names none is refused).
pub fn import_input<R: BufRead + Unpin + Send>(
    store: &mut Store,
    name: &str,
    session_id: Option<&str>,
    thread_id: &str,
    input: R,
    total: u64,
    on_bytes: &mut dyn FnMut(u64, u64),
) -> Result<FileReport, ImportError> {
    import_input_following(
        store, name, session_id, thread_id, input, total, on_bytes, None,
    )
}

/// [`import_input`], handing `follower` each event it stores as new, on a thread of its own,
/// while the input's session is followed whole (see [`FileReport::followed`]): what derives
/// from the session's events folds as they are written, not from reading them back.
#[allow(clippy::too_many_arguments)]
pub fn import_input_following<R: BufRead + Unpin + Send>(
    store: &mut Store,
    name: &str,
    session_id: Option<&str>,
    thread_id: &str,
    input: R,
    total: u64,
    on_bytes: &mut dyn FnMut(u64, u64),
    follower: Option<&mut dyn Follower>,
) -> Result<FileReport, ImportError> {
    let started_at = now();
    let mut batch = store.batch()?;
    let mut state = FileState {
        session_id: session_id.map(String::from),
        thread_id,
        path: name,
        received_at: &started_at,
        preview_ordinals: HashMap::new(),
        report: FileReport {
            path: name.to_string(),
            format: String::new(),
            session_id: session_id.unwrap_or_default().to_string(),
            counts: UpsertCounts::default(),
            pings: 0,
            error_frames: 0,
            session_objects: 0,
            thread_objects: 0,
            problems: Vec::new(),
            id_collisions: Vec::new(),
            followed: false,
            written_alone: None,
        },
        since_flush: 0,
        last_flush: std::time::Instant::now(),
        follow: Follow::new(follower.is_some()),
    };
    // Read, parsed and compressed on a thread of its own (record/pipeline.rs); stored here.
    let compressor = batch.compressor()?;
    let read_bytes = AtomicU64::new(0);
    let (sending, rx) = pipeline::channel();
    let committed = std::thread::scope(|s| {
        let reading = s.spawn(|| pipeline::read_side(input, compressor, sending, &read_bytes));
        // The follower folds on a third thread what the writer stored, then frees it.
        let (follow_tx, following) = match follower {
            Some(f) => {
                let (tx, chunks) = pipeline::follow_channel();
                let spent = rx.spent();
                let thread = s.spawn(move || pipeline::follow_side(chunks, f, thread_id, spent));
                (Some(tx), Some(thread))
            }
            None => (None, None),
        };
        let stored = write_side(
            &mut state,
            &mut batch,
            &rx,
            follow_tx,
            &read_bytes,
            total,
            on_bytes,
        );
        // A failed writer hangs up; the reading side stops at its next send.
        drop(rx);
        let read = reading.join();
        let done = match (stored, read) {
            (Err(refusal), _) => Err(ReadError::Sink(refusal)),
            (Ok(follow), Ok(Ok((format, compressor)))) => Ok((format, compressor, follow)),
            (Ok(_), Ok(Err(ReadError::Source(e)))) => Err(ReadError::Source(e)),
            (Ok(_), Ok(Err(ReadError::Sink(pipeline::Gone))) | Err(_)) => Err(ReadError::Source(
                SourceError::Io(std::io::Error::other("the reading thread stopped")),
            )),
        };
        // The follower finishes its folds while the last commit is made.
        let committed =
            done.map_err(|e| read_error(name, e))
                .and_then(|(format, compressor, follow)| {
                    if let Some(tx) = follow {
                        tell_end(&state, &batch, tx);
                    }
                    finish(state, batch, &started_at, format, compressor)
                });
        if let Some(Err(panic)) = following.map(|t| t.join()) {
            // A fold panicked: a bug, not bad data. Let it surface as one.
            std::panic::resume_unwind(panic);
        }
        committed
    });
    let (mut report, compressor, checked_at) = committed?;
    if report.followed {
        report.written_alone = checked_at.map(|v| store.write_mark_since(v));
    }
    // Its dictionaries are committed: the next file of this import goes on from its samples.
    store.keep_compressor(compressor);
    Ok(report)
}

/// The import error for `e`, a failure reading input `name`.
fn read_error(name: &str, e: ReadError<Refusal>) -> ImportError {
    match e {
        ReadError::Sink(Refusal::Store(e)) => e.into(),
        ReadError::Sink(Refusal::NoSession) => ImportError::NoSession {
            path: name.to_string(),
        },
        ReadError::Source(error @ (SourceError::Empty | SourceError::Blank { .. })) => {
            ImportError::NoEvents {
                path: name.to_string(),
                error,
            }
        }
        ReadError::Source(error) => ImportError::Source {
            path: name.to_string(),
            error,
        },
    }
}

/// Tells the follower, if it followed the session to the end, what it needs of the session
/// (read in the batch's transaction, as it will be committed). Only a head start: when the
/// agent cannot be read, the follower is not told, and the derive finishes its folds.
fn tell_end(state: &FileState<'_>, batch: &WriteBatch<'_>, tx: pipeline::FollowSender) {
    let Some(session_id) = state.session_id.as_deref() else {
        return;
    };
    if state.follow.on
        && state.follow.checked
        && state.follow.last_ts != i64::MIN
        && let Ok(agent) = batch.session_agent(session_id)
    {
        tx.end(FollowEnd {
            agent,
            last_ts: state.follow.last_ts,
        });
    }
}

/// Reports and commits what was stored of the input, with its capture log entry.
fn finish(
    state: FileState<'_>,
    mut batch: WriteBatch<'_>,
    started_at: &str,
    format: source::Format,
    mut compressor: crate::store::Compressor,
) -> Result<(FileReport, crate::store::Compressor, Option<i64>), ImportError> {
    let name = state.path;
    let mut report = state.report;
    report.followed = state.follow.on && state.follow.checked;
    let Some(session_id) = state.session_id.as_deref() else {
        return Err(ImportError::NoSession {
            path: name.to_string(),
        });
    };
    report.format = format.name().to_string();
    report.counts.merge(&batch.counts());
    report.id_collisions = batch
        .collisions()
        .iter()
        .map(|(id, stored, new)| {
            format!("{name}: id {id} is used by a {stored} and a {new}: both kept, as two events")
        })
        .collect();
    let detail = CaptureDetail::from(ImportDetail {
        duplicate: report.counts.duplicate,
        error_frames: report.error_frames,
        file: report.path.clone(),
        format: report.format.clone(),
        id_collisions: report.id_collisions.len(),
        new: report.counts.new,
        pings: report.pings,
        previews: report.counts.previews,
        quarantined: report.counts.quarantined,
        updated: report.counts.updated,
    });
    batch.log_capture(
        Some(session_id),
        state.thread_id,
        detail.kind(),
        started_at,
        Some(&now()),
        &detail.to_value(),
    )?;
    compressor.numbered(batch.numbered_dictionaries());
    batch.commit()?;
    Ok((report, compressor, state.follow.data_version))
}

/// Stores what the reading side sends, in order, answering its dictionaries; reports progress.
/// While the session is followed, each stored chunk goes to the follower (`follow`), with the
/// seqs of the events to hand it; it stops at the first event that cannot be followed.
fn write_side(
    state: &mut FileState<'_>,
    batch: &mut WriteBatch<'_>,
    rx: &pipeline::Receiving,
    mut follow: Option<pipeline::FollowSender>,
    read_bytes: &AtomicU64,
    total: u64,
    on_bytes: &mut dyn FnMut(u64, u64),
) -> Result<Option<pipeline::FollowSender>, Refusal> {
    let mut shown = 0;
    while let Some(msg) = rx.recv() {
        match msg {
            Msg::Items(items) => {
                let mut seqs = Vec::with_capacity(if follow.is_some() { items.len() } else { 0 });
                for owned in &items {
                    let (item, ready) = owned.item();
                    state.take(batch, item, ready)?;
                    if follow.is_some() {
                        seqs.push(state.follow.seq.take());
                    }
                }
                if !state.follow.on {
                    // Not followed (any more): the follower's fold is not used.
                    follow = None;
                }
                match &follow {
                    Some(tx) => {
                        let session = state.session_id.clone().unwrap_or_default();
                        if let Err(back) = tx.send(items, seqs, session) {
                            state.follow.on = false;
                            follow = None;
                            rx.give_back(back);
                        }
                    }
                    None => rx.give_back(items),
                }
            }
            Msg::Dictionary(row) => {
                batch.add_dictionary(&row).map_err(Refusal::Store)?;
            }
        }
        let done = read_bytes.load(Ordering::Relaxed);
        if done != shown {
            shown = done;
            on_bytes(done, total);
        }
    }
    Ok(follow)
}

struct FileState<'a> {
    /// Known from the start, or from a dump's session object.
    session_id: Option<String>,
    thread_id: &'a str,
    path: &'a str,
    received_at: &'a str,
    preview_ordinals: HashMap<String, u32>,
    report: FileReport,
    since_flush: u64,
    last_flush: std::time::Instant,
    follow: Follow,
}

/// Whether what is stored can be handed to a follower as the session's events in its order:
/// every event of the session new (the session had none), stored under its own key, with a time
/// no earlier than the one before (so arrival order is the session's order).
struct Follow {
    on: bool,
    /// Whether the session was looked at (before its first event was stored).
    checked: bool,
    /// The database's `data_version` when it was (`WriteBatch::data_version`).
    data_version: Option<i64>,
    last_ts: i64,
    /// The seq of the item just stored, when it is to be handed to the follower.
    seq: Option<i64>,
}

impl Follow {
    fn new(on: bool) -> Follow {
        Follow {
            on,
            checked: false,
            data_version: None,
            last_ts: i64::MIN,
            seq: None,
        }
    }

    /// Takes what storing an event did; stops following at the first event that breaks it.
    fn take(&mut self, outcome: Outcome, new: Option<i64>, ts: Option<i64>, ready: bool) {
        match (outcome, new, ts) {
            // Stored apart: not one of the session's events.
            (Outcome::Preview, _, _) => {}
            (Outcome::Inserted, Some(seq), Some(ts)) if ts >= self.last_ts && ready => {
                self.last_ts = ts;
                self.seq = Some(seq);
            }
            _ => self.on = false,
        }
    }
}

/// Why [`FileState::take`] stopped the read.
enum Refusal {
    /// An event came before anything named its session.
    NoSession,
    Store(StoreError),
}

/// The two fields of a thread object (§6.3) the store promotes.
#[derive(serde::Deserialize)]
pub(super) struct ThreadProbe<'a> {
    #[serde(borrow)]
    pub(super) id: std::borrow::Cow<'a, str>,
    #[serde(default, borrow)]
    pub(super) parent_thread_id: Option<std::borrow::Cow<'a, str>>,
}

impl FileState<'_> {
    /// Stores one item. A store failure, or an event of no known session, stops the read.
    fn take(
        &mut self,
        batch: &mut WriteBatch<'_>,
        item: Item<'_>,
        ready: Option<&Ready>,
    ) -> Result<(), Refusal> {
        if self.session_id.is_none() {
            self.adopt_session(&item);
            if self.session_id.is_none() {
                return Err(Refusal::NoSession);
            }
        }
        let session = self.session_id.take().unwrap_or_default();
        let stored = self.store(batch, &session, item, ready);
        self.session_id = Some(session);
        stored.map_err(Refusal::Store)
    }

    /// Without a session yet, takes it from a session object (a dump's comes first).
    fn adopt_session(&mut self, item: &Item<'_>) {
        if let Item::Event {
            text, frame_name, ..
        } = item
            && let Ok(env) = Envelope::parse(text, *frame_name)
            && env.event_type == "session"
            && !env.id.is_empty()
        {
            self.report.session_id = env.id.to_string();
            self.session_id = Some(env.id.to_string());
        }
    }

    fn store(
        &mut self,
        batch: &mut WriteBatch<'_>,
        session: &str,
        item: Item<'_>,
        ready: Option<&Ready>,
    ) -> Result<(), StoreError> {
        let (origin, frame_name, text, thread_id) = match item {
            Item::Event {
                origin,
                frame_name,
                text,
            } => (origin, frame_name, text, self.thread_id),
            Item::ThreadEvent {
                origin,
                thread_id,
                text,
            } => (origin, None, text, thread_id),
            Item::ThreadObject { origin, text } => {
                return self.thread_object(batch, session, &origin, &text);
            }
            Item::Bad {
                origin,
                raw,
                reason,
            } => return self.quarantine(batch, session, &origin.to_string(), &reason, raw),
            Item::Ping { .. } => {
                self.report.pings += 1;
                return Ok(());
            }
            Item::ErrorFrame { origin, data } => {
                self.report.error_frames += 1;
                let detail = CaptureDetail::from(ErrorFrameDetail::File {
                    data: data.to_string(),
                    file: self.path.to_string(),
                    at: origin.to_string(),
                });
                batch.log_capture(
                    Some(session),
                    self.thread_id,
                    detail.kind(),
                    self.received_at,
                    None,
                    &detail.to_value(),
                )?;
                return Ok(());
            }
        };
        let parsed = match ready {
            Some(r) => Ok(r.envelope.with_raw(text)),
            None => Envelope::parse(text, frame_name),
        };
        let compressed = ready.and_then(|r| r.compressed.as_ref());
        match parsed {
            Ok(env) if env.event_type == "session" && !env.id.is_empty() => {
                batch.set_session_object(&env.id, env.raw, self.received_at)?;
                self.report.session_objects += 1;
            }
            Ok(env) if env.event_type == "session_thread" => {
                self.thread_object(batch, session, &origin, text)?;
            }
            Ok(env) => {
                let preview_ordinal = if env.is_preview() {
                    let key = env.link_id.as_deref().unwrap_or("").to_string();
                    let n = self.preview_ordinals.entry(key).or_insert(0);
                    *n += 1;
                    *n
                } else {
                    0
                };
                if self.follow.on && !self.follow.checked {
                    // Followed only from its first event: a new session.
                    self.follow.checked = true;
                    self.follow.on = batch.session_is_empty(session)?;
                    self.follow.data_version = Some(batch.data_version()?);
                }
                let (outcome, new) = batch.upsert_new(
                    &crate::store::Incoming {
                        session_id: session,
                        thread_id,
                        envelope: &env,
                        source: Source::Import,
                        received_at: self.received_at,
                        preview_ordinal,
                    },
                    compressed,
                )?;
                if self.follow.on {
                    self.follow
                        .take(outcome, new, env.ts_micros, ready.is_some());
                }
                self.since_flush += 1;
                if self.since_flush >= EVENTS_PER_COMMIT
                    || (self.since_flush.is_multiple_of(CLOCK_EVERY)
                        && self.last_flush.elapsed() >= MAX_COMMIT_INTERVAL)
                {
                    batch.flush()?;
                    self.since_flush = 0;
                    self.last_flush = std::time::Instant::now();
                }
            }
            Err(e) => self.quarantine(
                batch,
                session,
                &origin.to_string(),
                &e.to_string(),
                text.as_bytes(),
            )?,
        }
        Ok(())
    }

    /// Stores a thread object (§6.3); one without a string `id` is quarantined.
    fn thread_object(
        &mut self,
        batch: &mut WriteBatch<'_>,
        session: &str,
        origin: &Origin,
        text: &str,
    ) -> Result<(), StoreError> {
        match serde_json::from_str::<ThreadProbe<'_>>(text) {
            Ok(t) if !t.id.is_empty() => {
                batch.set_thread_object(
                    session,
                    &t.id,
                    t.parent_thread_id.as_deref(),
                    text,
                    self.received_at,
                )?;
                self.report.thread_objects += 1;
                Ok(())
            }
            Ok(_) => self.quarantine(
                batch,
                session,
                &origin.to_string(),
                "a thread object with an empty \"id\"",
                text.as_bytes(),
            ),
            Err(e) => self.quarantine(
                batch,
                session,
                &origin.to_string(),
                &format!("not a thread object: {e}"),
                text.as_bytes(),
            ),
        }
    }

    fn quarantine(
        &mut self,
        batch: &mut WriteBatch<'_>,
        session: &str,
        origin: &str,
        reason: &str,
        raw: &[u8],
    ) -> Result<(), StoreError> {
        let at = format!("{} {origin}", self.path);
        batch.quarantine(
            Some(session),
            self.thread_id,
            Source::Import,
            &at,
            reason,
            self.received_at,
            raw,
        )?;
        self.report
            .problems
            .push(format!("{at}: {reason} (quarantined)"));
        Ok(())
    }
}
