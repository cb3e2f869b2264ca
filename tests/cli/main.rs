//! Integration tests: the real `flightrec` binary on real SQLite files and the bundled samples.

mod bad_input;
mod commands;
mod round_trip;
mod util;
