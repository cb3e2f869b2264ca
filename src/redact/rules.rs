//! The built-in rules: what a secret looks like in text, and which field names hold one.
//!
//! Text rules run over every string of a JSON text (values and object keys) and mask the part that
//! matched. Field rules mask the whole value of a field, whatever it looks like. The list is
//! documented in `docs/redaction.md`; keep the two in step.

use regex::Regex;

use super::RedactError;

/// Which part of a text rule's match is the secret.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Take {
    /// The whole match.
    Whole,
    /// Capture group `secret` (the rest of the match is context that stays, e.g. `Bearer `).
    Group,
}

/// One pattern of a text rule. Several patterns may share a rule name.
#[derive(Debug, Clone)]
pub(crate) struct TextRule {
    /// Index into the redactor's rule list (names, descriptions, patterns for the manifest).
    pub rule: usize,
    pub regex: Regex,
    pub take: Take,
    /// A match is kept only when this says so (the regex crate has no look-around).
    pub check: fn(&str) -> bool,
}

/// A rule as the manifest and `--preview` describe it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct RuleInfo {
    /// The name in markers: `anthropic-key`, …, `rule-1` (the first `--redact-rule`), `field-1`.
    pub name: String,
    /// `builtin`, `regex` (a `--redact-rule`) or `field` (a `--redact-field`).
    pub kind: &'static str,
    /// What it masks, for built-in rules.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<&'static str>,
    /// The user's own pattern or path, for user rules.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pattern: Option<String>,
}

pub(crate) const PRIVATE_KEY: &str = "private-key";
pub(crate) const ANTHROPIC_KEY: &str = "anthropic-key";
pub(crate) const OPENAI_KEY: &str = "openai-key";
pub(crate) const GITHUB_TOKEN: &str = "github-token";
pub(crate) const AWS_KEY_ID: &str = "aws-access-key-id";
pub(crate) const SLACK_TOKEN: &str = "slack-token";
pub(crate) const BEARER: &str = "bearer";
pub(crate) const SECRET_FIELD: &str = "authorization-token-field";

/// Field names whose whole value is a secret (compared case-insensitively, `-` read as `_`).
pub const SECRET_FIELD_NAMES: &[&str] = &[
    "authorization_token",
    "authorization",
    "proxy_authorization",
    "api_key",
    "apikey",
    "x_api_key",
    "access_token",
    "refresh_token",
    "id_token",
    "auth_token",
    "bearer_token",
    "session_token",
    "token",
    "client_secret",
    "secret",
    "secret_key",
    "secret_access_key",
    "aws_secret_access_key",
    "private_key",
    "password",
    "passwd",
    "cookie",
    "set_cookie",
];

/// Whether `key` names a field whose value is a secret.
pub(crate) fn is_secret_field(key: &str) -> bool {
    if key.len() > 32 {
        return false;
    }
    let norm: String = key
        .chars()
        .map(|c| {
            if c == '-' {
                '_'
            } else {
                c.to_ascii_lowercase()
            }
        })
        .collect();
    SECRET_FIELD_NAMES.contains(&norm.as_str())
}

/// The built-in rules, most specific first: where matches of two rules overlap, the masked span
/// covers both and carries the name of the earlier rule here.
pub(crate) fn builtin_infos() -> Vec<RuleInfo> {
    [
        (
            PRIVATE_KEY,
            "PEM private key blocks, `-----BEGIN … PRIVATE KEY-----` to the matching END line (or to the end of the text when it is cut off)",
        ),
        (
            ANTHROPIC_KEY,
            "Anthropic API and admin keys: `sk-ant-` and at least 20 of [A-Za-z0-9_-]",
        ),
        (
            OPENAI_KEY,
            "OpenAI keys: `sk-`, `sk-proj-`, `sk-svcacct-`, `sk-admin-` and at least 20 of [A-Za-z0-9_-] with a digit among them (not `sk-ant-`)",
        ),
        (
            GITHUB_TOKEN,
            "GitHub tokens: `ghp_`, `gho_`, `ghu_`, `ghs_`, `ghr_` and at least 20 alphanumerics; `github_pat_` fine-grained tokens",
        ),
        (
            AWS_KEY_ID,
            "AWS access key ids: `AKIA` or `ASIA` and 16 of [A-Z0-9]",
        ),
        (
            SLACK_TOKEN,
            "Slack tokens: `xoxb-`, `xoxa-`, `xoxp-`, `xoxr-`, `xoxs-` and at least 10 of [A-Za-z0-9-]",
        ),
        (
            BEARER,
            "The credential after `Bearer ` (with a digit, or 24 characters or more), and the value after `Authorization:` / `Authorization=` in text (after its `Bearer`/`Basic`/`Token` word)",
        ),
        (
            SECRET_FIELD,
            "The whole value of a field named authorization_token, authorization, api_key, x-api-key, access_token, refresh_token, token, client_secret, secret, password, … (see docs/redaction.md), in JSON and as `name: value` / `name=value` in text",
        ),
    ]
    .into_iter()
    .map(|(name, description)| RuleInfo {
        name: name.to_string(),
        kind: "builtin",
        description: Some(description),
        pattern: None,
    })
    .collect()
}

fn always(_: &str) -> bool {
    true
}

fn openai_ok(m: &str) -> bool {
    !m.starts_with("sk-ant-") && m.bytes().any(|b| b.is_ascii_digit())
}

fn token_ok(m: &str) -> bool {
    m.bytes().any(|b| b.is_ascii_digit()) || m.len() >= 24
}

/// A built-in text rule: its name, regex, the part masked, and the check a match must pass.
type Spec<'a> = (&'static str, &'a str, Take, fn(&str) -> bool);

/// The built-in text rules, each pointing at its entry in [`builtin_infos`] by name.
pub(crate) fn builtin_text_rules(infos: &[RuleInfo]) -> Result<Vec<TextRule>, RedactError> {
    let quoted_field = quoted_field_pattern();
    let specs: [Spec<'_>; 10] = [
        (
            PRIVATE_KEY,
            r"(?s)-----BEGIN[A-Z0-9 ]*PRIVATE KEY-----.*?(?:-----END[A-Z0-9 ]*PRIVATE KEY-----|\z)",
            Take::Whole,
            always,
        ),
        (
            ANTHROPIC_KEY,
            r"\bsk-ant-[A-Za-z0-9_-]{20,}",
            Take::Whole,
            always,
        ),
        (
            OPENAI_KEY,
            r"\bsk-(?:proj-|svcacct-|admin-)?[A-Za-z0-9_-]{20,}",
            Take::Whole,
            openai_ok,
        ),
        (
            GITHUB_TOKEN,
            r"\b(?:gh[pousr]_[A-Za-z0-9]{20,}|github_pat_[A-Za-z0-9_]{20,})",
            Take::Whole,
            always,
        ),
        (
            AWS_KEY_ID,
            r"\b(?:AKIA|ASIA)[A-Z0-9]{16}\b",
            Take::Whole,
            always,
        ),
        (
            SLACK_TOKEN,
            r"\bxox[baprs]-[A-Za-z0-9-]{10,}",
            Take::Whole,
            always,
        ),
        (
            BEARER,
            r"(?i)\bbearer\s+(?P<secret>[A-Za-z0-9._~+/=-]{8,})",
            Take::Group,
            token_ok,
        ),
        (
            BEARER,
            r#"(?i)\b(?:proxy-)?authorization(?:\\?["'])?\s*[:=]\s*(?:\\?["'])?(?:(?:bearer|basic|token|digest)\s+)?(?P<secret>[^\s"'\\<>&,;\[\]{}]{6,})"#,
            Take::Group,
            always,
        ),
        (
            SECRET_FIELD,
            r#"(?i)(?:authorization_token|api[_-]?key|x-api-key|access[_-]?token|refresh[_-]?token|auth[_-]?token|client[_-]?secret|secret[_-]?key|secret[_-]?access[_-]?key|password|passwd|pwd)(?:\\?["'])?\s*[:=]\s*(?:\\?["'])?(?P<secret>[^\s"'\\<>&,;\[\]{}]{6,})"#,
            Take::Group,
            always,
        ),
        (SECRET_FIELD, &quoted_field, Take::Group, always),
    ];
    specs
        .into_iter()
        .map(|(name, pattern, take, check)| {
            let rule = infos
                .iter()
                .position(|i| i.name == name)
                .ok_or_else(|| RedactError::Internal(format!("no rule named {name}")))?;
            let regex = Regex::new(pattern)
                .map_err(|e| RedactError::Internal(format!("built-in rule {name}: {e}")))?;
            Ok(TextRule {
                rule,
                regex,
                take,
                check,
            })
        })
        .collect()
}

/// `"name": "value"` for every secret field name, in JSON written inside a string (a tool result
/// whose text is JSON), escaped quotes included: the quoted value is the secret (after a leading
/// `Bearer `/`Basic `/`Token `, which stays readable).
fn quoted_field_pattern() -> String {
    let names: Vec<String> = SECRET_FIELD_NAMES
        .iter()
        .map(|n| n.replace('_', "[_-]"))
        .collect();
    format!(
        r#"(?i)\\?"(?:{})\\?"\s*:\s*\\?"(?:(?:bearer|basic|token|digest)\s+)?(?P<secret>[^"\\]+)"#,
        names.join("|")
    )
}

/// A user's `--redact-rule`: masks the group named `secret` when the regex has one, else the
/// whole match.
pub(crate) fn user_text_rule(rule: usize, pattern: &str) -> Result<TextRule, RedactError> {
    let regex = Regex::new(pattern).map_err(|e| RedactError::BadRule {
        pattern: pattern.to_string(),
        why: one_line_regex_error(&e),
    })?;
    let take = if regex.capture_names().flatten().any(|n| n == "secret") {
        Take::Group
    } else {
        Take::Whole
    };
    Ok(TextRule {
        rule,
        regex,
        take,
        check: always,
    })
}

/// The regex crate's messages span lines (the pattern, a caret, then `error: …`); keep the reason.
fn one_line_regex_error(e: &regex::Error) -> String {
    let text = e.to_string();
    text.lines()
        .rev()
        .find_map(|l| l.trim().strip_prefix("error: "))
        .map(str::to_string)
        .unwrap_or_else(|| text.split_whitespace().collect::<Vec<_>>().join(" "))
}
