-- 0014: what an analysis computed from a session's whole recording, kept compressed with the
-- session's write count it was computed at (issue 15; e.g. `stats@BUILD`: the statistics of
-- `flightrec stats`). Released migrations are never edited; add a new numbered file instead.
--
-- Read only while `session_rollups.writes` is still `writes`: any later commit touching the
-- session makes the entry stale (it is then replaced, or deleted with the session by gc). A
-- rowid table, unlike `session_cache` (0011, WITHOUT ROWID, whose key lookups may read a
-- neighbouring entry's whole body): only the body asked for is read.
CREATE TABLE session_results (
    session_id TEXT NOT NULL,
    kind       TEXT NOT NULL,
    writes     INTEGER NOT NULL,    -- session_rollups.writes when it was computed
    body       BLOB NOT NULL,       -- deflate-compressed
    PRIMARY KEY (session_id, kind)
) STRICT;
