-- 0012: event text compressed at rest (store/codec.rs). Released migrations are never edited;
-- add a new numbered file instead.
--
-- raw becomes ANY in events, event_revisions and previews: TEXT as received (every row written
-- before this migration, short events, events that do not get smaller) or a BLOB (a dictionary
-- id as a varint, 0 for none, then one zstd frame). Read it through event_text(raw), a function
-- every connection of flightrec registers. The tables are rebuilt (SQLite cannot change a
-- column's type): new table, copy, drop, rename, indexes and triggers again. migrate() runs
-- migrations with foreign keys off, as this needs (event_revisions points at events).

-- One zstd dictionary per event type, trained by the writer from its first samples of the type.
-- Never deleted: rows name them by id.
CREATE TABLE zstd_dicts (
    id           INTEGER PRIMARY KEY,
    type         TEXT NOT NULL,          -- the event type it was trained on
    dict         BLOB NOT NULL,          -- zstd's dictionary format
    samples      INTEGER NOT NULL,       -- how many events trained it
    created_at   TEXT NOT NULL
) STRICT;

CREATE TABLE events_0012 (
    seq          INTEGER PRIMARY KEY,
    session_id   TEXT NOT NULL,
    thread_id    TEXT NOT NULL DEFAULT '',
    event_id     TEXT NOT NULL,
    dedup_key    TEXT NOT NULL,
    type         TEXT NOT NULL,
    processed_at TEXT,
    sort_ts      INTEGER NOT NULL,
    link_id      TEXT,
    source       TEXT NOT NULL,
    received_at  TEXT NOT NULL,
    revision     INTEGER NOT NULL DEFAULT 0,
    raw          ANY NOT NULL            -- the event's text, or its encoding (see above)
) STRICT;
INSERT INTO events_0012 SELECT seq, session_id, thread_id, event_id, dedup_key, type, processed_at,
    sort_ts, link_id, source, received_at, revision, raw FROM events;
DROP TABLE events;
ALTER TABLE events_0012 RENAME TO events;
CREATE UNIQUE INDEX events_key ON events (session_id, thread_id, dedup_key);
CREATE INDEX events_time ON events (session_id, sort_ts, seq);
CREATE INDEX events_type ON events (session_id, type, sort_ts, seq);

-- 0002's triggers, as they were (dropped with the old table).
CREATE TRIGGER search_dirty_on_replace AFTER UPDATE OF raw ON events
WHEN NEW.seq <= (SELECT indexed_seq FROM search_state WHERE id = 1)
BEGIN
    INSERT OR IGNORE INTO search_dirty (seq) VALUES (NEW.seq);
END;

CREATE TRIGGER search_dirty_on_delete AFTER DELETE ON events
WHEN OLD.seq <= (SELECT indexed_seq FROM search_state WHERE id = 1)
BEGIN
    INSERT OR IGNORE INTO search_dirty (seq) VALUES (OLD.seq);
END;

CREATE TABLE event_revisions_0012 (
    id           INTEGER PRIMARY KEY,
    event_seq    INTEGER NOT NULL REFERENCES events (seq),
    source       TEXT NOT NULL,
    received_at  TEXT NOT NULL,
    replaced_at  TEXT NOT NULL,
    raw          ANY NOT NULL
) STRICT;
INSERT INTO event_revisions_0012 SELECT id, event_seq, source, received_at, replaced_at, raw
    FROM event_revisions;
DROP TABLE event_revisions;
ALTER TABLE event_revisions_0012 RENAME TO event_revisions;
CREATE INDEX event_revisions_event ON event_revisions (event_seq);

CREATE TABLE previews_0012 (
    seq          INTEGER PRIMARY KEY,
    session_id   TEXT NOT NULL,
    thread_id    TEXT NOT NULL DEFAULT '',
    event_id     TEXT NOT NULL,
    ordinal      INTEGER NOT NULL,
    type         TEXT NOT NULL,
    source       TEXT NOT NULL,
    received_at  TEXT NOT NULL,
    raw          ANY NOT NULL
) STRICT;
INSERT INTO previews_0012 SELECT seq, session_id, thread_id, event_id, ordinal, type, source,
    received_at, raw FROM previews;
DROP TABLE previews;
ALTER TABLE previews_0012 RENAME TO previews;
CREATE UNIQUE INDEX previews_key ON previews (session_id, thread_id, event_id, ordinal);
