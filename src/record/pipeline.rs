//! The reading side of an import, on a thread of its own: it reads the input, parses each
//! event's envelope and compresses its text (the work the writer would otherwise do between two
//! inserts), and hands the writer owned items in order. The writer (`record/import.rs`) stores
//! them as they come; a dictionary the compressor trains goes to the writer first, which writes
//! it in its transaction (before any row that uses it) and puts its id in front of the frames
//! made with it: the reading side goes on without waiting for the id (a wait that lasted until
//! the writer had stored everything queued before it).
//!
//! What is stored is what a single thread would store: the same items in the same order, the
//! same frames (the compressor starts from the database's dictionaries and trains on the same
//! samples the writer's own encoder would).

use std::collections::VecDeque;
use std::io::BufRead;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, Sender, SyncSender, sync_channel};

use crate::model::Envelope;
use crate::model::envelope::Detached;
use crate::record::{FollowEnd, Follower};
use crate::source::{self, Format, Item, Origin, ReadError};
use crate::store::{Compressed, Compressor, DictionaryRow, Prepared, Settled};

/// Items per message: a channel operation per event would cost more than its insert.
const CHUNK: usize = 256;
/// A message's text, at most (past it, the chunk goes at once): with [`IN_FLIGHT`], what the
/// reading side runs ahead is bounded by bytes too, whatever the events' sizes.
const CHUNK_BYTES: usize = 1 << 20;
/// Messages in flight: bounds what the reading side runs ahead (at most this many chunks, and
/// 32 MiB of text). While the writer commits a second's inserts (about 0.1 s) the reading side
/// works ahead until this many chunks wait (about 30 ms of its work at 32; 8 was about 8 ms);
/// a 300k-event import took 7–10 % longer at 8. Deeper queues measured no better (64).
const IN_FLIGHT: usize = 32;

/// An item read, owned (the reader's buffers are reused), with what was made ready for it.
pub(super) enum Owned {
    Event {
        origin: Origin,
        frame_name: Option<String>,
        text: String,
        ready: Option<Ready>,
    },
    ThreadEvent {
        origin: Origin,
        thread_id: String,
        text: String,
        ready: Option<Ready>,
    },
    Bad {
        origin: Origin,
        raw: Vec<u8>,
        reason: String,
    },
    ThreadObject {
        origin: Origin,
        text: String,
    },
    Ping {
        origin: Origin,
    },
    ErrorFrame {
        origin: Origin,
        data: String,
    },
}

/// An event's envelope (without its text) and its text compressed for storing.
pub(super) struct Ready {
    pub(super) envelope: Detached,
    pub(super) compressed: Option<Compressed>,
}

impl Owned {
    /// About how much memory it holds (its text).
    fn size(&self) -> usize {
        match self {
            Owned::Event { text, .. }
            | Owned::ThreadEvent { text, .. }
            | Owned::ThreadObject { text, .. } => 2 * text.len(),
            Owned::Bad { raw, .. } => raw.len(),
            Owned::ErrorFrame { data, .. } => data.len(),
            Owned::Ping { .. } => 0,
        }
    }

    /// The item as the reader gave it, and what is ready for it.
    pub(super) fn item(&self) -> (Item<'_>, Option<&Ready>) {
        match self {
            Owned::Event {
                origin,
                frame_name,
                text,
                ready,
            } => (
                Item::Event {
                    origin: origin.clone(),
                    frame_name: frame_name.as_deref(),
                    text,
                },
                ready.as_ref(),
            ),
            Owned::ThreadEvent {
                origin,
                thread_id,
                text,
                ready,
            } => (
                Item::ThreadEvent {
                    origin: origin.clone(),
                    thread_id,
                    text,
                },
                ready.as_ref(),
            ),
            Owned::Bad {
                origin,
                raw,
                reason,
            } => (
                Item::Bad {
                    origin: origin.clone(),
                    raw,
                    reason: reason.clone(),
                },
                None,
            ),
            Owned::ThreadObject { origin, text } => (
                Item::ThreadObject {
                    origin: origin.clone(),
                    text: text.as_str().into(),
                },
                None,
            ),
            Owned::Ping { origin } => (
                Item::Ping {
                    origin: origin.clone(),
                },
                None,
            ),
            Owned::ErrorFrame { origin, data } => (
                Item::ErrorFrame {
                    origin: origin.clone(),
                    data,
                },
                None,
            ),
        }
    }
}

/// What the reading side sends the writer.
pub(super) enum Msg {
    Items(Vec<Owned>),
    /// A dictionary to write, numbered in the order they come (see [`Compressed::Unnumbered`]).
    Dictionary(DictionaryRow),
}

/// The writer hung up (it failed, and says why itself).
#[derive(Debug)]
pub(super) struct Gone;

/// The reading side's ends: where its messages go, and where the writer gives back the chunks
/// it stored, to be freed (or reused) here: freeing a chunk's texts is work the reading side
/// has time for, and the writer does not.
pub(super) struct Sending {
    tx: SyncSender<Msg>,
    spent: Receiver<Vec<Owned>>,
}

/// The writer's ends.
pub(super) struct Receiving {
    rx: Receiver<Msg>,
    spent: Sender<Vec<Owned>>,
}

impl Receiving {
    /// Where chunks done with go back to the reading side, for another thread to give them.
    pub(super) fn spent(&self) -> Sender<Vec<Owned>> {
        self.spent.clone()
    }

    /// The next message; `None` once the reading side is done.
    pub(super) fn recv(&self) -> Option<Msg> {
        self.rx.recv().ok()
    }

    /// Gives back a chunk the writer is done with.
    pub(super) fn give_back(&self, chunk: Vec<Owned>) {
        // The reading side is gone: the chunk is freed here.
        let _ = self.spent.send(chunk);
    }
}

impl Sending {
    /// An empty chunk: a given-back one, emptied, when there is one (any others are freed).
    fn fresh_chunk(&self) -> Vec<Owned> {
        let mut reused: Option<Vec<Owned>> = None;
        while let Ok(mut chunk) = self.spent.try_recv() {
            chunk.clear();
            reused.get_or_insert(chunk);
        }
        reused.unwrap_or_else(|| Vec::with_capacity(CHUNK))
    }
}

/// Starts the channel.
pub(super) fn channel() -> (Sending, Receiving) {
    let (tx, rx) = sync_channel(IN_FLIGHT);
    let (spent_tx, spent) = std::sync::mpsc::channel();
    (
        Sending { tx, spent },
        Receiving {
            rx,
            spent: spent_tx,
        },
    )
}

/// Frees a block of [`TRIM_BLOCK`] bytes just allocated. With glibc's allocator, freeing a block
/// that large (allocated apart, by `mmap`) raises the thresholds past which it allocates apart
/// and gives freed memory back to the system to that size (see mallopt(3), "dynamic
/// threshold"): dictionary training then reuses the pages of its 4 MiB tables, where it had
/// them given back after each training and faulted in again at the next.
fn raise_trim_threshold() {
    let block: Vec<u8> = Vec::with_capacity(TRIM_BLOCK);
    drop(std::hint::black_box(block));
}

/// See [`raise_trim_threshold`].
const TRIM_BLOCK: usize = 16 << 20;

/// Reads `input` to the end (or until the writer hangs up), sending owned, ready items; gives
/// the compressor back for the next input. `read_bytes` counts what was read, for the writer's
/// progress.
pub(super) fn read_side<R: BufRead + Unpin>(
    input: R,
    mut compressor: Compressor,
    sending: Sending,
    read_bytes: &AtomicU64,
) -> Result<(Format, Compressor), ReadError<Gone>> {
    raise_trim_threshold();
    let mut out = Out::new(&sending);
    let mut pos = 0u64;
    let mut on_bytes = |n: u64| {
        read_bytes.fetch_add(n, Ordering::Relaxed);
    };
    let format = source::read_events(
        input,
        &mut |item| {
            let (owned, held) = own(item, &mut compressor, &mut pos);
            out.push(Staged {
                owned,
                held,
                dictionary: None,
            });
            // Trainings done are taken back at once; too much held back, the reading waits.
            while compressor.first_done() || (compressor.training() && out.over()) {
                out.settle(&mut compressor);
            }
            out.send_ready()
        },
        &mut on_bytes,
    )?;
    while compressor.training() {
        out.settle(&mut compressor);
    }
    out.send_ready().map_err(ReadError::Sink)?;
    out.finish().map_err(ReadError::Sink)?;
    Ok((format, compressor))
}

/// Items held back at most, and their bytes: past either, the reading side waits for the
/// earliest training. Trainings take 9–15 ms each, a few at once at the start of an import;
/// the reading side reads about 2,000 events in 8 ms.
const STAGED_ITEMS: usize = 8 * CHUNK;
const STAGED_BYTES: usize = 32 << 20;

/// An item read and not sent yet.
struct Staged {
    owned: Owned,
    /// Waiting for its type's dictionary ([`Prepared::Held`]): its position among the input's
    /// texts, and whether it started the training.
    held: Option<Held>,
    /// A dictionary to hand the writer just before this item: the one its training made, when
    /// it started it (the writer alone would have written it there).
    dictionary: Option<DictionaryRow>,
}

#[derive(Clone, Copy)]
struct Held {
    pos: u64,
    trigger: bool,
}

/// The reading side's output: the chunk being filled, and the items behind a held text.
struct Out<'s> {
    sending: &'s Sending,
    chunk: Vec<Owned>,
    chunk_bytes: usize,
    staged: VecDeque<Staged>,
    staged_bytes: usize,
}

impl<'s> Out<'s> {
    fn new(sending: &'s Sending) -> Out<'s> {
        Out {
            sending,
            chunk: Vec::with_capacity(CHUNK),
            chunk_bytes: 0,
            staged: VecDeque::new(),
            staged_bytes: 0,
        }
    }

    fn push(&mut self, s: Staged) {
        self.staged_bytes += s.owned.size();
        self.staged.push_back(s);
    }

    /// Whether too much waits behind a held text.
    fn over(&self) -> bool {
        self.staged.len() > STAGED_ITEMS || self.staged_bytes > STAGED_BYTES
    }

    /// Takes back the earliest training and releases the texts that waited for it, in order.
    fn settle(&mut self, compressor: &mut Compressor) {
        let Some(Settled { ty, mut dictionary }) = compressor.settle_first() else {
            return;
        };
        for s in self.staged.iter_mut() {
            let Some(held) = s.held else { continue };
            let (text, ready) = match &mut s.owned {
                Owned::Event {
                    text,
                    ready: Some(r),
                    ..
                }
                | Owned::ThreadEvent {
                    text,
                    ready: Some(r),
                    ..
                } => (text.as_str(), r),
                _ => continue,
            };
            if held_type(ready, text) != ty {
                continue;
            }
            if held.trigger {
                s.dictionary = dictionary.take();
            }
            match compressor.release(&ty, text, held.pos, held.trigger) {
                Prepared::Done(c) => {
                    ready.compressed = Some(c);
                    s.held = None;
                }
                Prepared::Held { trigger } => {
                    s.held = Some(Held {
                        pos: held.pos,
                        trigger,
                    });
                }
            }
        }
    }

    /// Sends what is no longer held back: in order, each dictionary just before the item it
    /// came with.
    fn send_ready(&mut self) -> Result<(), Gone> {
        while self.staged.front().is_some_and(|s| s.held.is_none()) {
            let Some(s) = self.staged.pop_front() else {
                break;
            };
            let size = s.owned.size();
            self.staged_bytes -= size;
            if let Some(d) = s.dictionary {
                // Rows already read go first: the dictionary is written after them, and before
                // the rows that use it. Nothing waits for its id: the writer puts it in front
                // of their frames.
                self.send_chunk()?;
                self.sending.tx.send(Msg::Dictionary(d)).map_err(|_| Gone)?;
            }
            self.chunk_bytes += size;
            self.chunk.push(s.owned);
            if self.chunk.len() >= CHUNK || self.chunk_bytes >= CHUNK_BYTES {
                self.send_chunk()?;
            }
        }
        Ok(())
    }

    fn send_chunk(&mut self) -> Result<(), Gone> {
        if self.chunk.is_empty() {
            return Ok(());
        }
        self.chunk_bytes = 0;
        let chunk = std::mem::replace(&mut self.chunk, self.sending.fresh_chunk());
        self.sending.tx.send(Msg::Items(chunk)).map_err(|_| Gone)
    }

    /// Sends the last chunk; everything must have been released.
    fn finish(mut self) -> Result<(), Gone> {
        debug_assert!(self.staged.is_empty(), "an item is still held");
        self.send_chunk()
    }
}

/// The type of a held event.
fn held_type<'t>(ready: &'t Ready, text: &'t str) -> std::borrow::Cow<'t, str> {
    ready.envelope.with_raw(text).event_type
}

/// The owned copy of `item`, its event parsed and compressed (or held for its type's
/// dictionary: see [`Compressor::prepare`]). `pos` counts the texts given the compressor.
fn own(item: Item<'_>, compressor: &mut Compressor, pos: &mut u64) -> (Owned, Option<Held>) {
    let mut held = None;
    let mut ready = |text: &str, frame_name: Option<&str>| -> Option<Ready> {
        let env = Envelope::parse(text, frame_name).ok()?;
        // Session and thread objects, and previews, are stored apart (not compressed here).
        let stored_apart =
            env.event_type == "session" || env.event_type == "session_thread" || env.is_preview();
        let compressed = if stored_apart {
            None
        } else {
            *pos += 1;
            match compressor.prepare(&env.event_type, text, *pos) {
                Prepared::Done(c) => Some(c),
                Prepared::Held { trigger } => {
                    held = Some(Held { pos: *pos, trigger });
                    None
                }
            }
        };
        Some(Ready {
            envelope: env.detach(text),
            compressed,
        })
    };
    let owned = match item {
        Item::Event {
            origin,
            frame_name,
            text,
        } => Owned::Event {
            ready: ready(text, frame_name),
            origin,
            frame_name: frame_name.map(String::from),
            text: text.to_string(),
        },
        Item::ThreadEvent {
            origin,
            thread_id,
            text,
        } => Owned::ThreadEvent {
            ready: ready(text, None),
            origin,
            thread_id: thread_id.to_string(),
            text: text.to_string(),
        },
        Item::Bad {
            origin,
            raw,
            reason,
        } => Owned::Bad {
            origin,
            raw: raw.to_vec(),
            reason,
        },
        Item::ThreadObject { origin, text } => Owned::ThreadObject {
            origin,
            text: text.into_owned(),
        },
        Item::Ping { origin } => Owned::Ping { origin },
        Item::ErrorFrame { origin, data } => Owned::ErrorFrame {
            origin,
            data: data.to_string(),
        },
    };
    (owned, held)
}

/// A stored chunk for the follower: the items, the seq of each event to hand it (`None`: not
/// one of the session's events, or not new), and the session.
pub(super) struct Stored {
    items: Vec<Owned>,
    seqs: Vec<Option<i64>>,
    session: String,
}

/// What the writer sends the follower: stored chunks, then, if the session was followed to its
/// end, what the writer read of it before its last commit.
pub(super) enum ToFollower {
    Chunk(Stored),
    End(FollowEnd),
}

/// The writer's end of the channel to the follower.
pub(super) struct FollowSender(SyncSender<ToFollower>);

impl FollowSender {
    /// Sends a stored chunk; the follower gone, gives the items back.
    pub(super) fn send(
        &self,
        items: Vec<Owned>,
        seqs: Vec<Option<i64>>,
        session: String,
    ) -> Result<(), Vec<Owned>> {
        self.0
            .send(ToFollower::Chunk(Stored {
                items,
                seqs,
                session,
            }))
            .map_err(|e| match e.0 {
                ToFollower::Chunk(c) => c.items,
                ToFollower::End(_) => Vec::new(),
            })
    }

    /// Every event is stored: tells the follower so, and hangs up.
    pub(super) fn end(self, end: FollowEnd) {
        // The follower gone, there is no one to tell.
        let _ = self.0.send(ToFollower::End(end));
    }
}

/// The channel from the writer to the follower.
pub(super) fn follow_channel() -> (FollowSender, Receiver<ToFollower>) {
    let (tx, rx) = sync_channel(IN_FLIGHT);
    (FollowSender(tx), rx)
}

/// The follower's side: hands `follower` each event the writer stored, in order, then gives the
/// chunk back to the reading side; then the end, if the writer sends it. `file_thread`: the
/// thread of the input's plain events.
pub(super) fn follow_side(
    chunks: Receiver<ToFollower>,
    follower: &mut dyn Follower,
    file_thread: &str,
    spent: Sender<Vec<Owned>>,
) {
    for msg in chunks {
        let c = match msg {
            ToFollower::Chunk(c) => c,
            ToFollower::End(end) => {
                follower.stored_all(&end);
                continue;
            }
        };
        for (owned, seq) in c.items.iter().zip(&c.seqs) {
            let Some(seq) = *seq else { continue };
            let (envelope, thread_id) = match owned {
                Owned::Event {
                    text,
                    ready: Some(r),
                    ..
                } => (r.envelope.with_raw(text), file_thread),
                Owned::ThreadEvent {
                    thread_id,
                    text,
                    ready: Some(r),
                    ..
                } => (r.envelope.with_raw(text), thread_id.as_str()),
                _ => continue,
            };
            follower.written(&crate::store::Written {
                session_id: &c.session,
                thread_id,
                seq,
                envelope: &envelope,
            });
        }
        // The reading side is gone: the chunk is freed here.
        let _ = spent.send(c.items);
    }
}
