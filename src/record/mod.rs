//! Getting events into the store: file imports, and (with the `net` feature) the live recorder
//! (stream + backfill + reconnects, and the session's thread list) with its writer thread.

#[cfg(feature = "net")]
pub mod alerts;
#[cfg(feature = "net")]
pub mod backoff;
pub mod import;
#[cfg(feature = "net")]
pub mod live;
#[cfg(feature = "net")]
pub mod metrics;
mod pipeline;
#[cfg(test)]
mod pipeline_tests;
#[cfg(feature = "net")]
mod reader;
pub mod tape;
#[cfg(test)]
mod tape_props;
#[cfg(feature = "net")]
pub mod threads;
#[cfg(feature = "net")]
pub mod watch;
#[cfg(feature = "net")]
pub mod writer;

pub use import::{
    FileReport, FollowEnd, Follower, ImportError, ImportOptions, import_file, import_input,
    import_input_following, import_reader, session_id_from_name,
};
