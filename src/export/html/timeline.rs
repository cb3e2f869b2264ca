//! The page's timeline, inline SVG: a lane of session status, one of threads, one of model
//! requests, one of tool calls (from the spans), and markers for messages, errors and idles that
//! open their event when clicked. Every label is escaped text inside `<title>`.

mod streamed;

pub use streamed::write as write_streamed;

use std::collections::HashMap;
use std::fmt::Write as _;

use super::{esc, is_error};
use crate::analysis::lanes::Grouping;
use crate::analysis::spans::Span;
use crate::export::SessionDoc;
use crate::export::flow;
use crate::export::transcript::{Marker, StatusChange, status_of};
use crate::model::time::format_duration_micros;

const WIDTH: f64 = 1000.0;
const LEFT: f64 = 110.0;
const LANE: f64 = 22.0;
const LANES: [&str; 6] = ["status", "threads", "model", "tools", "other", "events"];

/// The page's lane and CSS class for the shared span lanes: permission waits are drawn with the
/// tools, evaluations and workflows together as "other".
const SPAN_LANES: Grouping<(&str, &str)> = Grouping {
    thread: ("threads", "k-thread"),
    model: ("model", "k-model"),
    tools: ("tools", "k-tool"),
    permission: ("tools", "k-tool"),
    evaluation: ("other", "k-other"),
    workflow: ("other", "k-other"),
};

/// Maps a time to an x coordinate between `LEFT` and `WIDTH`.
struct Scale {
    t0: i64,
    /// The end of the recording (µs): where open spans and the last status stop.
    t1: i64,
    span: f64,
}

impl Scale {
    fn x(&self, ts: i64) -> f64 {
        LEFT + (ts - self.t0) as f64 / self.span * (WIDTH - LEFT - 10.0)
    }
}

fn lane_y(name: &str) -> f64 {
    let i = LANES.iter().position(|l| *l == name).unwrap_or(0);
    20.0 + i as f64 * LANE
}

/// Writes the timeline section of `doc`; nothing when no event has a time.
pub fn write(s: &mut String, doc: &SessionDoc) {
    let unique = flow::unique(doc);
    // A span is drawn at the event that opened it: the first shown with its id (an id an event
    // of another type reused later, or a placeholder id, names that one too).
    let mut ids: HashMap<&str, usize> = HashMap::new();
    for &i in &unique {
        ids.entry(doc.events[i].event_id.as_str()).or_insert(i);
    }
    let mut status = Vec::new();
    let mut markers = Vec::new();
    for &i in &unique {
        let e = &doc.events[i];
        let Some(ts) = e.ts else { continue };
        if let Some(st) = status_of(&e.event_type) {
            status.push((i, ts, st));
        }
        if let Some(class) = marker_class(&e.event_type, &e.raw) {
            markers.push((i, ts, class, e.event_type.clone()));
        }
    }
    let parts = Parts {
        first_ts: doc.summary.first_ts,
        end_ts: doc.end_ts(),
        status: &status,
        spans: &doc.spans(),
        index_of: &|id| ids.get(id).copied(),
        markers: &markers,
    };
    write_parts(s, &parts);
}

/// What the timeline draws, gathered from a document or from a streamed session's survey.
pub struct Parts<'a> {
    pub first_ts: Option<i64>,
    pub end_ts: Option<i64>,
    pub status: &'a [StatusChange],
    pub spans: &'a [Span],
    /// The index of the event shown for an id, which a span's rectangle opens.
    pub index_of: &'a dyn Fn(&str) -> Option<usize>,
    pub markers: &'a [Marker],
}

/// The marker an event of type `t` gets: errors, messages and session idles.
pub fn marker_class(t: &str, raw: &str) -> Option<&'static str> {
    if is_error(t, raw) {
        Some("m-err")
    } else if t.ends_with("message") || t.starts_with("agent.thread_message") {
        Some("m-msg")
    } else if t == "session.status_idle" {
        Some("m-idle")
    } else {
        None
    }
}

/// Writes the timeline section; nothing when no event has a time.
pub fn write_parts(s: &mut String, p: &Parts<'_>) {
    let Some(sc) = open(s, p.first_ts, p.end_ts) else {
        return;
    };
    status(s, p.status, &sc);
    for sp in p.spans {
        span(s, sp, &sc, (p.index_of)(sp.start_id.as_str()));
    }
    markers(s, p.markers, &sc);
    close(s, &sc);
}

/// The section's start, up to the lanes' names; `None` (nothing written) when no event has a
/// time.
fn open(s: &mut String, first_ts: Option<i64>, end_ts: Option<i64>) -> Option<Scale> {
    let (t0, t1) = (first_ts?, end_ts?);
    let sc = Scale {
        t0,
        t1,
        span: ((t1 - t0) as f64).max(1.0),
    };
    let _ = writeln!(
        s,
        "<section id=\"timeline\">\n<h2>Timeline <span class=\"ids\">({} from first to last event)</span></h2>\n<svg viewBox=\"0 0 {WIDTH} {}\" role=\"img\" aria-label=\"Timeline\">",
        esc(&format_duration_micros(t1 - t0)),
        height()
    );
    for l in LANES {
        let _ = writeln!(
            s,
            "<text class=\"lane\" x=\"4\" y=\"{:.1}\">{l}</text>",
            lane_y(l) + 13.0
        );
    }
    Some(sc)
}

fn height() -> f64 {
    20.0 + LANES.len() as f64 * LANE + 14.0
}

/// The section's end: the axis labels.
fn close(s: &mut String, sc: &Scale) {
    let height = height();
    let _ = writeln!(
        s,
        "<text class=\"lane\" x=\"{LEFT}\" y=\"{:.1}\">+0</text><text class=\"lane\" x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\">+{}</text>",
        height - 2.0,
        WIDTH - 10.0,
        height - 2.0,
        esc(&format_duration_micros(sc.t1 - sc.t0))
    );
    s.push_str("</svg>\n</section>\n");
}

fn rect(s: &mut String, class: &str, lane: &str, x0: f64, x1: f64, title: &str, ev: Option<usize>) {
    let y = lane_y(lane) + 2.0;
    let data = ev.map(|i| format!(" data-ev=\"e{i}\"")).unwrap_or_default();
    let _ = writeln!(
        s,
        "<rect class=\"{class}\" x=\"{x0:.1}\" y=\"{y:.1}\" width=\"{:.1}\" height=\"{:.1}\"{data}><title>{}</title></rect>",
        (x1 - x0).max(1.5),
        LANE - 6.0,
        esc(title)
    );
}

/// An event's offset from the first event (every event drawn has a time).
fn offset(sc: &Scale, ts: i64) -> String {
    format!("+{}", format_duration_micros(ts - sc.t0))
}

/// Session status segments: each status from its event to the next one (or the end).
fn status(s: &mut String, changes: &[StatusChange], sc: &Scale) {
    for (n, &change) in changes.iter().enumerate() {
        status_rect(s, change, changes.get(n + 1).map_or(sc.t1, |c| c.1), sc);
    }
}

/// One status segment, from its change to `next` (µs).
fn status_rect(s: &mut String, (i, ts, status): StatusChange, next: i64, sc: &Scale) {
    let title = format!(
        "{status} at {} for {}",
        offset(sc, ts),
        format_duration_micros(next - ts)
    );
    let class = format!("s-{status}");
    rect(s, &class, "status", sc.x(ts), sc.x(next), &title, Some(i));
}

/// A span's rectangle; `ev` is the index of the event that opened it.
fn span(s: &mut String, sp: &Span, sc: &Scale, ev: Option<usize>) {
    let Some(start) = sp.start_ts else { return };
    let stop = sp.end_ts.unwrap_or(sc.t1);
    let (lane, kind) = *SPAN_LANES.of(sp.kind);
    let mut class = kind.to_string();
    if sp.open {
        class.push_str(" open");
    }
    if sp.is_error {
        class.push_str(" err");
    }
    let took = sp
        .duration_ms
        .map(|d| format_duration_micros((d * 1000.0) as i64))
        .unwrap_or_else(|| "still open".into());
    let title = format!(
        "{:?} {}: {took}{}",
        sp.kind,
        sp.name,
        if sp.is_error { " (error)" } else { "" }
    );
    rect(s, &class, lane, sc.x(start), sc.x(stop), &title, ev);
}

/// Markers: messages, errors and session idles.
fn markers(s: &mut String, markers: &[Marker], sc: &Scale) {
    for (i, ts, class, t) in markers {
        marker(s, sc, *i, *ts, class, t);
    }
}

fn marker(s: &mut String, sc: &Scale, i: usize, ts: i64, class: &str, t: &str) {
    let y = lane_y("events") + LANE / 2.0;
    let _ = writeln!(
        s,
        "<circle class=\"{class}\" cx=\"{:.1}\" cy=\"{y:.1}\" r=\"5\" data-ev=\"e{i}\"><title>{} {}</title></circle>",
        sc.x(ts),
        esc(t),
        esc(&offset(sc, ts))
    );
}
