//! A whole session redacted in place, and the manifest that says what was done.

use std::collections::{BTreeMap, HashMap};

use serde::Serialize;

use super::{Hit, Redactor, RuleInfo};
use crate::doc::SessionDoc;
use crate::store::{CaptureEntry, EventRow, PreviewRow};

/// The version of the manifest's shape.
pub const MANIFEST_VERSION: u32 = 1;

/// What redaction did to a session: the rules applied and how many values each masked, per
/// place. It never holds a secret, a marker or anything derived from the key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Manifest {
    pub version: u32,
    /// `random` (a fresh key for this export: markers cannot be compared across files) or
    /// `given` (`--redact-key` / `FLIGHTREC_REDACT_KEY`: they can).
    pub key: &'static str,
    /// Every rule applied, built-in first, with the user's own patterns and paths.
    pub rules: Vec<RuleInfo>,
    /// Values masked per rule name (every rule listed, zero included).
    pub counts: BTreeMap<String, u64>,
    /// Values masked per place: `event:<type>`, `revision:<type>`, `preview:<type>`,
    /// `session_object`, `capture:<kind>`, `title`.
    pub places: BTreeMap<String, u64>,
    /// Values masked in all.
    pub masked: u64,
    /// Texts (events, objects, details) that changed.
    pub texts_changed: u64,
}

impl Manifest {
    fn new(r: &Redactor) -> Manifest {
        Manifest {
            version: MANIFEST_VERSION,
            key: if r.key_is_random() { "random" } else { "given" },
            rules: r.rules().to_vec(),
            counts: r.rules().iter().map(|i| (i.name.clone(), 0)).collect(),
            places: BTreeMap::new(),
            masked: 0,
            texts_changed: 0,
        }
    }

    /// `anthropic-key 2, bearer 3`: the rules that masked something, in rule order, or
    /// `nothing matched`.
    pub fn per_rule_text(&self) -> String {
        let per_rule: Vec<String> = self
            .rules
            .iter()
            .filter_map(|r| {
                let n = self.counts.get(&r.name).copied().unwrap_or(0);
                (n > 0).then(|| format!("{} {n}", r.name))
            })
            .collect();
        if per_rule.is_empty() {
            String::from("nothing matched")
        } else {
            per_rule.join(", ")
        }
    }

    /// One line: `redaction: masked 5 values in 4 texts: anthropic-key 2, bearer 3 (random key,
    /// 8 rules)`.
    pub fn summary_line(&self) -> String {
        let list = self.per_rule_text();
        format!(
            "redaction: masked {} value{} in {} text{}: {list} ({} key, {} rules)",
            self.masked,
            if self.masked == 1 { "" } else { "s" },
            self.texts_changed,
            if self.texts_changed == 1 { "" } else { "s" },
            self.key,
            self.rules.len()
        )
    }
}

/// Where in a session a hit was.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Place {
    /// `event`, `revision` (an earlier copy of an event), `preview`, `session_object`,
    /// `capture` (a capture-log detail) or `title`.
    pub kind: &'static str,
    /// The event (for events, revisions and previews) or capture-log entry id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// The event type, or the capture-log entry's kind.
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    pub of_type: Option<String>,
}

impl Place {
    fn key(&self) -> String {
        match &self.of_type {
            Some(t) => format!("{}:{t}", self.kind),
            None => self.kind.to_string(),
        }
    }
}

/// One hit with its place, for `flightrec redact --preview`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DocHit {
    #[serde(flatten)]
    pub place: Place,
    #[serde(flatten)]
    pub hit: Hit,
}

/// Redacts every text of `doc` in place; see [`redact_doc_with_hits`].
pub fn redact_doc(doc: &mut SessionDoc, r: &Redactor) -> Manifest {
    redact_doc_with_hits(doc, r).0
}

/// Redacts texts one at a time and tallies what was masked into a [`Manifest`]: how a whole
/// document is redacted, and how a streaming export redacts each row as it reads it.
#[derive(Clone)]
pub struct Tally<'r> {
    r: &'r Redactor,
    manifest: Manifest,
    /// Every hit with its place, when asked for (`redact --preview`).
    hits: Option<Vec<DocHit>>,
}

impl<'r> Tally<'r> {
    /// An empty tally under `r`'s rules.
    pub fn new(r: &'r Redactor) -> Tally<'r> {
        Tally {
            r,
            manifest: Manifest::new(r),
            hits: None,
        }
    }

    /// Redacts one text (`json`: as JSON, else as plain text), counting its hits at the place
    /// `place` names (made only when something matched). The new text when it changed.
    pub fn text(
        &mut self,
        text: &str,
        json: bool,
        place: impl FnOnce() -> Place,
    ) -> Option<String> {
        let (new, found) = if json {
            self.r.redact_json(text)
        } else {
            self.r.redact_plain(text)
        };
        if found.is_empty() {
            return None;
        }
        let new = match new {
            std::borrow::Cow::Owned(s) => Some(s),
            std::borrow::Cow::Borrowed(_) => None,
        };
        let place = place();
        let m = &mut self.manifest;
        let key = place.key();
        for h in found {
            *m.counts.entry(h.rule.clone()).or_insert(0) += 1;
            *m.places.entry(key.clone()).or_insert(0) += 1;
            m.masked += 1;
            if let Some(hits) = self.hits.as_mut() {
                hits.push(DocHit {
                    place: place.clone(),
                    hit: h,
                });
            }
        }
        if new.is_some() {
            m.texts_changed += 1;
        }
        new
    }

    /// As [`Tally::text`], rewriting `text` in place.
    pub fn rewrite(&mut self, text: &mut String, json: bool, place: impl FnOnce() -> Place) {
        if let Some(new) = self.text(text, json, place) {
            *text = new;
        }
    }

    /// The manifest of every text redacted so far.
    pub fn manifest(self) -> Manifest {
        self.manifest
    }
}

/// The place of an event's text.
pub fn event_place(e: &EventRow) -> Place {
    Place {
        kind: "event",
        id: Some(e.event_id.clone()),
        of_type: Some(e.event_type.clone()),
    }
}

/// The place of an earlier copy of the event with `id` and `of_type` (when still stored).
pub fn revision_place(event: Option<(String, String)>) -> Place {
    let (id, of_type) = event.unzip();
    Place {
        kind: "revision",
        id,
        of_type,
    }
}

/// The place of a preview frame's text.
pub fn preview_place(p: &PreviewRow) -> Place {
    Place {
        kind: "preview",
        id: Some(p.event_id.clone()),
        of_type: Some(p.preview_type.clone()),
    }
}

/// The place of a capture-log entry's detail.
pub fn capture_place(c: &CaptureEntry) -> Place {
    Place {
        kind: "capture",
        id: Some(c.id.to_string()),
        of_type: Some(c.kind.clone()),
    }
}

/// The place of the session's title.
pub fn title_place() -> Place {
    Place {
        kind: "title",
        id: None,
        of_type: None,
    }
}

/// The place of the session object.
pub fn object_place(session_id: &str) -> Place {
    Place {
        kind: "session_object",
        id: Some(session_id.to_string()),
        of_type: None,
    }
}

/// Redacts every text of `doc` in place: each event, each earlier revision, each preview frame,
/// the session object, each capture-log detail, and the title. Returns the manifest and every hit
/// with its place, in that order.
pub fn redact_doc_with_hits(doc: &mut SessionDoc, r: &Redactor) -> (Manifest, Vec<DocHit>) {
    let mut t = Tally::new(r);
    t.hits = Some(Vec::new());
    if let Some(title) = doc.summary.title.as_mut() {
        t.rewrite(title, false, title_place);
    }
    if let Some(obj) = doc.object.as_mut() {
        t.rewrite(&mut obj.raw, true, || object_place(&doc.summary.id));
    }
    let by_seq: HashMap<i64, (String, String)> = doc
        .events
        .iter()
        .map(|e| (e.seq, (e.event_id.clone(), e.event_type.clone())))
        .collect();
    for e in &mut doc.events {
        if let Some(new) = t.text(&e.raw, true, || event_place(e)) {
            e.raw = new;
        }
    }
    for rev in &mut doc.revisions {
        let event = by_seq.get(&rev.event_seq).cloned();
        t.rewrite(&mut rev.raw, true, || revision_place(event));
    }
    for p in &mut doc.previews {
        if let Some(new) = t.text(&p.raw, true, || preview_place(p)) {
            p.raw = new;
        }
    }
    for c in &mut doc.capture {
        if let Some(detail) = c.detail.as_ref()
            && let Some(new) = t.text(detail, true, || capture_place(c))
        {
            c.detail = Some(new);
        }
    }
    let hits = t.hits.take().unwrap_or_default();
    (t.manifest, hits)
}
