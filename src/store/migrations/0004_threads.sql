-- Thread objects (GET /v1/sessions/{id}/threads, §6.3 of the API reference) as received, newest
-- copy per (session, thread). parent_thread_id is promoted so the thread tree is one query.
CREATE TABLE threads (
    session_id       TEXT NOT NULL,
    id               TEXT NOT NULL,      -- sthr_...
    parent_thread_id TEXT,               -- NULL for the primary thread
    object           TEXT NOT NULL,      -- the thread object as received (without a dump's "events")
    object_at        TEXT NOT NULL,      -- when that object was fetched or imported (RFC 3339)
    PRIMARY KEY (session_id, id)
) STRICT;
