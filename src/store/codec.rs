//! Event text at rest (migration 0012): zstd, with a dictionary trained per event type and kept
//! in the database (`zstd_dicts`).
//!
//! A stored `raw` (events, event_revisions, previews) is either TEXT, the event as received (short
//! events, events that do not get smaller, and every row written before this migration), or a
//! BLOB: the dictionary's id as a LEB128 varint (0: no dictionary) and one zstd frame, without
//! dictionary id or checksum, with its content size. Decoding gives back the exact text.
//!
//! The writer collects samples of each type that has no dictionary yet and trains one when it
//! has [`TRAIN_SAMPLES`]; the dictionary row is written in the same transaction as the rows that
//! use it, so a rollback takes both away (and [`Encoder::rolled_back`] forgets it). Rows written
//! before their type had a dictionary are compressed without one (or stay text).
//!
//! An import compresses on its reading thread ([`super::Compressor`]): the same samples train the same
//! dictionaries there, and the writer numbers each one as it writes it
//! ([`super::Compressed::Unnumbered`]), so the stored rows are those the writer alone would store.
//!
//! SQL reads the text through the function `event_text(raw)`, registered on every connection
//! ([`register`]); the scans decode in Rust ([`Dictionaries::decode`]) into a reused buffer.

use rusqlite::functions::FunctionFlags;
use rusqlite::types::{ToSqlOutput, Value, ValueRef};
use rusqlite::{Connection, OpenFlags, ToSql, params};
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, RwLock};
use zstd::zstd_safe::{CCtx, CDict, CParameter, DCtx, DDict};

/// zstd's level for event text: its fastest. With a dictionary it stores the 300k-event synthetic
/// session within 1 % of the default level's (3) size, in about half the compression time.
const LEVEL: i32 = 1;
/// Text shorter than this stays text: a frame's header would eat what it saves.
pub(super) const MIN_LEN: usize = 64;
/// Samples of one type before its dictionary is trained.
pub(super) const TRAIN_SAMPLES: usize = 256;
/// How much of each sample trains (long tool results teach nothing more past their start). At
/// 1 KiB, training takes a fifth of the time it took at 4 KiB, for a database 0.2 % larger
/// (the 300k-event synthetic session).
const SAMPLE_PREFIX: usize = 1024;
/// The largest dictionary.
const DICT_BYTES: usize = 16 * 1024;
/// The largest text a stored frame may claim to hold (a corrupt header must not allocate more).
const MAX_TEXT: u64 = 1 << 31;

/// Why a stored row cannot be decoded.
#[derive(Debug, thiserror::Error)]
pub enum CodecError {
    #[error("stored event text is damaged: {0}")]
    Damaged(&'static str),
    #[error("stored event text uses dictionary {0}, which the database does not have")]
    NoDictionary(i64),
    #[error("reading dictionary {0}: {1}")]
    Read(i64, rusqlite::Error),
}

/// The dictionaries for decoding, by id, shared by a connection and its `event_text` function.
/// Loaded on first use; one that is missing (written by another connection since) is looked up
/// on a connection of its own, so the SQL function needs no access to the one calling it.
pub(super) struct Dictionaries {
    by_id: RwLock<HashMap<i64, Arc<DDict<'static>>>>,
    /// How to open the database again (path or URI, flags) to load a missing dictionary.
    reopen: (PathBuf, OpenFlags),
}

impl Dictionaries {
    pub(super) fn new(path: PathBuf, flags: OpenFlags) -> Dictionaries {
        Dictionaries {
            by_id: RwLock::new(HashMap::new()),
            reopen: (path, flags),
        }
    }

    fn cached(&self, id: i64) -> Option<Arc<DDict<'static>>> {
        self.by_id.read().ok().and_then(|m| m.get(&id).cloned())
    }

    fn insert(&self, id: i64, dict: &[u8]) -> Option<Arc<DDict<'static>>> {
        let d = Arc::new(DDict::try_create(dict)?);
        if let Ok(mut m) = self.by_id.write() {
            m.insert(id, d.clone());
        }
        Some(d)
    }

    /// Forgets dictionaries a rolled-back transaction had added (their ids may be reused).
    pub(super) fn forget(&self, ids: &[i64]) {
        if let Ok(mut m) = self.by_id.write() {
            for id in ids {
                m.remove(id);
            }
        }
    }

    /// Dictionary `id`, from the cache, else from `conn`, else from a new connection.
    fn get(&self, conn: Option<&Connection>, id: i64) -> Result<Arc<DDict<'static>>, CodecError> {
        if let Some(d) = self.cached(id) {
            return Ok(d);
        }
        let read = |c: &Connection| -> rusqlite::Result<Option<Vec<u8>>> {
            let mut s = c.prepare("SELECT dict FROM zstd_dicts WHERE id = ?1")?;
            let mut rows = s.query([id])?;
            Ok(match rows.next()? {
                Some(r) => Some(r.get(0)?),
                None => None,
            })
        };
        let bytes = match conn {
            Some(c) => read(c),
            None => {
                Connection::open_with_flags(&self.reopen.0, self.reopen.1).and_then(|c| read(&c))
            }
        }
        .map_err(|e| CodecError::Read(id, e))?
        .ok_or(CodecError::NoDictionary(id))?;
        self.insert(id, &bytes)
            .ok_or(CodecError::Damaged("a dictionary zstd cannot load"))
    }

    /// The text of a stored BLOB, into `out` (cleared first).
    pub(super) fn decode<'o>(
        &self,
        conn: Option<&Connection>,
        blob: &[u8],
        out: &'o mut Vec<u8>,
    ) -> Result<&'o str, CodecError> {
        let (id, frame) = varint(blob).ok_or(CodecError::Damaged("a bad header"))?;
        let size = zstd::zstd_safe::get_frame_content_size(frame)
            .ok()
            .flatten()
            .filter(|n| *n <= MAX_TEXT)
            .ok_or(CodecError::Damaged("a bad frame header"))?;
        out.clear();
        out.reserve(usize::try_from(size).unwrap_or(0));
        let dict = if id == 0 {
            None
        } else {
            Some(self.get(conn, id)?)
        };
        let done = DCTX.with(|d| {
            let mut dctx = d.borrow_mut();
            match &dict {
                Some(dict) => dctx.decompress_using_ddict(out, frame, dict),
                None => dctx.decompress(out, frame),
            }
        });
        if done.is_err() || out.len() as u64 != size {
            return Err(CodecError::Damaged("a frame that does not decompress"));
        }
        std::str::from_utf8(out).map_err(|_| CodecError::Damaged("text that is not UTF-8"))
    }

    /// The text of a stored value: TEXT as it is, a BLOB decoded into `buf`.
    pub(super) fn text<'v>(
        &self,
        conn: Option<&Connection>,
        value: ValueRef<'v>,
        buf: &'v mut Vec<u8>,
    ) -> Result<Option<&'v str>, CodecError> {
        match value {
            ValueRef::Text(t) => std::str::from_utf8(t)
                .map(Some)
                .map_err(|_| CodecError::Damaged("text that is not UTF-8")),
            ValueRef::Blob(b) => self.decode(conn, b, buf).map(Some),
            _ => Ok(None),
        }
    }
}

thread_local! {
    static DCTX: std::cell::RefCell<DCtx<'static>> = std::cell::RefCell::new(DCtx::create());
}

fn varint(b: &[u8]) -> Option<(i64, &[u8])> {
    let mut v: u64 = 0;
    for (i, byte) in b.iter().enumerate().take(9) {
        v |= u64::from(byte & 0x7f) << (7 * i);
        if byte & 0x80 == 0 {
            return Some((i64::try_from(v).ok()?, &b[i + 1..]));
        }
    }
    None
}

fn put_varint(out: &mut Vec<u8>, mut v: u64) {
    loop {
        let byte = (v & 0x7f) as u8;
        v >>= 7;
        if v == 0 {
            out.push(byte);
            return;
        }
        out.push(byte | 0x80);
    }
}

/// Registers `event_text(raw)` on `conn`: the text of a stored raw value (NULL stays NULL).
pub(super) fn register(conn: &Connection, dicts: Arc<Dictionaries>) -> rusqlite::Result<()> {
    conn.create_scalar_function(
        "event_text",
        1,
        FunctionFlags::SQLITE_UTF8 | FunctionFlags::SQLITE_DETERMINISTIC,
        move |ctx| {
            let mut buf = Vec::new();
            let text = dicts
                .text(None, ctx.get_raw(0), &mut buf)
                .map_err(|e| rusqlite::Error::UserFunctionError(Box::new(e)))?;
            Ok(match text {
                Some(t) => Value::Text(t.to_string()),
                None => Value::Null,
            })
        },
    )
}

/// A raw value to store: the text, or its encoding.
pub(super) enum Stored<'a> {
    Text(&'a str),
    Blob(&'a [u8]),
}

impl ToSql for Stored<'_> {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(ToSqlOutput::Borrowed(match self {
            Stored::Text(t) => ValueRef::Text(t.as_bytes()),
            Stored::Blob(b) => ValueRef::Blob(b),
        }))
    }
}

/// Samples of one type, collected for its dictionary.
pub(super) struct Samples {
    bytes: Vec<u8>,
    sizes: Vec<usize>,
}

/// A dictionary just trained, before the database gave it an id.
pub(super) struct Trained {
    pub(super) row: DictionaryRow,
    cdict: CDict<'static>,
}

/// What the database keeps of a trained dictionary (`zstd_dicts`).
#[derive(Clone)]
pub struct DictionaryRow {
    pub(super) ty: String,
    pub(super) dict: Vec<u8>,
    samples: usize,
}

/// What the writer's [`Encoder`] and a detached [`super::Compressor`] share: a compression context,
/// each type's dictionary and samples of the types without one.
pub(super) struct Frames {
    cctx: CCtx<'static>,
    pub(super) by_type: HashMap<String, (i64, CDict<'static>)>,
    samples: HashMap<String, Samples>,
    buf: Vec<u8>,
    frame: Vec<u8>,
}

impl Frames {
    pub(super) fn new() -> Frames {
        let mut cctx = CCtx::create();
        // Parameters zstd accepts at any level: the errors cannot happen.
        let _ = cctx.set_parameter(CParameter::CompressionLevel(LEVEL));
        let _ = cctx.set_parameter(CParameter::ContentSizeFlag(true));
        let _ = cctx.set_parameter(CParameter::ChecksumFlag(false));
        let _ = cctx.set_parameter(CParameter::DictIdFlag(false));
        Frames {
            cctx,
            by_type: HashMap::new(),
            samples: HashMap::new(),
            buf: Vec::new(),
            frame: Vec::new(),
        }
    }

    /// Takes dictionary `id` for `ty` unless the type has one; whether it did.
    pub(super) fn adopt(&mut self, ty: &str, id: i64, dict: &[u8]) -> bool {
        if self.by_type.contains_key(ty) {
            return false;
        }
        match CDict::try_create(dict, LEVEL) {
            Some(c) => {
                self.samples.remove(ty);
                self.by_type.insert(ty.to_string(), (id, c));
                true
            }
            None => false,
        }
    }

    /// Whether `text` of type `ty` is a sample to collect (its type has no dictionary yet).
    pub(super) fn wants_sample(&self, ty: &str, text: &str) -> bool {
        text.len() >= MIN_LEN && !self.by_type.contains_key(ty)
    }

    /// Keeps a sample of `ty`; with enough of them, the dictionary they train (or none, when
    /// there is too little to learn from: the type then goes without).
    pub(super) fn sample(&mut self, ty: &str, text: &str) -> Option<Trained> {
        train(ty, self.add_sample(ty, text)?)
    }

    /// Keeps a sample of `ty`; the [`TRAIN_SAMPLES`]th gives back all of them, to train on
    /// (the type collects anew until it has a dictionary).
    pub(super) fn add_sample(&mut self, ty: &str, text: &str) -> Option<Samples> {
        let s = self
            .samples
            .entry(ty.to_string())
            .or_insert_with(|| Samples {
                bytes: Vec::new(),
                sizes: Vec::new(),
            });
        let part = &text.as_bytes()[..text.len().min(SAMPLE_PREFIX)];
        s.bytes.extend_from_slice(part);
        s.sizes.push(part.len());
        if s.sizes.len() < TRAIN_SAMPLES {
            return None;
        }
        self.samples.remove(ty)
    }

    /// Uses a trained dictionary under the id the database gave it.
    pub(super) fn install(&mut self, t: Trained, id: i64) {
        self.by_type.insert(t.row.ty, (id, t.cdict));
    }

    /// What to store for `text` of type `ty`, with the type's dictionary if it has one.
    pub(super) fn compress<'a>(&'a mut self, ty: &str, text: &'a str) -> Frame<'a> {
        if text.len() < MIN_LEN {
            return Frame::Text;
        }
        let (id, ready) = match self.by_type.get(ty) {
            Some((id, cdict)) => (*id, self.cctx.ref_cdict(cdict).is_ok()),
            None => (0, self.cctx.disable_dictionary().is_ok()),
        };
        let bound = zstd::zstd_safe::compress_bound(text.len());
        self.frame.clear();
        self.frame.reserve(bound);
        let ok = ready
            && self
                .cctx
                .compress2(&mut self.frame, text.as_bytes())
                .is_ok();
        // Never leave a dictionary referenced between calls.
        let _ = self.cctx.disable_dictionary();
        if !ok {
            return Frame::Text;
        }
        match provisional(id) {
            // Not numbered yet: the writer puts the id in front, which takes at least a byte (and
            // decides again with the id's own length, `numbered_blob`).
            Some(k) if 1 + self.frame.len() < text.len() => Frame::Unnumbered(k, &self.frame),
            Some(_) => Frame::Text,
            None if numbered_blob(id, &self.frame, text, &mut self.buf) => Frame::Blob(&self.buf),
            None => Frame::Text,
        }
    }
}

/// The dictionary `samples` of `ty` train, or none when there is too little to learn from.
pub(super) fn train(ty: &str, samples: Samples) -> Option<Trained> {
    let s = samples;
    let capacity = DICT_BYTES.min(s.bytes.len() / 4).max(1024);
    let mut dict = Vec::with_capacity(capacity);
    zstd::zstd_safe::train_from_buffer(&mut dict, &s.bytes, &s.sizes).ok()?;
    let cdict = CDict::try_create(&dict, LEVEL)?;
    Some(Trained {
        row: DictionaryRow {
            ty: ty.to_string(),
            dict,
            samples: s.sizes.len(),
        },
        cdict,
    })
}

/// What [`Frames::compress`] makes of a text.
pub(super) enum Frame<'a> {
    /// Stored as received.
    Text,
    /// The dictionary's id and the frame, as stored.
    Blob(&'a [u8]),
    /// The frame alone, made with the compressor's `k`th dictionary of those the writer has not
    /// numbered yet ([`super::Compressed::Unnumbered`]).
    Unnumbered(usize, &'a [u8]),
}

/// The `k` of a dictionary the writer has not numbered yet: a [`super::Compressor`] holds its
/// `k`th such dictionary under the id `-(k + 1)` until [`super::Compressor::numbered`].
pub(super) fn provisional(id: i64) -> Option<usize> {
    (id < 0).then(|| usize::try_from(-(id + 1)).unwrap_or(usize::MAX))
}

/// Puts in `out` the stored value of a frame made with dictionary `id` (0: none): the id, then
/// the frame; and says whether to store it (not when it is no shorter than the text, which is
/// then stored as it is). The one rule for the writer's frames and a compressor's.
pub(super) fn numbered_blob(id: i64, frame: &[u8], text: &str, out: &mut Vec<u8>) -> bool {
    out.clear();
    put_varint(out, id as u64);
    if out.len() + frame.len() >= text.len() {
        return false;
    }
    out.extend_from_slice(frame);
    true
}

/// The writer's side: [`Frames`] that write the dictionaries they train.
pub(super) struct Encoder {
    frames: Frames,
    /// The highest dictionary id read from the database (others' dictionaries above it are new).
    seen: i64,
    /// Dictionaries written in the open transaction.
    uncommitted: Vec<(String, i64)>,
}

impl Encoder {
    pub(super) fn new() -> Encoder {
        Encoder {
            frames: Frames::new(),
            seen: 0,
            uncommitted: Vec::new(),
        }
    }

    /// Picks up dictionaries other connections wrote (at the start of a transaction).
    pub(super) fn refresh(
        &mut self,
        conn: &Connection,
        dicts: &Dictionaries,
    ) -> rusqlite::Result<()> {
        let mut s =
            conn.prepare_cached("SELECT id, type, dict FROM zstd_dicts WHERE id > ?1 ORDER BY id")?;
        let mut rows = s.query([self.seen])?;
        while let Some(r) = rows.next()? {
            let id: i64 = r.get(0)?;
            let ty: String = r.get(1)?;
            let dict = r.get_ref(2)?.as_blob()?;
            self.seen = self.seen.max(id);
            if dicts.cached(id).is_none() {
                dicts.insert(id, dict);
            }
            self.frames.adopt(&ty, id, dict);
        }
        Ok(())
    }

    /// The open transaction committed: its dictionaries are the database's now.
    pub(super) fn committed(&mut self) {
        self.uncommitted.clear();
    }

    /// The open transaction rolled back: forget the dictionaries it wrote.
    pub(super) fn rolled_back(&mut self, dicts: &Dictionaries) {
        let gone: Vec<i64> = self.uncommitted.iter().map(|(_, id)| *id).collect();
        for (ty, _) in std::mem::take(&mut self.uncommitted) {
            self.frames.by_type.remove(&ty);
        }
        dicts.forget(&gone);
    }

    /// What to store for `text` of type `ty`; may train and store `ty`'s dictionary first.
    pub(super) fn encode<'a>(
        &'a mut self,
        conn: &Connection,
        dicts: &Dictionaries,
        ty: &str,
        text: &'a str,
    ) -> rusqlite::Result<Stored<'a>> {
        if self.frames.wants_sample(ty, text)
            && let Some(t) = self.frames.sample(ty, text)
        {
            let id = self.write(conn, dicts, &t.row)?;
            self.frames.install(t, id);
        }
        // The writer's own frames only use dictionaries it numbered.
        Ok(match self.frames.compress(ty, text) {
            Frame::Blob(b) => Stored::Blob(b),
            Frame::Text | Frame::Unnumbered(..) => Stored::Text(text),
        })
    }

    /// Writes a dictionary a [`super::Compressor`] trained (in the open transaction), and uses it
    /// too unless its type has one; returns its id.
    pub(super) fn store(
        &mut self,
        conn: &Connection,
        dicts: &Dictionaries,
        t: &DictionaryRow,
    ) -> rusqlite::Result<i64> {
        let id = self.write(conn, dicts, t)?;
        self.frames.adopt(&t.ty, id, &t.dict);
        Ok(id)
    }

    fn write(
        &mut self,
        conn: &Connection,
        dicts: &Dictionaries,
        t: &DictionaryRow,
    ) -> rusqlite::Result<i64> {
        conn.prepare_cached(
            "INSERT INTO zstd_dicts (type, dict, samples, created_at) VALUES (?1, ?2, ?3, ?4)",
        )?
        .execute(params![
            t.ty,
            t.dict,
            t.samples as i64,
            crate::model::time::now()
        ])?;
        let id = conn.last_insert_rowid();
        dicts.insert(id, &t.dict);
        self.uncommitted.push((t.ty.clone(), id));
        Ok(id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn varints_round_trip() {
        for v in [0u64, 1, 127, 128, 300, 1 << 21, i64::MAX as u64] {
            let mut b = Vec::new();
            put_varint(&mut b, v);
            b.push(0xAA);
            let (got, rest) = varint(&b).expect("a varint");
            assert_eq!(got as u64, v);
            assert_eq!(rest, [0xAA]);
        }
        assert!(varint(&[0x80, 0x80]).is_none());
    }

    /// A frame made before the writer numbered its dictionary is stored as the writer alone
    /// would store it: the id's length decides whether it is shorter than the text.
    #[test]
    fn an_id_that_makes_a_frame_no_shorter_leaves_the_text() {
        let frame = vec![7u8; 60];
        let text = "x".repeat(62);
        let mut out = Vec::new();
        assert!(numbered_blob(5, &frame, &text, &mut out));
        assert_eq!((out[0], &out[1..]), (5, &frame[..]));
        assert!(
            !numbered_blob(300, &frame, &text, &mut out),
            "a two-byte id makes it no shorter than the text"
        );
    }
}
