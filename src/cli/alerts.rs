//! `flightrec alerts`: the alerts `watch` raised (the `alerts` table), newest first, with how
//! their notices were delivered. Reading only.

use serde::Serialize;
use std::path::Path;

use super::args::parse_duration_micros;
use super::{Outcome, exit, open_existing, output};
use flightrec::model::time::format_micros;
use flightrec::store::{AlertQuery, AlertRow, DeliveryRow};

#[derive(clap::Args)]
pub struct Args {
    /// Only the alerts still firing
    #[arg(long)]
    open: bool,
    /// Only alerts fired or resolved within DUR before now (30m, 2h, 1d)
    #[arg(long, value_name = "DUR", value_parser = parse_duration_micros)]
    since: Option<i64>,
    /// Print JSON (an array, one object per alert, with its notice and deliveries) instead of a table
    #[arg(long)]
    json: bool,
}

/// The `--json` shape of one alert.
#[derive(Serialize)]
struct AlertJson {
    #[serde(flatten)]
    row: AlertRow,
    /// The firing notice as sent.
    notice: serde_json::Value,
    deliveries: Vec<DeliveryRow>,
}

pub fn run(db: &Path, args: Args) -> Outcome {
    let store = open_existing(db)?;
    let since = args.since.map(|d| {
        let now = chrono::Utc::now().timestamp_micros();
        format_micros(now.saturating_sub(d))
    });
    let rows = store.alerts(&AlertQuery {
        open_only: args.open,
        since,
    })?;
    if args.json {
        let mut out = Vec::with_capacity(rows.len());
        for row in rows {
            let deliveries = store.alert_deliveries(row.id)?;
            let notice = serde_json::from_str(&row.payload).unwrap_or_default();
            out.push(AlertJson {
                row,
                notice,
                deliveries,
            });
        }
        output::print_json(&out)?;
        return Ok(exit::OK);
    }
    if rows.is_empty() {
        output::eprint_line("flightrec: no alerts")?;
        return Ok(exit::OK);
    }
    let mut t = output::Table::with_ids(
        &[
            "SESSION", "RULE", "STATE", "FIRED", "RESOLVED", "EVENT", "DELIVERY", "SUMMARY",
        ],
        &[0, 5],
    );
    for r in &rows {
        let deliveries = store.alert_deliveries(r.id)?;
        t.add_row(vec![
            r.session_id.clone(),
            r.rule.clone(),
            r.state.clone(),
            r.fired_at.clone(),
            r.resolved_at.clone().unwrap_or_default(),
            r.event_id.clone(),
            delivery(&deliveries),
            r.summary.clone(),
        ]);
    }
    output::print_styled(t)?;
    Ok(exit::OK)
}

/// `exec ok, webhook failed ×5` for the firing notice (the resolved one after a `/`).
fn delivery(ds: &[DeliveryRow]) -> String {
    let one = |d: &DeliveryRow| match (&d.delivered_at, d.attempts) {
        (Some(_), 1) => format!("{} ok", d.target),
        (Some(_), n) => format!("{} ok after {n}", d.target),
        (None, n) => format!("{} failed ×{n}", d.target),
    };
    let part = |state: &str| {
        ds.iter()
            .filter(|d| d.state == state)
            .map(one)
            .collect::<Vec<_>>()
            .join(", ")
    };
    let (f, r) = (part("firing"), part("resolved"));
    match (f.is_empty(), r.is_empty()) {
        (true, true) => "-".into(),
        (_, true) => f,
        _ => format!("{f} / {r}"),
    }
}
