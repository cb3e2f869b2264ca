//! The reads the rules need ([`crate::analysis::rules`]): a session's explanation, state and
//! latest findings at the end of its recording, and the workspace's own call times per tool.
//! Each reads as little as the answer needs, so a watcher can run them on every commit and
//! every minute.

use std::collections::BTreeMap;

use super::rule_cache::{self, session_calls};
use super::{owned, turn_start, verdict_fold};
use crate::analysis::findings::{Findings, FindingsBuilder};
use crate::analysis::rules::{Hit, Thresholds, ToolTimes};
use crate::analysis::spans::SLIM_TYPES;
use crate::analysis::threads::THREAD_TYPES;
use crate::store::{Result, SessionFilter, SessionSummary, Store, TimelineQuery};

/// The rules' hits on a session at `now` (µs): its explanation at the end of the recording, and
/// when its turn is over the findings of that turn, read against `th`. What `check --all` and
/// `watch` evaluate. From the session's entry in the rules' cache when it has a valid one
/// (`rule_cache.rs`), else from its events.
pub fn rule_hits(
    store: &Store,
    summary: &SessionSummary,
    now: i64,
    th: &Thresholds,
) -> Result<Vec<Hit>> {
    match rule_cache::read(store, &summary.id)? {
        Some(e) => e.hits(store, summary, now, th),
        None => uncached_hits(store, summary, now, th),
    }
}

/// [`rule_hits`] from the session's events: the reference the cache must equal.
pub(super) fn uncached_hits(
    store: &Store,
    summary: &SessionSummary,
    now: i64,
    th: &Thresholds,
) -> Result<Vec<Hit>> {
    let state = verdict_fold(store, summary, None)?.finish(summary.last_ts);
    rule_cache::evaluate(
        store,
        summary,
        &state,
        || recent_findings(store, summary),
        now,
        th,
    )
}

/// The findings of the session's last two turns (and the one in progress): every event from
/// the second-newest turn-ending idle on, with the thread events before it (so children created
/// earlier are known). The turn the verdict is about is read whole; earlier turns are not.
pub fn recent_findings(store: &Store, summary: &SessionSummary) -> Result<Findings> {
    let start = turn_start(store, summary, None)?;
    let mut b = FindingsBuilder::new();
    if let Some(start) = start {
        let q = TimelineQuery {
            types: owned(THREAD_TYPES),
            until_ts: Some(start - 1),
            ..TimelineQuery::default()
        };
        store.scan_events(&summary.id, &q, |ev| {
            b.push(&ev);
            true
        })?;
    }
    let q = TimelineQuery {
        since_ts: start,
        slim_types: owned(SLIM_TYPES),
        ..TimelineQuery::default()
    };
    store.scan_events(&summary.id, &q, |ev| {
        b.push(&ev);
        true
    })?;
    Ok(b.finish(&[]))
}

/// This workspace's p99 call time per tool (µs; `bash`, `server.tool` for MCP tools), over the
/// calls of every session active at or after `since` (µs) that started then or later: what
/// [`Thresholds::tool_p99_us`] holds. One indexed read of the tool events per session.
pub fn workspace_tool_p99(store: &Store, since: i64) -> Result<BTreeMap<String, i64>> {
    let filter = SessionFilter {
        since_ts: Some(since),
        ..SessionFilter::default()
    };
    let mut times = ToolTimes::default();
    for s in store.sessions_matching(&filter)? {
        times.add_calls(session_calls(store, &s.id, Some(since))?);
    }
    Ok(times.p99())
}

#[cfg(test)]
mod tests {
    // Test code: a failed unwrap is a failed test.
    #![allow(clippy::unwrap_used)]

    use super::*;
    use crate::analysis::explain::{ExplainInput, explain};
    use crate::analysis::rules::{self, Facts, Rule};
    use crate::analysis::state::StateBuilder;
    use crate::record::{ImportOptions, import_file};
    use std::path::Path;

    /// The rules fed every event of the session: what the narrow reads must agree with.
    fn naive(store: &Store, summary: &SessionSummary, now: i64, th: &Thresholds) -> Vec<Hit> {
        let events = store
            .events(&summary.id, &TimelineQuery::default())
            .unwrap();
        let mut state = StateBuilder::new(&summary.id);
        let mut findings = FindingsBuilder::new();
        for r in &events {
            state.push(&r.as_ref());
            findings.push(&r.as_ref());
        }
        let state = state.finish(summary.last_ts);
        let x = explain(
            &state,
            &ExplainInput {
                session_id: &summary.id,
                at: None,
                capture: None,
                now,
                stuck_after: th.silent_after_us,
            },
        );
        let facts = Facts {
            explanation: &x,
            state: &state,
            findings: &findings.finish(&[]),
        };
        rules::evaluate(&facts, now, th)
    }

    fn key(h: &[Hit]) -> Vec<(Rule, Option<String>, Option<String>)> {
        h.iter()
            .map(|h| (h.rule, h.event_id.clone(), h.at.clone()))
            .collect()
    }

    #[test]
    fn the_narrow_reads_give_the_hits_of_the_whole_session_on_every_sample() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(&dir.path().join("s.db")).unwrap();
        let samples = Path::new(env!("CARGO_MANIFEST_DIR")).join("sample-logs");
        let mut files = Vec::new();
        for d in [samples.clone(), samples.join("real")] {
            files.extend(
                std::fs::read_dir(d)
                    .unwrap()
                    .map(|e| e.unwrap().path())
                    .filter(|p| {
                        matches!(
                            p.extension().and_then(|e| e.to_str()),
                            Some("jsonl" | "sse" | "json")
                        )
                    }),
            );
        }
        files.sort();
        for f in &files {
            // Files with problems (placeholder ids) still import their events.
            let _ = import_file(&mut store, f, &ImportOptions::default(), &mut |_, _| {});
        }
        // A child left waiting in turn 1 and still waiting after two more turns: the narrow read
        // starts at turn 2's end, and must still know the child.
        let lines: Vec<String> = [
            (r#""type":"session.thread_created","session_thread_id":"sthr_c","agent_name":"Deployer""#, "00:00:01"),
            (r#""type":"session.thread_status_idle","session_thread_id":"sthr_c","stop_reason":{"type":"requires_action","event_ids":["sevt_x"]}"#, "00:00:02"),
            (r#""type":"agent.message","content":[{"type":"text","text":"Asked."}]"#, "00:00:03"),
            (r#""type":"session.status_idle","stop_reason":{"type":"end_turn"}"#, "00:00:04"),
            (r#""type":"agent.message","content":[{"type":"text","text":"Still here."}]"#, "00:01:00"),
            (r#""type":"session.status_idle","stop_reason":{"type":"end_turn"}"#, "00:01:01"),
            (r#""type":"agent.message","content":[{"type":"text","text":"And here."}]"#, "00:02:00"),
            (r#""type":"session.status_idle","stop_reason":{"type":"end_turn"}"#, "00:02:01"),
        ]
        .iter()
        .enumerate()
        .map(|(i, (body, at))| {
            format!(r#"{{"id":"sevt_{i}","processed_at":"2026-01-01T{at}Z",{body}}}"#)
        })
        .collect();
        let file = dir
            .path()
            .join("late.sesn_011CZchildStillWaiting00001.jsonl");
        std::fs::write(&file, lines.join("\n") + "\n").unwrap();
        import_file(&mut store, &file, &ImportOptions::default(), &mut |_, _| {}).unwrap();
        let late = store
            .session_summary("sesn_011CZchildStillWaiting00001")
            .unwrap()
            .unwrap();
        assert!(turn_start(&store, &late, None).unwrap().is_some());
        let now = late.last_ts.unwrap() + 3_600_000_000;
        let got = rule_hits(&store, &late, now, &Thresholds::default()).unwrap();
        assert_eq!(
            key(&got),
            [(
                Rule::ChildBlocked,
                Some("sevt_1".to_string()),
                Some("2026-01-01T00:00:02Z".to_string())
            )]
        );

        let th = Thresholds::default();
        let mut fired = std::collections::BTreeSet::new();
        for summary in store.sessions().unwrap() {
            let Some(end) = summary.last_ts else { continue };
            for after in [1_000_000, 6 * 60_000_000, 11 * 60_000_000, 7_200_000_000] {
                let now = end + after;
                let want = naive(&store, &summary, now, &th);
                let got = rule_hits(&store, &summary, now, &th).unwrap();
                assert_eq!(key(&got), key(&want), "{} at +{after}µs", summary.id);
                fired.extend(got.iter().map(|h| h.rule));
            }
        }
        for rule in Rule::FIRED_BY_SAMPLES {
            assert!(fired.contains(&rule), "no sample fires {rule}: {fired:?}");
        }
    }
}
