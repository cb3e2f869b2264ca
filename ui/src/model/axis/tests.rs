//! Axis labels: spaced so that none overprints another at any zoom, and saying what they mean.

use super::*;

const S: i64 = 1_786_093_200_000_000;
/// How long the 300,000-event synthetic session runs (29 days 15 hours).
const LONG: i64 = (29 * 24 + 15) * 3_600_000_000;
/// Wider than any glyph of the axis font (11 px): labels measured with it are never narrower
/// than drawn.
fn conservative(text: &str) -> f32 {
    text.chars().count() as f32 * 11.0 * 0.8
}

/// Every pair of neighbours is at least the left label's width (and the gap) apart.
pub(crate) fn assert_spaced(ticks: &[Tick], measure: &impl Fn(&str) -> f32, what: &str) {
    for w in ticks.windows(2) {
        let room = w[1].x - w[0].x;
        let need = LABEL_PAD + measure(&w[0].text) + LABEL_GAP;
        assert!(
            room >= need,
            "{what}: {:?} at {} and {:?} at {} are {room} px apart, {need} needed",
            w[0].text,
            w[0].x,
            w[1].text,
            w[1].x
        );
    }
}

/// Zooms from the whole session down to milliseconds, anchored at `anchor`, calling `f` at
/// each step.
pub(crate) fn sweep(anchor: f64, mut f: impl FnMut(&TimeView)) {
    let mut v = TimeView::fit(S, S + LONG);
    loop {
        f(&v);
        if v.span <= super::super::timeline::MIN_SPAN_US {
            break;
        }
        v.zoom(1.3, anchor);
    }
}

#[test]
fn axis_labels_overprint_at_full_zoom_out_of_a_long_session() {
    // Issue 11 (12): a month-long session at full zoom-out got a label a day, each wider than
    // a day's pixels, so the labels overprinted into an unreadable band.
    for width in [300.0, 780.0, 1_300.0] {
        for anchor in [0.0, 0.5, 0.97] {
            let mut levels = 0;
            sweep(anchor, |v| {
                levels += 1;
                let ticks = ticks(v, width, conservative);
                let what = format!("{width} px, span {} µs, anchor {anchor}", v.span);
                assert_spaced(&ticks, &conservative, &what);
                assert!(ticks.iter().all(|t| (0.0..=width).contains(&t.x)), "{what}");
                if v.span >= 2_000_000.0 && width >= 600.0 {
                    assert!(
                        ticks.len() >= 2,
                        "{what}: the axis says something: {ticks:?}"
                    );
                }
            });
            assert!(levels > 40, "the sweep goes from a month to a millisecond");
        }
    }
}

#[test]
fn labels_name_days_and_are_as_precise_as_the_step() {
    const H: i64 = 3_600_000_000;
    assert_eq!(tick_text(12 * 24 * H, 24 * H), "+12d");
    assert_eq!(tick_text(30 * H, 6 * H), "+1d06h");
    assert_eq!(tick_text(18 * H, 6 * H), "+18h");
    assert_eq!(tick_text(H + 150_000_000, 30_000_000), "+1h02m30s");
    assert_eq!(tick_text(90_000_000, 30_000_000), "+1m30s");
    assert_eq!(tick_text(2_500_000, 500_000), "+2.5s");
    assert_eq!(tick_text(850_000, 50_000), "+850ms");
    assert_eq!(tick_text(-5_000_000, 5_000_000), "-5s");
    assert_eq!(tick_text(0, 24 * H), "+0d");
}
