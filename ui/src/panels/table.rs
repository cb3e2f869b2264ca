//! The event table: virtualized (only the rows on screen are built, their text fetched lazily),
//! filtered by type, thread and text, and kept on the cursor.

use egui::{Align2, FontId, Role, Sense, WidgetInfo, vec2};

use super::offset_text;
use crate::app::{Command, ViewerContext};
use crate::theme;

const ROW_HEIGHT: f32 = 18.0;
/// Column x offsets: time, type, thread, summary.
const COLUMNS: [f32; 4] = [4.0, 104.0, 352.0, 424.0];

/// The table's own state.
#[derive(Default)]
pub struct TablePanel {
    /// The last of the app's requests to scroll to the cursor that the table served.
    scrolled: u64,
}

impl TablePanel {
    pub(crate) fn show(&mut self, app: &ViewerContext<'_>, ui: &mut egui::Ui) {
        filters(app, ui);
        ui.separator();
        let Some(d) = app.data else { return };
        let total = app.shown.len();
        let id = ui.make_persistent_id("table-visible");
        let visible: std::ops::Range<usize> = ui.data(|m| m.get_temp(id)).unwrap_or(0..0);
        let spacing = ui.spacing().item_spacing.y;
        let mut area = egui::ScrollArea::vertical()
            .id_salt("table-scroll")
            .auto_shrink([false, false]);
        if self.scrolled != app.scroll_request {
            self.scrolled = app.scroll_request;
            if let Some(c) = app.cursor {
                let i = app.shown.partition_point(|&p| (p as usize) < c);
                // Only when the cursor's row is off screen (or nearly).
                if i < visible.start + 1 || i + 2 >= visible.end {
                    let rows_above = (visible.len() / 3) as f32;
                    let y = (i as f32 - rows_above).max(0.0) * (ROW_HEIGHT + spacing);
                    area = area.vertical_scroll_offset(y);
                }
            }
        }
        let origin = d.start;
        let mut clicked = None;
        let mut range_seen = 0..0;
        area.show_rows(ui, ROW_HEIGHT, total, |ui, range| {
            range_seen = range.clone();
            let font = FontId::monospace(12.0);
            for i in range {
                let Some(&pos) = app.shown.get(i) else { break };
                let Some(ev) = d.index.events.get(pos as usize) else {
                    break;
                };
                let selected = app.cursor == Some(pos as usize);
                let (rect, resp) =
                    ui.allocate_exact_size(vec2(ui.available_width(), ROW_HEIGHT), Sense::click());
                let detail = app.rows.get(ev.seq);
                let time = if ev.is(crate::model::index::QUEUED) {
                    "(queued)".to_string()
                } else {
                    offset_text(ev.ts, origin)
                };
                let ty = d.index.type_name(ev);
                let thread = d.index.thread_name(ev);
                let thread = thread.get(thread.len().saturating_sub(6)..).unwrap_or("");
                let summary = detail.map_or("…", |r| r.summary.as_str());
                let label = format!("{time} {ty} {thread} {summary}");
                resp.widget_info(|| WidgetInfo::selected(Role::ListItem, true, selected, &label));
                if resp.clicked() {
                    clicked = Some(pos as usize);
                }
                let p = ui.painter_at(rect);
                if selected {
                    p.rect_filled(rect, 2.0, theme::SELECTED_ROW);
                } else if resp.hovered() {
                    p.rect_filled(rect, 2.0, theme::LANE_BACKGROUND);
                }
                let y = rect.center().y;
                let col = |x: f32, text: &str, color| {
                    p.text(
                        egui::pos2(rect.left() + x, y),
                        Align2::LEFT_CENTER,
                        text,
                        font.clone(),
                        color,
                    );
                };
                col(COLUMNS[0], &time, theme::TEXT_DIM);
                let ty_color = if ev.is(crate::model::index::ERROR) {
                    theme::ERROR
                } else {
                    theme::event_type(ty)
                };
                col(COLUMNS[1], ty, ty_color);
                if !thread.is_empty() {
                    col(COLUMNS[2], &format!("…{thread}"), theme::TEXT_DIM);
                }
                col(COLUMNS[3], summary, ui.visuals().text_color());
            }
        });
        ui.data_mut(|m| m.insert_temp(id, range_seen.clone()));
        let seqs: Vec<i64> = range_seen
            .filter_map(|i| app.shown.get(i))
            .filter_map(|&p| d.index.events.get(p as usize))
            .map(|e| e.seq)
            .collect();
        app.send(Command::WantRows(seqs));
        if let Some(p) = clicked {
            app.send(Command::Pause);
            app.send(Command::SetCursor {
                pos: p,
                scroll: false,
            });
        }
    }
}

/// The filter bar; each change is sent as a command (the app filters once after the panels).
fn filters(app: &ViewerContext<'_>, ui: &mut egui::Ui) {
    let Some(d) = app.data else { return };
    ui.horizontal(|ui| {
        let label = ui.label("Filter");
        let mut text = app.filter.text.clone();
        let edit = ui
            .add(
                egui::TextEdit::singleline(&mut text)
                    .hint_text("text in the events (/)")
                    .desired_width(220.0),
            )
            .labelled_by(label.id);
        if app.focus_filter {
            app.send(Command::FilterFocused);
            edit.request_focus();
        }
        if edit.changed() {
            app.send(Command::SetFilterText(text));
        }
        let hidden = app.filter.hidden_types.len();
        let label = if hidden == 0 {
            "Types: all".to_string()
        } else {
            format!("Types: {hidden} hidden")
        };
        ui.menu_button(label, |ui| {
            let mut types: Vec<(u16, &str)> = d
                .index
                .types
                .iter()
                .enumerate()
                .map(|(i, t)| (i as u16, t.as_str()))
                .collect();
            types.sort_by_key(|t| t.1);
            if ui.button("Show all").clicked() {
                app.send(Command::ShowAllTypes);
            }
            for (id, name) in types {
                let mut on = !app.filter.hidden_types.contains(&id);
                if ui.checkbox(&mut on, name).changed() {
                    app.send(Command::ToggleType(id));
                }
            }
        });
        let thread_text = match app.filter.thread {
            None => "all".to_string(),
            Some(0) => "primary".to_string(),
            Some(t) => d
                .index
                .threads
                .get(usize::from(t))
                .cloned()
                .unwrap_or_default(),
        };
        let mut thread = app.filter.thread;
        egui::ComboBox::new("thread-filter", "thread")
            .selected_text(thread_text)
            .show_ui(ui, |ui| {
                let mut changed = ui
                    .selectable_value(&mut thread, None, "all threads")
                    .changed();
                for (i, t) in d.index.threads.iter().enumerate() {
                    let name = if i == 0 { "primary" } else { t.as_str() };
                    changed |= ui
                        .selectable_value(&mut thread, Some(i as u16), name)
                        .changed();
                }
                if changed {
                    app.send(Command::SetThreadFilter(thread));
                }
            });
        let pending = if app.filter.text_pending() {
            " (searching…)"
        } else {
            ""
        };
        ui.weak(format!(
            "{} of {} events{pending}",
            app.shown.len(),
            d.index.len()
        ));
    });
}
