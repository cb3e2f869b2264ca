#!/usr/bin/env bash
# Peak memory of `flightrec import` on odd input (issue 12.9): a ~190 MB list page (one line, as
# the API sends it, and pretty-printed), a gzip tape whose header is one 1.5 GB line, and 500 MB
# of whitespace. Inputs are generated on the fly into pipes (the tape is gzip of a pipe: a few MB
# on disk), so nothing huge is kept; everything is deleted at the end.
#
#   bash bench/memory.sh                              # target/release/flightrec
#   BIN=/tmp/flightrec-main bash bench/memory.sh      # another build (e.g. main's, for "before")
#
# Prints one line per case: the case, flightrec's exit code, peak RSS (GNU time's %M) and the
# wall time. Needs python3, gzip and /usr/bin/time (GNU time).

set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
BIN=${BIN:-target/release/flightrec}
PAGE_MB=${PAGE_MB:-190}
TAPE_LINE_MB=${TAPE_LINE_MB:-1500}
BLANK_MB=${BLANK_MB:-500}
SESSION=sesn_011CZmemoryBench00000000001
TMP=$(mktemp -d "${TMPDIR:-/tmp}/flightrec-memory.XXXXXX")
trap 'rm -rf "$TMP"' EXIT

# A list page of events of ~1 KB each, about PAGE_MB MB; PRETTY=1 puts each element on its line.
page() {
    python3 - "$PAGE_MB" "${PRETTY:-0}" <<'EOF'
import sys
mb, pretty = int(sys.argv[1]), sys.argv[2] == "1"
out = sys.stdout
pad = "x" * 900
n = mb * 1000
sep = ",\n  " if pretty else ","
out.write("{\n \"data\": [\n  " if pretty else '{"data":[')
for i in range(n):
    if i:
        out.write(sep)
    out.write('{"type":"agent.message","id":"sevt_%08d","processed_at":"2026-08-07T14:%02d:%02d.%06dZ","content":[{"type":"text","text":"%s"}]}'
              % (i, (i // 60_000_000) % 60, (i // 1_000_000) % 60, i % 1_000_000, pad))
out.write("\n ],\n \"next_page\": null\n}\n" if pretty else '],"next_page":null}\n')
EOF
}

# Runs flightrec import on standard input (or on $FILE) with GNU time; prints the figures.
measure() {
    local name=$1
    shift
    local db="$TMP/$name.db"
    rm -f "$db"*
    local status=0
    local t0=$SECONDS
    /usr/bin/time -f "%M" -o "$TMP/rss" "$BIN" --db "$db" import "$@" \
        >"$TMP/out" 2>"$TMP/err" || status=$?
    local kb
    kb=$(tail -1 "$TMP/rss")
    printf '%-22s exit %s  peak RSS %6s MB  %4ss  %s\n' "$name" "$status" "$((kb / 1024))" \
        "$((SECONDS - t0))" "$(grep -v '^Command exited' "$TMP/err" | head -1 | cut -c1-110)"
}

echo "binary: $BIN"
PRETTY=0 page | measure page-one-line --session "$SESSION" -
PRETTY=1 page | measure page-pretty --session "$SESSION" -

# A tape header that is one long line, compressed from a pipe (the file stays small).
python3 - "$TAPE_LINE_MB" <<'EOF' | gzip -1 >"$TMP/long-header.tape.gz"
import sys
out = sys.stdout
out.write('{"flightrec_tape":1,"pad":"')
block = "x" * (1 << 20)
for _ in range(int(sys.argv[1])):
    out.write(block)
out.write('"}\n')
EOF
measure tape-1.5GB-header "$TMP/long-header.tape.gz"

head -c "$((BLANK_MB * 1000 * 1000))" /dev/zero | tr '\0' ' ' |
    measure whitespace-500MB --session "$SESSION" -
