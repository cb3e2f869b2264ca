//! Full-text search over events (SQLite FTS5), with an index that catches up lazily.
//!
//! Nothing is indexed on the import or record path. [`Store::update_search_index`] brings the
//! index up to date before a search: events above the watermark (`search_state.indexed_seq`) are
//! new; events in `search_dirty` had their text replaced in place by an upsert after they were
//! indexed (a trigger marks them). It works in transactions of [`CHUNK`] events, each moving the
//! watermark with the rows it indexed, so a first search on a large database holds the write lock
//! for a fraction of a second at a time (a live recorder keeps writing between them) and an
//! interrupted build resumes where it stopped. The text of each event is
//! [`crate::model::search_text::search_text`].

use rusqlite::{ErrorCode, MAIN_DB, OptionalExtension, params, params_from_iter};
use serde::Serialize;
use std::collections::HashMap;

use super::{QUEUED_SORT_TS, Result, Store, StoreError};
use crate::model::search_text::search_text;

/// How long a search waits for the write lock to bring its index up to date.
const INDEX_LOCK_WAIT: std::time::Duration = std::time::Duration::from_millis(100);

/// Events indexed per write transaction (about 0.1–0.2 s of work).
const CHUNK: usize = 20_000;

/// The markers around matched words in snippets, and the ellipsis where text is cut.
pub const MATCH_START: &str = "»";
pub const MATCH_END: &str = "«";
pub const ELLIPSIS: &str = "…";

/// The tokenizer of `search_index` (migrations/0002_search.sql), repeated for the snippet table.
const TOKENIZER: &str = "unicode61 remove_diacritics 2 tokenchars '_'";

/// Tokens of context a snippet shows (FTS5 allows up to 64).
const SNIPPET_TOKENS: u32 = 16;

/// How hits are ordered.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum SearchOrder {
    /// Best match first (FTS5 bm25), then arrival.
    #[default]
    Rank,
    /// By processed_at (queued last), then arrival.
    Time,
}

/// What to search for, and where.
#[derive(Debug, Clone, Default)]
pub struct SearchQuery {
    /// The user's words (each matched as a word or phrase, all required), or an FTS5 expression
    /// when `raw_fts` is set.
    pub text: String,
    pub raw_fts: bool,
    /// Only events of this session.
    pub session: Option<String>,
    /// Only events of these types (all when empty).
    pub types: Vec<String>,
    /// Only events processed at or after / at or before these times (µs since the epoch).
    pub since_ts: Option<i64>,
    pub until_ts: Option<i64>,
    pub limit: Option<u64>,
    pub order: SearchOrder,
}

/// One matching event.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SearchHit {
    pub session_id: String,
    pub thread_id: String,
    pub event_id: String,
    pub event_type: String,
    pub processed_at: Option<String>,
    /// `processed_at` in µs since the epoch; `None` while queued.
    pub ts: Option<i64>,
    pub seq: i64,
    /// The matching text around the match, matches between `»` and `«`, cuts marked `…`.
    pub snippet: String,
    /// FTS5 bm25: lower is better.
    pub score: f64,
}

/// What [`Store::update_search_index`] did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct IndexUpdate {
    /// New events read (with or without text).
    pub indexed: u64,
    /// Replaced events read again.
    pub reindexed: u64,
    /// Events the index lacks or has outdated text for, left so for `stale_because`; 0 when
    /// the index is current.
    pub stale: u64,
    pub stale_because: Option<Stale>,
}

/// Why the index could not be brought up to date.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Stale {
    /// The database (or its directory) cannot be written by this process.
    ReadOnly,
    /// Another connection held the write lock longer than the busy timeout (a long import).
    Busy,
}

/// Hits, and how current the index was.
#[derive(Debug, Clone, PartialEq)]
pub struct SearchResults {
    pub hits: Vec<SearchHit>,
    pub index: IndexUpdate,
}

#[derive(Debug, thiserror::Error)]
pub enum SearchError {
    #[error("search query {query:?} has no words to search for")]
    Empty { query: String },
    #[error("invalid FTS5 query {query:?}: {reason}")]
    BadQuery { query: String, reason: String },
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The user's words as an FTS5 query: each whitespace-separated word quoted (so `-`, `.`, `:`,
/// `*` or `AND` inside it are text, not syntax) and all required; a trailing `*` keeps its prefix
/// meaning. Words with no letter, digit or `_` are dropped, as the tokenizer would drop them.
/// `None` when no word is left.
pub fn plain_fts_query(words: &str) -> Option<String> {
    let terms: Vec<String> = words
        .split_whitespace()
        .filter_map(|w| {
            let (w, prefix) = match w.strip_suffix('*') {
                Some(stem) if !stem.is_empty() => (stem, "*"),
                _ => (w, ""),
            };
            w.chars()
                .any(|c| c.is_alphanumeric() || c == '_')
                .then(|| format!("\"{}\"{prefix}", w.replace('"', "\"\"")))
        })
        .collect();
    (!terms.is_empty()).then(|| terms.join(" "))
}

impl Store {
    /// Brings the search index up to date, then searches it. On a read-only database the index
    /// is searched as it is, and [`IndexUpdate::stale`] says how many events it misses.
    pub fn search(&mut self, q: &SearchQuery) -> std::result::Result<SearchResults, SearchError> {
        fts_query(q)?; // a query without words is refused before any indexing work
        let index = self.update_search_index()?;
        let hits = self.search_indexed(q)?;
        Ok(SearchResults { hits, index })
    }

    /// Indexes the events above the watermark and re-indexes the replaced ones.
    pub fn update_search_index(&mut self) -> Result<IndexUpdate> {
        let read_only = self
            .conn
            .is_readonly(MAIN_DB)
            .map_err(self.err("opening the search index"))?;
        if read_only {
            return self.stale_update(IndexUpdate::default(), Stale::ReadOnly);
        }
        // Usually the index is current: find out without taking the write lock.
        let pending: bool = self
            .conn
            .query_row(
                "SELECT coalesce((SELECT max(seq) FROM event_rows), 0) \
                        > (SELECT indexed_seq FROM search_state WHERE id = 1) \
                     OR EXISTS (SELECT 1 FROM search_dirty)",
                [],
                |r| r.get(0),
            )
            .map_err(self.err("reading the search index state"))?;
        if !pending {
            return Ok(IndexUpdate::default());
        }
        // A search must not wait behind a long import: if the write lock is not free almost at
        // once, search the index as it is and say so.
        self.conn
            .busy_timeout(INDEX_LOCK_WAIT)
            .map_err(self.err("updating the search index"))?;
        let result = self.index_pending();
        self.wait_as_usual()?;
        result
    }

    fn index_pending(&mut self) -> Result<IndexUpdate> {
        let mut total = IndexUpdate::default();
        loop {
            let step = match self.index_chunk() {
                Ok(step) => step,
                Err(StoreError::Sqlite { error, .. }) => {
                    let why = match error.sqlite_error_code() {
                        Some(ErrorCode::ReadOnly) => Stale::ReadOnly,
                        Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked) => Stale::Busy,
                        _ => return Err(self.classify("updating the search index", error)),
                    };
                    return self.stale_update(total, why);
                }
                Err(e) => return Err(e),
            };
            total.indexed += step.indexed;
            total.reindexed += step.reindexed;
            if step.indexed < CHUNK as u64 {
                return Ok(total);
            }
        }
    }

    /// How far behind the index is, when it cannot be updated.
    fn stale_update(&self, done: IndexUpdate, why: Stale) -> Result<IndexUpdate> {
        let stale: i64 = self
            .conn
            .query_row(
                "SELECT (SELECT count(*) FROM event_rows \
                         WHERE seq > (SELECT indexed_seq FROM search_state WHERE id = 1)) \
                      + (SELECT count(*) FROM search_dirty)",
                [],
                |r| r.get(0),
            )
            .map_err(self.err("reading the search index state"))?;
        let stale = u64::try_from(stale).unwrap_or(0);
        Ok(IndexUpdate {
            stale,
            stale_because: (stale > 0).then_some(why),
            ..done
        })
    }

    /// One write transaction: every dirty event, then up to [`CHUNK`] new ones.
    fn index_chunk(&mut self) -> Result<IndexUpdate> {
        let path = self.display();
        let wrap = |doing: &'static str| {
            let path = path.clone();
            move |error| StoreError::sqlite(path, doing, error)
        };
        let tx = self
            .conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
            .map_err(wrap("updating the search index"))?;
        let mut done = IndexUpdate::default();
        {
            let mut insert = tx
                .prepare_cached("INSERT INTO search_index (rowid, text) VALUES (?1, ?2)")
                .map_err(wrap("updating the search index"))?;

            let dirty: Vec<i64> = tx
                .prepare_cached("SELECT seq FROM search_dirty")
                .and_then(|mut s| s.query_map([], |r| r.get(0))?.collect())
                .map_err(wrap("reading replaced events"))?;
            for seq in dirty {
                tx.prepare_cached("DELETE FROM search_index WHERE rowid = ?1")
                    .and_then(|mut s| s.execute([seq]))
                    .map_err(wrap("updating the search index"))?;
                let raw: Option<String> = tx
                    .prepare_cached("SELECT event_text(raw) FROM events WHERE seq = ?1")
                    .and_then(|mut s| s.query_row([seq], |r| r.get(0)).optional())
                    .map_err(wrap("reading replaced events"))?;
                if let Some(text) = raw.as_deref().and_then(search_text) {
                    insert
                        .execute(params![seq, text])
                        .map_err(wrap("updating the search index"))?;
                }
                done.reindexed += 1;
            }
            tx.execute("DELETE FROM search_dirty", [])
                .map_err(wrap("updating the search index"))?;

            let watermark: i64 = tx
                .query_row(
                    "SELECT indexed_seq FROM search_state WHERE id = 1",
                    [],
                    |r| r.get(0),
                )
                .map_err(wrap("reading the search index state"))?;
            let mut last = watermark;
            let mut rows = tx
                .prepare_cached(
                    "SELECT seq, event_text(raw) FROM event_rows WHERE seq > ?1 ORDER BY seq LIMIT ?2",
                )
                .map_err(wrap("reading events to index"))?;
            let mut rows = rows
                .query(params![watermark, CHUNK as i64])
                .map_err(wrap("reading events to index"))?;
            while let Some(row) = rows.next().map_err(wrap("reading events to index"))? {
                let seq: i64 = row.get(0).map_err(wrap("reading events to index"))?;
                let raw = row
                    .get_ref(1)
                    .and_then(|v| Ok(v.as_str()?))
                    .map_err(wrap("reading events to index"))?;
                if let Some(text) = search_text(raw) {
                    insert
                        .execute(params![seq, text])
                        .map_err(wrap("updating the search index"))?;
                }
                last = seq;
                done.indexed += 1;
            }
            if last != watermark {
                tx.execute(
                    "UPDATE search_state SET indexed_seq = ?1 WHERE id = 1",
                    [last],
                )
                .map_err(wrap("updating the search index"))?;
            }
        }
        tx.commit().map_err(wrap("updating the search index"))?;
        Ok(done)
    }

    /// Searches the index as it is (see [`Store::search`] to update it first).
    pub fn search_indexed(
        &self,
        q: &SearchQuery,
    ) -> std::result::Result<Vec<SearchHit>, SearchError> {
        let fts = &fts_query(q)?;
        if let Some(session) = &q.session {
            self.require_session(session)?;
        }
        let bad_query = |source: rusqlite::Error| self.query_error(q, fts, source);

        // Phase 1: the hits, without snippets (a snippet costs more than a rank, and SQLite
        // would make one for every match before the LIMIT).
        let mut sql = String::from(
            "SELECT e.seq, e.session_id, e.thread_id, e.event_id, e.type, e.processed_at, \
                    e.sort_ts, s.rank \
             FROM search_index s JOIN events e ON e.seq = s.rowid \
             WHERE search_index MATCH ?",
        );
        let mut args: Vec<rusqlite::types::Value> = vec![fts.to_string().into()];
        if let Some(session) = &q.session {
            // Within a session seq is mostly one range (an import, a recording): narrowing rowid
            // lets FTS5 skip the other sessions' matches instead of joining each of them.
            let (lo, hi): (Option<i64>, Option<i64>) = self
                .conn
                .prepare_cached("SELECT min(seq), max(seq) FROM events WHERE session_id = ?1")
                .and_then(|mut s| s.query_row([session], |r| Ok((r.get(0)?, r.get(1)?))))
                .map_err(self.err("searching"))?;
            sql.push_str(" AND s.rowid BETWEEN ? AND ? AND e.session_id = ?");
            args.push(lo.unwrap_or(0).into());
            args.push(hi.unwrap_or(0).into());
            args.push(session.clone().into());
        }
        if !q.types.is_empty() {
            sql.push_str(" AND e.type IN (");
            for (i, t) in q.types.iter().enumerate() {
                sql.push_str(if i == 0 { "?" } else { ", ?" });
                args.push(t.clone().into());
            }
            sql.push(')');
        }
        if let Some(t) = q.since_ts {
            sql.push_str(" AND e.sort_ts >= ?");
            args.push(t.into());
        }
        if let Some(t) = q.until_ts {
            sql.push_str(" AND e.sort_ts <= ?");
            args.push(t.into());
        }
        sql.push_str(match q.order {
            SearchOrder::Rank => " ORDER BY s.rank, e.seq",
            SearchOrder::Time => " ORDER BY e.sort_ts, e.seq",
        });
        if let Some(limit) = q.limit {
            sql.push_str(" LIMIT ?");
            args.push(i64::try_from(limit).unwrap_or(i64::MAX).into());
        }
        let mut hits: Vec<SearchHit> = self
            .conn
            .prepare(&sql)
            .and_then(|mut s| {
                s.query_map(params_from_iter(args), |r| {
                    let sort_ts: i64 = r.get(6)?;
                    Ok(SearchHit {
                        seq: r.get(0)?,
                        session_id: r.get(1)?,
                        thread_id: r.get(2)?,
                        event_id: r.get(3)?,
                        event_type: r.get(4)?,
                        processed_at: r.get(5)?,
                        ts: (sort_ts != QUEUED_SORT_TS).then_some(sort_ts),
                        score: r.get(7)?,
                        snippet: String::new(),
                    })
                })?
                .collect()
            })
            .map_err(bad_query)?;

        // Phase 2: snippets. The index keeps no text, so the hits' text is extracted again and
        // put in a scratch FTS5 table with the same tokenizer, where snippet() finds the same
        // matches (for any query syntax) in a few microseconds per hit.
        self.conn
            .execute_batch(&format!(
                "CREATE VIRTUAL TABLE IF NOT EXISTS temp.search_snippets USING fts5 \
                 (text, tokenize = \"{TOKENIZER}\"); DELETE FROM temp.search_snippets;"
            ))
            .map_err(self.err("making snippets"))?;
        for h in &hits {
            let raw: Option<String> = self
                .conn
                .prepare_cached("SELECT event_text(raw) FROM events WHERE seq = ?1")
                .and_then(|mut s| s.query_row([h.seq], |r| r.get(0)).optional())
                .map_err(self.err("making snippets"))?;
            if let Some(text) = raw.as_deref().and_then(search_text) {
                self.conn
                    .prepare_cached(
                        "INSERT INTO temp.search_snippets (rowid, text) VALUES (?1, ?2)",
                    )
                    .and_then(|mut s| s.execute(params![h.seq, text]))
                    .map_err(self.err("making snippets"))?;
            }
        }
        let snippet_sql = format!(
            "SELECT rowid, snippet(search_snippets, 0, '{MATCH_START}', '{MATCH_END}', \
             '{ELLIPSIS}', {SNIPPET_TOKENS}) FROM temp.search_snippets WHERE search_snippets MATCH ?1"
        );
        let snippets: HashMap<i64, String> = self
            .conn
            .prepare_cached(&snippet_sql)
            .and_then(|mut s| {
                s.query_map([fts], |r| Ok((r.get(0)?, r.get(1)?)))?
                    .collect()
            })
            .map_err(bad_query)?;
        for h in &mut hits {
            h.snippet = snippets.get(&h.seq).cloned().unwrap_or_default();
        }
        self.conn
            .execute_batch("DELETE FROM temp.search_snippets")
            .map_err(self.err("making snippets"))?;
        Ok(hits)
    }

    /// An FTS5 syntax error (`fts5: syntax error near …`, `no such column: x`, …) is the user's
    /// query's fault when it was passed through; anything else is the database's.
    fn query_error(&self, q: &SearchQuery, fts: &str, source: rusqlite::Error) -> SearchError {
        let generic = source.sqlite_error_code() == Some(ErrorCode::Unknown);
        if q.raw_fts && generic {
            let reason = match &source {
                rusqlite::Error::SqliteFailure(_, Some(msg)) => msg.clone(),
                other => other.to_string(),
            };
            return SearchError::BadQuery {
                query: fts.to_string(),
                reason,
            };
        }
        SearchError::Store(self.classify("searching", source))
    }
}

/// The FTS5 expression a query stands for.
fn fts_query(q: &SearchQuery) -> std::result::Result<String, SearchError> {
    let fts = if q.raw_fts {
        Some(q.text.trim().to_string()).filter(|t| !t.is_empty())
    } else {
        plain_fts_query(&q.text)
    };
    fts.ok_or_else(|| SearchError::Empty {
        query: q.text.clone(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Envelope, Source};
    use crate::store::Incoming;

    fn temp_store() -> (tempfile::TempDir, Store) {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("t.db")).unwrap();
        (dir, store)
    }

    fn put(store: &mut Store, session: &str, raws: &[&str]) {
        let mut b = store.batch().unwrap();
        for raw in raws {
            let env = Envelope::parse(raw, None).unwrap();
            b.upsert(&Incoming {
                session_id: session,
                thread_id: "",
                envelope: &env,
                source: Source::Import,
                received_at: "2026-08-07T14:00:00.000Z",
                preview_ordinal: 1,
            })
            .unwrap();
        }
        b.commit().unwrap();
    }

    fn msg(id: &str, text: &str) -> String {
        format!(
            r#"{{"type":"agent.message","id":"{id}","processed_at":"2026-08-07T14:02:{:02}.000Z","content":[{{"type":"text","text":"{text}"}}]}}"#,
            id.len() % 60
        )
    }

    fn words(q: &str) -> SearchQuery {
        SearchQuery {
            text: q.to_string(),
            ..SearchQuery::default()
        }
    }

    fn ids(r: &SearchResults) -> Vec<&str> {
        r.hits.iter().map(|h| h.event_id.as_str()).collect()
    }

    #[test]
    fn the_snippet_table_tokenizes_as_the_index_does() {
        let migration = include_str!("migrations/0002_search.sql");
        assert!(migration.contains(&format!("tokenize = \"{TOKENIZER}\"")));
    }

    #[test]
    fn plain_words_are_quoted_and_all_required() {
        assert_eq!(plain_fts_query("rm -rf").as_deref(), Some(r#""rm" "-rf""#));
        assert_eq!(
            plain_fts_query(r#"test_auth.py say"hi" AND get_wea*"#).as_deref(),
            Some(r#""test_auth.py" "say""hi""" "AND" "get_wea"*"#)
        );
        assert_eq!(plain_fts_query(" - * ... "), None);
        assert_eq!(plain_fts_query(""), None);
    }

    #[test]
    fn finds_words_identifiers_and_phrases_with_snippets() {
        let (_d, mut s) = temp_store();
        let a = msg("sevt_a", "Three tests fail, all in tests/test_auth.py.");
        let b = msg("sevt_b", "Calling get_weather for Oslo.");
        put(&mut s, "sesn_1", &[&a, &b]);
        let r = s.search(&words("test_auth.py")).unwrap();
        assert_eq!(ids(&r), ["sevt_a"]);
        assert_eq!(r.index.indexed, 2);
        assert_eq!(
            r.hits[0].snippet,
            "Three tests fail, all in tests/»test_auth.py«."
        );
        assert_eq!(ids(&s.search(&words("get_weather")).unwrap()), ["sevt_b"]);
        // An identifier is one word: its parts do not match alone, a prefix does.
        assert!(s.search(&words("weather")).unwrap().hits.is_empty());
        assert_eq!(ids(&s.search(&words("get_*")).unwrap()), ["sevt_b"]);
        // All words must match.
        assert!(s.search(&words("oslo fail")).unwrap().hits.is_empty());
    }

    #[test]
    fn best_match_comes_first_and_filters_apply() {
        let (_d, mut s) = temp_store();
        let once = msg(
            "sevt_1",
            "the deploy failed once and then the build passed fine",
        );
        let thrice = msg("sevt_22", "deploy deploy deploy");
        let tool = r#"{"type":"agent.tool_use","id":"sevt_3","name":"bash","input":{"command":"make deploy"},"processed_at":"2026-08-07T14:02:00.000Z"}"#;
        put(&mut s, "sesn_1", &[&once, &thrice]);
        put(&mut s, "sesn_2", &[tool]);
        let r = s.search(&words("deploy")).unwrap();
        assert_eq!(ids(&r), ["sevt_22", "sevt_3", "sevt_1"]);
        assert!(r.hits[0].score <= r.hits[1].score);

        let mut q = words("deploy");
        q.session = Some("sesn_2".into());
        assert_eq!(ids(&s.search(&q).unwrap()), ["sevt_3"]);
        assert_eq!(s.search(&q).unwrap().hits[0].session_id, "sesn_2");

        let mut q = words("deploy");
        q.types = vec!["agent.message".into()];
        q.limit = Some(1);
        assert_eq!(ids(&s.search(&q).unwrap()), ["sevt_22"]);

        let mut q = words("deploy");
        q.order = SearchOrder::Time;
        assert_eq!(ids(&s.search(&q).unwrap()), ["sevt_3", "sevt_1", "sevt_22"]);

        let mut q = words("deploy");
        q.session = Some("sesn_nope".into());
        assert!(matches!(
            s.search(&q),
            Err(SearchError::Store(StoreError::NoSuchSession { .. }))
        ));
    }

    #[test]
    fn the_index_catches_up_with_new_and_replaced_events() {
        let (_d, mut s) = temp_store();
        put(&mut s, "sesn_1", &[&msg("sevt_a", "first words")]);
        assert_eq!(ids(&s.search(&words("first")).unwrap()), ["sevt_a"]);

        put(&mut s, "sesn_1", &[&msg("sevt_b", "second words")]);
        let r = s.search(&words("words")).unwrap();
        assert_eq!(r.index.indexed, 1, "only the new event is read");
        assert_eq!(r.hits.len(), 2);

        // An upsert replaces the text in place, keeping seq.
        put(&mut s, "sesn_1", &[&msg("sevt_a", "replacement text")]);
        let r = s.search(&words("replacement")).unwrap();
        assert_eq!(ids(&r), ["sevt_a"]);
        assert_eq!(r.index.reindexed, 1);
        assert!(s.search(&words("first")).unwrap().hits.is_empty());
        let again = s.search(&words("replacement")).unwrap();
        assert_eq!(again.index, IndexUpdate::default(), "nothing left to do");
    }

    #[test]
    fn replacing_a_row_not_yet_indexed_marks_nothing() {
        let (_d, mut s) = temp_store();
        put(&mut s, "sesn_1", &[&msg("sevt_a", "old")]);
        put(&mut s, "sesn_1", &[&msg("sevt_a", "new")]);
        let dirty: i64 = s
            .conn
            .query_row("SELECT count(*) FROM search_dirty", [], |r| r.get(0))
            .unwrap();
        assert_eq!(dirty, 0);
        assert_eq!(ids(&s.search(&words("new")).unwrap()), ["sevt_a"]);
        assert!(s.search(&words("old")).unwrap().hits.is_empty());
    }

    #[test]
    fn a_large_backlog_is_indexed_in_chunks() {
        let (_d, mut s) = temp_store();
        let raws: Vec<String> = (0..CHUNK + 5)
            .map(|i| {
                msg(
                    &format!("sevt_{i}"),
                    if i % 2 == 0 { "even" } else { "odd" },
                )
            })
            .collect();
        let refs: Vec<&str> = raws.iter().map(String::as_str).collect();
        put(&mut s, "sesn_1", &refs);
        let mut q = words("odd");
        q.limit = Some(3);
        let r = s.search(&q).unwrap();
        assert_eq!(r.index.indexed, (CHUNK + 5) as u64);
        assert_eq!(r.hits.len(), 3);
        let n: i64 = s
            .conn
            .query_row(
                "SELECT count(*) FROM search_index WHERE search_index MATCH 'odd'",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(n as usize, (CHUNK + 5) / 2);
    }

    #[test]
    fn bad_raw_queries_are_the_users_and_empty_ones_are_refused() {
        let (_d, mut s) = temp_store();
        put(&mut s, "sesn_1", &[&msg("sevt_a", "alpha beta")]);
        let raw = |t: &str| SearchQuery {
            text: t.to_string(),
            raw_fts: true,
            ..SearchQuery::default()
        };
        assert_eq!(ids(&s.search(&raw("alpha NOT gamma")).unwrap()), ["sevt_a"]);
        assert_eq!(ids(&s.search(&raw("text: beta")).unwrap()), ["sevt_a"]);
        for bad in ["alpha AND", "nope: alpha", "\"unterminated"] {
            let e = s.search(&raw(bad)).unwrap_err();
            assert!(matches!(e, SearchError::BadQuery { .. }), "{bad}: {e}");
            assert!(!e.to_string().contains('\n'));
        }
        assert!(matches!(
            s.search(&words("  -- ")),
            Err(SearchError::Empty { .. })
        ));
        // Plain words never are FTS syntax.
        assert!(s.search(&words("alpha AND")).unwrap().hits.is_empty());
        assert_eq!(ids(&s.search(&words("alpha beta:")).unwrap()), ["sevt_a"]);
    }

    #[test]
    fn a_read_only_database_searches_the_index_it_has_and_says_how_stale() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("t.db");
        {
            let mut s = Store::open(&p).unwrap();
            put(&mut s, "sesn_1", &[&msg("sevt_a", "indexed words")]);
            s.search(&words("indexed")).unwrap();
            put(&mut s, "sesn_1", &[&msg("sevt_b", "later words")]);
            put(
                &mut s,
                "sesn_1",
                &[&msg("sevt_a", "indexed words, replaced")],
            );
        }
        let mut r = Store::open_read_only(&p).unwrap();
        let res = r.search(&words("words")).unwrap();
        assert_eq!(ids(&res), ["sevt_a"]);
        assert_eq!(res.index.stale, 2, "one new, one replaced");
        assert_eq!(res.index.stale_because, Some(Stale::ReadOnly));
        // Snippets come from the current text, also on a read-only connection.
        assert_eq!(res.hits[0].snippet, "indexed »words«, replaced");
        // The writable store catches up.
        let mut w = Store::open(&p).unwrap();
        assert_eq!(w.search(&words("words")).unwrap().hits.len(), 2);
    }

    #[test]
    fn a_busy_database_searches_the_index_it_has_and_says_so() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("t.db");
        let mut s = Store::open(&p).unwrap();
        put(&mut s, "sesn_1", &[&msg("sevt_a", "indexed words")]);
        s.search(&words("indexed")).unwrap();
        put(&mut s, "sesn_1", &[&msg("sevt_b", "later words")]);
        // Another writer (a long import) holds the write lock.
        let other = rusqlite::Connection::open(&p).unwrap();
        other.execute_batch("BEGIN IMMEDIATE").unwrap();
        let res = s.search(&words("words")).unwrap();
        assert_eq!(ids(&res), ["sevt_a"]);
        assert_eq!(res.index.stale, 1);
        assert_eq!(res.index.stale_because, Some(Stale::Busy));
        other.execute_batch("COMMIT").unwrap();
        let res = s.search(&words("words")).unwrap();
        assert_eq!(res.hits.len(), 2);
        assert_eq!(res.index.stale_because, None);
    }

    #[test]
    fn a_version_1_database_migrates_and_indexes_what_it_holds() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("v1.db");
        {
            // A database as the first release wrote it.
            let c = rusqlite::Connection::open(&p).unwrap();
            c.execute_batch(include_str!("migrations/0001_init.sql"))
                .unwrap();
            c.pragma_update(None, "user_version", 1).unwrap();
            c.pragma_update(None, "application_id", super::super::APPLICATION_ID)
                .unwrap();
            c.execute_batch(
                "INSERT INTO sessions (id, event_count) VALUES ('sesn_1', 1); \
                 INSERT INTO events (seq, session_id, event_id, dedup_key, type, processed_at, \
                   sort_ts, source, received_at, raw) VALUES (1, 'sesn_1', 'sevt_a', 'sevt_a', \
                   'agent.custom_tool_use', '2026-08-07T14:03:05.447Z', 0, 'import', 't', \
                   '{\"type\":\"agent.custom_tool_use\",\"id\":\"sevt_a\",\"name\":\"get_weather\",\"input\":{\"city\":\"Voss\"}}')",
            )
            .unwrap();
        }
        assert!(matches!(
            Store::open_read_only(&p),
            Err(StoreError::Outdated { found: 1, .. })
        ));
        let mut s = Store::open(&p).unwrap();
        assert_eq!(s.schema_version().unwrap(), super::super::SCHEMA_VERSION);
        let r = s.search(&words("voss")).unwrap();
        assert_eq!(ids(&r), ["sevt_a"]);
        assert_eq!(r.hits[0].event_type, "agent.custom_tool_use");
        drop(s);
        // Current again, so readers open it.
        assert!(Store::open_read_only(&p).is_ok());
    }
}
