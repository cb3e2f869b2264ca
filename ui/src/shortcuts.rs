//! Keyboard shortcuts: the list the help overlay shows, and what each does.

use egui::{Key, Modifiers};

use crate::app::ViewerApp;
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

/// Applies the shortcuts pressed this frame (none while a text field has the keyboard).
pub fn handle(app: &mut ViewerApp, ctx: &egui::Context) {
    if pressed(ctx, Modifiers::NONE, Key::F1)
        || ctx.input(|i| {
            i.events
                .iter()
                .any(|e| matches!(e, egui::Event::Text(t) if t == "?"))
        }) && !ctx.text_edit_focused()
    {
        app.show_help = !app.show_help;
    }
    if pressed(ctx, Modifiers::NONE, Key::Escape) {
        app.show_help = false;
    }
    if pressed(ctx, Modifiers::COMMAND, Key::F) {
        app.focus_filter = true;
    }
    if ctx.text_edit_focused() || app.data.is_none() {
        return;
    }
    if pressed(ctx, Modifiers::NONE, Key::Slash) {
        app.focus_filter = true;
    }
    if pressed(ctx, Modifiers::NONE, Key::Space) {
        app.toggle_play();
    }
    if pressed(ctx, Modifiers::SHIFT, Key::ArrowLeft) {
        app.view.pan(-0.25);
    }
    if pressed(ctx, Modifiers::SHIFT, Key::ArrowRight) {
        app.view.pan(0.25);
    }
    for (k, forward) in [
        (Key::ArrowRight, true),
        (Key::ArrowDown, true),
        (Key::ArrowLeft, false),
        (Key::ArrowUp, false),
    ] {
        if pressed(ctx, Modifiers::NONE, k) {
            app.step_row(forward);
        }
    }
    if pressed(ctx, Modifiers::NONE, Key::Home) {
        app.step_to_end(false);
    }
    if pressed(ctx, Modifiers::NONE, Key::End) {
        app.step_to_end(true);
    }
    for (flag, key) in [(ERROR, Key::E), (IDLE, Key::I)] {
        if pressed(ctx, Modifiers::SHIFT, key) {
            app.step_flag(flag, false);
        }
        if pressed(ctx, Modifiers::NONE, key) {
            app.step_flag(flag, true);
        }
    }
    if pressed(ctx, Modifiers::NONE, Key::L) {
        app.jump_linked();
    }
    if pressed(ctx, Modifiers::NONE, Key::OpenBracket) {
        app.playback.step_speed(false);
    }
    if pressed(ctx, Modifiers::NONE, Key::CloseBracket) {
        app.playback.step_speed(true);
    }
    if pressed(ctx, Modifiers::NONE, Key::C) {
        app.playback.compress = !app.playback.compress;
    }
    if pressed(ctx, Modifiers::NONE, Key::F) {
        app.view.show_all();
    }
    let anchor = app.view.frac_of(app.cursor_t).clamp(0.0, 1.0);
    if pressed(ctx, Modifiers::NONE, Key::Plus) || pressed(ctx, Modifiers::NONE, Key::Equals) {
        app.view.zoom(2.0, anchor);
    }
    if pressed(ctx, Modifiers::NONE, Key::Minus) {
        app.view.zoom(0.5, anchor);
    }
}

impl ViewerApp {
    pub fn toggle_play(&mut self) {
        let Some(d) = &self.data else { return };
        if !self.playback.playing
            && let Some((_, last)) = d.index.time_range()
            && self.cursor_t >= last
        {
            // Playing from the end starts over.
            self.set_cursor(0);
        }
        self.playback.playing = !self.playback.playing;
    }

    /// The next (or previous) row the table shows.
    pub fn step_row(&mut self, forward: bool) {
        self.playback.playing = false;
        let Some(c) = self.cursor else {
            if let Some(&p) = self.shown.first() {
                self.set_cursor(p as usize);
            }
            return;
        };
        let i = self.shown.partition_point(|&p| (p as usize) < c);
        let next = if forward {
            let j = if self.shown.get(i).is_some_and(|&p| p as usize == c) {
                i + 1
            } else {
                i
            };
            self.shown.get(j)
        } else {
            i.checked_sub(1).and_then(|j| self.shown.get(j))
        };
        if let Some(&p) = next {
            self.set_cursor(p as usize);
        }
    }

    pub fn step_to_end(&mut self, last: bool) {
        self.playback.playing = false;
        let p = if last {
            self.shown.last()
        } else {
            self.shown.first()
        };
        if let Some(&p) = p {
            self.set_cursor(p as usize);
        }
    }

    /// The next (or previous) event with `flag` (an error, an idle).
    pub fn step_flag(&mut self, flag: u8, forward: bool) {
        self.playback.playing = false;
        let Some(d) = &self.data else { return };
        let from = self.cursor.unwrap_or(0);
        let found = if forward && self.cursor.is_none() {
            d.index.events.iter().position(|e| e.is(flag))
        } else {
            d.index.find(from, forward, |e| e.is(flag))
        };
        if let Some(p) = found {
            self.set_cursor(p);
        }
    }

    /// To the event the cursor's event links to (or that links to it).
    pub fn jump_linked(&mut self) {
        let Some(p) = self
            .cursor
            .and_then(|c| self.data.as_ref().and_then(|d| d.index.linked(c)))
        else {
            return;
        };
        self.set_cursor(p);
    }
}
