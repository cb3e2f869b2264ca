//! The playback clock: moves the cursor time forward by the frame's `dt` times the speed, with
//! long silences optionally compressed to a few seconds. Takes `dt` as input (no clock of its
//! own), so it is tested frame by frame.

use super::index::EventIndex;

/// Speeds offered, in recorded seconds per second.
pub const SPEEDS: &[f64] = &[0.25, 0.5, 1.0, 2.0, 5.0, 10.0, 30.0, 100.0, 1000.0];

/// Play state.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Playback {
    pub playing: bool,
    pub speed: f64,
    /// Silences longer than `max_gap_us` play as if they lasted `max_gap_us`.
    pub compress: bool,
    pub max_gap_us: i64,
}

impl Default for Playback {
    fn default() -> Self {
        Playback {
            playing: false,
            speed: 1.0,
            compress: true,
            max_gap_us: 2_000_000,
        }
    }
}

/// The most events one frame may pass over (bounds a frame at absurd speeds).
const MAX_STEPS: usize = 100_000;

impl Playback {
    /// The next faster (`up`) or slower speed on the [`SPEEDS`] scale.
    pub fn step_speed(&mut self, up: bool) {
        let i = SPEEDS
            .iter()
            .position(|&s| s >= self.speed)
            .unwrap_or(SPEEDS.len() - 1);
        let j = if up {
            (i + 1).min(SPEEDS.len() - 1)
        } else {
            i.saturating_sub(1)
        };
        self.speed = SPEEDS[j];
    }

    /// The cursor time after `dt` seconds of playing from `t`. Stops (and pauses) at the
    /// last processed event.
    pub fn advance(&mut self, t: i64, dt: f64, index: &EventIndex) -> i64 {
        if !self.playing || !dt.is_finite() || dt <= 0.0 {
            return t;
        }
        let Some((_, last)) = index.time_range() else {
            self.playing = false;
            return t;
        };
        let mut budget = dt * self.speed * 1e6;
        let mut t = t as f64;
        for _ in 0..MAX_STEPS {
            let now = t.floor() as i64;
            let Some(next) = index.next_time_after(now) else {
                self.playing = false;
                return last.max(now);
            };
            let gap_end = if self.compress {
                let prev = index
                    .at_or_before(now)
                    .map(|p| index.events[p].ts)
                    .unwrap_or(now);
                (prev.saturating_add(self.max_gap_us)).min(next)
            } else {
                next
            };
            // Real time left to reach the next event; past `gap_end` the rest of a long
            // silence costs nothing.
            let distance = (gap_end as f64 - t).max(0.0);
            if budget < distance {
                return (t + budget).floor() as i64;
            }
            budget -= distance;
            t = next as f64;
            if budget <= 0.0 {
                break;
            }
        }
        t.floor() as i64
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::index::tests::index_of;

    /// Events at 0, 1, 2, 3 s, then one at 60 s.
    fn index() -> EventIndex {
        let mut ix = index_of(&["a", "b", "c", "d", "e"]);
        ix.events[4].ts = 60_000_000;
        ix
    }

    #[test]
    fn plays_in_real_time_at_speed_one() {
        let ix = index();
        let mut p = Playback {
            playing: true,
            compress: false,
            ..Playback::default()
        };
        let t = p.advance(0, 0.5, &ix);
        assert_eq!(t, 500_000);
        let t = p.advance(t, 1.0, &ix);
        assert_eq!(t, 1_500_000);
        p.speed = 10.0;
        let t = p.advance(t, 1.0, &ix);
        assert_eq!(t, 11_500_000);
        assert!(p.playing);
    }

    #[test]
    fn compression_skips_the_long_silence() {
        let ix = index();
        let mut p = Playback {
            playing: true,
            ..Playback::default()
        };
        // From 3 s: 2 s of silence are played, then the jump to 60 s is free.
        let t = p.advance(3_000_000, 1.0, &ix);
        assert_eq!(t, 4_000_000);
        let t = p.advance(t, 1.5, &ix);
        assert_eq!(t, 60_000_000);
        // At the last event the clock stops and pauses.
        let t = p.advance(t, 1.0, &ix);
        assert_eq!(t, 60_000_000);
        assert!(!p.playing);
    }

    #[test]
    fn paused_does_not_move_and_speeds_step_on_the_scale() {
        let ix = index();
        let mut p = Playback::default();
        assert_eq!(p.advance(1, 1.0, &ix), 1);
        p.step_speed(true);
        assert_eq!(p.speed, 2.0);
        p.step_speed(false);
        p.step_speed(false);
        assert_eq!(p.speed, 0.5);
        for _ in 0..20 {
            p.step_speed(true);
        }
        assert_eq!(p.speed, 1000.0);
    }
}
