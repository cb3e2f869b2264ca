//! What a trace draws, as records the trace's two sorts keep: each slice or instant with its
//! lane, and once placed, its track. The first sort puts a lane's items in the order tracks are
//! filled (start, longest first, name); the second puts every item in the order it is written
//! (start, then track). Ties keep the order the items were made in: status bands, then spans by
//! their opening event, then messages and errors by event.

use std::cmp::{Ordering, Reverse};
use std::io;

use crate::analysis::spans::SpanKind;
use crate::export::spill::Record;

/// A lane: a track, or several when its spans overlap without nesting. Ordered as drawn.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub(super) enum Lane {
    Session,
    /// `None` is the primary thread.
    Thread(Option<String>),
    Model,
    Permission,
    Evaluation,
    Workflow,
    Errors,
}

/// Which kind of thing made an item, in the order ties are broken.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(super) enum Made {
    Status,
    Span,
    Instant,
}

/// Something drawn on a lane: a slice (`dur` set) or an instant.
#[derive(Debug)]
pub(super) struct Item {
    pub lane: Lane,
    pub name: String,
    pub cat: &'static str,
    /// µs since the session's start.
    pub ts: i64,
    pub dur: Option<i64>,
    /// The `args` object as JSON text: a few hundred bytes, not a tree of them.
    pub args: Box<str>,
    /// What made it, and its number among those (ties keep this order).
    pub made: (Made, u64),
    /// The track of its lane it is drawn on (0 until placed).
    pub track: u32,
}

impl Item {
    fn by_lane(&self) -> impl Ord + '_ {
        (
            &self.lane,
            self.ts,
            Reverse(self.dur),
            &self.name,
            self.made,
        )
    }

    fn by_time(&self) -> impl Ord + '_ {
        (
            self.ts,
            &self.lane,
            self.track,
            Reverse(self.dur),
            &self.name,
            self.made,
        )
    }
}

/// Items in the order a lane's tracks are filled: by lane, start, longest first, name.
pub(super) struct ByLane(pub Item);

/// Items in the order they are written: by start, then track.
pub(super) struct ByTime(pub Item);

macro_rules! ordered {
    ($t:ident, $key:ident) => {
        impl PartialEq for $t {
            fn eq(&self, other: &Self) -> bool {
                self.cmp(other) == Ordering::Equal
            }
        }
        impl Eq for $t {}
        impl PartialOrd for $t {
            fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
                Some(self.cmp(other))
            }
        }
        impl Ord for $t {
            fn cmp(&self, other: &Self) -> Ordering {
                self.0.$key().cmp(&other.0.$key())
            }
        }
        impl Record for $t {
            fn write(&self, out: &mut Vec<u8>) -> io::Result<()> {
                encode(&self.0, out);
                Ok(())
            }
            fn read(bytes: &[u8]) -> io::Result<Self> {
                decode(bytes).map($t)
            }
            fn size(&self) -> usize {
                let i = &self.0;
                i.name.capacity()
                    + i.args.len()
                    + match &i.lane {
                        Lane::Thread(Some(t)) => t.capacity(),
                        _ => 0,
                    }
            }
        }
    };
}

ordered!(ByLane, by_lane);
ordered!(ByTime, by_time);

/// The categories an item can have: `status`, `message`, `error`, or a span's kind.
fn static_cat(cat: &str) -> Option<&'static str> {
    match cat {
        "status" => Some("status"),
        "message" => Some("message"),
        "error" => Some("error"),
        other => SpanKind::parse(other).map(SpanKind::as_str),
    }
}

fn put(out: &mut Vec<u8>, bytes: &[u8]) {
    out.extend_from_slice(&(bytes.len() as u64).to_le_bytes());
    out.extend_from_slice(bytes);
}

fn encode(i: &Item, out: &mut Vec<u8>) {
    let (tag, thread) = match &i.lane {
        Lane::Session => (0u8, None),
        Lane::Thread(None) => (1, None),
        Lane::Thread(Some(t)) => (2, Some(t.as_str())),
        Lane::Model => (3, None),
        Lane::Permission => (4, None),
        Lane::Evaluation => (5, None),
        Lane::Workflow => (6, None),
        Lane::Errors => (7, None),
    };
    out.push(tag);
    put(out, thread.unwrap_or_default().as_bytes());
    put(out, i.name.as_bytes());
    put(out, i.cat.as_bytes());
    out.extend_from_slice(&i.ts.to_le_bytes());
    out.push(u8::from(i.dur.is_some()));
    out.extend_from_slice(&i.dur.unwrap_or_default().to_le_bytes());
    put(out, i.args.as_bytes());
    out.push(i.made.0 as u8);
    out.extend_from_slice(&i.made.1.to_le_bytes());
    out.extend_from_slice(&i.track.to_le_bytes());
}

/// Reads what [`encode`] wrote, front to back.
struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn take<const N: usize>(&mut self) -> io::Result<[u8; N]> {
        let (head, rest) = self
            .0
            .split_first_chunk::<N>()
            .ok_or_else(|| io::Error::other("a spilled trace item ends early"))?;
        self.0 = rest;
        Ok(*head)
    }

    fn text(&mut self) -> io::Result<&'a str> {
        let len = usize::try_from(u64::from_le_bytes(self.take()?)).map_err(io::Error::other)?;
        if len > self.0.len() {
            return Err(io::Error::other("a spilled trace item ends early"));
        }
        let (text, rest) = self.0.split_at(len);
        self.0 = rest;
        std::str::from_utf8(text).map_err(io::Error::other)
    }
}

fn decode(bytes: &[u8]) -> io::Result<Item> {
    let mut r = Reader(bytes);
    let [tag] = r.take()?;
    let thread = r.text()?;
    let lane = match tag {
        0 => Lane::Session,
        1 => Lane::Thread(None),
        2 => Lane::Thread(Some(thread.to_string())),
        3 => Lane::Model,
        4 => Lane::Permission,
        5 => Lane::Evaluation,
        6 => Lane::Workflow,
        _ => Lane::Errors,
    };
    let name = r.text()?.to_string();
    let cat = static_cat(r.text()?).ok_or_else(|| io::Error::other("a spilled trace item"))?;
    let ts = i64::from_le_bytes(r.take()?);
    let [has_dur] = r.take()?;
    let dur = i64::from_le_bytes(r.take()?);
    let args = r.text()?.into();
    let [made] = r.take()?;
    let made = match made {
        0 => Made::Status,
        1 => Made::Span,
        _ => Made::Instant,
    };
    let number = u64::from_le_bytes(r.take()?);
    let track = u32::from_le_bytes(r.take()?);
    Ok(Item {
        lane,
        name,
        cat,
        ts,
        dur: (has_dur == 1).then_some(dur),
        args,
        made: (made, number),
        track,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_item_comes_back_from_its_bytes() {
        let item = || Item {
            lane: Lane::Thread(Some("sthr_1".into())),
            name: "bash".into(),
            cat: "tool",
            ts: -5,
            dur: Some(7),
            args: r#"{"a":1}"#.into(),
            made: (Made::Span, 9),
            track: 2,
        };
        let mut bytes = Vec::new();
        ByTime(item()).write(&mut bytes).unwrap();
        let back = ByTime::read(&bytes).unwrap().0;
        assert_eq!(format!("{back:?}"), format!("{:?}", item()));
        assert!(ByTime::read(&bytes[..bytes.len() - 1]).is_err());
    }
}
