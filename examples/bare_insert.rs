//! The ceiling for `flightrec import`: the same rows, into the same schema, with nothing but a
//! prepared plain `INSERT` in one transaction. Used by `bench/import.sh`.
//!
//! ```text
//! cargo run --release --example bare_insert -- [--db PATH] [--variant V] [--parse-in-timed-region] FILE...
//! ```
//!
//! 1. Outside the timed region: reads every FILE (JSON Lines, one event per line; the session id
//!    is the `sesn_…` in the file name, as `flightrec import` does) and extracts each row's column
//!    values with `Envelope::parse`, keeping them in memory.
//! 2. Creates a fresh database with `Store::open` (identical schema and indexes), drops the Store,
//!    and opens a plain `rusqlite::Connection` with flightrec's pragmas.
//! 3. Timed: `BEGIN`, the session keys, one prepared `INSERT INTO event_rows (...) VALUES (...)`
//!    per row (the columns flightrec fills: seq, sess, thread_id '', event_id NULL, dedup_key =
//!    the id, type, processed_at, sort_ts, link_id, source 'import', received_at, raw), `COMMIT`; then, timed
//!    apart, `PRAGMA wal_checkpoint(TRUNCATE)` (flightrec import ends with the same checkpoint,
//!    and closing the last connection would do it anyway).
//!
//! Variants (`--variant`):
//! - `full` (default): the settings `flightrec import` uses for a bulk import (`Store::begin_bulk`):
//!   16 KiB pages (from `Store::open`), WAL (imports stay in WAL so readers keep reading), a
//!   256 MiB page cache, synchronous=NORMAL, all of flightrec's indexes on `event_rows`, and the
//!   WAL checkpointed by a second connection beside the inserting one (`WalCheckpointer`), whose
//!   own automatic checkpoints are off. Without that, a run past one second paid SQLite's inline
//!   checkpoint after its first commit and took up to 40 % longer, which made the ceiling noisy.
//! - `delete`: as `full` but journal_mode=DELETE (what bulk imports used before they stayed in
//!   WAL: pages written once, but readers locked out while it commits).
//! - `wal`: WAL and the default 2 MB cache, as a database in normal use (what bulk mode avoids).
//! - `two-index`: as `full` (checkpoints beside it too) but without `event_rows_type`: the table, its unique key and one time
//!   index.
//! - `journal-off`: as `full` but journal_mode=OFF (not crash-safe).
//!
//! Diagnostics (not part of the ceiling): `--page-size N` rebuilds the empty database with that
//! page size; `--pragma NAME=VALUE` (repeatable) sets a pragma after flightrec's.
//!
//! `--rows-from DB` (what bench/scale.sh and bench/import.sh compare with): the rows exactly as
//! `flightrec import` stored them in DB (every column, event text compressed as the import
//! compressed it, and its dictionaries), read outside the timed region, then inserted as the
//! import writes them: a commit at least every second (`record/import.rs`). FILE is then unused
//! for the rows but may be given. The ceiling of the same rows written the same way.
//!
//! `--parse-in-timed-region` moves step 1's reading and parsing inside the timed region (a
//! diagnostic: the difference from the plain run is what parsing costs).
//!
//! Prints one JSON line: rows, insert_s (BEGIN..COMMIT), checkpoint_s, total_s (the two together;
//! the figure to compare with a whole `flightrec import`), rows_per_s (rows / total_s), the
//! untimed preparation time, and the database size.

use rusqlite::{Connection, params};
use std::error::Error;
use std::path::PathBuf;
use std::time::Instant;

use flightrec::model::Envelope;
use flightrec::model::time::now;
use flightrec::record::session_id_from_name;
use flightrec::store::{BULK_CHECKPOINT_EVERY, QUEUED_SORT_TS, Store, WalCheckpointer};

type Res<T> = Result<T, Box<dyn Error>>;

#[derive(Clone, Copy, PartialEq)]
enum Variant {
    Full,
    Delete,
    Wal,
    TwoIndex,
    JournalOff,
}

impl Variant {
    fn name(self) -> &'static str {
        match self {
            Variant::Full => "full",
            Variant::Delete => "delete",
            Variant::Wal => "wal",
            Variant::TwoIndex => "two-index",
            Variant::JournalOff => "journal-off",
        }
    }
}

struct Opts {
    db: PathBuf,
    variant: Variant,
    parse_timed: bool,
    page_size: Option<u32>,
    pragmas: Vec<(String, String)>,
    files: Vec<PathBuf>,
    rows_from: Option<PathBuf>,
}

fn parse_args() -> Res<Opts> {
    let mut o = Opts {
        db: PathBuf::from("bare_insert.db"),
        variant: Variant::Full,
        parse_timed: false,
        page_size: None,
        pragmas: Vec::new(),
        files: Vec::new(),
        rows_from: None,
    };
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--db" => o.db = args.next().ok_or("--db needs a value")?.into(),
            "--variant" => {
                o.variant = match args.next().as_deref() {
                    Some("full") => Variant::Full,
                    Some("delete") => Variant::Delete,
                    Some("two-index") => Variant::TwoIndex,
                    Some("journal-off") => Variant::JournalOff,
                    Some("wal") => Variant::Wal,
                    other => {
                        return Err(format!(
                            "--variant {other:?}: expected full, delete, wal, two-index or journal-off"
                        )
                        .into());
                    }
                }
            }
            "--parse-in-timed-region" => o.parse_timed = true,
            "--rows-from" => {
                o.rows_from = Some(args.next().ok_or("--rows-from needs a value")?.into())
            }
            "--page-size" => {
                let v = args.next().ok_or("--page-size needs a value")?;
                o.page_size = Some(v.parse().map_err(|e| format!("--page-size {v}: {e}"))?);
            }
            "--pragma" => {
                let v = args.next().ok_or("--pragma needs NAME=VALUE")?;
                let (k, val) = v.split_once('=').ok_or("--pragma needs NAME=VALUE")?;
                o.pragmas.push((k.to_string(), val.to_string()));
            }
            "-h" | "--help" => {
                println!(
                    "bare_insert [--db PATH] [--variant full|delete|wal|two-index|journal-off] [--parse-in-timed-region]\n            [--page-size N] [--pragma NAME=VALUE]... FILE..."
                );
                std::process::exit(0);
            }
            f if !f.starts_with("--") => o.files.push(f.into()),
            other => return Err(format!("unknown argument {other}").into()),
        }
    }
    if o.files.is_empty() && o.rows_from.is_none() {
        return Err("no input FILE".into());
    }
    Ok(o)
}

/// One input file, read whole; rows borrow from its text.
struct Input {
    session_id: String,
    text: String,
}

fn read_inputs(files: &[PathBuf]) -> Res<Vec<Input>> {
    files
        .iter()
        .map(|f| {
            let session_id = session_id_from_name(f)
                .ok_or_else(|| format!("{}: no sesn_ id in the file name", f.display()))?;
            Ok(Input {
                session_id,
                text: std::fs::read_to_string(f)?,
            })
        })
        .collect()
}

/// The column values of one row, as flightrec derives them.
struct Row<'a> {
    session: usize,
    env: Envelope<'a>,
}

fn extract(inputs: &[Input]) -> Res<Vec<Row<'_>>> {
    let mut rows = Vec::new();
    for (i, input) in inputs.iter().enumerate() {
        for line in input.text.split('\n') {
            if line.trim_ascii().is_empty() {
                continue;
            }
            let env = Envelope::parse(line, None).map_err(|e| format!("line: {e}"))?;
            if env.id.is_empty() {
                return Err("an event without id: bare_insert keys rows by id only".into());
            }
            rows.push(Row { session: i, env });
        }
    }
    Ok(rows)
}

/// The connection to insert on and, for the bulk variants, the checkpoints beside it.
type Opened = (Connection, Option<WalCheckpointer>);

fn open(o: &Opts) -> Res<Opened> {
    let (db, variant) = (o.db.as_path(), o.variant);
    for suffix in ["", "-wal", "-shm"] {
        let mut p = db.as_os_str().to_owned();
        p.push(suffix);
        let _ = std::fs::remove_file(PathBuf::from(p));
    }
    drop(Store::open(db)?);
    let conn = Connection::open(db)?;
    conn.pragma_update(None, "busy_timeout", "5000")?;
    let journal = match variant {
        Variant::JournalOff => "OFF",
        Variant::Delete => "DELETE",
        Variant::Wal | Variant::Full | Variant::TwoIndex => "WAL",
    };
    conn.pragma_update(None, "journal_mode", journal)?;
    if variant != Variant::Wal {
        conn.pragma_update(None, "cache_size", -262_144)?;
    }
    conn.pragma_update(None, "synchronous", "NORMAL")?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    if let Some(size) = o.page_size {
        // The page size of a WAL database is fixed: leave WAL, rebuild the (empty) file, go back.
        conn.pragma_update(None, "journal_mode", "DELETE")?;
        conn.pragma_update(None, "page_size", size)?;
        conn.execute_batch("VACUUM")?;
        conn.pragma_update(None, "journal_mode", journal)?;
    }
    for (k, v) in &o.pragmas {
        conn.pragma_update(None, k, v)?;
    }
    if variant == Variant::TwoIndex {
        conn.execute_batch("DROP INDEX event_rows_type")?;
    }
    // As `Store::begin_bulk`: the writing connection never checkpoints, another one does beside
    // it (started here, before the timed region, as the import starts it before reading).
    let beside = if matches!(variant, Variant::Full | Variant::TwoIndex) {
        conn.pragma_update(None, "wal_autocheckpoint", 0)?;
        Some(WalCheckpointer::start(db, BULK_CHECKPOINT_EVERY)?)
    } else {
        None
    };
    Ok((conn, beside))
}

/// Into the table behind the `events` view (migration 0013): the session as its key, the id once
/// (`event_id` NULL: the same as the dedup key); the times as text.
const INSERT: &str = "INSERT INTO event_rows (seq, sess, thread_id, event_id, dedup_key, type, processed_at, \
     sort_ts, link_id, source, received_at, raw) VALUES (?1, ?2, '', NULL, ?3, ?4, ?5, ?6, ?7, 'import', ?8, ?9)";

fn insert_all(conn: &Connection, inputs: &[Input], rows: &[Row<'_>], received_at: &str) -> Res<()> {
    conn.execute_batch("BEGIN IMMEDIATE")?;
    {
        let mut keys =
            conn.prepare("INSERT INTO session_keys (key, session_id) VALUES (?1, ?2)")?;
        for (key, input) in (1i64..).zip(inputs) {
            keys.execute(params![key, input.session_id])?;
        }
        let mut counts = vec![0i64; inputs.len()];
        let mut stmt = conn.prepare(INSERT)?;
        for (seq, r) in (1i64..).zip(rows) {
            let e = &r.env;
            stmt.execute(params![
                seq,
                r.session as i64 + 1,
                e.id.as_ref(),
                e.event_type.as_ref(),
                e.processed_at.as_deref(),
                e.ts_micros.unwrap_or(QUEUED_SORT_TS),
                e.link_id.as_deref(),
                received_at,
                e.raw,
            ])?;
            counts[r.session] += 1;
        }
        let mut sessions =
            conn.prepare("INSERT INTO sessions (id, event_count) VALUES (?1, ?2)")?;
        for (input, n) in inputs.iter().zip(counts) {
            sessions.execute(params![input.session_id, n])?;
        }
    }
    conn.execute_batch("COMMIT")?;
    Ok(())
}

/// Every row of `table` in `db`, each column as stored.
fn stored_rows(db: &std::path::Path, table: &str) -> Res<Vec<Vec<rusqlite::types::Value>>> {
    let c = Connection::open_with_flags(db, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)?;
    let mut stmt = c.prepare(&format!("SELECT * FROM {table} ORDER BY rowid"))?;
    let n = stmt.column_count();
    let rows = stmt
        .query_map([], |r| (0..n).map(|i| r.get(i)).collect())?
        .collect::<rusqlite::Result<_>>()?;
    Ok(rows)
}

/// Inserts `tables`' rows as stored, committing at least every second as the import does.
fn insert_stored(
    conn: &Connection,
    tables: &[(&str, Vec<Vec<rusqlite::types::Value>>)],
) -> Res<()> {
    conn.execute_batch("BEGIN IMMEDIATE")?;
    let mut last = Instant::now();
    for (table, rows) in tables {
        let Some(first) = rows.first() else { continue };
        let marks = vec!["?"; first.len()].join(", ");
        let sql = format!("INSERT INTO {table} VALUES ({marks})");
        for (i, row) in rows.iter().enumerate() {
            conn.prepare_cached(&sql)?
                .execute(rusqlite::params_from_iter(row))?;
            if i % 1024 == 0 && last.elapsed().as_secs_f64() >= 1.0 {
                conn.execute_batch("COMMIT; BEGIN IMMEDIATE")?;
                last = Instant::now();
            }
        }
    }
    conn.execute_batch("COMMIT")?;
    Ok(())
}

fn main() -> Res<()> {
    let o = parse_args()?;
    if let Some(from) = &o.rows_from {
        let tables = [
            "zstd_dicts",
            "sessions",
            "session_keys",
            "event_rows",
            "event_errors",
        ]
        .into_iter()
        .map(|t| Ok((t, stored_rows(from, t)?)))
        .collect::<Res<Vec<_>>>()?;
        let rows = tables
            .iter()
            .find(|(t, _)| *t == "event_rows")
            .map_or(0, |(_, r)| r.len());
        let prep_started = Instant::now();
        let opened = open(&o)?;
        let prepare_s = prep_started.elapsed().as_secs_f64();
        let started = Instant::now();
        insert_stored(&opened.0, &tables)?;
        let insert_s = started.elapsed().as_secs_f64();
        return finish(&o, opened, rows, prepare_s, insert_s);
    }
    let received_at = now();
    let prep_started = Instant::now();
    let opened = open(&o)?;
    let conn = &opened.0;
    if o.parse_timed {
        let prepare_s = prep_started.elapsed().as_secs_f64();
        let started = Instant::now();
        let inputs = read_inputs(&o.files)?;
        let rows = extract(&inputs)?;
        insert_all(conn, &inputs, &rows, &received_at)?;
        let insert_s = started.elapsed().as_secs_f64();
        finish(&o, opened, rows.len(), prepare_s, insert_s)
    } else {
        let inputs = read_inputs(&o.files)?;
        let rows = extract(&inputs)?;
        let prepare_s = prep_started.elapsed().as_secs_f64();
        let started = Instant::now();
        insert_all(conn, &inputs, &rows, &received_at)?;
        let insert_s = started.elapsed().as_secs_f64();
        finish(&o, opened, rows.len(), prepare_s, insert_s)
    }
}

/// Checkpoints (timed apart), closes and prints the result line.
fn finish(o: &Opts, (conn, beside): Opened, rows: usize, prepare_s: f64, insert_s: f64) -> Res<()> {
    let page_size: i64 = conn.query_row("PRAGMA page_size", [], |r| r.get(0))?;
    let cp_started = Instant::now();
    // As `Store::end_bulk` and the import's last checkpoint.
    drop(beside);
    if o.variant != Variant::JournalOff {
        conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))?;
    }
    drop(conn);
    let checkpoint_s = cp_started.elapsed().as_secs_f64();
    let total_s = insert_s + checkpoint_s;
    let db_bytes = std::fs::metadata(&o.db)?.len();
    let line = serde_json::json!({
        "tool": "bare_insert",
        "variant": o.variant.name(),
        "parse_in_timed_region": o.parse_timed,
        "page_size": page_size,
        "pragmas": o.pragmas.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>(),
        "rows": rows,
        "prepare_s": round3(prepare_s),
        "insert_s": round3(insert_s),
        "checkpoint_s": round3(checkpoint_s),
        "total_s": round3(total_s),
        "rows_per_s": (rows as f64 / total_s).round(),
        "db_bytes": db_bytes,
        "sqlite_version": rusqlite::version(),
    });
    println!("{line}");
    Ok(())
}

fn round3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}
