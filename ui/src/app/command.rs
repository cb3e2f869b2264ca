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

#[cfg(test)]
mod tests {
    use std::path::Path;
    use std::sync::Arc;
    use std::time::{Duration, Instant};

    use super::Command;
    use crate::app::{Options, ViewerApp};

    const HAPPY: &str = "sesn_011CZhappyPath0000000001";

    /// The app on the happy-path sample, loaded (replies applied without drawing a frame).
    fn loaded(dir: &Path) -> ViewerApp {
        let db = dir.join("commands.db");
        let mut store = flightrec::store::Store::open(&db).expect("open");
        let sample = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../sample-logs/happy-path.sesn_011CZhappyPath0000000001.jsonl");
        flightrec::record::import::import_file(
            &mut store,
            &sample,
            &Default::default(),
            &mut |_, _| {},
        )
        .expect("import");
        drop(store);
        let mut app = ViewerApp::new(
            Options {
                db,
                session: Some(HAPPY.into()),
                follow: false,
            },
            Arc::new(|| {}),
        );
        let deadline = Instant::now() + Duration::from_secs(30);
        while app.data.is_none() || app.loading.is_some() {
            app.loader.flush();
            while let Some(r) = app.loader.try_recv() {
                app.apply(r);
            }
            assert!(Instant::now() < deadline, "not loaded");
            std::thread::sleep(Duration::from_millis(5));
        }
        app
    }

    #[test]
    fn a_click_in_the_table_moves_the_cursor_without_scrolling_other_moves_scroll() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut app = loaded(dir.path());
        let before = app.scroll_request;
        app.playback.playing = true;
        assert!(app.run(vec![
            Command::Pause,
            Command::SetCursor {
                pos: 5,
                scroll: false
            }
        ]));
        assert_eq!((app.cursor, app.scroll_request), (Some(5), before));
        assert!(!app.playback.playing);
        app.run(vec![Command::SetCursor {
            pos: 7,
            scroll: true,
        }]);
        assert_eq!(app.cursor, Some(7));
        assert!(app.scroll_request > before);
    }

    #[test]
    fn filter_changes_of_a_frame_are_applied_in_order_then_filtered_once() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut app = loaded(dir.path());
        let all = app.shown.len();
        let d = app.data.clone().expect("data");
        let user = d
            .index
            .types
            .iter()
            .position(|t| t == "user.message")
            .expect("a user.message") as u16;
        let users = d.index.events.iter().filter(|e| e.ty == user).count();
        assert!(users > 0);
        // Hidden, shown again, hidden: the table reflects the last.
        app.run(vec![
            Command::ToggleType(user),
            Command::ShowAllTypes,
            Command::ToggleType(user),
        ]);
        assert_eq!(app.filter.hidden_types, [user]);
        assert_eq!(app.shown.len(), all - users);
    }

    #[test]
    fn fetching_rows_asks_for_no_frame_and_a_shortcut_zooms_around_the_moved_cursor() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut app = loaded(dir.path());
        assert!(!app.run(vec![Command::WantRows(vec![1, 2])]));
        // The anchor is the cursor's place after the commands before it.
        let mut want = app.view;
        app.run(vec![Command::StepToEnd(true), Command::ZoomAtCursor(2.0)]);
        let last = app.data.as_ref().expect("data").index.len() - 1;
        assert_eq!(app.cursor, Some(last));
        want.follow(app.cursor_t);
        let anchor = want.frac_of(app.cursor_t).clamp(0.0, 1.0);
        want.zoom(2.0, anchor);
        assert_eq!(
            (app.view.left_time(), app.view.span),
            (want.left_time(), want.span)
        );
    }
}
