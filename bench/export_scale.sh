#!/usr/bin/env bash
# Export scale benchmark (issue 15, "every export format streams"): `export --format jsonl`,
# `jsonl --redact`, `tape`, `md`, `html`, `perfetto`, `otlp` and `diff` of two different sessions, at SMALL and at LARGE events a session,
# each timed as a whole command (median of RUNS) with its peak RSS, and the LARGE/SMALL ratio of
# each peak. A format that streams has about the same peak at both sizes (the JSON Lines export
# is the floor); diff holds a window of each side's steps (ARCHITECTURE.md, `analysis/diff`).
#
#   bash bench/export_scale.sh
#
# Environment: SMALL (default 100000), LARGE (default 1000000), RUNS (default 3),
# OUT (default /tmp/flightrec-export-scale: the generated sessions and databases).
# Needs: cargo, /usr/bin/time. The databases are made once per size and kept in OUT; the first
# import fills the kept results with this build's (`diff` reads each side's stats report there).

set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
SMALL=${SMALL:-100000}
LARGE=${LARGE:-1000000}
RUNS=${RUNS:-3}
OUT=${OUT:-/tmp/flightrec-export-scale}
BIN=$PWD/target/release
A=sesn_011CZsynth00000000000001
B=sesn_011CZsynth00000000000007

cargo build --release --quiet --bin flightrec --example synth
mkdir -p "$OUT"
REV=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)

# A database of two sessions of N events (seeds 42 and 7), made with this build.
db() {
    local n=$1 db=$OUT/$REV-$1.db
    if [[ ! -s $db ]]; then
        "$BIN/examples/synth" --events "$n" --out "$OUT/a-$n.jsonl" >/dev/null
        "$BIN/examples/synth" --events "$n" --seed 7 --out "$OUT/b-$n.jsonl" >/dev/null
        "$BIN/flightrec" --db "$db" import --session $A "$OUT/a-$n.jsonl" >/dev/null
        "$BIN/flightrec" --db "$db" import --session $B "$OUT/b-$n.jsonl" >/dev/null
    fi
    echo "$db"
}

# The median seconds and peak KiB of RUNS runs of a command (its output thrown away).
measure() {
    local ts=() ms=() t m
    for _ in $(seq "$RUNS"); do
        /usr/bin/time -f '%e %M' -o "$OUT/time" "$@" >/dev/null 2>&1 || true
        # The last line: diff exits 1 when the sessions differ, which time notes first.
        read -r t m < <(tail -n 1 "$OUT/time")
        ts+=("$t")
        ms+=("$m")
    done
    local mid=$(((RUNS + 1) / 2))
    echo "$(printf '%s\n' "${ts[@]}" | sort -n | sed -n "${mid}p") $(printf '%s\n' "${ms[@]}" | sort -n | sed -n "${mid}p")"
}

declare -A peak
printf '%-10s %10s %10s %12s %12s\n' what events seconds "peak MiB" "vs SMALL"
for n in "$SMALL" "$LARGE"; do
    db=$(db "$n")
    for what in jsonl redact tape md html perfetto otlp diff; do
        if [[ $what == diff ]]; then
            read -r t m < <(measure "$BIN/flightrec" --db "$db" diff $A $B --json)
        elif [[ $what == redact ]]; then
            read -r t m < <(measure "$BIN/flightrec" --db "$db" export $A --format jsonl --redact)
        else
            read -r t m < <(measure "$BIN/flightrec" --db "$db" export $A --format "$what")
        fi
        ratio=""
        [[ $n == "$LARGE" ]] && ratio=$(awk -v a="$m" -v b="${peak[$what]}" 'BEGIN { printf "%.2fx", a / b }')
        peak[$what]=$m
        printf '%-10s %10s %10s %12s %12s\n' "$what" "$n" "$t" "$((m / 1024))" "$ratio"
    done
done
