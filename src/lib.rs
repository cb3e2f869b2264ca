//! flightrec: a flight recorder and replay debugger for Claude Managed Agents sessions.
//!
//! Data flows one way: [`source`] (files, later the live API) → [`store`] (the only module that
//! touches SQLite) → [`analysis`] (pure functions) → the shells (the `flightrec` CLI, the viewer).
//! [`record`] drives sources into the store. See ARCHITECTURE.md.

pub mod analysis;
pub mod export;
pub mod inspect;
pub mod model;
#[cfg(test)]
mod props;
pub mod record;
pub mod redact;
#[cfg(feature = "net")]
pub mod serve;
pub mod source;
pub mod store;
