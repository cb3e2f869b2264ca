//! `export --format md`: a readable transcript. The session's facts and the explain verdict
//! first, then the flow: messages as quotes under a heading per speaker, tool calls folded in
//! `<details>` with their input and replies, errors marked, and the verdict at each idle.
//!
//! Event content never becomes markup: HTML-significant characters are escaped everywhere, inline
//! text is markdown-escaped, and code fences are longer than any backtick run they hold. Control
//! characters are shown, not obeyed (`model::term`), for whoever `cat`s the file.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fmt::Write as _;
use std::io::{self, Write};

mod escape;
mod explain;

pub use escape::{code, fence, html_escape, inline, prose};
pub use explain::explain_md;

use super::SessionDoc;
use super::flow::{self, Facts};
use crate::analysis::explain::Explanation;
use crate::analysis::summarize;
use crate::model::typed::{ContentBlock, Event, EventKind, blocks_text};
use crate::report::explain as report;
use crate::store::EventRow;

/// A result longer than this (characters or lines) gets a fold of its own.
const LONG_CHARS: usize = 2000;
const LONG_LINES: usize = 30;

/// Writes the markdown transcript of `doc`. `x` is the verdict at the end of the recording;
/// `stuck_after` (µs) is the threshold used for the verdicts at each idle.
pub fn write_md(
    doc: &SessionDoc,
    x: &Explanation,
    stuck_after: i64,
    out: &mut dyn Write,
) -> io::Result<()> {
    let mut s = String::new();
    header(&mut s, &flow::facts(doc));
    verdict(&mut s, x);
    s.push_str("\n## Transcript\n");
    body(&mut s, doc, &flow::idle_verdicts(doc, stuck_after));
    // People `cat` transcripts: control characters in event text are shown, not obeyed.
    out.write_all(crate::model::term::visible(&s).as_bytes())
}

/// A block quote of message text: HTML escaped, the text's own markdown kept.
fn quote(text: &str) -> String {
    let mut out = String::new();
    for line in html_escape(text).lines() {
        if line.trim().is_empty() {
            out.push_str(">\n");
        } else {
            let _ = writeln!(out, "> {line}");
        }
    }
    if out.is_empty() {
        out.push_str("> *(no text)*\n");
    }
    out
}

fn header(s: &mut String, f: &Facts) {
    let title = f.title.as_deref().unwrap_or(&f.id);
    let _ = writeln!(s, "# Session transcript: {}\n", inline(title));
    let _ = writeln!(s, "- **Session:** {}", code(&f.id));
    let stop = f
        .stop_reason
        .as_ref()
        .filter(|_| f.status == "idle")
        .map(|r| format!(" (stop reason {})", code(r)))
        .unwrap_or_default();
    let _ = writeln!(s, "- **Status:** {}{stop}", inline(&f.status));
    if let (Some(a), Some(b)) = (&f.started, &f.ended) {
        let d = f.duration.as_deref().unwrap_or("?");
        let _ = writeln!(s, "- **Recorded:** {a} → {b} ({d})");
    }
    let _ = writeln!(s, "- **Events:** {}", f.events);
    if let Some(a) = &f.agent {
        let _ = writeln!(s, "- **Agent:** {}", inline(a));
    }
    if let Some(m) = &f.model {
        let _ = writeln!(s, "- **Model:** {}", code(m));
    }
}

fn verdict(s: &mut String, x: &Explanation) {
    let flag = if x.attention { "needs attention" } else { "ok" };
    let _ = writeln!(s, "\n## Verdict: {} — {flag}\n", code(x.verdict.as_str()));
    let _ = writeln!(s, "{}", prose(&x.summary));
    if !x.evidence.is_empty() {
        s.push_str("\n**Evidence**\n\n");
        for e in &x.evidence {
            let at = e.at.as_deref().unwrap_or("(queued)");
            let _ = writeln!(
                s,
                "- {at} {} {} — {}",
                code(&e.event_type),
                code(&e.event_id),
                inline(&e.note)
            );
        }
    }
    if !x.advice.is_empty() {
        s.push_str("\n**What to do**\n\n");
        for a in &x.advice {
            let _ = writeln!(s, "- {}", prose(a));
        }
    }
    s.push_str("\n<details><summary>The full explain report</summary>\n\n");
    s.push_str(&fence(&report::text(x), "text"));
    s.push_str("\n</details>\n");
}

fn body(s: &mut String, doc: &SessionDoc, idles: &BTreeMap<usize, Explanation>) {
    let replies = flow::replies(doc);
    let mut shown: HashSet<usize> = HashSet::new();
    let mut names: HashMap<String, String> = HashMap::new();
    for i in flow::unique(doc) {
        if shown.contains(&i) {
            continue;
        }
        let e = &doc.events[i];
        let ev = Event::parse(&e.raw);
        let when = flow::offset(doc, e);
        let thread = flow::thread_of(e)
            .map(|t| match names.get(&t) {
                Some(n) => format!(" · thread {} ({})", code(&t), inline(n)),
                None => format!(" · thread {}", code(&t)),
            })
            .unwrap_or_default();
        use EventKind::*;
        match &ev.kind {
            UserMessage { content, .. } => message(s, "User", &when, &thread, content),
            AgentMessage { content, .. } => message(s, "Agent", &when, &thread, content),
            SystemMessage { content, .. } => message(s, "System", &when, &thread, content),
            AgentThreadMessageSent {
                to_session_thread_id,
                to_agent_name,
                content,
                ..
            } => {
                let to = format!(
                    "Agent → {} ({})",
                    inline(to_agent_name.as_deref().unwrap_or("primary agent")),
                    code(to_session_thread_id)
                );
                message(s, &to, &when, &thread, content)
            }
            AgentThreadMessageReceived {
                from_session_thread_id,
                from_agent_name,
                content,
                ..
            } => {
                let from = format!(
                    "{} ({}) → agent",
                    inline(from_agent_name.as_deref().unwrap_or("primary agent")),
                    code(from_session_thread_id)
                );
                message(s, &from, &when, &thread, content)
            }
            AgentToolUse { name, .. } | AgentCustomToolUse { name, .. } => {
                let r = replies.get(e.event_id.as_str()).map(Vec::as_slice);
                tool(s, doc, e, name, &when, &thread, r);
                shown.extend(r.unwrap_or_default());
            }
            AgentMcpToolUse {
                mcp_server_name,
                name,
                ..
            } => {
                let r = replies.get(e.event_id.as_str()).map(Vec::as_slice);
                let full = format!("{mcp_server_name}/{name}");
                tool(s, doc, e, &full, &when, &thread, r);
                shown.extend(r.unwrap_or_default());
            }
            SessionError { error, .. } => {
                let retry = error
                    .retry_status
                    .as_ref()
                    .map(|r| format!(" ({})", inline(r.kind.as_str())))
                    .unwrap_or_default();
                let _ = writeln!(
                    s,
                    "\n> **⚠ Error** · {when}{thread} · {}{retry}: {}",
                    code(error.kind.as_str()),
                    inline(error.message.as_deref().unwrap_or("(no message)"))
                );
            }
            SessionStatusIdle { .. } => idle(s, &when, &ev, idles.get(&i)),
            SessionThreadCreated {
                session_thread_id,
                agent_name,
                ..
            } => {
                names.insert(session_thread_id.clone(), agent_name.clone());
                status(s, &when, &summarize(&ev), e)
            }
            AgentThinking { .. } | SpanModelRequestStart { .. } | SpanModelRequestEnd { .. } => {}
            EventStart { .. } | EventDelta { .. } => {}
            // An event the typed view cannot read (a tool input nested past serde_json's 128
            // levels, a missing field): shown from its raw text rather than lost.
            Invalid { .. } if flow::is_tool_use(&e.event_type) => {
                let r = replies.get(e.event_id.as_str()).map(Vec::as_slice);
                let name = flow::tool_name(&e.raw).unwrap_or_else(|| "?".into());
                tool(s, doc, e, &name, &when, &thread, r);
                shown.extend(r.unwrap_or_default());
            }
            Invalid { .. } if !flow::is_reply(&e.event_type) => raw_event(s, &when, &ev, e),
            _ if flow::is_reply(&e.event_type) => {
                let _ = writeln!(
                    s,
                    "\n**Reply to {}** · {when}{thread}\n",
                    code(e.link_id.as_deref().unwrap_or("?"))
                );
                reply(s, doc, i);
            }
            _ => status(s, &when, &summarize(&ev), e),
        }
    }
}

fn message(s: &mut String, who: &str, when: &str, thread: &str, content: &[ContentBlock]) {
    let _ = writeln!(s, "\n### {who} · {when}{thread}\n");
    s.push_str(&quote(&blocks_text(content)));
}

/// A short line: a status change or any event without a form of its own.
/// Errors (`workflow_run.error`, types to come) are marked like `session.error`.
fn status(s: &mut String, when: &str, summary: &str, e: &EventRow) {
    let mark = if e.event_type.ends_with(".error") {
        "> **⚠ Error** · "
    } else {
        ""
    };
    let _ = writeln!(
        s,
        "\n{mark}*{when}* · {} {}",
        code(&e.event_type),
        inline(summary)
    );
}

fn idle(s: &mut String, when: &str, ev: &Event, x: Option<&Explanation>) {
    let reason = ev
        .kind
        .stop_reason()
        .map(|r| r.kind.as_str().to_string())
        .unwrap_or_else(|| "?".into());
    let _ = writeln!(s, "\n---\n\n**⏸ Idle** · {when} · {}", code(&reason));
    if let Some(x) = x {
        let flag = if x.attention {
            " (needs attention)"
        } else {
            ""
        };
        let _ = writeln!(
            s,
            "\n> **Verdict {}**{flag}: {}",
            code(x.verdict.as_str()),
            prose(&x.summary)
        );
    }
    s.push_str("\n---\n");
}

fn tool(
    s: &mut String,
    doc: &SessionDoc,
    e: &EventRow,
    name: &str,
    when: &str,
    thread: &str,
    replies: Option<&[usize]>,
) {
    let replies = replies.unwrap_or_default();
    let results: Vec<&EventRow> = replies
        .iter()
        .map(|&r| &doc.events[r])
        .filter(|r| r.event_type != "user.tool_confirmation")
        .collect();
    let outcome = match results.last() {
        None => "⏳ no result",
        Some(r) if is_error(&r.raw) => "❌ error",
        Some(_) => "✓",
    };
    let label = e.event_type.trim_start_matches("agent.").replace('_', " ");
    let _ = writeln!(
        s,
        "\n<details><summary>🔧 {} · {} · {} · {}</summary>\n",
        html_escape(name),
        html_escape(&label),
        html_escape(when),
        outcome
    );
    if !thread.is_empty() {
        let _ = writeln!(s, "In{}\n", thread.trim_start_matches(" ·"));
    }
    s.push_str("**Input**\n\n");
    s.push_str(&fence(&flow::tool_input(&e.raw), "json"));
    for &r in replies {
        reply(s, doc, r);
    }
    s.push_str("\n</details>\n");
}

fn is_error(raw: &str) -> bool {
    super::html::is_error("", raw)
}

/// A confirmation or a result, inside its tool call's fold.
fn reply(s: &mut String, doc: &SessionDoc, i: usize) {
    let e = &doc.events[i];
    let mut when = flow::offset(doc, e);
    if let Some(t) = flow::sent_with_unblock(doc, &e.event_id) {
        when.push_str(&format!(
            " · sent with `flightrec unblock` at {}",
            inline(&t)
        ));
    }
    let ev = Event::parse(&e.raw);
    match &ev.kind {
        EventKind::UserToolConfirmation {
            result,
            deny_message,
            ..
        } => {
            let why = deny_message
                .as_ref()
                .map(|m| format!(": {}", inline(m)))
                .unwrap_or_default();
            let _ = writeln!(
                s,
                "\n**Confirmation** · {when} · {}{why}",
                code(result.as_str())
            );
        }
        EventKind::AgentToolResult { content, .. }
        | EventKind::AgentMcpToolResult { content, .. }
        | EventKind::UserCustomToolResult { content, .. }
        | EventKind::UserToolResult { content, .. } => {
            let err = if is_error(&e.raw) {
                " · **error**"
            } else {
                ""
            };
            let _ = writeln!(s, "\n**Result** · {when} · {}{err}\n", code(&e.event_type));
            let text = blocks_text(content);
            let json = text.trim_start().starts_with(['{', '[']);
            let (text, lang) = match flow::pretty_json(&text).filter(|_| json) {
                Some(p) => (p, "json"),
                None => (text, "text"),
            };
            let long = text.len() > LONG_CHARS || text.lines().count() > LONG_LINES;
            if long {
                let _ = writeln!(
                    s,
                    "<details><summary>{} lines, {} characters</summary>\n",
                    text.lines().count(),
                    text.chars().count()
                );
            }
            s.push_str(&fence(&text, lang));
            if long {
                s.push_str("\n</details>\n");
            }
        }
        _ => raw_event(s, &when, &ev, e),
    }
}

/// The status line of an event without a form of its own; one the typed view cannot read also
/// gets its raw text, folded, so no content is lost.
fn raw_event(s: &mut String, when: &str, ev: &Event, e: &EventRow) {
    status(s, when, &summarize(ev), e);
    if matches!(ev.kind, EventKind::Invalid { .. }) {
        let text = flow::pretty_json(&e.raw).unwrap_or_else(|| e.raw.clone());
        s.push_str("\n<details><summary>The event as received</summary>\n\n");
        s.push_str(&fence(&text, "json"));
        s.push_str("\n</details>\n");
    }
}
