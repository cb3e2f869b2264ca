//! `watch --webhook-listen`: Anthropic's webhooks (Standard Webhooks signatures) received on
//! loopback by the real binary, watching a `flightrec serve` of the sample sessions. Deliveries
//! are signed in the test (hermetic) and by the reference Python library `standardwebhooks`
//! (PyPI, in a venv this test makes).

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, Mac};

use crate::util::*;

pub const KEY: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
pub const WRONG_KEY: &str = "whsec_d3Jvbmcta2V5LXdyb25nLWtleQ==";
/// Idle at the end of its log: a history pass records it and ends.
const IDLED: &str = "sesn_011CZhappyPath0000000001";
/// Also idle at the end: recording it (`session.created`) ends at once.
const CREATED: &str = "sesn_011CZrefusal000000000013";
/// Named only by a delivery of an unknown type: nothing may try to record it.
const IGNORED: &str = "sesn_011CZnotRecordedByWebhook";

/// A `watch --webhook-listen 127.0.0.1:0` of `api` into `db`, its stdout lines as they come.
struct Watcher {
    child: Child,
    addr: String,
    lines: mpsc::Receiver<String>,
    seen: Vec<String>,
}

fn watch(db: &Path, api: &str) -> Watcher {
    let mut cmd = bin();
    cmd.arg("--db")
        .arg(db)
        .args([
            "watch",
            "--poll",
            "1h",
            "--idle-timeout",
            "3s",
            "--base-url",
            api,
        ])
        .args(["--webhook-listen", "127.0.0.1:0"])
        .env("ANTHROPIC_WEBHOOK_SIGNING_KEY", KEY);
    let (child, lines) = crate::util::spawn_lines(cmd);
    let first = lines.recv_timeout(Duration::from_secs(20)).unwrap();
    let url = first
        .strip_prefix("webhooks: listening on http://")
        .unwrap_or_else(|| panic!("{first}"));
    let addr = url.strip_suffix("/webhooks/anthropic").unwrap().to_string();
    Watcher {
        child,
        addr,
        lines,
        seen: Vec::new(),
    }
}

impl Watcher {
    fn url(&self) -> String {
        format!("http://{}/webhooks/anthropic", self.addr)
    }

    /// The first line starting with `prefix`, waiting up to 20 s.
    fn wait_for(&mut self, prefix: &str) -> Option<String> {
        if let Some(l) = self.seen.iter().find(|l| l.starts_with(prefix)) {
            return Some(l.clone());
        }
        let end = Instant::now() + Duration::from_secs(20);
        while let Some(left) = end.checked_duration_since(Instant::now()) {
            let line = self.lines.recv_timeout(left).ok()?;
            self.seen.push(line.clone());
            if line.starts_with(prefix) {
                return Some(line);
            }
        }
        None
    }

    /// SIGTERM, then every line printed and the exit code.
    fn stop(mut self) -> (Vec<String>, i32, String) {
        let pid = self.child.id().to_string();
        assert!(
            Command::new("kill")
                .args(["-TERM", &pid])
                .status()
                .unwrap()
                .success()
        );
        let o = self.child.wait_with_output().unwrap();
        self.seen.extend(self.lines.try_iter());
        (self.seen, code(&o), stderr(&o))
    }
}

fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

/// `v1,<base64>` as the standard defines it, written here apart from the code under test.
fn sign(key: &str, msg_id: &str, ts: i64, body: &[u8]) -> String {
    let key = STANDARD
        .decode(key.strip_prefix("whsec_").unwrap())
        .unwrap();
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(&key).unwrap();
    mac.update(format!("{msg_id}.{ts}.").as_bytes());
    mac.update(body);
    format!("v1,{}", STANDARD.encode(mac.finalize().into_bytes()))
}

pub fn body(id: &str, data_type: &str, data_id: &str) -> String {
    format!(
        r#"{{"type":"event","id":"{id}","created_at":"2026-12-01T10:00:00Z","data":{{"type":"{data_type}","id":"{data_id}","organization_id":"org_1","workspace_id":"wrkspc_1"}}}}"#
    )
}

/// POSTs `body` with `headers` over a raw connection; the response's status code.
fn post(addr: &str, headers: &[(&str, String)], body: &[u8]) -> u16 {
    let mut s = std::net::TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let mut req = format!(
        "POST /webhooks/anthropic HTTP/1.1\r\nhost: {addr}\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n",
        body.len()
    );
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    req.push_str("\r\n");
    let mut bytes = req.into_bytes();
    bytes.extend_from_slice(body);
    // A refused large body may be cut off mid-write: the answer is read all the same.
    let _ = s.write_all(&bytes);
    let mut got = Vec::new();
    let _ = s.read_to_end(&mut got);
    let text = String::from_utf8_lossy(&got);
    text.split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or_else(|| panic!("no status line: {text:?}"))
}

/// POSTs a delivery signed with `key`, `age` seconds old.
pub fn deliver(addr: &str, key: &str, msg_id: &str, age: i64, body: &str) -> u16 {
    let ts = now() - age;
    let headers = [
        ("webhook-id", msg_id.to_string()),
        ("webhook-timestamp", ts.to_string()),
        ("webhook-signature", sign(key, msg_id, ts, body.as_bytes())),
    ];
    post(addr, &headers, body.as_bytes())
}

/// (id, data.type, data.id, repeats, body) of every stored delivery, by id.
fn stored(db: &Path) -> Vec<(String, String, String, i64, Vec<u8>)> {
    let c = rusqlite::Connection::open(db).unwrap();
    let mut st = c
        .prepare("SELECT id, data_type, data_id, repeats, body FROM webhooks ORDER BY id")
        .unwrap();
    st.query_map([], |r| {
        Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
    })
    .unwrap()
    .map(Result::unwrap)
    .collect()
}

fn refusals(db: &Path) -> Vec<(String, i64)> {
    let c = rusqlite::Connection::open(db).unwrap();
    let mut st = c
        .prepare("SELECT reason, count FROM webhook_refusals ORDER BY reason")
        .unwrap();
    st.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect()
}

pub fn source(dir: &Path) -> PathBuf {
    let db = dir.join("source.db");
    import_samples(&db);
    db
}

#[test]
fn webhook_deliveries_are_verified_stored_once_and_start_recordings() {
    let dir = tempdir();
    let (mut server, api) = crate::record::serve_process(&source(dir.path()), &[]);
    let db = dir.path().join("watched.db");
    let mut w = watch(&db, &api);
    let a = &w.addr.clone();

    let idled = body("wevt_1", "session.idled", IDLED);
    assert_eq!(deliver(a, KEY, "msg_1", 0, &idled), 204, "valid");
    assert_eq!(deliver(a, KEY, "msg_1", 0, &idled), 204, "repeat");
    let created = body("wevt_2", "session.created", CREATED);
    assert_eq!(deliver(a, KEY, "msg_2", 0, &created), 204);
    let unknown = body("wevt_3", "widget.spun_up", IGNORED);
    assert_eq!(deliver(a, KEY, "msg_3", 0, &unknown), 204, "unknown type");
    // Refused: forged, stale, ahead, unsigned, a signature of other bytes.
    let forged = body("wevt_4", "session.created", IGNORED);
    assert_eq!(deliver(a, WRONG_KEY, "msg_4", 0, &forged), 401);
    assert_eq!(deliver(a, KEY, "msg_4", 360, &forged), 401, "6 minutes old");
    assert_eq!(
        deliver(a, KEY, "msg_4", -360, &forged),
        401,
        "6 minutes ahead"
    );
    assert_eq!(post(a, &[], forged.as_bytes()), 401, "unsigned");
    let ts = now();
    let other = [
        ("webhook-id", "msg_4".to_string()),
        ("webhook-timestamp", ts.to_string()),
        ("webhook-signature", sign(KEY, "msg_4", ts, b"{}")),
    ];
    assert_eq!(
        post(a, &other, forged.as_bytes()),
        401,
        "signature of another body"
    );
    // Verified but not the payload; too large.
    assert_eq!(deliver(a, KEY, "msg_5", 0, r#"{"type":"event"}"#), 400);
    let big = format!("{{\"pad\":\"{}\"}}", "x".repeat(100_000));
    assert_eq!(deliver(a, KEY, "msg_6", 0, &big), 413);

    // session.idled: a history pass of a session nothing recorded; session.created: recorded.
    let idled_line = w.wait_for(&format!("{IDLED}: "));
    let created_line = w.wait_for(&format!("{CREATED}: "));
    let (lines, code, err) = w.stop();
    server.kill().unwrap();
    assert_eq!(code, 0, "{err}");
    assert!(
        idled_line.is_some_and(|l| l.contains("new events")),
        "{lines:?}"
    );
    assert!(created_line.is_some(), "{lines:?}");
    assert!(!lines.iter().any(|l| l.contains(IGNORED)), "{lines:?}");
    assert!(!crate::serve::exported(&db, IDLED).is_empty());

    let rows = stored(&db);
    let got: Vec<(&str, &str, i64)> = rows
        .iter()
        .map(|(id, t, _, r, _)| (id.as_str(), t.as_str(), *r))
        .collect();
    assert_eq!(
        got,
        [
            ("wevt_1", "session.idled", 1),
            ("wevt_2", "session.created", 0),
            ("wevt_3", "widget.spun_up", 0)
        ]
    );
    assert_eq!(rows[0].4, idled.as_bytes(), "the body as received");
    assert_eq!(
        refusals(&db),
        [
            ("bad_payload".to_string(), 1),
            ("bad_signature".to_string(), 2),
            ("future".to_string(), 1),
            ("missing_header".to_string(), 1),
            ("stale".to_string(), 1),
            ("too_large".to_string(), 1),
        ]
    );
}

#[test]
fn watch_with_webhooks_refuses_to_start_without_a_signing_key() {
    let dir = tempdir();
    let db = dir.path().join("w.db");
    for key in ["", "whsec_not base64!"] {
        let o = bin()
            .arg("--db")
            .arg(&db)
            .args(["watch", "--base-url", "http://127.0.0.1:9"])
            .args(["--webhook-listen", "127.0.0.1:0"])
            .env("ANTHROPIC_WEBHOOK_SIGNING_KEY", key)
            .output()
            .unwrap();
        assert_eq!(code(&o), 2, "{}", stderr(&o));
        let err = stderr(&o);
        assert_eq!(err.lines().count(), 1, "{err}");
        assert!(err.contains("ANTHROPIC_WEBHOOK_SIGNING_KEY"), "{err}");
        assert!(!err.contains("not base64!"), "the key is not echoed: {err}");
    }
}

const STANDARDWEBHOOKS: &str = "standardwebhooks==1.3.0";

/// A venv with the reference library, made once per target directory.
pub(crate) fn venv() -> PathBuf {
    let venv = Path::new(env!("CARGO_TARGET_TMPDIR")).join("standardwebhooks-venv");
    let python = venv.join("bin/python");
    let marker = venv.join(".flightrec-ok");
    if !marker.exists() {
        let o = Command::new("python3")
            .args(["-m", "venv"])
            .arg(&venv)
            .output()
            .unwrap();
        assert!(o.status.success(), "python3 -m venv: {}", stderr(&o));
        let o = Command::new(&python)
            .args(["-m", "pip", "install", "-q", STANDARDWEBHOOKS])
            .output()
            .unwrap();
        assert!(o.status.success(), "pip install: {}", stderr(&o));
        std::fs::write(&marker, STANDARDWEBHOOKS).unwrap();
    }
    python
}

#[test]
fn deliveries_signed_by_the_python_standardwebhooks_library_are_verified() {
    if !tier_takes("the standardwebhooks library from PyPI") {
        return;
    }
    let python = venv();
    let dir = tempdir();
    let (mut server, api) = crate::record::serve_process(&source(dir.path()), &[]);
    let db = dir.path().join("watched.db");
    let mut w = watch(&db, &api);
    let d = |msg: &str, key: &str, age: i64, body: String| serde_json::json!({"msg_id": msg, "key": key, "age": age, "body": body});
    let deliveries = serde_json::json!([
        d("msg_a", KEY, 0, body("wevt_a", "session.idled", IDLED)),
        // Repeated: accepted, stored once.
        d("msg_a", KEY, 0, body("wevt_a", "session.idled", IDLED)),
        // Out of order: the newer first, then the older; both kept.
        d("msg_c", KEY, 5, body("wevt_c", "session.updated", IDLED)),
        d("msg_b", KEY, 60, body("wevt_b", "session.pending", IDLED)),
        // Late but within 5 minutes.
        d(
            "msg_d",
            KEY,
            240,
            body("wevt_d", "session.created", CREATED)
        ),
        // Forged (another key), stale (6 minutes old).
        d(
            "msg_e",
            WRONG_KEY,
            0,
            body("wevt_e", "session.created", IGNORED)
        ),
        d(
            "msg_f",
            KEY,
            360,
            body("wevt_f", "session.created", IGNORED)
        ),
        // Unknown data.type: accepted, stored, no reaction.
        d(
            "msg_g",
            KEY,
            0,
            body("wevt_g", "session.grew_wings", IGNORED)
        ),
    ]);
    let mut child = Command::new(&python)
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/webhooks/send_signed.py"))
        .arg(w.url())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(deliveries.to_string().as_bytes())
        .unwrap();
    let o = child.wait_with_output().unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    let statuses: Vec<&str> = std::str::from_utf8(&o.stdout).unwrap().lines().collect();
    assert_eq!(
        statuses,
        ["204", "204", "204", "204", "204", "401", "401", "204"]
    );
    let idled = w.wait_for(&format!("{IDLED}: "));
    let created = w.wait_for(&format!("{CREATED}: "));
    let (lines, code, err) = w.stop();
    server.kill().unwrap();
    assert_eq!(code, 0, "{err}");
    assert!(idled.is_some() && created.is_some(), "{lines:?}");
    assert!(!lines.iter().any(|l| l.contains(IGNORED)), "{lines:?}");
    let ids: Vec<(String, i64)> = stored(&db)
        .into_iter()
        .map(|(id, _, _, repeats, _)| (id, repeats))
        .collect();
    let want = ["wevt_a", "wevt_b", "wevt_c", "wevt_d", "wevt_g"];
    assert_eq!(
        ids.iter().map(|(i, _)| i.as_str()).collect::<Vec<_>>(),
        want
    );
    assert_eq!(ids[0].1, 1, "the repeat counted");
    assert_eq!(
        refusals(&db),
        [("bad_signature".to_string(), 1), ("stale".to_string(), 1)]
    );
}
