//! The server's handle on the database: read-only connections (a recorder may be writing
//! beside us), pooled, each call run on tokio's blocking pool so SQLite never stalls the server.

use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use super::error::ApiError;
use crate::store::{Result, Store};

/// Connections kept open between calls.
const POOL_SIZE: usize = 8;

pub struct Db {
    path: PathBuf,
    idle: Mutex<Vec<Store>>,
    /// Calls made so far (each one or a few queries), for `--stats-file`.
    pub calls: AtomicU64,
}

impl Db {
    /// Opens one connection now, so a missing or foreign database fails before serving.
    pub fn open(path: PathBuf) -> Result<Arc<Db>> {
        let first = Store::open_reader(&path)?;
        Ok(Arc::new(Db {
            path,
            idle: Mutex::new(vec![first]),
            calls: AtomicU64::new(0),
        }))
    }

    /// Runs `f` on a pooled connection, off the async threads.
    pub async fn call<T, F>(self: &Arc<Self>, f: F) -> std::result::Result<T, ApiError>
    where
        T: Send + 'static,
        F: FnOnce(&Store) -> Result<T> + Send + 'static,
    {
        self.calls.fetch_add(1, Ordering::Relaxed);
        let db = Arc::clone(self);
        let joined = tokio::task::spawn_blocking(move || {
            let pooled = db.idle.lock().ok().and_then(|mut v| v.pop());
            let store = match pooled {
                Some(s) => s,
                None => Store::open_reader(&db.path)?,
            };
            let out = f(&store);
            if out.is_ok()
                && let Ok(mut idle) = db.idle.lock()
                && idle.len() < POOL_SIZE
            {
                idle.push(store);
            }
            out
        })
        .await;
        match joined {
            Ok(r) => r.map_err(ApiError::from),
            Err(e) => Err(ApiError::hidden(format!("database task failed: {e}"))),
        }
    }
}
