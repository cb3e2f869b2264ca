//! Alerts (migration 0006): one row per (session, rule, event), fired once and resolved once,
//! with each notice's deliveries (attempts, last error, when delivered). The open alerts are the
//! rows still `firing`, so a restarted watcher knows them without anything kept in memory.

use rusqlite::{OptionalExtension as _, params};

use super::{Result, Store};
use crate::analysis::alerts::{AlertKey, Known};

/// A new alert, firing.
#[derive(Debug, Clone, Copy)]
pub struct NewAlert<'a> {
    pub session_id: &'a str,
    pub rule: &'a str,
    /// `""` when the rule names no event.
    pub event_id: &'a str,
    pub at: Option<&'a str>,
    pub fired_at: &'a str,
    pub summary: &'a str,
    /// The firing notice (JSON).
    pub payload: &'a str,
}

/// A stored alert.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct AlertRow {
    pub id: i64,
    pub session_id: String,
    pub rule: String,
    pub event_id: String,
    /// `firing` or `resolved`.
    pub state: String,
    pub at: Option<String>,
    pub fired_at: String,
    pub resolved_at: Option<String>,
    pub summary: String,
    #[serde(skip)]
    pub payload: String,
}

/// One notice's delivery to one target.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct DeliveryRow {
    pub alert_id: i64,
    /// Which notice: `firing` or `resolved`.
    pub state: String,
    /// `exec` or `webhook`.
    pub target: String,
    pub attempts: i64,
    pub last_attempt_at: String,
    pub delivered_at: Option<String>,
    pub last_error: Option<String>,
}

/// One delivery attempt's outcome.
#[derive(Debug, Clone, Copy)]
pub struct NewAttempt<'a> {
    pub alert_id: i64,
    pub state: &'a str,
    pub target: &'a str,
    pub at: &'a str,
    /// `None` when delivered.
    pub error: Option<&'a str>,
}

/// A notice a stop cut short.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingNotice {
    pub alert_id: i64,
    /// `firing` or `resolved`.
    pub state: String,
    /// The firing notice as stored.
    pub payload: String,
    pub resolved_at: Option<String>,
}

/// Which alerts to list.
#[derive(Debug, Clone, Default)]
pub struct AlertQuery {
    /// Only those still firing.
    pub open_only: bool,
    /// Only those fired or resolved at or after this time (RFC 3339, as stored).
    pub since: Option<String>,
}

const COLUMNS: &str =
    "id, session_id, rule, event_id, state, at, fired_at, resolved_at, summary, payload";

fn alert_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<AlertRow> {
    Ok(AlertRow {
        id: r.get(0)?,
        session_id: r.get(1)?,
        rule: r.get(2)?,
        event_id: r.get(3)?,
        state: r.get(4)?,
        at: r.get(5)?,
        fired_at: r.get(6)?,
        resolved_at: r.get(7)?,
        summary: r.get(8)?,
        payload: r.get(9)?,
    })
}

impl Store {
    /// Stores a new firing alert; `None` when one with the same (session, rule, event) exists
    /// (open or resolved), which is then left as it is.
    pub fn insert_alert(&mut self, a: &NewAlert<'_>) -> Result<Option<i64>> {
        self.conn
            .prepare_cached(
                "INSERT INTO alerts \
                 (session_id, rule, event_id, state, at, fired_at, summary, payload) \
                 VALUES (?1, ?2, ?3, 'firing', ?4, ?5, ?6, ?7) \
                 ON CONFLICT (session_id, rule, event_id) DO NOTHING RETURNING id",
            )
            .and_then(|mut s| {
                s.query_row(
                    params![
                        a.session_id,
                        a.rule,
                        a.event_id,
                        a.at,
                        a.fired_at,
                        a.summary,
                        a.payload
                    ],
                    |r| r.get(0),
                )
                .optional()
            })
            .map_err(self.err("storing an alert"))
    }

    /// Resolves an open alert at `at`; the alert as now stored, `None` when it was not open.
    pub fn resolve_alert(&mut self, id: i64, at: &str) -> Result<Option<AlertRow>> {
        let sql = format!(
            "UPDATE alerts SET state = 'resolved', resolved_at = ?2 \
             WHERE id = ?1 AND state = 'firing' RETURNING {COLUMNS}"
        );
        self.conn
            .prepare_cached(&sql)
            .and_then(|mut s| s.query_row(params![id, at], alert_row).optional())
            .map_err(self.err("resolving an alert"))
    }

    /// The alerts known for a session, open or not, oldest first.
    pub fn known_alerts(&self, session_id: &str) -> Result<Vec<Known>> {
        self.conn
            .prepare_cached(
                "SELECT id, rule, event_id, state FROM alerts WHERE session_id = ?1 ORDER BY id",
            )
            .and_then(|mut s| {
                s.query_map([session_id], |r| {
                    Ok(Known {
                        id: r.get(0)?,
                        key: AlertKey {
                            session_id: session_id.to_string(),
                            rule: r.get(1)?,
                            event_id: r.get(2)?,
                        },
                        open: r.get::<_, String>(3)? == "firing",
                    })
                })?
                .collect()
            })
            .map_err(self.err("reading a session's alerts"))
    }

    /// The sessions with an alert still firing about their events (a failed deployment run's
    /// alert is about the run: no history pass of its session can clear it).
    pub fn sessions_with_open_alerts(&self) -> Result<Vec<String>> {
        self.conn
            .prepare_cached(
                "SELECT DISTINCT session_id FROM alerts WHERE state = 'firing' \
                 AND rule <> 'deployment_run_failed' ORDER BY session_id",
            )
            .and_then(|mut s| s.query_map([], |r| r.get(0))?.collect())
            .map_err(self.err("reading the open alerts"))
    }

    /// The alerts `q` selects, newest fired first.
    pub fn alerts(&self, q: &AlertQuery) -> Result<Vec<AlertRow>> {
        let sql = format!(
            "SELECT {COLUMNS} FROM alerts \
             WHERE (?1 = 0 OR state = 'firing') \
             AND (?2 IS NULL OR fired_at >= ?2 OR resolved_at >= ?2) \
             ORDER BY fired_at DESC, id DESC"
        );
        self.conn
            .prepare_cached(&sql)
            .and_then(|mut s| {
                s.query_map(params![q.open_only, q.since], alert_row)?
                    .collect()
            })
            .map_err(self.err("listing alerts"))
    }

    /// Counts one delivery attempt: its time, and either when it was delivered or its error.
    pub fn record_alert_attempt(&mut self, a: &NewAttempt<'_>) -> Result<()> {
        let delivered = a.error.is_none().then_some(a.at);
        self.conn
            .prepare_cached(
                "INSERT INTO alert_deliveries \
                 (alert_id, state, target, attempts, last_attempt_at, delivered_at, last_error) \
                 VALUES (?1, ?2, ?3, 1, ?4, ?5, ?6) \
                 ON CONFLICT (alert_id, state, target) DO UPDATE SET \
                 attempts = attempts + 1, last_attempt_at = ?4, \
                 delivered_at = coalesce(delivered_at, ?5), \
                 last_error = coalesce(?6, last_error)",
            )
            .and_then(|mut s| {
                s.execute(params![
                    a.alert_id, a.state, a.target, a.at, delivered, a.error
                ])
            })
            .map_err(self.err("recording an alert delivery"))?;
        Ok(())
    }

    /// An alert's deliveries, by notice and target.
    pub fn alert_deliveries(&self, alert_id: i64) -> Result<Vec<DeliveryRow>> {
        self.conn
            .prepare_cached(
                "SELECT alert_id, state, target, attempts, last_attempt_at, delivered_at, \
                 last_error FROM alert_deliveries WHERE alert_id = ?1 \
                 ORDER BY state = 'resolved', target",
            )
            .and_then(|mut s| {
                s.query_map([alert_id], |r| {
                    Ok(DeliveryRow {
                        alert_id: r.get(0)?,
                        state: r.get(1)?,
                        target: r.get(2)?,
                        attempts: r.get(3)?,
                        last_attempt_at: r.get(4)?,
                        delivered_at: r.get(5)?,
                        last_error: r.get(6)?,
                    })
                })?
                .collect()
            })
            .map_err(self.err("reading alert deliveries"))
    }

    /// The notices to send (again) to `target` when a watcher starts: the firing notice of each open alert not
    /// delivered there with fewer than `max_attempts` attempts (none yet, or cut short by a
    /// stop), and each resolved notice whose attempts there were cut short the same way.
    pub fn pending_notices(&self, target: &str, max_attempts: i64) -> Result<Vec<PendingNotice>> {
        self.conn
            .prepare_cached(
                "SELECT a.id, 'firing', a.payload, a.resolved_at FROM alerts a \
                 LEFT JOIN alert_deliveries d \
                   ON d.alert_id = a.id AND d.state = 'firing' AND d.target = ?1 \
                 WHERE a.state = 'firing' \
                   AND (d.alert_id IS NULL OR (d.delivered_at IS NULL AND d.attempts < ?2)) \
                 UNION ALL \
                 SELECT a.id, 'resolved', a.payload, a.resolved_at FROM alerts a \
                 JOIN alert_deliveries d \
                   ON d.alert_id = a.id AND d.state = 'resolved' AND d.target = ?1 \
                 WHERE d.delivered_at IS NULL AND d.attempts < ?2 \
                 ORDER BY 1",
            )
            .and_then(|mut s| {
                s.query_map(params![target, max_attempts], |r| {
                    Ok(PendingNotice {
                        alert_id: r.get(0)?,
                        state: r.get(1)?,
                        payload: r.get(2)?,
                        resolved_at: r.get(3)?,
                    })
                })?
                .collect()
            })
            .map_err(self.err("reading undelivered alert notices"))
    }

    /// The sessions with an event that arrived after `seq` `after`, and the highest `seq` now
    /// stored (the next call's `after`).
    pub fn sessions_changed_after(&self, after: i64) -> Result<(Vec<String>, i64)> {
        let through = self.max_seq()?;
        let ids = self
            .conn
            .prepare_cached(
                "SELECT DISTINCT session_id FROM events WHERE seq > ?1 AND seq <= ?2 \
                 ORDER BY session_id",
            )
            .and_then(|mut s| s.query_map([after, through], |r| r.get(0))?.collect())
            .map_err(self.err("reading the sessions that changed"))?;
        Ok((ids, through))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn new<'a>(event: &'a str, fired_at: &'a str) -> NewAlert<'a> {
        NewAlert {
            session_id: "sesn_1",
            rule: "requires_action",
            event_id: event,
            at: Some("2026-01-01T00:00:00.000Z"),
            fired_at,
            summary: "waiting",
            payload: "{}",
        }
    }

    #[test]
    fn an_alert_is_stored_once_per_key_resolved_once_and_survives_a_reopen() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.db");
        let mut s = Store::open(&path).unwrap();
        let id = s
            .insert_alert(&new("t1", "2026-01-01T00:10:00.000Z"))
            .unwrap()
            .unwrap();
        assert_eq!(
            s.insert_alert(&new("t1", "2026-01-01T00:11:00.000Z"))
                .unwrap(),
            None
        );
        let t2 = s
            .insert_alert(&new("t2", "2026-01-01T00:12:00.000Z"))
            .unwrap()
            .unwrap();
        drop(s);
        let mut s = Store::open(&path).unwrap();
        assert_eq!(s.sessions_with_open_alerts().unwrap(), ["sesn_1"]);
        let row = s.resolve_alert(id, "2026-01-01T00:13:00.000Z").unwrap();
        assert_eq!(row.map(|r| r.state), Some("resolved".into()));
        assert_eq!(s.resolve_alert(id, "later").unwrap(), None, "once");
        let known = s.known_alerts("sesn_1").unwrap();
        assert_eq!(
            known.iter().map(|k| (k.id, k.open)).collect::<Vec<_>>(),
            [(id, false), (t2, true)]
        );
        let open = s
            .alerts(&AlertQuery {
                open_only: true,
                since: None,
            })
            .unwrap();
        assert_eq!(open.iter().map(|a| a.id).collect::<Vec<_>>(), [t2]);
        // Since 00:12:30: t2 fired before, t1 resolved after.
        let recent = s
            .alerts(&AlertQuery {
                open_only: false,
                since: Some("2026-01-01T00:12:30.000Z".into()),
            })
            .unwrap();
        assert_eq!(recent.iter().map(|a| a.id).collect::<Vec<_>>(), [id]);
    }

    #[test]
    fn attempts_are_counted_and_the_first_success_and_last_error_kept() {
        let dir = tempfile::tempdir().unwrap();
        let mut s = Store::open(&dir.path().join("a.db")).unwrap();
        let id = s.insert_alert(&new("t1", "t")).unwrap().unwrap();
        let attempt = |at, error| NewAttempt {
            alert_id: id,
            state: "firing",
            target: "exec",
            at,
            error,
        };
        s.record_alert_attempt(&attempt("a1", Some("exit status 3")))
            .unwrap();
        s.record_alert_attempt(&attempt("a2", None)).unwrap();
        let d = s.alert_deliveries(id).unwrap();
        assert_eq!(d.len(), 1);
        assert_eq!(d[0].attempts, 2);
        assert_eq!(d[0].delivered_at.as_deref(), Some("a2"));
        assert_eq!(d[0].last_error.as_deref(), Some("exit status 3"));
    }

    #[test]
    fn pending_notices_are_the_undelivered_ones_with_attempts_left() {
        let dir = tempfile::tempdir().unwrap();
        let mut s = Store::open(&dir.path().join("a.db")).unwrap();
        let cut = s.insert_alert(&new("t1", "f1")).unwrap().unwrap();
        let fresh = s.insert_alert(&new("t2", "f2")).unwrap().unwrap();
        let sent = s.insert_alert(&new("t3", "f3")).unwrap().unwrap();
        let spent = s.insert_alert(&new("t4", "f4")).unwrap().unwrap();
        let attempt = |id, state, error| NewAttempt {
            alert_id: id,
            state,
            target: "exec",
            at: "a",
            error,
        };
        s.record_alert_attempt(&attempt(cut, "firing", Some("e")))
            .unwrap();
        s.record_alert_attempt(&attempt(sent, "firing", None))
            .unwrap();
        for _ in 0..3 {
            s.record_alert_attempt(&attempt(spent, "firing", Some("e")))
                .unwrap();
        }
        // Resolved and its resolved notice cut short: that notice only.
        s.record_alert_attempt(&attempt(fresh, "firing", None))
            .unwrap();
        s.resolve_alert(fresh, "r2").unwrap();
        s.record_alert_attempt(&attempt(fresh, "resolved", Some("e")))
            .unwrap();
        let got: Vec<(i64, String)> = s
            .pending_notices("exec", 3)
            .unwrap()
            .into_iter()
            .map(|p| (p.alert_id, p.state))
            .collect();
        assert_eq!(got, [(cut, "firing".into()), (fresh, "resolved".into())]);
        // Another target has delivered nothing: every open alert's firing notice.
        let got: Vec<i64> = s
            .pending_notices("webhook", 3)
            .unwrap()
            .into_iter()
            .map(|p| p.alert_id)
            .collect();
        assert_eq!(got, [cut, sent, spent]);
    }
}
