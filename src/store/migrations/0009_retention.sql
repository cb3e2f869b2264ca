-- 0009: retention (`flightrec gc`, `watch --retain`). Released migrations are never edited; add a
-- new numbered file instead.
--
-- Deleting a session can delete the newest events or revisions, and SQLite would then hand their
-- numbers out again (a rowid is max + 1). Followers, the search watermark, `serve --live` and
-- push watermarks remember how far they read by `events.seq` and `event_revisions.id`, so a
-- number must never come back: gc records the highest of each it has seen before deleting, and
-- writers number above it.
CREATE TABLE retention (
    id              INTEGER PRIMARY KEY CHECK (id = 1),
    max_seq         INTEGER NOT NULL,    -- highest events.seq there was when gc last deleted
    max_revision_id INTEGER NOT NULL     -- highest event_revisions.id likewise
) STRICT;
INSERT INTO retention (id, max_seq, max_revision_id) VALUES (1, 0, 0);
