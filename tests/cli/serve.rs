//! `flightrec serve`: the replay server over real HTTP on loopback, serving databases that the
//! real binary imported from the sample logs. Pages and frames are compared with `flightrec
//! export`, which writes the stored texts.

mod api;
mod chaos;
mod stream;

use reqwest::StatusCode;
use serde::Deserialize;
use serde_json::Value;
use serde_json::value::RawValue;
use std::path::{Path, PathBuf};
use std::time::Duration;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use tokio::time::Instant;

use crate::util::*;
use flightrec::export::jsonl::one_line;
use flightrec::serve::ServeOptions;

pub const HAPPY: &str = "sesn_011CZhappyPath0000000001";
pub const QUEUED: &str = "sesn_011CZqueuedEcho000000012";
pub const MULTI: &str = "sesn_011CZmultiAgent000000010";
pub const SHARED: &str = "sesn_011CZsharedTimestamp0001";

/// A server running in this test's runtime.
pub struct Server {
    pub base: String,
    stop: Option<oneshot::Sender<()>>,
    task: JoinHandle<Result<(), flightrec::serve::ServeError>>,
}

impl Server {
    pub async fn start(opts: ServeOptions) -> Server {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let (tx, rx) = oneshot::channel::<()>();
        let task = tokio::spawn(flightrec::serve::run(listener, opts, async {
            let _ = rx.await;
        }));
        Server {
            base,
            stop: Some(tx),
            task,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// Stops the server; it must finish promptly even with streams open.
    pub async fn stop(mut self) {
        let _ = self.stop.take().unwrap().send(());
        tokio::time::timeout(Duration::from_secs(5), self.task)
            .await
            .expect("the server did not stop")
            .unwrap()
            .unwrap();
    }
}

/// A database holding every sample log.
pub fn sample_db(dir: &Path) -> PathBuf {
    let db = dir.join("serve.db");
    import_samples(&db);
    db
}

/// Imports one file into `session`.
pub fn import(db: &Path, dir: &Path, name: &str, session: &str, text: &str) {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    let o = run(
        db,
        &["import", "--session", session, path.to_str().unwrap()],
    );
    assert_eq!(code(&o), 0, "{}", stderr(&o));
}

/// The stored texts of a session in order, as `flightrec export` writes them.
pub fn exported(db: &Path, session: &str) -> Vec<String> {
    let o = run(db, &["export", session]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    stdout(&o).lines().map(str::to_string).collect()
}

pub async fn get(url: &str) -> reqwest::Response {
    reqwest::get(url).await.unwrap()
}

#[derive(Deserialize)]
pub struct Page {
    pub data: Vec<Box<RawValue>>,
    pub next_page: Option<String>,
    #[serde(default)]
    pub prev_page: Option<String>,
}

impl Page {
    pub fn texts(&self) -> Vec<String> {
        self.data.iter().map(|r| r.get().to_string()).collect()
    }
}

pub async fn page(url: &str) -> Page {
    let res = get(url).await;
    assert_eq!(res.status(), StatusCode::OK, "{url}");
    serde_json::from_str(&res.text().await.unwrap()).unwrap()
}

/// Follows `next_page` as SDK 2.12.0 does; returns the texts and the number of requests.
pub async fn all_pages(url: &str) -> (Vec<String>, usize) {
    let sep = if url.contains('?') { '&' } else { '?' };
    let (mut texts, mut requests, mut cursor) = (Vec::new(), 0, None::<String>);
    loop {
        let u = match &cursor {
            Some(c) => format!("{url}{sep}page={c}"),
            None => url.to_string(),
        };
        let p = page(&u).await;
        requests += 1;
        texts.extend(p.texts());
        match p.next_page.filter(|c| !c.is_empty()) {
            Some(c) => cursor = Some(c),
            None => return (texts, requests),
        }
        assert!(requests < 10_000, "paging does not end");
    }
}

/// The texts on one line, as the export writes them.
pub fn lines(texts: &[String]) -> Vec<String> {
    texts.iter().map(|t| one_line(t).into_owned()).collect()
}

pub fn id_of(text: &str) -> String {
    let v: Value = serde_json::from_str(text).unwrap();
    v["id"].as_str().unwrap_or("").to_string()
}

/// One SSE frame as a client decodes it.
#[derive(Debug, Clone, PartialEq)]
pub struct Frame {
    pub event: String,
    pub data: String,
}

/// An open SSE response, decoded by hand (so split chunks and broken frames are visible).
pub struct Sse {
    res: reqwest::Response,
    buf: Vec<u8>,
    pub chunks: usize,
    pub ended: bool,
    last: Instant,
    pub max_gap: Duration,
}

impl Sse {
    pub async fn open(url: &str) -> Sse {
        let res = get(url).await;
        assert_eq!(res.status(), StatusCode::OK, "{url}");
        let ct = res.headers()["content-type"].to_str().unwrap().to_string();
        assert!(ct.starts_with("text/event-stream"), "{ct}");
        Sse {
            res,
            buf: Vec::new(),
            chunks: 0,
            ended: false,
            last: Instant::now(),
            max_gap: Duration::ZERO,
        }
    }

    /// The next frame, or `None` at the end of the stream or after `wait` without one.
    pub async fn next(&mut self, wait: Duration) -> Option<Frame> {
        let deadline = Instant::now() + wait;
        loop {
            if let Some(at) = self.buf.windows(2).position(|w| w == b"\n\n") {
                let raw: Vec<u8> = self.buf.drain(..at + 2).collect();
                let text = String::from_utf8(raw).expect("a frame is not UTF-8");
                let (mut event, mut data) = (String::new(), Vec::new());
                for line in text.lines() {
                    if let Some(v) = line.strip_prefix("event: ") {
                        event = v.to_string();
                    } else if let Some(v) = line.strip_prefix("data: ") {
                        data.push(v);
                    }
                }
                let data = data.join("\n");
                return Some(Frame { event, data });
            }
            if self.ended {
                return None;
            }
            match tokio::time::timeout_at(deadline, self.res.chunk()).await {
                Err(_) => return None,
                Ok(Ok(Some(bytes))) => {
                    self.max_gap = self.max_gap.max(self.last.elapsed());
                    self.last = Instant::now();
                    self.chunks += 1;
                    self.buf.extend_from_slice(&bytes);
                }
                Ok(_) => self.ended = true,
            }
        }
    }

    /// The next `n` frames that are not pings (fewer if the stream ends or `wait` runs out).
    pub async fn events(&mut self, n: usize, wait: Duration) -> Vec<Frame> {
        let deadline = Instant::now() + wait;
        let mut out = Vec::new();
        while out.len() < n {
            match self
                .next(deadline.saturating_duration_since(Instant::now()))
                .await
            {
                Some(f) if f.event == "ping" => continue,
                Some(f) => out.push(f),
                None => break,
            }
        }
        out
    }
}

pub fn datas(frames: &[Frame]) -> Vec<String> {
    frames.iter().map(|f| f.data.clone()).collect()
}

/// A pretty-printed page (texts span lines) whose middle two events share a `processed_at`,
/// written two ways.
pub const SHARED_PAGE: &str = r#"{
  "data": [
    {
      "type": "user.message",
      "id": "sevt_011CZshared0000000000001",
      "processed_at": "2026-08-07T10:00:00.000Z",
      "content": [{"type": "text", "text": "héllo ✓"}]
    },
    {"type": "session.status_running", "id": "sevt_011CZshared0000000000002", "processed_at": "2026-08-07T10:00:01.500Z"},
    {"type": "span.model_request_start", "id": "sevt_011CZshared0000000000003", "processed_at": "2026-08-07T10:00:01.5Z"},
    {"type": "session.status_idle", "id": "sevt_011CZshared0000000000004", "processed_at": "2026-08-07T10:00:02.000Z", "stop_reason": {"type": "end_turn"}, "stop_details": null}
  ],
  "next_page": null
}"#;

pub fn opts(db: &Path) -> ServeOptions {
    ServeOptions::new(db.to_path_buf())
}
