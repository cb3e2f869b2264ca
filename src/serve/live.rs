//! Live mode's schedule: when each stored copy of each event becomes visible, as if the recorded
//! sessions were happening now. Pure: built from the store's index rows, queried with a clock
//! reading (recorded µs since the server started, already multiplied by the speed).
//!
//! A copy with a `processed_at` is revealed at that time. A queued copy (an echo kept in
//! `event_revisions`, or a current row still queued) is revealed at its arrival position: the
//! newest time processed before it arrived in the same log. A current copy never comes before
//! its earlier copies, so a queued echo and its processed copy both appear, in that order.
//!
//! Each session has a clock ([`hold::Clock`]): the server's, less the time it waited. With
//! `--hold` it stops at each `requires_action` idle until a client answers it (see `hold`).

use std::collections::HashMap;
use std::sync::Arc;

use super::hold::{self, Clock};
use crate::store::{LiveRows, PageQuery, QUEUED_SORT_TS};

/// One copy of one event, in one log.
#[derive(Debug, Clone, PartialEq)]
pub struct Copy {
    /// When it is revealed: recorded µs after its session's first event.
    pub at: i64,
    pub seq: i64,
    /// The `event_revisions` id of an earlier copy; `None` for the current one.
    pub rev: Option<i64>,
    /// This copy's `processed_at` in µs ([`QUEUED_SORT_TS`] when null).
    pub sort_ts: i64,
    pub event_type: Arc<str>,
}

/// Every log's copies in reveal order.
#[derive(Debug, Default)]
pub struct Schedule {
    logs: HashMap<(String, String), Vec<Copy>>,
    /// Each session's clock (a session without one has never waited and holds nowhere).
    clocks: HashMap<String, Clock>,
    /// Each session's first processed time (µs), which reveal times count from.
    origins: HashMap<String, i64>,
}

impl Schedule {
    /// The schedule of `rows`; with `max_gap` (µs), no two consecutive reveals of a log are
    /// further apart than that; with `hold`, each session waits at its `requires_action` idles
    /// for a client's answers (the recorded answers left out).
    pub fn build(rows: LiveRows, max_gap: Option<i64>, hold: bool) -> Schedule {
        let mut revisions: HashMap<i64, Vec<(i64, Option<i64>)>> = HashMap::new();
        for (id, seq, ts) in rows.revisions {
            revisions.entry(seq).or_default().push((id, ts));
        }
        let mut first: HashMap<&str, i64> = HashMap::new();
        for (session, _, _, _, ts) in &rows.events {
            if *ts != QUEUED_SORT_TS {
                let f = first.entry(session.as_str()).or_insert(*ts);
                *f = (*f).min(*ts);
            }
        }
        let mut types: HashMap<String, Arc<str>> = HashMap::new();
        let mut position: HashMap<(String, String), i64> = HashMap::new();
        let mut logs: HashMap<(String, String), Vec<Copy>> = HashMap::new();
        for (session, thread, seq, event_type, sort_ts) in &rows.events {
            let origin = first.get(session.as_str()).copied().unwrap_or(0);
            let key = (session.clone(), thread.clone());
            let pos = position.entry(key.clone()).or_insert(origin);
            let event_type = Arc::clone(
                types
                    .entry(event_type.clone())
                    .or_insert_with(|| Arc::from(event_type.as_str())),
            );
            let log = logs.entry(key).or_default();
            let earlier = revisions.get(seq).map(Vec::as_slice).unwrap_or_default();
            let mut newest = i64::MIN;
            for (id, ts) in earlier {
                let at = ts.unwrap_or(*pos);
                newest = newest.max(at);
                log.push(Copy {
                    at: (at - origin).max(0),
                    seq: *seq,
                    rev: Some(*id),
                    sort_ts: ts.unwrap_or(QUEUED_SORT_TS),
                    event_type: Arc::clone(&event_type),
                });
            }
            let at = if *sort_ts == QUEUED_SORT_TS {
                *pos
            } else {
                *sort_ts
            };
            log.push(Copy {
                at: (at.max(newest) - origin).max(0),
                seq: *seq,
                rev: None,
                sort_ts: *sort_ts,
                event_type,
            });
            // Only a first copy marks when it arrived; a replaced row's current time is later.
            if earlier.is_empty() && *sort_ts != QUEUED_SORT_TS {
                *pos = (*pos).max(*sort_ts);
            }
        }
        for log in logs.values_mut() {
            log.sort_by_key(|c| (c.at, c.seq, c.rev.unwrap_or(i64::MAX)));
            if let Some(gap) = max_gap {
                compress(log, gap.max(0));
            }
        }
        let mut clocks = HashMap::new();
        if hold {
            let blocking: HashMap<i64, Vec<String>> = rows.blocking.into_iter().collect();
            let answers: HashMap<i64, String> = rows.answers.into_iter().collect();
            for ((session, thread), log) in logs.iter_mut() {
                if !thread.is_empty() {
                    continue;
                }
                let (holds, left_out) = hold::find(log, &blocking, &answers);
                log.retain(|c| !left_out.contains(&c.seq));
                if !holds.is_empty() {
                    clocks.insert(session.clone(), Clock { offset: 0, holds });
                }
            }
        }
        let origins = first
            .into_iter()
            .map(|(s, ts)| (s.to_string(), ts))
            .collect();
        Schedule {
            logs,
            clocks,
            origins,
        }
    }

    /// A session's reveal point when the server's clock reads `elapsed` (recorded µs).
    pub fn now(&self, session_id: &str, elapsed: i64) -> i64 {
        self.clocks
            .get(session_id)
            .map_or(elapsed, |c| c.now(elapsed))
    }

    /// How far into a session's recorded time (µs after its first event) its own log is revealed
    /// when the server's clock reads `elapsed`: what its session object shows. The newest time
    /// revealed rather than the clock, as `--max-gap` and holds make the two differ.
    pub fn revealed_time(&self, session_id: &str, elapsed: i64) -> i64 {
        let Some(origin) = self.origins.get(session_id) else {
            return self.now(session_id, elapsed);
        };
        self.newest_revealed(session_id, elapsed)
            .map_or(-1, |ts| ts - origin)
    }

    /// The newest `processed_at` (µs) revealed in a session's own log.
    fn newest_revealed(&self, session_id: &str, elapsed: i64) -> Option<i64> {
        let log = self.log(session_id, "");
        log[..revealed(log, self.now(session_id, elapsed))]
            .iter()
            .map(|c| c.sort_ts)
            .filter(|ts| *ts != QUEUED_SORT_TS)
            .max()
    }

    /// The server's elapsed time at which a session's copy at `at` is revealed; `None` while
    /// the session waits for an answer.
    pub fn due(&self, session_id: &str, at: i64) -> Option<i64> {
        match self.clocks.get(session_id) {
            Some(c) => c.due(at),
            None => Some(at),
        }
    }

    /// The `processed_at` (µs) to give an event sent to a session now: the recorded answer's
    /// when it answers what the session waits on (`answers`: the id it answers), else just after
    /// the newest processed event revealed in the session's log; `None` when nothing is revealed.
    pub fn stamp(&self, session_id: &str, answers: Option<&str>, elapsed: i64) -> Option<i64> {
        if let Some(ts) = answers
            .zip(self.clocks.get(session_id))
            .and_then(|(id, c)| c.stamp(id))
        {
            return Some(ts);
        }
        self.newest_revealed(session_id, elapsed)
            .map(|ts| ts + 1000)
    }

    /// Copies sent to a session when the server's clock reads `elapsed`: revealed now (at the
    /// session's reveal point), after which the answers among them (`answered`: the ids they
    /// answer) may let a waiting session go on.
    pub fn deliver(
        &mut self,
        session_id: &str,
        thread_id: &str,
        mut copies: Vec<Copy>,
        answered: &[String],
        elapsed: i64,
    ) {
        let at = self.now(session_id, elapsed);
        for c in &mut copies {
            c.at = at;
        }
        self.add(session_id, thread_id, copies);
        if let Some(clock) = self.clocks.get_mut(session_id) {
            clock.answered(answered, elapsed);
        }
    }

    /// Adds copies to a log, each after every copy revealed at or before its time (sent events
    /// are revealed when they arrive: after what a stream has already sent).
    pub fn add(&mut self, session_id: &str, thread_id: &str, copies: Vec<Copy>) {
        let log = self
            .logs
            .entry((session_id.to_string(), thread_id.to_string()))
            .or_default();
        for c in copies {
            let at = log.partition_point(|x| x.at <= c.at);
            log.insert(at, c);
        }
    }

    /// One log's copies in reveal order (empty for an unknown log).
    pub fn log(&self, session_id: &str, thread_id: &str) -> &[Copy] {
        self.logs
            .get(&(session_id.to_string(), thread_id.to_string()))
            .map(Vec::as_slice)
            .unwrap_or_default()
    }
}

/// Shortens every gap between consecutive reveals to at most `max_gap`, keeping the order.
fn compress(log: &mut [Copy], max_gap: i64) {
    let (mut prev_orig, mut prev_new) = (0i64, 0i64);
    for c in log.iter_mut() {
        let gap = (c.at - prev_orig).max(0);
        prev_orig = c.at;
        prev_new += gap.min(max_gap);
        c.at = prev_new;
    }
}

/// How many of `copies` are revealed `elapsed` recorded µs after the start.
pub fn revealed(copies: &[Copy], elapsed: i64) -> usize {
    copies.partition_point(|c| c.at <= elapsed)
}

/// What the events list shows at `elapsed`: the newest revealed copy of each event, filtered,
/// ordered and keyset-paged by `q`, at most `q.limit` of them.
pub fn page(copies: &[Copy], elapsed: i64, q: &PageQuery) -> Vec<Copy> {
    let shown = &copies[..revealed(copies, elapsed)];
    let mut newest: HashMap<i64, &Copy> = HashMap::new();
    for c in shown {
        newest.insert(c.seq, c);
    }
    let mut rows: Vec<&Copy> = newest
        .into_values()
        .filter(|c| q.admits(c.sort_ts, &c.event_type))
        .filter(|c| match q.after {
            None => true,
            Some(key) if q.desc => (c.sort_ts, c.seq) < key,
            Some(key) => (c.sort_ts, c.seq) > key,
        })
        .collect();
    rows.sort_by_key(|c| (c.sort_ts, c.seq));
    if q.desc {
        rows.reverse();
    }
    rows.into_iter()
        .take(usize::try_from(q.limit).unwrap_or(usize::MAX))
        .cloned()
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: i64 = 1_000_000;

    fn rows() -> LiveRows {
        let ev = |seq: i64, t: &str, ts: i64| {
            ("sesn_a".to_string(), String::new(), seq, t.to_string(), ts)
        };
        LiveRows {
            events: vec![
                ev(1, "session.status_idle", 10 * S),
                // Arrived queued after the idle, processed at 15 s.
                ev(2, "user.message", 15 * S),
                ev(3, "session.status_running", 14 * S),
                ev(4, "user.interrupt", QUEUED_SORT_TS),
            ],
            revisions: vec![(1, 2, None)],
            ..LiveRows::default()
        }
    }

    #[test]
    fn a_queued_echo_comes_before_its_processed_copy() {
        let s = Schedule::build(rows(), None, false);
        let log = s.log("sesn_a", "");
        let order: Vec<(i64, i64, Option<i64>)> =
            log.iter().map(|c| (c.at, c.seq, c.rev)).collect();
        assert_eq!(
            order,
            [
                (0, 1, None),
                (0, 2, Some(1)),
                (4 * S, 3, None),
                (4 * S, 4, None),
                (5 * S, 2, None)
            ]
        );
    }

    #[test]
    fn the_list_shows_the_newest_revealed_copy() {
        let s = Schedule::build(rows(), None, false);
        let log = s.log("sesn_a", "");
        let q = PageQuery {
            limit: 10,
            ..PageQuery::default()
        };
        let at = |e: i64| -> Vec<(i64, Option<i64>)> {
            page(log, e, &q).iter().map(|c| (c.seq, c.rev)).collect()
        };
        assert_eq!(at(0), [(1, None), (2, Some(1))]);
        assert_eq!(at(4 * S), [(1, None), (3, None), (2, Some(1)), (4, None)]);
        assert_eq!(at(5 * S), [(1, None), (3, None), (2, None), (4, None)]);
        let timed = PageQuery {
            gte: Some(10 * S),
            desc: true,
            limit: 10,
            ..PageQuery::default()
        };
        let got: Vec<i64> = page(log, 9 * S, &timed).iter().map(|c| c.seq).collect();
        assert_eq!(got, [2, 3, 1]);
        assert!(revealed(log, -1) == 0 && revealed(log, 9 * S) == log.len());
    }

    #[test]
    fn sent_copies_come_after_what_is_revealed_and_before_what_is_not() {
        let mut s = Schedule::build(rows(), None, false);
        let copy = |rev: Option<i64>| Copy {
            at: 4 * S,
            seq: 9,
            rev,
            sort_ts: QUEUED_SORT_TS,
            event_type: Arc::from("user.tool_confirmation"),
        };
        s.add("sesn_a", "", vec![copy(Some(7)), copy(None)]);
        let order: Vec<(i64, Option<i64>)> =
            s.log("sesn_a", "").iter().map(|c| (c.seq, c.rev)).collect();
        assert_eq!(
            order,
            [
                (1, None),
                (2, Some(1)),
                (3, None),
                (4, None),
                (9, Some(7)),
                (9, None),
                (2, None)
            ]
        );
        s.add("sesn_new", "", vec![copy(None)]);
        assert_eq!(s.log("sesn_new", "").len(), 1);
    }

    #[test]
    fn with_hold_a_session_waits_at_its_idle_and_a_sent_answer_takes_the_recorded_ones_place() {
        let ev = |seq: i64, t: &str, ts: i64| {
            ("sesn_h".to_string(), String::new(), seq, t.to_string(), ts)
        };
        let rows = || LiveRows {
            events: vec![
                ev(1, "agent.tool_use", 5 * S),
                ev(2, "session.status_idle", 10 * S),
                ev(3, "user.tool_confirmation", 40 * S),
                ev(4, "session.status_running", 41 * S),
                ev(5, "session.status_idle", 50 * S),
            ],
            blocking: vec![(2, vec!["sevt_a".into()])],
            answers: vec![(3, "sevt_a".into())],
            ..LiveRows::default()
        };
        let order =
            |s: &Schedule| -> Vec<i64> { s.log("sesn_h", "").iter().map(|c| c.seq).collect() };
        assert_eq!(
            order(&Schedule::build(rows(), None, false)),
            [1, 2, 3, 4, 5]
        );
        let mut s = Schedule::build(rows(), None, true);
        assert_eq!(order(&s), [1, 2, 4, 5], "the recorded answer is left out");
        // Held at the idle (5 s after the first event) however long the server runs.
        assert_eq!(s.now("sesn_h", 100 * S), 5 * S);
        assert_eq!(s.due("sesn_h", 36 * S), None);
        assert_eq!(s.stamp("sesn_h", Some("sevt_a"), 100 * S), Some(40 * S));
        assert_eq!(s.stamp("sesn_h", None, 100 * S), Some(10 * S + 1000));
        assert_eq!(
            s.revealed_time("sesn_h", 100 * S),
            5 * S,
            "the session object: idle"
        );
        let sent = Copy {
            at: 0,
            seq: 9,
            rev: None,
            sort_ts: 40 * S,
            event_type: Arc::from("user.tool_confirmation"),
        };
        s.deliver("sesn_h", "", vec![sent], &["sevt_a".into()], 100 * S);
        assert_eq!(order(&s), [1, 2, 9, 4, 5]);
        // On from the recorded answer's time: running 1 s after the answer, as recorded.
        assert_eq!(s.now("sesn_h", 100 * S), 35 * S);
        assert_eq!(s.due("sesn_h", 36 * S), Some(101 * S));
        assert_eq!(revealed(s.log("sesn_h", ""), s.now("sesn_h", 100 * S)), 3);
        // Other sessions keep the server's clock.
        assert_eq!(s.now("sesn_other", 100 * S), 100 * S);
    }

    #[test]
    fn long_gaps_are_compressed_in_order() {
        let full = Schedule::build(rows(), None, false);
        let short = Schedule::build(rows(), Some(S / 10), false);
        for (key, log) in &full.logs {
            let c = &short.logs[key];
            assert_eq!(
                log.iter().map(|x| (x.seq, x.rev)).collect::<Vec<_>>(),
                c.iter().map(|x| (x.seq, x.rev)).collect::<Vec<_>>()
            );
            assert!(
                c.windows(2)
                    .all(|w| w[1].at - w[0].at <= S / 10 && w[1].at >= w[0].at)
            );
            assert!(c.last().map(|x| x.at).unwrap_or(0) <= log.last().map(|x| x.at).unwrap_or(0));
        }
    }
}
