//! `flightrec explain SESSION [--at EVENT_ID|TIME]`: why the session is idle or stuck, the
//! evidence, and what to do now. The `--json` object is documented in docs/explain-json.md.

use std::path::Path;

use super::args::VerdictArgs;
use super::output::{self, Painter};
use super::state::at_of;
use super::{Outcome, exit, open_existing, resolve};
use flightrec::analysis::explain::Explanation;
use flightrec::inspect::{self, ExplainAt};
pub use flightrec::report::explain::text;
use flightrec::store::{SessionSummary, Store};

#[derive(clap::Args)]
pub struct Args {
    /// The session: its id, a unique prefix or suffix, latest or latest-stuck
    session: String,
    /// Explain the session as it stood at this point: an event id (or a unique prefix or suffix of one), a time, or +DURATION
    #[arg(long, value_name = "EVENT_ID|TIME")]
    at: Option<String>,
    #[command(flatten)]
    verdict: VerdictArgs,
    /// text, md (Markdown, for an issue or a chat) or json (the same as --json)
    #[arg(long, value_enum, value_name = "FORMAT", conflicts_with = "json")]
    format: Option<Format>,
}

/// `explain --format`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
enum Format {
    Text,
    Md,
    Json,
}

pub fn wall_clock() -> i64 {
    chrono::Utc::now().timestamp_micros()
}

/// The explanation of one session at `--at` (the end of the recording for `None`), with the
/// findings of the session up to there.
pub fn explain_session(
    store: &Store,
    summary: &SessionSummary,
    at: Option<&str>,
    now: i64,
    stuck_after: i64,
) -> anyhow::Result<Explanation> {
    let (point, at) = at_of(store, summary, at, now)?;
    let x = ExplainAt {
        point,
        at,
        now,
        stuck_after_us: stuck_after,
    };
    Ok(inspect::explain_with_findings(store, summary, &x)?.0)
}

pub fn run(db: &Path, args: Args) -> Outcome {
    let store = open_existing(db)?;
    let v = &args.verdict;
    let summary = resolve::session_at(&store, &args.session, &resolve::Attention::of(v))?;
    let x = explain_session(&store, &summary, args.at.as_deref(), v.now(), v.stuck_after)?;
    let format = match args.format {
        Some(f) => f,
        None if v.json => Format::Json,
        None => Format::Text,
    };
    match format {
        Format::Json => output::print_json(&x)?,
        Format::Md => output::print(flightrec::export::md::explain_md(&x).trim_end())?,
        Format::Text => output::print_styled(painted(&text(&x), output::painter()))?,
    }
    Ok(exit::OK)
}

/// The text report, styled when colour is on: the verdict bold, `NEEDS ATTENTION` yellow and
/// `ok` green, the section headings bold, `WAITING` yellow, errors red. Every line is made
/// visible first ([`Painter::paint`]), so only these styles reach the terminal.
fn painted(text: &str, p: Painter) -> String {
    use output::Style;
    let mut section = "";
    let lines = text.lines().enumerate().map(|(i, line)| {
        if i == 0 {
            return match line.split_once(": ") {
                Some((verdict, rest)) => {
                    let (flag, summary) = rest.split_once(" — ").unwrap_or((rest, ""));
                    let style = if flag == "ok" {
                        Style::Green
                    } else {
                        Style::BoldYellow
                    };
                    format!(
                        "{}: {} — {}",
                        p.paint(Style::Bold, verdict),
                        p.paint(style, flag),
                        p.paint(Style::Plain, summary)
                    )
                }
                None => p.paint(Style::Bold, line),
            };
        }
        if !line.starts_with(' ') && line.ends_with(':') || line.starts_with("findings (") {
            section = if line.starts_with("errors") {
                "errors"
            } else {
                ""
            };
            let style = if section == "errors" {
                Style::Red
            } else {
                Style::Bold
            };
            return p.paint(style, line);
        }
        if let Some((head, tail)) = line.split_once("WAITING") {
            return format!(
                "{}{}{}",
                p.paint(Style::Plain, head),
                p.paint(Style::BoldYellow, "WAITING"),
                p.paint(Style::Plain, tail)
            );
        }
        if line.is_empty() {
            section = "";
        }
        let style = if section == "errors" {
            Style::Red
        } else {
            Style::Plain
        };
        p.paint(style, line)
    });
    lines.collect::<Vec<_>>().join("\n")
}
