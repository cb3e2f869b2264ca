//! Writing a session out: every format reads one [`SessionDoc`], which redaction rewrites first
//! when asked, so no format can leak what another would have masked. Unredacted, JSON Lines,
//! Perfetto and OTLP read the store in scans instead, and write the same bytes.

pub mod flow;
pub mod html;
pub mod jsonl;
pub mod md;
#[cfg(feature = "otlp")]
pub mod otlp;
pub mod perfetto;
pub mod tape;

pub use crate::doc::SessionDoc;

#[cfg(test)]
pub(crate) mod streaming_tests;
