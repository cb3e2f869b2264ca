//! The compact per-event index the viewer keeps for a whole session: a few tens of bytes per
//! event (arrival seq, time, interned type and thread, flags), never the raw text, which is
//! fetched lazily for the rows on screen. Positions in `events` are the session's time order.

use rustc_hash::FxHashMap;
use serde::Deserialize;
use std::borrow::Cow;

use flightrec::store::EventRef;

/// The event has `is_error: true` or is an error event.
pub const ERROR: u8 = 1;
/// `processed_at` is null (still queued): sorted after everything processed.
pub const QUEUED: u8 = 2;
/// A session or thread idle.
pub const IDLE: u8 = 4;

/// The time of a queued event.
pub const QUEUED_TS: i64 = i64::MAX;

/// One event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ev {
    pub seq: i64,
    /// µs since the epoch; [`QUEUED_TS`] while queued.
    pub ts: i64,
    /// Index into [`EventIndex::types`].
    pub ty: u16,
    /// Index into [`EventIndex::threads`] (0: the primary thread).
    pub thread: u16,
    pub flags: u8,
}

impl Ev {
    pub fn is(&self, flag: u8) -> bool {
        self.flags & flag != 0
    }
}

/// A session's events in time order, with their links.
#[derive(Debug, Default, Clone)]
pub struct EventIndex {
    pub events: Vec<Ev>,
    pub types: Vec<String>,
    /// Thread ids; entry 0 is "" (the primary thread).
    pub threads: Vec<String>,
    /// (later event, the earlier event it names by `link_id`), sorted by the first.
    pub links: Vec<(u32, u32)>,
    /// The same pairs reversed, sorted by the earlier event.
    pub back_links: Vec<(u32, u32)>,
}

impl EventIndex {
    pub fn len(&self) -> usize {
        self.events.len()
    }

    pub fn is_empty(&self) -> bool {
        self.events.is_empty()
    }

    pub fn type_name(&self, ev: &Ev) -> &str {
        self.types
            .get(usize::from(ev.ty))
            .map_or("?", String::as_str)
    }

    pub fn thread_name(&self, ev: &Ev) -> &str {
        self.threads
            .get(usize::from(ev.thread))
            .map_or("", String::as_str)
    }

    /// The first and last processed times.
    pub fn time_range(&self) -> Option<(i64, i64)> {
        let first = self.events.first().filter(|e| !e.is(QUEUED))?.ts;
        let last = self.events.iter().rev().find(|e| !e.is(QUEUED))?.ts;
        Some((first, last))
    }

    /// The position of the event with this seq and time.
    pub fn position(&self, seq: i64, ts: Option<i64>) -> Option<usize> {
        let key = (ts.unwrap_or(QUEUED_TS), seq);
        let p = self.events.partition_point(|e| (e.ts, e.seq) < key);
        self.events
            .get(p)
            .filter(|e| e.seq == seq)
            .map(|_| p)
            .or_else(|| self.events.iter().position(|e| e.seq == seq))
    }

    /// The last processed event at or before time `t`.
    pub fn at_or_before(&self, t: i64) -> Option<usize> {
        let n = self.events.partition_point(|e| e.ts <= t && !e.is(QUEUED));
        n.checked_sub(1)
    }

    /// The time of the first processed event after `t`.
    pub fn next_time_after(&self, t: i64) -> Option<i64> {
        let n = self.events.partition_point(|e| e.ts <= t);
        self.events.get(n).filter(|e| !e.is(QUEUED)).map(|e| e.ts)
    }

    /// The next (or previous, `forward == false`) event after `from` that satisfies `pred`.
    pub fn find(&self, from: usize, forward: bool, pred: impl Fn(&Ev) -> bool) -> Option<usize> {
        if forward {
            let start = from.checked_add(1)?;
            (start..self.events.len()).find(|&i| pred(&self.events[i]))
        } else {
            (0..from.min(self.events.len()))
                .rev()
                .find(|&i| pred(&self.events[i]))
        }
    }

    /// The earlier event `pos` names by its link, or else the first later event naming `pos`.
    pub fn linked(&self, pos: usize) -> Option<usize> {
        let p = u32::try_from(pos).ok()?;
        let find = |pairs: &[(u32, u32)]| {
            let i = pairs.partition_point(|x| x.0 < p);
            pairs.get(i).filter(|x| x.0 == p).map(|x| x.1 as usize)
        };
        find(&self.links).or_else(|| find(&self.back_links))
    }

    /// The type id of `name`, if the session has it.
    pub fn type_id(&self, name: &str) -> Option<u16> {
        self.types
            .iter()
            .position(|t| t == name)
            .and_then(|i| u16::try_from(i).ok())
    }
}

/// Event types other events link to (by `link_id` naming their id), and the openings of spans
/// whose bars select their event.
const LINK_TARGETS: &[&str] = &[
    "workflow_run.created",
    "agent.tool_use",
    "agent.mcp_tool_use",
    "agent.custom_tool_use",
    "span.model_request_start",
    "span.outcome_evaluation_start",
    "workflow_run.phase_started",
];

/// The two fields read from an event's text, only when the text mentions them.
#[derive(Deserialize, Default)]
#[serde(default)]
struct Peek<'a> {
    #[serde(borrow)]
    session_thread_id: Option<Cow<'a, str>>,
    is_error: Option<bool>,
}

/// Builds an [`EventIndex`] from events pushed in time order.
#[derive(Default)]
pub struct IndexBuilder {
    index: EventIndex,
    type_ids: FxHashMap<String, u16>,
    thread_ids: FxHashMap<String, u16>,
    /// Ids of events that others link to → position.
    targets: FxHashMap<Box<str>, u32>,
    /// How many links the index had when resumed: those, and their reverse, are sorted already.
    resumed_links: usize,
}

impl IndexBuilder {
    pub fn new() -> IndexBuilder {
        let mut b = IndexBuilder::default();
        b.index.threads.push(String::new());
        b.thread_ids.insert(String::new(), 0);
        b
    }

    fn intern(map: &mut FxHashMap<String, u16>, names: &mut Vec<String>, name: &str) -> u16 {
        if let Some(&id) = map.get(name) {
            return id;
        }
        // More than 65,535 distinct names: the rest share the last one.
        let id = u16::try_from(names.len()).unwrap_or(u16::MAX);
        if id < u16::MAX {
            names.push(name.to_string());
            map.insert(name.to_string(), id);
        }
        id
    }

    /// Continues an index already built, to append later events to it. Ids of earlier link
    /// targets are not kept: a later event's link to one is resolved by the caller (see
    /// [`IndexBuilder::push_linked`]).
    pub fn resume(index: EventIndex) -> IndexBuilder {
        let ids = |names: &[String]| -> FxHashMap<String, u16> {
            names
                .iter()
                .enumerate()
                .filter_map(|(i, n)| Some((n.clone(), u16::try_from(i).ok()?)))
                .collect()
        };
        IndexBuilder {
            type_ids: ids(&index.types),
            thread_ids: ids(&index.threads),
            targets: FxHashMap::default(),
            resumed_links: index.links.len(),
            index,
        }
    }

    pub fn thread_id(&mut self, name: &str) -> u16 {
        Self::intern(&mut self.thread_ids, &mut self.index.threads, name)
    }

    /// Takes the next event in time order.
    pub fn push(&mut self, ev: &EventRef<'_>) {
        self.push_linked(ev, None);
    }

    /// Takes the next event in time order; `earlier` is the position of the event its link
    /// names when that event came before this builder's own (see [`IndexBuilder::resume`]).
    pub fn push_linked(&mut self, ev: &EventRef<'_>, earlier: Option<u32>) {
        let pos = u32::try_from(self.index.events.len()).unwrap_or(u32::MAX);
        let ty = Self::intern(&mut self.type_ids, &mut self.index.types, ev.event_type);
        let peek: Peek = if ev.raw.contains("session_thread_id") || ev.raw.contains("is_error") {
            serde_json::from_str(ev.raw).unwrap_or_default()
        } else {
            Peek::default()
        };
        let mut thread = match peek.session_thread_id.as_deref().filter(|t| !t.is_empty()) {
            Some(t) => self.thread_id(t),
            None => self.thread_id(ev.thread_id),
        };
        let target = ev
            .link_id
            .and_then(|l| self.targets.get(l))
            .copied()
            .or(earlier);
        if let Some(target) = target {
            self.index.links.push((pos, target));
            if thread == 0
                && let Some(t) = self.index.events.get(target as usize)
            {
                thread = t.thread;
            }
        }
        if LINK_TARGETS.contains(&ev.event_type) && !ev.event_id.is_empty() {
            self.targets.entry(ev.event_id.into()).or_insert(pos);
        }
        let mut flags = 0;
        if peek.is_error == Some(true)
            || ev.event_type == "session.error"
            || ev.event_type == "workflow_run.error"
        {
            flags |= ERROR;
        }
        if ev.ts.is_none() {
            flags |= QUEUED;
        }
        if matches!(
            ev.event_type,
            "session.status_idle" | "session.thread_status_idle"
        ) {
            flags |= IDLE;
        }
        self.index.events.push(Ev {
            seq: ev.seq,
            ts: ev.ts.unwrap_or(QUEUED_TS),
            ty,
            thread,
            flags,
        });
    }

    /// The position of an event others can link to (tool uses, request starts), by id.
    pub fn position_of_id(&self, id: &str) -> Option<u32> {
        self.targets.get(id).copied()
    }

    /// The entry of the event pushed last.
    pub fn last(&self) -> Option<&Ev> {
        self.index.events.last()
    }

    pub fn len(&self) -> usize {
        self.index.events.len()
    }

    pub fn is_empty(&self) -> bool {
        self.index.events.is_empty()
    }

    pub fn finish(mut self) -> EventIndex {
        // Links are pushed in position order; those of a resumed index precede the new ones.
        // Only the new reverse pairs need sorting, then one merge with the old.
        let new = self
            .index
            .links
            .get(self.resumed_links..)
            .unwrap_or_default();
        let mut back: Vec<(u32, u32)> = new.iter().map(|&(a, b)| (b, a)).collect();
        back.sort_unstable();
        let old = std::mem::take(&mut self.index.back_links);
        self.index.back_links = merge_sorted(old, back);
        if !self.index.links.is_sorted() {
            self.index.links.sort_unstable();
        }
        self.index
    }
}

/// Two sorted lists as one sorted list.
fn merge_sorted(a: Vec<(u32, u32)>, b: Vec<(u32, u32)>) -> Vec<(u32, u32)> {
    if b.is_empty() {
        return a;
    }
    let mut out = Vec::with_capacity(a.len() + b.len());
    let (mut i, mut j) = (0, 0);
    while i < a.len() && j < b.len() {
        if a[i] <= b[j] {
            out.push(a[i]);
            i += 1;
        } else {
            out.push(b[j]);
            j += 1;
        }
    }
    out.extend_from_slice(&a[i..]);
    out.extend_from_slice(&b[j..]);
    out
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// An index of `n` events one second apart, of the given types.
    pub fn index_of(types: &[&str]) -> EventIndex {
        let mut b = IndexBuilder::new();
        for (i, t) in types.iter().enumerate() {
            let id = format!("sevt_{i}");
            let ev = EventRef {
                seq: i as i64 + 1,
                event_id: &id,
                event_type: t,
                processed_at: None,
                ts: Some(1_000_000 * i as i64),
                thread_id: "",
                link_id: None,
                raw: "{}",
            };
            b.push(&ev);
        }
        b.finish()
    }

    #[test]
    fn links_go_both_ways_and_threads_follow_the_use() {
        let mut b = IndexBuilder::new();
        let rows = [
            (
                "sevt_a",
                "agent.tool_use",
                None,
                r#"{"session_thread_id":"sthr_x"}"#,
            ),
            ("sevt_b", "agent.message", None, "{}"),
            (
                "sevt_c",
                "agent.tool_result",
                Some("sevt_a"),
                r#"{"is_error":true}"#,
            ),
        ];
        for (i, (id, t, link, raw)) in rows.iter().enumerate() {
            b.push(&EventRef {
                seq: 10 + i as i64,
                event_id: id,
                event_type: t,
                processed_at: None,
                ts: Some(i as i64),
                thread_id: "",
                link_id: *link,
                raw,
            });
        }
        let ix = b.finish();
        assert_eq!(ix.linked(2), Some(0));
        assert_eq!(ix.linked(0), Some(2));
        assert_eq!(ix.linked(1), None);
        assert_eq!(ix.thread_name(&ix.events[2]), "sthr_x");
        assert!(ix.events[2].is(ERROR));
        assert!(!ix.events[0].is(ERROR));
        assert_eq!(ix.position(11, Some(1)), Some(1));
        assert_eq!(ix.at_or_before(1), Some(1));
        assert_eq!(ix.next_time_after(1), Some(2));
        assert_eq!(ix.find(0, true, |e| e.is(ERROR)), Some(2));
        assert_eq!(ix.find(2, false, |e| e.is(ERROR)), None);
    }
}
