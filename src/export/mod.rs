//! Writing a session out. Perfetto and OTLP read one [`SessionDoc`], which redaction rewrites
//! first when asked; JSON Lines, tape, markdown and HTML stream the session ([`stream::Session`]),
//! each row redacted with the same rules as it is read, so no format can leak what another masks.

pub mod flow;
pub mod html;
pub mod jsonl;
pub mod md;
#[cfg(feature = "otlp")]
pub mod otlp;
pub mod perfetto;
pub mod stream;
pub mod tape;
pub mod transcript;

pub use crate::doc::SessionDoc;
