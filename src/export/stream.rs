//! One session read as a stream, for the exports that write as they read (JSON Lines with
//! `--redact`, tape, markdown, HTML): its summary and object up front, then its events one row at
//! a time from the store's scans, each redacted as it is read when a [`Redactor`] is given, so
//! memory holds one event and never the session. The small tables (revisions, previews, the
//! capture log) are read whole, redacted the same way.
//!
//! Redaction is a pure function of each text and the key (a marker is an HMAC of the secret), so
//! a row redacted here is byte for byte the row `redact_doc` gives; the manifest comes from its
//! own pass ([`Session::manifest_with`]), which may lend each redacted event to a writer.

use std::collections::{BTreeMap, HashMap};

use crate::analysis::capture::{CaptureReport, capture_report};
use crate::redact::{
    Manifest, Redactor, Tally, capture_place, event_place, object_place, preview_place,
    revision_place, title_place,
};
use crate::store::{
    CaptureEntry, EventRef, EventRow, PreviewRow, Result, RevisionRow, SessionObject,
    SessionSummary, Store, TimelineQuery,
};

/// A session about to be streamed: what is known before reading its events.
pub struct Session<'a> {
    pub store: &'a Store,
    /// Its summary, the title redacted.
    pub summary: SessionSummary,
    /// Its object as received, redacted.
    pub object: Option<SessionObject>,
    redactor: Option<&'a Redactor>,
    /// The tally of the title and object, which the manifest starts from.
    head: Option<Tally<'a>>,
}

impl<'a> Session<'a> {
    /// Opens the session `id` (an unknown one is an error naming it), redacting with `redactor`.
    pub fn open(store: &'a Store, id: &str, redactor: Option<&'a Redactor>) -> Result<Self> {
        let mut summary = store.require_session(id)?;
        let mut object = store.session_object(id)?;
        let head = redactor.map(|r| {
            let mut t = Tally::new(r);
            if let Some(title) = summary.title.as_mut() {
                t.rewrite(title, false, title_place);
            }
            if let Some(o) = object.as_mut() {
                t.rewrite(&mut o.raw, true, || object_place(id));
            }
            t
        });
        Ok(Session {
            store,
            summary,
            object,
            redactor,
            head,
        })
    }

    pub fn id(&self) -> &str {
        &self.summary.id
    }

    /// `text` redacted, when there is something to mask.
    fn redact(&self, text: &mut String) {
        if let Some(r) = self.redactor
            && let (std::borrow::Cow::Owned(new), hits) = r.redact_json(text)
            && !hits.is_empty()
        {
            *text = new;
        }
    }

    /// Lends every event to `f` in session order (processed_at, then arrival), redacted.
    pub fn each_event(&self, mut f: impl FnMut(EventRow) -> std::io::Result<()>) -> Result<()> {
        self.store
            .for_each_event(self.id(), &TimelineQuery::default(), |mut e| {
                self.redact(&mut e.raw);
                f(e)
            })
    }

    /// Lends the events `q` selects to `f`, borrowed and redacted, until `f` returns `false`
    /// (a scan for a fold: nothing is copied but a text that redaction changes).
    pub fn scan_redacted(
        &self,
        q: &TimelineQuery,
        mut f: impl FnMut(EventRef<'_>) -> bool,
    ) -> Result<()> {
        self.store
            .scan_events(self.id(), q, |e| match self.redactor {
                Some(r) => match r.redact_json(e.raw) {
                    (std::borrow::Cow::Owned(new), hits) if !hits.is_empty() => {
                        f(EventRef { raw: &new, ..e })
                    }
                    _ => f(e),
                },
                None => f(e),
            })
    }

    /// Lends every event to `f` in arrival order (`seq`), redacted.
    pub fn each_event_by_arrival(
        &self,
        mut f: impl FnMut(EventRow) -> std::io::Result<()>,
    ) -> Result<()> {
        self.store.for_each_event_by_arrival(self.id(), |mut e| {
            self.redact(&mut e.raw);
            f(e)
        })
    }

    /// The event stored at `seq`, redacted; `None` when it is not this session's.
    pub fn event_by_seq(&self, seq: i64) -> Result<Option<EventRow>> {
        let mut row = self.store.event_by_seq(self.id(), seq)?;
        if let Some(e) = row.as_mut() {
            self.redact(&mut e.raw);
        }
        Ok(row)
    }

    /// The earlier copies newer ones replaced, in the order they were replaced, redacted.
    pub fn revisions(&self) -> Result<Vec<RevisionRow>> {
        let mut v = self.store.session_revisions(self.id())?;
        v.iter_mut().for_each(|r| self.redact(&mut r.raw));
        Ok(v)
    }

    /// The preview frames, by seq, redacted.
    pub fn previews(&self) -> Result<Vec<PreviewRow>> {
        let mut v = self.store.previews(self.id())?;
        v.iter_mut().for_each(|p| self.redact(&mut p.raw));
        Ok(v)
    }

    /// The capture log, its details redacted.
    pub fn capture(&self) -> Result<Vec<CaptureEntry>> {
        let mut v = self.store.capture_log(self.id())?;
        for c in &mut v {
            if let Some(d) = c.detail.as_mut() {
                self.redact(d);
            }
        }
        Ok(v)
    }

    /// How many events came from each source; their sum is the session's event count.
    pub fn events_by_source(&self) -> Result<BTreeMap<String, u64>> {
        self.store.events_by_source(self.id())
    }

    /// How the session was captured (`capture`: its capture log as [`Session::capture`] gives
    /// it), with event counts per source.
    pub fn capture_report(&self, capture: &[CaptureEntry]) -> Result<CaptureReport> {
        Ok(capture_report(capture, self.events_by_source()?))
    }

    /// The redaction manifest, `None` (at once) when not redacting: a pass over every text that
    /// keeps nothing.
    pub fn manifest(&self) -> Result<Option<Manifest>> {
        if self.redactor.is_none() {
            return Ok(None);
        }
        self.manifest_with(|_| Ok(()))
    }

    /// The redaction manifest, `None` when not redacting (the events are lent all the same): every text of the session redacted
    /// once and tallied, the events in session order, each lent to `f` redacted on the way
    /// (a writer that needs nothing else writes in the same pass). What `redact_doc` returns
    /// for the same session and key.
    pub fn manifest_with(
        &self,
        mut f: impl FnMut(EventRow) -> std::io::Result<()>,
    ) -> Result<Option<Manifest>> {
        let Some(mut t) = self.head.clone() else {
            return self.each_event(f).map(|()| None);
        };
        // A revision's place names its event: kept for those events only.
        let revisions = self.store.session_revisions(self.id())?;
        let mut named: HashMap<i64, Option<(String, String)>> =
            revisions.iter().map(|r| (r.event_seq, None)).collect();
        self.store
            .for_each_event(self.id(), &TimelineQuery::default(), |mut e| {
                if let Some(slot) = named.get_mut(&e.seq) {
                    *slot = Some((e.event_id.clone(), e.event_type.clone()));
                }
                if let Some(new) = t.text(&e.raw, true, || event_place(&e)) {
                    e.raw = new;
                }
                f(e)
            })?;
        for r in &revisions {
            let event = named.get(&r.event_seq).cloned().flatten();
            t.text(&r.raw, true, || revision_place(event));
        }
        for p in &self.store.previews(self.id())? {
            t.text(&p.raw, true, || preview_place(p));
        }
        for c in &self.store.capture_log(self.id())? {
            if let Some(d) = c.detail.as_deref() {
                t.text(d, true, || capture_place(c));
            }
        }
        Ok(Some(t.manifest()))
    }
}

#[cfg(test)]
mod tests;
