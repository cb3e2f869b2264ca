//! `flightrec check SESSION...`: one line per session, and an exit code for cron jobs and CI:
//! 0 when every session is healthy or finished, 1 when any needs attention (blocked, stalled,
//! retries exhausted, budget reached, refused, terminated after errors), 2 on an error. With
//! `--findings`, also 1 when a finding of warning or worse exists anywhere in a session.

use serde::Serialize;
use std::path::Path;

use super::args::VerdictArgs;
use super::explain::explain_session;
use super::{Outcome, exit, open_existing, output, resolve};
use flightrec::analysis::explain::Verdict;
use flightrec::analysis::findings::{Finding, Severity};
use flightrec::report::format::when;

#[derive(clap::Args)]
#[command(
    mut_arg("stuck_after", |a| a.help("A running session with no event for longer than this is stuck")),
    mut_arg("json", |a| a.help("Print JSON (an array, one object per session) instead of lines"))
)]
pub struct Args {
    /// The sessions: ids, unique prefixes or suffixes, latest or latest-stuck
    #[arg(required = true, value_name = "SESSION")]
    sessions: Vec<String>,
    #[command(flatten)]
    verdict: VerdictArgs,
    /// Also exit 1 when a finding of warning or worse exists anywhere in a session (an early
    /// refusal, an empty turn, a loop…), not only when its end state needs attention
    #[arg(long)]
    findings: bool,
}

#[derive(Serialize)]
struct Line {
    session_id: String,
    attention: bool,
    verdict: Verdict,
    state: String,
    stop_reason: Option<String>,
    summary: String,
    last_event_at: Option<String>,
    silent_ms: Option<i64>,
    /// With `--findings`: the session's findings of warning or worse.
    #[serde(skip_serializing_if = "Option::is_none")]
    findings: Option<Vec<Finding>>,
}

pub fn run(db: &Path, args: Args) -> Outcome {
    let store = open_existing(db)?;
    let (now, json) = (args.verdict.now(), args.verdict.json);
    let mut lines: Vec<Line> = Vec::new();
    let mut failed = false;
    for id in &args.sessions {
        let result = resolve::session_at(&store, id, &resolve::Attention::of(&args.verdict))
            .and_then(|summary| {
                explain_session(&store, &summary, None, now, args.verdict.stuck_after)
            });
        match result {
            Ok(x) => {
                let serious: Vec<Finding> = x
                    .findings
                    .iter()
                    .filter(|f| f.severity >= Severity::Warning)
                    .cloned()
                    .collect();
                let line = Line {
                    session_id: x.session_id,
                    attention: x.attention,
                    verdict: x.verdict,
                    state: x.state,
                    stop_reason: x.stop_reason,
                    summary: x.summary,
                    last_event_at: x.last_event.and_then(|m| m.at),
                    silent_ms: x.silent_ms,
                    findings: args.findings.then_some(serious),
                };
                if !json {
                    let flag = if line.attention { "ATTENTION" } else { "ok" };
                    output::print(format!(
                        "{}  {flag:<9}  {:<19}  {}",
                        line.session_id, line.verdict, line.summary
                    ))?;
                    for f in line.findings.iter().flatten() {
                        output::print(format!(
                            "    {} {} turn {} {}: {}",
                            f.severity.as_str(),
                            f.code.as_str(),
                            f.turn,
                            when(f.at.as_deref()),
                            f.message
                        ))?;
                    }
                }
                lines.push(line);
            }
            Err(e) => {
                output::error_line(&e);
                failed = true;
            }
        }
    }
    if json {
        output::print_json(&lines)?;
    }
    Ok(if failed {
        exit::ERROR
    } else if lines
        .iter()
        .any(|l| l.attention || l.findings.as_ref().is_some_and(|f| !f.is_empty()))
    {
        exit::ATTENTION
    } else {
        exit::OK
    })
}
