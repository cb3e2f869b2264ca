//! The timeline's visible window: zoom, pan, and the mapping between time and x. Plain state,
//! tested without egui; times are µs since the epoch, positions are fractions of the width.

/// The narrowest window: one millisecond across the whole width.
pub const MIN_SPAN_US: f64 = 1_000.0;

/// The visible window over a recording.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TimeView {
    /// The recording's first and last processed times (µs).
    pub start: i64,
    pub end: i64,
    /// The time at the left edge, as an offset from `start` (µs).
    pub left: f64,
    /// The time across the whole width (µs).
    pub span: f64,
}

impl TimeView {
    /// A view showing the whole recording, with a little margin.
    pub fn fit(start: i64, end: i64) -> TimeView {
        let mut v = TimeView {
            start,
            end: end.max(start),
            left: 0.0,
            span: 1.0,
        };
        v.show_all();
        v
    }

    fn total(&self) -> f64 {
        ((self.end - self.start) as f64).max(MIN_SPAN_US)
    }

    pub fn show_all(&mut self) {
        let total = self.total();
        self.span = total * 1.04;
        self.left = -total * 0.02;
    }

    /// The time (µs since the epoch) at fraction `f` of the width.
    pub fn time_at(&self, f: f64) -> i64 {
        self.start + (self.left + f * self.span).round() as i64
    }

    /// The fraction of the width where time `t` is.
    pub fn frac_of(&self, t: i64) -> f64 {
        ((t - self.start) as f64 - self.left) / self.span
    }

    /// The left edge as µs since the epoch.
    pub fn left_time(&self) -> i64 {
        self.time_at(0.0)
    }

    /// µs per column when the width is split into `columns`.
    pub fn per_column(&self, columns: usize) -> f64 {
        self.span / columns.max(1) as f64
    }

    /// Zooms by `factor` (> 1 zooms in) keeping the time under fraction `anchor` in place.
    pub fn zoom(&mut self, factor: f64, anchor: f64) {
        if !(factor.is_finite() && factor > 0.0) {
            return;
        }
        let pinned = self.left + anchor * self.span;
        self.span = (self.span / factor).clamp(MIN_SPAN_US, self.total() * 1.5);
        self.left = pinned - anchor * self.span;
        self.clamp();
    }

    /// Moves the window by `f` widths (positive: later).
    pub fn pan(&mut self, f: f64) {
        if f.is_finite() {
            self.left += f * self.span;
            self.clamp();
        }
    }

    /// Moves the window so that `t` is visible, keeping the zoom; a time already in view stays
    /// where it is, one outside it lands a tenth in from the edge it left by.
    pub fn follow(&mut self, t: i64) {
        let f = self.frac_of(t);
        if f > 0.95 {
            self.left += (f - 0.9) * self.span;
        } else if f < 0.0 {
            self.left += (f - 0.1) * self.span;
        }
        self.clamp();
    }

    /// Centers the window on `t`.
    pub fn center_on(&mut self, t: i64) {
        self.left = (t - self.start) as f64 - self.span / 2.0;
        self.clamp();
    }

    /// Keeps some of the recording in view.
    fn clamp(&mut self) {
        let total = self.total();
        let margin = self.span * 0.5;
        self.left = self.left.clamp(-margin, total - self.span + margin);
    }

    /// A tick step (µs) giving about `n` ticks across the width: 1, 2 or 5 times a power of ten
    /// of milliseconds, or whole seconds, minutes and hours.
    pub fn tick_step(&self, n: f64) -> i64 {
        let raw = self.span / n.max(1.0);
        const STEPS: &[i64] = &[
            1_000,
            2_000,
            5_000,
            10_000,
            20_000,
            50_000,
            100_000,
            200_000,
            500_000,
            1_000_000,
            2_000_000,
            5_000_000,
            10_000_000,
            15_000_000,
            30_000_000,
            60_000_000,
            120_000_000,
            300_000_000,
            600_000_000,
            900_000_000,
            1_800_000_000,
            3_600_000_000,
            7_200_000_000,
            21_600_000_000,
            43_200_000_000,
            86_400_000_000,
        ];
        STEPS
            .iter()
            .copied()
            .find(|&s| s as f64 >= raw)
            .unwrap_or(86_400_000_000)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: i64 = 1_000_000_000;

    #[test]
    fn fit_shows_everything_with_margins() {
        let v = TimeView::fit(S, S + 100_000_000);
        assert!(v.frac_of(S) > 0.0 && v.frac_of(S) < 0.05);
        let end = v.frac_of(S + 100_000_000);
        assert!(end < 1.0 && end > 0.95);
        assert_eq!(v.time_at(v.frac_of(S + 5_000_000)), S + 5_000_000);
    }

    #[test]
    fn zoom_keeps_the_anchor_in_place() {
        let mut v = TimeView::fit(S, S + 100_000_000);
        let anchor = 0.3;
        let t = v.time_at(anchor);
        v.zoom(4.0, anchor);
        assert!((v.span - 104_000_000.0 / 4.0).abs() < 1.0);
        assert!((v.time_at(anchor) - t).abs() <= 1);
        // Zooming in without end stops at a millisecond across.
        for _ in 0..100 {
            v.zoom(10.0, 0.5);
        }
        assert_eq!(v.span, MIN_SPAN_US);
        // And out, at one and a half recordings.
        for _ in 0..100 {
            v.zoom(0.1, 0.5);
        }
        assert_eq!(v.span, 150_000_000.0);
        v.zoom(f64::NAN, 0.5);
        assert_eq!(v.span, 150_000_000.0);
    }

    #[test]
    fn pan_moves_by_widths_and_stays_near_the_recording() {
        let mut v = TimeView::fit(S, S + 100_000_000);
        v.zoom(10.0, 0.0);
        let left = v.left_time();
        v.pan(0.5);
        assert_eq!(v.left_time() - left, (v.span * 0.5).round() as i64);
        v.pan(1000.0);
        // Half a window past the end at most.
        assert!(v.frac_of(S + 100_000_000) >= 0.5 - 1e-9);
        v.pan(-1000.0);
        assert!(v.frac_of(S) <= 0.5 + 1e-9);
    }

    #[test]
    fn follow_brings_a_time_into_view() {
        let mut v = TimeView::fit(S, S + 100_000_000);
        v.zoom(10.0, 0.0);
        let t = S + 50_000_000;
        assert!(v.frac_of(t) > 1.0);
        v.follow(t);
        assert!((v.frac_of(t) - 0.9).abs() < 1e-6);
        let before = v;
        v.follow(t - 1_000_000);
        assert_eq!(v, before, "a visible time does not move the view");
        v.center_on(S + 20_000_000);
        assert!((v.frac_of(S + 20_000_000) - 0.5).abs() < 1e-6);
    }

    #[test]
    fn ticks_are_round() {
        let v = TimeView::fit(S, S + 60_000_000);
        assert_eq!(v.tick_step(10.0), 10_000_000);
    }
}
