-- 0008: what `watch --otlp-endpoint` has pushed, so a restarted watcher sends only what changed.
-- Collectors are told apart by their traces URL (user info, query and fragment left out).

-- One row per span a collector acknowledged: its id and a digest of the span as encoded, so a
-- span that changed since (a session's root at its next idle) is sent again, and no other is.
CREATE TABLE otlp_pushed_spans (
    endpoint     TEXT NOT NULL,
    session_id   TEXT NOT NULL,
    span_id      TEXT NOT NULL,     -- 16 hex digits, as in OTLP/JSON
    digest       TEXT NOT NULL,     -- 16 hex digits: FNV-1a of the encoded span
    pushed_at    TEXT NOT NULL,     -- RFC 3339
    PRIMARY KEY (endpoint, session_id, span_id)
) STRICT, WITHOUT ROWID;

-- Per collector, the arrival point (`events.seq`, `event_revisions.id`) up to which every
-- changed session was pushed in full: where a restarted watcher looks for changes from.
CREATE TABLE otlp_watermarks (
    endpoint     TEXT PRIMARY KEY,
    event_seq    INTEGER NOT NULL,
    revision_id  INTEGER NOT NULL,
    updated_at   TEXT NOT NULL
) STRICT;
