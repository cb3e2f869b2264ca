//! What `watch --otlp-endpoint` pushed (migration 0008): per collector, each acknowledged span's
//! digest and the arrival point up to which every change was pushed; and the sessions that
//! changed after an arrival point, which is what the pusher looks at on each tick.

use rusqlite::{OptionalExtension as _, params};
use std::collections::HashMap;

use super::{Result, Store};

/// The sessions with events that arrived or were replaced after an arrival point.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Changed {
    /// Each once, in no particular order.
    pub sessions: Vec<String>,
    /// The newest `events.seq` and `event_revisions.id` looked at: the next call's point.
    pub seq: i64,
    pub revision: i64,
}

/// A span a collector acknowledged.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PushedSpan {
    pub session_id: String,
    /// 16 hex digits.
    pub span_id: String,
    /// 16 hex digits: a digest of the span as encoded.
    pub digest: String,
}

impl Store {
    /// The sessions whose events arrived (`seq > seq`) or were replaced by a newer copy
    /// (`revision id > revision`) since that point, and the newest point now.
    pub fn changed_since(&self, seq: i64, revision: i64) -> Result<Changed> {
        let (to_seq, to_rev) = self.marks()?;
        let mut sessions: Vec<String> = self
            .conn
            .prepare_cached(
                "SELECT DISTINCT session_id FROM events WHERE seq > ?1 AND seq <= ?2 \
                 UNION SELECT DISTINCT e.session_id FROM event_revisions r \
                 JOIN events e ON e.seq = r.event_seq WHERE r.id > ?3 AND r.id <= ?4",
            )
            .and_then(|mut s| {
                s.query_map(params![seq, to_seq, revision, to_rev], |r| r.get(0))?
                    .collect()
            })
            .map_err(self.err("finding the sessions that changed"))?;
        sessions.dedup();
        Ok(Changed {
            sessions,
            seq: to_seq,
            revision: to_rev,
        })
    }

    /// The spans of `session_id` that the collector at `endpoint` acknowledged: span id → digest.
    pub fn otlp_pushed(&self, endpoint: &str, session_id: &str) -> Result<HashMap<String, String>> {
        self.conn
            .prepare_cached(
                "SELECT span_id, digest FROM otlp_pushed_spans \
                 WHERE endpoint = ?1 AND session_id = ?2",
            )
            .and_then(|mut s| {
                s.query_map(params![endpoint, session_id], |r| {
                    Ok((r.get(0)?, r.get(1)?))
                })?
                .collect()
            })
            .map_err(self.err("reading the spans pushed"))
    }

    /// Notes spans the collector at `endpoint` acknowledged, in one transaction; a span noted
    /// before gets the newer digest.
    pub fn note_otlp_pushed(
        &mut self,
        endpoint: &str,
        spans: &[PushedSpan],
        at: &str,
    ) -> Result<()> {
        let done = (|| {
            let tx = self.conn.transaction()?;
            {
                let mut st = tx.prepare_cached(
                    "INSERT OR REPLACE INTO otlp_pushed_spans \
                     (endpoint, session_id, span_id, digest, pushed_at) VALUES (?1, ?2, ?3, ?4, ?5)",
                )?;
                for s in spans {
                    st.execute(params![endpoint, s.session_id, s.span_id, s.digest, at])?;
                }
            }
            tx.commit()
        })();
        done.map_err(self.err("noting the spans pushed"))
    }

    /// The arrival point (`seq`, revision id) up to which every change was pushed to `endpoint`.
    pub fn otlp_watermark(&self, endpoint: &str) -> Result<Option<(i64, i64)>> {
        self.conn
            .prepare_cached(
                "SELECT event_seq, revision_id FROM otlp_watermarks WHERE endpoint = ?1",
            )
            .and_then(|mut s| {
                s.query_row([endpoint], |r| Ok((r.get(0)?, r.get(1)?)))
                    .optional()
            })
            .map_err(self.err("reading the push watermark"))
    }

    /// Sets the arrival point up to which every change was pushed to `endpoint`.
    pub fn set_otlp_watermark(
        &mut self,
        endpoint: &str,
        seq: i64,
        revision: i64,
        at: &str,
    ) -> Result<()> {
        self.conn
            .prepare_cached(
                "INSERT OR REPLACE INTO otlp_watermarks (endpoint, event_seq, revision_id, updated_at) \
                 VALUES (?1, ?2, ?3, ?4)",
            )
            .and_then(|mut s| s.execute(params![endpoint, seq, revision, at]))
            .map(|_| ())
            .map_err(self.err("setting the push watermark"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pushes_and_watermarks_round_trip_per_endpoint() {
        let dir = tempfile::tempdir().unwrap();
        let mut s = Store::open(&dir.path().join("t.db")).unwrap();
        let span = |id: &str, d: &str| PushedSpan {
            session_id: "sesn_a".into(),
            span_id: id.into(),
            digest: d.into(),
        };
        s.note_otlp_pushed(
            "http://a/v1/traces",
            &[span("01", "aa"), span("02", "bb")],
            "t",
        )
        .unwrap();
        s.note_otlp_pushed("http://a/v1/traces", &[span("02", "cc")], "t")
            .unwrap();
        let got = s.otlp_pushed("http://a/v1/traces", "sesn_a").unwrap();
        assert_eq!(got.len(), 2);
        assert_eq!(got["02"], "cc");
        assert!(
            s.otlp_pushed("http://b/v1/traces", "sesn_a")
                .unwrap()
                .is_empty()
        );
        assert_eq!(s.otlp_watermark("http://a/v1/traces").unwrap(), None);
        s.set_otlp_watermark("http://a/v1/traces", 7, 2, "t")
            .unwrap();
        s.set_otlp_watermark("http://a/v1/traces", 9, 3, "t")
            .unwrap();
        assert_eq!(
            s.otlp_watermark("http://a/v1/traces").unwrap(),
            Some((9, 3))
        );
    }
}
