//! Getting events into the store: file imports now; the live recorder loop joins it later.

pub mod import;

pub use import::{
    FileReport, ImportError, ImportOptions, import_file, import_reader, now, session_id_from_name,
};
