//! The catalogue's examples, run: every kind masks each of its true positives (exactly the
//! marked secret, under its own name) and leaves each of its false positives, and the texts no
//! rule may touch, byte for byte; in plain text, in a JSON string value and in a JSON string
//! written with `\/` escapes.

// Test code: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used)]

use super::catalogue::{KINDS, NEVER_SECRETS};
use super::*;

fn r() -> Redactor {
    Redactor::builtin(RedactKey::given("catalogue-test").unwrap()).unwrap()
}

/// `(before, secret, after)` of an example: the secret is between `«` and `»`, or the whole text.
fn split(example: &str) -> (&str, &str, &str) {
    match (example.find('«'), example.find('»')) {
        (Some(a), Some(b)) => (
            &example[..a],
            &example[a + '«'.len_utf8()..b],
            &example[b + '»'.len_utf8()..],
        ),
        _ => ("", example, ""),
    }
}

/// The text redacted in each context, read back as text, with the hits.
fn in_contexts(r: &Redactor, text: &str) -> Vec<(&'static str, String, Vec<Hit>)> {
    let (plain, hits) = r.redact_plain(text);
    let mut out = vec![("plain text", plain.into_owned(), hits)];
    let json = serde_json::json!({ "note": text }).to_string();
    for (what, doc) in [
        ("a JSON string", json.clone()),
        ("a \\/-escaped JSON string", json.replace('/', "\\/")),
    ] {
        let (red, hits) = r.redact_json(&doc);
        if hits.is_empty() {
            assert_eq!(red, doc, "{what}: unchanged text keeps its bytes");
        }
        let v: serde_json::Value = serde_json::from_str(&red).unwrap();
        out.push((what, v["note"].as_str().unwrap().to_string(), hits));
    }
    out
}

#[test]
fn every_kind_masks_its_true_positives_in_every_context() {
    let r = r();
    for k in KINDS {
        assert!(!k.tp.is_empty(), "{}: no true-positive example", k.id);
        for example in k.tp {
            let (before, secret, after) = split(example);
            let text = format!("{before}{secret}{after}");
            let want = format!("{before}{}{after}", r.marker_for(k.id, secret));
            for (what, out, hits) in in_contexts(&r, &text) {
                assert_eq!(out, want, "{}: {example:?} in {what}", k.id);
                assert!(
                    hits.iter().any(|h| h.rule == k.id),
                    "{}: {example:?} in {what}: {hits:?}",
                    k.id
                );
            }
        }
    }
}

#[test]
fn no_kind_touches_a_false_positive_in_any_context() {
    let r = r();
    let fps = KINDS
        .iter()
        .flat_map(|k| k.fp.iter().map(move |f| (k.id, *f)))
        .chain(NEVER_SECRETS.iter().map(|f| ("never a secret", *f)));
    let mut n = 0;
    for (id, example) in fps {
        for (what, out, hits) in in_contexts(&r, example) {
            assert!(hits.is_empty(), "{id}: {example:?} in {what}: {hits:?}");
            assert_eq!(out, example, "{id}: {example:?} in {what}");
        }
        n += 1;
    }
    assert!(n > KINDS.len());
}

#[test]
fn a_base64_image_and_hex_hashes_are_never_masked() {
    // A large seeded pseudo-random base64 blob (a screenshot in a tool result) and hashes.
    let alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut x: u64 = 0x2545_f491_4f6c_dd1d;
    let mut blob = String::from("iVBORw0KGgoAAAANSUhEUgAA");
    let mut hex = String::new();
    for i in 0..200_000 {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        blob.push(alphabet[(x % 64) as usize] as char);
        if i % 64 == 0 {
            hex.push(' ');
        }
        hex.push(alphabet[26 + (x % 6) as usize] as char);
        hex.push(alphabet[52 + (x >> 8) as usize % 10] as char);
    }
    let r = r();
    let event = serde_json::json!({"type": "agent.tool_result", "content": [
        {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": blob}},
        {"type": "text", "text": hex}]})
    .to_string();
    let (out, hits) = r.redact_json(&event);
    assert!(hits.is_empty(), "{hits:?}");
    assert_eq!(out, event);
}

#[test]
fn kinds_are_well_formed() {
    let mut ids: Vec<&str> = KINDS.iter().map(|k| k.id).collect();
    ids.sort_unstable();
    let n = ids.len();
    ids.dedup();
    assert_eq!(ids.len(), n, "duplicate ids");
    for k in KINDS {
        assert!(!k.patterns.is_empty() && !k.keywords.is_empty(), "{}", k.id);
        assert!(!k.fp.is_empty(), "{}: no false-positive example", k.id);
        for kw in k.keywords {
            assert_eq!(kw.to_ascii_lowercase(), *kw, "{}: keyword {kw}", k.id);
        }
    }
    assert!(KINDS.len() >= 80, "{} kinds", KINDS.len());
}

/// Field names: `*password*`, `*token*` (not `*tokens`), `*secret*`, `*_key`, `*auth`,
/// credentials, with the names of metadata about secrets and plain keys left alone; in JSON the
/// whole value goes, in text the assigned value.
#[test]
fn secret_field_names_by_pattern() {
    let secret = [
        "DB_PASSWORD",
        "GITHUB_TOKEN",
        "githubToken",
        "client-secret",
        "STRIPE_SECRET_KEY",
        "PGPASSWORD",
        "aws_secret_access_key",
        "api_key",
        "X-Api-Key",
        "apiKey",
        "encryption_key",
        "ssh_private_key",
        "basic_auth",
        "gcp_credentials",
        "refresh_token",
        "Authorization",
        "cookie",
        "passphrase",
        "slack_webhook_token",
    ];
    let plain = [
        "max_tokens",
        "input_tokens",
        "cache_read_input_tokens",
        "secret_name",
        "token_type",
        "password_hint",
        "sort_key",
        "public_key",
        "idempotency_key",
        "primary_key",
        "tokenizer",
        "key",
        "keyboard",
        "oauth",
        "token_count",
        "tool_use_id",
        "session_thread_id",
        "secret_arn",
        "author",
    ];
    let r = r();
    for name in secret {
        assert!(rules::is_secret_name(name), "{name}");
        let json = format!(r#"{{"{name}": "v4lue-9z", "n": 1}}"#);
        let (out, hits) = r.redact_json(&json);
        assert!(!out.contains("v4lue-9z"), "{name}: {out}");
        assert_eq!(hits.len(), 1, "{name}: {hits:?}");
        let text = format!("export {name}=v4lue-9z; next");
        let (out, _) = r.redact_plain(&text);
        assert!(!out.contains("v4lue-9z"), "{name}: {out}");
        assert!(out.ends_with("; next"), "{name}: {out}");
    }
    for name in plain {
        assert!(!rules::is_secret_name(name), "{name}");
        let text = format!(r#"{{"{name}": "v4lue-9z", "n": 1}}"#);
        assert_eq!(r.redact_json(&text).0, text, "{name}");
        let text = format!("export {name}=v4lue-9z; next");
        assert_eq!(r.redact_plain(&text).0, text, "{name}");
    }
}
