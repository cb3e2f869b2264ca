-- 0013: slimmer event rows (issue 15: the database at most 0.6x its JSON Lines). Released
-- migrations are never edited; add a new numbered file instead.
--
-- Per event the row and its three indexes held the 29-byte session id four times, the id twice
-- (id and dedup key are the same for every event that has an id) and two RFC 3339 times as text:
-- about 190 of a 300k-event session's 300 bytes a row beside the compressed text. Now:
-- - the session is a small integer key (`session_keys`, never reused, never deleted);
-- - `event_id` is NULL when it equals `dedup_key`;
-- - `processed_at` is NULL when it is exactly `sort_ts` written as `YYYY-MM-DDTHH:MM:SS.mmmZ`
--   (the API's form), or when the event is queued (sort_ts = i64::MAX); the integer 0 stands for
--   a NULL processed_at beside a real sort_ts; any other text is kept as received;
-- - `received_at` is an INTEGER (ms since the epoch) when it was written in that same form (the
--   recorder's own), else its TEXT.
-- The table is `event_rows`; `events` is now a view with the columns it always had, so every
-- reader (and `sqlite3` with `event_text`) reads as before. Writers write `event_rows`
-- (store/write.rs, store/gc.rs). `store::read::EVENT_COLUMNS` reads the stored forms and
-- formats the times in Rust (store/slim.rs); the view's SQL formats them the same way.

CREATE TABLE session_keys (
    key          INTEGER PRIMARY KEY,
    session_id   TEXT NOT NULL UNIQUE
) STRICT;
INSERT INTO session_keys (session_id)
    SELECT id FROM sessions UNION SELECT session_id FROM events ORDER BY 1;

CREATE TABLE event_rows (
    seq          INTEGER PRIMARY KEY,    -- arrival order; kept when a newer copy replaces the text
    sess         INTEGER NOT NULL,       -- session_keys.key
    thread_id    TEXT NOT NULL DEFAULT '',
    event_id     TEXT,                   -- NULL: the same as dedup_key
    dedup_key    TEXT NOT NULL,
    type         TEXT NOT NULL,
    processed_at ANY,                    -- NULL: from sort_ts (queued: none); 0: none; else as received
    sort_ts      INTEGER NOT NULL,
    link_id      TEXT,
    source       TEXT NOT NULL,
    received_at  ANY NOT NULL,           -- INTEGER ms since the epoch, or TEXT as written
    revision     INTEGER NOT NULL DEFAULT 0,
    raw          ANY NOT NULL
) STRICT;

INSERT INTO event_rows
SELECT e.seq, k.key, e.thread_id,
    CASE WHEN e.event_id = e.dedup_key THEN NULL ELSE e.event_id END,
    e.dedup_key, e.type,
    CASE
        WHEN e.processed_at IS NULL THEN CASE WHEN e.sort_ts = 9223372036854775807 THEN NULL ELSE 0 END
        WHEN e.sort_ts >= 0 AND e.sort_ts < 253402300800000000 AND e.sort_ts % 1000 = 0
            AND e.processed_at = strftime('%Y-%m-%dT%H:%M:%S', e.sort_ts / 1000000, 'unixepoch')
                || printf('.%03dZ', (e.sort_ts / 1000) % 1000) THEN NULL
        ELSE e.processed_at
    END,
    e.sort_ts, e.link_id, e.source,
    CASE
        WHEN length(e.received_at) = 24 AND substr(e.received_at, 20, 1) = '.'
            AND substr(e.received_at, 24, 1) = 'Z'
            AND e.received_at = strftime('%Y-%m-%dT%H:%M:%S', unixepoch(substr(e.received_at, 1, 19)), 'unixepoch')
                || printf('.%03dZ', CAST(substr(e.received_at, 21, 3) AS INTEGER))
            AND substr(e.received_at, 21, 3) GLOB '[0-9][0-9][0-9]'
            AND unixepoch(substr(e.received_at, 1, 19)) >= 0
        THEN unixepoch(substr(e.received_at, 1, 19)) * 1000 + CAST(substr(e.received_at, 21, 3) AS INTEGER)
        ELSE e.received_at
    END,
    e.revision, e.raw
FROM events e JOIN session_keys k ON k.session_id = e.session_id;

DROP TABLE events;
CREATE UNIQUE INDEX event_rows_key ON event_rows (sess, thread_id, dedup_key);
CREATE INDEX event_rows_time ON event_rows (sess, sort_ts, seq);
CREATE INDEX event_rows_type ON event_rows (sess, type, sort_ts, seq);

CREATE VIEW events (seq, session_id, thread_id, event_id, dedup_key, type, processed_at, sort_ts,
    link_id, source, received_at, revision, raw, sess, stored_processed_at, stored_received_at) AS
SELECT e.seq, k.session_id, e.thread_id, coalesce(e.event_id, e.dedup_key), e.dedup_key, e.type,
    CASE
        WHEN e.processed_at IS NULL THEN
            CASE WHEN e.sort_ts <> 9223372036854775807 THEN
                strftime('%Y-%m-%dT%H:%M:%S', e.sort_ts / 1000000, 'unixepoch')
                    || printf('.%03dZ', (e.sort_ts / 1000) % 1000)
            END
        WHEN typeof(e.processed_at) = 'integer' THEN NULL
        ELSE e.processed_at
    END,
    e.sort_ts, e.link_id, e.source,
    CASE WHEN typeof(e.received_at) = 'integer' THEN
        strftime('%Y-%m-%dT%H:%M:%S', e.received_at / 1000, 'unixepoch')
            || printf('.%03dZ', e.received_at % 1000)
    ELSE e.received_at END,
    e.revision, e.raw, e.sess, e.processed_at, e.received_at
FROM event_rows e JOIN session_keys k ON k.key = e.sess;

-- 0002's triggers, now on the table (dropped with the old one).
CREATE TRIGGER search_dirty_on_replace AFTER UPDATE OF raw ON event_rows
WHEN NEW.seq <= (SELECT indexed_seq FROM search_state WHERE id = 1)
BEGIN
    INSERT OR IGNORE INTO search_dirty (seq) VALUES (NEW.seq);
END;

CREATE TRIGGER search_dirty_on_delete AFTER DELETE ON event_rows
WHEN OLD.seq <= (SELECT indexed_seq FROM search_state WHERE id = 1)
BEGIN
    INSERT OR IGNORE INTO search_dirty (seq) VALUES (OLD.seq);
END;

-- event_revisions pointed at the table that is now a view: rebuilt to point at event_rows.
CREATE TABLE event_revisions_0013 (
    id           INTEGER PRIMARY KEY,
    event_seq    INTEGER NOT NULL REFERENCES event_rows (seq),
    source       TEXT NOT NULL,
    received_at  TEXT NOT NULL,
    replaced_at  TEXT NOT NULL,
    raw          ANY NOT NULL
) STRICT;
INSERT INTO event_revisions_0013 SELECT id, event_seq, source, received_at, replaced_at, raw
    FROM event_revisions;
DROP TABLE event_revisions;
ALTER TABLE event_revisions_0013 RENAME TO event_revisions;
CREATE INDEX event_revisions_event ON event_revisions (event_seq);

-- A cache entry's body may now be compressed (a BLOB: one zstd frame of the JSON; store/cache.rs).
-- Entries are derived data: dropped here, written again by the next import.
DROP TABLE session_cache;
CREATE TABLE session_cache (
    session_id    TEXT NOT NULL,
    kind          TEXT NOT NULL,
    body          ANY NOT NULL,          -- JSON text, or a zstd frame of it
    PRIMARY KEY (kind, session_id)
) STRICT, WITHOUT ROWID;
-- Kind first: a question across the workspace reads one kind of every session (`check --all`:
-- `rules@…`) as one range of the table, not a seek per session among the other kinds' bodies
-- (10,000 seeks read 160 MB of pages at 10M events). Commits delete a session's entries by id.
CREATE INDEX session_cache_session ON session_cache (session_id);
