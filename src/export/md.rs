//! `export --format md`: a readable transcript. The session's facts and the explain verdict
//! first, then the flow: messages as quotes under a heading per speaker, tool calls folded in
//! `<details>` with their input and replies, errors marked, and the verdict at each idle.
//!
//! Event content never becomes markup: HTML-significant characters are escaped everywhere, inline
//! text is markdown-escaped, and code fences are longer than any backtick run they hold. Control
//! characters are shown, not obeyed (`model::term`), for whoever `cat`s the file.

use std::collections::{HashMap, HashSet};
use std::fmt::Write as _;
use std::io::{self, Write};

mod escape;
mod explain;

pub use escape::{code, fence, html_escape, inline, prose};
pub use explain::explain_md;

use super::SessionDoc;
use super::flow::{self, Facts};
use super::stream::Session;
use super::transcript::{IdleVerdicts, Survey};
use crate::analysis::explain::Explanation;
use crate::analysis::summarize;
use crate::model::typed::{ContentBlock, Event, EventKind, blocks_text};
use crate::report::explain as report;
use crate::store::{CaptureEntry, EventRow, QUEUED_SORT_TS};

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
    let idles = flow::idle_verdicts(doc, stuck_after);
    let all = flow::replies(doc);
    let mut f = Flow::new(doc.summary.first_ts, &doc.capture);
    for i in flow::unique(doc) {
        let mut replies = |id: &str| {
            Ok(all
                .get(id)
                .map(|r| r.iter().map(|&j| (j, doc.events[j].clone())).collect())
                .unwrap_or_default())
        };
        f.event(&mut s, i, &doc.events[i], idles.get(&i), &mut replies)?;
    }
    // People `cat` transcripts: control characters in event text are shown, not obeyed.
    out.write_all(crate::model::term::visible(&s).as_bytes())
}

/// Writes the markdown transcript of a streamed session: the survey's pass first (facts,
/// verdict), then each event as it is read again, a tool call's replies read by seq when the
/// call is reached, and the verdict at each idle folded as it is reached. Memory holds the
/// survey's small facts, one event and the replies of one tool call.
pub fn write_md_streamed(
    session: &Session<'_>,
    now: i64,
    stuck_after: i64,
    out: &mut dyn Write,
) -> crate::store::Result<()> {
    let sv = Survey::read(session, now, stuck_after)?;
    let mut s = String::new();
    header(&mut s, &sv.facts);
    verdict(&mut s, &sv.explanation);
    s.push_str("\n## Transcript\n");
    let mut verdicts = IdleVerdicts::new(session, &sv.capture_report, stuck_after);
    let mut f = Flow::new(session.summary.first_ts, &sv.capture);
    f.shown = None;
    session.store.index_links(session.id(), flow::REPLY_TYPES)?;
    // Replies written under their tool call that the pass has not reached yet, by seq: those
    // of the calls still waiting for them.
    let mut ahead: HashSet<i64> = HashSet::new();
    let mut i = 0;
    session.each_event(|e| {
        let n = i;
        i += 1;
        let shown = sv.is_shown(n, &e.event_id);
        let x = verdicts.at(&e, shown).map_err(io::Error::other)?;
        if shown && !ahead.remove(&e.seq) {
            let here = (e.ts.unwrap_or(QUEUED_SORT_TS), e.seq);
            let mut replies = |id: &str| -> io::Result<Vec<(usize, EventRow)>> {
                let mut rows = Vec::new();
                for r in session.store.linked_to(id).map_err(io::Error::other)? {
                    if !sv.is_shown_seq(r.seq, &r.event_id) {
                        continue;
                    }
                    if (r.sort_ts, r.seq) > here {
                        ahead.insert(r.seq);
                    }
                    match session.event_by_seq(r.seq).map_err(io::Error::other)? {
                        // The index is for a flow that keeps what it wrote; this one does not.
                        Some(row) => rows.push((0, row)),
                        None => {
                            return Err(io::Error::other(format!("event seq {} is gone", r.seq)));
                        }
                    }
                }
                Ok(rows)
            };
            f.event(&mut s, n, &e, x.as_ref(), &mut replies)?;
            out.write_all(crate::model::term::visible(&s).as_bytes())?;
            s.clear();
        }
        Ok(())
    })?;
    out.write_all(crate::model::term::visible(&s).as_bytes())
        .map_err(crate::store::StoreError::Output)
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

/// The replies to the event with an id, with their indices, in session order.
type Replies<'r> = dyn FnMut(&str) -> io::Result<Vec<(usize, EventRow)>> + 'r;

/// The transcript's flow as it is written, event after event.
struct Flow<'a> {
    first_ts: Option<i64>,
    capture: &'a [CaptureEntry],
    /// Replies already written under their tool call, by index; `None` when the caller skips
    /// them itself (the streamed transcript, which keeps only those it has not reached).
    shown: Option<HashSet<usize>>,
    /// Thread names, from the `session.thread_created` events so far.
    names: HashMap<String, String>,
}

impl<'a> Flow<'a> {
    fn new(first_ts: Option<i64>, capture: &'a [CaptureEntry]) -> Self {
        Flow {
            first_ts,
            capture,
            shown: Some(HashSet::new()),
            names: HashMap::new(),
        }
    }

    /// Writes the event `e` (index `i`, shown once), unless it was written under its tool call.
    fn event(
        &mut self,
        s: &mut String,
        i: usize,
        e: &EventRow,
        idle_verdict: Option<&Explanation>,
        replies: &mut Replies<'_>,
    ) -> io::Result<()> {
        if self.shown.as_ref().is_some_and(|s| s.contains(&i)) {
            return Ok(());
        }
        let ev = Event::parse(&e.raw);
        let when = flow::offset_from(self.first_ts, e);
        let thread = flow::thread_of(e)
            .map(|t| match self.names.get(&t) {
                Some(n) => format!(" · thread {} ({})", code(&t), inline(n)),
                None => format!(" · thread {}", code(&t)),
            })
            .unwrap_or_default();
        let mut tool_call = |s: &mut String, name: &str| -> io::Result<()> {
            let r = replies(&e.event_id)?;
            tool(s, self.first_ts, self.capture, e, name, &when, &thread, &r);
            if let Some(shown) = self.shown.as_mut() {
                shown.extend(r.iter().map(|(j, _)| *j));
            }
            Ok(())
        };
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
            AgentToolUse { name, .. } | AgentCustomToolUse { name, .. } => tool_call(s, name)?,
            AgentMcpToolUse {
                mcp_server_name,
                name,
                ..
            } => tool_call(s, &format!("{mcp_server_name}/{name}"))?,
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
            SessionStatusIdle { .. } => idle(s, &when, &ev, idle_verdict),
            SessionThreadCreated {
                session_thread_id,
                agent_name,
                ..
            } => {
                self.names
                    .insert(session_thread_id.clone(), agent_name.clone());
                status(s, &when, &summarize(&ev), e)
            }
            AgentThinking { .. } | SpanModelRequestStart { .. } | SpanModelRequestEnd { .. } => {}
            EventStart { .. } | EventDelta { .. } => {}
            // An event the typed view cannot read (a tool input nested past serde_json's 128
            // levels, a missing field): shown from its raw text rather than lost.
            Invalid { .. } if flow::is_tool_use(&e.event_type) => {
                let name = flow::tool_name(&e.raw).unwrap_or_else(|| "?".into());
                tool_call(s, &name)?
            }
            Invalid { .. } if !flow::is_reply(&e.event_type) => raw_event(s, &when, &ev, e),
            _ if flow::is_reply(&e.event_type) => {
                let _ = writeln!(
                    s,
                    "\n**Reply to {}** · {when}{thread}\n",
                    code(e.link_id.as_deref().unwrap_or("?"))
                );
                reply(s, self.first_ts, self.capture, e);
            }
            _ => status(s, &when, &summarize(&ev), e),
        }
        Ok(())
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

#[allow(clippy::too_many_arguments)]
fn tool(
    s: &mut String,
    first_ts: Option<i64>,
    capture: &[CaptureEntry],
    e: &EventRow,
    name: &str,
    when: &str,
    thread: &str,
    replies: &[(usize, EventRow)],
) {
    let results: Vec<&EventRow> = replies
        .iter()
        .map(|(_, r)| r)
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
    for (_, r) in replies {
        reply(s, first_ts, capture, r);
    }
    s.push_str("\n</details>\n");
}

fn is_error(raw: &str) -> bool {
    super::html::is_error("", raw)
}

/// A confirmation or a result, inside its tool call's fold.
fn reply(s: &mut String, first_ts: Option<i64>, capture: &[CaptureEntry], e: &EventRow) {
    let mut when = flow::offset_from(first_ts, e);
    if let Some(t) = flow::sent_with_unblock_in(capture, &e.event_id) {
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
