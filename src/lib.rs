//! flightrec: a flight recorder and replay debugger for Claude Managed Agents sessions.
//!
//! Data flows one way: [`source`] (files, and the live API) → [`store`] (the only module that
//! touches SQLite) → [`analysis`] (pure functions) → the shells (the `flightrec` CLI, the viewer).
//! [`record`] drives sources into the store. See ARCHITECTURE.md.
//!
//! Features: with none, this is the core (no network, no command line), as the viewer uses it.
//! `otlp` adds the OpenTelemetry encoding (`export::otlp`); `net` the API client
//! (`source::api`), the live recorder (`record::live` and its threads) and `serve`; `cli`, the
//! default, both and the `flightrec` binary.

pub mod analysis;
pub mod doc;
pub mod export;
pub mod inspect;
pub mod model;
#[cfg(test)]
mod props;
pub mod record;
pub mod redact;
pub mod report;
pub mod retention;
#[cfg(feature = "net")]
pub mod serve;
pub mod source;
pub mod store;
pub mod webhook;
