//! The viewer's state and its one frame: replies from the loader are applied, shortcuts and
//! playback move the cursor, then the panels draw. The cursor (an event position and a time)
//! drives every panel. Panels and shortcuts read the state through a `ViewerContext` and ask
//! for changes with `Command`s, which [`ViewerApp`] applies in one place (`command.rs`).

use std::cell::RefCell;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use flightrec::analysis::Point;
use flightrec::analysis::explain::Explanation;
use flightrec::analysis::state::State;
use flightrec::store::SessionSummary;

use crate::loader::{Extras, Loader, Request, Waker};
use crate::model::filter::Filter;
use crate::model::index::QUEUED;
use crate::model::playback::Playback;
use crate::model::rows::RowCache;
use crate::model::session::SessionData;
use crate::model::timeline::TimeView;
use crate::{panels, shortcuts, theme};

mod command;
mod context;
mod replies;
mod steps;

pub(crate) use command::Command;
pub(crate) use context::ViewerContext;

/// What the viewer starts with.
#[derive(Debug, Clone)]
pub struct Options {
    pub db: PathBuf,
    /// Open this session at once.
    pub session: Option<String>,
    /// Follow the database (reload the open session when it changes).
    pub follow: bool,
}

/// While playing, the state at the cursor is asked for at most this often.
const EXPLAIN_WHILE_PLAYING: Duration = Duration::from_millis(500);

/// The explanation and state at a point.
pub struct AtPoint {
    pub at: Option<Point>,
    pub explanation: Explanation,
    pub state: State,
    /// The thread tree at the point and the session object's facts.
    pub extras: Extras,
}

pub struct ViewerApp {
    loader: Loader,
    db: PathBuf,
    sessions: Vec<SessionSummary>,
    /// The session asked for (open or loading).
    current: Option<String>,
    data: Option<Arc<SessionData>>,
    /// Events read so far by a load in progress.
    loading: Option<usize>,
    /// How long the open session took to load (the last load or reload).
    last_load: Option<Duration>,
    view: TimeView,
    /// The cursor: a time, and the last event at or before it.
    cursor_t: i64,
    cursor: Option<usize>,
    playback: Playback,
    filter: Filter,
    /// Positions of the rows the table shows (the filter applied).
    shown: Vec<u32>,
    rows: RowCache,
    /// Counts the requests that the table scroll to the cursor (the table remembers the last
    /// one it served).
    scroll_request: u64,
    at_end: Option<AtPoint>,
    at_cursor: Option<AtPoint>,
    explain_asked: Option<(Option<Point>, Instant)>,
    follow: bool,
    show_help: bool,
    error: Option<String>,
    /// Ids asked of the loader for a jump (the cursor goes to the first found).
    jumping: bool,
    /// The filter box takes the keyboard on the next frame.
    focus_filter: bool,
    /// The panels' own state (scroll positions served, text typed, display modes).
    panels: panels::Panels,
    /// Commands sent during a frame, applied after the panels.
    commands: RefCell<Vec<Command>>,
    /// Whether [`setup`] ran on the context.
    styled: bool,
}

impl ViewerApp {
    pub fn new(options: Options, waker: Waker) -> ViewerApp {
        let mut loader = Loader::start(options.db.clone(), waker);
        loader.send(Request::Sessions);
        loader.send(Request::Follow(options.follow));
        let mut app = ViewerApp {
            loader,
            db: options.db,
            sessions: Vec::new(),
            current: None,
            data: None,
            loading: None,
            last_load: None,
            view: TimeView::fit(0, 0),
            cursor_t: 0,
            cursor: None,
            playback: Playback::default(),
            filter: Filter::default(),
            shown: Vec::new(),
            rows: RowCache::default(),
            scroll_request: 0,
            at_end: None,
            at_cursor: None,
            explain_asked: None,
            follow: options.follow,
            show_help: false,
            error: None,
            jumping: false,
            focus_filter: false,
            panels: panels::Panels::default(),
            commands: RefCell::new(Vec::new()),
            styled: false,
        };
        if let Some(s) = options.session {
            app.open(&s);
        }
        app
    }

    /// Whether the loader owes an answer (for tests and the benchmark, which wait on it).
    pub fn is_busy(&self) -> bool {
        self.loading.is_some()
            || self.rows.is_waiting()
            || self.loader.has_backlog()
            || self.jumping
            || self.filter.text_pending()
            || (self.data.is_some() && (self.at_end.is_none() || self.explain_pending()))
    }

    fn explain_pending(&self) -> bool {
        let want = self.cursor_point();
        self.at_cursor.as_ref().map(|a| a.at) != Some(want)
    }

    pub fn open(&mut self, session: &str) {
        self.current = Some(session.to_string());
        self.loading = Some(0);
        self.loader.send(Request::Open {
            session: session.to_string(),
        });
    }

    /// The open session's data.
    pub fn session(&self) -> Option<&SessionData> {
        self.data.as_deref()
    }

    /// How long the open session took to load (the last load or reload).
    pub fn last_load(&self) -> Option<Duration> {
        self.last_load
    }

    pub fn cursor(&self) -> Option<usize> {
        self.cursor
    }

    pub fn cursor_time(&self) -> i64 {
        self.cursor_t
    }

    pub fn playback_mut(&mut self) -> &mut Playback {
        &mut self.playback
    }

    pub fn view(&self) -> &TimeView {
        &self.view
    }

    pub fn view_mut(&mut self) -> &mut TimeView {
        &mut self.view
    }

    /// The explanation at the end of the recording, once the loader has it.
    pub fn explanation_at_end(&self) -> Option<&Explanation> {
        self.at_end.as_ref().map(|a| &a.explanation)
    }

    /// The thread tree and the session object's facts at the cursor (else at the end), once the
    /// loader has them.
    pub fn extras(&self) -> Option<&Extras> {
        self.at_cursor
            .as_ref()
            .or(self.at_end.as_ref())
            .map(|a| &a.extras)
    }

    pub fn shown_rows(&self) -> &[u32] {
        &self.shown
    }

    /// The cursor as a point for the analyses.
    fn cursor_point(&self) -> Option<Point> {
        let d = self.data.as_ref()?;
        let e = d.index.events.get(self.cursor?)?;
        Some(Point {
            ts: e.ts,
            seq: e.seq,
        })
    }

    /// Puts the cursor on the event at position `pos`.
    pub fn set_cursor(&mut self, pos: usize) {
        let Some(d) = &self.data else { return };
        let Some(e) = d.index.events.get(pos) else {
            return;
        };
        self.cursor = Some(pos);
        if !e.is(QUEUED) {
            self.cursor_t = e.ts;
            self.view.follow(e.ts);
        }
        self.scroll_request += 1;
    }

    /// Puts the cursor at time `t` (on the last event at or before it).
    pub fn set_cursor_time(&mut self, t: i64) {
        self.cursor_t = t;
        if let Some(d) = &self.data {
            self.cursor = d
                .index
                .at_or_before(t)
                .or(Some(0).filter(|_| !d.index.is_empty()));
        }
        self.scroll_request += 1;
    }

    /// Re-applies the filter; asks the loader for text matches when needed.
    fn refilter(&mut self) {
        let Some(d) = &self.data else { return };
        if self.filter.text_pending()
            && let Some(s) = &self.current
        {
            self.loader.send(Request::Text {
                session: s.clone(),
                text: self.filter.text.clone(),
            });
        }
        self.shown = self.filter.apply(&d.index);
        self.scroll_request += 1;
    }

    /// Asks for the state at the cursor when it moved (throttled while playing).
    fn ask_explain(&mut self) {
        let Some(s) = self.current.clone() else {
            return;
        };
        if self.data.is_none() || self.loading.is_some() {
            return;
        }
        let want = self.cursor_point();
        if want.is_none() {
            return;
        }
        let due = match self.explain_asked {
            Some((asked, at)) => {
                asked != want && (!self.playback.playing || at.elapsed() >= EXPLAIN_WHILE_PLAYING)
            }
            None => true,
        };
        if due {
            self.explain_asked = Some((want, Instant::now()));
            self.loader.send(Request::Explain {
                session: s,
                at: want,
            });
        }
    }

    pub fn set_follow(&mut self, on: bool) {
        self.follow = on;
        self.loader.send(Request::Follow(on));
    }

    /// Asks for the full rows of these seqs (the table's visible rows, the inspected event).
    fn want_rows(&mut self, seqs: impl IntoIterator<Item = i64>) {
        let missing = self.rows.missing(seqs);
        if !missing.is_empty()
            && let Some(s) = &self.current
        {
            self.loader.send(Request::Rows {
                session: s.clone(),
                seqs: missing,
            });
        }
    }

    /// Moves the cursor to the events with these ids (the first found).
    fn jump_to_ids(&mut self, ids: Vec<String>) {
        if let Some(s) = &self.current {
            self.jumping = true;
            self.loader.send(Request::Locate {
                session: s.clone(),
                ids,
            });
        }
    }

    /// What the panels and shortcuts see of the app for this frame.
    fn context(&self) -> ViewerContext<'_> {
        ViewerContext {
            db: &self.db,
            sessions: &self.sessions,
            current: self.current.as_deref(),
            data: self.data.as_deref(),
            loading: self.loading,
            view: &self.view,
            cursor_t: self.cursor_t,
            cursor: self.cursor,
            playback: &self.playback,
            filter: &self.filter,
            shown: &self.shown,
            rows: &self.rows,
            scroll_request: self.scroll_request,
            at_end: self.at_end.as_ref(),
            at_cursor: self.at_cursor.as_ref(),
            follow: self.follow,
            show_help: self.show_help,
            focus_filter: self.focus_filter,
            error: self.error.as_deref(),
            commands: &self.commands,
        }
    }

    /// One frame.
    pub fn show(&mut self, ui: &mut egui::Ui) {
        if !self.styled {
            self.styled = true;
            setup(ui.ctx());
        }
        self.loader.flush();
        while let Some(r) = self.loader.try_recv() {
            self.apply(r);
        }
        // Shortcuts act before the frame is drawn, panels after: both through commands.
        shortcuts::handle(&self.context(), ui.ctx());
        let shortcuts = self.commands.take();
        self.run(shortcuts);
        if self.playback.playing
            && let Some(d) = &self.data
        {
            let dt = f64::from(ui.input(|i| i.stable_dt).min(0.1));
            let t = self.playback.advance(self.cursor_t, dt, &d.index);
            let before = self.cursor;
            self.cursor_t = t;
            self.cursor = d.index.at_or_before(t).or(self.cursor);
            self.view.follow(t);
            if self.cursor != before {
                self.scroll_request += 1;
            }
            ui.ctx().request_repaint();
        }
        let mut panels = std::mem::take(&mut self.panels);
        panels.layout(&self.context(), ui);
        self.panels = panels;
        let asked = self.commands.take();
        if self.run(asked) {
            ui.ctx().request_repaint();
        }
        self.ask_explain();
        if self.is_busy() {
            // Replies wake the UI; this only covers a reply that raced the frame.
            ui.ctx().request_repaint_after(Duration::from_millis(100));
        }
    }
}

impl eframe::App for ViewerApp {
    fn ui(&mut self, ui: &mut egui::Ui, _frame: &mut eframe::Frame) {
        self.show(ui);
    }
}

/// Sets the viewer's look on a context (the app also does it on its first frame).
pub fn setup(ctx: &egui::Context) {
    ctx.set_visuals(theme::visuals());
    ctx.set_fonts(theme::fonts());
}
