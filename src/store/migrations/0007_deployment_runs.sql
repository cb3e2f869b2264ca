-- Deployment runs (`GET /v1/deployment_runs/{id}`) read by `watch` when a `deployment_run.failed`
-- webhook names one: the body verbatim beside a few promoted columns. A newer read replaces the row.
CREATE TABLE deployment_runs (
    id            TEXT PRIMARY KEY,  -- drun_...
    status        TEXT NOT NULL,     -- the body's status, else failed (an error) / succeeded (a session) / started
    session_id    TEXT,              -- the session it created, if it did
    deployment_id TEXT,
    error_type    TEXT,              -- error.type of a failed run
    created_at    TEXT,              -- the run's created_at as sent
    fetched_at    TEXT NOT NULL,     -- when it was read (RFC 3339)
    body          TEXT NOT NULL      -- the run object exactly as received
) STRICT;
CREATE INDEX deployment_runs_status ON deployment_runs (status, created_at);
