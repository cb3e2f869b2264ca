//! Retention: which sessions a gc deletes (the store's old sessions, less those that need
//! attention when asked to keep them), deleting them and giving the space back. What
//! `flightrec gc` and `watch --retain` run; the SQL is the store's (`store/gc.rs`).

use std::collections::BTreeSet;

use crate::inspect::{self, ExplainAt};
use crate::store::{Deleted, GcCandidate, GcOptions, Result, Space, Store};

/// What to delete.
#[derive(Debug, Clone, Default)]
pub struct Policy {
    /// Sessions whose newest activity is before this (µs) go.
    pub cutoff: i64,
    /// The current time (µs), for the verdicts of `keep_stuck`.
    pub now: i64,
    /// Keep sessions whose verdict at `now` needs attention (what `check` exits 1 on).
    pub keep_stuck: bool,
    /// A running session silent this long (µs) is stalled, for `keep_stuck`.
    pub stuck_after_us: i64,
    /// Only these sessions (ids); `None`: all.
    pub only: Option<Vec<String>>,
    /// Never these (the sessions a watcher is recording).
    pub never: BTreeSet<String>,
}

/// A session old enough to go, and whether it stays.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Planned {
    #[serde(flatten)]
    pub candidate: GcCandidate,
    /// Why it stays (`needs attention: …`); `None`: it goes.
    pub kept: Option<String>,
}

/// What a gc did.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Report {
    /// The sessions deleted (or that would be, on a dry run).
    pub sessions: u64,
    pub events: u64,
    /// Their JSON text, in bytes.
    pub bytes: u64,
    /// Every row removed.
    pub rows: u64,
    /// Sessions that became active while being deleted, left alone part way.
    pub interrupted: Vec<String>,
    pub before: Space,
    pub after: Space,
    /// How the space was given back: `incremental`, `vacuum`, or `none` (free pages are reused).
    pub reclaimed: &'static str,
}

impl Report {
    /// The file's size as SQLite counts it, before less after.
    pub fn bytes_freed(&self) -> u64 {
        self.before.bytes().saturating_sub(self.after.bytes())
    }
}

/// The sessions old enough to delete under `p`, oldest first, each marked kept or not.
pub fn plan(store: &Store, p: &Policy) -> Result<Vec<Planned>> {
    let mut out = Vec::new();
    for c in store.gc_candidates(p.cutoff, p.only.as_deref())? {
        if p.never.contains(&c.session_id) {
            continue;
        }
        let kept = if p.keep_stuck {
            needs_attention(store, &c.session_id, p)?
        } else {
            None
        };
        out.push(Planned { candidate: c, kept });
    }
    Ok(out)
}

/// The session's verdict at `p.now`, when it needs attention.
fn needs_attention(store: &Store, id: &str, p: &Policy) -> Result<Option<String>> {
    let Some(summary) = store.session_summary(id)? else {
        return Ok(None);
    };
    let x = ExplainAt {
        point: None,
        at: None,
        now: p.now,
        stuck_after_us: p.stuck_after_us,
    };
    let (explanation, _) = inspect::explain_session(store, &summary, &x)?;
    Ok(explanation
        .attention
        .then(|| format!("needs attention: {}", explanation.summary)))
}

/// Deletes the planned sessions not kept (calling `each` after each one), then gives the space
/// back: in steps with incremental auto-vacuum, or by a full `VACUUM` when `vacuum` (which also
/// turns incremental auto-vacuum on for next time).
pub fn run(
    store: &mut Store,
    planned: &[Planned],
    cutoff: i64,
    vacuum: bool,
    opts: &GcOptions,
    mut each: impl FnMut(&Planned, &Deleted),
) -> Result<Report> {
    let before = store.space()?;
    let mut report = Report {
        sessions: 0,
        events: 0,
        bytes: 0,
        rows: 0,
        interrupted: Vec::new(),
        before,
        after: before,
        reclaimed: "none",
    };
    for p in planned.iter().filter(|p| p.kept.is_none()) {
        let d = store.gc_delete_session(&p.candidate.session_id, cutoff, opts)?;
        report.events += d.events;
        report.rows += d.rows;
        if d.complete {
            report.sessions += 1;
            report.bytes += p.candidate.bytes;
        } else {
            report.interrupted.push(p.candidate.session_id.clone());
        }
        each(p, &d);
    }
    if vacuum {
        store.vacuum()?;
        report.reclaimed = "vacuum";
    } else if report.rows > 0 && store.reclaim(opts)? > 0 {
        report.reclaimed = "incremental";
    }
    report.after = store.space()?;
    Ok(report)
}

/// What a dry run would delete, as a [`Report`] with nothing changed.
pub fn dry_run(store: &Store, planned: &[Planned]) -> Result<Report> {
    let space = store.space()?;
    let going = planned.iter().filter(|p| p.kept.is_none());
    Ok(Report {
        sessions: going.clone().count() as u64,
        events: going.clone().map(|p| p.candidate.events).sum(),
        bytes: going.map(|p| p.candidate.bytes).sum(),
        rows: 0,
        interrupted: Vec::new(),
        before: space,
        after: space,
        reclaimed: "none",
    })
}
