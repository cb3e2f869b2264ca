//! The sessions list: search, status and stop-reason badges, duration and event count.

use egui::RichText;
use flightrec::model::time::format_duration_micros;
use flightrec::store::SessionSummary;

use crate::app::{Command, ViewerContext};
use crate::theme;

fn matches(s: &SessionSummary, q: &str) -> bool {
    let q = q.trim().to_lowercase();
    q.is_empty()
        || s.id.to_lowercase().contains(&q)
        || s.title.as_deref().unwrap_or("").to_lowercase().contains(&q)
        || s.status.as_deref().unwrap_or("").contains(&q)
        || s.stop_reason.as_deref().unwrap_or("").contains(&q)
}

fn badge(ui: &mut egui::Ui, text: &str) {
    let c = theme::badge(text);
    ui.label(
        RichText::new(format!(" {text} "))
            .small()
            .color(theme::ON_BADGE)
            .background_color(c),
    );
}

/// The sessions list's own state.
#[derive(Default)]
pub struct SessionsPanel {
    /// The text in the search box.
    search: String,
}

impl SessionsPanel {
    pub(crate) fn show(&mut self, app: &ViewerContext<'_>, ui: &mut egui::Ui) {
        ui.horizontal(|ui| {
            ui.heading("Sessions");
            if ui
                .small_button("Reload")
                .on_hover_text("Reload the list")
                .clicked()
            {
                app.send(Command::RefreshSessions);
            }
        });
        ui.label(
            RichText::new(app.db.display().to_string())
                .small()
                .color(theme::TEXT_DIM),
        );
        ui.add(
            egui::TextEdit::singleline(&mut self.search)
                .hint_text("search sessions")
                .desired_width(f32::INFINITY),
        );
        ui.add_space(4.0);
        let mut open = None;
        egui::ScrollArea::vertical()
            .id_salt("sessions-scroll")
            .auto_shrink([false, false])
            .show(ui, |ui| {
                let shown: Vec<&SessionSummary> = app
                    .sessions
                    .iter()
                    .filter(|s| matches(s, &self.search))
                    .collect();
                if shown.is_empty() {
                    ui.weak(if app.sessions.is_empty() {
                        "No sessions in this database."
                    } else {
                        "No session matches."
                    });
                }
                for s in shown {
                    let selected = app.current == Some(s.id.as_str());
                    let title = s.title.clone().unwrap_or_else(|| s.id.clone());
                    let r = ui.add(egui::Button::selectable(
                        selected,
                        RichText::new(title).strong(),
                    ));
                    if r.clicked() {
                        open = Some(s.id.clone());
                    }
                    r.on_hover_text(&s.id);
                    ui.horizontal_wrapped(|ui| {
                        if let Some(st) = &s.status {
                            badge(ui, st);
                        }
                        if let Some(sr) = &s.stop_reason
                            && s.status.as_deref() == Some("idle")
                        {
                            badge(ui, sr);
                        }
                        let dur = match (s.first_ts, s.last_ts) {
                            (Some(a), Some(b)) => format_duration_micros(b - a),
                            _ => "–".into(),
                        };
                        ui.label(
                            RichText::new(format!("{dur} · {} events", s.event_count))
                                .small()
                                .color(theme::TEXT_DIM),
                        );
                    });
                    ui.add_space(6.0);
                }
            });
        if let Some(id) = open
            && app.current != Some(id.as_str())
        {
            app.send(Command::Open(id));
        }
    }
}
