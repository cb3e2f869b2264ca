//! What a trace keeps of its spans while they wait in the sort: each span numbered by its
//! opening event ([`Numbered`], written to a run as its checkpoint JSON, every field exact), and
//! the few facts the root and the parents need before the first span is written ([`Facts`]).

use std::collections::BTreeMap;

use super::{span_id, times};
use crate::analysis::checkpoint;
use crate::analysis::spans::{Span, SpanKind};
use crate::export::spill::Record;

/// A span that others sit under: a child thread's busy stretch (running to idle) or a workflow
/// run.
pub(super) struct Parent {
    /// The number of its span, in the order of opening events.
    pub n: u64,
    pub thread: Option<String>,
    pub start: i64,
    pub end: i64,
    pub id: [u8; 8],
}

/// What the root and the parents need of a trace's spans, gathered before any is written.
#[derive(Default)]
pub(super) struct Facts {
    /// Each child thread's busy stretches, in order.
    pub threads: BTreeMap<String, Vec<Parent>>,
    /// The workflow runs, in order.
    pub runs: Vec<Parent>,
    /// The model requests' tokens (input with the cached ones).
    pub input: u64,
    pub output: u64,
}

impl Facts {
    /// Notes span number `n` (spans come in any order).
    pub fn add(&mut self, n: u64, s: &Span, session: &str, t0: i64, end: i64) {
        if s.kind == SpanKind::Thread
            && let Some(t) = &s.thread_id
        {
            let start = s.start_ts.unwrap_or(t0);
            self.threads.entry(t.clone()).or_default().push(Parent {
                n,
                thread: None,
                start,
                end: start,
                id: span_id(session, s),
            });
        }
        if s.kind == SpanKind::WorkflowRun {
            let (a, b) = times(s, t0, end);
            self.runs.push(Parent {
                n,
                thread: s.thread_id.clone(),
                start: a,
                end: b,
                id: span_id(session, s),
            });
        }
        if s.kind == SpanKind::ModelRequest
            && let Some(u) = &s.usage
        {
            self.input +=
                u.input_tokens + u.cache_creation_input_tokens + u.cache_read_input_tokens;
            self.output += u.output_tokens;
        }
    }

    /// Puts the threads' stretches and the runs in the order of their spans.
    pub fn settle(&mut self) {
        for stretches in self.threads.values_mut() {
            stretches.sort_unstable_by_key(|s| s.n);
        }
        self.runs.sort_unstable_by_key(|r| r.n);
    }
}

/// A span and its place in the order of opening events, as the sort holds it.
pub(super) struct Numbered(pub u64, pub Span);

impl PartialEq for Numbered {
    fn eq(&self, other: &Self) -> bool {
        self.0 == other.0
    }
}

impl Eq for Numbered {}

impl PartialOrd for Numbered {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Numbered {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.0.cmp(&other.0)
    }
}

impl Record for Numbered {
    fn write(&self, out: &mut Vec<u8>) -> std::io::Result<()> {
        out.extend_from_slice(&self.0.to_le_bytes());
        // Every field, floats exact: the span comes back equal.
        out.extend_from_slice(&checkpoint::to_json(&self.1)?);
        Ok(())
    }

    fn read(bytes: &[u8]) -> std::io::Result<Self> {
        let (n, json) = bytes
            .split_first_chunk::<8>()
            .ok_or_else(|| std::io::Error::other("a spilled span without its number"))?;
        Ok(Numbered(
            u64::from_le_bytes(*n),
            checkpoint::from_json(json)?,
        ))
    }

    fn size(&self) -> usize {
        let s = &self.1;
        let text = |o: &Option<String>| o.as_ref().map_or(0, String::capacity);
        s.name.capacity()
            + s.start_id.capacity()
            + text(&s.thread_id)
            + text(&s.end_id)
            + text(&s.started_at)
            + text(&s.ended_at)
            + text(&s.detail)
            + s.usage.as_ref().map_or(0, |_| 64)
    }
}
