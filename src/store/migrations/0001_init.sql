-- 0001: the first schema. Released migrations are never edited; add a new numbered file instead.

-- One row per session seen. Aggregates that are cheap to keep exact are kept here.
CREATE TABLE sessions (
    id           TEXT PRIMARY KEY,       -- sesn_...
    object       TEXT,                   -- newest session object (GET /v1/sessions/{id}) as received
    object_at    TEXT,                   -- when that object was fetched (RFC 3339)
    event_count  INTEGER NOT NULL DEFAULT 0
) STRICT;

-- Every event, once per (session, thread stream, id): a later copy replaces an earlier one.
CREATE TABLE events (
    seq          INTEGER PRIMARY KEY,    -- arrival order; kept when a newer copy replaces the text
    session_id   TEXT NOT NULL,
    thread_id    TEXT NOT NULL DEFAULT '', -- thread whose stream or log delivered it; '' = the session's
    event_id     TEXT NOT NULL,          -- "id" as received; '' when empty or absent
    dedup_key    TEXT NOT NULL,          -- event_id, or a synthetic key when the id is empty
    type         TEXT NOT NULL,          -- "type" (or the SSE event name when the JSON has none)
    processed_at TEXT,                   -- as received; NULL while the event is queued
    sort_ts      INTEGER NOT NULL,       -- processed_at as µs since the epoch; 9223372036854775807 if NULL
    link_id      TEXT,                   -- the earlier event this one points at (tool_use_id, ...)
    source       TEXT NOT NULL,          -- stream | list | import
    received_at  TEXT NOT NULL,          -- when this copy arrived (RFC 3339)
    revision     INTEGER NOT NULL DEFAULT 0, -- how many times a newer copy replaced the text
    raw          TEXT NOT NULL           -- the event's JSON text exactly as received
) STRICT;
CREATE UNIQUE INDEX events_key ON events (session_id, thread_id, dedup_key);
CREATE INDEX events_time ON events (session_id, sort_ts, seq);
CREATE INDEX events_type ON events (session_id, type, sort_ts, seq);

-- Earlier copies of events that a newer copy replaced (e.g. a queued echo with processed_at null).
CREATE TABLE event_revisions (
    id           INTEGER PRIMARY KEY,
    event_seq    INTEGER NOT NULL REFERENCES events (seq),
    source       TEXT NOT NULL,
    received_at  TEXT NOT NULL,
    replaced_at  TEXT NOT NULL,
    raw          TEXT NOT NULL
) STRICT;
CREATE INDEX event_revisions_event ON event_revisions (event_seq);

-- Live preview frames (event_start / event_delta). They share the id of the event they preview,
-- so they live apart from events and never replace one.
CREATE TABLE previews (
    seq          INTEGER PRIMARY KEY,
    session_id   TEXT NOT NULL,
    thread_id    TEXT NOT NULL DEFAULT '',
    event_id     TEXT NOT NULL,          -- the previewed event's id
    ordinal      INTEGER NOT NULL,       -- position among this event's previews in one connection or file
    type         TEXT NOT NULL,
    source       TEXT NOT NULL,
    received_at  TEXT NOT NULL,
    raw          TEXT NOT NULL
) STRICT;
CREATE UNIQUE INDEX previews_key ON previews (session_id, thread_id, event_id, ordinal);

-- Frames that are not events (invalid JSON, not an object, no type): kept byte for byte.
CREATE TABLE quarantine (
    id           INTEGER PRIMARY KEY,
    session_id   TEXT,
    thread_id    TEXT NOT NULL DEFAULT '',
    source       TEXT NOT NULL,
    origin       TEXT NOT NULL,          -- where: "file.sse frame 12", "file.jsonl line 40", a URL
    reason       TEXT NOT NULL,
    received_at  TEXT NOT NULL,
    raw          BLOB NOT NULL
) STRICT;
CREATE INDEX quarantine_origin ON quarantine (origin);

-- What the recorder and importer did: imports, connections, pages, retries, gaps, error frames.
CREATE TABLE capture_log (
    id           INTEGER PRIMARY KEY,
    session_id   TEXT,
    thread_id    TEXT NOT NULL DEFAULT '',
    kind         TEXT NOT NULL,          -- import | connect | disconnect | page | retry | gap | error_frame
    started_at   TEXT NOT NULL,
    ended_at     TEXT,
    detail       TEXT                    -- JSON object, kind-specific
) STRICT;
CREATE INDEX capture_log_session ON capture_log (session_id, id);
