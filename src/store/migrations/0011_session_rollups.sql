-- 0011: per-session rollups. Released migrations are never edited; add a new numbered file instead.
--
-- What the `sessions` listing shows and filters on, derived from a session's events (and its
-- object) as `store/rollups.rs` computes them, kept by the writer: every transaction that touches
-- a session writes its row again before committing. So a listing with any filter is one query
-- over this small table instead of correlated sub-queries over every session's events. Existing
-- databases are filled right after this migration (by the same Rust code).
CREATE TABLE session_rollups (
    session_id    TEXT PRIMARY KEY,      -- sessions.id
    status        TEXT,                  -- from the newest session.status_* / session.deleted event
    stop_reason   TEXT,                  -- stop_reason.type of the newest session.status_idle
    first_sort_ts INTEGER,               -- min(events.sort_ts), queued included; NULL with no events
    last_ts       INTEGER,               -- max(events.sort_ts) of processed events; NULL with none
    title         TEXT,                  -- the object's title, else the newest session.updated's
    agent_id      TEXT,                  -- the object's agent, else the newest session.updated's
    agent_name    TEXT,
    writes        INTEGER NOT NULL DEFAULT 0 -- commits that touched the session: a cache's version
) STRICT;
CREATE INDEX session_rollups_recent ON session_rollups (last_ts, session_id);
CREATE INDEX session_rollups_status ON session_rollups (status, last_ts);

-- What analyses computed from a session's whole recording, cached by kind (e.g. `requests`: the
-- model requests `stats --by` groups). Deleted by every commit that touches the session; written
-- by readers only while the session's `writes` is still the one they read before computing.
CREATE TABLE session_cache (
    session_id    TEXT NOT NULL,
    kind          TEXT NOT NULL,
    body          TEXT NOT NULL,         -- JSON, in the shape the kind's owner (src/inspect) writes
    PRIMARY KEY (session_id, kind)
) STRICT, WITHOUT ROWID;
