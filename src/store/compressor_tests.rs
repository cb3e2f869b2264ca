//! The compressor with its trainings on other threads stores what the writer alone would:
//! whenever the trainings end, whatever the order texts are released in, and when a training
//! learns nothing.

use std::collections::VecDeque;

use super::super::codec::{Frame, Frames, TRAIN_SAMPLES};
use super::super::training::{Job, Trainer};
use super::*;

/// One thing the writer is handed, in order: a dictionary (its type and bytes) or a text's
/// stored form.
#[derive(Debug, PartialEq)]
enum Out {
    Dictionary(String, Vec<u8>),
    Text,
    Blob(Vec<u8>),
    Unnumbered(usize, Vec<u8>),
}

impl From<Compressed> for Out {
    fn from(c: Compressed) -> Out {
        match c {
            Compressed::Text => Out::Text,
            Compressed::Blob(b) => Out::Blob(b),
            Compressed::Unnumbered(k, f) => Out::Unnumbered(k, f),
        }
    }
}

/// Texts of four types of different frequencies (a quarter of one type short), varied enough
/// to train on.
fn texts(n: usize) -> Vec<(&'static str, String)> {
    (0..n)
        .map(|i| {
            let ty = match i % 11 {
                0 => "session.status_idle",
                1 | 4 | 7 => "agent.tool_use",
                2 | 5 | 8 | 10 => "agent.message",
                _ => "span.model_request_end",
            };
            let text = if i % 4 == 3 && ty == "agent.tool_use" {
                format!(r#"{{"i":{i}}}"#)
            } else {
                format!(
                    r#"{{"type":"{ty}","id":"sevt_{i:08}","content":[{{"type":"text","text":"step {} of the plan: read {} files, then run the {} tests"}}]}}"#,
                    i * 7 % 13,
                    i % 17,
                    ["unit", "integration", "doc"][i % 3]
                )
            };
            (ty, text)
        })
        .collect()
}

/// What the writer alone hands itself: each dictionary trained at its type's
/// [`TRAIN_SAMPLES`]th sample, then every text with the dictionaries it has. `fail`: the types
/// whose first training learns nothing.
fn alone(texts: &[(&str, String)], fail: &[&str]) -> Vec<Out> {
    let mut f = Frames::new();
    let (mut out, mut k, mut failed) = (Vec::new(), 0, Vec::new());
    for (ty, text) in texts {
        if f.wants_sample(ty, text)
            && let Some(s) = f.add_sample(ty, text)
        {
            if fail.contains(ty) && !failed.contains(ty) {
                failed.push(*ty);
            } else if let Some(t) = codec::train(ty, s) {
                out.push(Out::Dictionary(t.row.ty.clone(), t.row.dict.clone()));
                f.install(t, -(k as i64) - 1);
                k += 1;
            }
        }
        out.push(match f.compress(ty, text) {
            Frame::Text => Out::Text,
            Frame::Blob(b) => Out::Blob(b.to_vec()),
            Frame::Unnumbered(k, b) => Out::Unnumbered(k, b.to_vec()),
        });
    }
    out
}

/// When the driver takes trainings back.
#[derive(Clone, Copy, Debug)]
enum Settle {
    /// As soon as one starts (waiting for it).
    AtOnce,
    /// Only when this many texts wait behind a held one.
    Behind(usize),
    /// At the end of the input only.
    AtEnd,
}

/// A text read and not handed on yet: its type, text, position, whether it is held (and
/// started its training) and what was made of it.
struct Line<'t> {
    ty: &'t str,
    text: &'t str,
    pos: u64,
    held: Option<bool>,
    done: Option<Compressed>,
    dictionary: Option<DictionaryRow>,
}

/// What the import's reading side hands the writer, driving the compressor as
/// `record/pipeline.rs` does; `fail` as in [`alone`].
fn piped(texts: &[(&'static str, String)], settle: Settle, fail: &[&str]) -> Vec<Out> {
    let mut c = Compressor {
        frames: Frames::new(),
        unnumbered: 0,
        trainings: Vec::new(),
        trainer: Trainer::default(),
    };
    let mut failed: Vec<&str> = Vec::new();
    let mut waiting: VecDeque<Line<'_>> = VecDeque::new();
    let mut out = Vec::new();
    for (i, (ty, text)) in texts.iter().enumerate() {
        let pos = i as u64 + 1;
        let mut line = Line {
            ty,
            text,
            pos,
            held: None,
            done: None,
            dictionary: None,
        };
        match c.prepare(ty, text, pos) {
            Prepared::Done(d) => line.done = Some(d),
            Prepared::Held { trigger } => {
                line.held = Some(trigger);
                if trigger && fail.contains(ty) && !failed.contains(ty) {
                    failed.push(ty);
                    let t = c.trainings.iter_mut().find(|t| t.pos == pos).unwrap();
                    t.job = Job::failed(ty);
                }
            }
        }
        waiting.push_back(line);
        let behind = |w: &VecDeque<Line<'_>>| w.front().is_some_and(|l| l.held.is_some());
        loop {
            let due = match settle {
                Settle::AtOnce => c.training(),
                Settle::Behind(n) => c.training() && behind(&waiting) && waiting.len() > n,
                Settle::AtEnd => false,
            };
            if !due {
                break;
            }
            release(&mut c, &mut waiting);
        }
        hand_on(&mut waiting, &mut out);
    }
    while c.training() {
        release(&mut c, &mut waiting);
    }
    hand_on(&mut waiting, &mut out);
    assert!(waiting.is_empty(), "every text was handed on");
    out
}

/// Settles the earliest training and releases its type's held texts, in order.
fn release(c: &mut Compressor, waiting: &mut VecDeque<Line<'_>>) {
    let s = c.settle_first().unwrap();
    let mut dictionary = s.dictionary;
    for l in waiting.iter_mut().filter(|l| l.ty == s.ty) {
        let Some(trigger) = l.held else { continue };
        if trigger {
            l.dictionary = dictionary.take();
        }
        match c.release(l.ty, l.text, l.pos, trigger) {
            Prepared::Done(d) => (l.done, l.held) = (Some(d), None),
            Prepared::Held { trigger } => l.held = Some(trigger),
        }
    }
}

/// Hands on the texts in front that are not held, each dictionary first.
fn hand_on(waiting: &mut VecDeque<Line<'_>>, out: &mut Vec<Out>) {
    while waiting.front().is_some_and(|l| l.held.is_none()) {
        let l = waiting.pop_front().unwrap();
        if let Some(d) = l.dictionary {
            out.push(Out::Dictionary(d.ty.clone(), d.dict.clone()));
        }
        out.push(l.done.unwrap().into());
    }
}

/// [`piped`] hands on `want` whenever it takes the trainings back.
fn assert_piped_as_alone(texts: &[(&'static str, String)], fail: &[&str], want: &[Out]) {
    for settle in [
        Settle::AtOnce,
        Settle::Behind(1),
        Settle::Behind(300),
        Settle::AtEnd,
    ] {
        let got = piped(texts, settle, fail);
        assert_eq!(got.len(), want.len(), "{settle:?}");
        for (i, (g, w)) in got.iter().zip(want).enumerate() {
            assert!(g == w, "{settle:?}: item {i} differs");
        }
    }
}

#[test]
fn trainings_on_other_threads_store_what_the_writer_alone_would() {
    let texts = texts(TRAIN_SAMPLES * 14);
    let want = alone(&texts, &[]);
    let dictionaries = want
        .iter()
        .filter(|o| matches!(o, Out::Dictionary(..)))
        .count();
    assert_eq!(dictionaries, 4, "each type trained one");
    assert!(want.iter().any(|o| matches!(o, Out::Unnumbered(..))));
    assert_piped_as_alone(&texts, &[], &want);
}

#[test]
fn a_training_that_learns_nothing_is_trained_again_where_the_writer_alone_would() {
    // The second type to train fails once: its held texts are sampled again, its next training
    // starts among the others' and is numbered in its place.
    let texts = texts(TRAIN_SAMPLES * 14);
    let want = alone(&texts, &["agent.tool_use"]);
    let trained: Vec<&str> = want
        .iter()
        .filter_map(|o| match o {
            Out::Dictionary(ty, _) => Some(ty.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(trained.len(), 4, "{trained:?}");
    let at = |out: &[Out]| {
        out.iter()
            .position(|o| matches!(o, Out::Dictionary(ty, _) if ty == "agent.tool_use"))
    };
    assert!(at(&want) > at(&alone(&texts, &[])), "trained again, later");
    assert_piped_as_alone(&texts, &["agent.tool_use"], &want);
}

/// After [`Compressor::numbered`], frames carry the dictionary's id themselves.
#[test]
fn frames_use_the_number_the_writer_gave_their_dictionary() {
    let texts = texts(TRAIN_SAMPLES * 3);
    let mut c = Compressor {
        frames: Frames::new(),
        unnumbered: 0,
        trainings: Vec::new(),
        trainer: Trainer::default(),
    };
    let mut handed = Vec::new();
    for (i, (ty, text)) in texts.iter().enumerate() {
        if let Prepared::Held { .. } = c.prepare(ty, text, i as u64 + 1) {
            while let Some(s) = c.settle_first() {
                handed.extend(s.dictionary.map(|d| d.ty));
            }
        }
    }
    let k = handed.iter().position(|t| t == "agent.message").unwrap();
    let ids: Vec<i64> = (0..handed.len() as i64).map(|i| 40 + i).collect();
    c.numbered(&ids);
    let (ty, text) = &texts[2];
    assert_eq!(*ty, "agent.message");
    match c.prepare(ty, text, 10_000) {
        Prepared::Done(Compressed::Blob(b)) => {
            assert_eq!(b[0], 40 + k as u8, "the id the writer gave it")
        }
        _ => panic!("a blob"),
    }
}
