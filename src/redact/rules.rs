//! The built-in rules: what a secret looks like in text, and which field names hold one.
//!
//! Text rules run over every string of a JSON text (values and object keys) and mask the part that
//! matched; they are built from the data in `catalogue.rs`. Field rules mask the whole value of a
//! field, whatever it looks like, by its name ([`is_secret_name`]). The list is documented in
//! `docs/redaction.md`; keep the two in step.

use regex::Regex;

use super::RedactError;
pub(crate) use super::catalogue::Check;
use super::catalogue::KINDS;

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
    pub check: Check,
    /// The text must hold one of these (ASCII case-insensitively) for the regex to run; empty
    /// for a user's rule, which always runs.
    pub keywords: &'static [&'static str],
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

pub(crate) const SECRET_FIELD: &str = "authorization-token-field";

/// Field names whose whole value is a secret, whatever the name patterns say (compared
/// case-insensitively, `-` read as `_`).
pub const SECRET_FIELD_NAMES: &[&str] = &[
    "authorization_token",
    "authorization",
    "proxy_authorization",
    "api_key",
    "apikey",
    "x_api_key",
    "cookie",
    "set_cookie",
    "private_key",
    "token",
    "secret",
];

/// Words of a name that make it a secret name: `DB_PASSWORD`, `githubToken`, `client-secret`.
const SECRET_WORDS: &[&str] = &[
    "password",
    "passwd",
    "passphrase",
    "passcode",
    "secret",
    "token",
    "apikey",
    "credential",
    "credentials",
    "privatekey",
];

/// A last word that says the value is about a secret, not the secret: `secret_name`, `token_type`.
const METADATA_WORDS: &[&str] = &[
    "name",
    "names",
    "id",
    "ids",
    "arn",
    "ref",
    "refs",
    "path",
    "file",
    "count",
    "type",
    "kind",
    "version",
    "url",
    "uri",
    "endpoint",
    "at",
    "expiry",
    "expires",
    "ttl",
    "length",
    "len",
    "size",
    "limit",
    "field",
    "hint",
    "label",
    "policy",
    "provider",
    "scope",
    "scopes",
    "source",
    "location",
    "mode",
    "method",
    "scheme",
    "present",
    "set",
    "exists",
    "required",
    "enabled",
    "prefix",
    "format",
    "usage",
    "budget",
    "rotation",
    "fingerprint",
    "manager",
    "store",
    "error",
    "status",
];

/// `…_key` names that are not secrets: `sort_key`, `public_key`, `idempotency_key`.
const PLAIN_KEY_WORDS: &[&str] = &[
    "primary",
    "foreign",
    "sort",
    "partition",
    "hash",
    "range",
    "cache",
    "public",
    "idempotency",
    "object",
    "dedup",
    "dedupe",
    "lookup",
    "map",
    "row",
    "unique",
    "composite",
    "group",
    "item",
    "s3",
    "i18n",
    "translation",
    "message",
    "shortcut",
    "hot",
    "sequence",
    "index",
    "keyboard",
    "routing",
    "natural",
    "surrogate",
    "dict",
    "sorting",
    "react",
    "list",
    "table",
    "entity",
];

/// The words of a name: split at every non-alphanumeric and where a lower-case letter or digit
/// is followed by an upper-case one, lower-cased.
fn words(name: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut cur = String::new();
    let mut prev_lower = false;
    for c in name.chars() {
        if !c.is_ascii_alphanumeric() {
            if !cur.is_empty() {
                out.push(std::mem::take(&mut cur));
            }
            prev_lower = false;
            continue;
        }
        if c.is_ascii_uppercase() && prev_lower && !cur.is_empty() {
            out.push(std::mem::take(&mut cur));
        }
        prev_lower = c.is_ascii_lowercase() || c.is_ascii_digit();
        cur.push(c.to_ascii_lowercase());
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

/// Whether `key` names a field or variable whose value is a secret: a name in
/// [`SECRET_FIELD_NAMES`], or one with a word holding password, passwd, passphrase, passcode,
/// secret, token (not `tokens`), apikey or credential(s), or ending in `auth` or in `_key` after
/// a word that does not make it a plain key (`sort_key`, `public_key`), unless its last word says
/// it is about the secret (`secret_name`, `token_type`, `password_hint`).
pub(crate) fn is_secret_name(key: &str) -> bool {
    if key.is_empty() || key.len() > 64 {
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
    if SECRET_FIELD_NAMES.contains(&norm.as_str()) {
        return true;
    }
    let w = words(key);
    let Some(last) = w.last() else {
        return false;
    };
    if w.len() > 1 && METADATA_WORDS.contains(&last.as_str()) {
        return false;
    }
    let secret_word = w.iter().any(|x| {
        SECRET_WORDS
            .iter()
            .any(|s| x == s || (x.ends_with(s) && !s.ends_with('s')))
    });
    if secret_word {
        return true;
    }
    if last == "auth" {
        return true;
    }
    last == "key" && w.len() > 1 && !PLAIN_KEY_WORDS.contains(&w[w.len() - 2].as_str())
}

/// The built-in rules, in priority order: where matches of two rules overlap, the masked span
/// covers both and carries the name of the earlier rule. The catalogue's kinds, then the field
/// rule (which masks whole JSON values by their field's name, and has no text pattern).
pub(crate) fn builtin_infos() -> Vec<RuleInfo> {
    let mut infos: Vec<RuleInfo> = KINDS
        .iter()
        .map(|k| RuleInfo {
            name: k.id.to_string(),
            kind: "builtin",
            description: Some(k.description),
            pattern: None,
        })
        .collect();
    infos.push(RuleInfo {
        name: SECRET_FIELD.to_string(),
        kind: "builtin",
        description: Some(
            "The whole value of a JSON field with a secret name, at any depth: authorization, cookie, api_key, and any name with password, secret, token (not tokens), credential, or ending in auth or _key (not sort_key, public_key, …), unless it ends in name, id, type, hint, … (see docs/redaction.md)",
        ),
        pattern: None,
    });
    infos
}

/// The catalogue's patterns as text rules, each pointing at its kind's entry in `infos`, with
/// its kind's keywords.
pub(crate) fn builtin_text_rules(infos: &[RuleInfo]) -> Result<Vec<TextRule>, RedactError> {
    let mut out = Vec::new();
    for k in KINDS {
        let rule = infos
            .iter()
            .position(|i| i.name == k.id)
            .ok_or_else(|| RedactError::Internal(format!("no rule named {}", k.id)))?;
        for pattern in k.patterns {
            let regex = Regex::new(pattern)
                .map_err(|e| RedactError::Internal(format!("built-in rule {}: {e}", k.id)))?;
            out.push(TextRule {
                rule,
                take: take_of(&regex),
                regex,
                check: k.check,
                keywords: k.keywords,
            });
        }
    }
    Ok(out)
}

fn take_of(regex: &Regex) -> Take {
    if regex.capture_names().flatten().any(|n| n == "secret") {
        Take::Group
    } else {
        Take::Whole
    }
}

/// Whether a value is a stand-in for a secret rather than one: `$VAR`, `${VAR}`, `<token>`,
/// `***`, `null`, an earlier marker.
fn placeholder(v: &str) -> bool {
    let lower = v.to_ascii_lowercase();
    v.starts_with(['$', '%', '<', '{', '(', '['])
        || v.chars()
            .all(|c| matches!(c, '*' | 'x' | 'X' | '.' | '•' | '-' | '_'))
        || [
            "null",
            "none",
            "nil",
            "true",
            "false",
            "undefined",
            "changeme",
            "redacted",
            "example",
            "placeholder",
            "required",
            "optional",
            "string",
            "secret",
            "password",
            "token",
        ]
        .contains(&lower.as_str())
        || lower.starts_with("process.env")
        || lower.starts_with("os.environ")
        || lower.starts_with("env.")
        || lower.starts_with("secrets.")
}

/// Not a plain word: a digit, 24 characters or more, a lower-case letter followed later by an
/// upper-case one, or a character other than a letter, `-`, `_` or `.`.
fn not_a_word(v: &str) -> bool {
    let mut seen_lower = false;
    for c in v.chars() {
        if c.is_ascii_digit() || (seen_lower && c.is_ascii_uppercase()) {
            return true;
        }
        if !(c.is_alphabetic() || matches!(c, '-' | '_' | '.')) {
            return true;
        }
        seen_lower |= c.is_lowercase();
    }
    v.len() >= 24
}

/// A name in code (`token = issue_refresh_token(…)`, `token: RefreshToken`): letters, `_` and
/// `.` only, shorter than a generated secret.
fn identifier(v: &str) -> bool {
    v.len() < 24
        && v.chars()
            .all(|c| c.is_ascii_alphabetic() || c == '_' || c == '.')
}

impl Check {
    /// Whether the match `caps` (its `secret` group, else the whole match) passes.
    pub(crate) fn passes(self, caps: &regex::Captures<'_>) -> bool {
        let Some(whole) = caps.get(0) else {
            return false;
        };
        let v = caps.name("secret").unwrap_or(whole).as_str();
        match self {
            Check::None => true,
            Check::OpenAi => !v.starts_with("sk-ant-") && v.bytes().any(|b| b.is_ascii_digit()),
            Check::Mixed => {
                v.bytes().any(|b| b.is_ascii_digit())
                    && v.bytes().any(|b| b.is_ascii_uppercase())
                    && v.bytes().any(|b| b.is_ascii_lowercase())
            }
            Check::Token => not_a_word(v) && !placeholder(v),
            Check::Prose => not_a_word(v) && !placeholder(v),
            Check::NotPlaceholder => !placeholder(v),
            Check::Assignment => {
                caps.name("name")
                    .is_some_and(|n| is_secret_name(n.as_str()))
                    && !placeholder(v)
                    && !identifier(v)
            }
        }
    }
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
        check: Check::None,
        keywords: &[],
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
