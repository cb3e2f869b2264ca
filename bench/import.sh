#!/usr/bin/env bash
# Import benchmark (issue 2): flightrec import vs a bare-INSERT ceiling vs sqlite-utils, plus the
# latency of `sessions` and `timeline` on the imported database. All figures come from one run, so
# the ratios compare like with like on a noisy machine. See BENCHMARKS.md.
#
#   bash bench/import.sh                 # 1,000,000 events (several minutes)
#   EVENTS=100000 bash bench/import.sh   # quick iteration
#
# Environment:
#   EVENTS=N          events to generate and import (default 1000000)
#   SESSIONS=S        sessions (one file each) (default 1)
#   SEED=X            generator seed (default 42)
#   IMPORT_RUNS=K     flightrec import and the ceiling are each run K times, alternating; the median
#                     is reported (default 3)
#   QUERY_RUNS=K      runs of each query; the median is reported (default 5, after one warm-up)
#   SU_EVENTS=N       run sqlite-utils on the first N events only and extrapolate linearly
#                     (default: all events; set e.g. 100000 to save ~2 minutes at 1M)
#   SKIP_SQLITE_UTILS=1  skip the sqlite-utils comparison
#   REV=...           what to call the measured source (default: git HEAD, +dirty if src/ differs)
#
# Needs: cargo, python3 (with venv; sqlite-utils is installed into bench/.venv on first use),
# /usr/bin/time (GNU time, for peak RSS). Generated data and databases go to bench/data/
# (git-ignored); the figures of the last run are also written to bench/data/import-last.json.

set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
ROOT=$PWD

EVENTS=${EVENTS:-1000000}
SESSIONS=${SESSIONS:-1}
SEED=${SEED:-42}
IMPORT_RUNS=${IMPORT_RUNS:-3}
QUERY_RUNS=${QUERY_RUNS:-5}
SU_EVENTS=${SU_EVENTS:-$EVENTS}
SKIP_SQLITE_UTILS=${SKIP_SQLITE_UTILS:-0}
SQLITE_UTILS_VERSION=${SQLITE_UTILS_VERSION:-4.2.1}

DATA=$ROOT/bench/data
mkdir -p "$DATA"
BIN=$ROOT/target/release

log() { printf '%s\n' "bench: $*" >&2; }

if [[ ! -x /usr/bin/time ]]; then
    log "needs GNU time at /usr/bin/time (apt-get install -y time)"
    exit 1
fi

# ---------------------------------------------------------------- build
log "building release binaries"
cargo build --release --quiet --bin flightrec --example synth --example bare_insert

# ---------------------------------------------------------------- data
# The cache key includes the generator's source, so editing synth.rs regenerates.
GEN_HASH=$(sha256sum examples/synth.rs | cut -c1-10)
STEM=$DATA/synth-$EVENTS-s$SESSIONS-seed$SEED-$GEN_HASH
MANIFEST=$STEM.manifest.json
if [[ $SESSIONS == 1 ]]; then
    OUT=$STEM.sesn_011CZsynth00000000000001.jsonl
else
    OUT=$STEM.jsonl # a pattern: one file per session is written beside it
fi
if [[ ! -s $MANIFEST ]]; then
    log "generating $EVENTS events in $SESSIONS session(s)"
    "$BIN/examples/synth" --events "$EVENTS" --sessions "$SESSIONS" --seed "$SEED" --out "$OUT" \
        >"$MANIFEST.tmp"
    mv "$MANIFEST.tmp" "$MANIFEST"
else
    log "using cached data ($MANIFEST)"
fi
mapfile -t FILES < <(python3 -c 'import json,sys; [print(f["path"]) for f in json.load(open(sys.argv[1]))["files"]]' "$MANIFEST")
FIRST_SESSION=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["files"][0]["session"])' "$MANIFEST")
INPUT_BYTES=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["bytes"])' "$MANIFEST")
# Warm the page cache, so every tool reads the input from memory alike.
cat "${FILES[@]}" >/dev/null
# What is measured: the commit, and whether the sources differ from it.
# (REV=... in the environment overrides, e.g. for a copy of the tree without .git.)
if [[ -z ${REV:-} ]]; then
    if REV=$(git rev-parse --short HEAD 2>/dev/null); then
        [[ -z $(git status --porcelain -- src Cargo.toml Cargo.lock 2>/dev/null) ]] || REV="$REV+dirty"
    else
        REV=unknown
    fi
fi

# ---------------------------------------------------------------- helpers
WALL_S=0
RSS_KB=0
# timed OUTFILE CMD...: runs CMD under GNU time; sets WALL_S (whole process) and RSS_KB (peak).
timed() {
    local out=$1
    shift
    local tv
    tv=$(mktemp)
    local t0 t1
    # Flush the previous runs' dirty pages first (each run writes ~1 GB at 1M events), so the
    # kernel's write-back does not land inside this measurement.
    sync
    t0=$(date +%s%N)
    /usr/bin/time -v -o "$tv" "$@" >"$out"
    t1=$(date +%s%N)
    WALL_S=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", (b - a) / 1e9 }')
    RSS_KB=$(awk -F': ' '/Maximum resident set size/ { print $2 }' "$tv")
    rm -f "$tv"
}

median() {
    printf '%s\n' "$@" | sort -g | awk '{ a[NR] = $1 } END { if (NR % 2) print a[(NR + 1) / 2]; else printf "%.3f\n", (a[NR / 2] + a[NR / 2 + 1]) / 2 }'
}

rmdb() { rm -f "$1" "$1-wal" "$1-shm" "$1-journal"; }

dbsize() {
    local s=0 f
    for f in "$1" "$1-wal"; do
        [[ -f $f ]] && s=$((s + $(stat -c %s "$f")))
    done
    echo "$s"
}

json_field() { python3 -c 'import json,sys; print(json.loads(sys.stdin.read())[sys.argv[1]])' "$1"; }

# ---------------------------------------------------------------- (a) + (b): import vs ceiling
FR_DB=$DATA/import-flightrec.db
BARE_DB=$DATA/import-bare.db
OUTF=$(mktemp)
trap 'rm -f "$OUTF"' EXIT

fr_wall=()
fr_rss=()
bare_total=()
bare_insert=()
bare_rss=()
for run in $(seq 1 "$IMPORT_RUNS"); do
    log "run $run/$IMPORT_RUNS: flightrec import"
    rmdb "$FR_DB"
    timed "$OUTF" "$BIN/flightrec" --db "$FR_DB" import "${FILES[@]}"
    fr_wall+=("$WALL_S")
    fr_rss+=("$RSS_KB")
    log "  ${WALL_S}s, peak RSS ${RSS_KB} KB"

    log "run $run/$IMPORT_RUNS: bare insert ceiling"
    timed "$OUTF" "$BIN/examples/bare_insert" --db "$BARE_DB" --variant full "${FILES[@]}"
    bare_total+=("$(json_field total_s <"$OUTF")")
    bare_insert+=("$(json_field insert_s <"$OUTF")")
    bare_rss+=("$RSS_KB")
    BARE_JSON=$(cat "$OUTF")
    log "  $BARE_JSON"
done
FR_DB_BYTES=$(dbsize "$FR_DB")
BARE_DB_BYTES=$(dbsize "$BARE_DB")
SQLITE_VERSION=$(json_field sqlite_version <<<"$BARE_JSON")

# Is the import complete? Every event must be in the database.
IMPORTED=$("$BIN/flightrec" --db "$FR_DB" sessions --json |
    python3 -c 'import json,sys; print(sum(s["event_count"] for s in json.load(sys.stdin)))')
if [[ $IMPORTED != "$EVENTS" ]]; then
    log "flightrec imported $IMPORTED events, expected $EVENTS"
    exit 1
fi

# Informational variants of the ceiling (one run each).
log "ceiling variants: two-index, journal-off, parse-in-timed-region, wal (default cache), delete"
timed "$OUTF" "$BIN/examples/bare_insert" --db "$BARE_DB" --variant two-index "${FILES[@]}"
TWO_INDEX_S=$(json_field total_s <"$OUTF")
timed "$OUTF" "$BIN/examples/bare_insert" --db "$BARE_DB" --variant journal-off "${FILES[@]}"
JOURNAL_OFF_S=$(json_field total_s <"$OUTF")
timed "$OUTF" "$BIN/examples/bare_insert" --db "$BARE_DB" --variant full --parse-in-timed-region "${FILES[@]}"
WITH_PARSE_S=$(json_field total_s <"$OUTF")
timed "$OUTF" "$BIN/examples/bare_insert" --db "$BARE_DB" --variant wal "${FILES[@]}"
WAL_S=$(json_field total_s <"$OUTF")
timed "$OUTF" "$BIN/examples/bare_insert" --db "$BARE_DB" --variant delete "${FILES[@]}"
DELETE_S=$(json_field total_s <"$OUTF")
rmdb "$BARE_DB"

# ---------------------------------------------------------------- (c): sqlite-utils
SU_WALL=""
SU_RSS=""
SU_MEASURED_S=""
SU_DB_BYTES=""
if [[ $SKIP_SQLITE_UTILS != 1 ]]; then
    VENV=$ROOT/bench/.venv
    if [[ ! -x $VENV/bin/sqlite-utils ]]; then
        log "installing sqlite-utils $SQLITE_UTILS_VERSION into bench/.venv"
        python3 -m venv "$VENV"
        "$VENV/bin/pip" install --quiet "sqlite-utils==$SQLITE_UTILS_VERSION"
    fi
    SU_INPUT=${FILES[0]}
    if ((SU_EVENTS < EVENTS)) || ((${#FILES[@]} > 1)); then
        SU_INPUT=$STEM.first$SU_EVENTS.jsonl
        [[ -s $SU_INPUT ]] || cat "${FILES[@]}" | head -n "$SU_EVENTS" >"$SU_INPUT"
    fi
    SU_DB=$DATA/import-sqlite-utils.db
    rmdb "$SU_DB"
    log "sqlite-utils insert on $SU_EVENTS events"
    # --alter: event types have different keys, and sqlite-utils refuses new columns without it.
    timed "$OUTF" "$VENV/bin/sqlite-utils" insert "$SU_DB" events "$SU_INPUT" --nl --alter
    SU_MEASURED_S=$WALL_S
    SU_RSS=$RSS_KB
    SU_DB_BYTES=$(dbsize "$SU_DB")
    SU_WALL=$(awk -v t="$WALL_S" -v a="$EVENTS" -v b="$SU_EVENTS" 'BEGIN { printf "%.3f", t * a / b }')
    SU_PYTHON_SQLITE=$("$VENV/bin/python" -c 'import sqlite3; print(sqlite3.sqlite_version)')
    rmdb "$SU_DB"
    log "  ${SU_MEASURED_S}s, peak RSS ${SU_RSS} KB"
fi

# ---------------------------------------------------------------- (d): queries on the imported DB
query_ms() {
    local times=() i t0 t1
    "$@" >/dev/null # warm-up
    for i in $(seq 1 "$QUERY_RUNS"); do
        t0=$(date +%s%N)
        "$@" >/dev/null
        t1=$(date +%s%N)
        times+=("$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", (b - a) / 1e6 }')")
    done
    median "${times[@]}"
}
log "queries: sessions, timeline --limit 50 (median of $QUERY_RUNS)"
SESSIONS_MS=$(query_ms "$BIN/flightrec" --db "$FR_DB" sessions)
TIMELINE_MS=$(query_ms "$BIN/flightrec" --db "$FR_DB" timeline "$FIRST_SESSION" --limit 50)

# ---------------------------------------------------------------- summary
export REV EVENTS SESSIONS SEED IMPORT_RUNS QUERY_RUNS SU_EVENTS INPUT_BYTES GEN_HASH SQLITE_VERSION
export FR_WALL=$(median "${fr_wall[@]}") FR_RSS=$(median "${fr_rss[@]}") FR_DB_BYTES
export BARE_TOTAL=$(median "${bare_total[@]}") BARE_INSERT=$(median "${bare_insert[@]}")
export BARE_RSS=$(median "${bare_rss[@]}") BARE_DB_BYTES
export FR_WALLS="${fr_wall[*]}" BARE_TOTALS="${bare_total[*]}"
export TWO_INDEX_S JOURNAL_OFF_S WITH_PARSE_S WAL_S DELETE_S
export SU_WALL SU_RSS SU_MEASURED_S SU_DB_BYTES SU_PYTHON_SQLITE=${SU_PYTHON_SQLITE:-}
export SESSIONS_MS TIMELINE_MS
export CPU=$(lscpu 2>/dev/null | awk -F': +' '/Model name/ { print $2; exit }')
export NPROC=$(nproc) MEM_GIB=$(awk '/MemTotal/ { printf "%.0f", $2 / 1048576 }' /proc/meminfo)
export RUSTC=$(rustc --version) KERNEL=$(uname -r) DATE=$(date -u +%Y-%m-%dT%H:%MZ)
export RESULT_JSON=$DATA/import-last.json

python3 - <<'PY'
import json, os

e = os.environ
n = int(e["EVENTS"])
fr = float(e["FR_WALL"])
bare = float(e["BARE_TOTAL"])
su = float(e["SU_WALL"]) if e["SU_WALL"] else None
extrapolated = su is not None and int(e["SU_EVENTS"]) < n
ses_ms = float(e["SESSIONS_MS"])
tl_ms = float(e["TIMELINE_MS"])
mib = lambda b: f"{int(b) / 1048576:,.0f} MiB" if b else "-"

def row(name, secs, rss_kb, db, note=""):
    rate = f"{n / secs:,.0f}" if secs else "-"
    rss = f"{int(rss_kb) / 1024:,.0f} MiB" if rss_kb else "-"
    return f"| {name} | {secs:,.2f} s | {rate} | {rss} | {mib(db)} | {note} |"

print()
print(f"Import benchmark: {n:,} events, {e['SESSIONS']} session(s), {int(e['INPUT_BYTES']) / 1048576:,.0f} MiB JSONL "
      f"(mean {int(e['INPUT_BYTES']) / n:,.0f} B/event), seed {e['SEED']}, generator {e['GEN_HASH']}")
print(f"Source: {e['REV']}; date {e['DATE']}")
print(f"Machine: {e['CPU']}, {e['NPROC']} cores, {e['MEM_GIB']} GiB; {e['RUSTC']}; SQLite {e['SQLITE_VERSION']}")
print()
print("| what | time | events/s | peak RSS | DB size | notes |")
print("|---|---:|---:|---:|---:|---|")
print(row("flightrec import", fr, e["FR_RSS"], e["FR_DB_BYTES"],
          f"whole process, median of {e['IMPORT_RUNS']} ({e['FR_WALLS']})"))
print(row("bare INSERT ceiling", bare, e["BARE_RSS"], e["BARE_DB_BYTES"],
          f"timed region (insert+commit+checkpoint), median of {e['IMPORT_RUNS']} ({e['BARE_TOTALS']}); "
          "RSS includes the pre-parsed input held in memory"))
print(row("ceiling, two indexes", float(e["TWO_INDEX_S"]), None, None, "unique key + events_time only"))
print(row("ceiling, journal_mode=OFF", float(e["JOURNAL_OFF_S"]), None, None, "no journal at all; not crash-safe"))
print(row("ceiling + read/parse timed", float(e["WITH_PARSE_S"]), None, None, "Envelope::parse inside the timed region"))
print(row("ceiling, WAL + default cache", float(e["WAL_S"]), None, None, "a database in normal use: what the bulk cache avoids"))
print(row("ceiling, rollback journal", float(e["DELETE_S"]), None, None, "journal_mode=DELETE: what imports used before; locks readers out"))
if su is not None:
    note = f"sqlite-utils insert --nl --alter (Python sqlite3 {e['SU_PYTHON_SQLITE']})"
    if extrapolated:
        note += f"; EXTRAPOLATED from {int(e['SU_EVENTS']):,} events ({float(e['SU_MEASURED_S']):.2f} s)"
    print(row("sqlite-utils", su, e["SU_RSS"], e["SU_DB_BYTES"] if not extrapolated else None, note))
print()

checks = []
def check(name, value, target, ok):
    checks.append({"name": name, "value": value, "target": target, "ok": ok})
    print(f"| {name} | {value} | {target} | {'met' if ok else 'MISSED'} |")

print("| ratio / figure | value | target | |")
print("|---|---:|---|---|")
check("flightrec / ceiling time", f"{fr / bare:.3f}", "<= 1.3", fr / bare <= 1.3)
if su is not None:
    check("sqlite-utils / flightrec time", f"{su / fr:.1f}" + (" (extrapolated)" if extrapolated else ""),
          ">= 20", su / fr >= 20)
check("flightrec events/s", f"{n / fr:,.0f}", ">= 100,000", n / fr >= 100_000)
check("sessions (ms, median)", f"{ses_ms:.1f}", "< 100", ses_ms < 100)
check("timeline --limit 50 (ms, median)", f"{tl_ms:.1f}", "< 100", tl_ms < 100)
print()

out = {k: e.get(k) for k in [
    "REV", "DATE", "EVENTS", "SESSIONS", "SEED", "INPUT_BYTES", "GEN_HASH", "SQLITE_VERSION", "FR_WALL", "FR_WALLS", "FR_RSS",
    "FR_DB_BYTES", "BARE_TOTAL", "BARE_TOTALS", "BARE_INSERT", "BARE_RSS", "BARE_DB_BYTES", "TWO_INDEX_S",
    "JOURNAL_OFF_S", "WITH_PARSE_S", "WAL_S", "DELETE_S", "SU_WALL", "SU_EVENTS", "SU_MEASURED_S", "SU_RSS", "SU_DB_BYTES",
    "SU_PYTHON_SQLITE", "SESSIONS_MS", "TIMELINE_MS", "CPU", "NPROC", "MEM_GIB", "RUSTC", "KERNEL"]}
out["checks"] = checks
with open(e["RESULT_JSON"], "w") as f:
    json.dump(out, f, indent=1)
print(f"figures written to {e['RESULT_JSON']}")
PY
