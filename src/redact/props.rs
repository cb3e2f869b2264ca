//! Property tests of the redaction walker: any JSON value, with secrets from the catalogue planted
//! in its strings and keys (written plainly or `\u`-escaped), redacts to valid JSON of the same
//! shape (values under a secret field turn into marker strings), holds none of the planted
//! secrets, keeps its bytes when nothing is masked, and redacting again changes nothing. Run by
//! `crate::props::check`.

// Test code: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used)]

use proptest::prelude::*;
use serde_json::Value;

use super::catalogue::KINDS;
use super::rules::is_secret_name;
use super::*;
use crate::props::check;

/// Every true-positive example of the catalogue: (text as written, the secret in it).
fn examples() -> Vec<(String, String)> {
    let mut out = Vec::new();
    for k in KINDS {
        for e in k.tp {
            let (text, secret) = match (e.find('«'), e.find('»')) {
                (Some(a), Some(b)) => (
                    format!(
                        "{}{}{}",
                        &e[..a],
                        &e[a + '«'.len_utf8()..b],
                        &e[b + '»'.len_utf8()..]
                    ),
                    e[a + '«'.len_utf8()..b].to_string(),
                ),
                _ => (e.to_string(), e.to_string()),
            };
            out.push((text, secret));
        }
    }
    out
}

/// A JSON value as generated, before it is written out.
#[derive(Debug, Clone)]
enum J {
    Null,
    Bool(bool),
    Num(String),
    Str(Text),
    Arr(Vec<J>),
    Obj(Vec<(Text, J)>),
}

/// A string: filler around an optional planted example (index into `examples()`).
#[derive(Debug, Clone)]
struct Text {
    before: String,
    planted: Option<usize>,
    after: String,
}

impl Text {
    fn value(&self, ex: &[(String, String)]) -> String {
        match self.planted {
            None => format!("{}{}", self.before, self.after),
            Some(i) => format!("{} {}\n{}", self.before, ex[i % ex.len()].0, self.after),
        }
    }
}

fn text(n_examples: usize, planted_weight: u32) -> impl Strategy<Value = Text> {
    let filler = "[a-z .,é\u{2028}\"\\\\/]{0,8}";
    let planted = prop_oneof![
        10 => Just(None),
        planted_weight => (0..n_examples).prop_map(Some),
    ];
    (filler, planted, filler).prop_map(|(before, planted, after)| Text {
        before,
        planted,
        after,
    })
}

/// Keys: the API's, secret field names, or text.
fn key(n: usize) -> impl Strategy<Value = Text> {
    let word = prop::sample::select(
        &[
            "type",
            "text",
            "content",
            "input",
            "password",
            "api_key",
            "Authorization",
            "token",
            "tokens",
            "sort_key",
            "note",
            "id",
            "x-api-key",
            "secret_name",
        ][..],
    );
    prop_oneof![
        4 => word.prop_map(|w| Text { before: w.to_string(), planted: None, after: String::new() }),
        1 => text(n, 3),
    ]
}

fn json(n: usize) -> impl Strategy<Value = J> {
    let leaf = prop_oneof![
        1 => Just(J::Null),
        1 => any::<bool>().prop_map(J::Bool),
        1 => "-?(0|[1-9][0-9]{0,5})(\\.[0-9]{1,3})?([eE][+-]?[0-9]{1,2})?".prop_map(J::Num),
        4 => text(n, 4).prop_map(J::Str),
    ];
    leaf.prop_recursive(4, 40, 5, move |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..5).prop_map(J::Arr),
            prop::collection::vec((key(n), inner), 0..5).prop_map(J::Obj),
        ]
    })
}

/// Writes a string token, escaping every character that is not ASCII alphanumeric as `\uXXXX`
/// when `escape` (the walker must decode before matching).
fn quote(s: &str, escape: bool) -> String {
    if !escape {
        return serde_json::to_string(s).unwrap();
    }
    let mut out = String::from("\"");
    for c in s.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c);
        } else {
            let mut units = [0u16; 2];
            for u in c.encode_utf16(&mut units) {
                out.push_str(&format!("\\u{u:04x}"));
            }
        }
    }
    out.push('"');
    out
}

/// Writes `j` with whitespace from `ws` (cycled) and escapes when `escape`; keys that repeat
/// keep their first value only, as the shape check reads objects by key.
fn write(
    j: &J,
    ex: &[(String, String)],
    escape: bool,
    ws: &[&str],
    n: &mut usize,
    out: &mut String,
) {
    let pad = |out: &mut String, n: &mut usize| {
        out.push_str(ws[*n % ws.len()]);
        *n += 1;
    };
    match j {
        J::Null => out.push_str("null"),
        J::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        J::Num(s) => out.push_str(s),
        J::Str(t) => out.push_str(&quote(&t.value(ex), escape)),
        J::Arr(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                pad(out, n);
                write(item, ex, escape, ws, n, out);
            }
            pad(out, n);
            out.push(']');
        }
        J::Obj(members) => {
            out.push('{');
            for (i, (k, v)) in unique(members, ex).into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                pad(out, n);
                out.push_str(&quote(&k, escape));
                pad(out, n);
                out.push(':');
                write(v, ex, escape, ws, n, out);
            }
            pad(out, n);
            out.push('}');
        }
    }
}

fn unique<'j>(members: &'j [(Text, J)], ex: &[(String, String)]) -> Vec<(String, &'j J)> {
    let mut seen = std::collections::HashSet::new();
    members
        .iter()
        .map(|(k, v)| (k.value(ex), v))
        .filter(|(k, _)| seen.insert(k.clone()))
        .collect()
}

/// The shape redaction must keep: containers and scalar kinds (object members sorted, since keys
/// holding a secret are renamed), with every non-null scalar under a secret field a string.
fn shape_of_input(j: &J, ex: &[(String, String)], secret: bool) -> String {
    match j {
        J::Null => "null".into(),
        J::Bool(_) if !secret => "bool".into(),
        J::Num(_) if !secret => "num".into(),
        J::Bool(_) => "bool".into(),
        J::Num(_) | J::Str(_) => "str".into(),
        J::Arr(items) => {
            let s: Vec<String> = items
                .iter()
                .map(|i| shape_of_input(i, ex, secret))
                .collect();
            format!("[{}]", s.join(","))
        }
        J::Obj(members) => {
            let mut s: Vec<String> = unique(members, ex)
                .into_iter()
                .map(|(k, v)| shape_of_input(v, ex, secret || is_secret_name(&k)))
                .collect();
            s.sort();
            format!("{{{}}}", s.join(","))
        }
    }
}

fn shape_of_output(v: &Value) -> String {
    match v {
        Value::Null => "null".into(),
        Value::Bool(_) => "bool".into(),
        Value::Number(_) => "num".into(),
        Value::String(_) => "str".into(),
        Value::Array(items) => {
            let s: Vec<String> = items.iter().map(shape_of_output).collect();
            format!("[{}]", s.join(","))
        }
        Value::Object(m) => {
            let mut s: Vec<String> = m.values().map(shape_of_output).collect();
            s.sort();
            format!("{{{}}}", s.join(","))
        }
    }
}

/// Every string of a value, keys included.
fn strings(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::String(s) => out.push(s.clone()),
        Value::Array(items) => items.iter().for_each(|i| strings(i, out)),
        Value::Object(m) => {
            for (k, v) in m {
                out.push(k.clone());
                strings(v, out);
            }
        }
        _ => {}
    }
}

fn planted(j: &J, out: &mut Vec<usize>) {
    match j {
        J::Str(t) => out.extend(t.planted),
        J::Arr(items) => items.iter().for_each(|i| planted(i, out)),
        J::Obj(members) => {
            for (k, v) in members {
                out.extend(k.planted);
                planted(v, out);
            }
        }
        _ => {}
    }
}

/// The filler texts around the planted examples, keys included.
fn fillers(j: &J) -> Vec<String> {
    fn walk(j: &J, out: &mut Vec<String>) {
        match j {
            J::Str(t) => out.extend([t.before.clone(), t.after.clone()]),
            J::Arr(items) => items.iter().for_each(|i| walk(i, out)),
            J::Obj(members) => {
                for (k, v) in members {
                    out.extend([k.before.clone(), k.after.clone()]);
                    walk(v, out);
                }
            }
            _ => {}
        }
    }
    let mut out = Vec::new();
    walk(j, &mut out);
    out
}

#[test]
fn prop_redact_any_json_keeps_its_shape_and_none_of_its_secrets() {
    let ex = examples();
    let ws = prop::collection::vec(prop::sample::select(&["", " ", "\n  ", "\t"][..]), 1..5);
    let strategy = (json(ex.len()), any::<bool>(), ws);
    let r = Redactor::builtin(RedactKey::given("props").unwrap()).unwrap();
    check("redact json", 128, strategy, |(j, escape, ws)| {
        let mut input = String::new();
        write(&j, &ex, escape, &ws, &mut 0, &mut input);
        prop_assert!(
            serde_json::from_str::<Value>(&input).is_ok(),
            "the generator wrote {}",
            input
        );
        let (out, hits) = r.redact_json(&input);
        if hits.is_empty() {
            prop_assert_eq!(
                &out[..],
                &input[..],
                "nothing masked, yet the bytes changed"
            );
        }
        let v: Value = match serde_json::from_str(&out) {
            Ok(v) => v,
            Err(e) => {
                return Err(TestCaseError::fail(format!(
                    "not JSON after redaction ({e}): {out}"
                )));
            }
        };
        prop_assert_eq!(
            shape_of_output(&v),
            shape_of_input(&j, &ex, false),
            "redacted: {}",
            out
        );
        let mut texts = Vec::new();
        strings(&v, &mut texts);
        let mut seeds = Vec::new();
        planted(&j, &mut seeds);
        let filler = fillers(&j);
        for i in seeds {
            let secret = &ex[i % ex.len()].1;
            if filler.iter().any(|f| f.contains(secret.as_str())) {
                continue; // a short secret (`pw`) that the filler holds too, unmasked there
            }
            prop_assert!(
                !texts.iter().any(|t| t.contains(secret.as_str())),
                "secret {:?} left in {}",
                secret,
                out
            );
        }
        for h in &hits {
            prop_assert!(!h.marker.is_empty());
        }
        let (again, hits2) = r.redact_json(&out);
        prop_assert!(
            hits2.is_empty(),
            "a second pass masked {:?} in {}",
            hits2,
            out
        );
        prop_assert_eq!(&again[..], &out[..]);
        Ok(())
    });
}

#[test]
fn prop_redact_plain_text_leaves_no_planted_secret_and_is_idempotent() {
    let ex = examples();
    let strategy = prop::collection::vec(text(ex.len(), 10), 1..4);
    let r = Redactor::builtin(RedactKey::given("props").unwrap()).unwrap();
    check("redact plain", 256, strategy, |texts| {
        let input: Vec<String> = texts.iter().map(|t| t.value(&ex)).collect();
        let input = input.join("\n");
        let (out, _) = r.redact_plain(&input);
        for t in &texts {
            if let Some(i) = t.planted {
                let secret = &ex[i % ex.len()].1;
                let s = secret.as_str();
                if texts
                    .iter()
                    .any(|f| f.before.contains(s) || f.after.contains(s))
                {
                    continue; // a short secret (`pw`) that the filler holds too, unmasked there
                }
                prop_assert!(
                    !out.contains(secret.as_str()),
                    "secret {:?} left in {:?}",
                    secret,
                    out
                );
            }
        }
        let (again, hits2) = r.redact_plain(&out);
        prop_assert!(
            hits2.is_empty(),
            "a second pass masked {:?} in {:?}",
            hits2,
            out
        );
        prop_assert_eq!(&again[..], &out[..]);
        Ok(())
    });
}

/// Found by the two properties above: redacting a redacted text masked its markers again (a
/// secret field's marker, or a marker where a rule expects a secret, as in `curl -u user:[…]`),
/// so re-exporting a redacted tape broke "one secret, one marker".
#[test]
fn redacting_twice_does_not_mask_the_markers() {
    let r = Redactor::builtin(RedactKey::given("props").unwrap()).unwrap();
    let doc = r#"{"type": {"password": 0, "api_key": "k-123"}, "ghp_1234567890abcdefghijABCDEFGHIJ123456": [0]}"#;
    let (once, hits) = r.redact_json(doc);
    assert_eq!(hits.len(), 3);
    let (twice, hits) = r.redact_json(&once);
    assert_eq!((&twice[..], hits), (&once[..], vec![]));
    for (text, secret) in examples() {
        let (once, _) = r.redact_plain(&text);
        assert!(!once.contains(&secret), "{text:?}");
        let (twice, hits) = r.redact_plain(&once);
        assert_eq!((&twice[..], hits), (&once[..], vec![]), "{text:?}");
    }
}
