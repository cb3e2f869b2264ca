//! Reads of stored session objects (`GET /v1/sessions/{id}` as received).

use rusqlite::OptionalExtension;

use super::{Result, Store, WriteBatch};

impl Store {
    /// The `agent` of a session's stored object, as JSON text: the agent as it was when the
    /// session was created (§6.1). `None` when no object was stored or it has no agent.
    pub fn session_agent(&self, session_id: &str) -> Result<Option<String>> {
        agent(&self.conn, session_id).map_err(self.err("reading a session object"))
    }
}

impl WriteBatch<'_> {
    /// [`Store::session_agent`] in this transaction's view.
    pub fn session_agent(&self, session_id: &str) -> Result<Option<String>> {
        agent(self.tx, session_id).map_err(self.wrap("reading a session object"))
    }
}

fn agent(conn: &rusqlite::Connection, session_id: &str) -> rusqlite::Result<Option<String>> {
    conn.prepare_cached(
        "SELECT object -> '$.agent' FROM sessions WHERE id = ?1 AND json_valid(object)",
    )
    .and_then(|mut s| s.query_row([session_id], |r| r.get(0)).optional())
    .map(Option::flatten)
}

/// A stored session object as received, and when it was fetched.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct SessionObject {
    pub raw: String,
    pub fetched_at: Option<String>,
}

impl Store {
    /// The session object as received (`GET /v1/sessions/{id}`), when one was stored.
    pub fn session_object(&self, session_id: &str) -> Result<Option<SessionObject>> {
        self.conn
            .prepare_cached(
                "SELECT object, object_at FROM sessions WHERE id = ?1 AND object IS NOT NULL",
            )
            .and_then(|mut s| {
                s.query_row([session_id], |r| {
                    Ok(SessionObject {
                        raw: r.get(0)?,
                        fetched_at: r.get(1)?,
                    })
                })
                .optional()
            })
            .map_err(self.err("reading a session object"))
    }
}

/// A stored thread object (`GET /v1/sessions/{id}/threads`, §6.3) as received.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct ThreadObject {
    /// `sthr_…`
    pub id: String,
    /// The thread that spawned this one; `None` for the primary thread.
    pub parent_thread_id: Option<String>,
    /// The object's JSON text as received (a dump's embedded `events` left out).
    pub raw: String,
    /// When it was fetched or imported.
    pub fetched_at: String,
}

impl Store {
    /// The session's stored thread objects, parents before children (then by id): the thread
    /// tree is `parent_thread_id`. Empty when none was recorded or imported.
    pub fn thread_objects(&self, session_id: &str) -> Result<Vec<ThreadObject>> {
        let mut rows: Vec<ThreadObject> = self
            .conn
            .prepare_cached(
                "SELECT id, parent_thread_id, object, object_at FROM threads \
                 WHERE session_id = ?1 ORDER BY id",
            )
            .and_then(|mut s| {
                s.query_map([session_id], |r| {
                    Ok(ThreadObject {
                        id: r.get(0)?,
                        parent_thread_id: r.get(1)?,
                        raw: r.get(2)?,
                        fetched_at: r.get(3)?,
                    })
                })?
                .collect()
            })
            .map_err(self.err("reading thread objects"))?;
        // Parents first: a thread's depth is the length of its parent chain (cycles cut).
        let parent: std::collections::HashMap<String, Option<String>> = rows
            .iter()
            .map(|t| (t.id.clone(), t.parent_thread_id.clone()))
            .collect();
        let depth = |id: &str| {
            let mut d = 0usize;
            let mut at = parent.get(id).cloned().flatten();
            while let Some(p) = at {
                d += 1;
                if d > parent.len() {
                    break;
                }
                at = parent.get(&p).cloned().flatten();
            }
            d
        };
        rows.sort_by_cached_key(|t| (depth(&t.id), t.id.clone()));
        Ok(rows)
    }
}

impl WriteBatch<'_> {
    /// Stores a thread object as received, replacing an older copy of the same thread. The
    /// caller has read its `id` and `parent_thread_id` (null or absent for the primary thread).
    pub fn set_thread_object(
        &mut self,
        session_id: &str,
        thread_id: &str,
        parent_thread_id: Option<&str>,
        raw: &str,
        fetched_at: &str,
    ) -> Result<()> {
        self.ensure_session(session_id)?;
        self.tx
            .prepare_cached(
                "INSERT INTO threads (session_id, id, parent_thread_id, object, object_at) \
                 VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (session_id, id) DO UPDATE SET \
                 parent_thread_id = excluded.parent_thread_id, object = excluded.object, \
                 object_at = excluded.object_at",
            )
            .and_then(|mut s| {
                s.execute(rusqlite::params![
                    session_id,
                    thread_id,
                    parent_thread_id,
                    raw,
                    fetched_at
                ])
            })
            .map_err(self.wrap("storing a thread object"))?;
        Ok(())
    }
}
