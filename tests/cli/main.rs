//! Integration tests: the real `flightrec` binary on real SQLite files and the bundled samples.

// Test code: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used)]

mod alerts;
mod bad_input;
mod check;
mod commands;
mod concurrency;
mod diff;
mod explain;
mod findings;
mod follow;
mod gc;
mod ids;
mod manners;
mod metrics;
mod otel;
mod otlp_live;
mod platform;
mod record;
mod redact;
mod regression;
mod replay;
mod round_trip;
mod sdk;
mod search;
mod serve;
mod shell;
mod spans;
mod state;
mod stats;
mod stats_by;
mod tape;
mod time_filters;
mod transcript;
mod unblock;
mod unblock_follow;
mod util;
mod webhooks;
