// Test code: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used)]

use super::*;

const ANT: &str = "sk-ant-api03-Abc123xyzAbc123xyzAbc123xyz_-Q9";
const ANT_ADMIN: &str = "sk-ant-admin01-Zyx987Zyx987Zyx987Zyx987";
const OPENAI: &str = "sk-proj-9f8e7d6c5b4a3f2e1d0c9b8a7f6e5d4c";
const OPENAI_OLD: &str = "sk-T3BlbkFJ1234567890abcdefghijklmnop";
const GH: &str = "ghp_1234567890abcdefghijABCDEFGHIJ123456";
const GH_PAT: &str = "github_pat_11ABCDEFG0123456789_abcdefghijklmnopqrstuvwxyz";
const AWS: &str = "AKIAIOSFODNN7EXAMPLE";
const SLACK: &str = "xoxb-123456789012-abcdefghijkl";
const PEM: &str =
    "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA7s1\nabcdef==\n-----END RSA PRIVATE KEY-----";

fn key() -> RedactKey {
    RedactKey::given("test-key").unwrap()
}

fn r() -> Redactor {
    Redactor::builtin(key()).unwrap()
}

/// The rules that matched a plain text, in order.
fn rules_in(text: &str) -> Vec<String> {
    r().redact_plain(text)
        .1
        .into_iter()
        .map(|h| h.rule)
        .collect()
}

fn masked(text: &str) -> String {
    r().redact_plain(text).0.into_owned()
}

#[test]
fn anthropic_keys_user_and_admin() {
    assert_eq!(rules_in(&format!("my key is {ANT} ok")), ["anthropic-key"]);
    assert_eq!(rules_in(ANT_ADMIN), ["anthropic-key"]);
    let out = masked(&format!("my key is {ANT} ok"));
    assert!(
        out.starts_with("my key is [REDACTED:anthropic-key:"),
        "{out}"
    );
    assert!(out.ends_with("] ok"), "{out}");
    // Too short to be a key, or inside a word.
    assert!(rules_in("sk-ant-short").is_empty());
    assert!(rules_in("task-ant-api03-Abc123xyzAbc123xyzAbc123").is_empty());
}

#[test]
fn openai_keys_but_not_anthropic_ones() {
    assert_eq!(rules_in(OPENAI), ["openai-key"]);
    assert_eq!(rules_in(OPENAI_OLD), ["openai-key"]);
    assert_eq!(rules_in(ANT), ["anthropic-key"]);
    // Hyphenated words after `sk-` with no digit are prose, not keys.
    assert!(rules_in("sk-learn-compatible-estimators-everywhere").is_empty());
    assert!(rules_in("desk-1234567890123456789012345").is_empty());
}

#[test]
fn github_tokens() {
    for t in [
        GH,
        "gho_abcdefghij1234567890ABCDEFGHIJ",
        "ghs_abcdefghij1234567890ABCDEFGHIJ",
        GH_PAT,
    ] {
        assert_eq!(rules_in(&format!("token {t}.")), ["github-token"], "{t}");
    }
    assert!(rules_in("ghp_short").is_empty());
    assert!(rules_in("the ghx_abcdefghij1234567890ABCDEFGHIJ prefix").is_empty());
}

#[test]
fn aws_and_slack() {
    assert_eq!(rules_in(&format!("id={AWS}")), ["aws-access-key-id"]);
    assert!(rules_in("AKIAEXAMPLE").is_empty());
    assert_eq!(rules_in(SLACK), ["slack-token"]);
    assert!(rules_in("xoxb-1").is_empty());
}

#[test]
fn private_key_blocks_whole_and_cut_off() {
    let text = format!("here:\n{PEM}\nafter");
    let out = masked(&text);
    assert!(out.starts_with("here:\n[REDACTED:private-key:"), "{out}");
    assert!(out.ends_with("]\nafter"), "{out}");
    let cut = "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAA";
    assert_eq!(rules_in(cut), ["private-key"]);
    assert!(!masked(cut).contains("b3Bl"));
    assert!(rules_in("-----BEGIN PUBLIC KEY-----\nMIIB").is_empty());
}

#[test]
fn bearer_and_authorization_in_text() {
    let out = masked("curl -H 'Authorization: Bearer abc123def456ghi' https://x");
    assert!(
        out.contains("Authorization: Bearer [REDACTED:bearer:"),
        "{out}"
    );
    assert!(!out.contains("abc123def456ghi"));
    let basic = masked("Authorization: Basic dXNlcjpwYXNzd29yZA==");
    assert!(!basic.contains("dXNlcjpwYXNzd29yZA"), "{basic}");
    // An Anthropic key as a bearer token is named for the more specific rule.
    assert_eq!(rules_in(&format!("Bearer {ANT}")), ["anthropic-key"]);
    // Prose is not a credential.
    assert!(rules_in("the bearer of this letter").is_empty());
    assert!(rules_in("bearer credentials are explained below").is_empty());
}

#[test]
fn secret_assignments_in_text() {
    let out = masked("PGPASSWORD=hunter2x psql; api_key: 'abcd1234efgh'");
    assert!(
        !out.contains("hunter2x") && !out.contains("abcd1234efgh"),
        "{out}"
    );
    assert_eq!(rules_in("max_tokens: 100000").len(), 0);
}

#[test]
fn json_inside_a_string_is_caught_by_text_rules() {
    let inner = r#"{"headers": {"Authorization": "Bearer tok_abc123def456"}, "password": "correct horse battery"}"#;
    let event = serde_json::json!({"type": "agent.tool_result", "id": "sevt_1", "content": [{"type": "text", "text": inner}]}).to_string();
    let (out, hits) = r().redact_json(&event);
    assert!(!out.contains("tok_abc123def456"), "{out}");
    assert!(!out.contains("correct horse battery"), "{out}");
    assert!(
        hits.iter().all(|h| h.path == "$.content[0].text"),
        "{hits:?}"
    );
    serde_json::from_str::<serde_json::Value>(&out).unwrap();
}

#[test]
fn field_rules_mask_whole_values_and_nested_strings() {
    let text = r#"{"mcp_servers":[{"name":"gh","authorization_token":"plain-looking","headers":{"X-Api-Key":"k1","Authorization":{"a":"x","b":[1,"y"]}}}],"password":12345678}"#;
    let (out, hits) = r().redact_json(text);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let server = &v["mcp_servers"][0];
    assert_eq!(server["name"], "gh");
    // Numbers under a secret field are secrets too (PINs, numeric passwords).
    for s in [
        &server["authorization_token"],
        &server["headers"]["X-Api-Key"],
        &server["headers"]["Authorization"]["a"],
        &server["headers"]["Authorization"]["b"][0],
        &server["headers"]["Authorization"]["b"][1],
        &v["password"],
    ] {
        assert!(
            s.as_str()
                .unwrap()
                .starts_with("[REDACTED:authorization-token-field:"),
            "{s}"
        );
    }
    let paths: Vec<&str> = hits.iter().map(|h| h.path.as_str()).collect();
    assert!(
        paths.contains(&"$.mcp_servers[0].authorization_token"),
        "{paths:?}"
    );
    assert!(paths.contains(&"$.password"), "{paths:?}");
}

#[test]
fn untouched_text_is_byte_identical() {
    let text = "{ \"type\" : \"agent.message\",\n  \"n\": 1.50e0, \"s\": \"caf\\u00e9 \\/ x\", \"a\": [ ] }";
    let (out, hits) = r().redact_json(text);
    assert!(hits.is_empty());
    assert!(matches!(out, std::borrow::Cow::Borrowed(_)));
    assert_eq!(out, text);
}

#[test]
fn only_the_changed_string_is_rewritten() {
    let text = format!("{{ \"n\": 1.50,  \"s\": \"caf\\u00e9\", \"k\": \"key {ANT}\" }}");
    let (out, _) = r().redact_json(&text);
    let marker = r().marker_for("anthropic-key", ANT);
    assert_eq!(
        out,
        format!("{{ \"n\": 1.50,  \"s\": \"caf\\u00e9\", \"k\": \"key {marker}\" }}")
    );
}

#[test]
fn markers_are_stable_per_key_and_differ_across_keys() {
    let a = r().marker_for("anthropic-key", ANT);
    let b = Redactor::builtin(key())
        .unwrap()
        .marker_for("anthropic-key", ANT);
    assert_eq!(a, b);
    assert_eq!(a.len(), "[REDACTED:anthropic-key:]".len() + 8);
    let other = Redactor::builtin(RedactKey::given("other").unwrap()).unwrap();
    assert_ne!(a, other.marker_for("anthropic-key", ANT));
    let random = Redactor::builtin(RedactKey::random().unwrap()).unwrap();
    assert!(random.key_is_random());
    assert_ne!(a, random.marker_for("anthropic-key", ANT));
    // The same secret twice in one text: one marker.
    let twice = format!("{ANT} and {ANT}");
    let (out, hits) = r().redact_plain(&twice);
    assert_eq!(hits.len(), 2);
    assert_eq!(hits[0].marker, hits[1].marker);
    assert_eq!(out, format!("{a} and {a}"));
}

#[test]
fn ids_and_links_are_never_masked() {
    let text = r#"{"type":"agent.tool_result","id":"sevt_011CZm4SxV3bN7mQ1wEr5TyU","tool_use_id":"toolu_01AKIAIOSFODNN7EXAMPLExx","session_thread_id":"sthr_011CZghp_1234567890abcdefghijABCD","custom_tool_use_id":"sevt_011CZskant03Abc123xyzAbc123xyzAbc","outcome_id":"outc_011CZm53Xd1Lr4MyTc8VuJwP","processed_at":"2026-08-07T14:02:19.402Z"}"#;
    let (out, hits) = r().redact_json(text);
    assert!(hits.is_empty(), "{hits:?}");
    assert_eq!(out, text);
}

#[test]
fn every_sample_log_has_no_false_positive() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("sample-logs");
    let redactor = r();
    let mut texts = 0;
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if !matches!(
            path.extension().and_then(|e| e.to_str()),
            Some("jsonl" | "sse" | "json")
        ) {
            continue;
        }
        let text = std::fs::read_to_string(&path).unwrap();
        for line in text.lines() {
            let line = line.strip_prefix("data: ").unwrap_or(line);
            let (_, hits) = redactor.redact_json(line);
            assert!(hits.is_empty(), "{}: {hits:?}", path.display());
            texts += 1;
        }
    }
    assert!(texts > 100);
}

#[test]
fn keys_are_scanned_too() {
    let text = format!(r#"{{"metadata":{{"{ANT}":"x"}}}}"#);
    let (out, hits) = r().redact_json(&text);
    assert!(!out.contains(ANT));
    assert_eq!(hits.len(), 1);
}

#[test]
fn escaped_strings_are_decoded_before_matching() {
    // The key's dashes written as \u002d in the JSON text.
    let text = r#"{"t":"k=sk\u002dant\u002dapi03\u002dAbc123xyzAbc123xyzAbc123xyz"}"#;
    let (out, hits) = r().redact_json(text);
    assert_eq!(hits.len(), 1, "{out}");
    assert!(!out.contains("Abc123xyz"));
}

#[test]
fn user_rules_and_groups() {
    let red = Redactor::new(
        &["acct-[0-9]{6}".into(), "pin=(?P<secret>[0-9]{4})".into()],
        &[],
        key(),
    )
    .unwrap();
    let (out, hits) = red.redact_plain("acct-123456 pin=4321");
    assert_eq!(
        hits.iter().map(|h| h.rule.as_str()).collect::<Vec<_>>(),
        ["rule-1", "rule-2"]
    );
    assert!(out.contains("pin=[REDACTED:rule-2:"), "{out}");
    assert!(!out.contains("4321") && !out.contains("123456"));
    let names: Vec<&str> = red.rules().iter().map(|r| r.name.as_str()).collect();
    assert!(names.ends_with(&["rule-1", "rule-2"]));
}

#[test]
fn bad_user_rule_is_one_line_naming_it() {
    let e = Redactor::new(&["(abc".into()], &[], key())
        .unwrap_err()
        .to_string();
    assert!(
        e.starts_with("--redact-rule \"(abc\": not a valid regex:"),
        "{e}"
    );
    assert!(!e.contains('\n'), "{e}");
}

#[test]
fn field_paths_parse_and_match() {
    use path::Step::{Index as I, Key as K};
    let k = |s: &str| K(s.to_string());
    let p = |s: &str| FieldPath::parse(s).unwrap();
    assert!(p("$.metadata.customer").matches(&[k("metadata"), k("customer")]));
    assert!(!p("$.metadata.customer").matches(&[k("customer")]));
    assert!(p("$..customer").matches(&[k("a"), I(3), k("customer")]));
    assert!(p("$..customer").matches(&[k("customer")]));
    assert!(p("$.content[*].text").matches(&[k("content"), I(2), k("text")]));
    assert!(p("$.content[1].text").matches(&[k("content"), I(1), k("text")]));
    assert!(!p("$.content[1].text").matches(&[k("content"), I(0), k("text")]));
    assert!(p("$['odd key'].x").matches(&[k("odd key"), k("x")]));
    assert!(p("$[\"odd key\"]").matches(&[k("odd key")]));
    assert!(p("$.input.*").matches(&[k("input"), k("command")]));
    assert!(p("$..['a b']").matches(&[k("x"), k("a b")]));
    for bad in ["metadata", "$", "$.", "$[abc]", "$['x", "$.a b", "$[*"] {
        let e = FieldPath::parse(bad).unwrap_err().to_string();
        assert!(
            e.starts_with(&format!(
                "--redact-field {bad:?}: not a supported JSONPath:"
            )),
            "{e}"
        );
    }
}

#[test]
fn user_fields_mask_whole_values() {
    let red = Redactor::new(
        &[],
        &["$.metadata.customer".into(), "$..note".into()],
        key(),
    )
    .unwrap();
    let text =
        r#"{"metadata":{"customer":"ACME Corp","team":"platform"},"x":[{"note":"private"}]}"#;
    let (out, hits) = red.redact_json(text);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["metadata"]["team"], "platform");
    assert!(
        v["metadata"]["customer"]
            .as_str()
            .unwrap()
            .starts_with("[REDACTED:field-1:")
    );
    assert!(
        v["x"][0]["note"]
            .as_str()
            .unwrap()
            .starts_with("[REDACTED:field-2:")
    );
    assert_eq!(hits[0].path, "$.metadata.customer");
    assert_eq!(hits[1].path, "$.x[0].note");
}

#[test]
fn not_json_is_scanned_as_text() {
    let text = format!("{{\"broken\": \"{ANT}\"");
    let (out, hits) = r().redact_json(&text);
    assert_eq!(hits.len(), 1);
    assert!(!out.contains(ANT));
}

#[test]
fn excerpts_show_at_most_a_quarter() {
    assert_eq!(excerpt("hunter22"), "hu… (8 chars)");
    assert_eq!(excerpt(ANT), "sk-a… (44 chars)");
    assert_eq!(excerpt("abc"), "… (3 chars)");
}

#[test]
fn key_is_never_in_debug_output() {
    let k = RedactKey::given("super-secret-key").unwrap();
    assert!(!format!("{k:?}").contains("super-secret"));
    assert!(RedactKey::given("").is_err());
}

#[test]
fn deep_nesting_is_scanned_as_text_not_overflowing_the_stack() {
    let depth = 100_000;
    let text = format!("{}\"{ANT}\"{}", "[".repeat(depth), "]".repeat(depth));
    let (out, hits) = r().redact_json(&text);
    assert_eq!(hits.len(), 1);
    assert!(!out.contains(ANT));
    assert!(out.starts_with("[[[") && out.ends_with("]]]"));
}
