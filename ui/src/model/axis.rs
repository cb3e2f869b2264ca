//! The time axis: which ticks to label and what the labels say, as offsets from the start of the
//! recording. Laid out here, without egui, so that tests can check that labels never overprint;
//! the panel passes the width of a text as its font measures it.

use super::timeline::TimeView;

/// Labels are drawn this far right of their tick (px).
pub const LABEL_PAD: f32 = 3.0;
/// The least room between the end of a label and the next tick (px).
pub const LABEL_GAP: f32 = 8.0;

/// A labelled tick: its time, where it is (px from the plot's left edge) and its label.
#[derive(Debug, Clone, PartialEq)]
pub struct Tick {
    pub t: i64,
    pub x: f32,
    pub text: String,
}

const MS: i64 = 1_000;
const SEC: i64 = 1_000_000;
const MIN: i64 = 60 * SEC;
const HOUR: i64 = 60 * MIN;
const DAY: i64 = 24 * HOUR;

/// Round tick steps (µs): 1, 2 and 5 times powers of ten of milliseconds, then whole seconds,
/// minutes, hours, days, weeks and months (30 days); then years (365 days), 1, 2 and 5 times powers of ten, without end.
fn steps() -> impl Iterator<Item = i64> {
    const TABLE: &[i64] = &[
        MS,
        2 * MS,
        5 * MS,
        10 * MS,
        20 * MS,
        50 * MS,
        100 * MS,
        200 * MS,
        500 * MS,
        SEC,
        2 * SEC,
        5 * SEC,
        10 * SEC,
        15 * SEC,
        30 * SEC,
        MIN,
        2 * MIN,
        5 * MIN,
        10 * MIN,
        15 * MIN,
        30 * MIN,
        HOUR,
        2 * HOUR,
        3 * HOUR,
        6 * HOUR,
        12 * HOUR,
        DAY,
        2 * DAY,
        7 * DAY,
        14 * DAY,
        30 * DAY,
        60 * DAY,
        90 * DAY,
        180 * DAY,
    ];
    let years = (0u32..).map_while(|k| {
        10i64
            .checked_pow(k / 3)
            .and_then(|p| p.checked_mul([1, 2, 5][(k % 3) as usize] * 365 * DAY))
    });
    TABLE.iter().copied().chain(years)
}

/// The ticks at multiples of `step` (from the start of the recording) within the view.
fn at_step(view: &TimeView, width: f32, step: i64) -> Vec<Tick> {
    let (first, last) = (view.left_time(), view.time_at(1.0));
    let mut out = Vec::new();
    let mut t = view.start + (first - view.start).div_euclid(step) * step;
    if t < first {
        t += step;
    }
    while t <= last {
        out.push(Tick {
            t,
            x: (view.frac_of(t) as f32 * width).clamp(0.0, width),
            text: tick_text(t - view.start, step),
        });
        t += step;
    }
    out
}

/// The ticks across a plot `width` px wide, `measure` giving a label's width in px: the finest
/// round step at which every label ends, with a gap, before the next tick. A frame measures a
/// few dozen labels at most: steps too fine for even the shortest label are skipped unmeasured.
pub fn ticks(view: &TimeView, width: f32, measure: impl Fn(&str) -> f32) -> Vec<Tick> {
    if !(width > 0.0 && view.span > 0.0) {
        return Vec::new();
    }
    let px_per_us = f64::from(width) / view.span;
    let least = f64::from(LABEL_PAD + measure("+0s") + LABEL_GAP);
    for step in steps() {
        if (step as f64) * px_per_us < least {
            continue;
        }
        let ticks = at_step(view, width, step);
        let fits = ticks
            .windows(2)
            .all(|w| w[1].x - w[0].x >= LABEL_PAD + measure(&w[0].text) + LABEL_GAP);
        if fits {
            return ticks;
        }
    }
    Vec::new()
}

/// A tick label, an offset from the start of the recording: `+12d`, `+1d06h`, `+1h02m30s`,
/// `+2.5s`, `+850ms`; from its largest unit down to the one the step needs.
pub fn tick_text(signed: i64, step: i64) -> String {
    let sign = if signed < 0 { "-" } else { "+" };
    let d = i64::try_from(signed.unsigned_abs()).unwrap_or(i64::MAX);
    if d < SEC && step < SEC {
        return format!("{sign}{}ms", d / MS);
    }
    let values = [d / DAY, d / HOUR % 24, d / MIN % 60, d / SEC % 60];
    let fine = [DAY, HOUR, MIN]
        .iter()
        .position(|&u| step % u == 0)
        .unwrap_or(3);
    let coarse = (0..fine).find(|&i| values[i] > 0).unwrap_or(fine);
    let mut out = sign.to_string();
    for (i, v) in values.iter().enumerate().take(fine + 1).skip(coarse) {
        let v = if i == coarse {
            v.to_string()
        } else {
            format!("{v:02}")
        };
        out.push_str(&v);
        if i < 3 {
            out.push_str(["d", "h", "m"][i]);
        }
    }
    if fine == 3 {
        // Seconds, with as many decimals as the step has.
        let ms = d / MS % 1000;
        match [SEC, 100 * MS, 10 * MS].iter().position(|&u| step % u == 0) {
            Some(0) => {}
            Some(1) => out.push_str(&format!(".{}", ms / 100)),
            Some(_) => out.push_str(&format!(".{:02}", ms / 10)),
            None => out.push_str(&format!(".{ms:03}")),
        }
        out.push('s');
    }
    out
}

#[cfg(test)]
pub(crate) mod tests;
