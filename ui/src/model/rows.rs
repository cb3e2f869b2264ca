//! Full rows fetched for the table and the inspector, by seq: a bounded cache, and the seqs
//! asked for and not yet answered (so a row is requested once).

use rustc_hash::{FxHashMap, FxHashSet};
use std::sync::Arc;

use crate::loader::RowDetail;

/// Rows kept; past this the cache starts over (the rows on screen are asked for again).
const CAPACITY: usize = 4096;

#[derive(Debug, Default)]
pub struct RowCache {
    rows: FxHashMap<i64, Arc<RowDetail>>,
    pending: FxHashSet<i64>,
}

impl RowCache {
    pub fn get(&self, seq: i64) -> Option<&Arc<RowDetail>> {
        self.rows.get(&seq)
    }

    /// Of `seqs`, those neither cached nor asked for; they are marked as asked for.
    pub fn missing(&mut self, seqs: impl IntoIterator<Item = i64>) -> Vec<i64> {
        let mut out = Vec::new();
        for s in seqs {
            if !self.rows.contains_key(&s) && self.pending.insert(s) {
                out.push(s);
            }
        }
        out
    }

    /// The answer to a request for `asked` (seqs the store lacks are simply absent).
    pub fn insert(&mut self, asked: &[i64], rows: Vec<RowDetail>) {
        if self.rows.len() + rows.len() > CAPACITY {
            self.rows.clear();
        }
        for s in asked {
            self.pending.remove(s);
        }
        for r in rows {
            self.rows.insert(r.row.seq, Arc::new(r));
        }
    }

    /// Forgets everything (the session changed or was reloaded).
    pub fn clear(&mut self) {
        self.rows.clear();
        self.pending.clear();
    }

    /// Keeps only the rows `keep` accepts (after a reload: those whose event did not change).
    pub fn retain(&mut self, keep: impl Fn(&RowDetail) -> bool) {
        self.rows.retain(|_, r| keep(r));
        self.pending.clear();
    }

    /// Whether rows were asked for and not answered yet.
    pub fn is_waiting(&self) -> bool {
        !self.pending.is_empty()
    }
}
