//! The findings a fold has made, with their checkpoint JSON kept as they grow. A fold only
//! appends to them until it finishes, and a checkpoint every few thousand events wrote every
//! finding so far again: at a million events, 5 % of an import's CPU went to escaping the same
//! strings (`serde_json::ser::format_escaped_str`). Here each finding is written once; a
//! checkpoint copies the text.

use std::cell::RefCell;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::Finding;
use crate::analysis::checkpoint;

/// The findings made so far, in the order made.
#[derive(Default)]
pub(super) struct Out {
    list: Vec<Finding>,
    /// The JSON of the first `done` findings, comma-separated, as a checkpoint writes them.
    json: RefCell<Written>,
}

#[derive(Default)]
struct Written {
    done: usize,
    text: String,
}

impl Out {
    pub(super) fn push(&mut self, f: Finding) {
        self.list.push(f);
    }

    pub(super) fn len(&self) -> usize {
        self.list.len()
    }

    /// The findings to change (as a fold finishes): what was written of them is forgotten.
    pub(super) fn edit(&mut self) -> &mut Vec<Finding> {
        *self.json.get_mut() = Written::default();
        &mut self.list
    }

    pub(super) fn into_vec(self) -> Vec<Finding> {
        self.list
    }
}

impl std::fmt::Debug for Out {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.list.fmt(f)
    }
}

impl Serialize for Out {
    /// The same text as the list's own, written once per finding while checkpoints are.
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::Error;
        let Ok(mut written) = self.json.try_borrow_mut() else {
            return self.list.serialize(s);
        };
        if !checkpoint::writing() || written.done > self.list.len() {
            return self.list.serialize(s);
        }
        let Written { done, text } = &mut *written;
        for f in self.list.get(*done..).unwrap_or_default() {
            if *done > 0 {
                text.push(',');
            }
            text.push_str(&serde_json::to_string(f).map_err(S::Error::custom)?);
            *done += 1;
        }
        let raw = serde_json::value::RawValue::from_string(format!("[{text}]"))
            .map_err(S::Error::custom)?;
        raw.serialize(s)
    }
}

impl<'de> Deserialize<'de> for Out {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Out, D::Error> {
        Ok(Out {
            list: Vec::deserialize(d)?,
            json: RefCell::default(),
        })
    }
}

#[cfg(test)]
mod tests {
    // Test code: a failed unwrap is a failed test.
    #![allow(clippy::unwrap_used)]

    use super::*;
    use crate::analysis::findings::{Code, Severity};

    fn finding(i: usize) -> Finding {
        Finding {
            code: if i.is_multiple_of(2) {
                Code::CaptureGap
            } else {
                Code::ToolError
            },
            severity: Severity::Warning,
            turn: i,
            event_id: (!i.is_multiple_of(3)).then(|| format!("sevt_{i}")),
            at: Some(format!("2026-08-07T14:02:{:02}.402Z", i % 60)),
            offset_ms: i.is_multiple_of(4).then_some(i as i64 * 7),
            message: format!("call {i} said \"no\"\nthen é\u{1}"),
            ts: Some(1_786_000_000_000_000 + i as i64),
        }
    }

    /// Written a little at a time between checkpoints, the findings' JSON is the list's own, in
    /// a checkpoint and out of one; it reads back as the list; an edit starts it again.
    #[test]
    fn the_kept_json_is_the_lists_own_between_any_checkpoints() {
        let mut out = Out::default();
        let mut n = 0;
        for step in [0, 1, 3, 0, 7, 2] {
            for _ in 0..step {
                out.push(finding(n));
                n += 1;
            }
            let kept = checkpoint::to_json(&out).unwrap();
            assert_eq!(kept, checkpoint::to_json(&out.list).unwrap(), "after {n}");
            assert_eq!(out.json.borrow().done, n);
            let back: Out = checkpoint::from_json(&kept).unwrap();
            assert_eq!(format!("{back:?}"), format!("{out:?}"));
            assert_eq!(
                serde_json::to_vec(&out).unwrap(),
                serde_json::to_vec(&out.list).unwrap()
            );
        }
        out.edit()[1].message.push_str(" (edited)");
        assert_eq!(out.json.borrow().done, 0);
        assert_eq!(
            checkpoint::to_json(&out).unwrap(),
            checkpoint::to_json(&out.list).unwrap()
        );
    }
}
