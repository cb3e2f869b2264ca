//! Writing a session out. Unredacted, Perfetto and OTLP are folded over scans of the store; with
//! `--redact` they read one [`SessionDoc`], which redaction rewrites first. JSON Lines, tape,
//! markdown and HTML stream the session ([`stream::Session`]), each row redacted with the same
//! rules as it is read, so no format can leak what another masks.

pub mod flow;
pub mod html;
pub mod jsonl;
pub mod md;
#[cfg(feature = "otlp")]
pub mod otlp;
pub mod perfetto;
pub(crate) mod spill;
pub mod stream;
pub mod tape;
pub mod transcript;

pub use crate::doc::SessionDoc;

#[cfg(test)]
pub(crate) mod streaming_tests;
