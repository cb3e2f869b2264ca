//! `--at EVENT_ID|TIME`: a point in a session, resolved against the store.

use anyhow::bail;

use super::args::{TIME_FORMS, parse_time};
use super::resolve::{self, EventMatch};
use flightrec::analysis::Point;
use flightrec::store::{SessionSummary, Store};

/// Resolves `at` in `session`: an event id of the session, a time ([`TIME_FORMS`]; `1h` counts
/// back from `now`: the command's `--now`, else the wall clock), or a unique prefix or suffix of
/// an event id, in that order.
pub fn resolve(
    store: &Store,
    summary: &SessionSummary,
    at: &str,
    now: i64,
) -> anyhow::Result<Point> {
    Ok(resolve_with_id(store, summary, at, now)?.0)
}

/// As [`resolve`], for an option other than `--at` (`replay --from`), named in errors.
pub fn resolve_option(
    store: &Store,
    summary: &SessionSummary,
    option: &str,
    at: &str,
) -> anyhow::Result<Point> {
    Ok(resolve_named(store, summary, option, at, super::explain::wall_clock())?.0)
}

/// As [`resolve`], with the id of the event when `at` names one.
pub fn resolve_with_id(
    store: &Store,
    summary: &SessionSummary,
    at: &str,
    now: i64,
) -> anyhow::Result<(Point, Option<String>)> {
    resolve_named(store, summary, "--at", at, now)
}

fn resolve_named(
    store: &Store,
    summary: &SessionSummary,
    option: &str,
    at: &str,
    now: i64,
) -> anyhow::Result<(Point, Option<String>)> {
    if let Some(row) = store.event_by_id(&summary.id, at)? {
        return Ok((Point::at_event(&row), Some(row.event_id)));
    }
    if let Ok(t) = parse_time(at) {
        return Ok((Point::at_time(t.resolve(summary.first_ts, now)), None));
    }
    let nearest = match resolve::event(store, summary, at)? {
        EventMatch::Found(row) => return Ok((Point::at_event(&row), Some(row.event_id))),
        EventMatch::None { nearest } => resolve::nearest_note(&nearest),
    };
    if at.starts_with("sevt_") {
        bail!(
            "{option} {at}: session {} has no event with that id{nearest}",
            summary.id
        )
    }
    bail!(
        "{option} {at}: not an event id (nor a prefix or suffix of one) of session {} nor a time ({TIME_FORMS}){nearest}",
        summary.id
    )
}
