//! `flightrec capture SESSION`

use std::path::Path;

use super::{Outcome, exit, open_existing, output, resolve};
use flightrec::analysis::capture::{CaptureReport, capture_report};

#[derive(clap::Args)]
pub struct Args {
    /// The session: its id, a unique prefix or suffix, latest or latest-stuck
    session: String,
    /// Print JSON instead of text
    #[arg(long)]
    json: bool,
}

pub fn run(db: &Path, mut args: Args) -> Outcome {
    let store = open_existing(db)?;
    args.session = resolve::session_id(&store, &args.session)?;
    let report = capture_report(
        &store.capture_log(&args.session)?,
        store.events_by_source(&args.session)?,
    );
    if args.json {
        output::print_json(&report)?;
    } else {
        print_text(&args.session, &report)?;
    }
    Ok(exit::OK)
}

fn print_text(session: &str, r: &CaptureReport) -> anyhow::Result<()> {
    let sources: Vec<String> = r
        .events_by_source
        .iter()
        .map(|(k, v)| format!("{v} from {k}"))
        .collect();
    output::print(format!(
        "{session}: events {}",
        if sources.is_empty() {
            "none".into()
        } else {
            sources.join(", ")
        }
    ))?;
    output::print(format!(
        "{} connection(s), {} history pass(es), {} retries, {} error frame(s), {} import(s)",
        r.connections.len(),
        r.history_passes,
        r.retries,
        r.error_frames,
        r.imports
    ))?;
    if !r.connections.is_empty() {
        let mut t = output::table(&[
            "#",
            "THREAD",
            "OPENED",
            "DURATION",
            "EVENTS",
            "CLOSED BECAUSE",
        ]);
        for c in &r.connections {
            t.add_row(vec![
                c.number.to_string(),
                if c.thread_id.is_empty() {
                    "session".into()
                } else {
                    c.thread_id.clone()
                },
                c.opened_at.clone(),
                c.duration_seconds
                    .map(|d| format!("{d:.1}s"))
                    .unwrap_or_default(),
                c.events.map(|n| n.to_string()).unwrap_or_default(),
                c.cause
                    .clone()
                    .unwrap_or_else(|| "(recorder stopped with it open)".into()),
            ]);
        }
        output::print_styled(t)?;
    }
    match &r.gaps {
        None => output::print(
            "completeness: imported from files; flightrec cannot vouch for what they held",
        ),
        Some(g) if g.is_empty() => output::print("completeness: no unproven interval"),
        Some(gaps) => {
            output::print(format!(
                "completeness: {} unproven interval(s):",
                gaps.len()
            ))?;
            for g in gaps {
                output::print(format!("  {} → {} ({:.1}s)", g.from, g.to, g.seconds))?;
            }
            Ok(())
        }
    }?;
    Ok(())
}
