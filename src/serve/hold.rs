//! `serve --live --hold`: a session waits at each `requires_action` idle until a client answers
//! it (`POST …/events`), as the API waits, then plays on. Pure, like the schedule it is part of.
//!
//! Each session has a clock: the server's elapsed time less an offset, stopped at the next
//! [`Hold`] until the answers it needs have been sent. A hold is a `requires_action` idle of the
//! session's own log; it needs the ids the recorded answers after it (before the next status
//! event) answer, or, when the recording holds none, every id the idle names. The recorded
//! answers are left out of the schedule: the sent ones take their place. When the last needed
//! answer arrives at a held session, the clock jumps to the recorded answer's time and runs on
//! from there, so what followed comes with its recorded gaps. An answer sent before the session
//! reaches its hold lifts the hold without moving the clock.

use std::collections::{HashMap, HashSet, VecDeque};

use super::live::Copy;

/// Where a session waits for answers.
#[derive(Debug, Clone, PartialEq)]
pub struct Hold {
    /// The idle's reveal time: the session's clock stops here.
    pub at: i64,
    /// The blocking ids still to be answered by a sent event.
    pub needs: Vec<String>,
    /// Where the clock resumes: the last recorded answer's reveal time (the idle's without one).
    pub resume: i64,
    /// The recorded answers' `processed_at` (µs) by the id each answers: the time a sent
    /// answer to that id is stamped with.
    pub stamps: Vec<(String, i64)>,
}

/// One session's clock.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Clock {
    /// Subtracted from the server's elapsed time (grows by each wait at a hold).
    pub offset: i64,
    /// The holds ahead, in order.
    pub holds: VecDeque<Hold>,
}

impl Clock {
    /// The session's reveal point when the server's clock reads `elapsed`.
    pub fn now(&self, elapsed: i64) -> i64 {
        let t = elapsed - self.offset;
        match self.holds.front() {
            Some(h) => t.min(h.at),
            None => t,
        }
    }

    /// The server's elapsed time at which a copy at `at` is revealed; `None` while a hold keeps
    /// it back.
    pub fn due(&self, at: i64) -> Option<i64> {
        match self.holds.front() {
            Some(h) if at > h.at => None,
            _ => Some(at + self.offset),
        }
    }

    /// The time to stamp a sent answer to `id` with: the recorded answer it replaces.
    pub fn stamp(&self, id: &str) -> Option<i64> {
        let h = self.holds.front()?;
        h.stamps.iter().find(|(i, _)| i == id).map(|(_, ts)| *ts)
    }

    /// Answers to `ids` were sent when the server's clock read `elapsed`: the front hold needs
    /// them no more; once it needs nothing, it is lifted (and a held session goes on from the
    /// recorded answer's time). Whether a hold was lifted.
    pub fn answered(&mut self, ids: &[String], elapsed: i64) -> bool {
        let Some(h) = self.holds.front_mut() else {
            return false;
        };
        h.needs.retain(|n| !ids.contains(n));
        if !h.needs.is_empty() {
            return false;
        }
        let reached = elapsed - self.offset >= h.at;
        let resume = h.resume;
        self.holds.pop_front();
        if reached {
            self.offset = elapsed - resume;
        }
        true
    }
}

/// The holds of a session's own log (in reveal order), and the seqs of the recorded answers they
/// leave out. `blocking`: the ids each `requires_action` idle names, by seq; `answers`: the id
/// each answer event answers, by seq.
pub fn find(
    log: &[Copy],
    blocking: &HashMap<i64, Vec<String>>,
    answers: &HashMap<i64, String>,
) -> (VecDeque<Hold>, HashSet<i64>) {
    let mut holds = VecDeque::new();
    let mut left_out = HashSet::new();
    for (i, c) in log.iter().enumerate() {
        let Some(ids) = blocking.get(&c.seq).filter(|_| c.rev.is_none()) else {
            continue;
        };
        let mut hold = Hold {
            at: c.at,
            needs: Vec::new(),
            resume: c.at,
            stamps: Vec::new(),
        };
        for next in &log[i + 1..] {
            if next.rev.is_none() && next.event_type.starts_with("session.status_") {
                break;
            }
            let Some(id) = answers.get(&next.seq).filter(|id| ids.contains(id)) else {
                continue;
            };
            left_out.insert(next.seq);
            if next.rev.is_none() {
                hold.resume = hold.resume.max(next.at);
                hold.stamps.push((id.clone(), next.sort_ts));
                if !hold.needs.contains(id) {
                    hold.needs.push(id.clone());
                }
            }
        }
        if hold.needs.is_empty() {
            hold.needs = ids.clone();
        }
        holds.push_back(hold);
    }
    (holds, left_out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    const S: i64 = 1_000_000;

    fn copy(at: i64, seq: i64, t: &str) -> Copy {
        Copy {
            at,
            seq,
            rev: None,
            sort_ts: 1000 * S + at,
            event_type: Arc::from(t),
        }
    }

    /// idle(requires [a]) at 10 s, its answer at 40 s, running at 41 s, idle(end_turn) at 50 s.
    fn log() -> Vec<Copy> {
        vec![
            copy(0, 1, "agent.tool_use"),
            copy(10 * S, 2, "session.status_idle"),
            Copy {
                rev: Some(7),
                sort_ts: crate::store::QUEUED_SORT_TS,
                ..copy(10 * S, 3, "user.tool_confirmation")
            },
            copy(40 * S, 3, "user.tool_confirmation"),
            copy(41 * S, 4, "session.status_running"),
            copy(50 * S, 5, "session.status_idle"),
        ]
    }

    fn found(log: &[Copy]) -> (VecDeque<Hold>, HashSet<i64>) {
        let blocking = HashMap::from([(2, vec!["a".to_string()])]);
        let answers = HashMap::from([(3, "a".to_string()), (9, "b".to_string())]);
        find(log, &blocking, &answers)
    }

    #[test]
    fn a_hold_needs_what_the_recording_answered_and_leaves_the_answer_out() {
        let (holds, left_out) = found(&log());
        assert_eq!(
            holds,
            [Hold {
                at: 10 * S,
                needs: vec!["a".into()],
                resume: 40 * S,
                stamps: vec![("a".into(), 1040 * S)],
            }]
        );
        assert_eq!(left_out, HashSet::from([3]));
        // Unanswered in the recording: it needs every id the idle names, and resumes in place.
        let (holds, left_out) = found(&log()[..2]);
        assert_eq!((holds[0].resume, left_out.len()), (10 * S, 0));
    }

    #[test]
    fn the_clock_stops_at_a_hold_and_goes_on_from_the_recorded_answer() {
        let mut c = Clock {
            offset: 0,
            holds: found(&log()).0,
        };
        assert_eq!(c.now(5 * S), 5 * S);
        assert_eq!(c.now(100 * S), 10 * S, "held");
        assert_eq!(c.due(41 * S), None);
        assert_eq!(c.stamp("a"), Some(1040 * S));
        assert!(!c.answered(&["z".into()], 100 * S), "not what it needs");
        assert!(c.answered(&["a".into()], 100 * S));
        // Resumed at the recorded answer's time: running 1 s later, as recorded.
        assert_eq!(c.now(100 * S), 40 * S);
        assert_eq!(c.due(41 * S), Some(101 * S));
        assert_eq!(c.stamp("a"), None);
    }

    #[test]
    fn an_answer_before_the_hold_lifts_it_without_moving_the_clock() {
        let mut c = Clock {
            offset: 0,
            holds: found(&log()).0,
        };
        assert!(c.answered(&["a".into()], 5 * S));
        assert_eq!((c.offset, c.now(60 * S)), (0, 60 * S));
    }
}
