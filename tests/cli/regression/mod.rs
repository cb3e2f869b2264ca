//! Regression tests, one per defect found on real traffic or by probing, each named after the
//! defect it pins (ripgrep's `tests/regression.rs` habit). Each test failed before its fix.
//! Grouped by the part of flightrec the defect was in. Each one's comment names its issue and
//! defect (issue 11's are "Truth on real traffic", issue 12's "Hardening") and, for a defect met on
//! real traffic, the sample of that shape in `sample-logs/real/` it reads.

mod export;
mod findings;
mod import;
mod net;
mod store;
mod terminal;
mod threads;
mod tooling;
mod verdict;
