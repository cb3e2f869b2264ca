//! WAL checkpoints on a connection and a thread of their own. A checkpoint that runs on the
//! writing connection (SQLite's automatic one, after a commit past 1,000 WAL pages) stalls the
//! writer while it copies the WAL into the main file and waits for the disk (`fsync`): about
//! 0.1 s a second of a bulk import, during which nothing queued behind the writer moves. Here the
//! writer turns its automatic checkpoints off and this thread copies what was committed, passively
//! (it never waits for a lock, and never blocks the writer or a reader).

use std::path::Path;
use std::sync::mpsc::{RecvTimeoutError, Sender, channel};
use std::thread::JoinHandle;
use std::time::Duration;

use super::{Result, Store, StoreError};

/// How often a bulk write's WAL is checkpointed beside it ([`Store::begin_bulk`]): a bulk
/// import commits every second.
pub const BULK_CHECKPOINT_EVERY: Duration = Duration::from_millis(250);

/// Passive checkpoints of one database, every `every` and when nudged, until dropped.
pub struct WalCheckpointer {
    /// Each message asks for a checkpoint now; dropped, it stops the thread.
    nudges: Option<Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl WalCheckpointer {
    /// Opens a connection of its own to `db` and starts checkpointing it. The writer should turn
    /// its own automatic checkpoints off ([`Store::set_autocheckpoint`] 0).
    pub fn start(db: &Path, every: Duration) -> Result<WalCheckpointer> {
        let checkpointer = Store::open(db)?.unmapped()?;
        let (nudges, nudged) = channel::<()>();
        let thread = std::thread::Builder::new()
            .name("flightrec-checkpoint".into())
            .spawn(move || {
                while !matches!(
                    nudged.recv_timeout(every),
                    Err(RecvTimeoutError::Disconnected)
                ) {
                    // A busy or failed checkpoint is tried again at the next tick; the last
                    // connection to close, or the writer's own truncating checkpoint, does
                    // what is left.
                    let _ = checkpointer.checkpoint_passive();
                }
            })
            .map_err(|e| StoreError::Output(std::io::Error::other(e)))?;
        Ok(WalCheckpointer {
            nudges: Some(nudges),
            thread: Some(thread),
        })
    }
}

impl WalCheckpointer {
    /// Asks for a checkpoint now rather than at the next tick: the writer just committed what it
    /// had to write, and the copy can run beside what it does next.
    pub fn nudge(&self) {
        if let Some(s) = &self.nudges {
            let _ = s.send(());
        }
    }
}

impl Store {
    /// After a bulk write's last commit of its rows ([`Store::begin_bulk`]): has the WAL copied
    /// beside what the writer does next, so the truncating checkpoint at its end has less left.
    pub fn checkpoint_soon(&self) {
        if let Some(c) = &self.bulk_checkpoints {
            c.nudge();
        }
    }

    /// Turns this connection's automatic checkpoints off and has a [`WalCheckpointer`] do them
    /// beside it, every `every`, for as long as it is kept.
    pub fn checkpoint_beside(&self, every: Duration) -> Result<WalCheckpointer> {
        self.set_autocheckpoint(0)?;
        WalCheckpointer::start(&self.path, every)
    }
}

impl Drop for WalCheckpointer {
    /// Stops the thread and waits for it (a checkpoint under way finishes first).
    fn drop(&mut self) {
        drop(self.nudges.take());
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn autocheckpoint(store: &Store) -> i64 {
        store
            .conn
            .query_row("PRAGMA wal_autocheckpoint", [], |r| r.get(0))
            .unwrap()
    }

    /// Commits 2 MB to `store` (its WAL, until something checkpoints it).
    fn commit_two_megabytes(store: &Store) {
        store
            .conn
            .execute_batch(
                "BEGIN; CREATE TABLE t(x BLOB);
                 WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 2000)
                 INSERT INTO t SELECT randomblob(1000) FROM n; COMMIT;",
            )
            .unwrap();
    }

    /// Waits (up to 20 s) for the main file `db` to grow a megabyte past `before`.
    fn wait_for_the_main_file(db: &Path, before: u64, why: &str) {
        let deadline = std::time::Instant::now() + Duration::from_secs(20);
        while std::fs::metadata(db).unwrap().len() < before + 1_000_000 {
            assert!(
                std::time::Instant::now() < deadline,
                "the main file stayed at {before} bytes: {why}"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// A bulk write's commits reach the main file although its own connection never
    /// checkpoints: the connection beside it did.
    #[test]
    fn a_bulk_write_is_checkpointed_beside_the_writer() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("t.db");
        let mut store = Store::open(&db).unwrap();
        assert_eq!(autocheckpoint(&store), 1000);
        store.begin_bulk(16).unwrap();
        assert_eq!(autocheckpoint(&store), 0, "the writer must not checkpoint");
        let before = std::fs::metadata(&db).unwrap().len();
        commit_two_megabytes(&store);
        let wal = dir.path().join("t.db-wal");
        assert!(std::fs::metadata(&wal).unwrap().len() > 1_000_000);
        wait_for_the_main_file(&db, before, "nothing checkpointed the WAL");
        store.end_bulk().unwrap();
        assert_eq!(autocheckpoint(&store), 1000);
        assert!(store.bulk_checkpoints.is_none());
    }

    /// A nudge checkpoints at once: with a tick of an hour, only the nudge copies the WAL.
    #[test]
    fn a_nudge_checkpoints_before_the_next_tick() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("t.db");
        let store = Store::open(&db).unwrap();
        let beside = store.checkpoint_beside(Duration::from_secs(3600)).unwrap();
        let before = std::fs::metadata(&db).unwrap().len();
        commit_two_megabytes(&store);
        std::thread::sleep(Duration::from_millis(200));
        assert_eq!(
            std::fs::metadata(&db).unwrap().len(),
            before,
            "nothing may checkpoint before the nudge"
        );
        beside.nudge();
        wait_for_the_main_file(&db, before, "the nudge did not checkpoint");
    }
}
