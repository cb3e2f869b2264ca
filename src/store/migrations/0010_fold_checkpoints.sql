-- 0010: checkpoints of the folds over a session (issue 15). Released migrations are never
-- edited; add a new numbered file instead.
--
-- A fold's state (`fold`: which one, e.g. `state`) after every event of the session up to and
-- including the one at (sort_ts, seq), serialized by `analysis::checkpoint` and compressed: a
-- read at a point goes on from the newest checkpoint at or before it. A cache: writing an event
-- that sorts at or before a checkpoint deletes it (store/write.rs), and anything here may be
-- deleted at any time.
CREATE TABLE fold_checkpoints (
    session_id TEXT NOT NULL,
    fold       TEXT NOT NULL,
    sort_ts    INTEGER NOT NULL,
    seq        INTEGER NOT NULL,
    events     INTEGER NOT NULL,    -- how many events were folded (the session's first to here)
    data       BLOB NOT NULL,       -- deflate-compressed JSON
    PRIMARY KEY (session_id, fold, sort_ts, seq)
) STRICT;
