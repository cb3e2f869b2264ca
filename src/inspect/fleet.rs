//! The fleet at a glance, for `watch`'s metrics and status line: the watched sessions by status,
//! how many each rule holds now, and the oldest unanswered `requires_action`. Read through the
//! store and the one rule engine ([`super::rule_hits`]); "now" is a parameter.
//!
//! A [`Survey`] is asked again and again (on a clock) about the same sessions, so it keeps each
//! session's hits and reads a session's events again only when they may have changed the answer:
//! its summary (event count, newest event, status) moved, it is running (silence is measured
//! against now), or its hits are older than [`REEVALUATE_US`]. A `requires_action` hit does not
//! need a new read as time passes: the rules run with no `stuck_after`, so every unanswered
//! blocking event is a hit with its waiting time, and the threshold is applied here.

use std::collections::{BTreeMap, HashMap};

use crate::analysis::rules::{Hit, Rule, Thresholds};
use crate::model::time::parse_timestamp_micros;
use crate::store::{Result, SessionFilter, Store};

/// The longest a settled session's hits are reused without reading its events again (µs).
pub const REEVALUATE_US: i64 = 60 * 1_000_000;

/// How long a session stays watched once it is settled: idle with nothing firing, terminated or
/// deleted, and unchanged (µs).
pub const KEEP_SETTLED_US: i64 = 60 * 60 * 1_000_000;

/// Sessions from the database a watcher starts with: at most this many of each kind.
const SEED_LIMIT: u64 = 500;

/// What the fleet looks like now.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FleetView {
    /// Watched sessions by status (`running`, `idle`, …; `unknown` before a status event).
    pub by_status: BTreeMap<String, u64>,
    /// Sessions that a rule holds now, per rule (every rule present, most at 0).
    pub stuck_by_rule: BTreeMap<Rule, u64>,
    /// Sessions that any rule holds now.
    pub stuck_sessions: u64,
    /// How long the oldest unanswered `requires_action` has waited (µs), stuck or not yet.
    pub oldest_wait_us: Option<i64>,
    /// Sessions settled for longer than [`KEEP_SETTLED_US`]: the caller may stop watching them.
    pub settled: Vec<String>,
}

struct Entry {
    /// (event count, newest event, status): what changes when the session does.
    key: (u64, Option<i64>, Option<String>),
    /// The hits with no `stuck_after`, as read at `evaluated_at`.
    hits: Vec<Hit>,
    evaluated_at: i64,
    /// When `key` last changed.
    changed_at: i64,
}

/// The cache of hits between surveys.
#[derive(Default)]
pub struct Survey {
    entries: HashMap<String, Entry>,
}

/// The sessions a watcher starts watching: those running or rescheduling, and those waiting
/// for action, most recently active first (a bounded number of each).
pub fn seed(store: &Store) -> Result<Vec<String>> {
    let live = SessionFilter {
        statuses: vec!["running".into(), "rescheduling".into()],
        limit: Some(SEED_LIMIT),
        ..SessionFilter::default()
    };
    let waiting = SessionFilter {
        stop_reasons: vec!["requires_action".into()],
        limit: Some(SEED_LIMIT),
        ..SessionFilter::default()
    };
    let mut ids: Vec<String> = store
        .sessions_matching(&live)?
        .into_iter()
        .chain(store.sessions_matching(&waiting)?)
        .map(|s| s.id)
        .collect();
    ids.sort();
    ids.dedup();
    Ok(ids)
}

impl Survey {
    /// The view of `ids` at `now` (µs) under `th`. A session missing from the store is left out.
    pub fn refresh(
        &mut self,
        store: &Store,
        ids: &[String],
        now: i64,
        th: &Thresholds,
    ) -> Result<FleetView> {
        let mut view = FleetView {
            stuck_by_rule: Rule::ALL.into_iter().map(|r| (r, 0)).collect(),
            ..FleetView::default()
        };
        // Every unanswered blocking event is a hit; the threshold is applied below.
        let unbounded = Thresholds {
            stuck_after_us: 0,
            ..th.clone()
        };
        self.entries.retain(|id, _| ids.contains(id));
        for id in ids {
            let Some(summary) = store.session_summary(id)? else {
                continue;
            };
            let key = (summary.event_count, summary.last_ts, summary.status.clone());
            let status = summary.status.clone();
            let moving = !matches!(status.as_deref(), Some("idle" | "terminated" | "deleted"));
            let reuse = self
                .entries
                .get(id)
                .is_some_and(|e| e.key == key && !moving && now - e.evaluated_at < REEVALUATE_US);
            if !reuse {
                let changed_at = self
                    .entries
                    .get(id)
                    .filter(|e| e.key == key)
                    .map_or(now, |e| e.changed_at);
                let hits = super::rule_hits(store, &summary, now, &unbounded)?;
                let fresh = Entry {
                    key,
                    hits,
                    evaluated_at: now,
                    changed_at,
                };
                self.entries.insert(id.clone(), fresh);
            }
            let Some(entry) = self.entries.get(id) else {
                continue;
            };
            *view
                .by_status
                .entry(status.clone().unwrap_or_else(|| "unknown".into()))
                .or_default() += 1;
            let mut held: Vec<Rule> = Vec::new();
            for h in &entry.hits {
                let waited =
                    h.at.as_deref()
                        .and_then(parse_timestamp_micros)
                        .map(|t| now - t);
                if h.rule == Rule::RequiresAction {
                    if let Some(w) = waited {
                        view.oldest_wait_us = Some(view.oldest_wait_us.map_or(w, |o| o.max(w)));
                    }
                    if waited.is_none_or(|w| w <= th.stuck_after_us) {
                        continue;
                    }
                }
                if !held.contains(&h.rule) {
                    held.push(h.rule);
                }
            }
            for r in &held {
                *view.stuck_by_rule.entry(*r).or_default() += 1;
            }
            if !held.is_empty() {
                view.stuck_sessions += 1;
            } else if !moving && now - entry.changed_at > KEEP_SETTLED_US {
                view.settled.push(id.clone());
            }
        }
        Ok(view)
    }
}

#[cfg(test)]
mod tests {
    // Test code: a failed unwrap is a failed test.
    #![allow(clippy::unwrap_used)]

    use super::*;
    use crate::record::{ImportOptions, import_file};
    use std::path::Path;

    const STUCK: &str = "sesn_011CZstuckCustomTool0002";
    const HAPPY: &str = "sesn_011CZhappyPath0000000001";

    fn store() -> (tempfile::TempDir, Store) {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(&dir.path().join("f.db")).unwrap();
        for name in [
            "stuck-custom-tool.sesn_011CZstuckCustomTool0002.jsonl",
            "happy-path.sesn_011CZhappyPath0000000001.jsonl",
        ] {
            let path = Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("sample-logs")
                .join(name);
            import_file(&mut store, &path, &ImportOptions::default(), &mut |_, _| {}).unwrap();
        }
        (dir, store)
    }

    /// The time the stuck sample's blocking call started waiting.
    fn waiting_since(store: &Store) -> i64 {
        let s = store.session_summary(STUCK).unwrap().unwrap();
        let th = Thresholds {
            stuck_after_us: 0,
            ..Thresholds::default()
        };
        let hits = crate::inspect::rule_hits(store, &s, s.last_ts.unwrap() + 1, &th).unwrap();
        parse_timestamp_micros(hits[0].at.as_deref().unwrap()).unwrap()
    }

    #[test]
    fn a_wait_counts_as_stuck_only_past_stuck_after_and_the_oldest_wait_grows_with_now() {
        let (_d, store) = store();
        let since = waiting_since(&store);
        let ids = vec![STUCK.to_string(), HAPPY.to_string(), "sesn_absent".into()];
        let th = Thresholds {
            stuck_after_us: 60_000_000,
            ..Thresholds::default()
        };
        let mut survey = Survey::default();
        let early = survey
            .refresh(&store, &ids, since + 30_000_000, &th)
            .unwrap();
        assert_eq!(early.oldest_wait_us, Some(30_000_000));
        assert_eq!(early.stuck_by_rule[&Rule::RequiresAction], 0);
        assert_eq!(early.stuck_sessions, 0);
        assert_eq!(early.by_status.get("idle"), Some(&2), "{early:?}");
        assert_eq!(early.stuck_by_rule.len(), Rule::ALL.len());
        // From the cache: the same session, later.
        let late = survey
            .refresh(&store, &ids, since + 90_000_000, &th)
            .unwrap();
        assert_eq!(late.oldest_wait_us, Some(90_000_000));
        assert_eq!(late.stuck_by_rule[&Rule::RequiresAction], 1);
        assert_eq!(late.stuck_sessions, 1);
        assert!(late.settled.is_empty());
    }

    #[test]
    fn a_settled_session_is_let_go_after_an_hour_and_a_stuck_one_never() {
        let (_d, store) = store();
        let since = waiting_since(&store);
        let ids = vec![STUCK.to_string(), HAPPY.to_string()];
        let mut survey = Survey::default();
        let th = Thresholds::default();
        let first = survey.refresh(&store, &ids, since, &th).unwrap();
        assert!(first.settled.is_empty());
        let later = since + KEEP_SETTLED_US + 1;
        let v = survey.refresh(&store, &ids, later, &th).unwrap();
        assert_eq!(v.settled, [HAPPY.to_string()]);
        assert_eq!(v.stuck_sessions, 1);
    }

    #[test]
    fn the_seed_is_the_sessions_waiting_for_action() {
        let (_d, store) = store();
        assert_eq!(seed(&store).unwrap(), [STUCK.to_string()]);
    }
}
