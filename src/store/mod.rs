//! The only code that touches SQLite: opening, migrations, writes, reads and aggregates.
//!
//! A database is a single file in WAL mode, so readers (the CLI, the viewer) work while a recorder
//! writes. The schema is versioned with `PRAGMA user_version` through numbered migrations that are
//! never edited once released; a database from a newer flightrec is refused.

mod alerts;
mod cache;
mod checkpoints;
mod codec;
mod compressor;
mod deployment_runs;
mod follow;
mod gc;
mod links;
mod objects;
mod otlp_pushes;
mod pages;
mod read;
mod resolve;
mod rollups;
mod scan;
mod scratch;
mod search;
mod sessions;
mod slim;
mod space;
mod training;
mod viewer;
mod wal;
mod webhooks;
mod write;

#[cfg(test)]
mod slim_tests;
#[cfg(test)]
mod tests;

pub use alerts::{AlertQuery, AlertRow, DeliveryRow, NewAlert, NewAttempt, PendingNotice};
pub use cache::{CacheEntry, Cached, PackedEntry};
pub use checkpoints::{
    CheckpointWrite, FoldCheckpoint, PackedCheckpoint, Packer, RowsMark, WriteMark,
};
pub use codec::{CodecError, DictionaryRow};
pub use compressor::{Compressed, Compressor, Prepared, Settled};
pub use deployment_runs::{DeploymentRunRow, StatusEvent};
pub use follow::Arrivals;
pub use gc::{Deleted, GcCandidate, GcOptions};
pub use links::LinkedRow;
pub use objects::{SessionObject, ThreadObject};
pub use otlp_pushes::{Changed, PushedSpan};
pub use pages::{LiveRows, PageQuery, PageRow, SessionFacts, ThreadEvent};
pub use read::{
    CaptureEntry, EventRow, PreviewOrigin, PreviewRow, QuarantineRow, RecordingState, RevisionRow,
    SessionSummary, TimelineQuery,
};
pub use scan::{EventRef, SLIM_FAILED, SLIM_OK, as_scanned};
pub use search::{
    IndexUpdate, SearchError, SearchHit, SearchOrder, SearchQuery, SearchResults, Stale,
    plain_fts_query,
};
pub use sessions::{AgentRef, SessionFilter};
pub use space::Space;
pub use viewer::Fingerprint;
pub use wal::{BULK_CHECKPOINT_EVERY, WalCheckpointer};
pub use webhooks::{NewWebhook, WebhookRefusalCount, WebhookRow};
pub use write::{Incoming, Outcome, UpsertCounts, WriteBatch, Written, event_key};

use rusqlite::{Connection, ErrorCode, OpenFlags};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// How much of a database file reads may map.
const MMAP_BYTES: u64 = 1 << 30;

/// The migrations, in order. Entry `i` brings a database from version `i` to `i + 1`.
const MIGRATIONS: &[&str] = &[
    include_str!("migrations/0001_init.sql"),
    include_str!("migrations/0002_search.sql"),
    include_str!("migrations/0003_event_errors.sql"),
    include_str!("migrations/0004_threads.sql"),
    include_str!("migrations/0005_webhooks.sql"),
    include_str!("migrations/0006_alerts.sql"),
    include_str!("migrations/0007_deployment_runs.sql"),
    include_str!("migrations/0008_otlp_pushes.sql"),
    include_str!("migrations/0009_retention.sql"),
    include_str!("migrations/0010_fold_checkpoints.sql"),
    rollups::MIGRATION,
    include_str!("migrations/0012_compressed_text.sql"),
    include_str!("migrations/0013_slim_events.sql"),
    include_str!("migrations/0014_session_results.sql"),
];

/// The schema version this build writes.
pub const SCHEMA_VERSION: i64 = MIGRATIONS.len() as i64;

/// `PRAGMA application_id` of a flightrec database ("flrc"), so a foreign SQLite file is told apart.
const APPLICATION_ID: i64 = 0x666c_7263;

/// The page size of new databases.
pub const PAGE_SIZE: u32 = 16384;

/// The sort key of an event whose `processed_at` is null: after everything processed.
pub const QUEUED_SORT_TS: i64 = i64::MAX;

/// `ms` since the epoch in the API's form, `2026-08-07T09:00:00.092Z` (UTC); `None` outside the
/// years 1970–9999. The form the store keeps as a number (store/slim.rs).
pub fn canonical_time(ms: i64) -> Option<String> {
    slim::format_ms(ms)
}

/// Registers `event_text(raw)` on a connection of the caller's own to the database at `path`
/// (tools and tests that read the file with SQL): the text of a stored event, revision or
/// preview, compressed or not (store/codec.rs).
pub fn register_event_text(conn: &Connection, path: &Path) -> rusqlite::Result<()> {
    let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let dicts = codec::Dictionaries::new(path.to_path_buf(), flags);
    codec::register(conn, std::sync::Arc::new(dicts))
}

/// The database of a user who names none (no `--db`, no `$FLIGHTREC_DB`): `flightrec.db` in a
/// `flightrec` folder of the user's data directory (the current directory when there is none).
/// The one definition the CLI and the viewer share.
pub fn default_path() -> PathBuf {
    dirs::data_dir()
        .unwrap_or_else(|| PathBuf::from("."))
        .join("flightrec")
        .join("flightrec.db")
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("{dir}: cannot create the database's directory: {error}")]
    CreateDir { dir: String, error: std::io::Error },
    #[error("{path}: cannot open database: {error}")]
    Open {
        path: String,
        error: rusqlite::Error,
        /// SQLite's result code when `error`'s message leaves it out: the next link of the chain.
        #[source]
        code: Option<rusqlite::ffi::Error>,
    },
    #[error("{path}: not a database (expected a flightrec SQLite file)")]
    NotADatabase { path: String },
    #[error("{path}: a SQLite database, but not flightrec's (application_id {found:#x})")]
    Foreign { path: String, found: i64 },
    #[error(
        "{path}: written by a newer flightrec (schema version {found}, this build knows up to {supported}); upgrade flightrec"
    )]
    TooNew {
        path: String,
        found: i64,
        supported: i64,
    },
    #[error(
        "{path}: schema version {found} is older than this build's; run any writing command (e.g. import) once to upgrade"
    )]
    Outdated { path: String, found: i64 },
    #[error("{path}: no database here (import or record something first, or pass --db)")]
    Missing { path: String },
    #[error("{path}: cannot read the database: {why}")]
    Unreadable { path: String, why: &'static str },
    #[error("no session {id} in {path}")]
    NoSuchSession { id: String, path: String },
    #[error("{path}: {error}")]
    Damaged {
        path: String,
        error: codec::CodecError,
    },
    #[error("writing output: {0}")]
    Output(std::io::Error),
    #[error("{path}: database error while {doing}: {error}")]
    Sqlite {
        path: String,
        doing: &'static str,
        error: rusqlite::Error,
        /// SQLite's result code when `error`'s message leaves it out: the next link of the chain.
        #[source]
        code: Option<rusqlite::ffi::Error>,
    },
}

impl StoreError {
    /// A database error at `path` while `doing`.
    pub(crate) fn sqlite(path: String, doing: &'static str, error: rusqlite::Error) -> StoreError {
        StoreError::Sqlite {
            path,
            doing,
            code: code_beneath(&error),
            error,
        }
    }
}

/// The cause beneath a SQLite failure that its message does not already say: SQLite's result
/// code ("Error code 14: unable to open database file") when rusqlite's message is SQLite's own
/// text. It is the one link a database error has below its message (see "Errors" in
/// ARCHITECTURE.md): any other cause rusqlite has is already in its message.
fn code_beneath(e: &rusqlite::Error) -> Option<rusqlite::ffi::Error> {
    match e {
        rusqlite::Error::SqliteFailure(code, Some(_)) => Some(*code),
        _ => None,
    }
}

pub type Result<T> = std::result::Result<T, StoreError>;

/// What the header says.
struct Header {
    version: i64,
    tables: i64,
}

fn is_busy(e: &rusqlite::Error) -> bool {
    matches!(
        e.sqlite_error_code(),
        Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked)
    )
}

/// An open flightrec database.
pub struct Store {
    conn: Connection,
    path: PathBuf,
    /// Dictionaries for reading compressed event text (shared with `event_text`).
    dicts: std::sync::Arc<codec::Dictionaries>,
    /// The writer's compression state.
    encoder: codec::Encoder,
    /// An import's reading-side compression state, kept between the files of one import so
    /// their samples add up to a dictionary (`WriteBatch::compressor`, `Store::keep_compressor`).
    compressor: Option<compressor::Compressor>,
    /// During a bulk write: the thread that checkpoints the WAL beside this connection.
    bulk_checkpoints: Option<WalCheckpointer>,
}

/// Prepared statements kept per connection.
const STATEMENT_CACHE: usize = 128;

impl Store {
    /// Opens the database at `path`, creating and migrating it as needed.
    pub fn open(path: &Path) -> Result<Store> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|error| StoreError::CreateDir {
                dir: dir.display().to_string(),
                error,
            })?;
        }
        let conn = Connection::open(path).map_err(|source| Self::open_error(path, source))?;
        let reread = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let mut store = Store::with(conn, path, path.to_path_buf(), reread)?;
        store.configure()?;
        store.migrate()?;
        Ok(store)
    }

    /// Opens an existing database; a missing file is an error rather than a new empty database.
    pub fn open_existing(path: &Path) -> Result<Store> {
        if !path.exists() {
            return Err(StoreError::Missing {
                path: path.display().to_string(),
            });
        }
        Self::open(path)
    }

    /// Opens an existing database read-only (for readers beside a writer). It must be current.
    pub fn open_read_only(path: &Path) -> Result<Store> {
        if !path.exists() {
            return Err(StoreError::Missing {
                path: path.display().to_string(),
            });
        }
        let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let conn = Connection::open_with_flags(path, flags)
            .map_err(|source| Self::open_error(path, source))?;
        let mut store = Store::with(conn, path, path.to_path_buf(), flags)?;
        store.wait_as_usual()?;
        let version = store.check_identity()?.version;
        if version != SCHEMA_VERSION {
            return Err(StoreError::Outdated {
                path: store.display(),
                found: version,
            });
        }
        Ok(store)
    }

    /// Opens an existing database for a reading command: read-only, so it works on a read-only
    /// file, directory or mount. A WAL database whose shared-memory index (`-shm`) cannot be
    /// created there is read as an immutable file when its WAL is empty or absent (nothing is
    /// then missing from the main file); otherwise the error says why and what to do. An older
    /// schema is upgraded first when the file can be written.
    pub fn open_reader(path: &Path) -> Result<Store> {
        match Self::open_read_only(path) {
            Ok(store) => Ok(store),
            Err(StoreError::Outdated { .. }) => Self::open(path),
            Err(StoreError::Sqlite { error, .. }) | Err(StoreError::Open { error, .. })
                if matches!(
                    error.sqlite_error_code(),
                    Some(ErrorCode::CannotOpen | ErrorCode::ReadOnly)
                ) =>
            {
                Self::open_immutable(path)
            }
            Err(e) => Err(e),
        }
    }

    /// A database in a place this process cannot write, read without a `-shm` file.
    fn open_immutable(path: &Path) -> Result<Store> {
        let shown = path.display().to_string();
        let mut wal = path.as_os_str().to_owned();
        wal.push("-wal");
        if std::fs::metadata(&wal).map(|m| m.len()).unwrap_or(0) > 0 {
            return Err(StoreError::Unreadable {
                path: shown,
                why: "its write-ahead log (-wal) holds changes not yet in the file, and SQLite cannot \
                      create the -shm index it needs to read them in this read-only place; run any \
                      flightrec command on it once where it is writable, or copy the files to a \
                      writable directory",
            });
        }
        let mut uri = String::from("file:");
        for b in path.as_os_str().as_encoded_bytes() {
            match b {
                b'%' | b'?' | b'#' => uri.push_str(&format!("%{b:02X}")),
                _ => uri.push(char::from(*b)),
            }
        }
        uri.push_str("?immutable=1");
        let flags = OpenFlags::SQLITE_OPEN_READ_ONLY
            | OpenFlags::SQLITE_OPEN_NO_MUTEX
            | OpenFlags::SQLITE_OPEN_URI;
        let conn = Connection::open_with_flags(&uri, flags)
            .map_err(|source| Self::open_error(path, source))?;
        let mut store = Store::with(conn, path, PathBuf::from(uri), flags)?;
        store.wait_as_usual()?;
        let version = store.check_identity()?.version;
        if version != SCHEMA_VERSION {
            return Err(StoreError::Outdated {
                path: shown,
                found: version,
            });
        }
        Ok(store)
    }

    /// A store on `conn`, with `event_text` registered (`reopen`: how its dictionaries are
    /// loaded from another connection).
    fn with(conn: Connection, path: &Path, reopen: PathBuf, flags: OpenFlags) -> Result<Store> {
        let dicts = std::sync::Arc::new(codec::Dictionaries::new(reopen, flags));
        codec::register(&conn, dicts.clone()).map_err(|source| Self::open_error(path, source))?;
        // Room for every statement shape a pass over many sessions asks of each (deriving one
        // asks about 40): with rusqlite's default 16 they evicted each other, and preparing
        // them again was a fifth of a workspace import's time.
        conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
        // Plans that never depend on bound values: this SQLite is built with STAT4, which
        // otherwise marks a statement to be prepared again whenever a parameter it compares an
        // indexed column with is bound anew (the rollups' `type = ?2 … ORDER BY` reads were
        // prepared again at most runs, though the database keeps no statistics to plan by).
        conn.set_db_config(
            rusqlite::config::DbConfig::SQLITE_DBCONFIG_ENABLE_QPSG,
            true,
        )
        .map_err(|source| Self::open_error(path, source))?;
        Ok(Store {
            conn,
            path: path.to_path_buf(),
            dicts,
            encoder: codec::Encoder::new(),
            compressor: None,
            bulk_checkpoints: None,
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub(crate) fn display(&self) -> String {
        self.path.display().to_string()
    }

    pub(crate) fn err(
        &self,
        doing: &'static str,
    ) -> impl FnOnce(rusqlite::Error) -> StoreError + '_ {
        move |source| self.classify(doing, source)
    }

    fn classify(&self, doing: &'static str, source: rusqlite::Error) -> StoreError {
        if source.sqlite_error_code() == Some(ErrorCode::NotADatabase) {
            return StoreError::NotADatabase {
                path: self.display(),
            };
        }
        StoreError::sqlite(self.display(), doing, source)
    }

    fn open_error(path: &Path, source: rusqlite::Error) -> StoreError {
        let path = path.display().to_string();
        if source.sqlite_error_code() == Some(ErrorCode::NotADatabase) {
            StoreError::NotADatabase { path }
        } else {
            StoreError::Open {
                path,
                code: code_beneath(&source),
                error: source,
            }
        }
    }

    /// This connection reads through SQLite's page cache instead of the memory map. For a process
    /// that runs for weeks with several connections to a growing file (`watch`): mapped pages
    /// count in its RSS, up to the whole file per connection, where the page cache is bounded.
    pub fn unmapped(self) -> Result<Store> {
        self.pragma("mmap_size", "0")?;
        Ok(self)
    }

    fn pragma(&self, name: &str, value: &str) -> Result<()> {
        // journal_mode returns a row; pragma_update handles both kinds.
        self.conn
            .pragma_update(None, name, value)
            .map_err(|e| self.classify("configuring", e))
    }

    fn configure(&mut self) -> Result<()> {
        self.wait_as_usual()?;
        let header = self.check_identity()?;
        // A new database gets 16 KiB pages (events are ~0.6 KiB of JSON; fewer, fuller pages
        // measured 1.2x faster inserts). Only possible before the first table and before WAL.
        // It also gets incremental auto-vacuum, so `gc` can give the space of deleted sessions
        // back in short steps (`store/gc.rs`); an older database needs one `gc --vacuum` for it.
        if header.tables == 0 {
            self.pragma("page_size", &PAGE_SIZE.to_string())?;
            self.pragma("auto_vacuum", "INCREMENTAL")?;
        }
        // Switching to WAL takes an exclusive lock, and SQLite answers "locked" at once rather
        // than waiting when another connection is opening the same new file: retry a while.
        let mut tries = 0;
        loop {
            match self
                .conn
                .query_row("PRAGMA journal_mode = WAL", [], |r| r.get::<_, String>(0))
            {
                Ok(_) => break,
                Err(e) if is_busy(&e) && tries < 200 => {
                    tries += 1;
                    std::thread::sleep(std::time::Duration::from_millis(25));
                }
                Err(e) => return Err(self.classify("configuring", e)),
            }
        }
        self.pragma("synchronous", "NORMAL")?;
        self.pragma("foreign_keys", "ON")?;
        // Reads through a memory map skip a copy per page: analyses and searches scan whole
        // sessions (measured 1.3-2x faster on a 1M-event database). Mapped pages count in RSS.
        self.pragma("mmap_size", &MMAP_BYTES.to_string())?;
        Ok(())
    }

    /// Reads the header in one statement (one snapshot: another process may be migrating), and
    /// refuses foreign and newer databases. Returns the schema version and the number of tables.
    fn check_identity(&self) -> Result<Header> {
        let (app, version, tables): (i64, i64, i64) = self
            .conn
            .query_row(
                "SELECT (SELECT application_id FROM pragma_application_id), \
                        (SELECT user_version FROM pragma_user_version), \
                        (SELECT count(*) FROM sqlite_schema)",
                [],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .map_err(|e| self.classify("reading the header", e))?;
        if app != APPLICATION_ID && (app != 0 || tables > 0) {
            return Err(StoreError::Foreign {
                path: self.display(),
                found: app,
            });
        }
        if version > SCHEMA_VERSION {
            return Err(StoreError::TooNew {
                path: self.display(),
                found: version,
                supported: SCHEMA_VERSION,
            });
        }
        Ok(Header { version, tables })
    }

    /// Applies the migrations this database lacks, each in an immediate (write-locked)
    /// transaction that re-reads the version first, so concurrent openers migrate once.
    fn migrate(&mut self) -> Result<()> {
        if self.check_identity()?.version == SCHEMA_VERSION {
            return Ok(());
        }
        // A migration that rebuilds a table (0012) drops one that others point at: SQLite's
        // procedure for that runs with foreign keys off (they cannot change inside a transaction).
        self.pragma("foreign_keys", "OFF")?;
        let done = self.apply_migrations();
        self.pragma("foreign_keys", "ON")?;
        done
    }

    fn apply_migrations(&mut self) -> Result<()> {
        for (i, sql) in MIGRATIONS.iter().enumerate() {
            let target = (i + 1) as i64;
            let path = self.display();
            let wrap = |error| StoreError::sqlite(path.clone(), "migrating", error);
            let tx = self
                .conn
                .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
                .map_err(wrap)?;
            let current: i64 = tx
                .query_row("PRAGMA user_version", [], |r| r.get(0))
                .map_err(wrap)?;
            if current >= target {
                continue;
            }
            tx.execute_batch(sql).map_err(wrap)?;
            if *sql == rollups::MIGRATION {
                rollups::refresh_all(&tx).map_err(wrap)?;
            }
            tx.pragma_update(None, "user_version", target)
                .map_err(wrap)?;
            tx.pragma_update(None, "application_id", APPLICATION_ID)
                .map_err(wrap)?;
            tx.commit().map_err(wrap)?;
        }
        Ok(())
    }

    /// The schema version of the open database.
    pub fn schema_version(&self) -> Result<i64> {
        self.conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .map_err(self.err("reading the header"))
    }

    /// Prepares for a bulk write (a large import): a page cache big enough to hold the indexes'
    /// working set, and the WAL checkpointed by another connection on a thread of its own
    /// ([`WalCheckpointer`]), so the writer never stops for one. The database stays in WAL
    /// mode, so readers keep reading while it runs (a rollback journal, tried once for its single
    /// write of each page, locked readers out for seconds while it committed, and other writers
    /// out of the file until it switched back).
    pub fn begin_bulk(&mut self, cache_mib: u32) -> Result<()> {
        self.pragma("cache_size", &format!("-{}", u64::from(cache_mib) * 1024))?;
        self.bulk_checkpoints = Some(self.checkpoint_beside(BULK_CHECKPOINT_EVERY)?);
        Ok(())
    }

    /// Back to the default page cache and automatic checkpoints after [`Store::begin_bulk`].
    pub fn end_bulk(&mut self) -> Result<()> {
        drop(self.bulk_checkpoints.take());
        self.set_autocheckpoint(DEFAULT_AUTOCHECKPOINT)?;
        self.pragma("cache_size", "-2000")
    }

    /// Sets how many WAL pages trigger a checkpoint by the committing connection (0: never; a
    /// writer that must not stall leaves checkpoints to another connection).
    pub fn set_autocheckpoint(&self, pages: u32) -> Result<()> {
        self.conn
            .query_row(&format!("PRAGMA wal_autocheckpoint = {pages}"), [], |_| {
                Ok(())
            })
            .map_err(self.err("configuring checkpoints"))
    }

    /// Copies what it can of the WAL into the main file without waiting for readers or writers.
    pub fn checkpoint_passive(&self) -> Result<()> {
        self.conn
            .query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(()))
            .map_err(self.err("checkpointing"))
    }

    /// Folds the WAL into the main file, so the database is one durable file again, when no
    /// other connection is in the way. A truncating checkpoint needs every reader on the newest
    /// snapshot and no writer; beside others it waits only `CHECKPOINT_WAIT` (200 ms) and then
    /// leaves the WAL to the automatic checkpoints and the last connection to close.
    pub fn checkpoint(&mut self) -> Result<()> {
        self.conn
            .busy_timeout(CHECKPOINT_WAIT)
            .map_err(self.err("checkpointing"))?;
        let done = self
            .conn
            .query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()));
        self.wait_as_usual()?;
        match done {
            Err(e) if !is_busy(&e) => Err(self.classify("checkpointing", e)),
            _ => Ok(()),
        }
    }

    /// How this connection waits for a lock: a writer as long as another writer needs (see
    /// [`wait_for_writer`]), a read-only connection [`READER_WAIT`].
    pub(crate) fn wait_as_usual(&mut self) -> Result<()> {
        let read_only = self
            .conn
            .is_readonly(rusqlite::MAIN_DB)
            .map_err(self.err("configuring"))?;
        let set = if read_only {
            self.conn.busy_timeout(READER_WAIT)
        } else {
            self.conn.busy_handler(Some(wait_for_writer))
        };
        set.map_err(self.err("configuring"))
    }
}

/// SQLite's own threshold for automatic checkpoints, in WAL pages.
const DEFAULT_AUTOCHECKPOINT: u32 = 1000;
/// How long a truncating checkpoint waits for other connections before leaving the WAL be.
const CHECKPOINT_WAIT: Duration = Duration::from_millis(200);

/// How long a read-only connection waits on a lock. In WAL mode readers wait only while another
/// connection recovers the WAL after a crash or folds it in as it closes: moments.
const READER_WAIT: Duration = Duration::from_secs(5);

/// How often a writer waiting for the write lock tries again. Short, so that it gets the lock in
/// the pause a bulk import leaves between its transactions ([`crate::store::WriteBatch::flush`]).
const WRITER_POLL: Duration = Duration::from_millis(2);

/// How long a writer waits for the others before it gives up ("database is locked"). Writers
/// (imports, `record`, `watch`) take turns: an import holds the lock for at most a second at a
/// time, so only a stuck process (a `sqlite3` shell left in a transaction) makes one give up.
const WRITER_WAIT: Duration = Duration::from_secs(30 * 60);

/// SQLite's busy handler for writing connections: waits [`WRITER_POLL`] and tries again, for up
/// to [`WRITER_WAIT`].
fn wait_for_writer(tries: i32) -> bool {
    std::thread::sleep(WRITER_POLL);
    u128::from(tries.unsigned_abs()) * WRITER_POLL.as_millis() < WRITER_WAIT.as_millis()
}

#[cfg(test)]
mod error_tests {
    use super::*;
    use std::error::Error;

    #[test]
    fn a_directory_that_cannot_be_created_is_an_error_naming_it() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("file.txt");
        std::fs::write(&file, "not a directory").unwrap();
        let Err(e) = Store::open(&file.join("db.sqlite")) else {
            panic!("a database under a file opened");
        };
        assert!(matches!(e, StoreError::CreateDir { .. }), "{e:?}");
        let msg = e.to_string();
        let want = format!(
            "{}: cannot create the database's directory: ",
            file.display()
        );
        assert!(msg.starts_with(&want), "{msg}");
        assert!(!msg.contains('\n'), "{msg}");
    }

    /// The texts of `e`'s chain, outermost first.
    fn chain(e: &dyn Error) -> Vec<String> {
        let mut links = vec![e.to_string()];
        let mut next = e.source();
        while let Some(s) = next {
            links.push(s.to_string());
            next = s.source();
        }
        links
    }

    /// The error convention (ARCHITECTURE.md, "Errors"): a message includes the error it wraps,
    /// and `source()` is only what that message leaves out, so no link of a chain repeats
    /// another.
    #[test]
    fn no_link_of_a_database_errors_chain_repeats_another() {
        let io = || std::io::Error::other("disk gone");
        let failure = |msg: Option<&str>| {
            rusqlite::Error::SqliteFailure(
                rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_CANTOPEN),
                msg.map(String::from),
            )
        };
        let errors = [
            StoreError::CreateDir {
                dir: "d".into(),
                error: io(),
            },
            StoreError::Output(io()),
            StoreError::sqlite("p".into(), "reading", rusqlite::Error::InvalidQuery),
            StoreError::sqlite("p".into(), "reading", failure(None)),
            StoreError::sqlite("p".into(), "reading", failure(Some("unable to open: p"))),
            Store::open_error(Path::new("p"), failure(Some("unable to open: p"))),
        ];
        for e in &errors {
            let links = chain(e);
            for (i, link) in links.iter().enumerate().skip(1) {
                let before = links[..i].join(": ");
                assert!(!before.contains(link.as_str()), "{links:?}");
            }
        }
        // SQLite's result code is the one link below: rusqlite's message leaves it out.
        assert_eq!(
            chain(&errors[4]),
            [
                "p: database error while reading: unable to open: p",
                "Error code 14: unable to open database file"
            ]
        );
        assert_eq!(chain(&errors[3]).len(), 1);
    }
}
