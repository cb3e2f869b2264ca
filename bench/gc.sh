#!/usr/bin/env bash
# Retention (issue 15): `flightrec gc` of one large session (examples/synth) in a database that
# also holds the sample sessions, while a reader lists sessions in a loop and a writer imports a
# small session. Prints the gc's time and peak RSS, the database's size before and after, and
# the slowest reader and writer runs during the gc beside the same runs without it. See
# BENCHMARKS.md, "Retention".
#
#   bash bench/gc.sh                  # 1,000,000 events
#   EVENTS=200000 bash bench/gc.sh    # smaller
#   INDEX=0 bash bench/gc.sh          # without building the search index first
#
# Release build. Work files in bench/data/gc/ (git-ignored).

set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

EVENTS=${EVENTS:-1000000}
SESSION=sesn_011CZsynthGcBench0000001
DATA=bench/data/gc
mkdir -p "$DATA"
cargo build --release --quiet --bin flightrec --example synth
BIN=target/release/flightrec
SYNTH=target/release/examples/synth

FILE="$DATA/synth.$SESSION.jsonl"
if [[ ! -s $FILE || $(cat "$DATA/events" 2>/dev/null) != "$EVENTS" ]]; then
    "$SYNTH" --events "$EVENTS" --out "$FILE" >/dev/null
    echo "$EVENTS" >"$DATA/events"
fi
DB="$DATA/gc.db"
rm -f "$DB" "$DB-wal" "$DB-shm"
"$BIN" --db "$DB" import sample-logs/*.jsonl sample-logs/*.sse >/dev/null
"$BIN" --db "$DB" import "$FILE" >/dev/null
if [[ ${INDEX:-1} != 0 ]]; then # index it, so the gc also empties the index
    "$BIN" --db "$DB" search --limit 1 cargo >/dev/null 2>&1
fi

ms() { echo $(($(date +%s%N) / 1000000)); }

# A small session to import again and again (a writer beside the gc).
SMALL=sample-logs/happy-path.sesn_011CZhappyPath0000000001.jsonl

# loop NAME CMD...: runs CMD until $DATA/stop exists; prints "runs slowest_ms" to $DATA/NAME.
loop() {
    local name=$1
    shift
    local runs=0 slowest=0
    while [[ ! -e $DATA/stop ]]; do
        local t0
        t0=$(ms)
        "$@" >/dev/null 2>&1 || { echo "bench: $name failed" >&2; exit 1; }
        local d=$(($(ms) - t0))
        ((d > slowest)) && slowest=$d
        runs=$((runs + 1))
    done
    echo "$runs $slowest" >"$DATA/$name"
}

# measure SECONDS: reader and writer loops for that long with nothing else running.
baseline() {
    rm -f "$DATA/stop"
    loop reader "$BIN" --db "$DB" sessions --json &
    local r=$!
    loop writer "$BIN" --db "$DB" import "$SMALL" &
    local w=$!
    sleep "$1"
    touch "$DATA/stop"
    wait $r $w
}

baseline 5
read -r base_reads base_read_ms <"$DATA/reader"
read -r base_writes base_write_ms <"$DATA/writer"
before=$(stat -c %s "$DB")

rm -f "$DATA/stop"
loop reader "$BIN" --db "$DB" sessions --json &
r=$!
loop writer "$BIN" --db "$DB" import "$SMALL" &
w=$!
t0=$(ms)
/usr/bin/time -f "%M" -o "$DATA/rss" "$BIN" --db "$DB" gc --older-than 1d \
    --now 2100-01-01T00:00:00Z --session "$SESSION" --json >"$DATA/gc.json"
gc_ms=$(($(ms) - t0))
touch "$DATA/stop"
wait $r $w
read -r reads read_ms <"$DATA/reader"
read -r writes write_ms <"$DATA/writer"
after=$(stat -c %s "$DB")

python3 - "$DATA/gc.json" <<EOF
import json, sys
j = json.load(open(sys.argv[1]))
s = j["summary"]
print(f"gc of {s['events']:,} events ({s['rows']:,} rows): $gc_ms ms, peak RSS $(cat "$DATA/rss") KB")
print(f"database: {s['before']['page_count'] * s['before']['page_size'] / 2**20:.1f} MiB -> "
      f"{s['after']['page_count'] * s['after']['page_size'] / 2**20:.1f} MiB "
      f"(file $((before / 1048576)) MiB -> $((after / 1048576)) MiB), space back: {s['reclaimed']}")
print("reader (sessions --json): $reads runs during gc, slowest $read_ms ms; "
      "alone $base_reads runs in 5 s, slowest $base_read_ms ms")
print("writer (import of a 29-event session): $writes runs during gc, slowest $write_ms ms; "
      "alone $base_writes runs in 5 s, slowest $base_write_ms ms")
EOF
