//! The timeline's lanes in compact form, and their aggregation per pixel column: status bands
//! (session, each thread), bars (model requests, tools, permission waits, evaluations and
//! workflow runs) and markers (messages, errors).
//!
//! Every query here is a few binary searches per column, so drawing a lane costs
//! O(columns · log events) whatever the zoom: a million-event session draws as fast as a small one.

use flightrec::analysis::SpanKind;

mod coverage;
pub use coverage::Coverage;

/// Bar flags.
pub const BAR_ERROR: u8 = 1;
/// The span had not closed by the end of the recording; it is drawn to the end.
pub const BAR_OPEN: u8 = 2;
/// The span is the session waiting on someone else: a permission asked of the user, a custom
/// tool the client runs.
pub const BAR_WAITING: u8 = 4;

/// No event position (the span's opening event is not indexed).
pub const NO_POS: u32 = u32::MAX;

/// What a band says about the session or a thread.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Status {
    Created,
    Running,
    Idle,
    Rescheduling,
    Terminated,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Created => "created",
            Status::Running => "running",
            Status::Idle => "idle",
            Status::Rescheduling => "rescheduling",
            Status::Terminated => "terminated",
        }
    }
}

/// A lane of consecutive states: band `i` lasts from `starts[i]` to `starts[i + 1]` (the last
/// to the end of the recording).
#[derive(Debug, Clone, Default)]
pub struct BandLane {
    pub label: String,
    pub starts: Vec<i64>,
    pub states: Vec<Status>,
    /// The stop reason of idles (an index into [`Lanes::names`], 0 for none).
    pub reasons: Vec<u32>,
    /// Position of the event that began the band.
    pub pos: Vec<u32>,
    /// `cum[i]`: the time spent in each state (by [`Status`] order) over the bands before `i`.
    cum: Vec<[i64; STATES]>,
}

/// How many [`Status`] values there are.
pub const STATES: usize = 5;

impl BandLane {
    pub fn push(&mut self, start: i64, state: Status, reason: u32, pos: u32) {
        let mut cum = self.cum.last().copied().unwrap_or_default();
        if let (Some(&prev), Some(&s)) = (self.starts.last(), self.states.last()) {
            cum[s as usize] += (start - prev).max(0);
        }
        self.cum.push(cum);
        self.starts.push(start);
        self.states.push(state);
        self.reasons.push(reason);
        self.pos.push(pos);
    }

    /// The band covering time `t`.
    pub fn at(&self, t: i64) -> Option<usize> {
        self.starts.partition_point(|&s| s <= t).checked_sub(1)
    }

    /// The time spent in each state before `t` (bands run to `end`).
    fn time_before(&self, t: i64, end: i64) -> [i64; STATES] {
        let t = t.min(end);
        match self.at(t) {
            None => [0; STATES],
            Some(k) => {
                let mut c = self.cum[k];
                c[self.states[k] as usize] += (t - self.starts[k]).max(0);
                c
            }
        }
    }

    /// Per column of width `w` µs from `t0`, the share of its time in each state (by
    /// [`Status`] order; none before the first band or after `end`): two binary searches a
    /// column, whatever the number of bands in it.
    pub fn shares(&self, t0: i64, w: f64, n: usize, end: i64) -> Vec<[f32; STATES]> {
        let mut edge = (i64::MIN, [0; STATES]);
        (0..n)
            .map(|i| {
                let (a, b) = column(t0, w, i);
                let before = if edge.0 == a {
                    edge.1
                } else {
                    self.time_before(a, end)
                };
                let after = self.time_before(b, end);
                edge = (b, after);
                let width = (b - a) as f32;
                std::array::from_fn(|s| (after[s] - before[s]) as f32 / width)
            })
            .collect()
    }
}

/// One span, drawn as a bar.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Bar {
    pub start: i64,
    pub end: i64,
    /// Index into [`Lanes::names`].
    pub name: u32,
    pub kind: SpanKind,
    pub flags: u8,
    /// Sub-row, so that overlapping bars (parallel tool calls) do not hide each other.
    pub row: u8,
    /// Position of the opening event, or [`NO_POS`].
    pub pos: u32,
    /// Input, output and cache-read tokens (model requests, evaluations).
    pub tokens: [u32; 3],
}

impl Bar {
    pub fn is(&self, flag: u8) -> bool {
        self.flags & flag != 0
    }
}

/// What one pixel column of a bar lane holds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct BarColumn {
    /// The column's time (µs).
    pub width_us: i64,
    /// Time covered by bars within the column, summed over overlapping ones (µs); of it,
    /// by failed bars, and by bars waiting on someone (not failed).
    pub busy_us: i64,
    pub error_us: i64,
    pub wait_us: i64,
    /// Bars starting in the column.
    pub count: u32,
    /// Of those, failed ones.
    pub errors: u32,
    /// Some bar overlaps the column (started here or earlier and still running).
    pub covered: bool,
    /// A bar overlapping the column, for its colour.
    pub sample: Option<u32>,
}

/// What share of a column's height each part takes, as drawn (fractions, summing to at most 1).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Fill {
    pub error: f32,
    pub busy: f32,
    pub waiting: f32,
}

impl Fill {
    pub fn total(&self) -> f32 {
        self.error + self.busy + self.waiting
    }

    /// The failed part of what the column shows (0 when it shows nothing).
    pub fn error_share(&self) -> f32 {
        let total = self.total();
        if total > 0.0 { self.error / total } else { 0.0 }
    }

    fn scaled(self, k: f32) -> Fill {
        // Never past the full height.
        let k = k.min(1.0 / self.total().max(f32::MIN_POSITIVE));
        Fill {
            error: self.error * k,
            busy: self.busy * k,
            waiting: self.waiting * k,
        }
    }
}

/// The fills of a lane's columns, as heights: on a long session bars cover a small share of
/// each column's time, so heights are scaled for the busiest columns in view (the 95th
/// percentile of those holding anything) to fill the lane. The shares within each column, and
/// so the failed share, are unchanged.
pub fn fills(cols: &[BarColumn]) -> Vec<Fill> {
    let raw: Vec<Fill> = cols.iter().map(BarColumn::fill).collect();
    match p95(raw.iter().map(Fill::total)) {
        Some(top) => raw.into_iter().map(|f| f.scaled(1.0 / top)).collect(),
        None => raw,
    }
}

/// The 95th percentile of the positive values, if any (a selection: linear in their number).
fn p95(values: impl Iterator<Item = f32>) -> Option<f32> {
    let mut v: Vec<f32> = values.filter(|&x| x > 0.0).collect();
    let k = v.len().checked_sub(1)? * 95 / 100;
    let (_, &mut top, _) = v.select_nth_unstable_by(k, f32::total_cmp);
    Some(top)
}

/// A marker lane's columns as heights (fractions of the lane): how many markers each holds,
/// scaled so that the busiest columns in view (the 95th percentile) fill the lane, so that a
/// column with one error does not look like one with fifty.
pub fn densities(cols: &[(u32, Option<MarkerKind>)]) -> Vec<f32> {
    let top = p95(cols.iter().map(|c| c.0 as f32)).unwrap_or(1.0);
    cols.iter().map(|c| (c.0 as f32 / top).min(1.0)).collect()
}

impl BarColumn {
    /// The column as drawn: the shares of its time spent in failed bars, in bars working and in
    /// bars waiting. Overlapping bars can cover more than the column's time; then the three
    /// shares are scaled to fill it.
    pub fn fill(&self) -> Fill {
        let total = self.width_us.max(self.busy_us).max(1) as f64;
        let share = |us: i64| (us.max(0) as f64 / total) as f32;
        Fill {
            error: share(self.error_us),
            busy: share(self.busy_us - self.error_us - self.wait_us),
            waiting: share(self.wait_us),
        }
    }
}

/// Bars sorted by start, with prefix sums for the per-column queries.
#[derive(Debug, Clone, Default)]
pub struct BarLane {
    pub label: String,
    pub bars: Vec<Bar>,
    /// `err_prefix[i]`: failed bars among the first `i`.
    err_prefix: Vec<u32>,
    /// `max_end[i]`: the latest end among the first `i + 1` bars.
    max_end: Vec<i64>,
    /// Bars longer than `long_us`, checked apart when drawing bar by bar.
    long: Vec<u32>,
    long_us: i64,
    /// Time covered by all bars, by failed ones, by waiting ones that did not fail.
    all: Coverage,
    failed: Coverage,
    waiting: Coverage,
    /// How many sub-rows the bars use.
    pub rows: u8,
}

/// The most sub-rows a lane splits into.
const MAX_ROWS: u8 = 3;

impl BarLane {
    /// Sorts the bars, assigns sub-rows and builds the prefix tables.
    pub fn new(label: &str, mut bars: Vec<Bar>, total_us: i64) -> BarLane {
        bars.sort_by_key(|b| (b.start, b.end));
        let mut row_ends = [i64::MIN; MAX_ROWS as usize];
        let mut rows = 1;
        for b in &mut bars {
            let r = row_ends.iter().position(|&e| e <= b.start).unwrap_or(0);
            row_ends[r] = b.end.max(b.start + 1);
            b.row = r as u8;
            rows = rows.max(r as u8 + 1);
        }
        let mut err_prefix = Vec::with_capacity(bars.len() + 1);
        let mut max_end = Vec::with_capacity(bars.len());
        let (mut errs, mut latest) = (0u32, i64::MIN);
        err_prefix.push(0);
        for b in &bars {
            errs += u32::from(b.is(BAR_ERROR));
            latest = latest.max(b.end);
            err_prefix.push(errs);
            max_end.push(latest);
        }
        let long_us = (total_us / 200).max(1);
        let long = (0..bars.len())
            .filter(|&i| bars[i].end - bars[i].start > long_us)
            .map(|i| i as u32)
            .collect();
        let span = |b: &Bar| (b.start, b.end);
        let all = Coverage::new(bars.iter().map(span));
        let failed = Coverage::new(bars.iter().filter(|b| b.is(BAR_ERROR)).map(span));
        let waiting = Coverage::new(
            bars.iter()
                .filter(|b| b.is(BAR_WAITING) && !b.is(BAR_ERROR))
                .map(span),
        );
        BarLane {
            label: label.to_string(),
            all,
            failed,
            waiting,
            bars,
            err_prefix,
            max_end,
            long,
            long_us,
            rows,
        }
    }

    fn first_starting_at(&self, t: i64) -> usize {
        self.bars.partition_point(|b| b.start < t)
    }

    /// How many bars start within `[t0, t1)`.
    pub fn count_starting(&self, t0: i64, t1: i64) -> usize {
        self.first_starting_at(t1)
            .saturating_sub(self.first_starting_at(t0))
    }

    /// Per-column aggregates for `n` columns of width `w` µs from `t0`.
    pub fn columns(&self, t0: i64, w: f64, n: usize) -> Vec<BarColumn> {
        let mut out = Vec::with_capacity(n);
        let mut j = self.first_starting_at(t0);
        // Time covered before the column's left edge, carried over from the previous column.
        let covers = [&self.all, &self.failed, &self.waiting];
        let mut edge = (i64::MIN, [0i128; 3]);
        for i in 0..n {
            let (a, b) = column(t0, w, i);
            let left = if edge.0 == a {
                edge.1
            } else {
                covers.map(|c| c.before(a))
            };
            let right = covers.map(|c| c.before(b));
            edge = (b, right);
            let time = |k: usize| i64::try_from(right[k] - left[k]).unwrap_or(i64::MAX);
            let k = j + self.bars[j..].partition_point(|x| x.start < b);
            let covered = (k > 0 && self.max_end[k - 1] > a) || k > j;
            let sample = if k > j {
                Some(j as u32)
            } else if covered {
                // The latest-starting bar that reaches into the column, else any that does.
                let last = k - 1;
                if self.bars[last].end > a {
                    Some(last as u32)
                } else {
                    self.long
                        .iter()
                        .rev()
                        .find(|&&l| (l as usize) < k && self.bars[l as usize].end > a)
                        .copied()
                }
            } else {
                None
            };
            out.push(BarColumn {
                width_us: b - a,
                busy_us: time(0),
                error_us: time(1),
                wait_us: time(2),
                count: (k - j) as u32,
                errors: self.err_prefix[k] - self.err_prefix[j],
                covered,
                sample,
            });
            j = k;
        }
        out
    }

    /// The bars overlapping `[t0, t1)`, in start order: for drawing one by one when few are.
    pub fn overlapping(&self, t0: i64, t1: i64) -> Vec<usize> {
        let lo = self.first_starting_at(t0.saturating_sub(self.long_us));
        let hi = self.first_starting_at(t1);
        let mut out: Vec<usize> = self
            .long
            .iter()
            .map(|&l| l as usize)
            .filter(|&l| l < lo && self.bars[l].end >= t0)
            .collect();
        out.extend((lo..hi).filter(|&i| self.bars[i].end >= t0));
        out
    }

    /// The bar under time `t` in sub-row `row`, among `candidates`.
    pub fn hit(&self, candidates: &[usize], t: i64, slack: i64, row: u8) -> Option<usize> {
        candidates.iter().rev().copied().find(|&i| {
            let b = &self.bars[i];
            b.row == row && b.start - slack <= t && t <= b.end.max(b.start) + slack
        })
    }
}

/// What a marker stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum MarkerKind {
    User,
    Agent,
    ThreadMessage,
    Error,
}

/// Point events at their times.
#[derive(Debug, Clone, Default)]
pub struct MarkerLane {
    pub label: String,
    pub ts: Vec<i64>,
    pub kinds: Vec<MarkerKind>,
    pub pos: Vec<u32>,
}

impl MarkerLane {
    pub fn push(&mut self, ts: i64, kind: MarkerKind, pos: u32) {
        self.ts.push(ts);
        self.kinds.push(kind);
        self.pos.push(pos);
    }

    pub fn range(&self, t0: i64, t1: i64) -> std::ops::Range<usize> {
        self.ts.partition_point(|&t| t < t0)..self.ts.partition_point(|&t| t < t1)
    }

    /// Per column: how many markers, and the kind of the last one.
    pub fn columns(&self, t0: i64, w: f64, n: usize) -> Vec<(u32, Option<MarkerKind>)> {
        let mut j = self.ts.partition_point(|&t| t < t0);
        (0..n)
            .map(|i| {
                let (_, b) = column(t0, w, i);
                let k = j + self.ts[j..].partition_point(|&t| t < b);
                let cell = ((k - j) as u32, (k > j).then(|| self.kinds[k - 1]));
                j = k;
                cell
            })
            .collect()
    }
}

/// All the lanes of a session.
#[derive(Debug, Clone, Default)]
pub struct Lanes {
    pub session: BandLane,
    pub threads: Vec<BandLane>,
    /// The thread id of each entry of `threads`.
    pub thread_ids: Vec<String>,
    pub model: BarLane,
    pub tools: BarLane,
    pub waits: BarLane,
    pub work: BarLane,
    pub messages: MarkerLane,
    pub errors: MarkerLane,
    /// Interned names (tool names, stop reasons); entry 0 is "".
    pub names: Vec<String>,
    /// The end of the recording (µs).
    pub end: i64,
}

impl Lanes {
    pub fn name(&self, id: u32) -> &str {
        self.names.get(id as usize).map_or("", String::as_str)
    }
}

/// The bounds of column `i`: `[a, b)`.
fn column(t0: i64, w: f64, i: usize) -> (i64, i64) {
    let a = t0.saturating_add((i as f64 * w) as i64);
    let b = t0.saturating_add(((i + 1) as f64 * w) as i64).max(a + 1);
    (a, b)
}

#[cfg(test)]
mod tests;
