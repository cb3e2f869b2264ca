//! The matrix's follower: one SSE client of `serve`'s session stream, on its own thread, keeping
//! every frame it receives.

use eventsource_stream::Eventsource;
use futures_util::StreamExt;
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// (event name, data) of every frame but pings, in arrival order.
pub type Frames = Vec<(String, String)>;

pub struct Follower {
    frames: Arc<Mutex<Frames>>,
    stop: Arc<AtomicBool>,
    failure: Arc<Mutex<Option<String>>>,
    thread: std::thread::JoinHandle<()>,
}

impl Follower {
    /// Connects to `GET {url}/v1/sessions/{session}/events/stream` and reads until [`finish`].
    pub fn start(url: &str, session: &str) -> Follower {
        let url = format!("{url}/v1/sessions/{session}/events/stream");
        let frames = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let failure = Arc::new(Mutex::new(None));
        let (f, s, e) = (Arc::clone(&frames), Arc::clone(&stop), Arc::clone(&failure));
        let thread = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            if let Err(why) = rt.block_on(follow(&url, &f, &s)) {
                *e.lock().unwrap() = Some(why);
            }
        });
        Follower {
            frames,
            stop,
            failure,
            thread,
        }
    }

    /// Waits until `n` frames have arrived, or `timeout` passes (the caller's checks then say
    /// what is missing), or the stream failed.
    pub fn wait_for(&self, n: usize, timeout: Duration) {
        let deadline = Instant::now() + timeout;
        while self.frames.lock().unwrap().len() < n
            && Instant::now() < deadline
            && self.failure.lock().unwrap().is_none()
        {
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Stops reading; every frame received.
    pub fn finish(self) -> Frames {
        self.stop.store(true, Ordering::Relaxed);
        self.thread.join().unwrap();
        if let Some(why) = self.failure.lock().unwrap().take() {
            panic!("the follower failed: {why}");
        }
        std::mem::take(&mut *self.frames.lock().unwrap())
    }
}

async fn follow(url: &str, frames: &Mutex<Frames>, stop: &AtomicBool) -> Result<(), String> {
    let res = reqwest::Client::new()
        .get(url)
        .send()
        .await
        .map_err(|e| e.to_string())?;
    if !res.status().is_success() {
        return Err(format!("{url}: {}", res.status()));
    }
    let mut events = res.bytes_stream().eventsource();
    while !stop.load(Ordering::Relaxed) {
        let next = tokio::time::timeout(Duration::from_millis(100), events.next()).await;
        match next {
            Err(_) => continue,
            Ok(None) => return Err("the stream ended".into()),
            Ok(Some(Err(e))) => return Err(e.to_string()),
            Ok(Some(Ok(ev))) if ev.event == "ping" => {}
            Ok(Some(Ok(ev))) if ev.event == "error" => return Err(ev.data),
            Ok(Some(Ok(ev))) => frames.lock().unwrap().push((ev.event, ev.data)),
        }
    }
    Ok(())
}

/// Every stored event (id, type, raw) arrived once, as stored, and nothing else did. A row
/// replaced by a newer copy while followed is sent again (as the API re-emits a processed echo):
/// then the last copy is the stored one and no copy repeats the one before it.
pub fn assert_each_once(got: &Frames, stored: &[(String, String, String)]) {
    let mut seen: HashMap<(String, &str), Vec<&str>> = HashMap::new();
    for (name, data) in got {
        let v: serde_json::Value = serde_json::from_str(data)
            .unwrap_or_else(|e| panic!("the follower got a frame that is not JSON ({e}): {data}"));
        let id = v["id"].as_str().unwrap_or_default().to_string();
        seen.entry((id, name.as_str())).or_default().push(data);
    }
    let mut missing = Vec::new();
    for (id, ty, raw) in stored {
        match seen.remove(&(id.clone(), ty.as_str())) {
            None => missing.push(id.as_str()),
            Some(copies) => {
                assert!(
                    copies.windows(2).all(|w| w[0] != w[1]),
                    "{id} ({ty}) followed {} times: {copies:#?}",
                    copies.len()
                );
                assert_eq!(
                    copies.last().copied(),
                    Some(raw.as_str()),
                    "{id} ({ty}) followed with other bytes"
                );
            }
        }
    }
    assert!(
        missing.is_empty(),
        "the follower missed {} of {} events, the first: {:?}",
        missing.len(),
        stored.len(),
        &missing[..missing.len().min(5)]
    );
    assert!(
        seen.is_empty(),
        "the follower got events not stored: {:?}",
        seen.keys().take(5).collect::<Vec<_>>()
    );
}
