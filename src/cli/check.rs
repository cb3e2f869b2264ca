//! `flightrec check SESSION...`: one line per session, and an exit code for cron jobs and CI:
//! 0 when every session is healthy or finished, 1 when any needs attention (blocked, stalled,
//! retries exhausted, budget reached, refused, terminated after errors), 2 on an error. With
//! `--findings`, also 1 when a finding of warning or worse exists anywhere in a session.
//! `--all`, `--running` and `--since` select sessions instead and apply `watch`'s rules to them
//! (`check/rules.rs`).

mod rules;

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
    group(clap::ArgGroup::new("select").args(["all", "running", "since"]).multiple(true)),
    override_usage = "flightrec check [OPTIONS] SESSION...\n       flightrec check [OPTIONS] --all | --running | --since TIME",
    mut_arg("stuck_after", |a| a.help("A running session with no event for longer than this is stuck; with the rules, a requires_action wait (or a child thread's) longer than this fires")),
    mut_arg("json", |a| a.help("Print JSON instead of lines: an array with one object per session, or with the rules one per hit")),
    after_help = "Rules (with --all, --running or --since; one line per session with hits, exit 1 when any fires):\n  \
                  requires_action, running_silent, reschedule_loop, retries_exhausted, budget_reached, refusal,\n  \
                  empty_turn, child_blocked, tool_overdue (see README, \"Check a workspace\")."
)]
pub struct Args {
    /// The sessions: ids, unique prefixes or suffixes, latest or latest-stuck
    #[arg(
        value_name = "SESSION",
        required_unless_present = "select",
        conflicts_with = "select"
    )]
    sessions: Vec<String>,
    #[command(flatten)]
    verdict: VerdictArgs,
    /// Also exit 1 when a finding of warning or worse exists anywhere in a session (an early
    /// refusal, an empty turn, a loop…), not only when its end state needs attention
    #[arg(long, conflicts_with = "select")]
    findings: bool,
    #[command(flatten)]
    rules: rules::RuleArgs,
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
    if args.rules.selects() {
        return rules::run(&store, &args.verdict, &args.rules);
    }
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
