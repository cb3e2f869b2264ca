-- 0003: which events say "is_error": true at the top level (tool results, model request ends).
-- Kept apart so analyses can flag failed results without reading their (often large) text.
-- Sparse: most events are not errors. Maintained by the writer on insert and on replacement.
CREATE TABLE event_errors (
    seq INTEGER PRIMARY KEY                -- events.seq
) STRICT;

INSERT INTO event_errors (seq)
    SELECT seq FROM events WHERE json_type(raw, '$.is_error') = 'true';
