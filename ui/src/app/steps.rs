//! Moving the cursor by steps: a row of the table, its first or last, the next error or idle,
//! the paired event; and play / pause.

use super::ViewerApp;

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
