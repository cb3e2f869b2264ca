//! A point in a recording (`--at`, the viewer's cursor): the events at or before it are "so far".

use crate::store::{EventRef, EventRow};

/// Events are ordered by (processed time, arrival seq), queued events last; a point cuts that
/// order. A time point includes every event processed at or before it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Point {
    /// µs since the epoch; `i64::MAX` for a queued event.
    pub ts: i64,
    pub seq: i64,
}

impl Point {
    pub fn at_time(ts: i64) -> Point {
        Point { ts, seq: i64::MAX }
    }

    pub fn at_event(row: &EventRow) -> Point {
        Point {
            ts: row.ts.unwrap_or(i64::MAX),
            seq: row.seq,
        }
    }

    pub fn includes(&self, row: &EventRow) -> bool {
        self.includes_ref(&row.as_ref())
    }

    pub fn includes_ref(&self, row: &EventRef<'_>) -> bool {
        (row.ts.unwrap_or(i64::MAX), row.seq) <= (self.ts, self.seq)
    }

    /// The time of the point, when it is not past every processed event.
    pub fn time(&self) -> Option<i64> {
        (self.ts != i64::MAX).then_some(self.ts)
    }
}

/// The prefix of time-ordered `rows` at or before `point` (all of them for `None`).
pub fn upto(rows: &[EventRow], point: Option<Point>) -> &[EventRow] {
    match point {
        Some(p) => &rows[..rows.partition_point(|r| p.includes(r))],
        None => rows,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::testing::rows;

    #[test]
    fn points_cut_by_time_then_arrival() {
        let r = rows(
            r#"{"type":"a","id":"e1","processed_at":"2026-01-01T00:00:00Z"}
{"type":"a","id":"e2","processed_at":"2026-01-01T00:00:01Z"}
{"type":"a","id":"e3","processed_at":"2026-01-01T00:00:01Z"}
{"type":"a","id":"e4","processed_at":null}"#,
        );
        let ids = |s: &[EventRow]| s.iter().map(|r| r.event_id.clone()).collect::<Vec<_>>();
        assert_eq!(ids(upto(&r, Some(Point::at_event(&r[1])))), ["e1", "e2"]);
        let t = r[1].ts.unwrap();
        assert_eq!(ids(upto(&r, Some(Point::at_time(t)))), ["e1", "e2", "e3"]);
        assert_eq!(ids(upto(&r, Some(Point::at_time(t - 1)))), ["e1"]);
        assert_eq!(upto(&r, None).len(), 4);
        assert_eq!(Point::at_event(&r[3]).time(), None);
    }
}
