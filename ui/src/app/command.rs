//! The changes panels and shortcuts ask of the app, as values: the one place the app's state
//! changes in answer to the user.

use super::ViewerApp;
use crate::loader::Request;

/// A change to the app, asked for by a panel or a shortcut.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Command {
    /// Reload the sessions list.
    RefreshSessions,
    Open(String),
    /// Put the cursor on the event at this position; `scroll`: the table scrolls to it.
    SetCursor {
        pos: usize,
        scroll: bool,
    },
    /// Put the cursor at this time (on the last event at or before it).
    SetCursorTime(i64),
    Pause,
    TogglePlay,
    /// The next (`true`) or previous row the table shows.
    StepRow(bool),
    /// The last (`true`) or first row the table shows.
    StepToEnd(bool),
    /// The next (`true`) or previous event with this flag.
    StepFlag(u8, bool),
    /// To the event paired with the cursor's.
    JumpLinked,
    /// Move the cursor to the first found of the events with these ids.
    JumpToIds(Vec<String>),
    SetSpeed(f64),
    /// A faster (`true`) or slower speed.
    StepSpeed(bool),
    SetCompress(bool),
    ToggleCompress,
    SetFollow(bool),
    /// Fetch the full rows of these seqs (those not cached nor asked already).
    WantRows(Vec<i64>),
    ToggleHelp,
    CloseHelp,
    /// The filter box takes the keyboard (on the next frame).
    FocusFilter,
    /// The filter box took the keyboard.
    FilterFocused,
    SetFilterText(String),
    ToggleType(u16),
    ShowAllTypes,
    SetThreadFilter(Option<u16>),
    /// Zoom the time view by a factor around a point (a fraction of the width).
    Zoom {
        factor: f64,
        anchor: f64,
    },
    /// Zoom by a factor around the cursor.
    ZoomAtCursor(f64),
    /// Pan by a fraction of the width.
    Pan(f64),
    ShowAll,
}

impl Command {
    /// Whether the state changed so that the next frame looks different (a fetch does not: its
    /// answer wakes the viewer).
    fn redraws(&self) -> bool {
        !matches!(self, Command::WantRows(_))
    }
}

impl ViewerApp {
    /// Applies `commands` in order; the filter is applied once after them if one changed it.
    /// Says whether another frame should show the result.
    pub(super) fn run(&mut self, commands: Vec<Command>) -> bool {
        let mut redraw = false;
        let mut refilter = false;
        for c in commands {
            redraw |= c.redraws();
            refilter |= self.run_one(c);
        }
        if refilter {
            self.refilter();
        }
        redraw
    }

    /// Applies one command; says whether it changed the filter.
    fn run_one(&mut self, command: Command) -> bool {
        match command {
            Command::RefreshSessions => self.loader.send(Request::Sessions),
            Command::Open(id) => {
                if self.current.as_deref() != Some(id.as_str()) {
                    self.open(&id);
                }
            }
            Command::SetCursor { pos, scroll } => {
                let before = self.scroll_request;
                self.set_cursor(pos);
                if !scroll {
                    self.scroll_request = before;
                }
            }
            Command::SetCursorTime(t) => self.set_cursor_time(t),
            Command::Pause => self.playback.playing = false,
            Command::TogglePlay => self.toggle_play(),
            Command::StepRow(forward) => self.step_row(forward),
            Command::StepToEnd(last) => self.step_to_end(last),
            Command::StepFlag(flag, forward) => self.step_flag(flag, forward),
            Command::JumpLinked => self.jump_linked(),
            Command::JumpToIds(ids) => self.jump_to_ids(ids),
            Command::SetSpeed(s) => self.playback.speed = s,
            Command::StepSpeed(up) => self.playback.step_speed(up),
            Command::SetCompress(on) => self.playback.compress = on,
            Command::ToggleCompress => self.playback.compress = !self.playback.compress,
            Command::SetFollow(on) => self.set_follow(on),
            Command::WantRows(seqs) => self.want_rows(seqs),
            Command::ToggleHelp => self.show_help = !self.show_help,
            Command::CloseHelp => self.show_help = false,
            Command::FocusFilter => self.focus_filter = true,
            Command::FilterFocused => self.focus_filter = false,
            Command::SetFilterText(text) => {
                self.filter.text = text;
                return true;
            }
            Command::ToggleType(ty) => {
                self.filter.toggle_type(ty);
                return true;
            }
            Command::ShowAllTypes => {
                self.filter.hidden_types.clear();
                return true;
            }
            Command::SetThreadFilter(t) => {
                self.filter.thread = t;
                return true;
            }
            Command::Zoom { factor, anchor } => self.view.zoom(factor, anchor),
            Command::ZoomAtCursor(factor) => {
                let anchor = self.view.frac_of(self.cursor_t).clamp(0.0, 1.0);
                self.view.zoom(factor, anchor);
            }
            Command::Pan(f) => self.view.pan(f),
            Command::ShowAll => self.view.show_all(),
        }
        false
    }
}
