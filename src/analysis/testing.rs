//! Test helpers for analysis: events as the store would hand them over, without a database.

use crate::model::envelope::Envelope;
use crate::store::EventRow;

/// Rows for JSON Lines text (one event per line, primary thread), in the store's read order:
/// by processed time, queued events last, then by line order.
pub fn rows(jsonl: &str) -> Vec<EventRow> {
    rows_on(jsonl, "")
}

/// As [`rows`], on the stream of thread `thread_id` (`""` is the primary thread).
pub fn rows_on(jsonl: &str, thread_id: &str) -> Vec<EventRow> {
    let mut out: Vec<EventRow> = jsonl
        .lines()
        .filter(|l| !l.trim().is_empty())
        .enumerate()
        .map(|(i, line)| {
            let env = Envelope::parse(line, None).expect("a valid test event");
            EventRow {
                seq: i as i64 + 1,
                event_id: env.id.to_string(),
                event_type: env.event_type.to_string(),
                processed_at: env.processed_at.as_deref().map(str::to_string),
                ts: env.ts_micros,
                thread_id: thread_id.to_string(),
                link_id: env.link_id.as_deref().map(str::to_string),
                source: "import".into(),
                received_at: String::new(),
                revision: 1,
                raw: line.to_string(),
            }
        })
        .collect();
    out.sort_by_key(|r| (r.ts.unwrap_or(i64::MAX), r.seq));
    out
}

/// The non-blank lines of the sample of session `id` (`sample-logs/`, one file).
pub fn sample_lines(id: &str) -> Vec<String> {
    let file = sample_files(false)
        .into_iter()
        .find(|f| f.to_string_lossy().contains(id))
        .expect("a sample of that session");
    let text = std::fs::read_to_string(file).expect("a readable sample");
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(str::to_string)
        .collect()
}

/// Every sample file (`sample-logs/`, and `sample-logs/real/` too when `real`), sorted: the pages
/// of one session in order.
pub fn sample_files(real: bool) -> Vec<std::path::PathBuf> {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("sample-logs");
    let dirs = if real {
        vec![root.clone(), root.join("real")]
    } else {
        vec![root]
    };
    let mut files = Vec::new();
    for d in dirs {
        for e in std::fs::read_dir(d).expect("sample-logs is readable") {
            let p = e.expect("a sample file").path();
            if matches!(
                p.extension().and_then(|e| e.to_str()),
                Some("jsonl" | "sse" | "json")
            ) {
                files.push(p);
            }
        }
    }
    files.sort();
    files
}
