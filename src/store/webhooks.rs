//! Webhook deliveries (migration 0005): each accepted delivery stored once by its id, repeats
//! counted; refusals counted per reason.

use super::{Result, Store};

/// An accepted (verified, well-formed) delivery to store.
#[derive(Debug, Clone, Copy)]
pub struct NewWebhook<'a> {
    /// The payload's `id` (`wevt_…`), the idempotency key.
    pub id: &'a str,
    /// The `webhook-id` header.
    pub webhook_id: &'a str,
    pub received_at: &'a str,
    /// `webhook-timestamp`, Unix seconds.
    pub timestamp: i64,
    pub data_type: &'a str,
    pub data_id: &'a str,
    /// The body exactly as received.
    pub body: &'a [u8],
}

/// A stored delivery.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookRow {
    pub id: String,
    pub webhook_id: String,
    pub received_at: String,
    pub timestamp: i64,
    pub data_type: String,
    pub data_id: String,
    pub body: Vec<u8>,
    /// How many times it arrived again after the first.
    pub repeats: i64,
}

/// How many deliveries were refused for one reason, and the last time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookRefusalCount {
    pub reason: String,
    pub count: i64,
    pub last_at: String,
}

impl Store {
    /// Stores a delivery; a delivery id already stored only counts a repeat (the first copy is
    /// kept). True when it is new.
    pub fn record_webhook(&mut self, w: &NewWebhook<'_>) -> Result<bool> {
        let repeats: i64 = self
            .conn
            .prepare_cached(
                "INSERT INTO webhooks \
                 (id, webhook_id, received_at, timestamp, data_type, data_id, body) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) \
                 ON CONFLICT (id) DO UPDATE SET repeats = repeats + 1 RETURNING repeats",
            )
            .and_then(|mut s| {
                s.query_row(
                    rusqlite::params![
                        w.id,
                        w.webhook_id,
                        w.received_at,
                        w.timestamp,
                        w.data_type,
                        w.data_id,
                        w.body
                    ],
                    |r| r.get(0),
                )
            })
            .map_err(self.err("storing a webhook delivery"))?;
        Ok(repeats == 0)
    }

    /// Counts a refused delivery under `reason` at `at`.
    pub fn count_webhook_refusal(&mut self, reason: &str, at: &str) -> Result<()> {
        self.conn
            .prepare_cached(
                "INSERT INTO webhook_refusals (reason, count, last_at) VALUES (?1, 1, ?2) \
                 ON CONFLICT (reason) DO UPDATE SET count = count + 1, last_at = ?2",
            )
            .and_then(|mut s| s.execute([reason, at]))
            .map_err(self.err("counting a refused webhook"))?;
        Ok(())
    }

    /// Every stored delivery, oldest webhook-timestamp first (then by id).
    pub fn webhooks(&self) -> Result<Vec<WebhookRow>> {
        self.conn
            .prepare_cached(
                "SELECT id, webhook_id, received_at, timestamp, data_type, data_id, body, repeats \
                 FROM webhooks ORDER BY timestamp, id",
            )
            .and_then(|mut s| {
                s.query_map([], |r| {
                    Ok(WebhookRow {
                        id: r.get(0)?,
                        webhook_id: r.get(1)?,
                        received_at: r.get(2)?,
                        timestamp: r.get(3)?,
                        data_type: r.get(4)?,
                        data_id: r.get(5)?,
                        body: r.get(6)?,
                        repeats: r.get(7)?,
                    })
                })?
                .collect()
            })
            .map_err(self.err("reading webhook deliveries"))
    }

    /// The refusal counts, by reason.
    pub fn webhook_refusals(&self) -> Result<Vec<WebhookRefusalCount>> {
        self.conn
            .prepare_cached("SELECT reason, count, last_at FROM webhook_refusals ORDER BY reason")
            .and_then(|mut s| {
                s.query_map([], |r| {
                    Ok(WebhookRefusalCount {
                        reason: r.get(0)?,
                        count: r.get(1)?,
                        last_at: r.get(2)?,
                    })
                })?
                .collect()
            })
            .map_err(self.err("reading webhook refusals"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn delivery<'a>(id: &'a str, body: &'a [u8]) -> NewWebhook<'a> {
        NewWebhook {
            id,
            webhook_id: "msg_1",
            received_at: "2026-12-01T10:00:01.000Z",
            timestamp: 1_796_119_200,
            data_type: "session.idled",
            data_id: "sesn_1",
            body,
        }
    }

    #[test]
    fn a_repeated_delivery_is_stored_once_and_counted() {
        let dir = tempfile::tempdir().unwrap();
        let mut s = Store::open(&dir.path().join("w.db")).unwrap();
        let body = b"{\"id\":\"wevt_1\"}\xff raw bytes";
        assert!(s.record_webhook(&delivery("wevt_1", body)).unwrap());
        assert!(!s.record_webhook(&delivery("wevt_1", b"other")).unwrap());
        assert!(s.record_webhook(&delivery("wevt_2", b"{}")).unwrap());
        let rows = s.webhooks().unwrap();
        assert_eq!(rows.len(), 2);
        assert_eq!((rows[0].body.as_slice(), rows[0].repeats), (&body[..], 1));
        assert_eq!(rows[1].repeats, 0);
    }

    #[test]
    fn refusals_are_counted_per_reason() {
        let dir = tempfile::tempdir().unwrap();
        let mut s = Store::open(&dir.path().join("w.db")).unwrap();
        s.count_webhook_refusal("stale", "t1").unwrap();
        s.count_webhook_refusal("stale", "t2").unwrap();
        s.count_webhook_refusal("bad_signature", "t3").unwrap();
        let got: Vec<(String, i64, String)> = s
            .webhook_refusals()
            .unwrap()
            .into_iter()
            .map(|r| (r.reason, r.count, r.last_at))
            .collect();
        assert_eq!(
            got,
            [
                ("bad_signature".into(), 1, "t3".into()),
                ("stale".into(), 2, "t2".into())
            ]
        );
    }
}
