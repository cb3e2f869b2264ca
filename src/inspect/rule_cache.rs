//! The rules' cache (`store/cache.rs`, kind [`kind`]): what the rules read about a session that
//! does not depend on the time or the thresholds, computed when the session is written (at the
//! end of `flightrec import` and `record`, [`fill`]), so `check --all` evaluates a year of a
//! workspace without reading its events. An entry holds:
//!
//! - whether the session is at rest ([`rules::at_rest`]: no rule can fire on it at any time), and
//!   if not, the verdict fold at the end of the recording (before it finishes, so it ages its
//!   waits as `explain` does) and the findings of its recent turns: [`super::rule_hits`]'s
//!   inputs, less the clock, the thresholds and the capture log (read when evaluating: it is
//!   written without counting as a write of the session);
//! - the session's completed tool calls, for the workspace's p99 per tool.
//!
//! The pure functions stay the one source of truth: an entry is their input as the uncached read
//! folds it, and the lib tests compare the hits both ways on every sample. An entry is valid
//! while its session is not written again (the store deletes it) and for the build that wrote it
//! (the kind names the build, as the checkpoints do): a stale one is never read.

use std::collections::{BTreeMap, HashMap};

use serde::{Deserialize, Serialize};

use super::stats_cache::SessionCalls;
use super::{ExplainAt, explain_state, owned, recent_findings, verdict_fold};
use crate::analysis::checkpoint;
use crate::analysis::explain::{ExplainInput, explain};
use crate::analysis::findings::Findings;
use crate::analysis::rules::{self, Facts, Hit, TOOL_TYPES, Thresholds, ToolTimes};
use crate::analysis::spans::SLIM_TYPES;
use crate::analysis::state::{State, StateBuilder};
use crate::store::{CacheEntry, Result, SessionFilter, SessionSummary, Store, TimelineQuery};

/// The cache kind of the rules' facts, for this build (a fold's JSON is this build's format).
pub fn kind() -> String {
    format!("rules@{}", env!("FLIGHTREC_VERSION"))
}

/// The sessions whose derived data this build has not written (recorded by another build, or
/// by one that wrote none), most recently active first: what `watch` derives in the background
/// when it starts. The rules' entry, written with the rest, stands for all of it.
pub fn underived_sessions(store: &Store) -> Result<Vec<String>> {
    store.sessions_without(&kind())
}

/// What the rules need of a session besides the clock, the thresholds and the capture log.
#[derive(Serialize, Deserialize)]
pub(super) enum Inputs {
    /// No rule can fire on it.
    Rest,
    /// The verdict fold at the end (`inspect::verdict_fold`), and the findings of the recent
    /// turns when the turn the verdict is about is over (else none: the rules do not read them).
    Live {
        fold: Box<StateBuilder>,
        findings: Box<Findings>,
    },
}

/// A session's entry.
#[derive(Serialize, Deserialize)]
pub(super) struct Entry {
    /// The end of the recording when computed (the session's `last_ts`): where the fold ages.
    end_ts: Option<i64>,
    inputs: Inputs,
    /// The completed tool calls' times (µs) by tool, as [`rules::tool_calls`] gives them.
    calls: BTreeMap<String, Vec<i64>>,
}

/// The hits at `now` from a state (the verdict fold finished at the end of the recording) and
/// the recent findings (asked only when the turn is over): the evaluation both paths share.
pub(super) fn evaluate(
    store: &Store,
    summary: &SessionSummary,
    state: &State,
    findings: impl FnOnce() -> Result<Findings>,
    now: i64,
    th: &Thresholds,
) -> Result<Vec<Hit>> {
    let x = ExplainAt {
        point: None,
        at: None,
        now,
        stuck_after_us: th.silent_after_us,
    };
    let explanation = explain_state(store, summary, state, &x)?;
    let findings = if rules::turn_over(&explanation) {
        findings()?
    } else {
        Findings::default()
    };
    let facts = Facts {
        explanation: &explanation,
        state,
        findings: &findings,
    };
    Ok(rules::evaluate(&facts, now, th))
}

impl Entry {
    /// The entry computed from the session's events; `None` if the fold cannot be written
    /// (it is plain data: it cannot happen).
    pub(super) fn compute(
        store: &Store,
        summary: &SessionSummary,
        calls: Option<Vec<(String, i64)>>,
    ) -> Result<Option<Entry>> {
        let fold = verdict_fold(store, summary, None)?;
        let Ok(state) = checkpoint::to_json(&fold)
            .and_then(|j| checkpoint::from_json::<StateBuilder>(&j))
            .map(|copy| copy.finish(summary.last_ts))
        else {
            return Ok(None);
        };
        // The verdicts at rest do not depend on the time or the capture.
        let x = explain(
            &state,
            &ExplainInput {
                session_id: &summary.id,
                at: None,
                capture: None,
                now: summary.last_ts.unwrap_or(0),
                stuck_after: 0,
            },
        );
        let findings = if rules::turn_over(&x) {
            recent_findings(store, summary)?
        } else {
            Findings::default()
        };
        let inputs = if rules::at_rest(&x, &findings) {
            Inputs::Rest
        } else {
            Inputs::Live {
                fold: Box::new(fold),
                findings: Box::new(findings),
            }
        };
        Ok(Some(Entry {
            end_ts: summary.last_ts,
            inputs,
            calls: by_tool(match calls {
                Some(c) => c,
                None => session_calls(store, &summary.id, None)?,
            }),
        }))
    }
}

/// An entry less its tool calls (skipped, not parsed): what evaluating the rules reads.
#[derive(Deserialize)]
pub(super) struct Head {
    end_ts: Option<i64>,
    pub(super) inputs: Inputs,
}

impl Head {
    /// The hits at `now`.
    pub(super) fn hits(
        self,
        store: &Store,
        summary: &SessionSummary,
        now: i64,
        th: &Thresholds,
    ) -> Result<Vec<Hit>> {
        match self.inputs {
            Inputs::Rest => Ok(Vec::new()),
            Inputs::Live { fold, findings } => {
                let state = fold.finish(self.end_ts);
                evaluate(store, summary, &state, || Ok(*findings), now, th)
            }
        }
    }
}

/// The session's completed tool calls among its events at or after `since` (all for `None`).
pub(super) fn session_calls(
    store: &Store,
    session_id: &str,
    since: Option<i64>,
) -> Result<Vec<(String, i64)>> {
    let q = TimelineQuery {
        types: owned(TOOL_TYPES),
        since_ts: since,
        slim_types: owned(SLIM_TYPES),
        ..TimelineQuery::default()
    };
    let mut b = ToolTimes::session();
    store.scan_events(session_id, &q, |ev| {
        b.push(&ev);
        true
    })?;
    Ok(rules::tool_calls(&b.finish(None)))
}

fn by_tool(calls: Vec<(String, i64)>) -> BTreeMap<String, Vec<i64>> {
    let mut out: BTreeMap<String, Vec<i64>> = BTreeMap::new();
    for (tool, time) in calls {
        out.entry(tool).or_default().push(time);
    }
    out
}

/// Session `id`'s entry (less its calls), if a valid one is stored.
pub(super) fn read(store: &Store, id: &str) -> Result<Option<Head>> {
    Ok(store
        .session_cached(&kind(), id)?
        .and_then(|c| c.body)
        .and_then(|b| checkpoint::from_json(b.as_bytes()).ok()))
}

/// Computes and keeps the entries of `sessions`, reading each one's tool calls from its events
/// (`import`, `record` and `watch` go through `inspect/derive.rs`, which hands them over).
/// Returns how many were kept.
#[cfg(test)]
pub fn fill(store: &Store, sessions: &[SessionSummary]) -> Result<usize> {
    fill_with(store, sessions, &mut SessionCalls::new())
}

/// [`fill`], taking each session's tool calls from `calls` when they are there (read with its
/// statistics: `stats_cache::fill_with_calls`) when the session was not written since they
/// were read, else from its events.
pub fn fill_with(
    store: &Store,
    sessions: &[SessionSummary],
    calls: &mut SessionCalls,
) -> Result<usize> {
    let mut fresh = Vec::new();
    for s in sessions {
        let Some(c) = store.session_cached(&kind(), &s.id)? else {
            continue;
        };
        if c.body.is_some() {
            continue;
        }
        let known = calls
            .remove(&s.id)
            .and_then(|(version, calls)| (version == c.version).then_some(calls));
        let Some(entry) = Entry::compute(store, s, known)? else {
            continue;
        };
        let body = checkpoint::to_json(&entry)
            .ok()
            .and_then(|j| String::from_utf8(j).ok());
        if let Some(body) = body {
            fresh.push(CacheEntry {
                session_id: s.id.clone(),
                version: c.version,
                body,
            });
        }
    }
    store.put_session_cache(&kind(), &fresh)
}

/// The rules' cache of a whole database, read once: what `check --all` evaluates from. A
/// session without a valid entry is read from its events, as [`super::rule_hits`] does.
pub struct RuleCache {
    bodies: HashMap<String, String>,
}

impl RuleCache {
    /// Every valid entry (one read of the cache table).
    pub fn load(store: &Store) -> Result<RuleCache> {
        Ok(RuleCache {
            bodies: store.session_cache_all(&kind())?,
        })
    }

    fn entry<T: serde::de::DeserializeOwned>(&self, id: &str) -> Option<T> {
        let body = self.bodies.get(id)?;
        checkpoint::from_json(body.as_bytes()).ok()
    }

    /// [`super::rule_hits`], from the entry when there is one.
    pub fn hits(
        &self,
        store: &Store,
        summary: &SessionSummary,
        now: i64,
        th: &Thresholds,
    ) -> Result<Vec<Hit>> {
        match self.entry::<Head>(&summary.id) {
            Some(e) => e.hits(store, summary, now, th),
            None => super::rules::uncached_hits(store, summary, now, th),
        }
    }

    /// [`super::workspace_tool_p99`], from the entries of the sessions that began at or after
    /// `since` (their calls are all of the session's); the others are read from their events.
    pub fn tool_p99(&self, store: &Store, since: i64) -> Result<BTreeMap<String, i64>> {
        let filter = SessionFilter {
            since_ts: Some(since),
            ..SessionFilter::default()
        };
        let mut times = ToolTimes::default();
        for s in store.sessions_matching(&filter)? {
            let cached = s
                .first_ts
                .filter(|f| *f >= since)
                .and_then(|_| self.entry::<Entry>(&s.id));
            match cached {
                Some(e) => {
                    for (tool, t) in e.calls {
                        times.add_times(tool, &t);
                    }
                }
                None => times.add_calls(session_calls(store, &s.id, Some(since))?),
            }
        }
        Ok(times.p99())
    }
}

#[cfg(test)]
#[path = "rule_cache_tests.rs"]
mod tests;
