//! Two sessions compared: their events aligned step by step, the first place they diverge (and
//! what differs there, down to the keys of a tool's input), and what changed in numbers (tokens,
//! model requests, tool calls and latency, errors, duration) and in the end (status, stop reason,
//! explain verdict). The `--json` form of [`SessionDiff`] is documented in `docs/diff-json.md`.
//!
//! `signature` turns events into comparable steps, `align` lines two step sequences up (`window`
//! as they stream in), `alignment` keeps what the report shows of the rows, `deltas` compares the
//! sessions' statistics; this module puts them together.

pub mod align;
mod alignment;
pub mod deltas;
pub mod signature;
pub mod window;

#[cfg(test)]
mod reference_tests;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod window_tests;

use serde::Serialize;
use serde_json::Value;
use std::collections::BTreeMap;
use std::time::Duration;

pub use align::{Op, Row, align};
pub use alignment::Alignment;
pub use deltas::{Count, Deltas, Measure, Sizes};
pub use signature::{SharedKinds, Sig, Signer, Sigs, Step, step_of, steps};

use super::explain::Explanation;
use super::stats::Stats;
use super::summarize;
use crate::model::time::format_micros;
use crate::model::typed::Event;
use crate::store::{EventRow, SessionSummary};

/// The most field changes listed for a divergence.
pub const MAX_CHANGES: usize = 20;
/// Strings in listed changes are cut to this many characters.
pub const MAX_VALUE_CHARS: usize = 200;

/// One session as the diff reads it.
pub struct Side<'a> {
    pub summary: &'a SessionSummary,
    /// Its events in session order.
    pub events: &'a [EventRow],
    pub stats: &'a Stats,
    /// The explain verdict at the end of the recording.
    pub explanation: &'a Explanation,
}

#[derive(Debug, Clone, Default)]
pub struct DiffOptions {
    /// Aligned steps to show before and after the first divergence.
    pub context: usize,
    /// How long to search for the shortest alignment before settling for a quicker, possibly
    /// longer one (very long, very different pairs). Time spent waiting for steps is not counted.
    pub budget: Option<Duration>,
}

/// The whole comparison.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SessionDiff {
    pub a: SideInfo,
    pub b: SideInfo,
    /// Every step aligned as equal: no divergence.
    pub same: bool,
    pub alignment: AlignmentSummary,
    /// The first aligned row that is not equal; `null` when the sessions are the same.
    pub first_divergence: Option<Divergence>,
    /// Up to `context` aligned rows before the first divergence, the divergence, and up to
    /// `context` after it; empty when the sessions are the same.
    pub context: Vec<AlignedStep>,
    pub deltas: Deltas,
}

/// One side's identity and ending.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SideInfo {
    pub session_id: String,
    pub title: Option<String>,
    pub event_count: u64,
    pub steps: u64,
    pub first_event_at: Option<String>,
    pub last_event_at: Option<String>,
    /// The newest session status (explain's `state`).
    pub status: String,
    pub stop_reason: Option<String>,
    /// The explain verdict (`end_turn`, `requires_action`, …) and its one-line summary.
    pub verdict: String,
    pub verdict_summary: String,
    pub attention: bool,
}

/// How many aligned rows of each kind.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct AlignmentSummary {
    pub equal: u64,
    pub changed: u64,
    pub only_in_a: u64,
    pub only_in_b: u64,
}

/// A step as shown: where it is and what it was.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StepRef {
    /// Position among the compared steps (0-based).
    pub step: usize,
    /// Position among the session's events, as `timeline` lists them (0-based).
    pub index: usize,
    pub event_id: String,
    #[serde(rename = "type")]
    pub event_type: String,
    pub processed_at: Option<String>,
    /// Time since the session's first event, ms; `null` for queued events.
    pub offset_ms: Option<f64>,
    /// The thread stream it was recorded on; `null` for the session's own.
    pub thread_id: Option<String>,
    pub tool: Option<String>,
    pub summary: String,
}

/// One aligned row.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AlignedStep {
    pub op: Op,
    pub a: Option<StepRef>,
    pub b: Option<StepRef>,
}

/// Where the sessions first part ways.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Divergence {
    /// `changed`: both sides have a step here and they differ; `only_in_a` / `only_in_b`: one
    /// side has a step the other lacks.
    pub op: Op,
    /// A's step here; for `only_in_b`, the step A has next (`null` at its end).
    pub a: Option<StepRef>,
    /// B's step here; for `only_in_a`, the step B has next (`null` at its end).
    pub b: Option<StepRef>,
    /// What differs between `a` and `b`: `type`, `tool`, then each differing field of the
    /// normalized events (`input`, `text`, `content`, `is_error`, `stop_reason`, …), sorted.
    pub differs: Vec<String>,
    /// Leaf-level changes of the normalized events when both have the same type: `input.city`,
    /// `content[0].text`, …; at most [`MAX_CHANGES`].
    pub changes: Vec<Change>,
    /// Changes not listed beyond [`MAX_CHANGES`].
    pub more_changes: usize,
}

/// One differing value; `null` on a side means the field is absent there.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Change {
    pub path: String,
    pub a: Option<Value>,
    pub b: Option<Value>,
}

/// Compares `a` with `b`, both in memory.
pub fn diff(a: &Side<'_>, b: &Side<'_>, opts: &DiffOptions) -> SessionDiff {
    let sigs = |events: &[EventRow]| {
        let mut signer = Signer::default();
        for e in events {
            signer.push(&e.as_ref());
        }
        signer.finish()
    };
    let (sa, sb) = (sigs(a.events), sigs(b.events));
    let al = Alignment::new(&sa, &sb, opts);
    report(
        &al,
        (&a.facts(), &|i| a.events.get(i)),
        (&b.facts(), &|i| b.events.get(i)),
    )
    .expect("every event is in memory")
}

impl<'a> Side<'a> {
    fn facts(&self) -> SideFacts<'a> {
        SideFacts {
            summary: self.summary,
            event_count: self.events.len() as u64,
            stats: self.stats,
            explanation: self.explanation,
        }
    }
}

/// One session as the diff reads it when its events are not in memory: its facts; its steps
/// come as [`Sig`]natures and the few events shown are read back by index.
pub struct SideFacts<'a> {
    pub summary: &'a SessionSummary,
    pub event_count: u64,
    pub stats: &'a Stats,
    pub explanation: &'a Explanation,
}

/// A side's facts and its events by their index among the session's events (those the
/// alignment shows).
pub type Reader<'s, 'e> = (&'s SideFacts<'s>, &'s dyn Fn(usize) -> Option<&'e EventRow>);

/// The comparison of two aligned sessions; `None` when an event the alignment shows is not
/// given.
pub fn report(al: &Alignment, a: Reader<'_, '_>, b: Reader<'_, '_>) -> Option<SessionDiff> {
    let (fa, ea) = a;
    let (fb, eb) = b;
    fn step<'e>(
        sigs: &BTreeMap<usize, Sig>,
        kinds: &[Box<str>],
        events: &dyn Fn(usize) -> Option<&'e EventRow>,
        i: usize,
    ) -> Option<Step<'e>> {
        let s = sigs.get(&i)?;
        Some(step_of(s, kinds, events(s.index as usize)?))
    }
    let step_a = |i: usize| step(&al.sigs.0, &al.kinds, ea, i);
    let step_b = |i: usize| step(&al.sigs.1, &al.kinds, eb, i);
    let refer_a = |i: usize| Some(step_ref(&step_a(i)?, i, fa.summary.first_ts));
    let refer_b = |i: usize| Some(step_ref(&step_b(i)?, i, fb.summary.first_ts));
    let (first_divergence, context) = match al.first {
        None => (None, Vec::new()),
        Some(_) => {
            let row = al.shown.iter().find(|r| r.op != Op::Equal)?;
            let (ia, ib) = al.at;
            let (differs, changes) = match (ia, ib) {
                (Some(i), Some(j)) => compare(&step_a(i)?, &step_b(j)?),
                _ => (Vec::new(), Changes::default()),
            };
            let divergence = Divergence {
                op: row.op,
                a: given(ia.map(refer_a))?,
                b: given(ib.map(refer_b))?,
                differs,
                changes: changes.listed,
                more_changes: changes.more,
            };
            let mut context = Vec::new();
            for r in &al.shown {
                context.push(AlignedStep {
                    op: r.op,
                    a: given(r.a.map(refer_a))?,
                    b: given(r.b.map(refer_b))?,
                });
            }
            (Some(divergence), context)
        }
    };
    let sizes = |s: &SideFacts<'_>, n: usize| Sizes {
        events: s.event_count,
        steps: n as u64,
        duration_ms: s
            .summary
            .first_ts
            .zip(s.summary.last_ts)
            .map(|(f, l)| (l - f) as f64 / 1000.0),
    };
    let (na, nb) = al.steps();
    Some(SessionDiff {
        a: side_info(fa, na),
        b: side_info(fb, nb),
        same: first_divergence.is_none(),
        alignment: al.counts,
        first_divergence,
        context,
        deltas: deltas::deltas(fa.stats, fb.stats, sizes(fa, na), sizes(fb, nb)),
    })
}

/// `Some(None)` for no step, `None` for a step whose event was not given.
fn given<T>(step: Option<Option<T>>) -> Option<Option<T>> {
    match step {
        None => Some(None),
        Some(None) => None,
        found => found,
    }
}

fn side_info(s: &SideFacts<'_>, steps: usize) -> SideInfo {
    let x = s.explanation;
    SideInfo {
        session_id: s.summary.id.clone(),
        title: s.summary.title.clone(),
        event_count: s.event_count,
        steps: steps as u64,
        first_event_at: s.summary.first_ts.map(format_micros),
        last_event_at: s.summary.last_ts.map(format_micros),
        status: x.state.clone(),
        stop_reason: x.stop_reason.clone(),
        verdict: x.verdict.as_str().to_string(),
        verdict_summary: x.summary.clone(),
        attention: x.attention,
    }
}

fn step_ref(s: &Step<'_>, step: usize, origin: Option<i64>) -> StepRef {
    let e = s.event;
    StepRef {
        step,
        index: s.index,
        event_id: e.event_id.clone(),
        event_type: e.event_type.clone(),
        processed_at: e.processed_at.clone(),
        offset_ms: e.ts.zip(origin).map(|(t, o)| (t - o) as f64 / 1000.0),
        thread_id: (!e.thread_id.is_empty()).then(|| e.thread_id.clone()),
        tool: s.tool.clone(),
        summary: summarize(&Event::parse(&e.raw)),
    }
}

/// The leaf changes between two steps: the first [`MAX_CHANGES`], and how many more there are.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Changes {
    pub listed: Vec<Change>,
    pub more: usize,
}

impl Changes {
    fn push(&mut self, c: Change) {
        if self.listed.len() < MAX_CHANGES {
            self.listed.push(c);
        } else {
            self.more += 1;
        }
    }
}

/// What differs between two steps, and the leaf changes when they have the same type.
pub fn compare(a: &Step<'_>, b: &Step<'_>) -> (Vec<String>, Changes) {
    let mut differs = Vec::new();
    let same_type = a.event.event_type == b.event.event_type;
    if !same_type {
        differs.push("type".to_string());
    }
    if a.tool != b.tool {
        differs.push("tool".to_string());
    }
    let mut changes = Changes::default();
    let (da, db) = (a.detail(), b.detail());
    let (Some(fa), Some(fb)) = (da.as_object(), db.as_object()) else {
        return (differs, changes);
    };
    // The tool is named by `tool` (and results carry it as a field); `name` and
    // `mcp_server_name` say the same thing again.
    let covered = ["type", "tool", "name", "mcp_server_name"];
    let mut keys: Vec<&String> = fa.keys().chain(fb.keys()).collect();
    keys.sort();
    keys.dedup();
    for k in keys {
        if covered.contains(&k.as_str()) || fa.get(k) == fb.get(k) {
            continue;
        }
        differs.push(k.clone());
        if same_type {
            leaf_changes(k.clone(), fa.get(k), fb.get(k), &mut changes);
        }
    }
    (differs, changes)
}

/// The differing leaves under `path`: objects by key, arrays by position, anything else whole.
fn leaf_changes(path: String, a: Option<&Value>, b: Option<&Value>, out: &mut Changes) {
    if a == b {
        return;
    }
    match (a, b) {
        (Some(Value::Object(ma)), Some(Value::Object(mb))) => {
            let mut keys: Vec<&String> = ma.keys().chain(mb.keys()).collect();
            keys.sort();
            keys.dedup();
            for k in keys {
                leaf_changes(format!("{path}.{k}"), ma.get(k), mb.get(k), out);
            }
        }
        (Some(Value::Array(xa)), Some(Value::Array(xb))) => {
            for i in 0..xa.len().max(xb.len()) {
                leaf_changes(format!("{path}[{i}]"), xa.get(i), xb.get(i), out);
            }
        }
        // Only listed changes need their values (and their path, but it is cheap).
        _ if out.listed.len() >= MAX_CHANGES => out.more += 1,
        _ => out.push(Change {
            path,
            a: a.map(compact),
            b: b.map(compact),
        }),
    }
}

/// A value to show in a change: long strings cut to [`MAX_VALUE_CHARS`] with `…`, and a large
/// object or array as the start of its JSON text.
fn compact(v: &Value) -> Value {
    fn cut(s: &str) -> String {
        match s.char_indices().nth(MAX_VALUE_CHARS) {
            Some((at, _)) => format!("{}…", &s[..at]),
            None => s.to_string(),
        }
    }
    match v {
        Value::String(s) => Value::String(cut(s)),
        Value::Object(_) | Value::Array(_) => {
            let text = v.to_string();
            if text.chars().count() > MAX_VALUE_CHARS {
                Value::String(cut(&text))
            } else {
                v.clone()
            }
        }
        other => other.clone(),
    }
}
