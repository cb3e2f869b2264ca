//! Writing a session out. JSON Lines today; tapes and transcripts join later.

pub mod jsonl;
