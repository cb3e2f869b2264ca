//! `--format tape`: one session in one self-describing file (`docs/tape.md`): a header line
//! (format version, flightrec version, the session object, a capture summary, the redaction
//! manifest, record counts), then every stored row as a JSON Lines record, gzip-compressed when
//! asked. `record::tape` restores the same rows from it.

use std::collections::HashMap;
use std::io::Write;

use crate::analysis::capture::{CaptureReport, capture_report};
use crate::export::SessionDoc;
use crate::export::stream::Session;
use crate::source::tape::{Record, TAPE_VERSION, TapeCounts, TapeHeader, TapeSession};
use crate::store::{
    CaptureEntry, EventRow, PreviewOrigin, PreviewRow, RevisionRow, SessionObject, StoreError,
};

/// What to put in a tape besides the session's rows.
#[derive(Debug, Clone, Default)]
pub struct TapeOptions<'a> {
    /// Include the capture log (connections, pages, retries, imports).
    pub capture_log: bool,
    /// gzip the whole file.
    pub compress: bool,
    /// The redaction manifest, when the document was redacted.
    pub redaction: Option<&'a serde_json::Value>,
    /// When the tape is written (RFC 3339 UTC).
    pub exported_at: &'a str,
}

/// A document that cannot be written as a tape (its rows disagree with each other).
#[derive(Debug, thiserror::Error)]
pub enum TapeWriteError {
    #[error("writing output: {0}")]
    Output(std::io::Error),
    #[error("encoding a tape record: {0}")]
    Encode(serde_json::Error),
    #[error("revision {id} belongs to event seq {seq}, which is not in the session")]
    OrphanRevision { id: i64, seq: i64 },
    #[error("preview seq {seq} has no stored origin")]
    OrphanPreview { seq: i64 },
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl TapeWriteError {
    /// As an I/O error, to pass through a store scan's callback (which gives it back).
    fn into_io(self) -> std::io::Error {
        match self {
            TapeWriteError::Output(e) => e,
            other => std::io::Error::other(other),
        }
    }
}

impl From<std::io::Error> for TapeWriteError {
    fn from(e: std::io::Error) -> Self {
        TapeWriteError::Output(e)
    }
}

impl From<serde_json::Error> for TapeWriteError {
    fn from(e: serde_json::Error) -> Self {
        TapeWriteError::Encode(e)
    }
}

/// Everything of a tape but its events, which are lent one at a time (see [`Events`]).
pub struct Tape<'a> {
    pub session_id: &'a str,
    pub object: Option<&'a SessionObject>,
    pub capture_report: CaptureReport,
    pub event_count: u64,
    pub revisions: Vec<RevisionRow>,
    pub previews: Vec<PreviewRow>,
    /// The thread, source and arrival time of each preview frame (by seq).
    pub preview_origins: Vec<PreviewOrigin>,
    pub capture: Vec<CaptureEntry>,
}

/// Lends each event of a session, in arrival order, to the writer it is given.
pub type Events<'e> =
    dyn FnMut(&mut dyn FnMut(&EventRow) -> std::io::Result<()>) -> Result<(), TapeWriteError> + 'e;

impl<'a> Tape<'a> {
    /// The parts of `doc`'s tape.
    pub fn of_doc(doc: &'a SessionDoc, preview_origins: &[PreviewOrigin]) -> Tape<'a> {
        Tape {
            session_id: &doc.summary.id,
            object: doc.object.as_ref(),
            capture_report: doc.capture_report(),
            event_count: doc.events.len() as u64,
            revisions: doc.revisions.clone(),
            previews: doc.previews.clone(),
            preview_origins: preview_origins.to_vec(),
            capture: doc.capture.clone(),
        }
    }

    /// The parts of a streamed session's tape (redacted as the session is).
    pub fn of_session(s: &'a Session<'_>) -> Result<Tape<'a>, StoreError> {
        let capture = s.capture()?;
        let by_source = s.events_by_source()?;
        Ok(Tape {
            session_id: s.id(),
            object: s.object.as_ref(),
            event_count: by_source.values().sum(),
            capture_report: capture_report(&capture, by_source),
            revisions: s.revisions()?,
            previews: s.previews()?,
            preview_origins: s.store.preview_origins(s.id())?,
            capture,
        })
    }
}

/// Writes `doc` as a tape to `out`. `preview_origins` are the thread, source and arrival time of
/// `doc.previews` (by seq). Returns the counts written.
pub fn write_tape(
    doc: &SessionDoc,
    preview_origins: &[PreviewOrigin],
    opts: &TapeOptions<'_>,
    out: &mut dyn Write,
) -> Result<TapeCounts, TapeWriteError> {
    let tape = Tape::of_doc(doc, preview_origins);
    let mut events = |f: &mut dyn FnMut(&EventRow) -> std::io::Result<()>| {
        let mut events: Vec<_> = doc.events.iter().collect();
        events.sort_by_key(|e| e.seq);
        for e in events {
            f(e)?;
        }
        Ok(())
    };
    write_parts(&tape, &mut events, opts, out)
}

/// Writes a streamed session as a tape to `out`, its events read in arrival order as they are
/// written: memory holds one event and the small tables (revisions, previews, capture log),
/// never the session's events. Returns the counts written.
pub fn write_tape_streamed(
    s: &Session<'_>,
    opts: &TapeOptions<'_>,
    out: &mut dyn Write,
) -> Result<TapeCounts, TapeWriteError> {
    let tape = Tape::of_session(s)?;
    let mut events = |f: &mut dyn FnMut(&EventRow) -> std::io::Result<()>| {
        s.each_event_by_arrival(|e| f(&e))
            .map_err(TapeWriteError::from)
    };
    write_parts(&tape, &mut events, opts, out)
}

/// Writes a tape of `tape` and the `events` it lends.
pub fn write_parts(
    tape: &Tape<'_>,
    events: &mut Events<'_>,
    opts: &TapeOptions<'_>,
    out: &mut dyn Write,
) -> Result<TapeCounts, TapeWriteError> {
    if opts.compress {
        // The JSON writer makes many small writes; the encoder pays per call, so buffer them.
        let gz = flate2::write::GzEncoder::new(out, flate2::Compression::default());
        let mut buffered = std::io::BufWriter::with_capacity(1 << 16, gz);
        let counts = write_plain(tape, events, opts, &mut buffered)?;
        let gz = buffered.into_inner().map_err(|e| e.into_error())?;
        gz.finish()?;
        Ok(counts)
    } else {
        write_plain(tape, events, opts, out)
    }
}

/// The header of `doc`'s tape.
pub fn header(doc: &SessionDoc, opts: &TapeOptions<'_>) -> Result<TapeHeader, TapeWriteError> {
    tape_header(&Tape::of_doc(doc, &[]), opts)
}

fn tape_header(t: &Tape<'_>, opts: &TapeOptions<'_>) -> Result<TapeHeader, TapeWriteError> {
    Ok(TapeHeader {
        flightrec_tape: TAPE_VERSION,
        flightrec_version: env!("CARGO_PKG_VERSION").to_string(),
        session_id: t.session_id.to_string(),
        exported_at: opts.exported_at.to_string(),
        session: TapeSession {
            object: t.object.map(|o| o.raw.clone()),
            fetched_at: t.object.and_then(|o| o.fetched_at.clone()),
        },
        capture: serde_json::to_value(&t.capture_report)?,
        redaction: opts.redaction.cloned(),
        counts: TapeCounts {
            events: t.event_count,
            revisions: t.revisions.len() as u64,
            previews: t.previews.len() as u64,
            capture_log: if opts.capture_log {
                t.capture.len() as u64
            } else {
                0
            },
        },
    })
}

fn line(out: &mut dyn Write, value: &impl serde::Serialize) -> Result<(), TapeWriteError> {
    serde_json::to_writer(&mut *out, value)?;
    out.write_all(b"\n")?;
    Ok(())
}

fn write_plain(
    t: &Tape<'_>,
    events: &mut Events<'_>,
    opts: &TapeOptions<'_>,
    out: &mut dyn Write,
) -> Result<TapeCounts, TapeWriteError> {
    let header = tape_header(t, opts)?;
    line(out, &header)?;
    // Events in arrival order, so a restore gives them the same relative order (ties in
    // processed_at and queued events are ordered by arrival). A revision names its event by
    // its place in that order: the places of the revisions' events are noted as they pass
    // (memory holds the revisions, never the session).
    let mut places: HashMap<i64, Option<u64>> =
        t.revisions.iter().map(|r| (r.event_seq, None)).collect();
    let mut n: u64 = 0;
    events(&mut |e: &EventRow| {
        if let Some(p) = places.get_mut(&e.seq) {
            *p = Some(n);
        }
        n += 1;
        line(
            out,
            &Record::Event {
                thread_id: e.thread_id.as_str().into(),
                event_type: e.event_type.as_str().into(),
                source: e.source.as_str().into(),
                received_at: e.received_at.as_str().into(),
                revision: e.revision,
                raw: e.raw.as_str().into(),
            },
        )
        .map_err(TapeWriteError::into_io)
    })?;
    let mut revisions: Vec<_> = t.revisions.iter().collect();
    revisions.sort_by_key(|r| r.id);
    for r in revisions {
        let event =
            places
                .get(&r.event_seq)
                .copied()
                .flatten()
                .ok_or(TapeWriteError::OrphanRevision {
                    id: r.id,
                    seq: r.event_seq,
                })?;
        line(
            out,
            &Record::Revision {
                event,
                source: r.source.as_str().into(),
                received_at: r.received_at.as_str().into(),
                replaced_at: r.replaced_at.as_str().into(),
                raw: r.raw.as_str().into(),
            },
        )?;
    }
    let origins: HashMap<i64, &PreviewOrigin> =
        t.preview_origins.iter().map(|o| (o.seq, o)).collect();
    let mut previews: Vec<_> = t.previews.iter().collect();
    previews.sort_by_key(|p| p.seq);
    for p in previews {
        let o = origins
            .get(&p.seq)
            .ok_or(TapeWriteError::OrphanPreview { seq: p.seq })?;
        line(
            out,
            &Record::Preview {
                thread_id: o.thread_id.as_str().into(),
                preview_type: p.preview_type.as_str().into(),
                ordinal: p.ordinal,
                source: o.source.as_str().into(),
                received_at: o.received_at.as_str().into(),
                raw: p.raw.as_str().into(),
            },
        )?;
    }
    if opts.capture_log {
        let mut capture: Vec<_> = t.capture.iter().collect();
        capture.sort_by_key(|c| c.id);
        for c in capture {
            line(
                out,
                &Record::Capture {
                    thread_id: c.thread_id.as_str().into(),
                    log_kind: c.kind.as_str().into(),
                    started_at: c.started_at.as_str().into(),
                    ended_at: c.ended_at.as_deref().map(Into::into),
                    detail: c.detail.as_deref().map(Into::into),
                },
            )?;
        }
    }
    Ok(header.counts)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::source::tape::read_tape;
    use crate::store::{EventRow, RevisionRow, SessionObject, SessionSummary};

    fn doc() -> SessionDoc {
        let event = |seq: i64, raw: &str, revision: i64| EventRow {
            seq,
            event_id: format!("sevt_{seq}"),
            event_type: "agent.message".into(),
            processed_at: Some("2026-01-01T00:00:00Z".into()),
            ts: Some(1),
            thread_id: String::new(),
            link_id: None,
            source: "stream".into(),
            received_at: "2026-01-01T00:00:01Z".into(),
            revision,
            raw: raw.into(),
        };
        SessionDoc {
            summary: SessionSummary {
                id: "sesn_1".into(),
                title: None,
                event_count: 2,
                first_ts: Some(1),
                last_ts: Some(1),
                status: None,
                stop_reason: None,
            },
            object: Some(SessionObject {
                raw: "{\n  \"type\": \"session\"\n}".into(),
                fetched_at: Some("2026-01-01T00:00:02Z".into()),
            }),
            // Session order differs from arrival order: the tape is written by arrival.
            events: vec![
                event(
                    9,
                    "{\n  \"id\": \"sevt_9\",\n  \"text\": \"a\\u00e9\"\n}",
                    1,
                ),
                event(4, "{\"id\":\"sevt_4\"}", 0),
            ],
            revisions: vec![RevisionRow {
                id: 1,
                event_seq: 9,
                source: "list".into(),
                received_at: "2026-01-01T00:00:00.5Z".into(),
                replaced_at: "2026-01-01T00:00:01Z".into(),
                raw: "{\"id\":\"sevt_9\",\"processed_at\":null}".into(),
            }],
            previews: vec![],
            capture: vec![],
        }
    }

    #[test]
    fn header_then_records_by_arrival_with_raw_text_as_strings() {
        let opts = TapeOptions {
            capture_log: true,
            exported_at: "2026-01-02T00:00:00.000Z",
            ..TapeOptions::default()
        };
        let mut out = Vec::new();
        write_tape(&doc(), &[], &opts, &mut out).unwrap();
        let text = String::from_utf8(out.clone()).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 4, "{text}");
        assert!(lines[0].starts_with("{\"flightrec_tape\":1,\"flightrec_version\":"));
        assert!(lines[0].contains(
            "\"counts\":{\"events\":2,\"revisions\":1,\"previews\":0,\"capture_log\":0}"
        ));
        assert!(lines[1].contains("\"raw\":\"{\\\"id\\\":\\\"sevt_4\\\"}\""));
        assert!(
            lines[3].starts_with("{\"kind\":\"revision\",\"event\":1,"),
            "{}",
            lines[3]
        );

        let tape = read_tape(out.as_slice()).unwrap();
        assert_eq!(tape.header, header(&doc(), &opts).unwrap());
        assert_eq!(
            tape.header.session.object.as_deref(),
            Some("{\n  \"type\": \"session\"\n}")
        );
        let (line, Record::Event { raw, revision, .. }) = &tape.events[1] else {
            panic!("not an event: {:?}", tape.events[1]);
        };
        assert_eq!(raw, "{\n  \"id\": \"sevt_9\",\n  \"text\": \"a\\u00e9\"\n}");
        assert_eq!((*line, *revision), (3, 1));
    }

    #[test]
    fn compressed_tapes_read_back_the_same() {
        let mut opts = TapeOptions {
            capture_log: true,
            exported_at: "2026-01-02T00:00:00.000Z",
            ..TapeOptions::default()
        };
        let mut plain = Vec::new();
        write_tape(&doc(), &[], &opts, &mut plain).unwrap();
        opts.compress = true;
        let mut gz = Vec::new();
        write_tape(&doc(), &[], &opts, &mut gz).unwrap();
        assert_eq!(gz[..2], [0x1f, 0x8b]);
        assert_eq!(
            read_tape(gz.as_slice()).unwrap(),
            read_tape(plain.as_slice()).unwrap()
        );
        // A compressed tape cut short is an error, not a shorter session.
        assert!(read_tape(&gz[..gz.len() - 12]).is_err());
    }
}
