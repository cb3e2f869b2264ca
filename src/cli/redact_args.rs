//! The redaction flags every export shares (`--redact`, `--redact-rule`, `--redact-field`,
//! `--redact-key`), and the [`Redactor`] they describe. `flightrec redact` takes the rule flags
//! alone ([`RedactRuleArgs`]).

use flightrec::redact::{RedactKey, Redactor};

/// The rules and key: what to mask and how markers are made.
#[derive(clap::Args, Debug, Clone, Default)]
pub struct RedactRuleArgs {
    /// Also mask what REGEX matches (repeatable; the group named `secret` when it has one)
    #[arg(long = "redact-rule", value_name = "REGEX")]
    pub rules: Vec<String>,
    /// Also mask the whole value at JSONPATH: $.a.b, $..key, [*], [N], ['key'] (repeatable)
    #[arg(long = "redact-field", value_name = "JSONPATH")]
    pub fields: Vec<String>,
    /// Key for the markers' hash, so markers match across files [default: random per export]
    #[arg(
        long = "redact-key",
        env = "FLIGHTREC_REDACT_KEY",
        value_name = "KEY",
        hide_env_values = true
    )]
    pub key: Option<String>,
}

impl RedactRuleArgs {
    /// The redactor: built-in rules plus the user's, with the given key or a random one.
    pub fn redactor(&self) -> anyhow::Result<Redactor> {
        let key = match &self.key {
            Some(k) => RedactKey::given(k)?,
            None => RedactKey::random()?,
        };
        Ok(Redactor::new(&self.rules, &self.fields, key)?)
    }
}

/// `--redact` and the rule flags, for flattening into an export command.
#[derive(clap::Args, Debug, Clone, Default)]
pub struct RedactArgs {
    /// Mask secrets (API keys, tokens, Authorization values, private keys, …) before writing
    #[arg(long)]
    pub redact: bool,
    #[command(flatten)]
    pub rules: RedactRuleArgs,
}

impl RedactArgs {
    /// Whether to redact: `--redact`, or any `--redact-rule` / `--redact-field` (they imply it).
    pub fn enabled(&self) -> bool {
        self.redact || !self.rules.rules.is_empty() || !self.rules.fields.is_empty()
    }

    /// The redactor when redaction is on, else `None`. A bad regex or path is an error naming it.
    pub fn redactor(&self) -> anyhow::Result<Option<Redactor>> {
        if self.enabled() {
            self.rules.redactor().map(Some)
        } else {
            Ok(None)
        }
    }
}
