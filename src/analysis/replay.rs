//! Replay pacing: when to show each event of a recording so that it plays as if it were
//! happening now. Pure: it is fed the events' sort keys in store order and answers with a
//! [`Cue`]; the caller owns the clock, sleeps and prints.
//!
//! Recorded gaps longer than the maximum gap are first shortened to it (as `serve --live
//! --max-gap` does), then recorded time is divided by the speed. Each shown event gets its time
//! after the first shown one, so a caller that sleeps until that time does not drift.

/// How to pace a replay.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Pacing {
    /// How many times faster than recorded; `None`: no waiting at all.
    pub speed: Option<f64>,
    /// Recorded gaps longer than this (µs) are shortened to it; `None`: never.
    pub max_gap_us: Option<i64>,
}

/// The part of a recording to play, in the store's order: (processed µs, arrival seq), queued
/// events (no processed time) last. Both ends are inclusive.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Window {
    pub from: Option<(i64, i64)>,
    pub to: Option<(i64, i64)>,
}

/// When to show one event.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Step {
    /// Wall µs after the first shown event.
    pub at_us: i64,
    /// Wall µs after the previous shown event.
    pub wait_us: i64,
    /// The recorded gap since the previous shown event (0 for the first and for queued events).
    pub gap_us: i64,
    /// The recorded gap was longer than the maximum and was shortened.
    pub compressed: bool,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Cue {
    /// Before the window: not shown.
    Skip,
    Play(Step),
    /// Past the window: nothing more is shown.
    Stop,
}

/// The pacing state over one pass of a recording.
#[derive(Debug, Clone)]
pub struct Schedule {
    pacing: Pacing,
    window: Window,
    /// Processed time of the previous shown event.
    prev_ts: Option<i64>,
    /// Recorded µs elapsed since the first shown event, after shortening the gaps.
    elapsed_us: i64,
    prev_at_us: i64,
}

impl Schedule {
    pub fn new(pacing: Pacing, window: Window) -> Schedule {
        Schedule {
            pacing,
            window,
            prev_ts: None,
            elapsed_us: 0,
            prev_at_us: 0,
        }
    }

    /// The cue of the next event in store order: its processed time (µs; `None` when queued)
    /// and arrival seq.
    pub fn next(&mut self, ts: Option<i64>, seq: i64) -> Cue {
        let key = (ts.unwrap_or(i64::MAX), seq);
        if self.window.from.is_some_and(|from| key < from) {
            return Cue::Skip;
        }
        if self.window.to.is_some_and(|to| key > to) {
            return Cue::Stop;
        }
        let gap_us = match (self.prev_ts, ts) {
            (Some(a), Some(b)) => (b - a).max(0),
            _ => 0,
        };
        if ts.is_some() {
            self.prev_ts = ts;
        }
        let compressed = self.pacing.max_gap_us.is_some_and(|m| gap_us > m);
        let shortened = match self.pacing.max_gap_us {
            Some(m) => gap_us.min(m.max(0)),
            None => gap_us,
        };
        self.elapsed_us = self.elapsed_us.saturating_add(shortened);
        let at_us = match self.pacing.speed {
            Some(speed) if speed > 0.0 => (self.elapsed_us as f64 / speed).round() as i64,
            _ => 0,
        };
        let wait_us = (at_us - self.prev_at_us).max(0);
        self.prev_at_us = at_us;
        Cue::Play(Step {
            at_us,
            wait_us,
            gap_us,
            compressed,
        })
    }
}

/// The cues of a whole recording at once (keys in store order).
pub fn schedule(events: &[(Option<i64>, i64)], pacing: Pacing, window: Window) -> Vec<Cue> {
    let mut s = Schedule::new(pacing, window);
    events.iter().map(|&(ts, seq)| s.next(ts, seq)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: i64 = 1_000_000;

    /// Events at 0 s, 1 s, 3 s, 603 s (a 10-minute idle gap), 604 s, then a queued one.
    fn events() -> Vec<(Option<i64>, i64)> {
        vec![
            (Some(100 * S), 1),
            (Some(101 * S), 2),
            (Some(103 * S), 3),
            (Some(703 * S), 4),
            (Some(704 * S), 5),
            (None, 6),
        ]
    }

    fn plays(cues: &[Cue]) -> Vec<(i64, i64, bool)> {
        cues.iter()
            .filter_map(|c| match c {
                Cue::Play(s) => Some((s.at_us, s.wait_us, s.compressed)),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn recorded_pace_at_speed_one_without_a_maximum_gap() {
        let p = Pacing {
            speed: Some(1.0),
            max_gap_us: None,
        };
        let c = schedule(&events(), p, Window::default());
        assert_eq!(
            plays(&c),
            [
                (0, 0, false),
                (S, S, false),
                (3 * S, 2 * S, false),
                (603 * S, 600 * S, false),
                (604 * S, S, false),
                (604 * S, 0, false),
            ]
        );
    }

    #[test]
    fn speed_divides_waits() {
        let p = Pacing {
            speed: Some(4.0),
            max_gap_us: None,
        };
        let c = schedule(&events(), p, Window::default());
        let at: Vec<i64> = plays(&c).iter().map(|x| x.0).collect();
        assert_eq!(at, [0, S / 4, 3 * S / 4, 603 * S / 4, 151 * S, 151 * S]);
        // Half speed doubles them.
        let p = Pacing {
            speed: Some(0.5),
            max_gap_us: None,
        };
        assert_eq!(
            plays(&schedule(&events(), p, Window::default()))[2].0,
            6 * S
        );
    }

    #[test]
    fn long_gaps_are_shortened_before_the_speed_applies() {
        let p = Pacing {
            speed: Some(2.0),
            max_gap_us: Some(2 * S),
        };
        let c = schedule(&events(), p, Window::default());
        assert_eq!(
            plays(&c),
            [
                (0, 0, false),
                (S / 2, S / 2, false),
                (3 * S / 2, S, false), // exactly the maximum: not shortened
                (5 * S / 2, S, true),  // 600 s → 2 s → 1 s at 2×
                (3 * S, S / 2, false),
                (3 * S, 0, false),
            ]
        );
        let Cue::Play(step) = c[3] else {
            panic!("{c:?}")
        };
        assert_eq!(step.gap_us, 600 * S);
    }

    #[test]
    fn no_wait_still_marks_long_gaps() {
        let p = Pacing {
            speed: None,
            max_gap_us: Some(5 * S),
        };
        let c = schedule(&events(), p, Window::default());
        let marks: Vec<bool> = plays(&c).iter().map(|x| x.2).collect();
        assert_eq!(marks, [false, false, false, true, false, false]);
        assert!(plays(&c).iter().all(|x| x.0 == 0 && x.1 == 0));
    }

    #[test]
    fn the_window_skips_before_and_stops_after() {
        let p = Pacing {
            speed: Some(1.0),
            max_gap_us: None,
        };
        // From the event at 101 s (seq 2) to every event at 703 s.
        let w = Window {
            from: Some((101 * S, 2)),
            to: Some((703 * S, i64::MAX)),
        };
        let c = schedule(&events(), p, w);
        assert_eq!(c[0], Cue::Skip);
        // The first shown event starts the clock.
        assert_eq!(
            c[1],
            Cue::Play(Step {
                at_us: 0,
                wait_us: 0,
                gap_us: 0,
                compressed: false
            })
        );
        assert_eq!(
            plays(&c[2..4]),
            [(2 * S, 2 * S, false), (602 * S, 600 * S, false)]
        );
        assert_eq!(c[4], Cue::Stop);
        // A time lower bound includes every event at that time; an event bound is exact.
        let w = Window {
            from: Some((103 * S, i64::MIN)),
            to: Some((103 * S, 3)),
        };
        let c = schedule(&events(), p, w);
        assert_eq!(&c[..2], [Cue::Skip, Cue::Skip]);
        assert!(matches!(c[2], Cue::Play(_)));
        assert_eq!(c[3], Cue::Stop);
    }

    #[test]
    fn queued_events_come_last_without_a_gap() {
        let p = Pacing {
            speed: Some(1.0),
            max_gap_us: Some(S),
        };
        let c = schedule(&[(None, 1), (None, 2)], p, Window::default());
        assert_eq!(plays(&c), [(0, 0, false), (0, 0, false)]);
    }
}
