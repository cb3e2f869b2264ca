//! Compression away from the writer, on an import's reading thread: the same frames the writer
//! would make (the same levels, dictionaries and training), handed to
//! [`crate::store::WriteBatch::upsert_compressed`].
//!
//! A dictionary it trains is written by the writer (in its transaction, before any row that uses
//! it), which numbers it: the compressor uses it at once, without waiting for the number, and the
//! writer puts the number in front of its frames ([`Compressed::Unnumbered`]);
//! [`Compressor::numbered`] gives it the numbers.
//!
//! Training a dictionary takes 9–15 ms whatever the samples (most of it zstd's fixed cost), and
//! the first ones come within an import's first few thousand events, while the writer has nothing
//! else to do. So [`Compressor::prepare`] trains on a helper thread (`store/training.rs`): the
//! texts of a type in training are held ([`Prepared::Held`]) while the others go on, and
//! [`Compressor::settle_first`] takes the trainings back in the order of the texts that started
//! them, which is the order the writer alone would have trained them in. A held text, released
//! ([`Compressor::release`]), is then compressed exactly as the writer alone would have: the rows
//! stored do not depend on how long a training took.

use std::sync::Arc;

use rusqlite::Connection;

use super::codec::{self, DictionaryRow, Frame, Frames, Samples};
use super::training::{Job, Trainer};

/// See the module's documentation.
pub struct Compressor {
    frames: Frames,
    /// Dictionaries trained and not numbered yet, in the order they were handed to the writer.
    unnumbered: usize,
    /// Trainings under way, earliest starting text first.
    trainings: Vec<Training>,
    trainer: Trainer,
}

/// A dictionary in training, and the position of the text that started it.
struct Training {
    pos: u64,
    job: Arc<Job>,
}

/// An event's text as it is to be stored: its own text, or a compressed frame.
pub enum Compressed {
    /// Stored as received (short, or it would not get smaller).
    Text,
    Blob(Vec<u8>),
    /// A frame made with the `k`th dictionary the compressor handed the writer since it was
    /// last numbered: the writer stores that dictionary's id and the frame (or the text, when
    /// the id makes it no shorter).
    Unnumbered(usize, Vec<u8>),
}

/// What [`Compressor::prepare`] made of a text.
pub enum Prepared {
    Done(Compressed),
    /// Its type's dictionary is in training: the text waits for [`Compressor::release`], and so
    /// does every row after it. `trigger`: this text started the training (the writer alone
    /// would have trained on its arrival).
    Held {
        trigger: bool,
    },
}

/// A training taken back ([`Compressor::settle_first`]): the type whose held texts can now be
/// released, and the dictionary to hand the writer just before the text that started it (none:
/// the samples taught nothing, and the type collects samples again).
pub struct Settled {
    pub ty: String,
    pub dictionary: Option<DictionaryRow>,
}

impl Compressor {
    /// A compressor knowing the dictionaries `conn`'s database has (the first of each type, as
    /// the writer's encoder picks them).
    pub(super) fn from_database(conn: &Connection) -> rusqlite::Result<Compressor> {
        let mut frames = Frames::new();
        let mut s = conn.prepare("SELECT id, type, dict FROM zstd_dicts ORDER BY id")?;
        let mut rows = s.query([])?;
        while let Some(r) = rows.next()? {
            let id: i64 = r.get(0)?;
            let ty: String = r.get(1)?;
            frames.adopt(&ty, id, r.get_ref(2)?.as_blob()?);
        }
        Ok(Compressor {
            frames,
            unnumbered: 0,
            trainings: Vec::new(),
            trainer: Trainer::default(),
        })
    }

    /// The frame for `text` of type `ty`, the `pos`th text of the input (positions only grow),
    /// or [`Prepared::Held`] while its type's dictionary is in training. The
    /// 256th sample of a type (`TRAIN_SAMPLES`) starts its training.
    pub fn prepare(&mut self, ty: &str, text: &str, pos: u64) -> Prepared {
        if text.len() >= codec::MIN_LEN && self.trainings.iter().any(|t| t.job.ty() == ty) {
            return Prepared::Held { trigger: false };
        }
        if self.frames.wants_sample(ty, text)
            && let Some(samples) = self.frames.add_sample(ty, text)
        {
            self.start(ty, samples, pos);
            return Prepared::Held { trigger: true };
        }
        Prepared::Done(self.frame(ty, text))
    }

    /// A text held for `ty`'s training, once [`Compressor::settle_first`] settled it, in the
    /// order the texts came: the one that started the training is compressed with its
    /// dictionary, or without one (the writer alone would have tried and gone on); the others
    /// as they would have been at their arrival (they may start a new training).
    pub fn release(&mut self, ty: &str, text: &str, pos: u64, trigger: bool) -> Prepared {
        if trigger {
            Prepared::Done(self.frame(ty, text))
        } else {
            self.prepare(ty, text, pos)
        }
    }

    /// Whether a training is under way.
    pub fn training(&self) -> bool {
        !self.trainings.is_empty()
    }

    /// Whether the earliest training is done (settling it will not wait).
    pub fn first_done(&self) -> bool {
        self.trainings.first().is_some_and(|t| t.job.is_done())
    }

    /// Takes back the earliest training (waiting for it), uses its dictionary from now on, and
    /// says which type's texts to release; `None` when none is under way.
    pub fn settle_first(&mut self) -> Option<Settled> {
        if self.trainings.is_empty() {
            return None;
        }
        let t = self.trainings.remove(0);
        let trained = self
            .trainer
            .finish(&t.job, self.trainings.iter().map(|t| &*t.job));
        let dictionary = trained.map(|trained| {
            let row = trained.row.clone();
            let k = self.unnumbered;
            self.unnumbered += 1;
            self.frames.install(trained, -(k as i64) - 1);
            row
        });
        Some(Settled {
            ty: t.job.ty().to_string(),
            dictionary,
        })
    }

    /// The ids the writer gave the dictionaries handed to it since the last call, in order
    /// (what [`crate::store::WriteBatch::add_dictionary`] returned): the compressor uses them
    /// from now on. Those it has no id for are dropped (their type trains again). Every
    /// training must be settled first.
    pub fn numbered(&mut self, ids: &[i64]) {
        debug_assert!(self.trainings.is_empty(), "a training is not settled");
        self.frames
            .by_type
            .retain(|_, (id, _)| match codec::provisional(*id) {
                Some(k) => match ids.get(k) {
                    Some(&real) => {
                        *id = real;
                        true
                    }
                    None => false,
                },
                None => true,
            });
        self.unnumbered = 0;
    }

    /// Starts training `ty`'s dictionary, in its place among the trainings under way.
    fn start(&mut self, ty: &str, samples: Samples, pos: u64) {
        let job = self.trainer.start(ty, samples);
        let at = self.trainings.partition_point(|t| t.pos < pos);
        self.trainings.insert(at, Training { pos, job });
    }

    /// What to store for `text`, with its type's dictionary if it has one.
    fn frame(&mut self, ty: &str, text: &str) -> Compressed {
        match self.frames.compress(ty, text) {
            Frame::Text => Compressed::Text,
            Frame::Blob(b) => Compressed::Blob(b.to_vec()),
            Frame::Unnumbered(k, f) => Compressed::Unnumbered(k, f.to_vec()),
        }
    }
}

#[cfg(test)]
#[path = "compressor_tests.rs"]
mod tests;
