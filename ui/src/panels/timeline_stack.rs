//! Lanes drawn pixel column by pixel column as stacked layers, bottom up: neighbouring columns
//! whose layer is alike are merged into one quad, and all go into one mesh, so a zoomed-out lane
//! costs a few thousand vertices at most.

use egui::{Color32, Mesh, Painter, Rect, Shape, pos2};

/// A layer's height in whole pixels (so that columns do not shimmer as the view moves) and its
/// colour.
pub type Layer = (f32, Color32);

/// Stacks each column's layers from the bottom of `r` up.
pub fn stack<const K: usize>(p: &Painter, r: Rect, cols: impl Iterator<Item = [Layer; K]>) {
    let mut mesh = Mesh::default();
    // Per layer, the run being extended: (first column, y0, y1, colour).
    let mut open: [Option<(usize, f32, f32, Color32)>; K] = [None; K];
    let flush = |mesh: &mut Mesh, run: Option<(usize, f32, f32, Color32)>, to: usize| {
        if let Some((from, y0, y1, c)) = run {
            let x = |i: usize| r.left() + i as f32;
            mesh.add_colored_rect(Rect::from_min_max(pos2(x(from), y0), pos2(x(to), y1)), c);
        }
    };
    let mut n = 0;
    for (i, layers) in cols.enumerate() {
        n = i + 1;
        let mut y = r.bottom();
        for (k, (px, colour)) in layers.into_iter().enumerate() {
            let px = px.min(y - r.top()).max(0.0);
            let seg = (px > 0.0).then_some((y - px, y, colour));
            y -= px;
            match (open[k], seg) {
                (Some((_, a, b, oc)), Some((sa, sb, sc))) if a == sa && b == sb && oc == sc => {}
                (run, seg) => {
                    flush(&mut mesh, run, i);
                    open[k] = seg.map(|(a, b, c)| (i, a, b, c));
                }
            }
        }
    }
    for run in open {
        flush(&mut mesh, run, n);
    }
    p.add(Shape::mesh(mesh));
}

/// Whole-pixel heights for `shares` of a height `h`, rounded by their running sums so that
/// they add up to the rounded total; a layer marked `at_least_one` that has any share gets a
/// pixel, taken from the tallest layer.
pub fn pixels<const K: usize>(shares: [f32; K], h: f32, at_least_one: [bool; K]) -> [f32; K] {
    let mut out = [0.0; K];
    let (mut sum, mut prev) = (0.0, 0.0);
    for (k, s) in shares.iter().enumerate() {
        sum += s.max(0.0);
        let edge = (sum.min(1.0) * h).round();
        out[k] = edge - prev;
        prev = edge;
    }
    for k in 0..K {
        if at_least_one[k] && shares[k] > 0.0 && out[k] < 1.0 {
            let tallest = (0..K)
                .max_by(|&a, &b| out[a].total_cmp(&out[b]))
                .unwrap_or(k);
            if out[tallest] > 1.0 {
                out[tallest] -= 1.0;
            }
            out[k] = 1.0;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pixels_add_up_and_keep_a_rare_layer_visible() {
        // Rounded one by one, 0.45 + 0.45 + 0.1 of 14 px would leave a pixel empty.
        assert_eq!(pixels([0.45, 0.45, 0.1], 14.0, [false; 3]), [6.0, 7.0, 1.0]);
        // A reschedule of a second in a column of half an hour still shows, as one pixel.
        let px = pixels([0.0005, 0.3, 0.6995], 14.0, [true, false, false]);
        assert_eq!(px, [1.0, 4.0, 9.0]);
        assert_eq!(
            pixels([0.0, 0.2, 0.0], 10.0, [true, false, false]),
            [0.0, 2.0, 0.0]
        );
    }
}
