//! The report of `flightrec stats --by agent|model|day`: one row per group (sessions, requests,
//! tokens, the list-price estimate and its share of the total), then the total; the `--json`
//! object is [`ByReport`] (docs/stats-by-json.md).

use serde::Serialize;
use std::fmt::Write as _;

use super::cost_cell;
use crate::analysis::prices;
use crate::analysis::stats::groups::{By, Group, Grouped};
use crate::report::format::{percent, thousands};
use crate::report::{Doc, Table};

/// `--json` with `--by`.
#[derive(Serialize)]
pub struct ByReport<'a> {
    pub by: By,
    /// The window's ends (RFC 3339); `null`: open.
    pub since: Option<String>,
    pub until: Option<String>,
    /// Sessions active in the window (all of them without one).
    pub sessions_selected: u64,
    pub prices_as_of: &'static str,
    pub groups: &'a [Group],
    pub total: &'a Group,
}

impl<'a> ByReport<'a> {
    pub fn new(
        by: By,
        window: (Option<String>, Option<String>),
        sessions_selected: u64,
        g: &'a Grouped,
    ) -> ByReport<'a> {
        ByReport {
            by,
            since: window.0,
            until: window.1,
            sessions_selected,
            prices_as_of: prices::AS_OF,
            groups: &g.groups,
            total: &g.total,
        }
    }
}

fn row(g: &Group) -> Vec<String> {
    let t = &g.tokens;
    vec![
        g.key.clone(),
        thousands(g.sessions),
        thousands(t.requests),
        thousands(t.input_tokens),
        thousands(t.output_tokens),
        thousands(t.cache_read_input_tokens),
        thousands(t.cache_creation_input_tokens),
        cost_cell(g.estimate_usd, g.unpriced_requests),
        percent(g.share),
    ]
}

/// The text form: a heading naming the window, the table, the price note.
pub fn by_text(r: &ByReport) -> Doc {
    let mut out = Doc::new();
    let by = match r.by {
        By::Agent => "agent",
        By::Model => "model",
        By::Day => "day (UTC)",
    };
    let _ = write!(
        out,
        "Model requests of {} sessions by {by}",
        thousands(r.sessions_selected)
    );
    match (&r.since, &r.until) {
        (None, None) => {}
        (Some(a), None) => {
            let _ = write!(out, ", made since {a}");
        }
        (None, Some(b)) => {
            let _ = write!(out, ", made until {b}");
        }
        (Some(a), Some(b)) => {
            let _ = write!(out, ", made from {a} to {b}");
        }
    }
    out.push_str("\n\n");
    let header = match r.by {
        By::Agent => "AGENT",
        By::Model => "MODEL",
        By::Day => "DAY",
    };
    let mut t = Table::new(&[
        header,
        "SESSIONS",
        "REQUESTS",
        "INPUT",
        "OUTPUT",
        "CACHE READ",
        "CACHE WRITE",
        "LIST COST (EST.)",
        "SHARE",
    ]);
    for g in r.groups {
        t.add_row(row(g));
    }
    if r.groups.len() != 1 {
        t.add_row(row(r.total));
    }
    out.table(t);
    out.push('\n');
    let _ = writeln!(
        out,
        "Costs are estimates from list prices as of {} (src/analysis/prices.rs); cache writes at the 5-minute rate.",
        r.prices_as_of
    );
    out
}
