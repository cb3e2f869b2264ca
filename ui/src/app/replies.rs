//! Applying the loader's replies: a loaded (or reloaded) session, rows, text matches, located
//! events, explanations, errors. Answers about a session no longer shown are dropped.

use std::sync::Arc;
use std::time::Duration;

use super::{AtPoint, ViewerApp};
use crate::loader::{Reply, Request};
use crate::model::filter::Filter;
use crate::model::index::QUEUED_TS;
use crate::model::session::SessionData;
use crate::model::timeline::TimeView;

impl ViewerApp {
    pub(super) fn apply(&mut self, reply: Reply) {
        let current = self.current.clone().unwrap_or_default();
        match reply {
            Reply::Sessions(s) => self.sessions = s,
            Reply::Progress { session, events } if session == current => {
                self.loading = Some(events);
            }
            Reply::Opened {
                session,
                data,
                reload,
                elapsed,
            } if session == current => self.opened(data, reload, elapsed),
            Reply::Rows {
                session,
                asked,
                rows,
            } if session == current => self.rows.insert(&asked, rows),
            Reply::Text {
                session,
                text,
                seqs,
            } if session == current && text == self.filter.text => {
                self.filter.matches = Some(seqs);
                self.filter.matched_text = text;
                self.refilter();
            }
            Reply::Located { session, found } if session == current => {
                self.jumping = false;
                if let Some((_, seq, ts)) = found.first()
                    && let Some(p) = self.data.as_ref().and_then(|d| d.index.position(*seq, *ts))
                {
                    self.set_cursor(p);
                }
            }
            Reply::Explained {
                session,
                at,
                explanation,
                state,
                extras,
            } if session == current => {
                let a = AtPoint {
                    at,
                    explanation: *explanation,
                    state: *state,
                    extras: *extras,
                };
                if at.is_none() {
                    self.at_end = Some(a);
                } else {
                    self.at_cursor = Some(a);
                }
            }
            Reply::Error(e) => {
                self.loading = None;
                self.jumping = false;
                self.error = Some(e);
            }
            // Answers about a session no longer shown.
            _ => {}
        }
    }

    fn opened(&mut self, data: Arc<SessionData>, reload: bool, elapsed: Duration) {
        let was_at_end = match &self.data {
            Some(d) => self.cursor.is_none_or(|c| c + 1 >= d.index.len()),
            None => false,
        };
        self.loading = None;
        self.last_load = Some(elapsed);
        self.error = None;
        if reload {
            // Rows of events that kept their place are still right (a replaced copy, such as a
            // queued echo that got its time, moves and is fetched again).
            let index = &data.index;
            self.rows.retain(|r| {
                index
                    .position(r.row.seq, r.row.ts)
                    .is_some_and(|p| index.events[p].ts == r.row.ts.unwrap_or(QUEUED_TS))
            });
        } else {
            self.rows.clear();
        }
        let (start, end) = (data.start, data.end);
        let keep_view = reload && self.data.is_some();
        let old_cursor = self.cursor_point();
        if let Some(old) = self.data.replace(data) {
            release(old);
        }
        if let Some(s) = self.data.as_ref().and_then(|d| d.summary.clone())
            && let Some(slot) = self.sessions.iter_mut().find(|x| x.id == s.id)
        {
            *slot = s;
        }
        if keep_view {
            self.view.start = start;
            self.view.end = end;
            // New events may match the text filter: ask again (the old answer applies meanwhile).
            self.filter.matched_text.clear();
        } else {
            self.view = TimeView::fit(start, end);
            self.filter = Filter::default();
            self.playback.playing = false;
        }
        self.at_end = None;
        self.at_cursor = None;
        self.explain_asked = None;
        self.refilter();
        let n = self.data.as_ref().map_or(0, |d| d.index.len());
        if n == 0 {
            self.cursor = None;
        } else if keep_view && !was_at_end {
            // Stay on the same event.
            let p = old_cursor.and_then(|p| {
                self.data
                    .as_ref()
                    .and_then(|d| d.index.position(p.seq, Some(p.ts)))
            });
            self.set_cursor(p.unwrap_or(0));
        } else if keep_view {
            self.set_cursor(n - 1);
        } else {
            self.set_cursor(0);
        }
        if let Some(s) = &self.current {
            self.loader.send(Request::Explain {
                session: s.clone(),
                at: None,
            });
        }
        if reload {
            self.loader.send(Request::Sessions);
        }
    }
}

/// Frees a session's data off the UI thread when it is large: returning a million events' worth
/// of pages to the kernel takes longer than a frame.
fn release(old: Arc<SessionData>) {
    if old.index.len() < 100_000 {
        return;
    }
    let dropped = std::thread::Builder::new()
        .name("flightrec-release".into())
        .spawn(move || drop(old));
    // Without a thread (the system refused one), it is freed here; nothing else to do.
    drop(dropped);
}
