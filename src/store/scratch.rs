//! A scratch table in SQLite's temporary database (on disk): text a writer must put out in an
//! order its pass over the session does not give, kept by its place in that order, so memory
//! holds none of it (the streamed HTML timeline's spans when an early one stays open).

use rusqlite::params;

use super::{Result, Store};

impl Store {
    /// Starts an empty scratch table (replacing the one a previous call started).
    pub fn scratch_start(&self) -> Result<()> {
        self.conn
            .execute_batch(
                "DROP TABLE IF EXISTS temp.export_scratch;
                 CREATE TEMP TABLE export_scratch (ord INTEGER PRIMARY KEY, text TEXT NOT NULL);",
            )
            .map_err(self.err("starting a scratch table"))
    }

    /// Keeps `text` at place `ord`.
    pub fn scratch_put(&self, ord: i64, text: &str) -> Result<()> {
        self.conn
            .prepare_cached("INSERT INTO temp.export_scratch (ord, text) VALUES (?1, ?2)")
            .and_then(|mut s| s.execute(params![ord, text]))
            .map(|_| ())
            .map_err(self.err("writing to the scratch table"))
    }

    /// Lends each kept text to `f` in order of place, until `f` returns `false`.
    pub fn scratch_each(&self, mut f: impl FnMut(&str) -> bool) -> Result<()> {
        let err = || self.err("reading the scratch table");
        let mut stmt = self
            .conn
            .prepare_cached("SELECT text FROM temp.export_scratch ORDER BY ord")
            .map_err(err())?;
        let mut rows = stmt.query([]).map_err(err())?;
        while let Some(r) = rows.next().map_err(err())? {
            if !f(r
                .get_ref(0)
                .and_then(|v| v.as_str().map_err(Into::into))
                .map_err(err())?)
            {
                break;
            }
        }
        Ok(())
    }
}
