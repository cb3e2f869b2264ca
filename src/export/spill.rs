//! An external sort for the trace exports: records pushed in any order come back in their
//! order, while memory holds at most a fixed budget of them. Past the budget, the records held
//! are sorted and written as one run to an anonymous temporary file (deleted when closed); the
//! runs and what is still held are merged when read. So a trace of any session is written in
//! the order its format asks (spans by their opening event, slices by time) without holding
//! the session: a session that fits the budget never touches the disk.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom, Write};

/// What memory may hold of records before they go to a run: a few megabytes.
pub const BUDGET: usize = 4 << 20;

/// How much of a run is read at a time while merging.
const READ_AHEAD: usize = 32 << 10;

/// A record the sort can write to a run and read back. Keys must be unique (ties would come
/// back in no fixed order): the exports number their records.
pub trait Record: Ord + Sized {
    /// Appends the record's bytes to `out`.
    fn write(&self, out: &mut Vec<u8>) -> io::Result<()>;
    /// The record back from what [`Record::write`] wrote.
    fn read(bytes: &[u8]) -> io::Result<Self>;
    /// About how many bytes of memory the record holds.
    fn size(&self) -> usize;
}

/// Records waiting to be read in order.
pub struct Spill<T: Record> {
    held: Vec<T>,
    held_bytes: usize,
    budget: usize,
    file: Option<File>,
    /// Each run's byte range in `file`.
    runs: Vec<(u64, u64)>,
    end: u64,
}

impl<T: Record> Default for Spill<T> {
    fn default() -> Self {
        Spill::with_budget(BUDGET)
    }
}

impl<T: Record> Spill<T> {
    /// A sort that holds at most about `budget` bytes of records.
    pub fn with_budget(budget: usize) -> Self {
        Spill {
            held: Vec::new(),
            held_bytes: 0,
            budget,
            file: None,
            runs: Vec::new(),
            end: 0,
        }
    }

    /// The budget it was made with.
    pub fn budget(&self) -> usize {
        self.budget
    }

    pub fn push(&mut self, record: T) -> io::Result<()> {
        self.held_bytes += record.size() + std::mem::size_of::<T>();
        self.held.push(record);
        if self.held_bytes > self.budget {
            self.spill()?;
        }
        Ok(())
    }

    /// Writes what is held as one sorted run.
    fn spill(&mut self) -> io::Result<()> {
        self.held.sort_unstable();
        let file = match &mut self.file {
            Some(f) => f,
            None => self.file.insert(tempfile::tempfile()?),
        };
        let mut out = io::BufWriter::with_capacity(READ_AHEAD, &*file);
        let start = self.end;
        let mut bytes = Vec::new();
        for r in self.held.drain(..) {
            bytes.clear();
            r.write(&mut bytes)?;
            let len = u32::try_from(bytes.len())
                .map_err(|_| io::Error::other("a spilled record over 4 GiB"))?;
            out.write_all(&len.to_le_bytes())?;
            out.write_all(&bytes)?;
            self.end += 4 + u64::from(len);
        }
        out.flush()?;
        self.runs.push((start, self.end));
        self.held_bytes = 0;
        self.held.shrink_to(1024);
        Ok(())
    }

    /// Ends the pushing: what is held is sorted, ready to be read (any number of times).
    pub fn sorted(mut self) -> Sorted<T> {
        self.held.sort_unstable();
        Sorted {
            held: self.held,
            file: self.file,
            runs: self.runs,
        }
    }
}

/// Every record pushed, readable in order.
pub struct Sorted<T: Record> {
    held: Vec<T>,
    file: Option<File>,
    runs: Vec<(u64, u64)>,
}

impl<T: Record> Sorted<T> {
    /// Lends every record to `f` in order; stops at the first error (`f`'s, or reading a run).
    pub fn for_each<E: From<io::Error>>(
        &self,
        mut f: impl FnMut(&T) -> Result<(), E>,
    ) -> Result<(), E> {
        let Some(file) = &self.file else {
            return self.held.iter().try_for_each(f);
        };
        let mut readers: Vec<Run<'_>> = self
            .runs
            .iter()
            .map(|&(start, end)| Run::new(file, start, end))
            .collect();
        // The next record of each run (by its index in `readers`; the held ones last).
        let mut heap = BinaryHeap::new();
        for (i, r) in readers.iter_mut().enumerate() {
            if let Some(t) = r.next()? {
                heap.push(Reverse((t, i)));
            }
        }
        let mut held = self.held.iter().peekable();
        loop {
            let from_run = match (heap.peek(), held.peek()) {
                (None, None) => return Ok(()),
                (Some(Reverse((t, _))), Some(h)) => t < *h,
                (Some(_), None) => true,
                (None, Some(_)) => false,
            };
            if !from_run {
                if let Some(h) = held.next() {
                    f(h)?;
                }
                continue;
            }
            if let Some(Reverse((t, i))) = heap.pop() {
                f(&t)?;
                if let Some(next) = readers[i].next()? {
                    heap.push(Reverse((next, i)));
                }
            }
        }
    }
}

/// One run read back a block at a time (runs share the file: each seeks before it reads).
struct Run<'f> {
    file: &'f File,
    pos: u64,
    end: u64,
    buf: Vec<u8>,
    at: usize,
}

impl<'f> Run<'f> {
    fn new(file: &'f File, pos: u64, end: u64) -> Self {
        Run {
            file,
            pos,
            end,
            buf: Vec::new(),
            at: 0,
        }
    }

    /// At least `n` unread bytes in `buf` (fewer only at the end of the run).
    fn fill(&mut self, n: usize) -> io::Result<()> {
        let have = self.buf.len() - self.at;
        if have >= n {
            return Ok(());
        }
        self.buf.drain(..self.at);
        self.at = 0;
        let want = (n - have).max(READ_AHEAD) as u64;
        let take = want.min(self.end - self.pos) as usize;
        let old = self.buf.len();
        self.buf.resize(old + take, 0);
        let mut file = self.file;
        file.seek(SeekFrom::Start(self.pos))?;
        file.read_exact(&mut self.buf[old..])?;
        self.pos += take as u64;
        Ok(())
    }

    fn next<T: Record>(&mut self) -> io::Result<Option<T>> {
        self.fill(4)?;
        let Some(len) = self.buf.get(self.at..self.at + 4) else {
            return Ok(None);
        };
        let len = u32::from_le_bytes([len[0], len[1], len[2], len[3]]) as usize;
        self.at += 4;
        self.fill(len)?;
        let bytes = self
            .buf
            .get(self.at..self.at + len)
            .ok_or_else(|| io::Error::other("a spilled run ends inside a record"))?;
        let record = T::read(bytes)?;
        self.at += len;
        Ok(Some(record))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, PartialEq, Eq, PartialOrd, Ord)]
    struct Num(u64, String);

    impl Record for Num {
        fn write(&self, out: &mut Vec<u8>) -> io::Result<()> {
            out.extend_from_slice(&self.0.to_le_bytes());
            out.extend_from_slice(self.1.as_bytes());
            Ok(())
        }
        fn read(bytes: &[u8]) -> io::Result<Self> {
            let (n, s) = bytes.split_at(8);
            let n = u64::from_le_bytes(n.try_into().map_err(io::Error::other)?);
            Ok(Num(
                n,
                String::from_utf8(s.to_vec()).map_err(io::Error::other)?,
            ))
        }
        fn size(&self) -> usize {
            self.1.len()
        }
    }

    fn read_all(s: &Sorted<Num>) -> Vec<u64> {
        let mut got = Vec::new();
        s.for_each(|n| {
            assert_eq!(n.1, "x".repeat(n.0 as usize % 50));
            got.push(n.0);
            Ok::<(), io::Error>(())
        })
        .unwrap();
        got
    }

    #[test]
    fn records_come_back_in_order_from_runs_and_memory_alike() {
        // A scrambled 0..5000, held whole and then spilled in many small runs.
        let scrambled = |n: u64| (0..n).map(move |i| (i * 7919) % n);
        for budget in [usize::MAX, 2_000] {
            let mut s = Spill::with_budget(budget);
            for i in scrambled(5000) {
                s.push(Num(i, "x".repeat(i as usize % 50))).unwrap();
            }
            let spilled = s.file.is_some();
            assert_eq!(spilled, budget != usize::MAX);
            let sorted = s.sorted();
            let want: Vec<u64> = (0..5000).collect();
            assert_eq!(read_all(&sorted), want);
            // Read again: the same.
            assert_eq!(read_all(&sorted), want);
        }
    }

    #[test]
    fn an_empty_sort_reads_nothing() {
        let s: Spill<Num> = Spill::with_budget(0);
        assert!(read_all(&s.sorted()).is_empty());
    }
}
