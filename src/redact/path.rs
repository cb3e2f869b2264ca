//! The JSONPath subset of `--redact-field`: `$`, `.name`, `['name']` / `["name"]`, `[N]`, `[*]`,
//! `.*`, and `..name` / `..*` (at any depth below). Paths are matched against the location of
//! each value while a JSON text is walked, so nothing is evaluated up front.

use super::RedactError;

/// One step of a JSON location.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Step {
    Key(String),
    Index(usize),
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Selector {
    Name(String),
    Index(usize),
    Any,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Segment {
    /// One step down.
    Child(Selector),
    /// Any number of steps down (zero included), then one matching the selector.
    Descendant(Selector),
}

/// A parsed `--redact-field` path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldPath {
    segments: Vec<Segment>,
}

impl FieldPath {
    /// Parses the subset above; anything else is an error saying what was expected and where.
    pub fn parse(text: &str) -> Result<FieldPath, RedactError> {
        let bad = |why: String| RedactError::BadField {
            path: text.to_string(),
            why,
        };
        let chars: Vec<char> = text.trim().chars().collect();
        if chars.first() != Some(&'$') {
            return Err(bad("a path starts with `$`".into()));
        }
        let mut i = 1;
        let mut segments = Vec::new();
        while i < chars.len() {
            match chars[i] {
                '.' => {
                    let descendant = chars.get(i + 1) == Some(&'.');
                    i += if descendant { 2 } else { 1 };
                    let sel = if chars.get(i) == Some(&'*') {
                        i += 1;
                        Selector::Any
                    } else if descendant && chars.get(i) == Some(&'[') {
                        let (sel, next) = bracket(&chars, i).map_err(bad)?;
                        i = next;
                        sel
                    } else {
                        let start = i;
                        while i < chars.len()
                            && (chars[i].is_alphanumeric() || "_-$@".contains(chars[i]))
                        {
                            i += 1;
                        }
                        if start == i {
                            return Err(bad(format!(
                                "a field name was expected at character {}",
                                start + 1
                            )));
                        }
                        Selector::Name(chars[start..i].iter().collect())
                    };
                    segments.push(if descendant {
                        Segment::Descendant(sel)
                    } else {
                        Segment::Child(sel)
                    });
                }
                '[' => {
                    let (sel, next) = bracket(&chars, i).map_err(bad)?;
                    i = next;
                    segments.push(Segment::Child(sel));
                }
                c => {
                    return Err(bad(format!(
                        "`.`, `..` or `[` was expected at character {}, not `{c}`",
                        i + 1
                    )));
                }
            }
        }
        if segments.is_empty() {
            return Err(bad(
                "`$` alone would mask the whole document; name a field".into()
            ));
        }
        Ok(FieldPath { segments })
    }

    /// Whether the value at `location` (steps from the root) is selected.
    pub(crate) fn matches(&self, location: &[Step]) -> bool {
        match_from(&self.segments, location)
    }
}

/// `[…]` at `i`: `'name'`, `"name"`, `N` or `*`. Returns the selector and the index after `]`.
fn bracket(chars: &[char], i: usize) -> Result<(Selector, usize), String> {
    let mut j = i + 1;
    let sel = match chars.get(j) {
        Some('*') => {
            j += 1;
            Selector::Any
        }
        Some(&q @ ('\'' | '"')) => {
            j += 1;
            let start = j;
            while j < chars.len() && chars[j] != q {
                j += 1;
            }
            if j >= chars.len() {
                return Err(format!("the quote at character {} is not closed", start));
            }
            let name: String = chars[start..j].iter().collect();
            j += 1;
            Selector::Name(name)
        }
        Some(c) if c.is_ascii_digit() => {
            let start = j;
            while j < chars.len() && chars[j].is_ascii_digit() {
                j += 1;
            }
            let n: String = chars[start..j].iter().collect();
            Selector::Index(
                n.parse()
                    .map_err(|_| format!("index {n} at character {} is too large", start + 1))?,
            )
        }
        _ => {
            return Err(format!(
                "`*`, a number or a quoted name was expected after `[` at character {}",
                i + 1
            ));
        }
    };
    if chars.get(j) != Some(&']') {
        return Err(format!("`]` was expected at character {}", j + 1));
    }
    Ok((sel, j + 1))
}

fn selects(sel: &Selector, step: &Step) -> bool {
    match (sel, step) {
        (Selector::Any, _) => true,
        (Selector::Name(n), Step::Key(k)) => n == k,
        (Selector::Index(n), Step::Index(k)) => n == k,
        _ => false,
    }
}

fn match_from(segments: &[Segment], location: &[Step]) -> bool {
    let Some((first, rest)) = segments.split_first() else {
        return location.is_empty();
    };
    match first {
        Segment::Child(sel) => location
            .split_first()
            .is_some_and(|(step, tail)| selects(sel, step) && match_from(rest, tail)),
        Segment::Descendant(sel) => (0..location.len())
            .any(|skip| selects(sel, &location[skip]) && match_from(rest, &location[skip + 1..])),
    }
}

/// A location as JSONPath text, for `--preview`: `$.content[0].text`, `$['odd key']`.
pub(crate) fn display(location: &[Step]) -> String {
    let mut s = String::from("$");
    for step in location {
        match step {
            Step::Index(i) => s.push_str(&format!("[{i}]")),
            Step::Key(k)
                if !k.is_empty()
                    && k.chars()
                        .all(|c| c.is_alphanumeric() || c == '_' || c == '-') =>
            {
                s.push('.');
                s.push_str(k);
            }
            Step::Key(k) => s.push_str(&format!("['{}']", k.replace('\'', "\\'"))),
        }
    }
    s
}
