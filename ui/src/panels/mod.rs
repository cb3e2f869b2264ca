//! The panels: drawing only. Each reads the app's state through a [`ViewerContext`] and asks
//! for changes by sending [`Command`](crate::app::Command)s, which the app applies after the
//! panels ran; a panel's own state (text typed, what it last scrolled to, a display mode) is on
//! its struct in [`Panels`]. None reads the database.

mod help;
mod inspector;
mod json;
mod sessions;
mod state;
mod table;
mod threads;
mod timeline;
mod timeline_draw;
mod timeline_stack;
mod toolbar;
mod why_idle;

use crate::app::ViewerContext;
use crate::theme;

/// The panels' own state, kept across frames.
#[derive(Default)]
pub struct Panels {
    sessions: sessions::SessionsPanel,
    inspector: inspector::InspectorPanel,
    table: table::TablePanel,
}

impl Panels {
    /// The whole window: toolbar, sessions on the left, details on the right, timeline and
    /// table in the middle, and the help overlay above all.
    pub(crate) fn layout(&mut self, app: &ViewerContext<'_>, ui: &mut egui::Ui) {
        egui::Panel::top("toolbar").show(ui, |ui| toolbar::show(app, ui));
        egui::Panel::left("sessions")
            .resizable(true)
            .default_size(270.0)
            .show(ui, |ui| self.sessions.show(app, ui));
        egui::Panel::right("details")
            .resizable(true)
            .default_size(400.0)
            .show(ui, |ui| {
                egui::ScrollArea::vertical()
                    .id_salt("details-scroll")
                    .auto_shrink([false, false])
                    .show(ui, |ui| {
                        egui::CollapsingHeader::new("Inspector")
                            .default_open(true)
                            .show(ui, |ui| self.inspector.show(app, ui));
                        egui::CollapsingHeader::new("Why idle?")
                            .default_open(true)
                            .show(ui, |ui| why_idle::show(app, ui));
                        egui::CollapsingHeader::new("State at cursor")
                            .default_open(true)
                            .show(ui, |ui| state::show(app, ui));
                        egui::CollapsingHeader::new("Threads")
                            .default_open(true)
                            .show(ui, |ui| threads::show(app, ui));
                    });
            });
        egui::CentralPanel::default().show(ui, |ui| {
            if let Some(e) = app.error {
                ui.colored_label(theme::ERROR, e);
            }
            if app.data.is_none() {
                ui.centered_and_justified(|ui| {
                    let text = match (app.current, app.loading) {
                        (Some(s), Some(n)) => format!("Loading {s}… {n} events"),
                        _ => "Open a session from the list on the left.".to_string(),
                    };
                    ui.label(text);
                });
                return;
            }
            timeline::show(app, ui);
            ui.add_space(4.0);
            self.table.show(app, ui);
        });
        if app.show_help {
            help::show(app, ui.ctx());
        }
    }
}

/// `+1m05.300s`-style offset of `t` from `origin` (µs).
pub fn offset_text(t: i64, origin: i64) -> String {
    let d = t - origin;
    let sign = if d < 0 { "-" } else { "+" };
    let d = d.unsigned_abs();
    let ms = d / 1000;
    let (h, m, s, ms) = (ms / 3_600_000, ms / 60_000 % 60, ms / 1000 % 60, ms % 1000);
    if h > 0 {
        format!("{sign}{h}h{m:02}m{s:02}.{ms:03}s")
    } else if m > 0 {
        format!("{sign}{m}m{s:02}.{ms:03}s")
    } else {
        format!("{sign}{s}.{ms:03}s")
    }
}
