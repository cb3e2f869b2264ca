use super::*;

/// Reads `input` and returns its format and items as owned strings: `E <name>|<text>`, `B <origin> <reason>`, ...
fn read(input: &[u8]) -> Result<(Format, Vec<String>), SourceError> {
    let mut items = Vec::new();
    let format = read_events(
        input,
        &mut |item| {
            items.push(match item {
                Item::Event {
                    origin,
                    frame_name,
                    text,
                } => {
                    format!("E {origin} {}|{text}", frame_name.unwrap_or("-"))
                }
                Item::Bad {
                    origin,
                    raw,
                    reason,
                } => {
                    format!("B {origin} {reason} |{}", String::from_utf8_lossy(raw))
                }
                Item::Ping { origin } => format!("P {origin}"),
                Item::ErrorFrame { origin, data } => format!("X {origin} {data}"),
                Item::ThreadObject { origin, text } => format!("T {origin}|{text}"),
                Item::ThreadEvent {
                    origin,
                    thread_id,
                    text,
                } => format!("E {origin} @{thread_id}|{text}"),
            });
            Ok::<(), std::convert::Infallible>(())
        },
        &mut |_| {},
    )
    .map_err(ReadError::into_source)?;
    Ok((format, items))
}

#[test]
fn sse_with_crlf_comments_pings_and_multiline_data() {
    let input = b": hello\r\nevent: agent.message\r\ndata: {\"type\":\"agent.message\",\r\ndata: \"id\":\"sevt_1\"}\r\n\r\nevent: ping\r\ndata: {\"type\":\"ping\"}\r\n\r\nevent: error\r\ndata: {\"type\":\"error\"}\r\n\r\n";
    let (format, items) = read(input).unwrap();
    assert_eq!(format, Format::Sse);
    assert_eq!(
        items,
        vec![
            "E frame 1 agent.message|{\"type\":\"agent.message\",\n\"id\":\"sevt_1\"}",
            "P frame 2",
            "X frame 3 {\"type\":\"error\"}",
        ]
    );
}

#[test]
fn sse_last_frame_without_blank_line_is_kept() {
    let (_, items) = read(b"event: a.b\ndata: {\"type\":\"a.b\"}").unwrap();
    assert_eq!(items, vec!["E frame 1 a.b|{\"type\":\"a.b\"}"]);
}

#[test]
fn sse_frames_without_event_name_are_kept() {
    let (_, items) = read(b"data: {\"type\":\"a.b\"}\n\n").unwrap();
    assert_eq!(items, vec!["E frame 1 -|{\"type\":\"a.b\"}"]);
}

#[test]
fn sse_invalid_utf8_is_a_bad_frame_naming_the_line() {
    let (_, items) =
        read(b"event: a\ndata: {\"x\":1}\n\nevent: b\ndata: \xff\xfe\n\nevent: c\ndata: {}\n\n")
            .unwrap();
    assert_eq!(
        items,
        vec![
            "E frame 1 a|{\"x\":1}",
            "B frame 2 invalid UTF-8 at byte 39 (line 5) |event: b\ndata: \u{fffd}\u{fffd}\n\n",
            "E frame 3 c|{}",
        ]
    );
}

#[test]
fn sse_frames_split_across_reads_and_crlf_at_a_read_end() {
    // A frame end (CR LF CR LF) straddling the 64 KiB read boundary.
    let mut input = b"event: a\r\ndata: ".to_vec();
    let pad = (1 << 16) - input.len() - 3;
    input.extend(std::iter::repeat_n(b'x', pad));
    input.extend_from_slice(b"\r\n\r\nevent: b\r\ndata: {}\r\n\r\n");
    let (_, items) = read(&input).unwrap();
    assert_eq!(items.len(), 2, "{:?}", &items[1..]);
    assert!(items[1].starts_with("E frame 2 b|{}"));
}

#[test]
fn jsonl_splits_on_newline_only_and_trims_crlf() {
    let input = "{\"type\":\"a\",\"text\":\"x\u{2028}y\"}\r\n\n{\"type\":\"b\"}\n{\"type\":\"c\""
        .as_bytes();
    let (format, items) = read(input).unwrap();
    assert_eq!(format, Format::JsonLines);
    assert_eq!(
        items,
        vec![
            "E line 1 -|{\"type\":\"a\",\"text\":\"x\u{2028}y\"}",
            "E line 3 -|{\"type\":\"b\"}",
            "E line 4 -|{\"type\":\"c\"",
        ]
    );
}

#[test]
fn jsonl_line_with_invalid_utf8_is_bad_not_fatal() {
    let (_, items) = read(b"{\"type\":\"a\"}\n{\"type\":\"\xff\"}\n{\"type\":\"c\"}\n").unwrap();
    assert_eq!(items.len(), 3);
    assert!(
        items[1].starts_with("B line 2 invalid UTF-8 at column 10"),
        "{}",
        items[1]
    );
}

#[test]
fn list_pages_expand_to_their_events_verbatim() {
    let page = br#"{"data":[{"type":"a","id":"sevt_1","n":1.50},{"type":"b","id":"sevt_2"}],"next_page":null}"#;
    let (format, items) = read(page).unwrap();
    assert_eq!(format, Format::JsonLines);
    assert_eq!(
        items,
        vec![
            r#"E line 1 item 1 -|{"type":"a","id":"sevt_1","n":1.50}"#,
            r#"E line 1 item 2 -|{"type":"b","id":"sevt_2"}"#,
        ]
    );
}

#[test]
fn pretty_printed_pages_and_arrays() {
    let input = b"{\n  \"data\": [\n    {\"type\": \"a\"}\n  ],\n  \"next_page\": \"x\"\n}\n{\n  \"data\": [{\"type\":\"b\"}],\n  \"next_page\": null\n}\n";
    let (format, items) = read(input).unwrap();
    assert_eq!(format, Format::JsonDocument);
    assert_eq!(
        items,
        vec![
            "E item 1 -|{\"type\": \"a\"}",
            "E document 2 item 1 -|{\"type\":\"b\"}"
        ]
    );

    let (format, items) = read(b"[{\"type\":\"a\"},\n {\"type\":\"b\"}]").unwrap();
    assert_eq!(format, Format::JsonDocument);
    assert_eq!(items.len(), 2);
}

#[test]
fn broken_document_keeps_the_rest_as_bad() {
    let (_, items) =
        read(b"{\n \"data\": [{\"type\":\"a\"}]\n}\n{\n \"data\": [{\"type\"").unwrap();
    assert_eq!(items.len(), 2);
    assert!(
        items[1]
            .starts_with("B document 2 item 1 invalid JSON: the input ends inside it |{\"type\""),
        "{}",
        items[1]
    );
}

#[test]
fn empty_and_unrecognised_inputs() {
    assert!(matches!(read(b""), Err(SourceError::Empty)));
    assert!(matches!(
        read(b"  \n\n "),
        Err(SourceError::Blank { bytes: 5 })
    ));
    let err = read(b"\x7fELF\x02\x01\x01\x00garbage").unwrap_err();
    assert!(err.to_string().contains("bytes 7f 45 4c 46"), "{err}");
    let err = read(b"hello world").unwrap_err();
    assert!(err.to_string().contains("\"hello world\""), "{err}");
}

#[test]
fn sse_chunks_may_split_characters_and_lines() {
    let text = "event: a.b\ndata: {\"type\":\"a.b\",\"t\":\"é€😀\"}\n\n";
    let bytes = text.as_bytes();
    for split in 1..bytes.len() {
        let chunks = vec![Ok(bytes[..split].to_vec()), Ok(bytes[split..].to_vec())];
        let frames: Vec<_> = decode_sse_chunks(chunks.into_iter()).collect();
        assert_eq!(frames.len(), 1, "split at {split}");
        let f = frames[0].as_ref().unwrap();
        assert_eq!(f.data, "{\"type\":\"a.b\",\"t\":\"é€😀\"}");
    }
}

#[test]
fn dump_members_in_order_thread_objects_without_their_events() {
    let doc = br#"{"events":[{"type":"a.b","id":"e1"}],"threads":[{"id":"sthr_1","events":[{"type":"c.d","id":"e2"}],"parent_thread_id":null}],"session":{"type":"session","id":"sesn_1"}}"#;
    let (format, items) = read(doc).unwrap();
    assert_eq!(format, Format::JsonLines);
    assert_eq!(
        items,
        vec![
            r#"E $.session -|{"type":"session","id":"sesn_1"}"#,
            r#"E $.events[0] -|{"type":"a.b","id":"e1"}"#,
            r#"T $.threads[0]|{"id":"sthr_1","parent_thread_id":null}"#,
            r#"E $.threads[0].events[0] @sthr_1|{"type":"c.d","id":"e2"}"#,
        ]
    );
}

#[test]
fn dump_thread_without_id_is_bad_and_unknown_documents_are_refused() {
    let (_, items) = read(b"{\n\"threads\": [{\"events\": []}]\n}").unwrap();
    assert_eq!(items.len(), 1);
    assert!(
        items[0].starts_with("B $.threads[0] a thread without a string"),
        "{items:?}"
    );
    let err = read(b"{\n\"count\": 1\n}").unwrap_err();
    assert!(err.to_string().contains("no known shape"), "{err}");
    // An object with an id but no type is an event missing a field: kept for the quarantine.
    let (_, items) = read(b"{\n\"id\": \"sevt_1\"\n}").unwrap();
    assert_eq!(items.len(), 1);
}

#[test]
fn streamed_documents_keep_good_elements_before_a_break() {
    // A page whose array breaks after two elements: both kept, the rest handed over as bad.
    let (_, items) =
        read(b"{\n \"data\": [{\"type\":\"a\"}, {\"type\":\"b\"} {\"type\":\"c\"}]\n}\n").unwrap();
    assert_eq!(items.len(), 3, "{items:?}");
    assert_eq!(items[0], "E item 1 -|{\"type\":\"a\"}");
    assert_eq!(items[1], "E item 2 -|{\"type\":\"b\"}");
    assert!(
        items[2].starts_with("B document 1 invalid JSON at byte")
            && items[2].ends_with("|{\"type\":\"c\"}]\n}"),
        "{}",
        items[2]
    );
    // A one-line page in JSON Lines followed by junk on its line, then a good line.
    let (_, items) =
        read(b"{\"data\":[{\"type\":\"a\"}],\"next_page\":null} junk\n{\"type\":\"b\"}\n").unwrap();
    assert_eq!(
        items,
        vec![
            "E line 1 item 1 -|{\"type\":\"a\"}",
            "B line 1 text after the page's end, at byte 40 |junk",
            "E line 2 -|{\"type\":\"b\"}",
        ]
    );
}

#[test]
fn a_streamed_dump_thread_keeps_its_members_and_events() {
    let doc = b"{\n\"threads\": [{\"events\": [{\"type\":\"x\"}], \"id\": \"sthr_1\", \"n\": [1, {\"a\": \"]\"}]}, 7]}";
    let (format, items) = read(doc).unwrap();
    assert_eq!(format, Format::JsonDocument);
    assert_eq!(
        items,
        vec![
            "T $.threads[0]|{\"id\":\"sthr_1\",\"n\":[1, {\"a\": \"]\"}]}",
            "E $.threads[0].events[0] @sthr_1|{\"type\":\"x\"}",
            "B $.threads[1] a thread is not a JSON object |7",
        ]
    );
}

/// The error convention (ARCHITECTURE.md, "Errors"): the message includes what it wraps, and
/// there is no `source()` to print it a second time.
#[test]
fn source_errors_include_their_cause_and_do_not_chain_to_it() {
    use std::error::Error;
    let io = SourceError::Io(std::io::Error::other("disk gone"));
    assert_eq!(io.to_string(), "cannot read: disk gone");
    assert!(io.source().is_none());
    let tape = tape::TapeError::Io(std::io::Error::other("disk gone"));
    assert_eq!(tape.to_string(), "cannot read: disk gone");
    assert!(tape.source().is_none());
    let sink: ReadError<std::io::Error> = ReadError::Sink(std::io::Error::other("db full"));
    assert_eq!(sink.to_string(), "db full");
    assert!(sink.source().is_none());
}

/// The sink's own error comes back as itself, typed, and stops the read at that item.
#[test]
fn a_sink_error_comes_back_typed_and_stops_the_read() {
    #[derive(Debug, PartialEq)]
    struct Full(usize);
    let mut seen = 0;
    let got = read_events(
        &b"{\"type\":\"a\"}\n{\"type\":\"b\"}\n{\"type\":\"c\"}\n"[..],
        &mut |_| {
            seen += 1;
            if seen == 2 { Err(Full(seen)) } else { Ok(()) }
        },
        &mut |_| {},
    );
    assert!(matches!(got, Err(ReadError::Sink(Full(2)))), "{got:?}");
    assert_eq!(seen, 2);
}

/// A reader handing out `piece` bytes at a time.
struct Trickle<'a>(&'a [u8], usize);

impl std::io::Read for Trickle<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.0.len().min(self.1).min(buf.len());
        buf[..n].copy_from_slice(&self.0[..n]);
        self.0 = &self.0[n..];
        Ok(n)
    }
}

impl std::io::BufRead for Trickle<'_> {
    fn fill_buf(&mut self) -> std::io::Result<&[u8]> {
        Ok(&self.0[..self.0.len().min(self.1)])
    }

    fn consume(&mut self, n: usize) {
        self.0 = &self.0[n..];
    }
}

#[test]
fn jsonl_lines_read_in_the_buffer_or_copied_out_of_it_are_the_same_items() {
    // Lines read where they lie in the scanner's 64 KiB buffer, and those that do not fit (as
    // long as the buffer, longer, the last one without its newline) read the other way: around
    // every size the buffer can end at, with CRLF, blank lines and a bad byte among them.
    let line = |i: usize, len: usize| {
        let head = format!("{{\"type\":\"t{i}\",\"pad\":\"");
        let pad = len.saturating_sub(head.len() + 2);
        format!("{head}{}\"}}", "x".repeat(pad))
    };
    let sizes = [
        900, 20_000, 44_000, 65_535, 65_536, 70_000, 12, 0, 31_000, 33_000, 65_534, 5,
    ];
    let mut input = Vec::new();
    let mut want = Vec::new();
    for (i, &len) in sizes.iter().enumerate() {
        let n = i + 1;
        if len == 0 {
            input.extend_from_slice(b"\r\n");
            continue;
        }
        let text = line(i, len);
        if i == 8 {
            // A bad byte in a line that crosses a buffer's end.
            let mut bytes = text.clone().into_bytes();
            bytes[20_000] = 0xff;
            input.extend_from_slice(&bytes);
            want.push(format!("B line {n} invalid UTF-8 at column 20001"));
        } else {
            input.extend_from_slice(text.as_bytes());
            want.push(format!("E line {n} -|{text}"));
        }
        input.extend_from_slice(if i % 2 == 0 { b"\r\n" } else { b"\n" });
    }
    let last = line(99, 3_000);
    input.extend_from_slice(last.as_bytes());
    want.push(format!("E line {} -|{last}", sizes.len() + 1));
    for piece in [usize::MAX, 1_000, 4_093] {
        let mut items = Vec::new();
        read_events(
            Trickle(&input, piece),
            &mut |item| {
                items.push(match item {
                    Item::Event { origin, text, .. } => format!("E {origin} -|{text}"),
                    Item::Bad { origin, reason, .. } => format!("B {origin} {reason}"),
                    _ => "other".to_string(),
                });
                Ok::<(), std::convert::Infallible>(())
            },
            &mut |_| {},
        )
        .unwrap();
        assert_eq!(items.len(), want.len(), "pieces of {piece}");
        for (got, want) in items.iter().zip(&want) {
            assert!(got == want, "pieces of {piece}: {:.80} / {:.80}", got, want);
        }
    }
}
