//! The help overlay: every keyboard shortcut.

use crate::app::{Command, ViewerContext};
use crate::shortcuts::SHORTCUTS;

pub(crate) fn show(app: &ViewerContext<'_>, ctx: &egui::Context) {
    let mut open = app.show_help;
    egui::Window::new("Keyboard shortcuts")
        .open(&mut open)
        .collapsible(false)
        .resizable(false)
        .anchor(egui::Align2::CENTER_CENTER, [0.0, 0.0])
        .show(ctx, |ui| {
            egui::Grid::new("shortcuts")
                .num_columns(2)
                .spacing([24.0, 6.0])
                .striped(true)
                .show(ui, |ui| {
                    for (keys, what) in SHORTCUTS {
                        ui.monospace(*keys);
                        ui.label(*what);
                        ui.end_row();
                    }
                });
            ui.add_space(6.0);
            ui.weak("Click a bar, a marker or a row to move the cursor there.");
        });
    if !open {
        app.send(Command::CloseHelp);
    }
}
