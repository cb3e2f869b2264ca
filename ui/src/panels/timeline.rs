//! The timeline: a time axis over lanes (session and thread status bands, model requests,
//! tools, permission waits, evaluations and runs, messages, errors). Wheel pans, Ctrl+wheel or
//! pinch zooms, dragging pans, a click moves the cursor.

use egui::{Align2, FontId, Rect, Sense, Stroke, pos2, vec2};

use super::timeline_draw::{Hover, Lane, Plot, draw_lane};
use crate::app::{Command, ViewerContext};
use crate::model::axis;
use crate::theme;

const LABEL_WIDTH: f32 = 150.0;
const AXIS_HEIGHT: f32 = 18.0;
/// The timeline takes at most this share of the central panel.
const MAX_SHARE: f32 = 0.55;

/// The lanes to draw, in order (empty optional lanes left out).
fn lanes<'a>(app: &ViewerContext<'a>) -> Vec<Lane<'a>> {
    let Some(d) = app.data else { return vec![] };
    let l = &d.lanes;
    let mut out = vec![Lane::Band(&l.session)];
    out.extend(l.threads.iter().map(Lane::Band));
    out.push(Lane::Bars(&l.model));
    out.push(Lane::Bars(&l.tools));
    if !l.waits.bars.is_empty() {
        out.push(Lane::Bars(&l.waits));
    }
    if !l.work.bars.is_empty() {
        out.push(Lane::Bars(&l.work));
    }
    out.push(Lane::Markers(&l.messages));
    out.push(Lane::Markers(&l.errors));
    out
}

pub(crate) fn show(app: &ViewerContext<'_>, ui: &mut egui::Ui) {
    let Some(d) = app.data else { return };
    let lanes = lanes(app);
    let wanted: f32 = AXIS_HEIGHT + lanes.iter().map(|l| l.height() + 2.0).sum::<f32>();
    let height = wanted.min(ui.available_height() * MAX_SHARE).max(80.0);
    let (rect, resp) =
        ui.allocate_exact_size(vec2(ui.available_width(), height), Sense::click_and_drag());
    let painter = ui.painter_at(rect);
    painter.rect_filled(rect, 0.0, theme::BACKGROUND);
    let plot_rect = Rect::from_min_max(pos2(rect.left() + LABEL_WIDTH, rect.top()), rect.max);
    let view = *app.view;
    let plot = Plot {
        rect: plot_rect,
        view: &view,
        lanes: &d.lanes,
        index: &d.index,
        origin: d.start,
    };
    // The axis.
    let font = FontId::proportional(11.0);
    let measure = |text: &str| label_width(&painter, text, &font);
    for tick in axis::ticks(&view, plot_rect.width(), measure) {
        let x = plot_rect.left() + tick.x;
        painter.line_segment(
            [
                pos2(x, rect.top() + AXIS_HEIGHT - 4.0),
                pos2(x, rect.bottom()),
            ],
            Stroke::new(1.0, theme::GRID),
        );
        painter.text(
            pos2(x + axis::LABEL_PAD, rect.top() + 2.0),
            Align2::LEFT_TOP,
            tick.text,
            font.clone(),
            theme::TICK_TEXT,
        );
    }
    // The lanes.
    let hover_pos = resp.hover_pos();
    let mut hover: Option<Hover> = None;
    let mut y = rect.top() + AXIS_HEIGHT;
    for lane in &lanes {
        let h = lane.height();
        let lane_rect = Rect::from_min_max(pos2(rect.left(), y), pos2(rect.right(), y + h));
        if lane_rect.top() > rect.bottom() {
            break;
        }
        painter.rect_filled(
            Rect::from_min_max(pos2(plot_rect.left(), y), lane_rect.max),
            2.0,
            theme::LANE_BACKGROUND,
        );
        let label_rect =
            Rect::from_min_max(pos2(rect.left(), y), pos2(plot_rect.left() - 4.0, y + h));
        painter.with_clip_rect(label_rect).text(
            pos2(rect.left() + 6.0, y + h / 2.0),
            Align2::LEFT_CENTER,
            lane.label(),
            FontId::proportional(12.0),
            theme::LANE_LABEL,
        );
        let lane_plot = Rect::from_min_max(pos2(plot_rect.left(), y), lane_rect.max);
        let over = hover_pos.filter(|p| lane_plot.contains(*p));
        if let Some(h) = draw_lane(&painter, &plot, lane, lane_plot, over) {
            hover = Some(h);
        }
        y += h + 2.0;
    }
    // The cursor and the pointer.
    let cx = plot.x_of(app.cursor_t);
    if plot_rect.x_range().contains(cx) {
        painter.line_segment(
            [pos2(cx, rect.top()), pos2(cx, rect.bottom())],
            Stroke::new(2.0, theme::CURSOR),
        );
    }
    if let Some(p) = hover_pos.filter(|p| plot_rect.contains(*p)) {
        painter.line_segment(
            [pos2(p.x, rect.top()), pos2(p.x, rect.bottom())],
            Stroke::new(1.0, theme::HOVER_LINE),
        );
    }
    interact(app, ui, &resp, plot_rect, hover);
}

/// The width of an axis label as drawn (egui caches the layout for the drawing that follows).
pub(crate) fn label_width(painter: &egui::Painter, text: &str, font: &FontId) -> f32 {
    painter.fonts_mut(|f| {
        f.layout_no_wrap(text.to_string(), font.clone(), theme::TICK_TEXT)
            .size()
            .x
    })
}

fn interact(
    app: &ViewerContext<'_>,
    ui: &egui::Ui,
    resp: &egui::Response,
    plot_rect: Rect,
    hover: Option<Hover>,
) {
    let width = f64::from(plot_rect.width().max(1.0));
    let frac = |x: f32| f64::from(x - plot_rect.left()) / width;
    if resp.hovered() {
        let (scroll, zoom, ctrl) =
            ui.input(|i| (i.smooth_scroll_delta, i.zoom_delta(), i.modifiers.command));
        let anchor = resp.hover_pos().map_or(0.5, |p| frac(p.x));
        if zoom != 1.0 {
            app.send(Command::Zoom {
                factor: f64::from(zoom),
                anchor,
            });
        } else if ctrl && scroll.y != 0.0 {
            app.send(Command::Zoom {
                factor: (f64::from(scroll.y) / 200.0).exp(),
                anchor,
            });
        } else if scroll.x != 0.0 || scroll.y != 0.0 {
            let d = if scroll.x != 0.0 { scroll.x } else { scroll.y };
            app.send(Command::Pan(-f64::from(d) / width));
        }
    }
    if resp.dragged() {
        app.send(Command::Pan(-f64::from(resp.drag_delta().x) / width));
    }
    if resp.double_clicked() {
        app.send(Command::ShowAll);
    } else if resp.clicked()
        && let Some(p) = resp.interact_pointer_pos()
    {
        app.send(Command::Pause);
        match hover.as_ref().and_then(|h| h.pos) {
            Some(pos) => app.send(Command::SetCursor {
                pos: pos as usize,
                scroll: true,
            }),
            None if plot_rect.contains(p) => {
                let t = app.view.time_at(frac(p.x));
                app.send(Command::SetCursorTime(t));
            }
            None => {}
        }
    }
    if let Some(h) = hover {
        resp.clone().on_hover_ui_at_pointer(|ui| {
            for (i, line) in h.lines.iter().enumerate() {
                if i == 0 {
                    ui.strong(line);
                } else {
                    ui.label(line);
                }
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::axis::tests::{assert_spaced, sweep};

    #[test]
    fn axis_labels_do_not_overprint_as_egui_measures_them() {
        // The same sweep as the view-model's test, with the viewer's own fonts measuring.
        let ctx = egui::Context::default();
        ctx.set_fonts(theme::fonts());
        let mut checked = 0;
        let mut out = ctx.run_ui(egui::RawInput::default(), |ui| {
            let painter = ui.painter().clone();
            let font = FontId::proportional(11.0);
            let measure = |t: &str| label_width(&painter, t, &font);
            assert!(measure("+29d14h30m") > 40.0, "measured as drawn");
            for width in [300.0, 780.0, 1_300.0] {
                sweep(0.97, |v| {
                    let ticks = axis::ticks(v, width, measure);
                    assert_spaced(&ticks, &measure, &format!("{width} px, span {}", v.span));
                    checked += ticks.len();
                });
            }
        });
        out.textures_delta.clear();
        assert!(checked > 100, "labels were laid out: {checked}");
    }
}
