//! Reading JSON input as a stream: a buffered reader that can look a few bytes ahead, cut the
//! next JSON value out of the input (found from its brackets, strings and escapes alone, without
//! decoding it), and read lines, each with a cap on how much it keeps in memory. What stays in
//! memory is one value or one line at most, never the document.

use std::io::{BufRead, Read};

/// How much of an item over the cap is kept (and quarantined) to show what it was.
pub(super) const KEPT_PREFIX: usize = 4096;

/// What reading one value or line gave.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Got {
    /// All of it, in the buffer given.
    Whole,
    /// It is `len` bytes, more than the cap: the buffer holds its first [`KEPT_PREFIX`] bytes.
    TooLong { len: u64 },
    /// The input ended inside it (the buffer holds what there was).
    Truncated,
}

/// A buffered reader over an input that counts what it consumed (bytes and newlines).
pub(super) struct Scanner<'p, R> {
    input: R,
    buf: Vec<u8>,
    pos: usize,
    end: usize,
    eof: bool,
    /// Bytes and line ends consumed so far.
    pub offset: u64,
    pub newlines: u64,
    on_bytes: &'p mut dyn FnMut(u64),
}

impl<'p, R: Read> Scanner<'p, R> {
    pub fn new(input: R, on_bytes: &'p mut dyn FnMut(u64)) -> Self {
        Scanner {
            input,
            buf: vec![0; 1 << 16],
            pos: 0,
            end: 0,
            eof: false,
            offset: 0,
            newlines: 0,
            on_bytes,
        }
    }

    /// At least `n` bytes ahead (fewer only at the end of the input), without consuming them.
    pub fn peek_min(&mut self, n: usize) -> std::io::Result<&[u8]> {
        while self.end - self.pos < n && !self.eof {
            if self.pos > 0 {
                self.buf.copy_within(self.pos..self.end, 0);
                self.end -= self.pos;
                self.pos = 0;
            }
            if self.end == self.buf.len() {
                self.buf.resize(self.buf.len() * 2, 0);
            }
            match self.input.read(&mut self.buf[self.end..]) {
                Ok(0) => self.eof = true,
                Ok(k) => self.end += k,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        Ok(&self.buf[self.pos..self.end])
    }

    /// The length of the next line (without its `\n`) when the whole of it, `\n` included,
    /// fits in the buffer as it is (reading more to see): the caller reads it from
    /// [`Self::buffered`] and consumes it, with no copy. `None` at the end of the input, for a
    /// last line without `\n`, or for a line longer than the buffer (read those with
    /// [`Self::read_line`]). Nothing is consumed.
    pub fn whole_line(&mut self) -> std::io::Result<Option<usize>> {
        let mut from = 0;
        loop {
            if let Some(i) = memchr::memchr(b'\n', &self.buf[self.pos + from..self.end]) {
                return Ok(Some(from + i));
            }
            from = self.end - self.pos;
            if from >= self.buf.len() || self.eof {
                return Ok(None);
            }
            self.peek_min(from + 1)?;
        }
    }

    /// The next `n` bytes, which must be buffered ([`Self::whole_line`]).
    pub fn buffered(&self, n: usize) -> &[u8] {
        &self.buf[self.pos..(self.pos + n).min(self.end)]
    }

    /// Consumes one byte (one seen through [`Self::next_non_ws`]).
    pub fn consume_byte(&mut self) {
        self.consume(1);
    }

    /// The next byte that is not JSON whitespace (not consumed), or `None` at the end.
    pub fn next_non_ws(&mut self) -> std::io::Result<Option<u8>> {
        loop {
            let buf = self.fill_buf()?;
            if buf.is_empty() {
                return Ok(None);
            }
            match buf
                .iter()
                .position(|b| !matches!(b, b' ' | b'\t' | b'\n' | b'\r'))
            {
                Some(i) => {
                    let c = buf[i];
                    self.consume(i);
                    return Ok(Some(c));
                }
                None => {
                    let n = buf.len();
                    self.consume(n);
                }
            }
        }
    }

    /// Passes the next JSON value's bytes to `sink` piece by piece, starting inside `depth`
    /// open containers (0: at the value's first byte). Returns its length and whether it was
    /// complete. A scalar ends at the first byte that cannot continue it.
    pub fn scan_value(
        &mut self,
        depth: usize,
        sink: &mut dyn FnMut(&[u8]),
    ) -> std::io::Result<(u64, bool)> {
        let mut depth = depth;
        let mut started = depth > 0;
        let (mut in_str, mut esc, mut scalar) = (false, false, false);
        let mut len = 0u64;
        loop {
            let buf = self.fill_buf()?;
            if buf.is_empty() {
                return Ok((len, scalar));
            }
            let mut end = None;
            for (i, &c) in buf.iter().enumerate() {
                if !started {
                    started = true;
                    match c {
                        b'"' => in_str = true,
                        b'{' | b'[' => depth = 1,
                        _ => scalar = true,
                    }
                } else if scalar {
                    if matches!(c, b',' | b']' | b'}' | b' ' | b'\t' | b'\n' | b'\r') {
                        end = Some(i);
                        break;
                    }
                } else if in_str {
                    if esc {
                        esc = false;
                    } else if c == b'\\' {
                        esc = true;
                    } else if c == b'"' {
                        in_str = false;
                        if depth == 0 {
                            end = Some(i + 1);
                            break;
                        }
                    }
                } else {
                    match c {
                        b'"' => in_str = true,
                        b'{' | b'[' => depth += 1,
                        b'}' | b']' => {
                            depth -= 1;
                            if depth == 0 {
                                end = Some(i + 1);
                                break;
                            }
                        }
                        _ => {}
                    }
                }
            }
            let n = end.unwrap_or(buf.len());
            sink(&buf[..n]);
            len += n as u64;
            self.consume(n);
            if end.is_some() {
                return Ok((len, true));
            }
        }
    }

    /// Appends the next value to `out`, keeping at most `max` bytes of it.
    pub fn read_value(
        &mut self,
        depth: usize,
        max: usize,
        out: &mut Vec<u8>,
    ) -> std::io::Result<Got> {
        let start = out.len();
        let (len, complete) = self.scan_value(depth, &mut |piece| {
            let room = (start + max).saturating_sub(out.len());
            out.extend_from_slice(&piece[..piece.len().min(room)]);
        })?;
        Ok(finish(out, start, len, max, complete))
    }

    /// Skips the next value, keeping nothing.
    pub fn skip_value(&mut self) -> std::io::Result<bool> {
        Ok(self.scan_value(0, &mut |_| {})?.1)
    }

    /// The next line (through its `\n`) into `out` (cleared first), keeping at most `max`
    /// bytes. `None` at the end of the input.
    pub fn read_line(&mut self, max: usize, out: &mut Vec<u8>) -> std::io::Result<Option<Got>> {
        self.read_line_or_stop(max, false, out)
    }

    /// [`Self::read_line`], or with `stop`, stopping as soon as the line is over the cap
    /// (`TooLong` then gives the bytes read so far, and the rest of the line is left unread).
    pub fn read_line_or_stop(
        &mut self,
        max: usize,
        stop: bool,
        out: &mut Vec<u8>,
    ) -> std::io::Result<Option<Got>> {
        out.clear();
        let mut len = 0u64;
        loop {
            let buf = self.fill_buf()?;
            if buf.is_empty() {
                return Ok((len > 0).then(|| finish(out, 0, len, max, true)));
            }
            let (n, done) = match memchr::memchr(b'\n', buf) {
                Some(i) => (i + 1, true),
                None => (buf.len(), false),
            };
            let room = max.saturating_sub(out.len());
            out.extend_from_slice(&buf[..n.min(room)]);
            // The length of the line's text: its `\n` is not counted against the cap.
            len += (n - usize::from(done)) as u64;
            self.consume(n);
            if done || (stop && len > max as u64) {
                return Ok(Some(finish(out, 0, len, max, true)));
            }
        }
    }
}

fn finish(out: &mut Vec<u8>, start: usize, len: u64, max: usize, complete: bool) -> Got {
    if len > max as u64 {
        out.truncate(start + KEPT_PREFIX.min(max));
        out.shrink_to(start + KEPT_PREFIX);
        Got::TooLong { len }
    } else if complete {
        Got::Whole
    } else {
        Got::Truncated
    }
}

impl<R: Read> Read for Scanner<'_, R> {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        let buf = self.fill_buf()?;
        let n = buf.len().min(out.len());
        out[..n].copy_from_slice(&buf[..n]);
        self.consume(n);
        Ok(n)
    }
}

impl<R: Read> BufRead for Scanner<'_, R> {
    fn fill_buf(&mut self) -> std::io::Result<&[u8]> {
        if self.pos == self.end {
            self.peek_min(1)
        } else {
            Ok(&self.buf[self.pos..self.end])
        }
    }

    fn consume(&mut self, n: usize) {
        let n = n.min(self.end - self.pos);
        let taken = &self.buf[self.pos..self.pos + n];
        self.newlines += memchr::memchr_iter(b'\n', taken).count() as u64;
        self.offset += n as u64;
        self.pos += n;
        if n > 0 {
            (self.on_bytes)(n as u64);
        }
        if self.pos == self.end {
            self.pos = 0;
            self.end = 0;
            // A line or value read in a bigger buffer does not keep it big.
            if self.buf.len() > 1 << 16 {
                self.buf.truncate(1 << 16);
                self.buf.shrink_to_fit();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values(input: &[u8]) -> Vec<String> {
        let mut on = |_| {};
        let mut s = Scanner::new(input, &mut on);
        let mut out = Vec::new();
        let mut got = Vec::new();
        while s.next_non_ws().unwrap().is_some() {
            out.clear();
            let g = s.read_value(0, 20, &mut out).unwrap();
            got.push(format!("{g:?} {}", String::from_utf8_lossy(&out)));
            if s.next_non_ws().unwrap() == Some(b',') {
                s.consume(1);
            }
        }
        got
    }

    #[test]
    fn values_are_cut_where_json_says_with_a_cap() {
        let got =
            values(br#"{"a":"}\"{"} , [1,[2]] ,12,"x\\" , {"long":"0123456789abcdef"} {"a":"#);
        assert_eq!(
            got,
            [
                r#"Whole {"a":"}\"{"}"#,
                "Whole [1,[2]]",
                "Whole 12",
                r#"Whole "x\\""#,
                r#"TooLong { len: 27 } {"long":"0123456789a"#,
                r#"Truncated {"a":"#,
            ]
        );
    }

    #[test]
    fn lines_are_capped_and_counted() {
        let mut on = |_| {};
        let mut s = Scanner::new(&b"ab\n0123456789\nlast"[..], &mut on);
        let mut out = Vec::new();
        assert_eq!(s.read_line(5, &mut out).unwrap(), Some(Got::Whole));
        assert_eq!(out, b"ab\n");
        assert_eq!(
            s.read_line(5, &mut out).unwrap(),
            Some(Got::TooLong { len: 10 })
        );
        assert_eq!(out, b"01234");
        assert_eq!(s.read_line(5, &mut out).unwrap(), Some(Got::Whole));
        assert_eq!(out, b"last");
        assert_eq!(s.read_line(5, &mut out).unwrap(), None);
        assert_eq!((s.offset, s.newlines), (18, 2));
    }
}
