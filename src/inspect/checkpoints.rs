//! Checkpoints of the state, findings and open-spans folds (issue 15): every [`EVERY`] events of
//! a session, and at its end, the [`StateBuilder`], the [`FindingsBuilder`] and a [`SpanBuilder`]
//! of the span events holding only the open spans ([`SpanBuilder::retain_open`]) as they were,
//! stored (`store::FoldCheckpoint`), so a read at a point goes on from the newest checkpoint at
//! or before it instead of from the session's start.
//!
//! Written at the end of `flightrec import` for the sessions it touched ([`update`]); writing an
//! event that sorts before a checkpoint deletes it (the store does that), and a read that finds
//! none folds as before. A checkpoint is what the fold fed every event up to it holds: the
//! lib tests compare the answers both ways at every event of every sample.

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::analysis::checkpoint;
use crate::analysis::findings::FindingsBuilder;
use crate::analysis::spans::{SLIM_TYPES, SPAN_TYPES, SpanBuilder, SpanFields};
use crate::analysis::state::StateBuilder;
use crate::store::{
    CheckpointWrite, EventRef, FoldCheckpoint, PackedCheckpoint, Packer, Result, RowsMark, Store,
    TimelineQuery, WriteMark,
};

/// Events folded between two checkpoints: a read folds at most this many past its checkpoint
/// (and, before the turn in progress, only the few types that carry across turns).
pub const EVERY: u64 = 4096;

/// A fold's (or a cache entry's) name in the store. It names the build, and so the format of
/// the builder's JSON: a checkpoint another build wrote is never read (import writes them again).
pub(super) fn fold_name(fold: &str) -> String {
    format!("{fold}@{}", env!("FLIGHTREC_VERSION"))
}

const STATE: &str = "state";
const FINDINGS: &str = "findings";
const OPEN_SPANS: &str = "open_spans";
const FOLDS: [&str; 3] = [STATE, FINDINGS, OPEN_SPANS];

/// The position of an event in the session's order, as checkpoints are keyed.
pub(super) type Position = (i64, i64);

/// The newest state checkpoint at or before `at`, ready to go on folding; `None` when there is
/// none or it cannot be read (it is only a cache).
pub(super) fn load(
    store: &Store,
    session_id: &str,
    at: Position,
) -> Result<Option<(StateBuilder, Position)>> {
    load_fold(store, session_id, STATE, at)
}

/// [`load`] for the findings fold.
pub(super) fn load_findings(
    store: &Store,
    session_id: &str,
    at: Position,
) -> Result<Option<(FindingsBuilder, Position)>> {
    load_fold(store, session_id, FINDINGS, at)
}

/// [`load`] for the open spans: a [`SpanBuilder`] fed the session's span events up to the
/// checkpoint, closed spans forgotten.
pub(super) fn load_open_spans(
    store: &Store,
    session_id: &str,
    at: Position,
) -> Result<Option<(SpanBuilder, Position)>> {
    load_fold(store, session_id, OPEN_SPANS, at)
}

fn load_fold<B: DeserializeOwned>(
    store: &Store,
    session_id: &str,
    fold: &str,
    at: Position,
) -> Result<Option<(B, Position)>> {
    let Some(c) = store.fold_checkpoint(session_id, &fold_name(fold), at)? else {
        return Ok(None);
    };
    Ok(checkpoint::from_json::<B>(&c.data)
        .ok()
        .map(|b| (b, (c.sort_ts, c.seq))))
}

/// A fold in progress: the folds, the events they took, the checkpoints made (packed as they
/// are made, on the folding thread: the reading one has enough to do).
struct Run {
    b: Folds,
    n: u64,
    every: u64,
    packer: Packer,
    out: Vec<[PackedCheckpoint; 3]>,
    last: Option<(Position, u64)>,
    failed: bool,
}

/// The folds, as a checkpoint holds them.
struct Folds {
    state: StateBuilder,
    findings: FindingsBuilder,
    /// Fed only the span events (what `spans` reads), holding only the open spans.
    open_spans: SpanBuilder,
}

impl Folds {
    fn new(session_id: &str) -> Folds {
        Folds {
            state: StateBuilder::new(session_id),
            findings: FindingsBuilder::new(),
            open_spans: SpanBuilder::default(),
        }
    }
}

/// The newest checkpoint of every fold, at the same event, with how many events they took.
fn newest(store: &Store, session_id: &str) -> Result<Option<(Folds, Position, u64)>> {
    let end = (i64::MAX, i64::MAX);
    let (Some(s), Some(f), Some(o)) = (
        store.fold_checkpoint(session_id, &fold_name(STATE), end)?,
        store.fold_checkpoint(session_id, &fold_name(FINDINGS), end)?,
        store.fold_checkpoint(session_id, &fold_name(OPEN_SPANS), end)?,
    ) else {
        return Ok(None);
    };
    let at = (s.sort_ts, s.seq);
    if at != (f.sort_ts, f.seq) || at != (o.sort_ts, o.seq) {
        return Ok(None);
    }
    let (Ok(state), Ok(findings), Ok(open_spans)) = (
        checkpoint::from_json(&s.data),
        checkpoint::from_json(&f.data),
        checkpoint::from_json(&o.data),
    ) else {
        return Ok(None);
    };
    Ok(Some((
        Folds {
            state,
            findings,
            open_spans,
        },
        at,
        s.events,
    )))
}

/// Brings the session's checkpoints up to date: from the newest (or the session's start),
/// folds every event after it, as `reconstruct` and `findings` feed them (and the span events
/// as `spans` does), in one scan feeding every fold, keeping a checkpoint every `every` events and one at the last processed event.
/// Holds the write lock throughout, so no event is written meanwhile. Returns how many
/// positions it checkpointed.
pub fn update(store: &Store, session_id: &str, every: u64) -> Result<usize> {
    Ok(update_with(store, session_id, every, &mut |_| {})?.0)
}

/// [`update`], lending `alongside` every event its scan reads, of every type, in the session's
/// order, on the reading thread (see `Store::scan_events_pipelined_with`). Returns how many
/// positions it checkpointed, and whether `alongside` saw the whole session: not when the
/// fold went on from a checkpoint (it then read only the events after it).
pub fn update_with(
    store: &Store,
    session_id: &str,
    every: u64,
    alongside: &mut dyn FnMut(&EventRef<'_>),
) -> Result<(usize, bool)> {
    let tx = store.write_fold_checkpoints()?;
    let resumed = newest(store, session_id)?;
    // Checkpoints that cannot be gone on from go, with every one after them.
    for fold in FOLDS {
        tx.clear_after(session_id, &fold_name(fold), resumed.as_ref().map(|r| r.1))?;
    }
    let (b, from, n) = match resumed {
        Some((b, from, n)) => (b, Some(from), n),
        None => (Folds::new(session_id), None, 0),
    };
    let q = TimelineQuery {
        since_ts: from.map(|f| f.0),
        slim_types: SLIM_TYPES.iter().map(|t| t.to_string()).collect(),
        ..TimelineQuery::default()
    };
    // Read on this thread, folded on a second one (the folds take as long as the reading).
    let whole = from.is_none();
    let mut run = store.scan_events_pipelined_with(
        session_id,
        &q,
        Run::new(b, n, every),
        |r, ev| r.push(ev, from, &SpanFields::of(ev)),
        alongside,
    )?;
    run.end(None);
    let kept = put(&tx, session_id, &run)?;
    tx.commit()?;
    Ok((kept, whole))
}

/// Writes `run`'s checkpoints in `tx`; returns how many positions it checkpointed.
fn put(tx: &CheckpointWrite<'_>, session_id: &str, run: &Run) -> Result<usize> {
    if run.failed {
        // Cannot happen (the builder is plain data); a cache writes nothing rather than fail.
        return Ok(0);
    }
    for folds in &run.out {
        for (fold, c) in FOLDS.iter().zip(folds) {
            tx.put_packed(session_id, &fold_name(fold), c)?;
        }
    }
    Ok(run.out.len())
}

/// The checkpoints of a new session folded as its events are written (`flightrec import`),
/// from its first event, in its order: what [`update`] would fold reading them back. Its open
/// spans are those of a [`SpanBuilder`] fed the same events (the statistics' own, which gives
/// back its settled spans): their [`SpanBuilder::open_view`], so no builder of their own pairs
/// every span again.
pub struct Following {
    run: Run,
    last_seq: i64,
    /// The writes since the session was found empty, marked once its events were committed.
    alone: Option<WriteMark>,
}

impl Following {
    pub fn new(session_id: &str) -> Following {
        Following {
            run: Run::new(Folds::new(session_id), 0, EVERY),
            last_seq: 0,
            alone: None,
        }
    }

    /// Folds the next event, as a slim scan gives it (`store::as_scanned`), its span fields
    /// read ([`SpanFields::of`] `ev`); `spans` has been fed the span events up to this one.
    pub fn push_sharing(&mut self, ev: &EventRef<'_>, f: &SpanFields<'_>, spans: &SpanBuilder) {
        self.last_seq = ev.seq;
        self.run.push_sharing(ev, None, f, Some(spans));
    }

    /// Every event is folded: the checkpoint at the last one is made (and packed), its open
    /// spans `spans`'s. [`put_following`] keeps what was made.
    pub fn end_sharing(&mut self, spans: &SpanBuilder) {
        self.run.end(Some(spans));
    }

    /// Events folded.
    pub fn events(&self) -> u64 {
        self.run.n
    }

    /// The import marked the writes to the database since it found the session empty
    /// (`FileReport::written_alone`): while nothing else is written, the session's events are
    /// those folded, which [`put_following`] then need not count.
    pub fn written_alone(&mut self, mark: WriteMark) {
        self.alone = Some(mark);
    }
}

/// Keeps the checkpoints `f` folded, in place of any the session has, when the session's stored
/// events are still those `f` was given (checked under the write lock: nothing written to the
/// database since the import marked it, else by counting the session's events); returns
/// whether they were kept (else nothing is written, and [`update`] is what folds them).
pub fn put_following(store: &Store, session_id: &str, f: Following) -> Result<bool> {
    let tx = store.write_fold_checkpoints()?;
    let seen = RowsMark {
        events: f.run.n,
        last_seq: f.last_seq,
        revisions: 0,
    };
    let alone = match f.alone {
        Some(mark) => tx.unchanged_since(mark)?,
        None => false,
    };
    if f.run.n == 0 || (!alone && tx.rows_mark(session_id)? != seen) {
        return Ok(false);
    }
    for fold in FOLDS {
        tx.clear_after(session_id, &fold_name(fold), None)?;
    }
    put(&tx, session_id, &f.run)?;
    tx.commit()?;
    Ok(true)
}

impl Run {
    fn new(b: Folds, n: u64, every: u64) -> Run {
        Run {
            b,
            n,
            every: every.max(1),
            packer: Packer::new(),
            out: Vec::new(),
            last: None,
            failed: false,
        }
    }

    /// Folds an event read in the session's order; those at or before `from` (the checkpoint
    /// the folds go on from) are skipped.
    fn push(&mut self, ev: &EventRef<'_>, from: Option<Position>, f: &SpanFields<'_>) {
        self.push_sharing(ev, from, f, None);
    }

    /// [`Run::push`]; with `spans`, a builder fed the same span events up to this one (and
    /// maybe giving back its settled spans), the open spans are that builder's
    /// ([`SpanBuilder::open_view`]) instead of a builder of the run's own.
    fn push_sharing(
        &mut self,
        ev: &EventRef<'_>,
        from: Option<Position>,
        f: &SpanFields<'_>,
        spans: Option<&SpanBuilder>,
    ) {
        if self.failed {
            return;
        }
        // Queued events sort last and are never a checkpoint's.
        let Some(ts) = ev.ts else { return };
        let pos = (ts, ev.seq);
        if from.is_some_and(|f| pos <= f) {
            return;
        }
        self.b.state.push_read(ev, f);
        self.b.findings.push(ev);
        if spans.is_none() && SPAN_TYPES.contains(&ev.event_type) {
            self.b.open_spans.push_read(ev, f);
        }
        self.n += 1;
        self.last = Some((pos, self.n));
        if self.n.is_multiple_of(self.every) {
            if let Some(spans) = spans {
                self.b.open_spans = spans.open_view();
            }
            self.snapshot(pos, self.n);
        }
    }

    /// A checkpoint at the last event folded, unless there is one; `spans` as in
    /// [`Run::push_sharing`].
    fn end(&mut self, spans: Option<&SpanBuilder>) {
        if let Some((pos, n)) = self.last.filter(|l| {
            self.out
                .last()
                .is_none_or(|c| (c[0].sort_ts, c[0].seq) != l.0)
        }) {
            if let Some(spans) = spans {
                self.b.open_spans = spans.open_view();
            }
            self.snapshot(pos, n);
        }
    }

    /// Keeps the folds' checkpoint at `pos`, after `n` events, packed.
    fn snapshot(&mut self, pos: Position, n: u64) {
        match snapshot(&mut self.b, pos, n).map(|made| {
            let mut packed = Vec::with_capacity(3);
            for (fold, c) in FOLDS.iter().zip(&made) {
                packed.push(self.packer.pack(&fold_name(fold), c).ok()?);
            }
            <[PackedCheckpoint; 3]>::try_from(packed).ok()
        }) {
            Ok(Some(c)) => self.out.push(c),
            _ => self.failed = true,
        }
    }
}

fn snapshot(b: &mut Folds, pos: Position, n: u64) -> serde_json::Result<[FoldCheckpoint; 3]> {
    b.open_spans.retain_open();
    let at = |data: Vec<u8>| FoldCheckpoint {
        sort_ts: pos.0,
        seq: pos.1,
        events: n,
        data,
    };
    Ok([
        at(json(&b.state)?),
        at(json(&b.findings)?),
        at(json(&b.open_spans)?),
    ])
}

fn json<T: Serialize>(v: &T) -> serde_json::Result<Vec<u8>> {
    checkpoint::to_json(v)
}
