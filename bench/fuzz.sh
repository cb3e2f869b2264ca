#!/usr/bin/env bash
# Runs the decoders' property tests (`prop_<target>_…` in src/) as a fuzzer: each target for
# SECONDS_PER_TARGET seconds (default 600), shared among its properties, with fresh random seeds
# until the time is up (FLIGHTREC_FUZZ_SECS, read by src/props.rs). Prints per target the cases
# run and the failures; exits 1 if any property failed (the log has the minimal input).
#
#   bench/fuzz.sh [SECONDS_PER_TARGET]        release build (FUZZ_PROFILE=debug for a debug one)
#   FUZZ_TARGETS="sse tape" bench/fuzz.sh 60  only these targets
#
# `cargo test` runs the same properties with a few cases each (the short run CI does).
set -euo pipefail
cd "$(dirname "$0")/.."

secs=${1:-600}
targets=${FUZZ_TARGETS:-"sse jsonl json read_events tape query redact"}
log=${FUZZ_LOG:-${TMPDIR:-/tmp}/flightrec-fuzz.log}
profile=()
[ "${FUZZ_PROFILE:-release}" = release ] && profile=(--release)

bin=$(cargo test "${profile[@]}" --lib --no-run 2>&1 |
    sed -n 's/.*Executable unittests src\/lib.rs (\(.*\))/\1/p' | tail -1)
[ -x "$bin" ] || { echo "fuzz.sh: cannot build the test binary" >&2; exit 2; }
: >"$log"

printf '%-12s %5s %8s %12s %9s\n' target props seconds cases failures
total_failures=0
for t in $targets; do
    mapfile -t props < <("$bin" --list 2>/dev/null | sed -n "s/^\(.*::prop_${t}_[a-z0-9_]*\): test$/\1/p")
    [ "${#props[@]}" -gt 0 ] || { echo "fuzz.sh: no property named prop_${t}_…" >&2; exit 2; }
    per=$(( secs / ${#props[@]} ))
    [ "$per" -ge 1 ] || per=1
    cases=0
    failures=0
    start=$(date +%s)
    for p in "${props[@]}"; do
        out=$(FLIGHTREC_FUZZ_SECS=$per "$bin" --exact "$p" --nocapture --test-threads=1 2>&1 | tr -d '\000') || true
        printf '== %s\n%s\n' "$p" "$out" >>"$log"
        line=$(grep -o -m1 "fuzz .* failures" <<<"$out" || true)
        if [ -z "$line" ]; then
            echo "fuzz.sh: $p printed no summary (see $log)" >&2
            failures=$((failures + 1))
            continue
        fi
        n=$(sed -n 's/.*: \([0-9]*\) cases in.*/\1/p' <<<"$line")
        f=$(sed -n 's/.*, \([0-9]*\) failures$/\1/p' <<<"$line")
        cases=$((cases + n))
        failures=$((failures + f))
    done
    printf '%-12s %5d %8d %12d %9d\n' "$t" "${#props[@]}" "$(( $(date +%s) - start ))" "$cases" "$failures"
    total_failures=$((total_failures + failures))
done
echo "log (each property's summary, and the minimal input of any failure): $log"
[ "$total_failures" -eq 0 ]
