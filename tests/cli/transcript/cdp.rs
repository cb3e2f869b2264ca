//! Just enough of the Chrome DevTools protocol to list every request a page makes: Chromium
//! headless with a debugging port, one WebSocket to its page, `Network.requestWillBeSent` events
//! collected while the page loads and for a while after. Unlike a proxy, this sees only the
//! page's own requests (the browser's background traffic to its services is not the page's),
//! and it sees requests of every scheme, blocked ones included.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use tungstenite::stream::MaybeTlsStream;
use tungstenite::{Message, WebSocket};

use super::chromium::chromium;
use crate::util::tempdir;

/// What a page did: every URL it requested (its own address included), and the value of
/// `document.body.dataset.ready` after it loaded (the page's script sets it when it has run).
pub struct PageLoad {
    pub requests: Vec<String>,
    pub ready: String,
}

struct Browser(Child);

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The port Chromium wrote to `DevToolsActivePort` in its profile.
fn debugging_port(profile: &Path) -> u16 {
    let file = profile.join("DevToolsActivePort");
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if let Ok(text) = std::fs::read_to_string(&file)
            && let Some(port) = text.lines().next().and_then(|l| l.trim().parse().ok())
        {
            return port;
        }
        assert!(
            Instant::now() < deadline,
            "chromium opened no debugging port"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// `GET path` on the debugging port, the body as JSON. Chromium keeps the connection open
/// whatever the request says, so the body is read by its length.
fn get_json(port: u16, path: &str) -> Value {
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    write!(s, "GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n").unwrap();
    let mut data = Vec::new();
    let mut buf = [0u8; 8192];
    loop {
        let n = s.read(&mut buf).unwrap();
        assert!(n > 0, "{path}: the connection closed early");
        data.extend_from_slice(&buf[..n]);
        let text = String::from_utf8_lossy(&data);
        let Some((head, body)) = text.split_once("\r\n\r\n") else {
            continue;
        };
        let length: usize = head
            .lines()
            .find_map(|l| {
                let (k, v) = l.split_once(':')?;
                k.eq_ignore_ascii_case("content-length")
                    .then(|| v.trim().parse().ok())?
            })
            .unwrap_or_else(|| panic!("{path}: no Content-Length: {head}"));
        if body.len() >= length {
            return serde_json::from_str(&body[..length])
                .unwrap_or_else(|e| panic!("{path}: {e}: {body}"));
        }
    }
}

struct Session {
    ws: WebSocket<MaybeTlsStream<TcpStream>>,
    next_id: u64,
    /// Every event received, in order.
    events: Vec<Value>,
}

impl Session {
    fn send(&mut self, method: &str, params: Value) -> u64 {
        self.next_id += 1;
        let msg = json!({"id": self.next_id, "method": method, "params": params});
        self.ws.send(Message::text(msg.to_string())).unwrap();
        self.next_id
    }

    /// The next message, or `None` after the read timeout.
    fn read(&mut self) -> Option<Value> {
        match self.ws.read() {
            Ok(Message::Text(t)) => Some(serde_json::from_str(t.as_str()).unwrap()),
            Ok(_) => None,
            Err(tungstenite::Error::Io(e))
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) =>
            {
                None
            }
            Err(e) => panic!("devtools connection: {e}"),
        }
    }

    /// The result of command `id`, keeping the events that arrive meanwhile.
    fn result(&mut self, id: u64) -> Value {
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline {
            if let Some(m) = self.read() {
                if m["id"] == id {
                    return m["result"].clone();
                }
                self.events.push(m);
            }
        }
        panic!("no answer to devtools command {id}");
    }
}

/// Loads `url` in a fresh headless Chromium and reports what it requested.
pub fn load(url: &str) -> PageLoad {
    let profile = tempdir();
    let _browser = Browser(
        Command::new(chromium())
            .args([
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--remote-debugging-port=0",
            ])
            .arg(format!("--user-data-dir={}", profile.path().display()))
            .arg("about:blank")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let port = debugging_port(profile.path());
    let targets = get_json(port, "/json/list");
    let page = targets
        .as_array()
        .and_then(|t| t.iter().find(|t| t["type"] == "page"))
        .unwrap_or_else(|| panic!("no page target: {targets}"));
    let ws_url = page["webSocketDebuggerUrl"].as_str().unwrap().to_string();
    let (ws, _) = tungstenite::connect(ws_url.as_str()).unwrap();
    if let MaybeTlsStream::Plain(s) = ws.get_ref() {
        s.set_read_timeout(Some(Duration::from_millis(100)))
            .unwrap();
    }
    let mut s = Session {
        ws,
        next_id: 0,
        events: Vec::new(),
    };
    let id = s.send("Network.enable", json!({}));
    s.result(id);
    let id = s.send("Page.enable", json!({}));
    s.result(id);
    let id = s.send("Page.navigate", json!({ "url": url }));
    s.result(id);
    // Until the load event, then a second and a half more for anything a script starts late.
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut quiet_after: Option<Instant> = None;
    while quiet_after.is_none_or(|q| Instant::now() < q) {
        assert!(Instant::now() < deadline, "{url} did not load");
        if let Some(m) = s.read() {
            if m["method"] == "Page.loadEventFired" {
                quiet_after = Some(Instant::now() + Duration::from_millis(1500));
            }
            s.events.push(m);
        }
    }
    let id = s.send(
        "Runtime.evaluate",
        json!({"expression": "document.body.dataset.ready || ''", "returnByValue": true}),
    );
    let ready = s.result(id)["result"]["value"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let requests = s
        .events
        .iter()
        .filter(|e| e["method"] == "Network.requestWillBeSent")
        .filter_map(|e| e["params"]["request"]["url"].as_str().map(str::to_string))
        .collect();
    PageLoad { requests, ready }
}

/// The requests of `load` that are not the page itself or data in it.
pub fn outside(load: &PageLoad, page_url: &str) -> Vec<String> {
    let page = page_url.split('#').next().unwrap_or(page_url);
    load.requests
        .iter()
        .filter(|u| u.split('#').next() != Some(page) && !u.starts_with("data:"))
        .cloned()
        .collect()
}
