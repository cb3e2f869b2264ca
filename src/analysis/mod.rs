//! Pure functions over stored events: no I/O, no clock. The CLI and the viewer share them.

pub mod alerts;
pub mod capture;
pub mod checkpoint;
pub mod deployment;
pub mod diff;
pub mod explain;
pub mod findings;
pub mod lanes;
pub mod point;
pub mod prices;
pub mod replay;
pub mod rules;
pub mod seen;
pub mod session_facts;
pub mod spans;
pub mod state;
pub mod stats;
pub mod summary;
pub mod text;
pub mod threads;
pub mod timeline;

#[cfg(test)]
pub(crate) mod testing;

pub use point::{Point, upto};
pub use spans::{Span, SpanKind, spans};
pub use state::{State, StateBuilder};
pub use summary::summarize;
pub use timeline::{TimelineRow, timeline_rows};
