//! Deployment runs (migration 0007), stored by `watch` when a `deployment_run.failed` webhook
//! names one, and read back for alerts and by `serve`; and the primary log's status events,
//! which `serve --live --webhook-url` turns into webhooks.

use rusqlite::OptionalExtension as _;

use super::{Result, Store};

/// A stored run: the promoted columns and the body as received.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeploymentRunRow {
    pub id: String,
    pub status: String,
    pub session_id: Option<String>,
    pub deployment_id: Option<String>,
    pub error_type: Option<String>,
    pub created_at: Option<String>,
    pub fetched_at: String,
    pub body: String,
}

/// A `session.status_*` (or `session.deleted`) event of a primary log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusEvent {
    pub session_id: String,
    pub seq: i64,
    pub event_type: String,
    /// `stop_reason.type` of an idle.
    pub stop_reason: Option<String>,
}

const COLUMNS: &str =
    "id, status, session_id, deployment_id, error_type, created_at, fetched_at, body";

fn row(r: &rusqlite::Row<'_>) -> rusqlite::Result<DeploymentRunRow> {
    Ok(DeploymentRunRow {
        id: r.get(0)?,
        status: r.get(1)?,
        session_id: r.get(2)?,
        deployment_id: r.get(3)?,
        error_type: r.get(4)?,
        created_at: r.get(5)?,
        fetched_at: r.get(6)?,
        body: r.get(7)?,
    })
}

impl Store {
    /// Stores a run read from the API; a run stored already is replaced by the newer read.
    pub fn store_deployment_run(&mut self, run: &DeploymentRunRow) -> Result<()> {
        self.conn
            .prepare_cached(&format!(
                "INSERT OR REPLACE INTO deployment_runs ({COLUMNS}) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)"
            ))
            .and_then(|mut s| {
                s.execute(rusqlite::params![
                    run.id,
                    run.status,
                    run.session_id,
                    run.deployment_id,
                    run.error_type,
                    run.created_at,
                    run.fetched_at,
                    run.body
                ])
            })
            .map_err(self.err("storing a deployment run"))?;
        Ok(())
    }

    /// One stored run.
    pub fn deployment_run(&self, id: &str) -> Result<Option<DeploymentRunRow>> {
        self.conn
            .prepare_cached(&format!(
                "SELECT {COLUMNS} FROM deployment_runs WHERE id = ?1"
            ))
            .and_then(|mut s| s.query_row([id], row).optional())
            .map_err(self.err("reading a deployment run"))
    }

    /// The failed runs created (else read) at or after `since` (RFC 3339), oldest first.
    pub fn failed_deployment_runs(&self, since: &str) -> Result<Vec<DeploymentRunRow>> {
        self.conn
            .prepare_cached(&format!(
                "SELECT {COLUMNS} FROM deployment_runs WHERE status = 'failed' \
                 AND coalesce(created_at, fetched_at) >= ?1 \
                 ORDER BY coalesce(created_at, fetched_at), id"
            ))
            .and_then(|mut s| s.query_map([since], row)?.collect())
            .map_err(self.err("reading failed deployment runs"))
    }

    /// Every primary log's `session.status_*` and `session.deleted` events, in arrival order.
    pub fn status_events(&self) -> Result<Vec<StatusEvent>> {
        self.conn
            .prepare(
                "SELECT session_id, seq, type, event_text(raw) ->> '$.stop_reason.type' FROM events \
                 WHERE thread_id = '' AND (type LIKE 'session.status\\_%' ESCAPE '\\' \
                 OR type = 'session.deleted') ORDER BY seq",
            )
            .and_then(|mut s| {
                s.query_map([], |r| {
                    Ok(StatusEvent {
                        session_id: r.get(0)?,
                        seq: r.get(1)?,
                        event_type: r.get(2)?,
                        stop_reason: r.get(3)?,
                    })
                })?
                .collect()
            })
            .map_err(self.err("reading status events"))
    }

    /// Sessions whose newest primary-stream capture entry shows a connection left open: a
    /// `connect` never closed (the recorder was killed) or a `connection` closed by an
    /// interruption (Ctrl-C, SIGTERM). What a restarted watcher resumes.
    pub fn interrupted_sessions(&self) -> Result<Vec<String>> {
        self.conn
            .prepare(
                "SELECT session_id FROM capture_log c WHERE thread_id = '' \
                 AND session_id IS NOT NULL \
                 AND id = (SELECT max(id) FROM capture_log d WHERE d.session_id = c.session_id \
                           AND d.thread_id = '' AND d.kind IN ('connect', 'connection')) \
                 AND (kind = 'connect' OR detail ->> '$.cause' = 'stopped: interrupted') \
                 ORDER BY session_id",
            )
            .and_then(|mut s| s.query_map([], |r| r.get(0))?.collect())
            .map_err(self.err("reading interrupted recordings"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(id: &str, status: &str, created: &str) -> DeploymentRunRow {
        DeploymentRunRow {
            id: id.into(),
            status: status.into(),
            session_id: None,
            deployment_id: Some("depl_1".into()),
            error_type: Some("unknown_error".into()),
            created_at: Some(created.into()),
            fetched_at: "2026-12-01T10:00:00.000Z".into(),
            body: format!(r#"{{"id":"{id}"}}"#),
        }
    }

    #[test]
    fn runs_are_stored_replaced_and_the_failed_ones_read_since() {
        let dir = tempfile::tempdir().unwrap();
        let mut s = Store::open(&dir.path().join("r.db")).unwrap();
        s.store_deployment_run(&run("drun_1", "failed", "2026-12-01T08:00:00Z"))
            .unwrap();
        s.store_deployment_run(&run("drun_2", "failed", "2026-12-01T09:00:00Z"))
            .unwrap();
        s.store_deployment_run(&run("drun_3", "succeeded", "2026-12-01T09:30:00Z"))
            .unwrap();
        let mut again = run("drun_2", "failed", "2026-12-01T09:00:00Z");
        again.body = "newer".into();
        s.store_deployment_run(&again).unwrap();
        assert_eq!(s.deployment_run("drun_2").unwrap().unwrap().body, "newer");
        assert_eq!(s.deployment_run("drun_9").unwrap(), None);
        let ids = |since| -> Vec<String> {
            s.failed_deployment_runs(since)
                .unwrap()
                .into_iter()
                .map(|r| r.id)
                .collect()
        };
        assert_eq!(ids("2026-12-01T00:00:00Z"), ["drun_1", "drun_2"]);
        assert_eq!(ids("2026-12-01T08:30:00Z"), ["drun_2"]);
    }

    #[test]
    fn a_connection_left_open_or_interrupted_is_resumed_and_a_closed_one_is_not() {
        let dir = tempfile::tempdir().unwrap();
        let mut s = Store::open(&dir.path().join("c.db")).unwrap();
        let log = |s: &mut Store, session: &str, thread: &str, kind: &str, cause: &str| {
            s.conn
                .execute(
                    "INSERT INTO capture_log (session_id, thread_id, kind, started_at, detail) \
                     VALUES (?1, ?2, ?3, 't', json_object('cause', ?4))",
                    [session, thread, kind, cause],
                )
                .unwrap();
        };
        log(&mut s, "sesn_killed", "", "connect", "");
        log(&mut s, "sesn_termed", "", "connect", "");
        log(
            &mut s,
            "sesn_termed",
            "",
            "connection",
            "stopped: interrupted",
        );
        log(&mut s, "sesn_done", "", "connect", "");
        log(
            &mut s,
            "sesn_done",
            "",
            "connection",
            "stopped: session idle",
        );
        log(&mut s, "sesn_done", "sthr_1", "connect", "");
        log(&mut s, "sesn_done", "", "history", "");
        assert_eq!(
            s.interrupted_sessions().unwrap(),
            ["sesn_killed", "sesn_termed"]
        );
    }
}
