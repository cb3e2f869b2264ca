//! The stream reader: one task per connection, frames to the writer, and the reason it ended.

use futures_util::StreamExt;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use super::writer::Msg;
use crate::model::capture::ErrorFrameDetail;
use crate::model::time::now;
use crate::source::api::FrameStream;

/// Why a stream connection ended by itself (the recorder stopping one is not among these).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EndCause {
    /// The server closed the stream.
    Closed,
    /// An `event: error` frame (its data kept in the capture log).
    ErrorFrame(String),
    /// The watchdog, a transport error or bad bytes.
    Broken(String),
    /// The writer is gone: its channel closed under the reader.
    WriterGone,
}

impl std::fmt::Display for EndCause {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            EndCause::Closed => f.write_str("closed by the server"),
            EndCause::ErrorFrame(d) => {
                write!(f, "error frame: {}", crate::model::text::excerpt(d, 200))
            }
            EndCause::Broken(why) => f.write_str(why),
            EndCause::WriterGone => f.write_str("recorder stopping"),
        }
    }
}

/// Frames delivered (events and previews; not pings) on one connection so far.
pub type Delivered = Arc<AtomicU64>;

/// Reads `stream` until it ends, sending every frame to the writer.
pub fn spawn(
    mut stream: FrameStream,
    tx: mpsc::Sender<Msg>,
    thread_id: String,
    connection: u64,
) -> (JoinHandle<EndCause>, Delivered) {
    let delivered: Delivered = Arc::new(AtomicU64::new(0));
    let count = delivered.clone();
    let handle = tokio::spawn(async move {
        while let Some(frame) = stream.next().await {
            let frame = match frame {
                Ok(f) => f,
                Err(e) => return EndCause::Broken(e.to_string()),
            };
            let arrived = Instant::now();
            if frame.name == "error" {
                let detail = ErrorFrameDetail::Stream {
                    connection,
                    data: frame.data.clone(),
                };
                let msg = Msg::capture(thread_id.clone(), now(), None, detail);
                let _ = tx.send(msg).await;
                return EndCause::ErrorFrame(frame.data);
            }
            if frame.name != "ping" {
                count.fetch_add(1, Ordering::Relaxed);
            }
            let msg = Msg::Frame {
                thread_id: thread_id.clone(),
                connection,
                frame,
                received_at: now(),
                arrived,
            };
            if tx.send(msg).await.is_err() {
                return EndCause::WriterGone;
            }
        }
        EndCause::Closed
    });
    (handle, delivered)
}
