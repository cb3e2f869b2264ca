//! Event ids as 64-bit hashes, for folds that key a map by an event id without keeping its text
//! (8 bytes an id whatever its length; two ids sharing a hash, about one chance in 10^19 per pair,
//! would be taken for one). Telling another stream's copy of an event is
//! [`StreamCopies`](super::spans::StreamCopies)'s: the same id at the same time. An id alone is
//! not enough: official samples and redacted logs reuse one placeholder id (`sevt_...`) for
//! every event.

use std::hash::{Hash, Hasher};

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
    fn an_id_hashes_the_same_every_time_and_differs_from_another() {
        assert_eq!(id_hash("sevt_1"), id_hash("sevt_1"));
        assert_ne!(id_hash("sevt_1"), id_hash("sevt_2"));
    }
}
