//! The database's size and giving free pages back (`flightrec gc`): incremental auto-vacuum in
//! short transactions for databases made with it, a full `VACUUM` that turns it on for the others.

use super::{GcOptions, Result, Store};

/// The size of the database as SQLite counts it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct Space {
    pub page_size: u64,
    pub page_count: u64,
    pub freelist_count: u64,
    /// `PRAGMA auto_vacuum`: 0 none, 1 full, 2 incremental.
    pub auto_vacuum: i64,
}

impl Space {
    /// page_count × page_size.
    pub fn bytes(&self) -> u64 {
        self.page_count * self.page_size
    }

    /// The free pages' share, in bytes.
    pub fn free_bytes(&self) -> u64 {
        self.freelist_count * self.page_size
    }
}

impl Store {
    /// The database's size as SQLite counts it.
    pub fn space(&self) -> Result<Space> {
        let (page_size, page_count, freelist_count, auto_vacuum): (i64, i64, i64, i64) = self
            .conn
            .query_row(
                "SELECT (SELECT page_size FROM pragma_page_size), \
                        (SELECT page_count FROM pragma_page_count), \
                        (SELECT freelist_count FROM pragma_freelist_count), \
                        (SELECT auto_vacuum FROM pragma_auto_vacuum)",
                [],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
            )
            .map_err(self.err("reading the database's size"))?;
        let n = |v: i64| u64::try_from(v).unwrap_or(0);
        Ok(Space {
            page_size: n(page_size),
            page_count: n(page_count),
            freelist_count: n(freelist_count),
            auto_vacuum,
        })
    }

    /// With incremental auto-vacuum: gives the free pages back to the file system,
    /// `opts.vacuum_pages` per transaction with a pause between, then folds the WAL in (when no
    /// reader is in the way) so the file shrinks. Returns the transactions it took; 0 when the
    /// database has no incremental auto-vacuum (see [`Store::vacuum`]).
    pub fn reclaim(&mut self, opts: &GcOptions) -> Result<u64> {
        if self.space()?.auto_vacuum != 2 {
            return Ok(0);
        }
        let mut steps = 0;
        let mut free = self.space()?.freelist_count;
        while free > 0 {
            if steps > 0 {
                std::thread::sleep(opts.pause);
            }
            // One page per step of the statement: step it to the end (one transaction).
            let sql = format!("PRAGMA incremental_vacuum({})", opts.vacuum_pages.max(1));
            self.conn
                .prepare(&sql)
                .and_then(|mut st| {
                    let mut rows = st.query([])?;
                    while rows.next()?.is_some() {}
                    Ok(())
                })
                .map_err(self.err("giving free pages back"))?;
            steps += 1;
            let left = self.space()?.freelist_count;
            if left >= free {
                break;
            }
            free = left;
        }
        self.checkpoint()?;
        Ok(steps)
    }

    /// Rewrites the whole database (`VACUUM`), switching it to incremental auto-vacuum first.
    /// It holds the write lock throughout (writers wait; readers go on reading) and needs free
    /// disk of about the database's size.
    pub fn vacuum(&mut self) -> Result<()> {
        self.conn
            .execute_batch("PRAGMA auto_vacuum = INCREMENTAL; VACUUM;")
            .map_err(self.err("vacuuming"))?;
        self.checkpoint()
    }
}
