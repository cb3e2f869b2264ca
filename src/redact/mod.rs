//! Redaction: masking secrets in a session before any export sees it. Pure, no I/O.
//!
//! A [`Redactor`] is built from the built-in rules (`rules.rs`), the user's `--redact-rule`
//! regexes and `--redact-field` paths (`path.rs`), and a key. [`redact_doc`] rewrites every text
//! of a [`SessionDoc`](crate::doc::SessionDoc) in place (events, earlier revisions, previews,
//! the session object, capture-log details, the title) and returns a [`Manifest`]: the rules
//! applied and how often each masked something, never a secret. `walk.rs` rewrites one JSON text,
//! touching only the string tokens that hold a secret; a text with no secret keeps its bytes.
//!
//! A masked value becomes `[REDACTED:<rule>:<8 hex>]`, the hex being HMAC-SHA256 of the secret
//! under the key, truncated: the same secret gives the same marker everywhere under one key, and a
//! random key (the default) keeps short secrets from being guessed back from their markers.

mod catalogue;
mod doc;
mod path;
mod rules;
mod walk;

#[cfg(test)]
mod catalogue_tests;
#[cfg(test)]
mod props;
#[cfg(test)]
mod tests;

use std::borrow::Cow;

use aho_corasick::AhoCorasick;
use hmac::{Hmac, Mac};
use sha2::Sha256;

pub use doc::{
    DocHit, Manifest, Place, Tally, capture_place, event_place, object_place, preview_place,
    redact_doc, redact_doc_with_hits, revision_place, title_place,
};
pub use path::FieldPath;
pub use rules::{RuleInfo, SECRET_FIELD_NAMES};

use path::Step;
use rules::TextRule;

/// Why a redactor could not be built. Each names the user's pattern or path and what is wrong.
#[derive(Debug, thiserror::Error)]
pub enum RedactError {
    #[error("--redact-rule {pattern:?}: not a valid regex: {why}")]
    BadRule { pattern: String, why: String },
    #[error("--redact-field {path:?}: not a supported JSONPath: {why}")]
    BadField { path: String, why: String },
    #[error("--redact-key / FLIGHTREC_REDACT_KEY: the key is empty")]
    EmptyKey,
    #[error("cannot get a random redaction key from the operating system: {0}")]
    Random(String),
    #[error("redaction: {0}")]
    Internal(String),
}

/// The key of the markers' hash. Never printed, never written out.
#[derive(Clone)]
pub struct RedactKey {
    bytes: Vec<u8>,
    random: bool,
}

impl std::fmt::Debug for RedactKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedactKey")
            .field("random", &self.random)
            .finish_non_exhaustive()
    }
}

impl RedactKey {
    /// 32 random bytes from the operating system: markers differ from one export to the next.
    pub fn random() -> Result<RedactKey, RedactError> {
        let mut bytes = vec![0u8; 32];
        getrandom::fill(&mut bytes).map_err(|e| RedactError::Random(e.to_string()))?;
        Ok(RedactKey {
            bytes,
            random: true,
        })
    }

    /// A key the user chose (`--redact-key`): the same secret gets the same marker in every file
    /// redacted with it.
    pub fn given(key: &str) -> Result<RedactKey, RedactError> {
        if key.is_empty() {
            return Err(RedactError::EmptyKey);
        }
        Ok(RedactKey {
            bytes: key.as_bytes().to_vec(),
            random: false,
        })
    }

    pub fn is_random(&self) -> bool {
        self.random
    }
}

/// One masked value: which rule, where (a JSONPath into the text), its marker, and an excerpt
/// that shows at most a quarter of the secret (four characters at most) and its length.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Hit {
    pub rule: String,
    pub path: String,
    pub marker: String,
    pub excerpt: String,
}

/// The rules and key that mask secrets; build once, use for a whole session.
#[derive(Debug, Clone)]
pub struct Redactor {
    infos: Vec<RuleInfo>,
    text_rules: Vec<TextRule>,
    /// `--redact-field` paths, each with its rule index.
    fields: Vec<(usize, FieldPath)>,
    /// The index of `authorization-token-field`.
    secret_field_rule: usize,
    /// Every built-in rule's keywords in one automaton: which rules can match a string, in one
    /// pass over it (most strings hold no keyword, and then no regex runs).
    prefilter: Prefilter,
    key: RedactKey,
}

impl Redactor {
    /// The built-in rules plus the user's regexes (`--redact-rule`, named `rule-1`, `rule-2`, …)
    /// and field paths (`--redact-field`, named `field-1`, …). A bad regex or path is an error
    /// naming it.
    pub fn new(
        user_rules: &[String],
        user_fields: &[String],
        key: RedactKey,
    ) -> Result<Redactor, RedactError> {
        let mut infos = rules::builtin_infos();
        let mut text_rules = rules::builtin_text_rules(&infos)?;
        let secret_field_rule = infos
            .iter()
            .position(|i| i.name == rules::SECRET_FIELD)
            .ok_or_else(|| RedactError::Internal("no field rule".into()))?;
        for (n, pattern) in user_rules.iter().enumerate() {
            text_rules.push(rules::user_text_rule(infos.len(), pattern)?);
            infos.push(RuleInfo {
                name: format!("rule-{}", n + 1),
                kind: "regex",
                description: None,
                pattern: Some(pattern.clone()),
            });
        }
        let mut fields = Vec::new();
        for (n, text) in user_fields.iter().enumerate() {
            fields.push((infos.len(), FieldPath::parse(text)?));
            infos.push(RuleInfo {
                name: format!("field-{}", n + 1),
                kind: "field",
                description: None,
                pattern: Some(text.clone()),
            });
        }
        let prefilter = Prefilter::new(&text_rules)?;
        Ok(Redactor {
            infos,
            text_rules,
            fields,
            secret_field_rule,
            prefilter,
            key,
        })
    }

    /// The built-in rules only.
    pub fn builtin(key: RedactKey) -> Result<Redactor, RedactError> {
        Redactor::new(&[], &[], key)
    }

    /// Every rule, built-in first, in the order of their indices in markers' priority.
    pub fn rules(&self) -> &[RuleInfo] {
        &self.infos
    }

    pub fn key_is_random(&self) -> bool {
        self.key.random
    }

    /// Redacts one JSON text (an event, a session object, …). A text with nothing to mask comes
    /// back borrowed, byte for byte; a text that is not JSON is scanned as plain text.
    pub fn redact_json<'t>(&self, text: &'t str) -> (Cow<'t, str>, Vec<Hit>) {
        walk::redact_json(self, text)
    }

    /// Redacts a plain text (not JSON) with the text rules.
    pub fn redact_plain<'t>(&self, text: &'t str) -> (Cow<'t, str>, Vec<Hit>) {
        walk::redact_plain(self, text)
    }

    /// The marker for `secret` under rule `rule`.
    pub fn marker_for(&self, rule: &str, secret: &str) -> String {
        format!("[REDACTED:{rule}:{}]", self.hash8(secret))
    }

    fn hash8(&self, secret: &str) -> String {
        // HMAC accepts keys of any length; `new_from_slice` cannot fail for it.
        let mut mac = match Hmac::<Sha256>::new_from_slice(&self.key.bytes) {
            Ok(m) => m,
            Err(_) => return "00000000".into(),
        };
        mac.update(secret.as_bytes());
        let digest = mac.finalize().into_bytes();
        digest[..4].iter().map(|b| format!("{b:02x}")).collect()
    }

    fn marker(&self, rule: usize, secret: &str) -> String {
        self.marker_for(self.rule_name(rule), secret)
    }

    fn rule_name(&self, rule: usize) -> &str {
        self.infos.get(rule).map_or("unknown", |i| i.name.as_str())
    }

    fn hit(&self, rule: usize, location: &[Step], marker: String, secret: &str) -> Hit {
        Hit {
            rule: self.rule_name(rule).to_string(),
            path: path::display(location),
            marker,
            excerpt: excerpt(secret),
        }
    }

    /// Every text-rule match in `s`, as sorted, disjoint (start, end, rule) byte spans. Where
    /// matches overlap, the span covers them all and carries the earliest rule.
    fn find(&self, s: &str) -> Vec<(usize, usize, usize)> {
        let mut spans = Vec::new();
        for i in self.prefilter.candidates(s) {
            let Some(tr) = self.text_rules.get(i) else {
                continue;
            };
            for c in tr.regex.captures_iter(s) {
                let m = match tr.take {
                    rules::Take::Whole => c.get(0),
                    rules::Take::Group => c.name("secret"),
                };
                if let Some(m) = m
                    && !m.is_empty()
                    && tr.check.passes(&c)
                {
                    spans.push((m.start(), m.end(), tr.rule));
                }
            }
        }
        if spans.is_empty() {
            return spans;
        }
        // A marker from an earlier redaction is no secret: a span that is a marker and
        // punctuation is dropped, so redacting twice changes nothing.
        let markers = marker_spans(s);
        if !markers.is_empty() {
            spans.retain(|&(start, end, _)| !only_markers(s, start, end, &markers));
        }
        spans.sort_unstable();
        let mut merged: Vec<(usize, usize, usize)> = Vec::with_capacity(spans.len());
        for (start, end, rule) in spans {
            match merged.last_mut() {
                Some(last) if start < last.1 => {
                    last.1 = last.1.max(end);
                    last.2 = last.2.min(rule);
                }
                _ => merged.push((start, end, rule)),
            }
        }
        merged
    }
}

/// Which text rules can match a string: those whose keyword it holds (one Aho-Corasick pass,
/// ASCII case-insensitive), and those without keywords (the user's), always.
#[derive(Debug, Clone)]
struct Prefilter {
    automaton: AhoCorasick,
    /// The text rules of each keyword, by the keyword's pattern index.
    rules_of: Vec<Vec<usize>>,
    always: Vec<usize>,
    n_rules: usize,
}

impl Prefilter {
    fn new(text_rules: &[TextRule]) -> Result<Prefilter, RedactError> {
        let mut keywords: Vec<String> = Vec::new();
        let mut rules_of: Vec<Vec<usize>> = Vec::new();
        let mut always = Vec::new();
        for (i, tr) in text_rules.iter().enumerate() {
            if tr.keywords.is_empty() {
                always.push(i);
            }
            for k in tr.keywords {
                let k = k.to_ascii_lowercase();
                match keywords.iter().position(|x| *x == k) {
                    Some(at) => rules_of[at].push(i),
                    None => {
                        keywords.push(k);
                        rules_of.push(vec![i]);
                    }
                }
            }
        }
        let automaton = AhoCorasick::builder()
            .ascii_case_insensitive(true)
            .build(&keywords)
            .map_err(|e| RedactError::Internal(format!("keyword prefilter: {e}")))?;
        Ok(Prefilter {
            automaton,
            rules_of,
            always,
            n_rules: text_rules.len(),
        })
    }

    /// The indices of the text rules to run on `s`, in rule order.
    fn candidates(&self, s: &str) -> Vec<usize> {
        let mut hit: Option<Vec<bool>> = None;
        for m in self.automaton.find_overlapping_iter(s) {
            let flags = hit.get_or_insert_with(|| vec![false; self.n_rules]);
            for &r in &self.rules_of[m.pattern().as_usize()] {
                flags[r] = true;
            }
        }
        let mut out = self.always.clone();
        if let Some(flags) = hit {
            out.extend(
                flags
                    .iter()
                    .enumerate()
                    .filter(|(_, f)| **f)
                    .map(|(i, _)| i),
            );
            out.sort_unstable();
        }
        out
    }
}

/// Where `s` holds markers (`[REDACTED:<rule>:<8 hex>]`), as byte spans.
fn marker_spans(s: &str) -> Vec<(usize, usize)> {
    static MARKER: std::sync::LazyLock<Option<regex::Regex>> = std::sync::LazyLock::new(|| {
        regex::Regex::new(r"\[REDACTED:[A-Za-z0-9_-]+:[0-9a-f]{8}\]").ok()
    });
    if !s.contains("[REDACTED:") {
        return Vec::new();
    }
    match &*MARKER {
        Some(re) => re.find_iter(s).map(|m| (m.start(), m.end())).collect(),
        None => Vec::new(),
    }
}

/// Whether `s[start..end]` holds nothing but markers, punctuation and spaces.
fn only_markers(s: &str, start: usize, end: usize, markers: &[(usize, usize)]) -> bool {
    let mut at = start;
    let mut any = false;
    for &(a, b) in markers.iter().filter(|(a, b)| *b > start && *a < end) {
        if s[at..a.max(at)].chars().any(char::is_alphanumeric) {
            return false;
        }
        any = true;
        at = b.max(at);
    }
    any && !s[at.min(end)..end].chars().any(char::is_alphanumeric)
}

/// Whether `s` is one marker and nothing else.
pub(crate) fn is_marker(s: &str) -> bool {
    marker_spans(s) == [(0, s.len())]
}

/// At most a quarter of the secret (four characters at most), then its length.
fn excerpt(secret: &str) -> String {
    let n = secret.chars().count();
    let shown: String = secret.chars().take((n / 4).min(4)).collect();
    format!("{shown}… ({n} chars)")
}
