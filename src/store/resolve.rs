//! The lookups behind ids people type: sessions and events whose id starts or ends with what was
//! typed, sessions in order of their newest event, and the event ids next to a typed one. They
//! return candidates; which one is meant, and what to say when none or several match, is the
//! CLI's (`cli/resolve.rs`).

use rusqlite::params;

use super::{QUEUED_SORT_TS, Result, Store, StoreError};

/// The smallest string greater than every string starting with `prefix` (code point order, which
/// is SQLite's BINARY order on UTF-8), so `prefix <= s < upper` is "s starts with prefix";
/// `None` when there is none (every character is `char::MAX`).
pub(crate) fn prefix_upper(prefix: &str) -> Option<String> {
    let mut chars: Vec<char> = prefix.chars().collect();
    while let Some(last) = chars.pop() {
        let next = (last as u32 + 1..=char::MAX as u32).find_map(char::from_u32);
        if let Some(next) = next {
            chars.push(next);
            return Some(chars.into_iter().collect());
        }
    }
    None
}

impl Store {
    /// `NoSuchSession` for `id` in this database: the message of an unknown session.
    pub fn no_such_session(&self, id: &str) -> StoreError {
        StoreError::NoSuchSession {
            id: id.to_string(),
            path: self.display(),
        }
    }

    /// Every session id with the time of its newest processed event (`events.sort_ts`, that is
    /// `processed_at`; queued events left out), newest first, then by id; sessions with no
    /// processed event last. The order of `flightrec sessions`. One index probe per session.
    pub fn sessions_by_recency(&self) -> Result<Vec<(String, Option<i64>)>> {
        let mut rows: Vec<(String, Option<i64>)> = self
            .conn
            .prepare_cached(
                "SELECT id, (SELECT max(sort_ts) FROM events WHERE session_id = sessions.id AND sort_ts < ?1) \
                 FROM sessions",
            )
            .and_then(|mut s| {
                s.query_map([QUEUED_SORT_TS], |r| Ok((r.get(0)?, r.get(1)?)))?
                    .collect()
            })
            .map_err(self.err("ordering sessions by their newest event"))?;
        rows.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        Ok(rows)
    }

    /// Ids of the sessions whose id starts with `prefix`: a range scan on the primary key.
    pub fn session_ids_with_prefix(&self, prefix: &str) -> Result<Vec<String>> {
        let sql = match prefix_upper(prefix) {
            Some(_) => "SELECT id FROM sessions WHERE id >= ?1 AND id < ?2 ORDER BY id",
            None => {
                "SELECT id FROM sessions WHERE id >= ?1 AND ?2 IS NULL \
                 AND substr(id, 1, length(?1)) = ?1 ORDER BY id"
            }
        };
        self.conn
            .prepare_cached(sql)
            .and_then(|mut s| {
                s.query_map(params![prefix, prefix_upper(prefix)], |r| r.get(0))?
                    .collect()
            })
            .map_err(self.err("finding sessions by an id prefix"))
    }

    /// Ids of the sessions whose id ends with `suffix`: a scan of the sessions table (one row per
    /// session, small beside the events).
    pub fn session_ids_with_suffix(&self, suffix: &str) -> Result<Vec<String>> {
        self.conn
            .prepare_cached(
                "SELECT id FROM sessions WHERE length(id) >= length(?1) \
                 AND substr(id, -length(?1)) = ?1 ORDER BY id",
            )
            .and_then(|mut s| s.query_map([suffix], |r| r.get(0))?.collect())
            .map_err(self.err("finding sessions by an id suffix"))
    }

    /// The streams a session's events came on (`''` for the session's own, else thread ids),
    /// found by hopping along the `events_key` index: one probe per stream.
    fn streams(&self, session_id: &str) -> Result<Vec<String>> {
        let mut out: Vec<String> = Vec::new();
        loop {
            let next: Option<String> = self
                .conn
                .prepare_cached(
                    "SELECT min(thread_id) FROM events WHERE session_id = ?1 \
                     AND (?2 IS NULL OR thread_id > ?2)",
                )
                .and_then(|mut s| s.query_row(params![session_id, out.last()], |r| r.get(0)))
                .map_err(self.err("listing a session's streams"))?;
            match next {
                Some(t) => out.push(t),
                None => return Ok(out),
            }
        }
    }

    /// The distinct ids of a session's events that start with `prefix`, at most `limit`: a range
    /// scan of the `events_key` index on each stream.
    pub fn event_ids_with_prefix(
        &self,
        session_id: &str,
        prefix: &str,
        limit: usize,
    ) -> Result<Vec<String>> {
        let Some(upper) = prefix_upper(prefix) else {
            return Ok(Vec::new());
        };
        let mut out: Vec<String> = Vec::new();
        for thread in self.streams(session_id)? {
            let ids: Vec<String> = self
                .conn
                .prepare_cached(
                    "SELECT dedup_key FROM events WHERE session_id = ?1 AND thread_id = ?2 \
                     AND dedup_key >= ?3 AND dedup_key < ?4 ORDER BY dedup_key LIMIT ?5",
                )
                .and_then(|mut s| {
                    let n = i64::try_from(limit).unwrap_or(i64::MAX);
                    s.query_map(params![session_id, thread, prefix, upper, n], |r| r.get(0))?
                        .collect()
                })
                .map_err(self.err("finding events by an id prefix"))?;
            merge(&mut out, typed(ids), limit);
        }
        Ok(out)
    }

    /// The distinct ids of a session's events that end with `suffix`, at most `limit`: a walk
    /// over the session's part of the `events_key` index (the table itself is not read).
    pub fn event_ids_with_suffix(
        &self,
        session_id: &str,
        suffix: &str,
        limit: usize,
    ) -> Result<Vec<String>> {
        self.event_ids_matching(
            session_id,
            "length(dedup_key) >= length(?2) AND substr(dedup_key, -length(?2)) = ?2",
            suffix,
            limit,
            "finding events by an id suffix",
        )
    }

    /// The distinct ids of a session's events that contain `part`, at most `limit`: the same
    /// walk as [`Store::event_ids_with_suffix`].
    pub fn event_ids_containing(
        &self,
        session_id: &str,
        part: &str,
        limit: usize,
    ) -> Result<Vec<String>> {
        self.event_ids_matching(
            session_id,
            "instr(dedup_key, ?2) > 0",
            part,
            limit,
            "finding events by a part of their id",
        )
    }

    /// The distinct ids of a session's events for which `condition` (on `dedup_key`, with `text`
    /// as `?2`) holds, at most `limit`, walking the session's part of `event_rows_key`.
    fn event_ids_matching(
        &self,
        session_id: &str,
        condition: &'static str,
        text: &str,
        limit: usize,
        what: &'static str,
    ) -> Result<Vec<String>> {
        let sql = format!(
            "SELECT DISTINCT dedup_key FROM event_rows INDEXED BY event_rows_key \
             WHERE sess = (SELECT key FROM session_keys WHERE session_id = ?1) \
             AND {condition} ORDER BY dedup_key LIMIT ?3"
        );
        let ids: Vec<String> = self
            .conn
            .prepare_cached(&sql)
            .and_then(|mut s| {
                let n = i64::try_from(limit).unwrap_or(i64::MAX);
                s.query_map(params![session_id, text, n], |r| r.get(0))?
                    .collect()
            })
            .map_err(self.err(what))?;
        Ok(typed(ids))
    }

    /// The event ids sorted next to `id` on each of the session's streams, `per_side` before and
    /// after: the ids sharing the longest prefix with it, for "did you mean".
    pub fn event_ids_near(
        &self,
        session_id: &str,
        id: &str,
        per_side: usize,
    ) -> Result<Vec<String>> {
        let n = i64::try_from(per_side).unwrap_or(i64::MAX);
        let mut out: Vec<String> = Vec::new();
        for thread in self.streams(session_id)? {
            for sql in [
                "SELECT dedup_key FROM events WHERE session_id = ?1 AND thread_id = ?2 \
                 AND dedup_key < ?3 ORDER BY dedup_key DESC LIMIT ?4",
                "SELECT dedup_key FROM events WHERE session_id = ?1 AND thread_id = ?2 \
                 AND dedup_key >= ?3 ORDER BY dedup_key LIMIT ?4",
            ] {
                let ids: Vec<String> = self
                    .conn
                    .prepare_cached(sql)
                    .and_then(|mut s| {
                        s.query_map(params![session_id, thread, id, n], |r| r.get(0))?
                            .collect()
                    })
                    .map_err(self.err("finding events near an id"))?;
                merge(&mut out, typed(ids), usize::MAX);
            }
        }
        Ok(out)
    }
}

/// The keys that are event ids: a key starting with `~` stands for an event without an id, or
/// for the second event under a reused id (whose first copy is keyed by the id itself).
fn typed(mut keys: Vec<String>) -> Vec<String> {
    keys.retain(|k| !k.is_empty() && !k.starts_with('~'));
    keys
}

/// Adds `more` to the sorted, distinct `out`, keeping at most `limit`.
fn merge(out: &mut Vec<String>, more: Vec<String>, limit: usize) {
    out.extend(more);
    out.sort();
    out.dedup();
    out.truncate(limit);
}

#[cfg(test)]
mod tests {
    use super::prefix_upper;

    #[test]
    fn the_upper_bound_of_a_prefix_is_its_last_character_plus_one() {
        assert_eq!(prefix_upper("sesn_01").as_deref(), Some("sesn_02"));
        assert_eq!(prefix_upper("a\u{10FFFF}").as_deref(), Some("b"));
        // The character after U+D7FF is U+E000 (surrogates are not characters).
        assert_eq!(prefix_upper("\u{D7FF}").as_deref(), Some("\u{E000}"));
        assert_eq!(prefix_upper("\u{10FFFF}"), None);
        assert_eq!(prefix_upper(""), None);
        for s in ["sesn_01", "sesn_01z", "sesn_01\u{10FFFF}x"] {
            let upper = prefix_upper("sesn_01").unwrap();
            assert!("sesn_01" <= s && s < upper.as_str(), "{s}");
        }
        let upper = prefix_upper("sesn_01").unwrap();
        assert!("sesn_02" >= upper.as_str());
    }
}
