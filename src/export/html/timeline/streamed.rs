//! The timeline of a streamed session, written as the store is read: one pass for the status
//! segments, one for the spans, one for the markers (the figure draws them in that order, each
//! in session order), so memory holds the open spans (and a few thousand settled behind an early
//! open one, before they go to the store's scratch table) and never the session's marks.

use std::collections::VecDeque;
use std::io::{self, Write};

use super::{Scale, close, marker, marker_class, open, span, status_rect};
use crate::analysis::spans::{Span, SpanBuilder};
use crate::export::stream::Session;
use crate::export::transcript::{StatusChange, Survey, status_of};
use crate::store::{Result, StoreError, TimelineQuery};

/// Text gathered past this many bytes goes out.
const FLUSH: usize = 1 << 16;

/// Spans held past this many (doubling while the oldest stays open) are handed out when
/// settled.
const SETTLE: usize = 256;

/// Spans waiting behind the oldest open one past this many go to the scratch table (fewer in
/// tests, so the long session of `stream/tests.rs` takes that path).
const HOLD: usize = if cfg!(test) { 64 } else { 4096 };

/// Writes the timeline section of `session` to `s`, sending `s` to `out` as it grows; nothing
/// when no event has a time.
pub fn write(
    session: &Session<'_>,
    sv: &Survey,
    s: &mut String,
    out: &mut dyn Write,
) -> Result<()> {
    let Some(sc) = open(s, session.summary.first_ts, sv.end_ts) else {
        return Ok(());
    };
    let mut w = Writer { s, out, err: None };
    let all = TimelineQuery::default();

    // Status: the ids, types and times only (no text, nothing redaction changes).
    let mut last: Option<StatusChange> = None;
    let mut i = 0;
    session.store.scan_events(session.id(), &all, |e| {
        let n = i;
        i += 1;
        if let (Some(ts), Some(st)) = (e.ts, status_of(e.event_type))
            && sv.is_shown(n, e.event_id)
            && let Some(prev) = last.replace((n, ts, st))
        {
            status_rect(w.s, prev, ts, &sc);
            return w.flush();
        }
        true
    })?;
    if let Some(prev) = last {
        status_rect(w.s, prev, sc.t1, &sc);
    }
    w.done()?;

    spans(session, sv, &sc, &mut w)?;

    let mut i = 0;
    session.scan_redacted(&all, |e| {
        let n = i;
        i += 1;
        if let Some(ts) = e.ts
            && sv.is_shown(n, e.event_id)
            && let Some(class) = marker_class(e.event_type, e.raw)
        {
            marker(w.s, &sc, n, ts, class, e.event_type);
            return w.flush();
        }
        true
    })?;
    w.done()?;
    close(w.s, &sc);
    Ok(())
}

/// The spans, each drawn once nothing can change it: in order of their opening event. Those
/// settled behind the oldest open span are drawn as they settle; when more than [`HOLD`] wait
/// behind it, every span settled from then on is drawn into the store's scratch table by its
/// place, and the table is written out in order at the end, so memory holds the open spans.
fn spans(session: &Session<'_>, sv: &Survey, sc: &Scale, w: &mut Writer<'_>) -> Result<()> {
    let mut b = SpanBuilder::default();
    // The place (in opening order) and the index of the opening event of each held span, in
    // the builder's order.
    let mut held: VecDeque<(i64, Option<usize>)> = VecDeque::new();
    let (mut next, mut settle_at, mut spill) = (0i64, SETTLE, false);
    let mut store_err = None;
    let mut i = 0;
    let put = |place: i64, sp: &Span, ev: Option<usize>| -> Result<()> {
        let mut text = String::new();
        span(&mut text, sp, sc, ev);
        session.store.scratch_put(place, &text)
    };
    // Started before the scan: its schema cannot change while a read is under way.
    session.store.scratch_start()?;
    session.scan_redacted(&TimelineQuery::default(), |e| {
        let n = i;
        i += 1;
        let before = b.held().len();
        b.push(&e);
        for sp in &b.held()[before..] {
            // A span named by another id (a model request known only by its end) has no start
            // time: it is not drawn.
            let ev = (sp.start_id == e.event_id)
                .then(|| sv.index_at(n, e.event_id))
                .flatten();
            held.push_back((next, ev));
            next += 1;
        }
        if b.held().len() < settle_at {
            return true;
        }
        if !spill {
            for sp in b.take_settled() {
                let ev = held.pop_front().and_then(|(_, ev)| ev);
                span(w.s, &sp, sc, ev);
            }
            spill = b.held().len() > HOLD;
        }
        if spill {
            let (at, taken) = b.take_settled_anywhere();
            let mut k = 0;
            let mut kept = VecDeque::with_capacity(held.len() - at.len());
            for (j, h) in held.drain(..).enumerate() {
                if at.get(k) == Some(&j) {
                    if let Err(err) = put(h.0, &taken[k], h.1) {
                        store_err = Some(err);
                        return false;
                    }
                    k += 1;
                } else {
                    kept.push_back(h);
                }
            }
            held = kept;
        }
        settle_at = (2 * b.held().len()).max(SETTLE);
        w.flush()
    })?;
    if let Some(err) = store_err {
        return Err(err);
    }
    w.done()?;
    let rest = b.finish(sv.end_ts);
    if !spill {
        for (sp, (_, ev)) in rest.iter().zip(held) {
            span(w.s, sp, sc, ev);
        }
        return Ok(());
    }
    for (sp, (place, ev)) in rest.iter().zip(held) {
        put(place, sp, ev)?;
    }
    session.store.scratch_each(|text| {
        w.s.push_str(text);
        w.flush()
    })?;
    w.done()
}

/// The text gathered so far and where it goes; a failed write stops the scan.
struct Writer<'w> {
    s: &'w mut String,
    out: &'w mut dyn Write,
    err: Option<io::Error>,
}

impl Writer<'_> {
    /// Sends the text when it is long; `false` (stop the scan) on a failed write.
    fn flush(&mut self) -> bool {
        if self.s.len() < FLUSH {
            return true;
        }
        match self.out.write_all(self.s.as_bytes()) {
            Ok(()) => {
                self.s.clear();
                true
            }
            Err(e) => {
                self.err = Some(e);
                false
            }
        }
    }

    /// The error that stopped the scan, if one did.
    fn done(&mut self) -> Result<()> {
        self.err
            .take()
            .map_or(Ok(()), |e| Err(StoreError::Output(e)))
    }
}
