#!/usr/bin/env bash
# Concurrency matrix at scale (issue 12): the cells of tests/cli/concurrency.rs (1, 2, 4 writers of
# different kinds x 0, 2 readers x a following `serve`, each compared with a serial run) with a
# larger generated capture. Prints each cell's figures: events, reader commands and failures,
# the slowest reader command, follower completeness. See RELIABILITY.md.
#
#   bash bench/concurrency.sh                      # 250,000-event capture (several minutes)
#   EVENTS=1000000 bash bench/concurrency.sh       # larger
#   CELLS=matrix_4 EVENTS=50000 bash bench/concurrency.sh   # a subset (test name filter)
#
# Environment:
#   EVENTS=N      events of the generated capture of session G (default 250000); the 4-writer
#                 cells also import an overlapping capture, so G ends with 1.5 N events there
#   CELLS=F       test name filter under concurrency:: (default matrix_: every cell)
#   HANG_SECS=S   a reader command slower than this counts as a failure (default 120)
#
# Runs the debug test build (`cargo test`), one cell at a time. The log of the last run is in
# bench/data/concurrency-last.log (git-ignored).

set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

EVENTS=${EVENTS:-250000}
CELLS=${CELLS:-matrix_}
HANG_SECS=${HANG_SECS:-120}
mkdir -p bench/data
LOG=bench/data/concurrency-last.log

echo "bench: concurrency matrix, capture of $EVENTS events, cells concurrency::$CELLS" >&2
status=0
FLIGHTREC_MATRIX_EVENTS=$EVENTS FLIGHTREC_MATRIX_HANG_SECS=$HANG_SECS \
    cargo test --test cli "concurrency::$CELLS" -- --nocapture --test-threads 1 >"$LOG" 2>&1 ||
    status=$?
grep -E '^matrix:|^test concurrency|^test result|panicked|failed' "$LOG" || true
if [[ $status != 0 ]]; then
    echo "bench: FAILED (exit $status); see $LOG" >&2
fi
exit $status
