//! Pure functions over stored events: no I/O, no clock. The CLI and the viewer share them.

pub mod capture;
pub mod summary;
pub mod text;
pub mod timeline;

pub use summary::summarize;
pub use timeline::{TimelineRow, timeline_rows};
