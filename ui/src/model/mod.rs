//! The view-model: plain state and pure functions, no egui. Panels draw it; tests drive it.

pub mod axis;
pub mod filter;
pub mod index;
pub mod lanes;
pub mod lanes_build;
pub mod playback;
pub mod rows;
pub mod session;
pub mod timeline;
