//! What a writer keeps, after writing sessions, for later reads to take instead of the events
//! (`import`, `record`, and `watch`'s deriver call it): the checkpoints of the state, findings
//! and open-spans folds ([`super::checkpoints`]), each session's statistics and model requests
//! ([`super::stats_cache`]), and the rules' facts (`rule_cache`), which fold from those checkpoints.
//!
//! One read of each session serves the checkpoints and the statistics: the statistics (and the
//! tool calls the rules keep) fold on the reading thread as the checkpoint scan reads, while the
//! checkpoint folds run on a second thread. When the checkpoints go on from an earlier one
//! (their scan then reads only the newest events), the statistics read the session apart.

use std::collections::HashMap;

use super::rule_cache::fill_with as fill_rules;
use super::stats_cache::{Entries, SessionCalls, wanted};
use super::{StatsFold, checkpoints, session_stats_and_calls};
use crate::analysis::spans::{SLIM_TYPES, SpanFields};
use crate::analysis::stats::Accumulator;
use crate::record::{FollowEnd, Follower};
use crate::store::{SessionSummary, Store, StoreError, WriteMark, Written, as_scanned, event_key};

/// Sessions derived together: the statistics of this many are kept in one transaction.
const CHUNK: usize = 256;

/// A followed session of at least this many events has its statistics finished on a second
/// thread while its checkpoints are written (for fewer, a thread costs more than it saves).
const SECOND_THREAD_EVENTS: u64 = 4096;

/// Derives and keeps everything above for `sessions`. Caches: a failure is handed to `failed`
/// (with what was being done) and the rest goes on.
pub fn derive(store: &Store, sessions: &[&str], failed: &mut dyn FnMut(&'static str, StoreError)) {
    derive_following(store, sessions, HashMap::new(), failed);
}

/// A new session's checkpoints and statistics folded as its events are written, from its first
/// event, in its order (`flightrec import` of a session's log, on a thread of its own): what
/// [`derive()`] would fold reading the events back, without reading them. Kept by
/// [`derive_following`] only if the session's stored events are still those it was given.
pub struct Following {
    session_id: String,
    checkpoints: checkpoints::Following,
    stats: Stats,
}

/// The statistics of a [`Following`]: folding, or finished once every event was stored
/// ([`Following::stored_all`]) with what the writer read of the session then.
enum Stats {
    Folding(Box<StatsFold>),
    /// What [`derive_following`] keeps, made at write count 0 ([`Derived::at_version`] gives it
    /// the session's).
    Finished {
        end: FollowEnd,
        derived: Derived,
    },
}

impl Following {
    pub fn new(session_id: &str) -> Following {
        Following {
            session_id: session_id.to_string(),
            checkpoints: checkpoints::Following::new(session_id),
            stats: Stats::Folding(Box::new(StatsFold::detached(session_id, true, true))),
        }
    }

    /// Folds the next event written, as the scans [`derive()`] makes would read it.
    pub fn push(&mut self, w: &Written<'_>) {
        let env = w.envelope;
        let key = event_key(env, w.seq);
        let slim = SLIM_TYPES.contains(&env.event_type.as_ref());
        let ev = as_scanned(env, w.seq, w.thread_id, &key, slim);
        // Read once for the statistics' and the checkpoints' spans.
        let f = SpanFields::of(&ev);
        match &mut self.stats {
            Stats::Folding(stats) => {
                stats.push_read(&ev, &f);
                // The statistics pair the same span events: the open spans are theirs.
                self.checkpoints.push_sharing(&ev, &f, stats.spans());
            }
            // The writer sends its end after the last event it stores: nothing comes after.
            Stats::Finished { .. } => {}
        }
    }

    /// Every event is stored (the writer is making its last commit): finishes the statistics
    /// with the session's agent and end as the writer read them, and the last checkpoint, here
    /// on the follower's thread. [`derive_following`] keeps the statistics if the session's
    /// agent and end are still those.
    pub fn stored_all(&mut self, end: &FollowEnd) {
        let placeholder = Stats::Finished {
            end: end.clone(),
            derived: Derived::default(),
        };
        if let Stats::Folding(stats) = std::mem::replace(&mut self.stats, placeholder) {
            self.checkpoints.end_sharing(stats.spans());
            let mut derived = Derived::default();
            derived.add(
                &self.session_id,
                0,
                stats.finish_with(end.agent.as_deref(), Some(end.last_ts)),
            );
            self.stats = Stats::Finished {
                end: end.clone(),
                derived,
            };
        }
    }

    /// Events folded.
    pub fn events(&self) -> u64 {
        self.checkpoints.events()
    }

    /// What the import marked of the writes since it found the session empty
    /// (`FileReport::written_alone`; see [`checkpoints::Following::written_alone`]).
    pub fn written_alone(&mut self, mark: WriteMark) {
        self.checkpoints.written_alone(mark);
    }

    /// Whether the statistics were finished as the import committed.
    pub fn finished(&self) -> bool {
        matches!(self.stats, Stats::Finished { .. })
    }
}

/// An import's follower ([`Follower`]): the [`Following`] of the session whose events it is
/// handed, made at the first.
#[derive(Default)]
pub struct Follow(Option<Following>);

impl Follow {
    /// What was followed, if anything was.
    pub fn into_following(self) -> Option<Following> {
        self.0
    }
}

impl Follower for Follow {
    fn written(&mut self, w: &Written<'_>) {
        self.0
            .get_or_insert_with(|| Following::new(w.session_id))
            .push(w)
    }

    fn stored_all(&mut self, end: &FollowEnd) {
        if let Some(f) = &mut self.0 {
            f.stored_all(end)
        }
    }
}

/// [`derive()`], taking what `following` folded (by session) for the sessions it followed whole
/// instead of reading them again. Returns how many sessions it took from `following`.
pub fn derive_following(
    store: &Store,
    sessions: &[&str],
    mut following: HashMap<String, Following>,
    failed: &mut dyn FnMut(&'static str, StoreError),
) -> usize {
    let mut taken = 0;
    for ids in sessions.chunks(CHUNK) {
        let mut summaries = Vec::with_capacity(ids.len());
        for id in ids {
            match store.session_summary(id) {
                Ok(Some(s)) => summaries.push(s),
                Ok(None) => {}
                Err(e) => failed("reading a session", e),
            }
        }
        let mut out = Derived::default();
        for s in &summaries {
            let version = wanted(store, s).unwrap_or_else(|e| {
                failed("caching statistics", e);
                None
            });
            match following.remove(&s.id) {
                Some(f) => {
                    taken += usize::from(by_following(store, s, version, f, &mut out, failed))
                }
                None => by_reading(store, s, version, &mut out, failed),
            }
        }
        if let Err(e) = out.entries.keep(store) {
            failed("caching statistics", e);
        }
        if let Err(e) = fill_rules(store, &summaries, &mut out.calls) {
            failed("caching the rules' facts", e);
        }
    }
    taken
}

/// The statistics' entries and the rules' tool calls of the sessions derived so far.
#[derive(Default)]
struct Derived {
    entries: Entries,
    calls: SessionCalls,
}

impl Derived {
    /// The same, made at write count `version`.
    fn at_version(mut self, version: i64) -> Derived {
        self.entries.set_version(version);
        for (v, _) in self.calls.values_mut() {
            *v = version;
        }
        self
    }

    fn add(&mut self, id: &str, version: i64, (acc, calls): (Accumulator, Vec<(String, i64)>)) {
        self.calls.insert(id.to_string(), (version, calls));
        self.entries.add(id, version, acc);
    }
}

/// Derives session `s` reading its events: its checkpoints go on from the newest, the statistics
/// (when `version` says they are wanted) fold on the same read if it reads the whole session.
fn by_reading(
    store: &Store,
    s: &SessionSummary,
    version: Option<i64>,
    out: &mut Derived,
    failed: &mut dyn FnMut(&'static str, StoreError),
) {
    let mut fold = version.map(|_| StatsFold::detached(&s.id, true, true));
    let mut alongside = |ev: &crate::store::EventRef<'_>| {
        if let Some(f) = fold.as_mut() {
            f.push(ev)
        }
    };
    let whole = match checkpoints::update_with(store, &s.id, checkpoints::EVERY, &mut alongside) {
        Ok((_, whole)) => whole,
        Err(e) => {
            failed("writing checkpoints", e);
            false
        }
    };
    let Some(version) = version else { return };
    let folded = match fold {
        Some(f) if whole => f.finish_for(store, s),
        _ => session_stats_and_calls(store, s, true),
    };
    match folded {
        Ok(folded) => out.add(&s.id, version, folded),
        Err(e) => failed("caching statistics", e),
    }
}

/// Keeps what `f` folded as session `s` was written: the checkpoints are written while the
/// statistics are finished on a second thread (both take a while on a large session), unless
/// the follower finished them as the import made its last commit ([`Following::stored_all`]).
/// When the session is no longer what `f` was given, derives it [`by_reading`] instead. Returns
/// whether it kept what `f` folded.
fn by_following(
    store: &Store,
    s: &SessionSummary,
    version: Option<i64>,
    f: Following,
    out: &mut Derived,
    failed: &mut dyn FnMut(&'static str, StoreError),
) -> bool {
    let agent = match version.map(|_| store.session_agent(&s.id)).transpose() {
        Ok(agent) => agent.flatten(),
        Err(e) => {
            failed("caching statistics", e);
            by_reading(store, s, None, out, failed);
            return false;
        }
    };
    let Following {
        mut checkpoints,
        stats,
        ..
    } = f;
    let (kept, finished) = match stats {
        Stats::Finished { end, mut derived } => {
            // Finished with what the writer read before its commit: kept if that is still so.
            let same = end.agent == agent && Some(end.last_ts) == s.last_ts;
            match version.filter(|_| same) {
                Some(v) => std::thread::scope(|scope| {
                    // The requests' large entry is packed while the checkpoints are written.
                    let packing = scope.spawn(move || {
                        derived.entries.pack_requests();
                        derived.at_version(v)
                    });
                    let kept = checkpoints::put_following(store, &s.id, checkpoints);
                    match packing.join() {
                        Ok(derived) => (kept, Some(derived)),
                        Err(panic) => std::panic::resume_unwind(panic),
                    }
                }),
                None => (checkpoints::put_following(store, &s.id, checkpoints), None),
            }
        }
        Stats::Folding(stats) => {
            checkpoints.end_sharing(stats.spans());
            let finish = || {
                let version = version?;
                let folded = stats.finish_with(agent.as_deref(), s.last_ts);
                let mut one = Derived::default();
                one.add(&s.id, version, folded);
                Some(one)
            };
            if checkpoints.events() < SECOND_THREAD_EVENTS {
                let kept = checkpoints::put_following(store, &s.id, checkpoints);
                (kept, finish())
            } else {
                std::thread::scope(|scope| {
                    // Always on the second thread, if only to free the fold there.
                    let finishing = scope.spawn(finish);
                    let kept = checkpoints::put_following(store, &s.id, checkpoints);
                    match finishing.join() {
                        Ok(finished) => (kept, finished),
                        // A bug, not bad data: let it surface as one.
                        Err(panic) => std::panic::resume_unwind(panic),
                    }
                })
            }
        }
    };
    match kept {
        Ok(true) => {
            match (finished, version) {
                (Some(one), _) => {
                    out.entries.merge(one.entries);
                    out.calls.extend(one.calls);
                }
                // Wanted, but finished for another agent or end: read again.
                (None, Some(version)) => match session_stats_and_calls(store, s, true) {
                    Ok(folded) => out.add(&s.id, version, folded),
                    Err(e) => failed("caching statistics", e),
                },
                (None, None) => {}
            }
            return true;
        }
        Ok(false) => by_reading(store, s, version, out, failed),
        Err(e) => {
            failed("writing checkpoints", e);
            if let Some(version) = version {
                match session_stats_and_calls(store, s, true) {
                    Ok(folded) => out.add(&s.id, version, folded),
                    Err(e) => failed("caching statistics", e),
                }
            }
        }
    }
    false
}

#[cfg(test)]
#[path = "derive_tests.rs"]
mod following_tests;

#[cfg(test)]
mod tests {
    // Test code: a failed unwrap is a failed test.
    #![allow(clippy::unwrap_used)]

    use super::*;
    use crate::inspect::rule_cache::{kind as rules_kind, session_calls};
    use crate::inspect::{session_stats, stats_cache};
    use crate::record::{ImportOptions, import_file, import_reader};

    /// Every session's kept statistics are the fold of its events, and its kept tool calls the
    /// rules' own read; `stats` answers from the cache for each.
    fn assert_derived_equal_the_folds(store: &Store, min_calls: usize) {
        let sessions = store.sessions().unwrap();
        let mut calls = 0;
        for s in &sessions {
            let want = session_stats(store, s, true).unwrap();
            let got = stats_cache::cached(store, s, true).unwrap();
            assert_eq!(format!("{got:?}"), format!("{:?}", Some(want)), "{}", s.id);
            let body = store.session_cached(&rules_kind(), &s.id).unwrap().unwrap();
            let entry: serde_json::Value = serde_json::from_str(&body.body.unwrap()).unwrap();
            let mut by_tool = std::collections::BTreeMap::<String, Vec<i64>>::new();
            for (tool, time) in session_calls(store, &s.id, None).unwrap() {
                by_tool.entry(tool).or_default().push(time);
                calls += 1;
            }
            assert_eq!(
                entry["calls"],
                serde_json::to_value(&by_tool).unwrap(),
                "{}",
                s.id
            );
        }
        assert!(calls >= min_calls, "only {calls} tool calls");
    }

    #[test]
    fn one_read_derives_what_separate_reads_do_on_every_sample() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(&dir.path().join("s.db")).unwrap();
        for f in &crate::analysis::testing::sample_files(true) {
            // Files with problems (placeholder ids) still import their events.
            let _ = import_file(&mut store, f, &ImportOptions::default(), &mut |_, _| {});
        }
        let sessions = store.sessions().unwrap();
        let ids: Vec<&str> = sessions.iter().map(|s| s.id.as_str()).collect();
        let mut failures = Vec::new();
        derive(&store, &ids, &mut |doing, e| {
            failures.push(format!("{doing}: {e}"))
        });
        assert_eq!(failures, Vec::<String>::new());
        assert_derived_equal_the_folds(&store, 20);
    }

    /// Events after the newest checkpoint: the checkpoints go on from it (their scan reads only
    /// the new events), and the statistics are read apart, of the whole session.
    #[test]
    fn statistics_of_a_session_whose_checkpoints_go_on_are_of_the_whole_session() {
        let id = "sesn_011CZhappyPath0000000001";
        let owned = crate::analysis::testing::sample_lines(id);
        let lines: Vec<&str> = owned.iter().map(String::as_str).collect();
        let early = lines.len() / 2;
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(&dir.path().join("s.db")).unwrap();
        let body = lines.join("\n");
        import_reader(&mut store, "s", id, "", body.as_bytes(), 0, &mut |_, _| {}).unwrap();
        // Checkpoints of the first half only (every other event): the derive goes on from them.
        checkpoints::update(&store, id, 2).unwrap();
        let c = rusqlite::Connection::open(dir.path().join("s.db")).unwrap();
        let half: i64 = c
            .query_row(
                "SELECT seq FROM events WHERE session_id = ?1 ORDER BY sort_ts, seq LIMIT 1 OFFSET ?2",
                rusqlite::params![id, early as i64 - 1],
                |r| r.get(0),
            )
            .unwrap();
        let keep_half = || {
            c.execute("DELETE FROM fold_checkpoints WHERE seq > ?1", [half])
                .unwrap();
            c.query_row("SELECT count(*) FROM fold_checkpoints", [], |r| {
                r.get::<_, i64>(0)
            })
            .unwrap()
        };
        assert!(keep_half() > 0);
        c.execute("DELETE FROM session_results", []).unwrap();
        c.execute("DELETE FROM session_cache", []).unwrap();
        let summary = store.session_summary(id).unwrap().unwrap();
        let mut seen = 0;
        let (_, whole) =
            checkpoints::update_with(&store, id, checkpoints::EVERY, &mut |_| seen += 1).unwrap();
        assert!(!whole && seen < lines.len(), "{seen} events read");
        assert!(keep_half() > 0);
        let mut no_failures = |doing: &'static str, e: StoreError| panic!("{doing}: {e}");
        derive(&store, &[id], &mut no_failures);
        assert!(
            stats_cache::cached(&store, &summary, true)
                .unwrap()
                .is_some()
        );
        assert_derived_equal_the_folds(&store, 5);
    }
}
