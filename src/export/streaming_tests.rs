//! The traces written from a scan of the store equal, byte for byte, the ones written from the
//! whole session read into memory, on every sample, whether their sorts stay in memory or spill
//! to disk.

use std::path::{Path, PathBuf};

use crate::doc::SessionDoc;
use crate::record::{ImportOptions, import_file};
use crate::store::Store;

/// Every recording under `dir`, sub-folders included, in name order.
fn recordings(dir: &Path, into: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            recordings(&path, into);
        } else if matches!(
            path.extension().and_then(|e| e.to_str()),
            Some("jsonl" | "sse" | "json")
        ) {
            into.push(path);
        }
    }
}

/// A store holding every sample, and the directory that keeps it.
pub(crate) fn every_sample() -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(&dir.path().join("s.db")).unwrap();
    let mut files = Vec::new();
    recordings(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("sample-logs"),
        &mut files,
    );
    files.sort();
    for f in &files {
        // Files that are not recordings of a session (deployment runs) are refused: skip them.
        let _ = import_file(&mut store, f, &ImportOptions::default(), &mut |_, _| {});
    }
    (dir, store)
}

#[test]
fn perfetto_from_the_store_equals_perfetto_from_the_whole_session_on_every_sample() {
    let (_dir, store) = every_sample();
    let sessions = store.sessions().unwrap();
    assert!(sessions.len() >= 20, "{} sessions", sessions.len());
    for summary in sessions {
        let doc = SessionDoc::load(&store, &summary.id).unwrap();
        let mut whole = Vec::new();
        super::perfetto::write_perfetto(&doc, &mut whole).unwrap();
        assert!(whole.len() > 100);
        // Sorted in memory, and spilled to disk item by item.
        for budget in [super::spill::BUDGET, 0] {
            let mut scanned = Vec::new();
            super::perfetto::write_perfetto_within(&store, &summary, budget, &mut scanned).unwrap();
            assert_eq!(
                String::from_utf8_lossy(&scanned),
                String::from_utf8_lossy(&whole),
                "{}",
                summary.id
            );
        }
    }
}

#[cfg(feature = "otlp")]
#[test]
fn otlp_from_the_store_equals_otlp_from_the_whole_session_on_every_sample() {
    use super::otlp::{Trace, otlp_request, write_otlp_json};
    let (_dir, store) = every_sample();
    let sessions = store.sessions().unwrap();
    assert!(sessions.len() >= 20, "{} sessions", sessions.len());
    for summary in sessions {
        let doc = SessionDoc::load(&store, &summary.id).unwrap();
        let req = otlp_request(&doc);
        // The request serialized whole, as the export wrote it before it streamed.
        let mut whole = serde_json::to_vec(&req).unwrap();
        whole.push(b'\n');
        // Held in memory, and spilled to disk span by span.
        for budget in [super::spill::BUDGET, 0] {
            let trace = Trace::from_store_within(&store, &summary, budget).unwrap();
            assert_eq!(trace.request().unwrap(), req, "{}", summary.id);
            let mut scanned = Vec::new();
            trace.write_json(&mut scanned).unwrap();
            assert_eq!(
                String::from_utf8_lossy(&scanned),
                String::from_utf8_lossy(&whole),
                "{}",
                summary.id
            );
        }
        let mut from_doc = Vec::new();
        write_otlp_json(&doc, &mut from_doc).unwrap();
        assert_eq!(from_doc, whole, "{}", summary.id);
    }
}
