//! Event ids seen in a fold that must count an id once across the whole session (not only
//! another stream's copy at the same time, which [`StreamCopies`](super::spans::StreamCopies)
//! catches holding nothing): a recording whose ids are placeholders (`sevt_...`) counts its
//! first event of each. Kept as 64-bit hashes, 8 bytes an id whatever its length; two ids
//! sharing a hash (about one chance in 10^19 per pair) would count as one.

use std::hash::{Hash, Hasher};

/// The ids seen so far.
#[derive(Debug, Default)]
pub struct SeenIds(rustc_hash::FxHashSet<u64>);

impl SeenIds {
    /// Room for `n` ids from the start: a set grown one doubling at a time holds the old table
    /// and the new one at once, half as much again at its peak.
    pub fn with_capacity(n: usize) -> SeenIds {
        SeenIds(rustc_hash::FxHashSet::with_capacity_and_hasher(
            n,
            Default::default(),
        ))
    }

    /// Whether `id` is new (an empty id always is), noting it.
    pub fn first(&mut self, id: &str) -> bool {
        id.is_empty() || self.0.insert(id_hash(id))
    }
}

/// A stable 64-bit hash of an event id (SipHash with fixed keys).
pub fn id_hash(id: &str) -> u64 {
    let mut h = std::hash::DefaultHasher::new();
    id.hash(&mut h);
    h.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_id_is_new_once_and_an_empty_id_always() {
        let mut seen = SeenIds::default();
        assert!(seen.first("sevt_1"));
        assert!(seen.first("sevt_2"));
        assert!(!seen.first("sevt_1"));
        assert!(seen.first(""));
        assert!(seen.first(""));
    }
}
