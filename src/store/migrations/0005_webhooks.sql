-- Anthropic webhook deliveries (Standard Webhooks) accepted by `watch --webhook-listen`: one row
-- per delivery id (the payload's `id`, the idempotency key); a repeat only bumps `repeats`.
CREATE TABLE webhooks (
    id          TEXT PRIMARY KEY,    -- wevt_... (payload id)
    webhook_id  TEXT NOT NULL,       -- the webhook-id header
    received_at TEXT NOT NULL,       -- first arrival (RFC 3339)
    timestamp   INTEGER NOT NULL,    -- webhook-timestamp (Unix seconds)
    data_type   TEXT NOT NULL,       -- data.type, known or not
    data_id     TEXT NOT NULL,       -- data.id (a session id for session.*)
    body        BLOB NOT NULL,       -- the body exactly as received and verified
    repeats     INTEGER NOT NULL DEFAULT 0
) STRICT;
CREATE INDEX webhooks_data ON webhooks (data_id, timestamp);

-- Deliveries refused, counted per reason (bounded however many forged requests arrive).
CREATE TABLE webhook_refusals (
    reason  TEXT PRIMARY KEY,        -- missing_header, stale, bad_signature, bad_payload, ...
    count   INTEGER NOT NULL,
    last_at TEXT NOT NULL
) STRICT;
