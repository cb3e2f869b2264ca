//! The top bar: the session, playback controls, follow, help.

use crate::app::ViewerApp;
use crate::model::index::{ERROR, IDLE};
use crate::model::playback::SPEEDS;
use crate::theme;

use super::offset_text;

pub fn show(app: &mut ViewerApp, ui: &mut egui::Ui) {
    ui.horizontal(|ui| {
        ui.strong("flightrec");
        ui.separator();
        let title = app
            .data
            .as_ref()
            .and_then(|d| d.summary.as_ref())
            .map(|s| s.title.clone().unwrap_or_else(|| s.id.clone()));
        match title {
            Some(t) => ui.label(t),
            None => ui.weak("no session"),
        };
        ui.separator();
        let enabled = app.data.is_some();
        ui.add_enabled_ui(enabled, |ui| controls(app, ui));
        ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
            if ui
                .button("?")
                .on_hover_text("Keyboard shortcuts (?)")
                .clicked()
            {
                app.show_help = !app.show_help;
            }
            let mut follow = app.follow;
            if ui
                .checkbox(&mut follow, "Follow")
                .on_hover_text("Show new events as they are recorded")
                .changed()
            {
                app.set_follow(follow);
            }
            if let Some(n) = app.loading {
                ui.spinner();
                ui.label(format!("loading… {n}"));
            }
        });
    });
}

fn controls(app: &mut ViewerApp, ui: &mut egui::Ui) {
    if ui
        .button("First")
        .on_hover_text("First event (Home)")
        .clicked()
    {
        app.step_to_end(false);
    }
    if ui
        .button("Prev")
        .on_hover_text("Previous event (Left)")
        .clicked()
    {
        app.step_row(false);
    }
    let label = if app.playback.playing {
        "Pause"
    } else {
        "Play"
    };
    if ui.button(label).on_hover_text("Space").clicked() {
        app.toggle_play();
    }
    if ui
        .button("Next")
        .on_hover_text("Next event (Right)")
        .clicked()
    {
        app.step_row(true);
    }
    if ui
        .button("Last")
        .on_hover_text("Last event (End)")
        .clicked()
    {
        app.step_to_end(true);
    }
    egui::ComboBox::new("speed", "speed")
        .selected_text(format!("{}×", app.playback.speed))
        .width(64.0)
        .show_ui(ui, |ui| {
            for &s in SPEEDS {
                ui.selectable_value(&mut app.playback.speed, s, format!("{s}×"));
            }
        })
        .response
        .on_hover_text("Playback speed ([ and ])");
    ui.checkbox(&mut app.playback.compress, "Compress idle")
        .on_hover_text("Play silences longer than 2 s as 2 s (C)");
    if ui
        .button("Next error")
        .on_hover_text("E (Shift+E: previous)")
        .clicked()
    {
        app.step_flag(ERROR, true);
    }
    if ui
        .button("Next idle")
        .on_hover_text("I (Shift+I: previous)")
        .clicked()
    {
        app.step_flag(IDLE, true);
    }
    if let Some(d) = &app.data {
        let at = offset_text(app.cursor_t, d.start);
        ui.colored_label(theme::CURSOR, format!("cursor {at}"));
    }
}
