//! `flightrec-ui`: the desktop viewer for flightrec recordings.
//!
//! `model/` is the view-model (no egui: zoom, pan, cursor, playback clock, lane aggregation,
//! filters); `loader/` is the background thread that reads the store; `panels/` only draw;
//! `theme.rs` holds every colour; `app.rs` ties them together for one frame.

pub mod app;
pub mod loader;
pub mod model;
mod panels;
pub mod shortcuts;
pub mod theme;

pub use app::{Options, ViewerApp, setup};
