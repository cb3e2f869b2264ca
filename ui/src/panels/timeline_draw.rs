//! Painting one lane. With few items in view each is drawn (names, open-span marks); with
//! many, the lane is drawn per pixel column from the view-model's aggregates, so a frame's cost
//! depends on the width, not on the number of events.

use egui::{Align2, Color32, FontId, Painter, Pos2, Rect, Stroke, pos2};
use flightrec::model::time::format_duration_micros;

use super::offset_text;
use super::timeline_stack::{pixels, stack};
use crate::model::index::EventIndex;
use crate::model::lanes::{
    self, BAR_ERROR, BAR_OPEN, BandLane, BarLane, Lanes, MarkerLane, NO_POS, STATES, Status,
};
use crate::model::timeline::TimeView;
use crate::theme;

const BAND_HEIGHT: f32 = 18.0;
const ROW_HEIGHT: f32 = 15.0;
const MARKER_HEIGHT: f32 = 18.0;
/// Draw items one by one while at most one per this many pixels is in view.
const PIXELS_PER_ITEM: f32 = 4.0;

pub enum Lane<'a> {
    Band(&'a BandLane),
    Bars(&'a BarLane),
    Markers(&'a MarkerLane),
}

impl Lane<'_> {
    pub fn height(&self) -> f32 {
        match self {
            Lane::Band(_) => BAND_HEIGHT,
            Lane::Bars(b) => f32::from(b.rows.max(1)) * ROW_HEIGHT + 2.0,
            Lane::Markers(_) => MARKER_HEIGHT,
        }
    }

    pub fn label(&self) -> &str {
        match self {
            Lane::Band(b) => &b.label,
            Lane::Bars(b) => &b.label,
            Lane::Markers(m) => &m.label,
        }
    }
}

/// What is under the pointer: tooltip lines, and the event a click goes to.
pub struct Hover {
    pub lines: Vec<String>,
    pub pos: Option<u32>,
}

/// The plot area and what it shows.
pub struct Plot<'a> {
    pub rect: Rect,
    pub view: &'a TimeView,
    pub lanes: &'a Lanes,
    pub index: &'a EventIndex,
    pub origin: i64,
}

impl Plot<'_> {
    pub fn x_of(&self, t: i64) -> f32 {
        self.rect.left() + (self.view.frac_of(t) as f32) * self.rect.width()
    }

    fn columns(&self) -> usize {
        self.rect.width().max(1.0).ceil() as usize
    }

    fn time_at_x(&self, x: f32) -> i64 {
        let f = f64::from((x - self.rect.left()) / self.rect.width().max(1.0));
        self.view.time_at(f)
    }

    fn type_of(&self, pos: u32) -> String {
        self.index
            .events
            .get(pos as usize)
            .map(|e| self.index.type_name(e).to_string())
            .unwrap_or_default()
    }
}

pub fn draw_lane(
    p: &Painter,
    plot: &Plot<'_>,
    lane: &Lane<'_>,
    r: Rect,
    over: Option<Pos2>,
) -> Option<Hover> {
    match lane {
        Lane::Band(b) => band(p, plot, b, r, over),
        Lane::Bars(b) => bars(p, plot, b, r, over),
        Lane::Markers(m) => markers(p, plot, m, r, over),
    }
}

fn band(p: &Painter, plot: &Plot<'_>, b: &BandLane, r: Rect, over: Option<Pos2>) -> Option<Hover> {
    let n = plot.columns();
    let w = plot.view.per_column(n);
    // Each state takes its share of the column's time, bottom up: terminated and rescheduling
    // (at least a pixel when there), running, idle, created.
    let order = [
        Status::Terminated,
        Status::Rescheduling,
        Status::Running,
        Status::Idle,
        Status::Created,
    ];
    let inner = Rect::from_min_max(
        pos2(r.left(), r.top() + 2.0),
        pos2(r.right(), r.bottom() - 2.0),
    );
    let h = inner.height();
    let cols = b.shares(plot.view.left_time(), w, n, plot.lanes.end);
    stack(
        p,
        inner,
        cols.iter().map(|c| {
            let px = pixels(
                order.map(|s| c[s as usize]),
                h,
                [true, true, false, false, false],
            );
            std::array::from_fn::<_, STATES, _>(|k| (px[k], theme::status(order[k])))
        }),
    );
    let x = over?.x;
    let i = b.at(plot.time_at_x(x))?;
    let t = plot.time_at_x(x);
    if t > plot.lanes.end {
        return None;
    }
    let until = b.starts.get(i + 1).copied().unwrap_or(plot.lanes.end);
    let mut head = format!("{}: {}", b.label, b.states[i].as_str());
    let reason = plot.lanes.name(b.reasons[i]);
    if !reason.is_empty() {
        head.push_str(&format!(" ({reason})"));
    }
    Some(Hover {
        lines: vec![
            head,
            format!(
                "from {} for {}",
                offset_text(b.starts[i], plot.origin),
                format_duration_micros(until - b.starts[i])
            ),
        ],
        pos: Some(b.pos[i]),
    })
}

fn bar_color(plot: &Plot<'_>, lane: &BarLane, i: usize) -> Color32 {
    let b = &lane.bars[i];
    if b.is(BAR_ERROR) {
        theme::ERROR
    } else {
        theme::bar(b.kind, plot.lanes.name(b.name))
    }
}

fn bars(
    p: &Painter,
    plot: &Plot<'_>,
    lane: &BarLane,
    r: Rect,
    over: Option<Pos2>,
) -> Option<Hover> {
    let n = plot.columns();
    let (t0, t1) = (plot.view.left_time(), plot.view.time_at(1.0));
    let few = (lane.count_starting(t0, t1) as f32) * PIXELS_PER_ITEM <= r.width();
    if !few {
        // Aggregated: each column stacks (bottom up; failed at least a pixel when a bar failed,
        // some bar at least a pixel) the shares of its time in failed bars, in working bars
        // and in waiting ones, so that a lane where a few calls failed shows a little red.
        let cols = lane.columns(t0, plot.view.per_column(n), n);
        let inner = r.shrink2(egui::vec2(0.0, 1.0));
        stack(
            p,
            inner,
            cols.iter().zip(lanes::fills(&cols)).map(|(c, f)| {
                let busy = c.sample.map_or(theme::WAITING, |s| {
                    theme::bar_aggregate(lane.bars[s as usize].kind)
                });
                let busy = if c.count > 0 {
                    busy
                } else {
                    busy.gamma_multiply(0.6)
                };
                let mut px = pixels(
                    [f.error, f.busy, f.waiting],
                    inner.height(),
                    [c.errors > 0, false, false],
                );
                if (c.covered || c.count > 0) && px.iter().sum::<f32>() < 1.0 {
                    px[1] = 1.0;
                }
                [
                    (px[0], theme::ERROR),
                    (px[1], busy),
                    (px[2], theme::WAITING),
                ]
            }),
        );
        let x = over?.x;
        let col = ((x - r.left()).max(0.0) as usize).min(n.saturating_sub(1));
        let c = cols.get(col)?;
        let pos = c
            .sample
            .map(|s| lane.bars[s as usize].pos)
            .filter(|&p| p != NO_POS);
        let f = c.fill();
        let pct = |x: f32| (x * 100.0).round();
        let failed = if c.count > 0 {
            format!(" ({}%)", pct(c.errors as f32 / c.count as f32))
        } else {
            String::new()
        };
        return Some(Hover {
            lines: vec![
                format!("{}: {} starting here", lane.label, c.count),
                format!("{} failed{failed}", c.errors),
                format!(
                    "of this column's time: {}% working, {}% waiting, {}% failed",
                    pct(f.busy),
                    pct(f.waiting),
                    pct(f.error)
                ),
                "zoom in for details".into(),
            ],
            pos,
        });
    }
    let visible = lane.overlapping(t0, t1);
    for &i in &visible {
        let b = &lane.bars[i];
        let x0 = plot.x_of(b.start).max(r.left() - 2.0);
        let x1 = plot.x_of(b.end).min(r.right() + 2.0).max(x0 + 2.0);
        let y0 = r.top() + 1.0 + f32::from(b.row) * ROW_HEIGHT;
        let rect = Rect::from_min_max(pos2(x0, y0), pos2(x1, y0 + ROW_HEIGHT - 2.0));
        let color = bar_color(plot, lane, i);
        p.rect_filled(rect, 2.0, color.gamma_multiply(0.85));
        if b.is(BAR_OPEN) {
            // Open at the end of the recording: an outlined tail and an arrow.
            p.rect_stroke(
                rect,
                2.0,
                Stroke::new(1.5, theme::OPEN_MARK),
                egui::StrokeKind::Inside,
            );
            p.text(
                pos2(x1 + 2.0, rect.center().y),
                Align2::LEFT_CENTER,
                "▸ open",
                FontId::monospace(10.0),
                theme::OPEN_MARK,
            );
        }
        if rect.width() > 40.0 {
            p.with_clip_rect(rect.intersect(r)).text(
                pos2(x0.max(r.left()) + 3.0, rect.center().y),
                Align2::LEFT_CENTER,
                plot.lanes.name(b.name),
                FontId::proportional(10.0),
                theme::ON_COLOUR,
            );
        }
    }
    let at = over?;
    let t = plot.time_at_x(at.x);
    let slack = (plot.view.span / f64::from(r.width().max(1.0)) * 3.0) as i64;
    let row = ((at.y - r.top() - 1.0) / ROW_HEIGHT).max(0.0) as u8;
    let i = lane.hit(&visible, t, slack, row)?;
    let b = &lane.bars[i];
    let mut lines = vec![
        format!("{} · {}", plot.lanes.name(b.name), b.kind),
        format!(
            "{} for {}{}",
            offset_text(b.start, plot.origin),
            format_duration_micros(b.end - b.start),
            if b.is(BAR_OPEN) {
                " (open at the end of the recording)"
            } else {
                ""
            }
        ),
    ];
    // The thread the opening event ran on (the primary one says nothing).
    let thread = plot
        .index
        .events
        .get(b.pos as usize)
        .map(|e| plot.index.thread_name(e))
        .filter(|t| !t.is_empty());
    if let Some(t) = thread {
        let agent = plot
            .lanes
            .thread_ids
            .iter()
            .position(|x| x == t)
            .and_then(|i| plot.lanes.threads.get(i))
            .map_or("", |l| l.label.as_str());
        lines.push(format!("thread {t} ({agent})"));
    }
    if b.tokens != [0; 3] {
        lines.push(format!(
            "tokens: in {} · out {} · cache read {}",
            b.tokens[0], b.tokens[1], b.tokens[2]
        ));
    }
    if b.is(BAR_ERROR) {
        lines.push("failed".into());
    }
    Some(Hover {
        lines,
        pos: Some(b.pos).filter(|&p| p != NO_POS),
    })
}

fn markers(
    p: &Painter,
    plot: &Plot<'_>,
    m: &MarkerLane,
    r: Rect,
    over: Option<Pos2>,
) -> Option<Hover> {
    let n = plot.columns();
    let (t0, t1) = (plot.view.left_time(), plot.view.time_at(1.0));
    let range = m.range(t0, t1);
    let (y0, y1) = (r.top() + 2.0, r.bottom() - 2.0);
    if (range.len() as f32) * PIXELS_PER_ITEM <= r.width() {
        let mut best: Option<(f32, usize)> = None;
        for i in range {
            let x = plot.x_of(m.ts[i]);
            let c = theme::marker(m.kinds[i]);
            p.line_segment([pos2(x, y0), pos2(x, y1)], Stroke::new(2.0, c));
            p.circle_filled(pos2(x, (y0 + y1) / 2.0), 3.0, c);
            if let Some(o) = over {
                let d = (o.x - x).abs();
                if d <= 4.0 && best.is_none_or(|(bd, _)| d < bd) {
                    best = Some((d, i));
                }
            }
        }
        let (_, i) = best?;
        return Some(Hover {
            lines: vec![plot.type_of(m.pos[i]), offset_text(m.ts[i], plot.origin)],
            pos: Some(m.pos[i]),
        });
    }
    // Aggregated: a column's height says how many markers it holds (at least a pixel for
    // one), its colour the kind of the last.
    let cols = m.columns(t0, plot.view.per_column(n), n);
    let inner = Rect::from_min_max(pos2(r.left(), y0), pos2(r.right(), y1));
    stack(
        p,
        inner,
        cols.iter()
            .zip(lanes::densities(&cols))
            .map(|((count, kind), d)| {
                let px = if *count > 0 {
                    (d * inner.height()).round().max(1.0)
                } else {
                    0.0
                };
                [(px, kind.map_or(Color32::TRANSPARENT, theme::marker))]
            }),
    );
    let x = over?.x;
    let col = ((x - r.left()).max(0.0) as usize).min(n.saturating_sub(1));
    let (count, _) = cols.get(col)?;
    Some(Hover {
        lines: vec![format!("{}: {count} here", m.label)],
        pos: None,
    })
}
