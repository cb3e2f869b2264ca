//! Writing a session out: every format reads one [`SessionDoc`], which redaction rewrites first
//! when asked, so no format can leak what another would have masked.

pub mod doc;
pub mod jsonl;
pub mod tape;

pub use doc::SessionDoc;
pub mod otlp;
pub mod perfetto;
