//! `flightrec import`: reads files through [`crate::source`], stores through [`crate::store`].

use serde::Serialize;
use serde_json::json;
use std::collections::HashMap;
use std::io::BufRead;
use std::path::Path;

use crate::model::{Envelope, Source};
use crate::source::{self, Item, SourceError};
use crate::store::{Store, StoreError, UpsertCounts, WriteBatch};

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
    /// One line per quarantined frame: where and why.
    pub problems: Vec<String>,
    /// One line per event whose id an event of another type already had: both are kept.
    pub id_collisions: Vec<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("{path}: {source}")]
    Source { path: String, source: SourceError },
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
    let session_id = match opts.session.clone().or_else(|| session_id_from_name(path)) {
        Some(s) => s,
        None => return Err(ImportError::NoSession { path: shown }),
    };
    let (input, total) = source::open_file(path).map_err(|source| ImportError::Source {
        path: shown.clone(),
        source,
    })?;
    import_reader(
        store,
        &shown,
        &session_id,
        &opts.thread,
        input,
        total,
        on_bytes,
    )
}

/// Imports one input named `name` (for messages) into `session_id`.
pub fn import_reader<R: BufRead + Unpin>(
    store: &mut Store,
    name: &str,
    session_id: &str,
    thread_id: &str,
    input: R,
    total: u64,
    on_bytes: &mut dyn FnMut(u64, u64),
) -> Result<FileReport, ImportError> {
    let started_at = now();
    let mut batch = store.batch()?;
    let mut state = FileState {
        session_id,
        thread_id,
        path: name,
        received_at: &started_at,
        preview_ordinals: HashMap::new(),
        report: FileReport {
            path: name.to_string(),
            format: String::new(),
            session_id: session_id.to_string(),
            counts: UpsertCounts::default(),
            pings: 0,
            error_frames: 0,
            session_objects: 0,
            problems: Vec::new(),
            id_collisions: Vec::new(),
        },
        since_flush: 0,
        last_flush: std::time::Instant::now(),
        store_error: None,
    };
    let mut done = 0u64;
    let mut progress = |n: u64| {
        done += n;
        on_bytes(done, total);
    };
    let result = source::read_events(
        input,
        &mut |item| state.take(&mut batch, item),
        &mut progress,
    );
    if let Some(e) = state.store_error.take() {
        return Err(e.into());
    }
    let format = result.map_err(|source| ImportError::Source {
        path: name.to_string(),
        source,
    })?;
    let mut report = state.report;
    report.format = format.name().to_string();
    report.counts.merge(&batch.counts());
    report.id_collisions = batch
        .collisions()
        .iter()
        .map(|(id, stored, new)| {
            format!("{name}: id {id} is used by a {stored} and a {new}: both kept, as two events")
        })
        .collect();
    let detail = json!({
        "file": report.path, "format": report.format, "new": report.counts.new,
        "updated": report.counts.updated, "duplicate": report.counts.duplicate,
        "previews": report.counts.previews, "quarantined": report.counts.quarantined,
        "pings": report.pings, "error_frames": report.error_frames,
        "id_collisions": report.id_collisions.len(),
    });
    batch.log_capture(
        Some(session_id),
        thread_id,
        "import",
        &started_at,
        Some(&now()),
        &detail,
    )?;
    batch.commit()?;
    Ok(report)
}

struct FileState<'a> {
    session_id: &'a str,
    thread_id: &'a str,
    path: &'a str,
    received_at: &'a str,
    preview_ordinals: HashMap<String, u32>,
    report: FileReport,
    since_flush: u64,
    last_flush: std::time::Instant,
    store_error: Option<StoreError>,
}

impl FileState<'_> {
    /// Stores one item. A store failure stops the read; it is kept to be returned as itself.
    fn take(&mut self, batch: &mut WriteBatch<'_>, item: Item<'_>) -> Result<(), String> {
        match self.store(batch, item) {
            Ok(()) => Ok(()),
            Err(e) => {
                let msg = e.to_string();
                self.store_error = Some(e);
                Err(msg)
            }
        }
    }

    fn store(&mut self, batch: &mut WriteBatch<'_>, item: Item<'_>) -> Result<(), StoreError> {
        match item {
            Item::Event {
                origin,
                frame_name,
                text,
            } => match Envelope::parse(text, frame_name) {
                Ok(env) if env.event_type == "session" && !env.id.is_empty() => {
                    batch.set_session_object(&env.id, env.raw, self.received_at)?;
                    self.report.session_objects += 1;
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
                    batch.upsert(&crate::store::Incoming {
                        session_id: self.session_id,
                        thread_id: self.thread_id,
                        envelope: &env,
                        source: Source::Import,
                        received_at: self.received_at,
                        preview_ordinal,
                    })?;
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
                Err(e) => {
                    self.quarantine(batch, &origin.to_string(), &e.to_string(), text.as_bytes())?
                }
            },
            Item::Bad {
                origin,
                raw,
                reason,
            } => self.quarantine(batch, &origin.to_string(), &reason, raw)?,
            Item::Ping { .. } => self.report.pings += 1,
            Item::ErrorFrame { origin, data } => {
                self.report.error_frames += 1;
                let detail =
                    json!({ "file": self.path, "where": origin.to_string(), "data": data });
                batch.log_capture(
                    Some(self.session_id),
                    self.thread_id,
                    "error_frame",
                    self.received_at,
                    None,
                    &detail,
                )?;
            }
        }
        Ok(())
    }

    fn quarantine(
        &mut self,
        batch: &mut WriteBatch<'_>,
        origin: &str,
        reason: &str,
        raw: &[u8],
    ) -> Result<(), StoreError> {
        let at = format!("{} {origin}", self.path);
        batch.quarantine(
            Some(self.session_id),
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

/// The current time as RFC 3339 UTC with milliseconds.
pub fn now() -> String {
    chrono::Utc::now()
        .format("%Y-%m-%dT%H:%M:%S%.3fZ")
        .to_string()
}
