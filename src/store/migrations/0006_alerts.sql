-- Alerts raised by `flightrec watch`: one row per (session, rule, event) — the event the rule
-- names ('' when it names none) — fired once, resolved once when its hit is gone. Open alerts
-- are the rows still 'firing': a restarted watcher reads them back and does not fire again.
CREATE TABLE alerts (
    id          INTEGER PRIMARY KEY,
    session_id  TEXT NOT NULL,
    rule        TEXT NOT NULL,       -- requires_action, running_silent, ...
    event_id    TEXT NOT NULL,       -- the blocking (or last) event; '' when none
    state       TEXT NOT NULL CHECK (state IN ('firing', 'resolved')),
    at          TEXT,                -- the event's time (processed_at)
    fired_at    TEXT NOT NULL,       -- RFC 3339, wall clock of the watcher
    resolved_at TEXT,
    summary     TEXT NOT NULL,
    payload     TEXT NOT NULL,       -- the firing notice as sent (JSON)
    UNIQUE (session_id, rule, event_id)
) STRICT;
CREATE INDEX alerts_state ON alerts (state, fired_at);
CREATE INDEX alerts_fired ON alerts (fired_at);

-- Each notice (firing, resolved) to each target (exec, webhook): attempts, the last error, and
-- when it was delivered (null while it is not).
CREATE TABLE alert_deliveries (
    alert_id        INTEGER NOT NULL,
    state           TEXT NOT NULL,   -- which notice: firing | resolved
    target          TEXT NOT NULL,   -- exec | webhook
    attempts        INTEGER NOT NULL,
    last_attempt_at TEXT NOT NULL,
    delivered_at    TEXT,
    last_error      TEXT,
    PRIMARY KEY (alert_id, state, target)
) STRICT;
