//! Redaction: secrets planted in every kind of field never reach an export, and `redact
//! --preview` lists each of them. [`planted_db`] is reusable by any export format's tests.

use std::path::{Path, PathBuf};

use serde_json::{Value, json};

use crate::util::*;

pub const SESSION: &str = "sesn_011CZredactPlanted00001";

/// One planted secret: a name for messages, the secret text, and the kind of field it is in.
pub struct Planted {
    pub what: &'static str,
    pub secret: &'static str,
}

/// Each planted secret. The PEM block is checked by its body (its BEGIN line is not a secret).
pub const PLANTED: &[Planted] = &[
    Planted {
        what: "anthropic key in user message text",
        secret: "sk-ant-api03-UsrMsg1234567890abcdefghijKLMN",
    },
    Planted {
        what: "anthropic admin key in session metadata",
        secret: "sk-ant-admin01-Meta9876543210zyxwvutsrqpo",
    },
    Planted {
        what: "github token in session title",
        secret: "ghs_Title0123456789abcdefghijABCDEFGHIJ",
    },
    Planted {
        what: "authorization_token of an MCP server in the session object",
        secret: "mcp-vault-plain-value",
    },
    Planted {
        what: "openai key in agent message text",
        secret: "sk-proj-AgentMsg0123456789abcdefghijklmnop",
    },
    Planted {
        what: "openai key in a replaced queued copy (revision)",
        secret: "sk-QueuedRev0123456789abcdefghijklmnopqr",
    },
    Planted {
        what: "github token in tool input",
        secret: "ghp_ToolInput0123456789abcdefghijABCDEFG",
    },
    Planted {
        what: "bearer token in tool input",
        secret: "tok9Zq8Yx7Wv6Ut5Sr4",
    },
    Planted {
        what: "password in tool input",
        secret: "hunter2hunter2",
    },
    Planted {
        what: "bearer token in JSON inside a tool result",
        secret: "resTok1234567890abcdef",
    },
    Planted {
        what: "slack token in tool result",
        secret: "xoxb-123456789012-ResultSlackTok",
    },
    Planted {
        what: "private key body in tool result",
        secret: "MIIEowIBAAKCAQEA7s1PlantedBody",
    },
    Planted {
        what: "api_key in MCP tool input",
        secret: "plain-mcp-secret-777",
    },
    Planted {
        what: "github PAT in custom tool result",
        secret: "github_pat_11CUSTOM0123456789_abcdefghijklmnopqrstu",
    },
    Planted {
        what: "AWS key id in error message",
        secret: "AKIAPLANTED0ERROR123",
    },
    Planted {
        what: "anthropic key in a preview delta",
        secret: "sk-ant-api03-Preview1234567890abcdefghijKLM",
    },
    Planted {
        what: "bearer token in a capture-log error frame",
        secret: "errTok0987654321zyxwv",
    },
    Planted {
        what: "user regex match in a message",
        secret: "ACME-4815162342",
    },
    Planted {
        what: "user field path in session metadata",
        secret: "Initech Customer 42",
    },
];

/// The event ids of the planted session, which must come out unchanged.
pub const IDS: &[&str] = &[
    "sevt_011CZredUserMsg00000001",
    "sevt_011CZredToolUse00000002",
    "sevt_011CZredToolRes00000003",
    "sevt_011CZredMcpUse000000004",
    "sevt_011CZredCustRes00000005",
    "sevt_011CZredError0000000006",
    "sevt_011CZredAgentMsg0000007",
];

fn s(what: &str) -> &'static str {
    PLANTED
        .iter()
        .find(|p| p.what == what)
        .map(|p| p.secret)
        .unwrap()
}

/// The flags that make the user-rule and user-field secrets maskable.
pub const USER_FLAGS: &[&str] = &[
    "--redact-rule",
    "ACME-[0-9]{10}",
    "--redact-field",
    "$.metadata.customer",
];

/// A database in `dir` with one session ([`SESSION`]) holding every [`PLANTED`] secret: in a
/// session object (metadata, title, an MCP server's `authorization_token`), message texts, tool
/// inputs, tool results (one of them JSON with an Authorization header and a PEM block), an MCP
/// tool input, a custom tool result, an error message, a replaced queued copy (a revision), a
/// preview delta and a capture-log error frame. Imported through `flightrec import`.
pub fn planted_db(dir: &Path) -> PathBuf {
    let ant_user = s("anthropic key in user message text");
    let pem = format!(
        "-----BEGIN RSA PRIVATE KEY-----\n{}\nQWERTY==\n-----END RSA PRIVATE KEY-----",
        s("private key body in tool result")
    );
    let result_json = json!({
        "status": 401,
        "request": {"headers": {"Authorization": format!("Bearer {}", s("bearer token in JSON inside a tool result"))}},
        "deploy_key": pem,
    })
    .to_string();
    let object = json!({
        "type": "session", "id": SESSION, "status": "idle",
        "title": format!("triage with {}", s("github token in session title")),
        "environment_id": "env_011CZkZ9X2dpNyB7HsEFoRfW",
        "created_at": "2026-08-07T14:01:58.120Z", "updated_at": "2026-08-07T14:45:11.004Z",
        "metadata": {"team": "platform", "deploy": s("anthropic admin key in session metadata"),
                     "customer": s("user field path in session metadata")},
        "vault_ids": [],
        "agent": {"type": "agent", "id": "agent_011CZkYpogX7uDKUyvBTophP", "version": 3, "name": "triager",
                  "model": {"id": "claude-sonnet-4-6"},
                  "mcp_servers": [{"type": "url", "name": "github", "url": "https://mcp.example.com/github",
                                   "authorization_token": s("authorization_token of an MCP server in the session object")}]},
        "resources": [], "outcome_evaluations": [], "stats": {}, "usage": {}
    });
    let user_msg = |processed_at: Value, text: String| {
        json!({"type": "user.message", "id": IDS[0], "processed_at": processed_at,
               "content": [{"type": "text", "text": text}]})
    };
    let events = [
        object,
        // The queued copy first: the processed one replaces it and it is kept as a revision.
        user_msg(
            Value::Null,
            format!(
                "use {}",
                s("openai key in a replaced queued copy (revision)")
            ),
        ),
        user_msg(
            json!("2026-08-07T14:02:11.482Z"),
            format!(
                "my key is {ant_user} ok, account {}",
                s("user regex match in a message")
            ),
        ),
        json!({"type": "agent.tool_use", "id": IDS[1], "name": "bash", "processed_at": "2026-08-07T14:02:15.903Z",
               "input": {"command": format!("curl -H 'Authorization: Bearer {}' https://api.example.com; GITHUB_TOKEN={} gh pr list",
                                            s("bearer token in tool input"), s("github token in tool input")),
                         "env": {"password": s("password in tool input")}},
               "evaluated_permission": "allow"}),
        json!({"type": "agent.tool_result", "id": IDS[2], "tool_use_id": IDS[1], "processed_at": "2026-08-07T14:02:19.402Z",
               "content": [{"type": "text", "text": result_json},
                           {"type": "text", "text": format!("slack: {}", s("slack token in tool result"))}],
               "is_error": true}),
        json!({"type": "agent.mcp_tool_use", "id": IDS[3], "name": "create_issue", "mcp_server_name": "github",
               "processed_at": "2026-08-07T14:02:20.000Z",
               "input": {"title": "flaky test", "api_key": s("api_key in MCP tool input")}}),
        json!({"type": "user.custom_tool_result", "id": IDS[4], "custom_tool_use_id": IDS[3],
               "processed_at": "2026-08-07T14:02:21.000Z",
               "content": [{"type": "text", "text": format!("{{\"token_used\": \"{}\"}}", s("github PAT in custom tool result"))}]}),
        json!({"type": "session.error", "id": IDS[5], "processed_at": "2026-08-07T14:02:22.000Z",
               "error": {"type": "unknown_error", "message": format!("upstream refused key {}", s("AWS key id in error message")),
                         "retry_status": {"type": "retrying"}}}),
        json!({"type": "agent.message", "id": IDS[6], "processed_at": "2026-08-07T14:02:24.318Z",
               "content": [{"type": "text", "text": format!("Found {} and {ant_user} in .env", s("openai key in agent message text"))}]}),
    ];
    let jsonl: String = events.iter().map(|e| format!("{e}\n")).collect();
    let jsonl_path = dir.join("planted.jsonl");
    std::fs::write(&jsonl_path, jsonl).unwrap();
    let delta = json!({"type": "event_delta", "event_id": IDS[6],
                       "delta": {"type": "content_delta", "index": 0,
                                 "content": {"type": "text", "text": format!("Found {}", s("anthropic key in a preview delta"))}}});
    let error = json!({"type": "error", "error": {"type": "authentication_error",
                       "message": format!("Authorization: Bearer {} rejected", s("bearer token in a capture-log error frame"))}});
    let sse = format!(
        "event: event_start\ndata: {}\n\nevent: event_delta\ndata: {delta}\n\nevent: error\ndata: {error}\n\n",
        json!({"type": "event_start", "event": {"type": "agent.message", "id": IDS[6]}})
    );
    let sse_path = dir.join("planted.sse");
    std::fs::write(&sse_path, sse).unwrap();
    let db = dir.join("planted.db");
    for file in [&jsonl_path, &sse_path] {
        let o = run(
            &db,
            &["import", "--session", SESSION, file.to_str().unwrap()],
        );
        assert_eq!(code(&o), 0, "{}", stderr(&o));
    }
    db
}

/// Asserts that no planted secret occurs in `text`.
pub fn assert_no_secret(text: &str, context: &str) {
    for p in PLANTED {
        assert!(
            !text.contains(p.secret),
            "{context}: the {} leaked:\n{text}",
            p.what
        );
    }
}

fn export(db: &Path, extra: &[&str]) -> std::process::Output {
    let mut args = vec!["export", SESSION, "--format", "jsonl"];
    args.extend_from_slice(extra);
    bin()
        .arg("--db")
        .arg(db)
        .args(&args)
        .env_remove("FLIGHTREC_DB")
        .env_remove("FLIGHTREC_REDACT_KEY")
        .output()
        .unwrap()
}

#[test]
fn planted_secrets_are_really_in_the_database() {
    let dir = tempdir();
    let db = planted_db(dir.path());
    // The plain export carries the event secrets: the planting works, so the next tests mean something.
    let o = export(&db, &[]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let plain = stdout(&o);
    for what in [
        "anthropic key in user message text",
        "github token in tool input",
        "AWS key id in error message",
        "private key body in tool result",
    ] {
        assert!(plain.contains(s(what)), "{what} not planted");
    }
    // Every place is populated: object, revisions, previews, capture log.
    let store = flightrec::store::Store::open_existing(&db).unwrap();
    let doc = flightrec::export::SessionDoc::load(&store, SESSION).unwrap();
    assert!(doc.object.is_some());
    assert_eq!(doc.events.len(), IDS.len());
    assert_eq!(doc.revisions.len(), 1);
    assert_eq!(doc.previews.len(), 2);
    assert!(doc.capture.iter().any(|c| c.kind == "error_frame"));
}

#[test]
fn redacted_jsonl_export_holds_no_secret_and_keeps_ids() {
    let dir = tempdir();
    let db = planted_db(dir.path());
    let plain = stdout(&export(&db, &[]));
    let mut flags = vec!["--redact"];
    flags.extend_from_slice(USER_FLAGS);
    let o = export(&db, &flags);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let out = stdout(&o);
    assert_no_secret(&out, "export --redact");
    // The manifest's one line on stderr: counts per rule, no secret.
    let err = stderr(&o);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.starts_with("redaction: masked "), "{err}");
    for rule in [
        "anthropic-key",
        "openai-key",
        "github-token",
        "bearer",
        "aws-access-key-id",
        "slack-token",
        "private-key",
        "authorization-token-field",
        "rule-1",
    ] {
        assert!(
            err.contains(&format!("{rule} ")),
            "{rule} not counted: {err}"
        );
    }
    assert!(err.contains("(random key"), "{err}");
    assert_no_secret(&err, "stderr");

    // Same lines, same order, same ids and links; each line still parses.
    let plain_lines: Vec<&str> = plain.lines().collect();
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), plain_lines.len());
    for (red, orig) in lines.iter().zip(&plain_lines) {
        let r: Value = serde_json::from_str(red).unwrap();
        let o: Value = serde_json::from_str(orig).unwrap();
        for field in [
            "id",
            "type",
            "processed_at",
            "tool_use_id",
            "custom_tool_use_id",
        ] {
            assert_eq!(r.get(field), o.get(field), "{field} changed in {red}");
        }
        assert!(IDS.contains(&r["id"].as_str().unwrap()));
    }
    // The same secret gets the same marker everywhere in the file.
    let markers = |line: &str| -> Vec<String> {
        line.match_indices("[REDACTED:anthropic-key:")
            .map(|(i, _)| line[i..i + "[REDACTED:anthropic-key:".len() + 9].to_string())
            .collect()
    };
    let in_user = markers(lines.iter().find(|l| l.contains(IDS[0])).unwrap());
    let in_agent = markers(lines.iter().find(|l| l.contains("agent.message")).unwrap());
    assert_eq!(in_user.len(), 1);
    assert!(in_agent.contains(&in_user[0]), "{in_user:?} {in_agent:?}");
    // Where nothing was masked, a line keeps its bytes... and the user message keeps its text.
    assert!(
        lines[0].contains("my key is [REDACTED:anthropic-key:"),
        "{}",
        lines[0]
    );
    assert!(
        lines[0].contains("] ok, account [REDACTED:rule-1:"),
        "{}",
        lines[0]
    );
}

#[test]
fn a_given_key_makes_markers_stable_across_exports() {
    let dir = tempdir();
    let db = planted_db(dir.path());
    let a = stdout(&export(&db, &["--redact", "--redact-key", "k1"]));
    let b = stdout(&export(&db, &["--redact", "--redact-key", "k1"]));
    assert_eq!(a, b);
    let c = stdout(&export(&db, &["--redact"]));
    let d = stdout(&export(&db, &["--redact"]));
    assert_ne!(c, d, "a random key per export");
    let o = export(&db, &["--redact", "--redact-key", "k1"]);
    assert!(stderr(&o).contains("(given key"), "{}", stderr(&o));
    assert!(!stderr(&o).contains("k1"));
    // From the environment too.
    let e = bin()
        .arg("--db")
        .arg(&db)
        .args(["export", SESSION, "--redact"])
        .env("FLIGHTREC_REDACT_KEY", "k1")
        .output()
        .unwrap();
    assert_eq!(stdout(&e), a);
}

/// Every text of the session, redacted in process: the object, events, revisions, previews,
/// capture-log details and title all lose their secrets, whatever a format later writes.
#[test]
fn redacted_doc_holds_no_secret_anywhere() {
    use flightrec::redact::{RedactKey, Redactor, redact_doc};
    let dir = tempdir();
    let db = planted_db(dir.path());
    let store = flightrec::store::Store::open_existing(&db).unwrap();
    let mut doc = flightrec::export::SessionDoc::load(&store, SESSION).unwrap();
    let redactor = Redactor::new(
        &[USER_FLAGS[1].to_string()],
        &[USER_FLAGS[3].to_string()],
        RedactKey::random().unwrap(),
    )
    .unwrap();
    let manifest = redact_doc(&mut doc, &redactor);
    let mut all = String::new();
    all.push_str(doc.summary.title.as_deref().unwrap_or(""));
    all.push_str(&doc.object.as_ref().unwrap().raw);
    for e in &doc.events {
        all.push_str(&e.raw);
        serde_json::from_str::<Value>(&e.raw).unwrap();
    }
    for r in &doc.revisions {
        all.push_str(&r.raw);
    }
    for p in &doc.previews {
        all.push_str(&p.raw);
    }
    for c in &doc.capture {
        all.push_str(c.detail.as_deref().unwrap_or(""));
    }
    assert_no_secret(&all, "redacted SessionDoc");
    let m = serde_json::to_string(&manifest).unwrap();
    assert_no_secret(&m, "manifest");
    assert!(
        !m.contains("[REDACTED:"),
        "the manifest holds no marker: {m}"
    );
    for place in [
        "title",
        "session_object",
        "revision:user.message",
        "preview:event_delta",
        "capture:error_frame",
        "event:session.error",
        "event:agent.tool_result",
    ] {
        assert!(
            manifest.places.get(place).is_some_and(|n| *n > 0),
            "{place}: {m}"
        );
    }
    assert_eq!(manifest.key, "random");
}

#[test]
fn preview_lists_every_planted_hit_without_the_secrets() {
    let dir = tempdir();
    let db = planted_db(dir.path());
    let mut args = vec![
        "redact",
        SESSION,
        "--preview",
        "--json",
        "--redact-key",
        "k1",
    ];
    args.extend_from_slice(USER_FLAGS);
    let o = run(&db, &args);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let out = stdout(&o);
    assert_no_secret(&out, "redact --preview --json");
    let v: Value = serde_json::from_str(&out).unwrap();
    let hits = v["hits"].as_array().unwrap();
    // Every planted secret is one hit at least; the markers are those of an export with the key.
    assert!(
        hits.len() >= PLANTED.len(),
        "{} hits for {} secrets",
        hits.len(),
        PLANTED.len()
    );
    let exported = stdout(&export(
        &db,
        &[
            "--redact",
            "--redact-key",
            "k1",
            USER_FLAGS[0],
            USER_FLAGS[1],
        ],
    ));
    let find = |kind: &str, path: &str| -> &Value {
        hits.iter()
            .find(|h| h["kind"] == kind && h["path"] == path)
            .unwrap_or_else(|| panic!("no {kind} hit at {path}: {out}"))
    };
    let h = find("event", "$.input.command");
    assert_eq!(h["id"], IDS[1]);
    assert_eq!(h["type"], "agent.tool_use");
    assert!(exported.contains(h["marker"].as_str().unwrap()));
    assert_eq!(
        find("event", "$.input.api_key")["rule"],
        "authorization-token-field"
    );
    assert_eq!(
        find("event", "$.error.message")["rule"],
        "aws-access-key-id"
    );
    assert_eq!(find("revision", "$.content[0].text")["rule"], "openai-key");
    assert_eq!(
        find("preview", "$.delta.content.text")["rule"],
        "anthropic-key"
    );
    assert_eq!(find("capture", "$.data")["rule"], "bearer");
    assert_eq!(
        find("session_object", "$.metadata.customer")["rule"],
        "field-1"
    );
    assert_eq!(
        find(
            "session_object",
            "$.agent.mcp_servers[0].authorization_token"
        )["rule"],
        "authorization-token-field"
    );
    assert_eq!(find("title", "$")["rule"], "github-token");
    let excerpt = find("event", "$.error.message")["excerpt"]
        .as_str()
        .unwrap();
    assert_eq!(excerpt, "AKIA… (20 chars)");
    assert!(v["manifest"]["masked"].as_u64().unwrap() >= PLANTED.len() as u64);

    // The table: one row per hit, then the totals, no secret.
    let mut args = vec!["redact", SESSION, "--preview"];
    args.extend_from_slice(USER_FLAGS);
    let o = run(&db, &args);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let table = stdout(&o);
    assert_no_secret(&table, "redact --preview");
    assert!(
        table
            .lines()
            .last()
            .unwrap()
            .starts_with(&format!("total: {} values in ", hits.len())),
        "{table}"
    );
    assert!(
        table.contains("$.input.command") && table.contains(IDS[1]),
        "{table}"
    );
}

#[test]
fn bad_rules_and_paths_are_one_line_errors() {
    let dir = tempdir();
    let db = planted_db(dir.path());
    for (args, expect) in [
        (
            vec!["export", SESSION, "--redact-rule", "(unclosed"],
            "--redact-rule \"(unclosed\": not a valid regex:",
        ),
        (
            vec!["export", SESSION, "--redact-field", "metadata.x"],
            "--redact-field \"metadata.x\": not a supported JSONPath: a path starts with `$`",
        ),
        (
            vec!["redact", SESSION, "--preview", "--redact-field", "$[abc]"],
            "--redact-field \"$[abc]\": not a supported JSONPath:",
        ),
        (
            vec!["redact", SESSION],
            "redact only previews: add --preview",
        ),
    ] {
        let o = run(&db, &args);
        assert_eq!(code(&o), 2, "{args:?}: {}", stderr(&o));
        let err = stderr(&o);
        assert_eq!(err.lines().count(), 1, "{err}");
        assert!(
            err.starts_with(&format!("flightrec: error: {expect}")),
            "{err}"
        );
        assert!(stdout(&o).is_empty());
    }
}

#[test]
fn redacting_a_clean_sample_changes_nothing() {
    let dir = tempdir();
    let db = dir.path().join("s.db");
    let file = samples_dir().join("happy-path.sesn_011CZhappyPath0000000001.jsonl");
    let o = run(&db, &["import", file.to_str().unwrap()]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let session = session_of(&file);
    let plain = run(&db, &["export", &session]);
    let red = run(&db, &["export", &session, "--redact"]);
    assert_eq!(stdout(&plain), stdout(&red));
    assert!(stderr(&red).contains("nothing matched"), "{}", stderr(&red));
}

/// `--redact` holds for every format: none of the planted secrets reaches any of them, while
/// the same export without it carries them (so each format does show the planted fields).
#[test]
fn every_format_with_redact_leaks_no_planted_secret() {
    let dir = tempfile::tempdir().unwrap();
    let db = planted_db(dir.path());
    for format in ["jsonl", "tape", "md", "html", "perfetto", "otlp"] {
        let plain = bin()
            .arg("--db")
            .arg(&db)
            .args(["export", SESSION, "--format", format])
            .output()
            .unwrap();
        assert_eq!(code(&plain), 0, "{format}: {}", stderr(&plain));
        let mut args = vec!["export", SESSION, "--format", format, "--redact"];
        args.extend_from_slice(USER_FLAGS);
        let o = bin().arg("--db").arg(&db).args(&args).output().unwrap();
        assert_eq!(code(&o), 0, "{format}: {}", stderr(&o));
        let text = stdout(&o);
        assert_no_secret(&text, format);
        assert_no_secret(&stderr(&o), format);
        // What the format shows of the planted fields is masked, not dropped.
        let plain_text = stdout(&plain);
        if PLANTED.iter().any(|p| plain_text.contains(p.secret)) {
            assert!(text.contains("[REDACTED:"), "{format}: no marker");
        }
    }
}
