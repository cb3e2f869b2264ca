//! `--at EVENT_ID|TIME`: a point in a session, resolved against the store.

use anyhow::{Context, bail};

use super::args::{TIME_FORMS, parse_time};
use flightrec::analysis::Point;
use flightrec::store::{SessionSummary, Store};

/// Resolves `at` in `session`: an event id of the session, or a time ([`TIME_FORMS`]; `1h` counts
/// back from the wall clock).
pub fn resolve(store: &Store, summary: &SessionSummary, at: &str) -> anyhow::Result<Point> {
    if let Some(row) = store
        .event_by_id(&summary.id, at)
        .with_context(|| format!("looking up --at {at}"))?
    {
        return Ok(Point::at_event(&row));
    }
    match parse_time(at) {
        Ok(t) => Ok(Point::at_time(
            t.resolve(summary.first_ts, super::explain::wall_clock()),
        )),
        Err(_) if at.starts_with("sevt_") => {
            bail!(
                "--at {at}: session {} has no event with that id",
                summary.id
            )
        }
        Err(_) => bail!(
            "--at {at}: not an event id of session {} nor a time ({TIME_FORMS})",
            summary.id
        ),
    }
}
