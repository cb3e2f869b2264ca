//! Regression tests, one per defect found on real traffic or by probing, each named after the
//! defect it pins (ripgrep's `tests/regression.rs` habit). Each test failed before its fix.
//! Grouped by the part of flightrec the defect was in.

mod export;
mod findings;
mod import;
mod net;
mod store;
mod terminal;
mod threads;
mod tooling;
mod verdict;
