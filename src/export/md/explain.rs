//! `explain --format md`: the explain report in Markdown, for pasting into an issue or a chat.
//! The same content as the text report ([`crate::report::explain::text`]), each part under a
//! heading, ids and event types as code spans, and the requests that move the session on in
//! fenced blocks (curl as `sh`, the SDK as `python`).

use std::fmt::Write as _;

use super::{code, fence, inline, prose};
use crate::analysis::explain::Explanation;
use crate::analysis::explain::unblock::Unblock;
use crate::report::format::{self, Missing, point, when};

fn ms(v: Option<i64>) -> String {
    format::ms(v, Missing::Question)
}

/// A request, as a fenced curl command and a fenced Python SDK call.
fn request(s: &mut String, u: &Unblock, heading: &str) {
    let _ = writeln!(
        s,
        "\n{heading} To {}:\n",
        inline(&u.action.replace('_', " "))
    );
    s.push_str(&fence(&u.curl, "sh"));
    s.push_str("\nOr, with the Python SDK:\n\n");
    s.push_str(&fence(&u.python, "python"));
    if let Some(t) = &u.then {
        let _ = writeln!(s, "\n{}", prose(t));
    }
}

/// The Markdown report of `x`.
pub fn explain_md(x: &Explanation) -> String {
    let mut s = String::new();
    let flag = if x.attention { "needs attention" } else { "ok" };
    let _ = writeln!(s, "## {} — {flag}\n", code(x.verdict.as_str()));
    let _ = writeln!(s, "{}\n", prose(&x.summary));
    let stop = x
        .stop_reason
        .as_ref()
        .filter(|_| x.state == "idle")
        .map(|r| format!(", stop reason {}", code(r)))
        .unwrap_or_default();
    let _ = writeln!(
        s,
        "Session {} at {}: status {}{stop}",
        code(&x.session_id),
        inline(&point(x.at.as_ref())),
        code(&x.state)
    );
    findings(&mut s, x);
    blocking(&mut s, x);
    if !x.errors.is_empty() {
        s.push_str("\n### Errors this turn\n\n");
        for e in &x.errors {
            let retry = e
                .error
                .retry_status
                .as_ref()
                .map(|r| format!(" ({})", inline(r)))
                .unwrap_or_default();
            let _ = writeln!(
                s,
                "- {} {}{retry}: {}",
                inline(when(e.error.mark.at.as_deref())),
                code(&e.error.error_type),
                inline(e.error.message.as_deref().unwrap_or(""))
            );
        }
    }
    if let Some(u) = &x.usage {
        let m = &u.model_requests;
        let usage = u
            .session_usage
            .as_ref()
            .map(|su| {
                format!(
                    " (session.usage {} at {})",
                    code(&su.mark.event_id),
                    inline(when(su.mark.at.as_deref()))
                )
            })
            .unwrap_or_default();
        let _ = writeln!(
            s,
            "\n### Spend\n\n{}{usage} of a {} budget; {} model requests: input {} · output {} · cache read {} · cache write {}",
            inline(Missing::Question.or(u.spent.as_deref())),
            inline(Missing::Question.or(u.budget_display.as_deref())),
            m.requests,
            m.input_tokens,
            m.output_tokens,
            m.cache_read_input_tokens,
            m.cache_creation_input_tokens
        );
    }
    if !x.open_spans.is_empty() {
        s.push_str("\n### Open\n\n");
        for o in &x.open_spans {
            let _ = writeln!(
                s,
                "- {} {} ({}) since {}, {}",
                inline(&o.kind.to_string()),
                inline(&o.name),
                code(&o.start_id),
                inline(when(o.started_at.as_deref())),
                ms(o.age_ms)
            );
        }
    }
    for u in &x.requests {
        request(&mut s, u, "###");
    }
    if !x.evidence.is_empty() {
        s.push_str("\n### Evidence\n\n");
        for e in &x.evidence {
            let _ = writeln!(
                s,
                "- {} {} {} — {}",
                inline(when(e.at.as_deref())),
                code(&e.event_type),
                code(&e.event_id),
                inline(&e.note)
            );
        }
    }
    if !x.advice.is_empty() {
        s.push_str("\n### What to do\n\n");
        for a in &x.advice {
            let _ = writeln!(s, "- {}", prose(a));
        }
    }
    let _ = writeln!(s, "\n### Capture\n\n{}", inline(&x.capture_note));
    for g in x.capture_gaps.iter().flatten() {
        let _ = writeln!(
            s,
            "- unproven: {} → {} ({:.1}s)",
            inline(&g.from),
            inline(&g.to),
            g.seconds
        );
    }
    crate::model::term::visible(&s).into_owned()
}

fn findings(s: &mut String, x: &Explanation) {
    if x.findings.is_empty() {
        return;
    }
    let _ = writeln!(s, "\n### Findings ({})\n", x.findings.len());
    for f in &x.findings {
        let when = match f.offset_ms {
            Some(o) => format!("+{}", ms(Some(o))),
            None => format::QUEUED.into(),
        };
        let event = f
            .event_id
            .as_deref()
            .map(code)
            .unwrap_or_else(|| "-".into());
        let _ = writeln!(
            s,
            "- {} **{}** turn {} {} {event}: {}",
            inline(&when),
            f.severity.as_str(),
            f.turn,
            code(f.code.as_str()),
            inline(&f.message)
        );
    }
}

fn blocking(s: &mut String, x: &Explanation) {
    if x.blocking.is_empty() {
        return;
    }
    s.push_str("\n### Blocking\n");
    for b in &x.blocking {
        let name = format!(
            "{}{}",
            b.mcp_server_name
                .as_ref()
                .map(|m| format!("{m}."))
                .unwrap_or_default(),
            b.name.as_deref().unwrap_or("")
        );
        let what = match &b.event_type {
            Some(t) => code(t),
            None => "(not in the recording)".into(),
        };
        let name = if name.is_empty() {
            String::new()
        } else {
            format!(" {}", code(&name))
        };
        let state = if b.resolution.as_deref() == Some("queued") {
            format!(
                "answer {} sent, queued (not yet processed by the server)",
                b.resolved_by
                    .as_deref()
                    .map(code)
                    .unwrap_or_else(|| "?".into())
            )
        } else if b.resolved {
            format!(
                "answered{} after {}",
                b.resolved_by
                    .as_deref()
                    .map(|r| format!(" by {}", code(r)))
                    .unwrap_or_default(),
                ms(b.waited_ms)
            )
        } else {
            format!(
                "**waiting** for a {}{} for {} (since {}){}",
                code(&b.needs),
                if b.waiting_on == Some("worker") {
                    " from the self-hosted worker"
                } else {
                    ""
                },
                ms(b.waited_ms),
                inline(when(b.waiting_since.as_deref())),
                b.waited_until_now_ms
                    .map(|n| format!(", {} until now", ms(Some(n))))
                    .unwrap_or_default()
            )
        };
        let _ = writeln!(s, "\n- {} {what}{name}: {state}", code(&b.event_id));
        if let Some(i) = &b.input_excerpt {
            let _ = writeln!(s, "  - input: {}", code(i));
        }
        if let Some(n) = &b.note {
            let _ = writeln!(s, "  - note: {}", prose(n));
        }
        for u in &b.unblock {
            request(s, u, "####");
        }
    }
}
