//! Restoring a tape (`docs/tape.md`) into the store: the same events (ids, threads, sources,
//! arrival times, texts), their earlier copies, previews, capture log and session object, all
//! through the store's write API. Importing a tape twice stores nothing twice.

use std::collections::HashMap;
use std::path::Path;

use crate::model::{Envelope, Source};
use crate::record::FileReport;
use crate::source::tape::{Record, Tape, TapeError, read_tape, read_tape_file};
use crate::store::{Incoming, Outcome, Store, StoreError, UpsertCounts, WriteBatch};

#[derive(Debug, thiserror::Error)]
pub enum TapeImportError {
    #[error("{path}: {error}")]
    Read { path: String, error: TapeError },
    #[error("{path}: {what}")]
    Invalid { path: String, what: String },
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Reads the tape at `path` whole, checks it, and restores it. Nothing is stored unless the
/// whole tape reads. `session`, when given, must be the tape's.
pub fn import_tape(
    store: &mut Store,
    path: &Path,
    session: Option<&str>,
) -> Result<FileReport, TapeImportError> {
    let shown = path.display().to_string();
    let tape = read_tape_file(path).map_err(|error| TapeImportError::Read {
        path: shown.clone(),
        error,
    })?;
    restore_checked(store, shown, tape, session)
}

/// [`import_tape`] from an input already open (a pipe, standard input), named `name`.
pub fn import_tape_reader<R: std::io::BufRead>(
    store: &mut Store,
    name: &str,
    input: R,
    session: Option<&str>,
) -> Result<FileReport, TapeImportError> {
    let tape = read_tape(input).map_err(|error| TapeImportError::Read {
        path: name.to_string(),
        error,
    })?;
    restore_checked(store, name.to_string(), tape, session)
}

fn restore_checked(
    store: &mut Store,
    shown: String,
    tape: Tape,
    session: Option<&str>,
) -> Result<FileReport, TapeImportError> {
    if let Some(s) = session.filter(|s| *s != tape.header.session_id) {
        return Err(TapeImportError::Invalid {
            path: shown,
            what: format!(
                "the tape holds session {}, not {s} (a tape is imported as its own session)",
                tape.header.session_id
            ),
        });
    }
    restore(store, &shown, &tape)
}

/// A capture log entry's thread, kind, start, end and detail: identical entries are counted.
type CaptureKey<'t> = (&'t str, &'t str, &'t str, Option<&'t str>, Option<&'t str>);

/// One event's copies, oldest first: its revisions, then the text stored now.
struct Copies<'t> {
    /// The line of its event record.
    line: u64,
    thread_id: &'t str,
    event_type: &'t str,
    /// (source, received_at, raw) of each copy.
    copies: Vec<(Source, &'t str, &'t str)>,
    /// The `revision` its event record states.
    revision: i64,
    /// The next copy to write.
    next: usize,
}

/// Restores a tape read from `name`.
pub fn restore(store: &mut Store, name: &str, tape: &Tape) -> Result<FileReport, TapeImportError> {
    let session_id = tape.header.session_id.as_str();
    let invalid = |what: String| TapeImportError::Invalid {
        path: name.to_string(),
        what,
    };
    if !crate::model::is_session_id(session_id) {
        return Err(invalid(format!(
            "line 1: session_id {session_id:?} is not a session id"
        )));
    }
    let source_of = |line: u64, s: &str| {
        Source::parse(s).ok_or_else(|| invalid(format!("line {line}: unknown source {s:?}")))
    };
    let mut events: Vec<Copies<'_>> = Vec::with_capacity(tape.events.len());
    for (line, r) in &tape.events {
        let Record::Event {
            thread_id,
            event_type,
            source,
            received_at,
            raw,
            revision,
        } = r
        else {
            continue;
        };
        events.push(Copies {
            line: *line,
            thread_id,
            event_type,
            copies: vec![(source_of(*line, source)?, received_at, raw)],
            revision: *revision,
            next: 0,
        });
    }
    let mut replaced: Vec<usize> = Vec::with_capacity(tape.revisions.len());
    let mut earlier: Vec<Vec<(Source, &str, &str)>> = vec![Vec::new(); events.len()];
    for (line, r) in &tape.revisions {
        let Record::Revision {
            event,
            source,
            received_at,
            raw,
            ..
        } = r
        else {
            continue;
        };
        let e = usize::try_from(*event)
            .ok()
            .filter(|e| *e < events.len())
            .ok_or_else(|| invalid(format!("line {line}: no event {event}")))?;
        earlier[e].push((source_of(*line, source)?, received_at, raw));
        replaced.push(e);
    }
    for (e, mut before) in events.iter_mut().zip(earlier) {
        if usize::try_from(e.revision).ok() != Some(before.len()) {
            return Err(invalid(format!(
                "line {}: the event says revision {} but the tape holds {} earlier copies of it",
                e.line,
                e.revision,
                before.len()
            )));
        }
        before.append(&mut e.copies);
        e.copies = before;
    }

    let mut batch = store.batch()?;
    let mut report = FileReport {
        path: name.to_string(),
        format: "tape".to_string(),
        session_id: session_id.to_string(),
        counts: UpsertCounts::default(),
        pings: 0,
        error_frames: 0,
        session_objects: 0,
        thread_objects: 0,
        problems: Vec::new(),
        // A tape holds what a database kept: events of two types under one id are two events.
        id_collisions: Vec::new(),
        followed: false,
        written_alone: None,
    };
    batch.ensure_session(session_id)?;
    if let Some(object) = &tape.header.session.object {
        batch.restore_session_object(
            session_id,
            object,
            tape.header.session.fetched_at.as_deref(),
        )?;
        report.session_objects = 1;
    }

    // Replay every copy in the order the original store saw them: first copies by arrival, each
    // replacement (in the order the revisions were made) after its event's first copy. An event
    // already stored gets only its newest copy, through the ordinary upsert.
    let mut restorer = Restorer {
        session_id,
        name,
        counts: UpsertCounts::default(),
    };
    let mut first_written = 0;
    for e in replaced {
        while first_written <= e {
            restorer.first_copy(&mut batch, &mut events[first_written])?;
            first_written += 1;
        }
        restorer.next_copy(&mut batch, &mut events[e])?;
    }
    while first_written < events.len() {
        restorer.first_copy(&mut batch, &mut events[first_written])?;
        first_written += 1;
    }

    for (line, r) in &tape.previews {
        let Record::Preview {
            thread_id,
            preview_type,
            ordinal,
            source,
            received_at,
            raw,
        } = r
        else {
            continue;
        };
        let env = Envelope::parse(raw, Some(preview_type))
            .map_err(|e| invalid(format!("line {line}: preview text: {e}")))?;
        if !env.is_preview() {
            return Err(invalid(format!(
                "line {line}: a preview record holding a {} event",
                env.event_type
            )));
        }
        let outcome = batch.upsert(&Incoming {
            session_id,
            thread_id,
            envelope: &env,
            source: source_of(*line, source)?,
            received_at,
            preview_ordinal: u32::try_from(*ordinal)
                .map_err(|_| invalid(format!("line {line}: bad ordinal {ordinal}")))?,
        })?;
        restorer.counts.add(outcome);
    }

    let mut seen: HashMap<CaptureKey<'_>, u32> = HashMap::new();
    for (_, r) in &tape.capture {
        let Record::Capture {
            thread_id,
            log_kind,
            started_at,
            ended_at,
            detail,
        } = r
        else {
            continue;
        };
        let key = (
            thread_id.as_ref(),
            log_kind.as_ref(),
            started_at.as_ref(),
            ended_at.as_deref(),
            detail.as_deref(),
        );
        let n = seen.entry(key).or_insert(0);
        *n += 1;
        batch.restore_capture(
            session_id,
            thread_id,
            log_kind,
            started_at,
            ended_at.as_deref(),
            detail.as_deref(),
            *n,
        )?;
    }
    batch.commit()?;
    report.counts = restorer.counts;
    Ok(report)
}

struct Restorer<'a> {
    session_id: &'a str,
    name: &'a str,
    counts: UpsertCounts,
}

impl Restorer<'_> {
    /// Writes the event's oldest copy, or only its newest when the event is already stored
    /// (its earlier copies are then skipped: replaying them would replace the stored text).
    fn first_copy(
        &mut self,
        batch: &mut WriteBatch<'_>,
        e: &mut Copies<'_>,
    ) -> Result<(), TapeImportError> {
        if self.stored(batch, e)? {
            e.next = e.next.max(e.copies.len() - 1);
        }
        self.next_copy(batch, e)
    }

    /// Whether the event is already in the store (by the newest copy's key). A queued event with
    /// an empty id, which the upsert would store again (it is keyed by arrival), is then marked
    /// written.
    fn stored(
        &mut self,
        batch: &WriteBatch<'_>,
        e: &mut Copies<'_>,
    ) -> Result<bool, TapeImportError> {
        let (source, received_at, raw) = e.copies[e.copies.len() - 1];
        let env = self.envelope(raw, e.event_type, e.line)?;
        let stored = batch.is_stored(&Incoming {
            session_id: self.session_id,
            thread_id: e.thread_id,
            envelope: &env,
            source,
            received_at,
            preview_ordinal: 0,
        })?;
        if stored && env.id.is_empty() && env.processed_at.is_none() {
            e.next = e.copies.len();
            self.counts.add(Outcome::Duplicate);
        }
        Ok(stored)
    }

    /// Writes the event's next copy through the ordinary upsert. A copy past the newest (the
    /// event was already stored, so its earlier copies are skipped) writes nothing.
    fn next_copy(
        &mut self,
        batch: &mut WriteBatch<'_>,
        e: &mut Copies<'_>,
    ) -> Result<(), TapeImportError> {
        let Some(&(source, received_at, raw)) = e.copies.get(e.next) else {
            return Ok(());
        };
        e.next += 1;
        let env = self.envelope(raw, e.event_type, e.line)?;
        if env.is_preview() {
            return Err(TapeImportError::Invalid {
                path: self.name.to_string(),
                what: format!(
                    "line {}: an event record holding a {} preview frame",
                    e.line, env.event_type
                ),
            });
        }
        let outcome = batch.upsert(&Incoming {
            session_id: self.session_id,
            thread_id: e.thread_id,
            envelope: &env,
            source,
            received_at,
            preview_ordinal: 0,
        })?;
        self.counts.add(outcome);
        Ok(())
    }

    fn envelope<'t>(
        &self,
        raw: &'t str,
        event_type: &'t str,
        line: u64,
    ) -> Result<Envelope<'t>, TapeImportError> {
        Envelope::parse(raw, Some(event_type)).map_err(|err| TapeImportError::Invalid {
            path: self.name.to_string(),
            what: format!("line {line}: event text: {err}"),
        })
    }
}
