//! The viewer's state and its one frame: replies from the loader are applied, shortcuts and
//! playback move the cursor, then the panels draw. The cursor (an event position and a time)
//! drives every panel.

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

mod replies;

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
    pub(crate) loader: Loader,
    pub(crate) db: PathBuf,
    pub(crate) sessions: Vec<SessionSummary>,
    pub(crate) session_search: String,
    /// The session asked for (open or loading).
    pub(crate) current: Option<String>,
    pub(crate) data: Option<Arc<SessionData>>,
    /// Events read so far by a load in progress.
    pub(crate) loading: Option<usize>,
    pub(crate) last_load: Option<Duration>,
    pub(crate) view: TimeView,
    /// The cursor: a time, and the last event at or before it.
    pub(crate) cursor_t: i64,
    pub(crate) cursor: Option<usize>,
    pub(crate) playback: Playback,
    pub(crate) filter: Filter,
    /// Positions of the rows the table shows (the filter applied).
    pub(crate) shown: Vec<u32>,
    pub(crate) rows: RowCache,
    /// The table scrolls to the cursor on the next frame.
    pub(crate) scroll_to_cursor: bool,
    pub(crate) at_end: Option<AtPoint>,
    pub(crate) at_cursor: Option<AtPoint>,
    pub(crate) explain_asked: Option<(Option<Point>, Instant)>,
    pub(crate) follow: bool,
    pub(crate) show_help: bool,
    pub(crate) inspector_pretty: bool,
    pub(crate) error: Option<String>,
    /// Ids asked of the loader for a jump (the cursor goes to the first found).
    pub(crate) jumping: bool,
    pub(crate) focus_filter: bool,
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
            session_search: String::new(),
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
            scroll_to_cursor: false,
            at_end: None,
            at_cursor: None,
            explain_asked: None,
            follow: options.follow,
            show_help: false,
            inspector_pretty: false,
            error: None,
            jumping: false,
            focus_filter: false,
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
    pub(crate) fn cursor_point(&self) -> Option<Point> {
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
        self.scroll_to_cursor = true;
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
        self.scroll_to_cursor = true;
    }

    /// Re-applies the filter; asks the loader for text matches when needed.
    pub(crate) fn refilter(&mut self) {
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
        self.scroll_to_cursor = true;
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
    pub(crate) fn want_rows(&mut self, seqs: impl IntoIterator<Item = i64>) {
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
    pub(crate) fn jump_to_ids(&mut self, ids: Vec<String>) {
        if let Some(s) = &self.current {
            self.jumping = true;
            self.loader.send(Request::Locate {
                session: s.clone(),
                ids,
            });
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
        shortcuts::handle(self, ui.ctx());
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
                self.scroll_to_cursor = true;
            }
            ui.ctx().request_repaint();
        }
        panels::layout(self, ui);
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
