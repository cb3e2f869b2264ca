//! The human report of an [`Explanation`]: the verdict line first, then blocking events with the
//! requests that answer them, errors, spend, open spans, evidence and advice. Pure text, shared by
//! `flightrec explain` and the transcript exports. A missing duration or amount shows as "?"
//! ([`Missing::Question`]).

use super::format::{Missing, QUEUED, indent, point, when};
use crate::analysis::explain::Explanation;

fn ms(v: Option<i64>) -> String {
    super::format::ms(v, Missing::Question)
}

/// The whole-session findings, right after the verdict.
fn findings(x: &Explanation, out: &mut Vec<String>) {
    if x.findings.is_empty() {
        return;
    }
    out.push(String::new());
    out.push(format!("findings ({}):", x.findings.len()));
    for f in &x.findings {
        let when = match f.offset_ms {
            Some(o) => format!("+{}", ms(Some(o))),
            None => QUEUED.into(),
        };
        out.push(format!(
            "  {when:<9} {:<7}  turn {:<3} {:<17} {}  {}",
            f.severity.as_str(),
            f.turn,
            f.code.as_str(),
            Missing::Dash.or(f.event_id.as_deref()),
            f.message
        ));
    }
}

/// The human report: the verdict line first, then the findings and the evidence.
pub fn text(x: &Explanation) -> String {
    let mut out: Vec<String> = Vec::new();
    let flag = if x.attention { "NEEDS ATTENTION" } else { "ok" };
    out.push(format!("{}: {} — {}", x.verdict, flag, x.summary));
    out.push(format!(
        "session {} at {}: status {}{}",
        x.session_id,
        point(x.at.as_ref()),
        x.state,
        x.stop_reason
            .as_ref()
            .filter(|_| x.state == "idle")
            .map(|s| format!(", stop reason {s}"))
            .unwrap_or_default()
    ));
    findings(x, &mut out);
    if !x.blocking.is_empty() {
        out.push(String::new());
        out.push("blocking:".into());
        for b in &x.blocking {
            let what = format!(
                "{} {}{}",
                b.event_type.as_deref().unwrap_or("(not in the recording)"),
                b.mcp_server_name
                    .as_ref()
                    .map(|s| format!("{s}."))
                    .unwrap_or_default(),
                b.name.as_deref().unwrap_or("")
            );
            let state = if b.resolution.as_deref() == Some("queued") {
                format!(
                    "answer {} sent, queued (not yet processed by the server)",
                    Missing::Question.or(b.resolved_by.as_deref())
                )
            } else if b.resolved {
                format!(
                    "answered{} after {}",
                    b.resolved_by
                        .as_ref()
                        .map(|r| format!(" by {r}"))
                        .unwrap_or_default(),
                    ms(b.waited_ms)
                )
            } else {
                format!(
                    "WAITING for a {}{} for {} (since {}){}",
                    b.needs,
                    if b.waiting_on == Some("worker") {
                        " from the self-hosted worker"
                    } else {
                        ""
                    },
                    ms(b.waited_ms),
                    when(b.waiting_since.as_deref()),
                    b.waited_until_now_ms
                        .map(|n| format!(", {} until now", ms(Some(n))))
                        .unwrap_or_default()
                )
            };
            out.push(format!("  {} {what}: {state}", b.event_id));
            if let Some(i) = &b.input_excerpt {
                out.push(format!("    input: {i}"));
            }
            if let Some(n) = &b.note {
                out.push(format!("    note: {n}"));
            }
            for u in &b.unblock {
                out.push(format!("    to {}:", u.action));
                out.push(indent(&u.curl, "      "));
                out.push("      # or, with the Python SDK:".into());
                out.push(indent(&u.python, "      "));
                if let Some(t) = &u.then {
                    out.push(format!("      # {t}"));
                }
            }
        }
    }
    if !x.errors.is_empty() {
        out.push(String::new());
        out.push("errors this turn:".into());
        for e in &x.errors {
            out.push(format!(
                "  {} {}{}: {}",
                when(e.error.mark.at.as_deref()),
                e.error.error_type,
                e.error
                    .retry_status
                    .as_ref()
                    .map(|r| format!(" ({r})"))
                    .unwrap_or_default(),
                e.error.message.as_deref().unwrap_or("")
            ));
        }
    }
    if let Some(u) = &x.usage {
        let m = &u.model_requests;
        out.push(String::new());
        out.push(format!(
            "spend: {}{} of a {} budget; {} model requests: input {} · output {} · cache read {} · cache write {}",
            Missing::Question.or(u.spent.as_deref()),
            u.session_usage
                .as_ref()
                .map(|s| format!(" (session.usage {} at {})", s.mark.event_id, when(s.mark.at.as_deref())))
                .unwrap_or_default(),
            Missing::Question.or(u.budget_display.as_deref()),
            m.requests,
            m.input_tokens,
            m.output_tokens,
            m.cache_read_input_tokens,
            m.cache_creation_input_tokens
        ));
    }
    if !x.open_spans.is_empty() {
        out.push(String::new());
        out.push("open:".into());
        for s in &x.open_spans {
            out.push(format!(
                "  {} {} ({}) since {}, {}",
                s.kind,
                s.name,
                s.start_id,
                when(s.started_at.as_deref()),
                ms(s.age_ms)
            ));
        }
    }
    for u in &x.requests {
        out.push(String::new());
        out.push(format!("to {}:", u.action.replace('_', " ")));
        out.push(indent(&u.curl, "  "));
        out.push("  # or, with the Python SDK:".into());
        out.push(indent(&u.python, "  "));
    }
    if !x.evidence.is_empty() {
        out.push(String::new());
        out.push("evidence:".into());
        for e in &x.evidence {
            out.push(format!(
                "  {}  {:<26} {}  {}",
                when(e.at.as_deref()),
                e.event_type,
                e.event_id,
                e.note
            ));
        }
    }
    if !x.advice.is_empty() {
        out.push(String::new());
        out.push("what to do:".into());
        for a in &x.advice {
            out.push(format!("  - {a}"));
        }
    }
    out.push(String::new());
    out.push(format!("capture: {}", x.capture_note));
    for g in x.capture_gaps.iter().flatten() {
        out.push(format!(
            "  unproven: {} → {} ({:.1}s)",
            g.from, g.to, g.seconds
        ));
    }
    out.join("\n")
}
