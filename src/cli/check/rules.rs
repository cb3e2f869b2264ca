//! `flightrec check --all | --running | --since TIME`: the rules `watch` alerts on
//! ([`flightrec::analysis::rules`]), applied to the database offline. One line per session with
//! hits (its rule codes and the first hit's summary), or `--json` with every hit; exit 1 when any
//! rule fires, 0 when none does, 2 on an error.

use std::collections::BTreeSet;

use super::super::args::{TimeArg, VerdictArgs, parse_duration_micros, parse_time};
use super::super::{Outcome, exit, output};
use flightrec::analysis::rules::{Hit, Rule, Thresholds};
use flightrec::inspect;
use flightrec::store::{SessionFilter, SessionSummary, Store};

/// Which sessions, and each rule's threshold. The verdict options (`--stuck-after`, `--json`,
/// `--now`) come from [`VerdictArgs`].
#[derive(clap::Args)]
pub struct RuleArgs {
    /// Apply the watch rules to every session in the database (instead of naming sessions)
    #[arg(long)]
    pub all: bool,
    /// Apply the rules to the sessions not at rest: running, rescheduling, or idle waiting on
    /// requires_action (what watch follows)
    #[arg(long)]
    pub running: bool,
    /// Apply the rules to the sessions active at or after TIME (their last event): 1h, 30m, 2d
    /// (ago), a date, or RFC 3339
    #[arg(long, value_name = "TIME", value_parser = parse_time)]
    pub since: Option<TimeArg>,
    /// Rules: a running session with no event for longer than this fires running_silent
    #[arg(long, value_name = "DUR", default_value = "10m", value_parser = parse_duration_micros, requires = "select")]
    pub silent_after: i64,
    /// Rules: K reschedules within DUR of now, while still running, fire reschedule_loop
    #[arg(long, value_name = "K/DUR", default_value = "3/10m", value_parser = parse_loop, requires = "select")]
    pub reschedule_loop: (usize, i64),
    /// Rules: a tool or MCP call open longer than this workspace's p99 for that tool, and never
    /// less than DUR, fires tool_overdue
    #[arg(long, value_name = "DUR", default_value = "5m", value_parser = parse_duration_micros, requires = "select")]
    pub tool_floor: i64,
    /// Rules: the p99 per tool is taken over the calls of this long before now
    #[arg(long, value_name = "DUR", default_value = "7d", value_parser = parse_duration_micros, requires = "select")]
    pub tool_history: i64,
}

impl RuleArgs {
    /// Whether sessions are selected by these options rather than named.
    pub fn selects(&self) -> bool {
        self.all || self.running || self.since.is_some()
    }
}

/// `K/DUR`: a count of at least 1 and a duration.
fn parse_loop(s: &str) -> Result<(usize, i64), String> {
    let bad = || format!("'{s}' is not K/DUR: use e.g. 3/10m (3 reschedules within 10 minutes)");
    let (k, d) = s.split_once('/').ok_or_else(bad)?;
    let k: usize = k.trim().parse().map_err(|_| bad())?;
    let d = parse_duration_micros(d).map_err(|_| bad())?;
    if k == 0 || d <= 0 {
        return Err(bad());
    }
    Ok((k, d))
}

/// The sessions selected, most recently active first.
fn select(store: &Store, args: &RuleArgs, now: i64) -> anyhow::Result<Vec<SessionSummary>> {
    let since_ts = args
        .since
        .as_ref()
        .map(|t| t.resolve_without_session(now, "--since"))
        .transpose()?;
    let base = SessionFilter {
        since_ts,
        ..SessionFilter::default()
    };
    if !args.running {
        return Ok(store.sessions_matching(&base)?);
    }
    let mut out = store.sessions_matching(&SessionFilter {
        statuses: vec!["running".into(), "rescheduling".into()],
        ..base.clone()
    })?;
    out.extend(store.sessions_matching(&SessionFilter {
        stop_reasons: vec!["requires_action".into()],
        ..base
    })?);
    out.sort_by(|a, b| b.last_ts.cmp(&a.last_ts).then_with(|| a.id.cmp(&b.id)));
    out.dedup_by(|a, b| a.id == b.id);
    Ok(out)
}

pub fn run(store: &Store, verdict: &VerdictArgs, args: &RuleArgs) -> Outcome {
    let now = verdict.now();
    let sessions = select(store, args, now)?;
    // Each session's facts as written, read once (a session without them is read as before).
    let cache = inspect::RuleCache::load(store)?;
    let (count, window) = args.reschedule_loop;
    let th = Thresholds {
        stuck_after_us: verdict.stuck_after,
        silent_after_us: args.silent_after,
        reschedule_count: count,
        reschedule_window_us: window,
        tool_floor_us: args.tool_floor,
        tool_p99_us: cache.tool_p99(store, now.saturating_sub(args.tool_history))?,
    };
    if sessions.is_empty() && !verdict.json {
        output::eprint_line("flightrec: no sessions match these filters")?;
    }
    let mut all: Vec<Hit> = Vec::new();
    let mut failed = false;
    for s in &sessions {
        match cache.hits(store, s, now, &th) {
            Ok(hits) if hits.is_empty() => {}
            Ok(hits) => {
                if !verdict.json {
                    let codes: BTreeSet<Rule> = hits.iter().map(|h| h.rule).collect();
                    let codes: Vec<&str> = codes.into_iter().map(Rule::as_str).collect();
                    output::print(format!(
                        "{}  {}  {}",
                        s.id,
                        codes.join(","),
                        hits[0].summary
                    ))?;
                }
                all.extend(hits);
            }
            Err(e) => {
                output::error_line(&anyhow::Error::new(e).context(format!("checking {}", s.id)));
                failed = true;
            }
        }
    }
    if verdict.json {
        output::print_json(&all)?;
    }
    Ok(if failed {
        exit::ERROR
    } else if all.is_empty() {
        exit::OK
    } else {
        exit::ATTENTION
    })
}

#[cfg(test)]
mod tests {
    // Test code: a failed unwrap is a failed test.
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn a_loop_is_a_count_and_a_window() {
        assert_eq!(parse_loop("3/10m"), Ok((3, 600_000_000)));
        assert_eq!(parse_loop("5/1h"), Ok((5, 3_600_000_000)));
        for bad in ["3", "0/10m", "x/10m", "3/soon", "3/0s"] {
            let e = parse_loop(bad).unwrap_err();
            assert!(e.contains(bad), "{e}");
        }
    }
}
