//! How much time a set of intervals covers within any window, in two binary searches: sorted
//! starts and sorted ends with their prefix sums. Overlapping intervals count once each.

/// Intervals `[start, end)`, kept as sorted starts and sorted ends with prefix sums.
#[derive(Debug, Clone, Default)]
pub struct Coverage {
    starts: Vec<i64>,
    /// `start_sums[i]`: the sum of the first `i` starts (i128: sums of µs since the epoch).
    start_sums: Vec<i128>,
    ends: Vec<i64>,
    end_sums: Vec<i128>,
}

fn prefix(v: &[i64]) -> Vec<i128> {
    let mut out = Vec::with_capacity(v.len() + 1);
    let mut sum = 0i128;
    out.push(0);
    for &x in v {
        sum += i128::from(x);
        out.push(sum);
    }
    out
}

impl Coverage {
    pub fn new(intervals: impl Iterator<Item = (i64, i64)>) -> Coverage {
        let (mut starts, mut ends): (Vec<i64>, Vec<i64>) =
            intervals.map(|(s, e)| (s, e.max(s))).unzip();
        starts.sort_unstable();
        ends.sort_unstable();
        Coverage {
            start_sums: prefix(&starts),
            end_sums: prefix(&ends),
            starts,
            ends,
        }
    }

    /// Σ over intervals of their length before `t`: `t − start` for those running at `t`,
    /// the whole length for those ended.
    pub fn before(&self, t: i64) -> i128 {
        let t128 = i128::from(t);
        let i = self.starts.partition_point(|&s| s < t);
        let j = self.ends.partition_point(|&e| e < t);
        (t128 * i as i128 - self.start_sums[i]) - (t128 * j as i128 - self.end_sums[j])
    }

    /// The time (µs) the intervals cover within `[a, b)`, summed over overlapping ones.
    pub fn within(&self, a: i64, b: i64) -> i64 {
        if b <= a || self.starts.is_empty() {
            return 0;
        }
        i64::try_from(self.before(b) - self.before(a)).unwrap_or(i64::MAX)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The same sum, interval by interval.
    fn naive(iv: &[(i64, i64)], a: i64, b: i64) -> i64 {
        iv.iter().map(|&(s, e)| (e.min(b) - s.max(a)).max(0)).sum()
    }

    #[test]
    fn coverage_matches_summing_interval_by_interval() {
        let iv = [
            (0, 10),
            (5, 7),
            (5, 30),
            (12, 12),
            (40, 41),
            (1_786_093_200_000_000, 1_786_093_200_000_500),
        ];
        let c = Coverage::new(iv.iter().copied());
        for a in [-5, 0, 3, 5, 7, 10, 12, 29, 40, 41] {
            for b in [a, a + 1, a + 4, a + 20, 100] {
                assert_eq!(c.within(a, b), naive(&iv, a, b), "[{a}, {b})");
            }
        }
        let far = 1_786_093_200_000_100;
        assert_eq!(c.within(far, far + 1_000), 400);
        assert_eq!(Coverage::default().within(0, 10), 0);
    }
}
