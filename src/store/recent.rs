//! Session ids for shell completion: the ones starting with what has been typed, most recently
//! active first, in one indexed query (no summaries).

use rusqlite::params;

use super::{QUEUED_SORT_TS, Result, Store};

impl Store {
    /// The ids starting with `prefix`, most recently active first (newest processed event;
    /// sessions with none last), then by id: the order of [`Store::sessions`].
    pub fn session_ids_by_recency(&self, prefix: &str) -> Result<Vec<String>> {
        self.conn
            .prepare_cached(
                "SELECT id FROM sessions WHERE substr(id, 1, length(?1)) = ?1 \
                 ORDER BY (SELECT max(sort_ts) FROM events \
                           WHERE session_id = sessions.id AND sort_ts < ?2) DESC NULLS LAST, id",
            )
            .and_then(|mut s| {
                s.query_map(params![prefix, QUEUED_SORT_TS], |r| r.get(0))?
                    .collect()
            })
            .map_err(self.err("listing session ids"))
    }
}
