//! Getting events into the store: file imports, and the live recorder (stream + backfill +
//! reconnects, and the session's thread list) with its writer thread.

pub mod backoff;
pub mod import;
pub mod live;
mod reader;
pub mod tape;
#[cfg(test)]
mod tape_props;
pub mod threads;
pub mod watch;
pub mod writer;

pub use import::{
    FileReport, ImportError, ImportOptions, import_file, import_input, import_reader, now,
    session_id_from_name,
};
