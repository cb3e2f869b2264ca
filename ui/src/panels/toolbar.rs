//! The top bar: the session, playback controls, follow, help.

use crate::app::{Command, ViewerContext};
use crate::model::index::{ERROR, IDLE};
use crate::model::playback::SPEEDS;
use crate::theme;

use super::offset_text;

pub(crate) fn show(app: &ViewerContext<'_>, ui: &mut egui::Ui) {
    ui.horizontal(|ui| {
        ui.strong("flightrec");
        ui.separator();
        let title = app
            .data
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
                app.send(Command::ToggleHelp);
            }
            let mut follow = app.follow;
            if ui
                .checkbox(&mut follow, "Follow")
                .on_hover_text("Show new events as they are recorded")
                .changed()
            {
                app.send(Command::SetFollow(follow));
            }
            if let Some(n) = app.loading {
                ui.spinner();
                ui.label(format!("loading… {n}"));
            }
        });
    });
}

fn controls(app: &ViewerContext<'_>, ui: &mut egui::Ui) {
    if ui
        .button("First")
        .on_hover_text("First event (Home)")
        .clicked()
    {
        app.send(Command::StepToEnd(false));
    }
    if ui
        .button("Prev")
        .on_hover_text("Previous event (Left)")
        .clicked()
    {
        app.send(Command::StepRow(false));
    }
    let label = if app.playback.playing {
        "Pause"
    } else {
        "Play"
    };
    if ui.button(label).on_hover_text("Space").clicked() {
        app.send(Command::TogglePlay);
    }
    if ui
        .button("Next")
        .on_hover_text("Next event (Right)")
        .clicked()
    {
        app.send(Command::StepRow(true));
    }
    if ui
        .button("Last")
        .on_hover_text("Last event (End)")
        .clicked()
    {
        app.send(Command::StepToEnd(true));
    }
    let mut speed = app.playback.speed;
    egui::ComboBox::new("speed", "speed")
        .selected_text(format!("{speed}×"))
        .width(64.0)
        .show_ui(ui, |ui| {
            for &s in SPEEDS {
                if ui
                    .selectable_value(&mut speed, s, format!("{s}×"))
                    .changed()
                {
                    app.send(Command::SetSpeed(speed));
                }
            }
        })
        .response
        .on_hover_text("Playback speed ([ and ])");
    let mut compress = app.playback.compress;
    if ui
        .checkbox(&mut compress, "Compress idle")
        .on_hover_text("Play silences longer than 2 s as 2 s (C)")
        .changed()
    {
        app.send(Command::SetCompress(compress));
    }
    if ui
        .button("Next error")
        .on_hover_text("E (Shift+E: previous)")
        .clicked()
    {
        app.send(Command::StepFlag(ERROR, true));
    }
    if ui
        .button("Next idle")
        .on_hover_text("I (Shift+I: previous)")
        .clicked()
    {
        app.send(Command::StepFlag(IDLE, true));
    }
    if let Some(d) = app.data {
        let at = offset_text(app.cursor_t, d.start);
        ui.colored_label(theme::CURSOR, format!("cursor {at}"));
    }
}
