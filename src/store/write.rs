//! Writes: the upsert of events by id, previews, quarantine and the capture log, in batches.

use rusqlite::types::{Value, ValueRef};
use rusqlite::{Connection, OptionalExtension, params};
use std::collections::{HashMap, HashSet};

use super::codec::{self, Dictionaries, DictionaryRow, Encoder, Stored};
use super::compressor::{Compressed, Compressor};
use super::slim;
use super::{QUEUED_SORT_TS, Result, Store, StoreError};
use crate::model::{Envelope, Source};

/// One event (or preview frame) to store, with where and when it arrived.
pub struct Incoming<'a> {
    pub session_id: &'a str,
    /// The thread whose stream or log delivered it; "" for the session's own.
    pub thread_id: &'a str,
    pub envelope: &'a Envelope<'a>,
    pub source: Source,
    pub received_at: &'a str,
    /// For preview frames: their position among the previews of the same event in this input.
    pub preview_ordinal: u32,
}

/// An event a batch stored as new under its own key ([`WriteBatch::upsert_new`]), handed to
/// whatever follows the writes (`flightrec import`'s derived data): `store::as_scanned` gives
/// it as a scan of the session would.
pub struct Written<'a> {
    pub session_id: &'a str,
    pub thread_id: &'a str,
    pub seq: i64,
    pub envelope: &'a Envelope<'a>,
}

/// What an upsert did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// A new event.
    Inserted,
    /// A newer copy replaced the stored text (the old text is kept in `event_revisions`).
    Updated,
    /// The same text was already stored, or an older copy (queued) arrived after the processed one.
    Duplicate,
    /// A preview frame, stored apart (or already stored).
    Preview,
}

/// Counts per outcome, for reports.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct UpsertCounts {
    pub new: u64,
    pub updated: u64,
    pub duplicate: u64,
    pub previews: u64,
    pub quarantined: u64,
}

impl UpsertCounts {
    pub fn add(&mut self, o: Outcome) {
        match o {
            Outcome::Inserted => self.new += 1,
            Outcome::Updated => self.updated += 1,
            Outcome::Duplicate => self.duplicate += 1,
            Outcome::Preview => self.previews += 1,
        }
    }

    pub fn merge(&mut self, o: &UpsertCounts) {
        self.new += o.new;
        self.updated += o.updated;
        self.duplicate += o.duplicate;
        self.previews += o.previews;
        self.quarantined += o.quarantined;
    }
}

/// A write transaction. Nothing is visible to readers until [`WriteBatch::commit`] (or a
/// [`WriteBatch::flush`]); dropping it uncommitted rolls back.
pub struct WriteBatch<'s> {
    pub(super) tx: &'s Connection,
    /// Compresses the text of what is written (store/codec.rs).
    enc: &'s mut Encoder,
    /// The store's kept [`Compressor`], if any.
    kept: &'s mut Option<Compressor>,
    dicts: &'s Dictionaries,
    /// Decoded stored text, reused.
    buf: Vec<u8>,
    open: bool,
    path: String,
    next_seq: i64,
    /// The sessions this batch made sure of, with their keys (`session_keys`).
    sessions: HashMap<String, i64>,
    /// The session of the last event stored, its key, and whether it is in `touched`: an
    /// import's events are nearly all of one session, and hashing its id twice an event cost
    /// about 1 % of the writer's time.
    last_session: Option<(String, i64, bool)>,
    /// Sessions whose rollup (`store/rollups.rs`) is written again before the next commit.
    touched: HashSet<String>,
    new_per_session: Vec<(String, u64)>,
    /// Per session, the earliest sort_ts whose fold checkpoints this transaction invalidates.
    invalid_from: Vec<(String, i64)>,
    counts: UpsertCounts,
    collisions: Vec<(String, String, String)>,
    /// The insert of new events, held for the batch (taking it from the statement cache for
    /// each row cost a twentieth of the writer's time).
    insert: Option<rusqlite::CachedStatement<'s>>,
    /// The last `received_at` stored and its stored form: an import's rows all share one.
    received: Option<(String, Value)>,
    /// The ids of the dictionaries a [`Compressor`] handed this batch, in order
    /// ([`WriteBatch::add_dictionary`]): what its [`Compressed::Unnumbered`] frames use.
    numbered: Vec<i64>,
    /// An unnumbered frame with its dictionary's id in front, reused.
    framed: Vec<u8>,
}

/// A stored event as a replacement weighs it: seq, raw, processed_at, source, received_at, type,
/// sort_ts.
type StoredCopy = (i64, Value, Option<String>, String, String, String, i64);

/// Into the table behind the `events` view, in its compact forms (migration 0013, store/slim.rs).
const INSERT_EVENT: &str = "INSERT INTO event_rows (seq, sess, thread_id, event_id, dedup_key, type, processed_at, \
     sort_ts, link_id, source, received_at, raw) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12) \
     ON CONFLICT (sess, thread_id, dedup_key) DO NOTHING";

/// The next free seq: above every stored event and every one `gc` deleted (numbers are never
/// handed out twice: followers and watermarks remember them).
const NEXT_SEQ: &str = "SELECT max(coalesce((SELECT max(seq) FROM event_rows), 0), \
     (SELECT max_seq FROM retention WHERE id = 1)) + 1";

impl Store {
    /// Keeps a [`Compressor`] whose dictionaries are all committed, for the next import's
    /// [`WriteBatch::compressor`]. One whose import failed is dropped instead: a dictionary it
    /// trained may have been rolled back.
    pub fn keep_compressor(&mut self, c: Compressor) {
        self.compressor = Some(c);
    }

    /// Starts a write transaction.
    pub fn batch(&mut self) -> Result<WriteBatch<'_>> {
        let path = self.display();
        let mut batch = WriteBatch {
            tx: &self.conn,
            enc: &mut self.encoder,
            kept: &mut self.compressor,
            dicts: &self.dicts,
            buf: Vec::new(),
            open: false,
            path,
            next_seq: 0,
            sessions: HashMap::new(),
            last_session: None,
            touched: HashSet::new(),
            new_per_session: Vec::new(),
            invalid_from: Vec::new(),
            counts: UpsertCounts::default(),
            collisions: Vec::new(),
            insert: None,
            received: None,
            numbered: Vec::new(),
            framed: Vec::new(),
        };
        batch.begin()?;
        Ok(batch)
    }
}

/// The pause between two transactions of one batch: longer than a waiting writer's poll
/// (`store::WRITER_POLL`), so it gets the lock.
pub(super) const HANDOFF: std::time::Duration = std::time::Duration::from_millis(6);

impl WriteBatch<'_> {
    /// Takes the write lock and reads the next free seq under it (seq is assigned here, not by
    /// SQLite, so it must be read again in every transaction).
    fn begin(&mut self) -> Result<()> {
        self.tx
            .execute_batch("BEGIN IMMEDIATE")
            .map_err(self.wrap("starting a write"))?;
        self.open = true;
        self.next_seq = self
            .tx
            .query_row(NEXT_SEQ, [], |r| r.get(0))
            .map_err(self.wrap("starting a write"))?;
        self.enc
            .refresh(self.tx, self.dicts)
            .map_err(|e| StoreError::sqlite(self.path.clone(), "reading dictionaries", e))?;
        Ok(())
    }
}

impl WriteBatch<'_> {
    pub(super) fn wrap(&self, doing: &'static str) -> impl Fn(rusqlite::Error) -> StoreError + '_ {
        move |error| StoreError::sqlite(self.path.clone(), doing, error)
    }

    /// Makes sure the session has a row and a key; returns the key.
    pub fn ensure_session(&mut self, session_id: &str) -> Result<i64> {
        if let Some((id, key, _)) = &self.last_session
            && id == session_id
        {
            return Ok(*key);
        }
        if let Some(&key) = self.sessions.get(session_id) {
            self.last_session = Some((session_id.to_string(), key, false));
            return Ok(key);
        }
        let added = self
            .tx
            .prepare_cached("INSERT INTO sessions (id) VALUES (?1) ON CONFLICT DO NOTHING")
            .and_then(|mut s| s.execute([session_id]))
            .map_err(self.wrap("adding a session"))?;
        if added == 1 {
            self.touch(session_id);
        }
        let key = session_key(self.tx, session_id).map_err(self.wrap("adding a session"))?;
        self.sessions.insert(session_id.to_string(), key);
        self.last_session = Some((session_id.to_string(), key, false));
        Ok(key)
    }

    /// Marks the session's rollup for writing again at commit.
    fn touch(&mut self, session_id: &str) {
        if let Some((id, _, touched)) = &mut self.last_session
            && id == session_id
        {
            if !*touched {
                *touched = true;
                self.touched.insert(session_id.to_string());
            }
            return;
        }
        if !self.touched.contains(session_id) {
            self.touched.insert(session_id.to_string());
        }
    }

    /// Stores one event by id: new, replacing an older copy, or a no-op for a repeat.
    pub fn upsert(&mut self, inc: &Incoming<'_>) -> Result<Outcome> {
        self.upsert_compressed(inc, None)
    }

    /// [`WriteBatch::upsert`] of an event whose text a [`Compressor`] has made ready (`pre`),
    /// so the writer does not compress it again.
    pub fn upsert_compressed(
        &mut self,
        inc: &Incoming<'_>,
        pre: Option<&Compressed>,
    ) -> Result<Outcome> {
        Ok(self.upsert_new(inc, pre)?.0)
    }

    /// [`WriteBatch::upsert_compressed`], with the seq of the row it added when the event was
    /// new under its own key ([`event_key`]; not a preview, not an id another type had).
    pub fn upsert_new(
        &mut self,
        inc: &Incoming<'_>,
        pre: Option<&Compressed>,
    ) -> Result<(Outcome, Option<i64>)> {
        let sess = self.ensure_session(inc.session_id)?;
        let env = inc.envelope;
        let mut new = None;
        let outcome = if env.is_preview() {
            self.insert_preview(inc)?
        } else {
            self.touch(inc.session_id);
            let sort_ts = env.ts_micros.unwrap_or(QUEUED_SORT_TS);
            // Borrowed from the envelope unless the event has no id (no copy per row).
            let key = event_key(env, self.next_seq);
            let seq = self.next_seq;
            if self.insert_row(inc, pre, sess, &key, sort_ts)? {
                new = Some(seq);
                Outcome::Inserted
            } else {
                self.resolve_conflict(inc, pre, sess, &key, sort_ts, true)?
            }
        };
        self.counts.add(outcome);
        Ok((outcome, new))
    }

    /// Whether the session has no stored event (in this transaction's view).
    pub fn session_is_empty(&mut self, session_id: &str) -> Result<bool> {
        self.tx
            .prepare_cached(
                "SELECT NOT EXISTS (SELECT 1 FROM event_rows WHERE sess = \
                 (SELECT key FROM session_keys WHERE session_id = ?1))",
            )
            .and_then(|mut s| s.query_row([session_id], |r| r.get(0)))
            .map_err(self.wrap("reading a session's events"))
    }

    /// Inserts the event under `key` unless the key is taken; returns whether it was inserted.
    fn insert_row(
        &mut self,
        inc: &Incoming<'_>,
        pre: Option<&Compressed>,
        sess: i64,
        key: &str,
        sort_ts: i64,
    ) -> Result<bool> {
        let env = inc.envelope;
        let seq = self.next_seq;
        let raw = match pre {
            Some(c) => stored(c, env.raw, &self.numbered, &mut self.framed),
            None => self
                .enc
                .encode(self.tx, self.dicts, &env.event_type, env.raw)
                .map_err(|e| StoreError::sqlite(self.path.clone(), "compressing an event", e))?,
        };
        let received = match &self.received {
            Some((text, stored)) if text == inc.received_at => stored.clone(),
            _ => {
                let stored = slim::stored_received_at(inc.received_at);
                self.received = Some((inc.received_at.to_string(), stored.clone()));
                stored
            }
        };
        let tx = self.tx;
        let insert = match &mut self.insert {
            Some(s) => Ok(s),
            slot @ None => tx.prepare_cached(INSERT_EVENT).map(|s| slot.insert(s)),
        };
        let inserted = insert
            .and_then(|s| {
                s.execute(params![
                    seq,
                    sess,
                    inc.thread_id,
                    slim::stored_event_id(&env.id, key),
                    key,
                    env.event_type.as_ref(),
                    slim::stored_processed_at(env.processed_at.as_deref(), sort_ts),
                    sort_ts,
                    env.link_id.as_deref(),
                    inc.source.as_str(),
                    received,
                    raw,
                ])
            })
            .map_err(|e| StoreError::sqlite(self.path.clone(), "storing an event", e))?;
        if inserted == 1 {
            if env.is_error {
                self.mark_error(seq, true)?;
            }
            self.next_seq += 1;
            self.count_new(inc.session_id);
            // Its seq is the newest: it sorts before a checkpoint only with an earlier time.
            self.invalidate_from(inc.session_id, sort_ts.saturating_add(1));
        }
        Ok(inserted == 1)
    }

    /// A [`Compressor`] for another thread: the one the last import on this store gave back
    /// ([`Store::keep_compressor`]: its samples go on adding up), else a new one knowing the
    /// database's dictionaries.
    pub fn compressor(&mut self) -> Result<Compressor> {
        match self.kept.take() {
            Some(c) => Ok(c),
            None => Compressor::from_database(self.tx).map_err(self.wrap("reading dictionaries")),
        }
    }

    /// Writes a dictionary a [`Compressor`] trained, in this transaction (so before the rows
    /// that use it); returns the id the compressor is to use.
    pub fn add_dictionary(&mut self, t: &DictionaryRow) -> Result<i64> {
        let id = self
            .enc
            .store(self.tx, self.dicts, t)
            .map_err(self.wrap("storing a dictionary"))?;
        self.numbered.push(id);
        Ok(id)
    }

    /// The ids of the dictionaries written by [`WriteBatch::add_dictionary`], in order: what
    /// [`Compressor::numbered`] takes once the compressor that trained them is done.
    pub fn numbered_dictionaries(&self) -> &[i64] {
        &self.numbered
    }

    /// Ids reused by events of another type seen by this batch: (id, stored type, new type).
    pub fn collisions(&self) -> &[(String, String, String)] {
        &self.collisions
    }

    /// Notes that the session's fold checkpoints at or after `sort_ts` no longer hold.
    fn invalidate_from(&mut self, session_id: &str, sort_ts: i64) {
        match self.invalid_from.iter_mut().find(|(s, _)| s == session_id) {
            Some((_, from)) => *from = (*from).min(sort_ts),
            None => self.invalid_from.push((session_id.to_string(), sort_ts)),
        }
    }

    fn count_new(&mut self, session_id: &str) {
        match self
            .new_per_session
            .iter_mut()
            .find(|(s, _)| s == session_id)
        {
            Some((_, n)) => *n += 1,
            None => self.new_per_session.push((session_id.to_string(), 1)),
        }
    }

    /// The key exists. Keep the stored copy if it is the same or newer; otherwise replace it.
    ///
    /// An event of another type under the same id is a different event (official samples and
    /// redacted logs reuse placeholder ids): it is kept beside the stored one under
    /// [`typed_key`], and the reuse is noted in [`WriteBatch::collisions`].
    fn resolve_conflict(
        &mut self,
        inc: &Incoming<'_>,
        pre: Option<&Compressed>,
        sess: i64,
        key: &str,
        sort_ts: i64,
        first: bool,
    ) -> Result<Outcome> {
        let env = inc.envelope;
        let existing: Option<StoredCopy> = self
            .tx
            .prepare_cached(
                "SELECT seq, raw, processed_at, source, received_at, type, sort_ts FROM events \
                 WHERE sess = ?1 AND thread_id = ?2 AND dedup_key = ?3",
            )
            .and_then(|mut s| {
                s.query_row(params![sess, inc.thread_id, key], |r| {
                    Ok((
                        r.get(0)?,
                        r.get(1)?,
                        r.get(2)?,
                        r.get(3)?,
                        r.get(4)?,
                        r.get(5)?,
                        r.get(6)?,
                    ))
                })
                .optional()
            })
            .map_err(self.wrap("reading a stored event"))?;
        let Some((seq, raw, processed_at, source, received_at, stored_type, stored_ts)) = existing
        else {
            return Ok(Outcome::Duplicate);
        };
        if stored_type != env.event_type.as_ref() {
            if !first {
                // Only a crafted id can land here (one spelled like a typed key): keep what is
                // stored rather than loop.
                return Ok(Outcome::Duplicate);
            }
            self.collisions
                .push((env.id.to_string(), stored_type, env.event_type.to_string()));
            let typed = typed_key(env);
            return if self.insert_row(inc, pre, sess, &typed, sort_ts)? {
                Ok(Outcome::Inserted)
            } else {
                self.resolve_conflict(inc, pre, sess, &typed, sort_ts, false)
            };
        }
        // Identical text, or a queued (processed_at null) copy arriving after the processed one.
        let same = self
            .dicts
            .text(Some(self.tx), ValueRef::from(&raw), &mut self.buf)
            .map_err(|error| StoreError::Damaged {
                path: self.path.clone(),
                error,
            })?
            == Some(env.raw);
        if same || (env.processed_at.is_none() && processed_at.is_some()) {
            return Ok(Outcome::Duplicate);
        }
        // The replaced copy is kept as it is stored (text or its encoding).
        self.tx
            .prepare_cached(
                "INSERT INTO event_revisions (id, event_seq, source, received_at, replaced_at, raw) \
                 VALUES (max(coalesce((SELECT max(id) FROM event_revisions), 0), \
                             (SELECT max_revision_id FROM retention WHERE id = 1)) + 1, \
                         ?1, ?2, ?3, ?4, ?5)",
            )
            .and_then(|mut s| s.execute(params![seq, source, received_at, inc.received_at, raw]))
            .map_err(self.wrap("keeping a replaced event"))?;
        let new_raw = match pre {
            Some(c) => stored(c, env.raw, &self.numbered, &mut self.framed),
            None => self
                .enc
                .encode(self.tx, self.dicts, &env.event_type, env.raw)
                .map_err(|e| StoreError::sqlite(self.path.clone(), "compressing an event", e))?,
        };
        self.tx
            .prepare_cached(
                "UPDATE event_rows SET type = ?2, processed_at = ?3, sort_ts = ?4, link_id = ?5, source = ?6, \
                 received_at = ?7, raw = ?8, revision = revision + 1 WHERE seq = ?1",
            )
            .and_then(|mut s| {
                s.execute(params![
                    seq,
                    env.event_type.as_ref(),
                    slim::stored_processed_at(env.processed_at.as_deref(), sort_ts),
                    sort_ts,
                    env.link_id.as_deref(),
                    inc.source.as_str(),
                    slim::stored_received_at(inc.received_at),
                    new_raw,
                ])
            })
            .map_err(|e| StoreError::sqlite(self.path.clone(), "replacing an event", e))?;
        self.mark_error(seq, env.is_error)?;
        // The folds saw the old copy where it sorted, and will see the new one where it sorts.
        self.invalidate_from(inc.session_id, stored_ts.min(sort_ts));
        Ok(Outcome::Updated)
    }

    /// Keeps `event_errors` in step with the stored text of event `seq`.
    fn mark_error(&mut self, seq: i64, is_error: bool) -> Result<()> {
        let sql = if is_error {
            "INSERT INTO event_errors (seq) VALUES (?1) ON CONFLICT DO NOTHING"
        } else {
            "DELETE FROM event_errors WHERE seq = ?1"
        };
        self.tx
            .prepare_cached(sql)
            .and_then(|mut s| s.execute([seq]))
            .map_err(self.wrap("flagging a failed event"))?;
        Ok(())
    }

    fn insert_preview(&mut self, inc: &Incoming<'_>) -> Result<Outcome> {
        let env = inc.envelope;
        let raw = self
            .enc
            .encode(self.tx, self.dicts, &env.event_type, env.raw)
            .map_err(|e| StoreError::sqlite(self.path.clone(), "compressing a preview", e))?;
        self.tx
            .prepare_cached(
                "INSERT INTO previews (session_id, thread_id, event_id, ordinal, type, source, received_at, raw) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) ON CONFLICT DO NOTHING",
            )
            .and_then(|mut s| {
                s.execute(params![
                    inc.session_id,
                    inc.thread_id,
                    env.link_id.as_deref().unwrap_or(""),
                    inc.preview_ordinal,
                    env.event_type.as_ref(),
                    inc.source.as_str(),
                    inc.received_at,
                    raw,
                ])
            })
            .map_err(|e| StoreError::sqlite(self.path.clone(), "storing a preview frame", e))?;
        Ok(Outcome::Preview)
    }

    /// Keeps a frame that is not an event, byte for byte, with where it came from and why.
    /// A repeat of the same bytes from the same origin is stored once.
    #[allow(clippy::too_many_arguments)]
    pub fn quarantine(
        &mut self,
        session_id: Option<&str>,
        thread_id: &str,
        source: Source,
        origin: &str,
        reason: &str,
        received_at: &str,
        raw: &[u8],
    ) -> Result<()> {
        if let Some(s) = session_id {
            self.ensure_session(s)?;
        }
        self.tx
            .prepare_cached(
                "INSERT INTO quarantine (session_id, thread_id, source, origin, reason, received_at, raw) \
                 SELECT ?1, ?2, ?3, ?4, ?5, ?6, ?7 \
                 WHERE NOT EXISTS (SELECT 1 FROM quarantine WHERE origin = ?4 AND raw = ?7)",
            )
            .and_then(|mut s| {
                s.execute(params![session_id, thread_id, source.as_str(), origin, reason, received_at, raw])
            })
            .map_err(self.wrap("quarantining a frame"))?;
        self.counts.quarantined += 1;
        Ok(())
    }

    /// Appends an entry to the capture log. `detail` is a JSON object.
    pub fn log_capture(
        &mut self,
        session_id: Option<&str>,
        thread_id: &str,
        kind: &str,
        started_at: &str,
        ended_at: Option<&str>,
        detail: &serde_json::Value,
    ) -> Result<i64> {
        self.tx
            .prepare_cached(
                "INSERT INTO capture_log (session_id, thread_id, kind, started_at, ended_at, detail) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            )
            .and_then(|mut s| {
                s.execute(params![session_id, thread_id, kind, started_at, ended_at, detail.to_string()])
            })
            .map_err(self.wrap("writing the capture log"))?;
        Ok(self.tx.last_insert_rowid())
    }

    /// What this batch did so far.
    pub fn counts(&self) -> UpsertCounts {
        self.counts
    }

    /// Commits what is written so far and goes on in a new transaction, after a pause that lets
    /// writers waiting for the lock (other imports, a recorder) take their turn. Another writer
    /// may have added events meanwhile, so the next seq is read again.
    pub fn flush(&mut self) -> Result<()> {
        self.commit_open()?;
        std::thread::sleep(HANDOFF);
        self.begin()
    }

    /// Makes the batch durable and visible.
    pub fn commit(mut self) -> Result<UpsertCounts> {
        self.commit_open()?;
        Ok(self.counts)
    }

    fn commit_open(&mut self) -> Result<()> {
        for (session, n) in std::mem::take(&mut self.new_per_session) {
            self.tx
                .prepare_cached("UPDATE sessions SET event_count = event_count + ?2 WHERE id = ?1")
                .and_then(|mut s| s.execute(params![session, i64::try_from(n).unwrap_or(i64::MAX)]))
                .map_err(self.wrap("committing"))?;
        }
        for (session, from) in std::mem::take(&mut self.invalid_from) {
            super::checkpoints::invalidate(self.tx, &session, from)
                .map_err(self.wrap("committing"))?;
        }
        // After the counts: the rollups read them.
        if let Some((_, _, touched)) = &mut self.last_session {
            *touched = false;
        }
        for session in std::mem::take(&mut self.touched) {
            super::rollups::refresh(self.tx, &session).map_err(self.wrap("committing"))?;
        }
        self.tx
            .execute_batch("COMMIT")
            .map_err(self.wrap("committing"))?;
        self.open = false;
        self.enc.committed();
        Ok(())
    }

    /// Stores a session object (`GET /v1/sessions/{id}`) as received, replacing an older one.
    pub fn set_session_object(
        &mut self,
        session_id: &str,
        raw: &str,
        fetched_at: &str,
    ) -> Result<()> {
        self.ensure_session(session_id)?;
        self.touch(session_id);
        self.tx
            .prepare_cached("UPDATE sessions SET object = ?2, object_at = ?3 WHERE id = ?1")
            .and_then(|mut s| s.execute(params![session_id, raw, fetched_at]))
            .map_err(self.wrap("storing a session object"))?;
        Ok(())
    }
}

/// Restoring a tape (`record::tape`): writes that keep what the tape says as it says it.
impl WriteBatch<'_> {
    /// Whether the event `inc` describes is already stored (by the same key the upsert uses; a
    /// queued event with an empty id, keyed by its arrival, counts when the same text is stored).
    pub fn is_stored(&self, inc: &Incoming<'_>) -> Result<bool> {
        let env = inc.envelope;
        let found = if env.id.is_empty() && env.processed_at.is_none() {
            self.tx
                .prepare_cached(
                    "SELECT 1 FROM events WHERE session_id = ?1 AND thread_id = ?2 AND event_id = '' \
                     AND processed_at IS NULL AND event_text(raw) = ?3 LIMIT 1",
                )
                .and_then(|mut s| {
                    s.query_row(params![inc.session_id, inc.thread_id, env.raw], |_| Ok(()))
                        .optional()
                })
        } else {
            self.tx
                .prepare_cached(
                    "SELECT 1 FROM events WHERE session_id = ?1 AND thread_id = ?2 \
                     AND dedup_key IN (?3, ?4) AND type = ?5",
                )
                .and_then(|mut s| {
                    s.query_row(
                        params![
                            inc.session_id,
                            inc.thread_id,
                            dedup_key(env, 0),
                            typed_key(env),
                            env.event_type.as_ref()
                        ],
                        |_| Ok(()),
                    )
                    .optional()
                })
        };
        Ok(found
            .map_err(self.wrap("looking up a stored event"))?
            .is_some())
    }

    /// Appends a capture log entry with its detail text as given, unless `occurrence` (from 1)
    /// identical entries of the session are already stored: the `occurrence`-th copy of an
    /// entry in one input is added once, however often the input is imported. Returns whether
    /// it was added.
    #[allow(clippy::too_many_arguments)]
    pub fn restore_capture(
        &mut self,
        session_id: &str,
        thread_id: &str,
        kind: &str,
        started_at: &str,
        ended_at: Option<&str>,
        detail: Option<&str>,
        occurrence: u32,
    ) -> Result<bool> {
        self.ensure_session(session_id)?;
        let added = self
            .tx
            .prepare_cached(
                "INSERT INTO capture_log (session_id, thread_id, kind, started_at, ended_at, detail) \
                 SELECT ?1, ?2, ?3, ?4, ?5, ?6 WHERE (SELECT count(*) FROM capture_log \
                   WHERE session_id = ?1 AND thread_id = ?2 AND kind = ?3 AND started_at = ?4 \
                   AND ended_at IS ?5 AND detail IS ?6) < ?7",
            )
            .and_then(|mut s| {
                s.execute(params![
                    session_id, thread_id, kind, started_at, ended_at, detail, occurrence
                ])
            })
            .map_err(self.wrap("writing the capture log"))?;
        Ok(added == 1)
    }

    /// Stores a session object as received with when it was fetched, which may be unknown.
    pub fn restore_session_object(
        &mut self,
        session_id: &str,
        raw: &str,
        fetched_at: Option<&str>,
    ) -> Result<()> {
        self.ensure_session(session_id)?;
        self.touch(session_id);
        self.tx
            .prepare_cached("UPDATE sessions SET object = ?2, object_at = ?3 WHERE id = ?1")
            .and_then(|mut s| s.execute(params![session_id, raw, fetched_at]))
            .map_err(self.wrap("storing a session object"))?;
        Ok(())
    }
}

impl Drop for WriteBatch<'_> {
    fn drop(&mut self) {
        if self.open {
            // Nothing to report to: the caller already has the error that stopped it.
            let _ = self.tx.execute_batch("ROLLBACK");
            self.enc.rolled_back(self.dicts);
        }
    }
}

/// The key an event is deduplicated on within its session and thread stream.
///
/// A non-empty id is the key. An empty id (`user.interrupt` can arrive so) is never merged with a
/// different event: a processed one is keyed by its time and a hash of its exact text, so only a
/// byte-identical repeat (the same frame seen twice) merges; a queued one is keyed by its arrival.
fn dedup_key(env: &Envelope<'_>, seq: i64) -> String {
    event_key(env, seq).into_owned()
}

/// The key an event stored as new at `seq` under its own key has (see `dedup_key`): what a scan
/// gives as its `event_id`.
pub fn event_key<'e>(env: &'e Envelope<'_>, seq: i64) -> std::borrow::Cow<'e, str> {
    if !env.id.is_empty() {
        return std::borrow::Cow::Borrowed(&env.id);
    }
    std::borrow::Cow::Owned(match &env.processed_at {
        Some(p) => format!("~{p}~{:016x}", fnv1a(env.raw.as_bytes())),
        None => format!("~queued~{seq}"),
    })
}

/// The key of an event whose id is already taken in its stream by an event of another type: the
/// type and the id, so each type keeps one event per id and re-imports find it again.
fn typed_key(env: &Envelope<'_>) -> String {
    format!("~{}~{}", env.event_type, env.id)
}

/// FNV-1a, 64 bits: stable across builds and platforms (unlike std's hasher).
fn fnv1a(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in bytes {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

/// The session's key in `session_keys` (migration 0013), added when it has none. Keys are never
/// deleted, so one handed out stays valid for the batch.
fn session_key(tx: &Connection, session_id: &str) -> rusqlite::Result<i64> {
    tx.prepare_cached("INSERT INTO session_keys (session_id) VALUES (?1) ON CONFLICT DO NOTHING")?
        .execute([session_id])?;
    tx.prepare_cached("SELECT key FROM session_keys WHERE session_id = ?1")?
        .query_row([session_id], |r| r.get(0))
}

/// The stored form of a text a [`Compressor`] made ready.
/// What to store for a text compressed away from the writer; an unnumbered frame gets its
/// dictionary's id in front, in `framed` (`numbered`: the ids, see [`WriteBatch::numbered`]).
fn stored<'a>(
    c: &'a Compressed,
    text: &'a str,
    numbered: &[i64],
    framed: &'a mut Vec<u8>,
) -> Stored<'a> {
    match c {
        Compressed::Text => Stored::Text(text),
        Compressed::Blob(b) => Stored::Blob(b),
        Compressed::Unnumbered(k, frame) => match numbered.get(*k) {
            Some(&id) if codec::numbered_blob(id, frame, text, framed) => Stored::Blob(framed),
            // A dictionary not written (the import stops at that error) or a frame that the
            // id makes no shorter: the text, as it came.
            _ => Stored::Text(text),
        },
    }
}
