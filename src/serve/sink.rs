//! The bytes of one SSE connection: frames, pings while idle, and the chaos options, applied at
//! the byte level. The response body is fed from a bounded channel, so a slow client slows us
//! down; the connection ends when the client goes, the server stops, or chaos drops it.

use bytes::Bytes;
use std::time::Duration;
use tokio::sync::{mpsc, watch};
use tokio::time::{Instant, sleep, sleep_until};

use super::Chaos;

/// Why a connection ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ended {
    /// The client went away.
    Client,
    /// `drop_every` ended it.
    Dropped,
    /// The server is shutting down.
    Shutdown,
}

const PING: &str = "event: ping\ndata: {\"type\":\"ping\"}\n\n";
/// A frame cut short: an `agent.message` whose JSON stops inside its id.
pub const BROKEN: &str =
    "event: agent.message\ndata: {\"type\":\"agent.message\",\"id\":\"sevt_br\n\n";
/// Pause between the pieces of a split frame, so they leave as separate writes.
const SPLIT_GAP: Duration = Duration::from_millis(2);

/// One SSE frame: `event: NAME`, one `data:` line per line of the text, a blank line.
pub fn frame(name: &str, data: &str) -> String {
    let mut out = String::with_capacity(data.len() + name.len() + 16);
    out.push_str("event: ");
    out.push_str(&name.replace(['\r', '\n'], " "));
    out.push('\n');
    for line in data.replace("\r\n", "\n").split(['\r', '\n']) {
        out.push_str("data: ");
        out.push_str(line);
        out.push('\n');
    }
    out.push('\n');
    out
}

pub struct Sink {
    tx: mpsc::Sender<Bytes>,
    stop: watch::Receiver<bool>,
    chaos: Chaos,
    rng: fastrand::Rng,
    ping_interval: Duration,
    last_write: Instant,
    events: u64,
    /// After which event the one stall of this connection comes.
    stall_after: Option<u64>,
}

impl Sink {
    pub fn new(
        tx: mpsc::Sender<Bytes>,
        stop: watch::Receiver<bool>,
        chaos: Chaos,
        seed: u64,
        ping_interval: Duration,
    ) -> Sink {
        let mut rng = fastrand::Rng::with_seed(seed);
        let stall_after = chaos.stall.map(|_| rng.u64(1..=3));
        Sink {
            tx,
            stop,
            chaos,
            rng,
            ping_interval: ping_interval.max(Duration::from_millis(10)),
            last_write: Instant::now(),
            events: 0,
            stall_after,
        }
    }

    /// Sends one event frame, with whatever chaos is due around it.
    pub async fn event(&mut self, name: &str, raw: &str) -> Result<(), Ended> {
        let n = self.events + 1;
        let every = |k: Option<u64>| k.is_some_and(|k| k > 0 && n.is_multiple_of(k));
        if every(self.chaos.malformed_every) {
            self.write(Bytes::from_static(BROKEN.as_bytes())).await?;
        }
        let bytes = Bytes::from(frame(name, raw));
        self.write(bytes.clone()).await?;
        self.events = n;
        if every(self.chaos.repeat_every) {
            self.write(bytes).await?;
        }
        if let Some(d) = self.chaos.stall
            && self.stall_after == Some(n)
        {
            self.pause(d).await?;
        }
        if every(self.chaos.drop_every) {
            return Err(Ended::Dropped);
        }
        Ok(())
    }

    /// Sends a frame that is not an event (a preview, an error): no event chaos.
    pub async fn other(&mut self, name: &str, raw: &str) -> Result<(), Ended> {
        self.write(Bytes::from(frame(name, raw))).await
    }

    /// Waits until `deadline` (forever when `None`), pinging whenever the connection has been
    /// quiet for the ping interval.
    pub async fn idle_until(&mut self, deadline: Option<Instant>) -> Result<(), Ended> {
        loop {
            let ping_at = self.last_write + self.ping_interval;
            let wake = deadline.map_or(ping_at, |d| d.min(ping_at));
            tokio::select! {
                _ = sleep_until(wake) => {}
                _ = self.tx.closed() => return Err(Ended::Client),
                _ = self.stop.wait_for(|s| *s) => return Err(Ended::Shutdown),
            }
            let now = Instant::now();
            if now >= ping_at {
                self.write(Bytes::from_static(PING.as_bytes())).await?;
            }
            if deadline.is_some_and(|d| now >= d) {
                return Ok(());
            }
        }
    }

    /// Sends nothing at all for `d`.
    async fn pause(&mut self, d: Duration) -> Result<(), Ended> {
        tokio::select! {
            _ = sleep(d) => Ok(()),
            _ = self.tx.closed() => Err(Ended::Client),
            _ = self.stop.wait_for(|s| *s) => Err(Ended::Shutdown),
        }
    }

    /// Writes bytes whole, or with `split` in pieces cut at random offsets (inside UTF-8
    /// characters too), each sent on its own.
    async fn write(&mut self, bytes: Bytes) -> Result<(), Ended> {
        let mut pieces = vec![bytes.clone()];
        if self.chaos.split && bytes.len() > 1 {
            let mut cuts: Vec<usize> = (0..self.rng.usize(1..=3))
                .map(|_| self.rng.usize(1..bytes.len()))
                .collect();
            cuts.sort_unstable();
            cuts.dedup();
            let mut start = 0;
            pieces.clear();
            for cut in cuts.into_iter().chain([bytes.len()]) {
                pieces.push(bytes.slice(start..cut));
                start = cut;
            }
        }
        let count = pieces.len();
        for (i, piece) in pieces.into_iter().enumerate() {
            tokio::select! {
                sent = self.tx.send(piece) => sent.map_err(|_| Ended::Client)?,
                _ = self.stop.wait_for(|s| *s) => return Err(Ended::Shutdown),
            }
            if i + 1 < count {
                self.pause(SPLIT_GAP).await?;
            }
        }
        self.last_write = Instant::now();
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_put_each_line_on_its_own_data_line() {
        assert_eq!(
            frame("a.b", r#"{"x":1}"#),
            "event: a.b\ndata: {\"x\":1}\n\n"
        );
        assert_eq!(
            frame("a", "{\r\n \"x\": 1\n}"),
            "event: a\ndata: {\ndata:  \"x\": 1\ndata: }\n\n"
        );
    }

    #[tokio::test]
    async fn chaos_repeats_breaks_and_drops() {
        let (tx, mut rx) = mpsc::channel(64);
        let (_stop_tx, stop) = watch::channel(false);
        let chaos = Chaos {
            repeat_every: Some(2),
            malformed_every: Some(3),
            drop_every: Some(3),
            ..Chaos::default()
        };
        let mut sink = Sink::new(tx, stop, chaos, 1, Duration::from_secs(60));
        assert_eq!(sink.event("e", "1").await, Ok(()));
        assert_eq!(sink.event("e", "2").await, Ok(()));
        assert_eq!(sink.event("e", "3").await, Err(Ended::Dropped));
        drop(sink);
        let mut got = String::new();
        while let Some(b) = rx.recv().await {
            got.push_str(std::str::from_utf8(&b).unwrap());
        }
        let f = |d: &str| frame("e", d);
        assert_eq!(
            got,
            [f("1"), f("2"), f("2"), BROKEN.to_string(), f("3")].concat()
        );
    }

    #[tokio::test]
    async fn split_frames_reassemble() {
        let (tx, mut rx) = mpsc::channel(64);
        let (_stop_tx, stop) = watch::channel(false);
        let chaos = Chaos {
            split: true,
            ..Chaos::default()
        };
        let mut sink = Sink::new(tx, stop, chaos, 7, Duration::from_secs(60));
        for _ in 0..5 {
            sink.event("e", "{\"t\":\"héllo wörld ✓\"}").await.unwrap();
        }
        drop(sink);
        let (mut chunks, mut all) = (0, Vec::new());
        while let Some(b) = rx.recv().await {
            chunks += 1;
            all.extend_from_slice(&b);
        }
        assert!(chunks > 5, "{chunks} chunks");
        assert_eq!(
            String::from_utf8(all).unwrap(),
            frame("e", "{\"t\":\"héllo wörld ✓\"}").repeat(5)
        );
    }
}
