//! What the panels see of the app for one frame: shared references to its state, and a sender
//! for the changes they ask for (as rerun's `ViewerContext`). The app applies the commands after
//! the panels ran, in one place ([`ViewerApp::run`](super::ViewerApp)).

use std::cell::RefCell;
use std::path::Path;

use flightrec::store::SessionSummary;

use super::AtPoint;
use super::command::Command;
use crate::loader::Extras;
use crate::model::filter::Filter;
use crate::model::playback::Playback;
use crate::model::rows::RowCache;
use crate::model::session::SessionData;
use crate::model::timeline::TimeView;

/// The app's state as the panels read it for one frame.
pub(crate) struct ViewerContext<'a> {
    pub db: &'a Path,
    pub sessions: &'a [SessionSummary],
    /// The session asked for (open or loading).
    pub current: Option<&'a str>,
    pub data: Option<&'a SessionData>,
    /// Events read so far by a load in progress.
    pub loading: Option<usize>,
    pub view: &'a TimeView,
    /// The cursor: a time, and the last event at or before it.
    pub cursor_t: i64,
    pub cursor: Option<usize>,
    pub playback: &'a Playback,
    pub filter: &'a Filter,
    /// Positions of the rows the table shows (the filter applied).
    pub shown: &'a [u32],
    pub rows: &'a RowCache,
    /// Counts the times the table was asked to scroll to the cursor (it remembers the last it
    /// served).
    pub scroll_request: u64,
    pub at_end: Option<&'a AtPoint>,
    pub at_cursor: Option<&'a AtPoint>,
    pub follow: bool,
    pub show_help: bool,
    /// The filter box takes the keyboard on this frame.
    pub focus_filter: bool,
    pub error: Option<&'a str>,
    pub(super) commands: &'a RefCell<Vec<Command>>,
}

impl ViewerContext<'_> {
    /// Asks the app for a change, applied after the panels ran.
    pub fn send(&self, command: Command) {
        self.commands.borrow_mut().push(command);
    }

    /// The thread tree and the session object's facts at the cursor (else at the end).
    pub fn extras(&self) -> Option<&Extras> {
        self.at_cursor.or(self.at_end).map(|a| &a.extras)
    }
}
