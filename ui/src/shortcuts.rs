//! Keyboard shortcuts: the list the help overlay shows, and the command each sends.

use egui::{Key, Modifiers};

use crate::app::{Command, ViewerContext};
use crate::model::index::{ERROR, IDLE};

/// (keys, what they do), as the help overlay lists them.
pub const SHORTCUTS: &[(&str, &str)] = &[
    ("Space", "play / pause"),
    (
        "Left / Right, Up / Down",
        "previous / next event (of the rows shown)",
    ),
    ("Home / End", "first / last event"),
    ("E / Shift+E", "next / previous error"),
    ("I / Shift+I", "next / previous idle"),
    (
        "L",
        "jump to the paired event (a use and its result, a request start and its end)",
    ),
    ("[ / ]", "slower / faster"),
    ("C", "compress idle gaps on / off"),
    ("+ / -", "zoom in / out around the cursor"),
    ("Ctrl + wheel, wheel on the timeline", "zoom / pan"),
    ("Shift+Left / Shift+Right", "pan the timeline"),
    ("F", "fit the whole session"),
    ("/  or  Ctrl+F", "filter the events by text"),
    ("?  or  F1", "this help"),
    ("Esc", "close this help"),
];

fn pressed(ctx: &egui::Context, m: Modifiers, k: Key) -> bool {
    ctx.input_mut(|i| i.consume_key(m, k))
}

/// The commands for the shortcuts pressed this frame (none while a text field has the keyboard),
/// in the order the app applies them.
pub(crate) fn handle(app: &ViewerContext<'_>, ctx: &egui::Context) {
    if pressed(ctx, Modifiers::NONE, Key::F1)
        || ctx.input(|i| {
            i.events
                .iter()
                .any(|e| matches!(e, egui::Event::Text(t) if t == "?"))
        }) && !ctx.text_edit_focused()
    {
        app.send(Command::ToggleHelp);
    }
    if pressed(ctx, Modifiers::NONE, Key::Escape) {
        app.send(Command::CloseHelp);
    }
    if pressed(ctx, Modifiers::COMMAND, Key::F) {
        app.send(Command::FocusFilter);
    }
    if ctx.text_edit_focused() || app.data.is_none() {
        return;
    }
    if pressed(ctx, Modifiers::NONE, Key::Slash) {
        app.send(Command::FocusFilter);
    }
    if pressed(ctx, Modifiers::NONE, Key::Space) {
        app.send(Command::TogglePlay);
    }
    if pressed(ctx, Modifiers::SHIFT, Key::ArrowLeft) {
        app.send(Command::Pan(-0.25));
    }
    if pressed(ctx, Modifiers::SHIFT, Key::ArrowRight) {
        app.send(Command::Pan(0.25));
    }
    for (k, forward) in [
        (Key::ArrowRight, true),
        (Key::ArrowDown, true),
        (Key::ArrowLeft, false),
        (Key::ArrowUp, false),
    ] {
        if pressed(ctx, Modifiers::NONE, k) {
            app.send(Command::StepRow(forward));
        }
    }
    if pressed(ctx, Modifiers::NONE, Key::Home) {
        app.send(Command::StepToEnd(false));
    }
    if pressed(ctx, Modifiers::NONE, Key::End) {
        app.send(Command::StepToEnd(true));
    }
    for (flag, key) in [(ERROR, Key::E), (IDLE, Key::I)] {
        if pressed(ctx, Modifiers::SHIFT, key) {
            app.send(Command::StepFlag(flag, false));
        }
        if pressed(ctx, Modifiers::NONE, key) {
            app.send(Command::StepFlag(flag, true));
        }
    }
    if pressed(ctx, Modifiers::NONE, Key::L) {
        app.send(Command::JumpLinked);
    }
    if pressed(ctx, Modifiers::NONE, Key::OpenBracket) {
        app.send(Command::StepSpeed(false));
    }
    if pressed(ctx, Modifiers::NONE, Key::CloseBracket) {
        app.send(Command::StepSpeed(true));
    }
    if pressed(ctx, Modifiers::NONE, Key::C) {
        app.send(Command::ToggleCompress);
    }
    if pressed(ctx, Modifiers::NONE, Key::F) {
        app.send(Command::ShowAll);
    }
    if pressed(ctx, Modifiers::NONE, Key::Plus) || pressed(ctx, Modifiers::NONE, Key::Equals) {
        app.send(Command::ZoomAtCursor(2.0));
    }
    if pressed(ctx, Modifiers::NONE, Key::Minus) {
        app.send(Command::ZoomAtCursor(0.5));
    }
}
