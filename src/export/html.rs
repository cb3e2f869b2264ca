//! `export --format html`: one self-contained page (no network, no CDN): the session's facts and
//! explain verdict, a timeline of status, threads, model requests and tools, and every event as a
//! fold with its JSON, filtered client-side by a search box and a type menu.
//!
//! Every piece of event text goes through [`esc`], in text and in attributes alike. The page's
//! Content-Security-Policy forbids every fetch and runs only the one inline script, named by its
//! SHA-256, so even markup that slipped through could neither load nor run anything.

mod timeline;

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::io::{self, Write};

use base64::Engine as _;
use sha2::{Digest, Sha256};

use super::SessionDoc;
use super::flow::{self, Facts};
use super::stream::Session;
use super::transcript::{IdleVerdicts, Survey};
use crate::analysis::explain::Explanation;
use crate::analysis::summarize;
use crate::model::typed::Event;
use crate::report::explain as report;
use crate::store::EventRow;

const CSS: &str = include_str!("html/page.css");
const JS: &str = include_str!("html/page.js");

/// Which quotes [`escape`] turns into entities besides `&`, `<` and `>`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Quotes {
    /// `"` only: text in a Markdown transcript, where an apostrophe is frequent prose and never
    /// ends anything (no event text goes into a single-quoted attribute there).
    Double,
    /// `"` and `'`: the HTML page, safe in text and in attributes quoted either way.
    Both,
}

/// The one HTML escaper, for the page ([`esc`]) and the Markdown transcript
/// (`md::html_escape`).
pub fn escape(s: &str, quotes: Quotes) -> String {
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' if quotes == Quotes::Both => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

/// `&`, `<`, `>`, `"` and `'` as entities: safe in text and in quoted attributes.
pub fn esc(s: &str) -> String {
    escape(s, Quotes::Both)
}

/// The policy: nothing may be fetched; styles inline; the one script by its hash.
pub fn content_security_policy() -> String {
    let hash = base64::engine::general_purpose::STANDARD.encode(Sha256::digest(JS.as_bytes()));
    format!(
        "default-src 'none'; style-src 'unsafe-inline'; script-src 'sha256-{hash}'; img-src data:; base-uri 'none'; form-action 'none'"
    )
}

/// Writes the page for `doc`. `x` is the verdict at the end of the recording; `stuck_after` (µs)
/// is the threshold used for the verdicts at each idle.
pub fn write_html(
    doc: &SessionDoc,
    x: &Explanation,
    stuck_after: i64,
    out: &mut dyn Write,
) -> io::Result<()> {
    let facts = flow::facts(doc);
    let mut s = String::with_capacity(doc.events.iter().map(|e| e.raw.len() * 2).sum());
    head(&mut s, &facts, x);
    timeline::write(&mut s, doc);
    let shown = flow::unique(doc);
    let types: BTreeSet<&str> = shown
        .iter()
        .map(|&i| doc.events[i].event_type.as_str())
        .collect();
    list_head(&mut s, types);
    let idles = flow::idle_verdicts(doc, stuck_after);
    for i in shown {
        let e = &doc.events[i];
        let sent = flow::sent_with_unblock(doc, &e.event_id);
        item(&mut s, i, e, doc.summary.first_ts, sent, idles.get(&i));
    }
    s.push_str(TAIL);
    out.write_all(s.as_bytes())
}

/// Writes the page of a streamed session: the survey's pass first (facts, verdict, types), the
/// timeline's passes, then each event as it is read again, with the verdict at each idle folded
/// as it is reached. Memory holds the survey's small facts, one event and the spans from the
/// oldest one still open.
pub fn write_html_streamed(
    session: &Session<'_>,
    now: i64,
    stuck_after: i64,
    out: &mut dyn Write,
) -> crate::store::Result<()> {
    let sv = Survey::read(session, now, stuck_after)?;
    let mut s = String::new();
    head(&mut s, &sv.facts, &sv.explanation);
    timeline::write_streamed(session, &sv, &mut s, out)?;
    list_head(&mut s, sv.types.iter().map(String::as_str));
    let mut verdicts = IdleVerdicts::new(session, &sv.capture_report, stuck_after);
    let mut i = 0;
    session.each_event(|e| {
        let n = i;
        i += 1;
        let shown = sv.is_shown(n, &e.event_id);
        let x = verdicts.at(&e, shown).map_err(io::Error::other)?;
        if shown {
            let sent = flow::sent_with_unblock_in(&sv.capture, &e.event_id);
            item(&mut s, n, &e, session.summary.first_ts, sent, x.as_ref());
            out.write_all(s.as_bytes())?;
            s.clear();
        }
        Ok(())
    })?;
    s.push_str(TAIL);
    out.write_all(s.as_bytes())
        .map_err(crate::store::StoreError::Output)
}

/// The page after the last event: the list's end and the one script.
const TAIL: &str = concat!(
    "</ol>\n</section>\n<script>",
    include_str!("html/page.js"),
    "</script>\n</body>\n</html>\n"
);

/// The page up to the timeline: the document head, the facts and the verdict.
fn head(s: &mut String, facts: &Facts, x: &Explanation) {
    let _ = write!(
        s,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta http-equiv=\"Content-Security-Policy\" content=\"{}\">\n\
         <meta name=\"referrer\" content=\"no-referrer\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <link rel=\"icon\" href=\"data:,\">\n\
         <title>{} · flightrec</title>\n<style>\n{CSS}</style>\n</head>\n<body>\n",
        esc(&content_security_policy()),
        esc(facts.title.as_deref().unwrap_or(&facts.id)),
    );
    header(s, facts);
    verdict(s, x);
}

fn header(s: &mut String, f: &Facts) {
    let _ = writeln!(
        s,
        "<header>\n<h1>Session {}</h1>\n<dl class=\"facts\">",
        esc(f.title.as_deref().unwrap_or(&f.id))
    );
    let mut fact = |k: &str, v: &str| {
        let _ = writeln!(s, "<dt>{k}</dt><dd>{}</dd>", esc(v));
    };
    fact("session", &f.id);
    let stop = f
        .stop_reason
        .as_ref()
        .filter(|_| f.status == "idle")
        .map(|r| format!(" (stop reason {r})"))
        .unwrap_or_default();
    fact("status", &format!("{}{stop}", f.status));
    if let (Some(a), Some(b)) = (&f.started, &f.ended) {
        let d = f.duration.as_deref().unwrap_or("?");
        fact("recorded", &format!("{a} → {b} ({d})"));
    }
    fact("events", &f.events.to_string());
    if let Some(a) = &f.agent {
        fact("agent", a);
    }
    if let Some(m) = &f.model {
        fact("model", m);
    }
    s.push_str("</dl>\n</header>\n");
}

fn verdict(s: &mut String, x: &Explanation) {
    let (class, flag) = if x.attention {
        ("verdict attention", "needs attention")
    } else {
        ("verdict", "ok")
    };
    let _ = writeln!(
        s,
        "<section class=\"{class}\" id=\"verdict\">\n<h2>Verdict: <span class=\"code mono\">{}</span> — {flag}</h2>\n<p class=\"summary\">{}</p>",
        esc(x.verdict.as_str()),
        esc(&x.summary)
    );
    if !x.evidence.is_empty() {
        s.push_str("<h3>Evidence</h3>\n<ul class=\"evidence\">\n");
        for e in &x.evidence {
            let _ = writeln!(
                s,
                "<li><span class=\"mono\">{} {} {}</span> — {}</li>",
                esc(e.at.as_deref().unwrap_or("(queued)")),
                esc(&e.event_type),
                esc(&e.event_id),
                esc(&e.note)
            );
        }
        s.push_str("</ul>\n");
    }
    if !x.advice.is_empty() {
        s.push_str("<h3>What to do</h3>\n<ul class=\"advice\">\n");
        for a in &x.advice {
            let _ = writeln!(s, "<li>{}</li>", esc(a));
        }
        s.push_str("</ul>\n");
    }
    let _ = writeln!(
        s,
        "<details><summary>The full explain report</summary>\n<pre>{}</pre>\n</details>\n</section>",
        esc(&report::text(x))
    );
}

/// Whether an event is an error: a `session.error`, or anything with `is_error: true`.
/// Read through a struct, whose other fields serde_json skips without recursing, so an event
/// nested past the 128 levels a `Value` allows is still classified.
pub(crate) fn is_error(event_type: &str, raw: &str) -> bool {
    #[derive(serde::Deserialize)]
    struct E {
        is_error: Option<bool>,
    }
    event_type.ends_with(".error")
        || serde_json::from_str::<E>(raw)
            .ok()
            .and_then(|e| e.is_error)
            .unwrap_or(false)
}

/// The events section up to its list: the search box and the type menu.
fn list_head<'t>(s: &mut String, types: impl IntoIterator<Item = &'t str>) {
    s.push_str("<section id=\"events\">\n<h2>Events</h2>\n<div class=\"controls\">\n");
    s.push_str(
        "<input type=\"search\" id=\"q\" placeholder=\"Search events (text, ids, JSON)\" aria-label=\"Search events\">\n",
    );
    s.push_str(
        "<select id=\"type\" aria-label=\"Event type\"><option value=\"\">all types</option>",
    );
    for t in types {
        let _ = write!(s, "<option value=\"{0}\">{0}</option>", esc(t));
    }
    s.push_str("</select>\n<span id=\"count\"></span>\n</div>\n<ol id=\"list\">\n");
}

/// One event of the list (index `i`): its fold, and the verdict when it is an idle.
fn item(
    s: &mut String,
    i: usize,
    e: &EventRow,
    first_ts: Option<i64>,
    sent_with_unblock: Option<String>,
    x: Option<&Explanation>,
) {
    let ev = Event::parse(&e.raw);
    let class = if is_error(&e.event_type, &e.raw) {
        "e-err"
    } else if e.event_type.ends_with("message") || e.event_type.starts_with("agent.thread_message")
    {
        "e-msg"
    } else {
        "e-other"
    };
    let thread = flow::thread_of(e)
        .map(|t| format!(" <span class=\"th\">thread {}</span>", esc(&t)))
        .unwrap_or_default();
    let _ = writeln!(
        s,
        "<li id=\"e{i}\" class=\"{class}\" data-type=\"{}\"><details><summary><span class=\"off\">{}</span> <span class=\"ty\">{}</span>{thread} <span class=\"sum\">{}</span></summary>",
        esc(&e.event_type),
        esc(&flow::offset_from(first_ts, e)),
        esc(&e.event_type),
        esc(&summarize(&ev))
    );
    let _ = write!(
        s,
        "<div class=\"ids\">{} · {} · {}{}</div>\n<pre>{}</pre></details>",
        esc(if e.event_id.is_empty() {
            "(no id)"
        } else {
            &e.event_id
        }),
        esc(e.processed_at.as_deref().unwrap_or("queued")),
        esc(&e.source),
        sent_with_unblock
            .map(|t| format!(" · sent with flightrec unblock at {}", esc(&t)))
            .unwrap_or_default(),
        esc(&flow::pretty_json(&e.raw).unwrap_or_else(|| e.raw.clone()))
    );
    if let Some(x) = x {
        let _ = writeln!(
            s,
            "<div class=\"at-verdict\">Verdict here: <span class=\"mono\">{}</span>{} — {}</div>",
            esc(x.verdict.as_str()),
            if x.attention {
                " (needs attention)"
            } else {
                ""
            },
            esc(&x.summary)
        );
    }
    s.push_str("</li>\n");
}
