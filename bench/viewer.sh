#!/usr/bin/env bash
# Viewer benchmark (issue 5): the whole viewer, headless (ui/benches/frames.rs), on a
# 1,000,000-event session and, in the same run, on a 10,000-event one: first frame, time to load,
# median and p95 frame while zooming, panning and jumping the cursor, peak RSS. The ratio of the
# two medians shows whether a frame's cost grows with the session. Then live follow (ui/benches/follow.rs):
# how soon appended events show on both sessions, against a forced full reload in the same run.
# See BENCHMARKS.md.
#
#   bash bench/viewer.sh
#
# Needs: cargo. Data goes to bench/data/ (git-ignored).

set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
ROOT=$PWD
DATA=$ROOT/bench/data
mkdir -p "$DATA"
BIN=$ROOT/target/release

log() { printf '%s\n' "bench: $*" >&2; }

log "building release binaries"
cargo build --release --quiet --bin flightrec --example synth
cargo bench -p flightrec-ui --bench frames --no-run --quiet

GEN_HASH=$(sha256sum examples/synth.rs | cut -c1-10)
S=sesn_011CZsynth00000000000001
for n in 10000 1000000; do
    db=$DATA/viewer-$n-$GEN_HASH.db
    if [[ ! -s $db ]]; then
        log "generating and importing $n events"
        "$BIN/examples/synth" --events "$n" --out "$DATA/viewer-$n-$GEN_HASH.$S.jsonl" >/dev/null
        "$BIN/flightrec" --db "$db" import "$DATA/viewer-$n-$GEN_HASH.$S.jsonl" >/dev/null
    fi
done

for n in 10000 1000000; do
    log "viewer on $n events"
    cargo bench -p flightrec-ui --bench frames --quiet -- --db "$DATA/viewer-$n-$GEN_HASH.db" --session "$S" \
        | tee "$DATA/viewer-$n.txt"
done

cargo bench -p flightrec-ui --bench follow --no-run --quiet
for n in 10000 1000000; do
    log "live follow on $n events"
    cargo bench -p flightrec-ui --bench follow --quiet -- --db "$DATA/viewer-$n-$GEN_HASH.db" --session "$S" \
        | tee "$DATA/follow-$n.txt"
done
