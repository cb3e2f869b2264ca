//! The import's reading thread (record/pipeline.rs): what it stores is what the writer alone
//! would store, dictionaries included; a failure on either side ends the import with its error.

use std::io::{BufReader, Read};

use super::import::{ImportError, import_input};
use crate::model::{Envelope, Source};
use crate::store::{Incoming, Store, TimelineQuery};

const SESSION: &str = "sesn_pipeline";

/// `n` events of three types, long enough to compress, varied enough for each type to train a
/// dictionary (256 samples), with a short one, a preview, a bad line and (`update`) a newer
/// copy of an earlier event among them.
fn lines(n: usize, update: bool) -> Vec<String> {
    let mut out = Vec::new();
    for i in 0..n {
        let ts = format!(
            "2026-08-07T14:{:02}:{:02}.{:03}Z",
            i / 3600 % 60,
            i / 60 % 60,
            i % 1000
        );
        out.push(match i % 3 {
            0 => format!(
                r#"{{"type":"agent.message","id":"sevt_m{i}","processed_at":"{ts}","content":[{{"type":"text","text":"step {i}: reading the configuration of service {} before the change"}}]}}"#,
                i * 7 % 13
            ),
            1 => format!(
                r#"{{"type":"agent.tool_use","id":"sevt_u{i}","processed_at":"{ts}","name":"bash","input":{{"command":"grep -rn pattern{} /srv/app/{}"}}}}"#,
                i % 17,
                i % 5
            ),
            _ => format!(
                r#"{{"type":"agent.tool_result","id":"sevt_r{i}","processed_at":"{ts}","tool_use_id":"sevt_u{}","content":[{{"type":"text","text":"{}"}}]}}"#,
                i - 1,
                "line of output ".repeat(i % 9 + 1)
            ),
        });
        if i == n / 2 {
            if update {
                out.push(out[3].replace("reading", "re-reading"));
            }
            out.push(r#"{"type":"user.interrupt","id":"sevt_x"}"#.to_string());
            out.push(
                r#"{"type":"event_delta","event_id":"sevt_m0","delta":{"text":"st"}}"#.to_string(),
            );
            out.push("{not json".to_string());
        }
    }
    out
}

/// Every stored event's columns but received_at (the time of the import), and the
/// dictionaries, as SQL reads them.
fn contents(store: &Store) -> (Vec<String>, Vec<String>) {
    let conn = rusqlite::Connection::open(store.path()).unwrap();
    let rows = |sql: &str| -> Vec<String> {
        let mut s = conn.prepare(sql).unwrap();
        let n = s.column_count();
        s.query_map([], |r| {
            Ok((0..n)
                .map(|i| format!("{:?}", r.get_ref(i).unwrap()))
                .collect::<Vec<_>>()
                .join("|"))
        })
        .unwrap()
        .map(Result::unwrap)
        .collect()
    };
    (
        rows(
            "SELECT seq, sess, thread_id, event_id, dedup_key, type, processed_at, sort_ts, link_id, \
             source, raw, revision FROM event_rows ORDER BY seq",
        ),
        rows("SELECT id, type, dict, samples FROM zstd_dicts ORDER BY id"),
    )
}

fn import(store: &mut Store, input: &str) -> super::import::FileReport {
    import_input(
        store,
        "input.jsonl",
        Some(SESSION),
        "",
        input.as_bytes(),
        input.len() as u64,
        &mut |_, _| {},
    )
    .unwrap()
}

#[test]
fn an_import_stores_what_the_writer_alone_would_store() {
    let dir = tempfile::tempdir().unwrap();
    let input = lines(1500, false).join("\n");

    let mut piped = Store::open(&dir.path().join("piped.db")).unwrap();
    let report = import(&mut piped, &input);
    assert_eq!(report.counts.new, 1501);
    assert_eq!(report.counts.previews, 1);
    assert_eq!(report.counts.quarantined, 1);

    // The same events through the writer alone, which compresses as it inserts.
    let mut alone = Store::open(&dir.path().join("alone.db")).unwrap();
    let mut b = alone.batch().unwrap();
    for line in input.lines() {
        let Ok(env) = Envelope::parse(line, None) else {
            continue;
        };
        b.upsert(&Incoming {
            session_id: SESSION,
            thread_id: "",
            envelope: &env,
            source: Source::Import,
            received_at: "2026-12-07T00:00:00.000Z",
            preview_ordinal: 1,
        })
        .unwrap();
    }
    b.commit().unwrap();

    let (rows, dicts) = contents(&piped);
    assert_eq!((rows.len(), dicts.len()), (1501, 3), "three types trained");
    assert!(
        rows.iter().filter(|r| r.contains("Blob")).count() > 1400,
        "the long events are compressed"
    );
    let (alone_rows, alone_dicts) = contents(&alone);
    let short = |r: &str| r.chars().take(160).collect::<String>();
    assert_eq!(alone_dicts.len(), dicts.len());
    for (i, (a, b)) in alone_dicts.iter().zip(&dicts).enumerate() {
        assert!(a == b, "dictionary {i}: {} / {}", short(a), short(b));
    }
    assert_eq!(alone_rows.len(), rows.len());
    for (a, b) in alone_rows.iter().zip(&rows) {
        assert!(
            a == b,
            "the writer alone stored {}\nthe import stored {}",
            short(a),
            short(b)
        );
    }
}

#[test]
fn an_import_with_newer_copies_keeps_the_last_copy_of_each_event() {
    let dir = tempfile::tempdir().unwrap();
    let input = lines(1500, true).join("\n");
    let mut piped = Store::open(&dir.path().join("piped.db")).unwrap();
    let report = import(&mut piped, &input);
    assert_eq!((report.counts.new, report.counts.updated), (1501, 1));
    let mut got: Vec<String> = piped
        .events(SESSION, &TimelineQuery::default())
        .unwrap()
        .into_iter()
        .map(|e| e.raw)
        .collect();
    let mut last = std::collections::BTreeMap::new();
    for l in input.lines() {
        if let Some(env) = Envelope::parse(l, None).ok().filter(|e| !e.is_preview()) {
            last.insert(env.id.to_string(), l.to_string());
        }
    }
    let mut want: Vec<String> = last.into_values().collect();
    got.sort();
    want.sort();
    assert_eq!(got, want);
}

/// Reads `text`, then fails.
struct Failing<'a> {
    text: &'a [u8],
}

impl Read for Failing<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if self.text.is_empty() {
            return Err(std::io::Error::other("the disk went away"));
        }
        let n = buf.len().min(self.text.len());
        buf[..n].copy_from_slice(&self.text[..n]);
        self.text = &self.text[n..];
        Ok(n)
    }
}

#[test]
fn a_read_error_on_the_reading_thread_is_the_imports_error() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(&dir.path().join("t.db")).unwrap();
    let input = lines(900, false).join("\n");
    let err = import_input(
        &mut store,
        "input.jsonl",
        Some(SESSION),
        "",
        BufReader::new(Failing {
            text: input.as_bytes(),
        }),
        0,
        &mut |_, _| {},
    )
    .unwrap_err();
    assert!(
        matches!(&err, ImportError::Source { path, .. } if path == "input.jsonl"),
        "{err}"
    );
    assert!(err.to_string().contains("the disk went away"), "{err}");
}

#[test]
fn a_writer_that_stops_stops_the_reading_thread() {
    // No session known: the writer refuses the first event and hangs up; the reading side,
    // with far more to read than the channel holds, stops instead of waiting forever.
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(&dir.path().join("t.db")).unwrap();
    let input = lines(20_000, false).join("\n");
    let err = import_input(
        &mut store,
        "input.jsonl",
        None,
        "",
        input.as_bytes(),
        input.len() as u64,
        &mut |_, _| {},
    )
    .unwrap_err();
    assert!(matches!(err, ImportError::NoSession { .. }), "{err}");
    assert_eq!(store.sessions().unwrap().len(), 0);
}

#[test]
fn small_files_of_one_import_train_dictionaries_together() {
    // Ten files of 150 events: no one file has the 256 samples of a type a dictionary needs,
    // but one import of them all does (as the writer's own encoder, kept for the whole import,
    // always had). A compressor made afresh per file never trained one: a workspace of 10,000
    // small sessions was stored 40 % larger.
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(&dir.path().join("t.db")).unwrap();
    let all = lines(1500, false);
    for (i, part) in all.chunks(150).enumerate() {
        let input = part.join("\n");
        import_input(
            &mut store,
            &format!("part{i}.jsonl"),
            Some(&format!("sesn_part{i}")),
            "",
            input.as_bytes(),
            input.len() as u64,
            &mut |_, _| {},
        )
        .unwrap();
    }
    let conn = rusqlite::Connection::open(store.path()).unwrap();
    let dicts: i64 = conn
        .query_row("SELECT count(*) FROM zstd_dicts", [], |r| r.get(0))
        .unwrap();
    assert_eq!(dicts, 3, "one dictionary per type");
    // Rows after the training use them: a blob's first byte is its dictionary's id (0: none).
    let with_dict: i64 = conn
        .query_row(
            "SELECT count(*) FROM event_rows WHERE typeof(raw) = 'blob' AND substr(raw, 1, 1) != x'00'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert!(
        with_dict > 600,
        "{with_dict} rows compressed with a dictionary"
    );
}
