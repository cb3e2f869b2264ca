//! One JSON text walked token by token: every string (values and object keys) is checked with
//! the text rules, every value under a secret field is masked whole, and only the tokens that
//! changed are rewritten, so the rest of the text keeps its bytes (spacing, key order, numbers).

use std::borrow::Cow;

use super::path::Step;
use super::{Hit, Redactor};

/// A replacement of `text[start..end]`.
struct Edit {
    start: usize,
    end: usize,
    replacement: String,
}

/// Why a text could not be walked as JSON; it is then scanned as plain text.
struct NotJson;

/// Nesting deeper than this is not walked (the stack is finite); such a text is scanned as plain
/// text instead, so it is still redacted. serde_json itself stops at 128.
const MAX_DEPTH: usize = 256;

struct Walker<'r, 't> {
    r: &'r Redactor,
    text: &'t str,
    i: usize,
    path: Vec<Step>,
    edits: Vec<Edit>,
    hits: Vec<Hit>,
}

/// Redacts one JSON text. Unchanged text comes back borrowed, byte for byte.
pub(crate) fn redact_json<'t>(r: &Redactor, text: &'t str) -> (Cow<'t, str>, Vec<Hit>) {
    let mut w = Walker {
        r,
        text,
        i: 0,
        path: Vec::new(),
        edits: Vec::new(),
        hits: Vec::new(),
    };
    let walked = w.ws_value_ws().is_ok() && w.i == text.len();
    if !walked {
        return redact_plain(r, text);
    }
    if w.edits.is_empty() {
        return (Cow::Borrowed(text), w.hits);
    }
    let mut out = String::with_capacity(text.len());
    let mut at = 0;
    for e in &w.edits {
        out.push_str(&text[at..e.start]);
        out.push_str(&e.replacement);
        at = e.end;
    }
    out.push_str(&text[at..]);
    (Cow::Owned(out), w.hits)
}

/// Redacts a text that is not JSON (a title, or a stored text that fails to parse) with the text
/// rules. Markers hold no quote or backslash, so a JSON-ish text stays as parseable as it was.
pub(crate) fn redact_plain<'t>(r: &Redactor, text: &'t str) -> (Cow<'t, str>, Vec<Hit>) {
    let mut hits = Vec::new();
    match mask_spans(r, text, &[], &mut hits) {
        Some(new) => (Cow::Owned(new), hits),
        None => (Cow::Borrowed(text), hits),
    }
}

/// `s` with every text-rule match replaced by its marker, or `None` when nothing matched.
fn mask_spans(r: &Redactor, s: &str, location: &[Step], hits: &mut Vec<Hit>) -> Option<String> {
    let spans = r.find(s);
    if spans.is_empty() {
        return None;
    }
    let mut out = String::with_capacity(s.len());
    let mut at = 0;
    for (start, end, rule) in spans {
        let secret = &s[start..end];
        let marker = r.marker(rule, secret);
        out.push_str(&s[at..start]);
        out.push_str(&marker);
        hits.push(r.hit(rule, location, marker, secret));
        at = end;
    }
    out.push_str(&s[at..]);
    Some(out)
}

impl<'t> Walker<'_, 't> {
    fn peek(&self) -> Option<u8> {
        self.text.as_bytes().get(self.i).copied()
    }

    fn ws(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.i += 1;
        }
    }

    fn expect(&mut self, b: u8) -> Result<(), NotJson> {
        if self.peek() == Some(b) {
            self.i += 1;
            Ok(())
        } else {
            Err(NotJson)
        }
    }

    fn ws_value_ws(&mut self) -> Result<(), NotJson> {
        self.ws();
        self.value(None)?;
        self.ws();
        Ok(())
    }

    /// The field rule (if any) that selects the value at the current path.
    fn field_rule(&self, inherited: Option<usize>) -> Option<usize> {
        if inherited.is_some() {
            return inherited;
        }
        // A key holding a marker is named by the rule in it (`…github-token…`), not a field.
        if let Some(Step::Key(k)) = self.path.last()
            && super::rules::is_secret_name(k)
            && super::marker_spans(k).is_empty()
        {
            return Some(self.r.secret_field_rule);
        }
        self.r
            .fields
            .iter()
            .find(|(_, p)| p.matches(&self.path))
            .map(|(rule, _)| *rule)
    }

    /// A value; `field` is the field rule masking every string and number in it.
    fn value(&mut self, field: Option<usize>) -> Result<(), NotJson> {
        if self.path.len() > MAX_DEPTH {
            return Err(NotJson);
        }
        match self.peek().ok_or(NotJson)? {
            b'{' => {
                self.i += 1;
                self.ws();
                if self.peek() == Some(b'}') {
                    self.i += 1;
                    return Ok(());
                }
                loop {
                    self.ws();
                    let (start, end) = self.string_token()?;
                    let key = self.decode(start, end)?.into_owned();
                    self.path.push(Step::Key(key));
                    // A secret used as a key is masked as text; the path keeps the original name
                    // for matching and shows the masked one.
                    self.text_string(start, end, None)?;
                    self.ws();
                    self.expect(b':')?;
                    self.ws();
                    let rule = self.field_rule(field);
                    self.value(rule)?;
                    self.path.pop();
                    self.ws();
                    match self.peek() {
                        Some(b',') => self.i += 1,
                        Some(b'}') => {
                            self.i += 1;
                            return Ok(());
                        }
                        _ => return Err(NotJson),
                    }
                }
            }
            b'[' => {
                self.i += 1;
                self.ws();
                if self.peek() == Some(b']') {
                    self.i += 1;
                    return Ok(());
                }
                let mut n = 0;
                loop {
                    self.ws();
                    self.path.push(Step::Index(n));
                    let rule = self.field_rule(field);
                    self.value(rule)?;
                    self.path.pop();
                    n += 1;
                    self.ws();
                    match self.peek() {
                        Some(b',') => self.i += 1,
                        Some(b']') => {
                            self.i += 1;
                            return Ok(());
                        }
                        _ => return Err(NotJson),
                    }
                }
            }
            b'"' => {
                let (start, end) = self.string_token()?;
                self.text_string(start, end, field)
            }
            b'-' | b'0'..=b'9' => {
                let start = self.i;
                while matches!(
                    self.peek(),
                    Some(b'-' | b'+' | b'.' | b'e' | b'E' | b'0'..=b'9')
                ) {
                    self.i += 1;
                }
                if let Some(rule) = field {
                    let secret = &self.text[start..self.i];
                    self.mask_whole(start, self.i, rule, secret);
                }
                Ok(())
            }
            b't' | b'f' | b'n' => {
                for lit in ["true", "false", "null"] {
                    if self.text[self.i..].starts_with(lit) {
                        self.i += lit.len();
                        return Ok(());
                    }
                }
                Err(NotJson)
            }
            _ => Err(NotJson),
        }
    }

    /// Skips the string token at the cursor; returns its byte range, quotes included.
    fn string_token(&mut self) -> Result<(usize, usize), NotJson> {
        let start = self.i;
        self.expect(b'"')?;
        let bytes = self.text.as_bytes();
        loop {
            let b = *bytes.get(self.i).ok_or(NotJson)?;
            self.i += 1;
            if b == b'\\' {
                self.i += 1;
            } else if b == b'"' {
                return Ok((start, self.i));
            }
        }
    }

    /// The decoded value of the string token `text[start..end]`.
    fn decode(&self, start: usize, end: usize) -> Result<Cow<'t, str>, NotJson> {
        let text: &'t str = self.text;
        let token = text.get(start..end).ok_or(NotJson)?;
        if token.contains('\\') {
            serde_json::from_str::<String>(token)
                .map(Cow::Owned)
                .map_err(|_| NotJson)
        } else {
            Ok(Cow::Borrowed(&token[1..token.len() - 1]))
        }
    }

    /// The string token `text[start..end]`: masked whole under a field rule, else checked with
    /// the text rules.
    fn text_string(
        &mut self,
        start: usize,
        end: usize,
        field: Option<usize>,
    ) -> Result<(), NotJson> {
        let value = self.decode(start, end)?;
        if let Some(rule) = field {
            // A marker from an earlier redaction stays as it is.
            if !value.is_empty() && !super::is_marker(&value) {
                self.mask_whole(start, end, rule, &value);
            }
            return Ok(());
        }
        if let Some(new) = mask_spans(self.r, &value, &self.path, &mut self.hits) {
            self.edits.push(Edit {
                start,
                end,
                replacement: quote(&new),
            });
        }
        Ok(())
    }

    fn mask_whole(&mut self, start: usize, end: usize, rule: usize, secret: &str) {
        let marker = self.r.marker(rule, secret);
        self.edits.push(Edit {
            start,
            end,
            replacement: quote(&marker),
        });
        self.hits.push(self.r.hit(rule, &self.path, marker, secret));
    }
}

/// A string as a JSON string token.
fn quote(s: &str) -> String {
    serde_json::Value::String(s.to_string()).to_string()
}
