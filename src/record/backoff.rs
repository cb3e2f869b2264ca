//! Reconnect backoff: 0.5 s doubling to a cap, with jitter, reset when events flow.

use std::time::Duration;

#[derive(Debug, Clone)]
pub struct Backoff {
    floor: Duration,
    cap: Duration,
    next: Duration,
    rng: fastrand::Rng,
}

impl Backoff {
    pub fn new(floor: Duration, cap: Duration) -> Backoff {
        Backoff {
            floor,
            cap,
            next: floor,
            rng: fastrand::Rng::new(),
        }
    }

    /// The SDK runner's policy: 0.5 s doubling to 10 s.
    pub fn standard() -> Backoff {
        Backoff::new(Duration::from_millis(500), Duration::from_secs(10))
    }

    /// The wait before the next attempt: the server's `retry-after` when it gave one, else the
    /// current step with jitter in [0.75, 1.0]. Doubles the step either way.
    pub fn next_delay(&mut self, retry_after: Option<Duration>) -> Duration {
        let jitter = 0.75 + 0.25 * self.rng.f64();
        let step = self.next.mul_f64(jitter);
        self.next = (self.next * 2).min(self.cap);
        retry_after.unwrap_or(step)
    }

    /// Events flowed: start again from the floor.
    pub fn reset(&mut self) {
        self.next = self.floor;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn doubles_to_the_cap_with_jitter_and_resets() {
        let mut b = Backoff::standard();
        let steps: Vec<f64> = (0..7).map(|_| b.next_delay(None).as_secs_f64()).collect();
        let bases = [0.5, 1.0, 2.0, 4.0, 8.0, 10.0, 10.0];
        for (s, base) in steps.iter().zip(bases) {
            assert!(*s >= base * 0.75 - 1e-9 && *s <= base + 1e-9, "{steps:?}");
        }
        b.reset();
        assert!(b.next_delay(None) <= Duration::from_millis(500));
    }

    #[test]
    fn retry_after_is_honoured() {
        let mut b = Backoff::standard();
        assert_eq!(
            b.next_delay(Some(Duration::from_secs(3))),
            Duration::from_secs(3)
        );
    }
}
