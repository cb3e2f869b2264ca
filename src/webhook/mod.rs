//! Anthropic's webhooks (`../shared/webhooks.md`): the Standard Webhooks signature check and the
//! payload; `outgoing`: the sender's side (what `serve --live --webhook-url` sends). No I/O and no clock: the intake (`record::webhook_intake`, with `net`) passes `now`.

pub mod outgoing;
mod payload;
mod verify;

#[cfg(test)]
mod tests;

pub use payload::{Delivery, DeliveryData, Nudge, Reaction, reaction};
pub use verify::{Refusal, SIGNATURE_TOLERANCE_SECS, Verifier};

/// The three Standard Webhooks headers of one delivery, as received (`None` when absent).
#[derive(Debug, Clone, Copy, Default)]
pub struct Headers<'a> {
    /// `webhook-id`
    pub id: Option<&'a str>,
    /// `webhook-timestamp` (Unix seconds)
    pub timestamp: Option<&'a str>,
    /// `webhook-signature`: space-separated `v1,<base64>` entries
    pub signature: Option<&'a str>,
}
