//! Arrival-to-commit latencies of stream frames.

/// Arrival-to-commit latencies, log-linear: 8 buckets per power of two of microseconds, so a
/// quantile is known to within 12.5 %.
#[derive(Debug, Clone, PartialEq)]
pub struct LatencyHistogram {
    buckets: Vec<u64>,
    pub count: u64,
}

const SUB: u32 = 8;

impl Default for LatencyHistogram {
    fn default() -> Self {
        LatencyHistogram {
            buckets: vec![0; (64 * SUB) as usize],
            count: 0,
        }
    }
}

impl LatencyHistogram {
    fn index(micros: u64) -> usize {
        if micros < u64::from(SUB) {
            return micros as usize;
        }
        let octave = 63 - micros.leading_zeros(); // >= 3
        let sub = (micros >> (octave - 3)) & u64::from(SUB - 1);
        (octave * SUB + sub as u32) as usize - (3 * SUB - SUB) as usize
    }

    /// The largest value that lands in bucket `i`.
    fn upper(i: usize) -> u64 {
        if i < SUB as usize {
            return i as u64;
        }
        let i = i + (2 * SUB) as usize;
        let octave = (i as u32) / SUB;
        let sub = u64::from((i as u32) % SUB);
        ((SUB as u64 + sub + 1) << (octave - 3)) - 1
    }

    pub fn record(&mut self, micros: u64) {
        let i = Self::index(micros).min(self.buckets.len() - 1);
        self.buckets[i] += 1;
        self.count += 1;
    }

    /// An upper bound for quantile `q` (0..1), in microseconds.
    pub fn quantile_micros(&self, q: f64) -> Option<u64> {
        if self.count == 0 {
            return None;
        }
        let target = ((self.count as f64) * q).ceil().max(1.0) as u64;
        let mut seen = 0;
        for (i, n) in self.buckets.iter().enumerate() {
            seen += n;
            if seen >= target {
                return Some(Self::upper(i));
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::LatencyHistogram;

    #[test]
    fn buckets_bound_their_values_within_an_eighth() {
        for v in [
            0u64, 1, 7, 8, 9, 15, 16, 100, 999, 1000, 8191, 9000, 123_456, 10_000_000,
        ] {
            let i = LatencyHistogram::index(v);
            let hi = LatencyHistogram::upper(i);
            assert!(hi >= v, "{v} -> bucket {i} upper {hi}");
            assert!(hi as f64 <= (v as f64) * 1.125 + 1.0, "{v} -> {hi}");
        }
    }

    #[test]
    fn quantiles() {
        let mut h = LatencyHistogram::default();
        for v in 1..=1000u64 {
            h.record(v * 10);
        }
        let p99 = h.quantile_micros(0.99).unwrap();
        assert!((9900..=11_200).contains(&p99), "{p99}");
        assert_eq!(LatencyHistogram::default().quantile_micros(0.5), None);
    }
}
