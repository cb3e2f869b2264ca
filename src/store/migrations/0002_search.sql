-- 0002: full-text search. Released migrations are never edited; add a new numbered file instead.
--
-- The index is built lazily by `flightrec search` (Store::update_search_index), never on the
-- import or record path: rows with seq above the watermark are new, rows in search_dirty were
-- replaced in place after being indexed.

-- The searchable text of each event (model::search_text), rowid = events.seq; events without
-- text have no row. Contentless (content = ''): the text is derived from raw, so there is no
-- table an external-content index could point at, and a stored copy would cost nearly as much as
-- raw itself (tool results dominate: measured 420 MB of text beside 98 MB of index for 1M
-- events). Snippets are made from the hits' text extracted again from raw (store/search.rs).
-- contentless_delete (SQLite 3.43+) lets a replaced event's row be deleted and re-inserted.
-- Session, type and time come from events by seq.
-- unicode61 with '_' as a token character, so identifiers (get_weather, test_auth) are one word;
-- diacritics are folded ("resume" finds "résumé"). store/search.rs repeats this tokenizer.
CREATE VIRTUAL TABLE search_index USING fts5 (
    text,
    content = '',
    contentless_delete = 1,
    tokenize = "unicode61 remove_diacritics 2 tokenchars '_'"
);

-- The highest events.seq the index has seen (one row). seq only grows, so everything above it is
-- new.
CREATE TABLE search_state (
    id           INTEGER PRIMARY KEY CHECK (id = 1),
    indexed_seq  INTEGER NOT NULL
) STRICT;
INSERT INTO search_state (id, indexed_seq) VALUES (1, 0);

-- Indexed events whose text changed since (an upsert replaced raw, keeping seq) or that are gone.
CREATE TABLE search_dirty (
    seq          INTEGER PRIMARY KEY
) STRICT;

-- Replacements are rare (queued echoes, re-imports of updated copies), so the cost is only paid
-- there; rows not indexed yet need no mark, the catch-up reads their current text anyway.
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
