#!/usr/bin/env bash
# Scale benchmark (issue 15): does the cost of an answer grow with the session, the workspace, the
# export? Every goal of the issue, as ratios taken in one run (the machine is noisy). See
# BENCHMARKS.md, "Scale (issue 15)".
#
#   bash bench/scale.sh                                  # the issue's sizes (long: 10M events)
#   WS_SESSIONS=1000 WS_EVENTS=1000000 bash bench/scale.sh   # a tenth of the workspace
#   FULL=1 bash bench/scale.sh                           # also the 1,000,000-event session
#
# What it measures:
#   1. One session of SMALL events and one of LARGE (and HUGE with FULL=1), each alone in its
#      database: `spans --open`, `state`, `state --at` the middle event, `stats`, `explain`,
#      `explain --at` the middle event (and the floor, `timeline --limit 1`), each the median of
#      RUNS whole-process runs after a warm-up, with the peak RSS of one more run; LARGE/SMALL.
#   2. For the LARGE session: the database's size against its JSON Lines input, and `flightrec
#      import` against the bare-SQLite insert ceiling of the same rows (examples/bare_insert.rs,
#      variant `full`, as bench/import.sh runs it), median of IMPORT_RUNS, alternating; and the
#      import's CPU time, half of which is the least wall time two cores could take.
#   3. A workspace: WS_SESSIONS sessions, WS_EVENTS events spread over a year (synth --days 365:
#      five agents, sessions ending idle, stuck on requires_action, retries exhausted, terminated
#      or still running), one database: `sessions` unfiltered and with --status, --stop-reason,
#      --agent, --since (30 days), `check --all` and `stats --since 30d --by agent`. The clock
#      is pinned (`--now`, a hidden option) to the generated year's end, so the answers do not
#      depend on the day the benchmark runs.
#   4. Exports and diff: bench/share.sh (RUNS=1) on its 100,000-event session; its figures are
#      read back from bench/data/share-last.json. SKIP_SHARE=1 leaves it out.
#
# Environment:
#   SMALL=N, LARGE=N      the two sessions (defaults 3000 and 300000); FULL=1 adds HUGE (1000000)
#   RUNS=K                timed runs of each command after one warm-up (default 3)
#   IMPORT_RUNS=K         imports of LARGE and ceilings, alternating (default 3)
#   WS_SESSIONS, WS_EVENTS  the workspace (defaults 10000 and 10000000); WS=0 skips it
#   SKIP_SESSIONS=1       skip parts 1 and 2 (the single sessions and the storage figures)
#   SKIP_SHARE=1          skip the export/diff part (bench/share.sh)
#   FLIGHTREC_BIN=PATH    measure this flightrec binary (default: build target/release/flightrec)
#   REV=...               what to call the measured source (default: git HEAD, +dirty if src/ differs)
#
# Needs: cargo, python3, /usr/bin/time (GNU time). Data goes to bench/data/ (git-ignored, cached by
# size and a hash of examples/synth.rs); the figures of the last run go to bench/data/scale-last.json.
# Run it with `nice` on a shared machine; the load average is printed at the start and the end.

set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
ROOT=$PWD
SMALL=${SMALL:-3000}
LARGE=${LARGE:-300000}
HUGE=${HUGE:-1000000}
FULL=${FULL:-0}
RUNS=${RUNS:-3}
IMPORT_RUNS=${IMPORT_RUNS:-3}
WS=${WS:-1}
WS_SESSIONS=${WS_SESSIONS:-10000}
WS_EVENTS=${WS_EVENTS:-10000000}
SKIP_SHARE=${SKIP_SHARE:-0}
SKIP_SESSIONS=${SKIP_SESSIONS:-0}
DATA=$ROOT/bench/data
mkdir -p "$DATA"
EX=$ROOT/target/release/examples

log() { printf '%s\n' "bench: $*" >&2; }

[[ -x /usr/bin/time ]] || { log "needs GNU time at /usr/bin/time (apt-get install -y time)"; exit 1; }
command -v python3 >/dev/null || { log "needs python3"; exit 1; }

if [[ -z ${FLIGHTREC_BIN:-} ]]; then
    log "building release binaries"
    cargo build --release --quiet --bin flightrec --example synth --example bare_insert
    FLIGHTREC_BIN=$ROOT/target/release/flightrec
else
    cargo build --release --quiet --example synth --example bare_insert
fi
if [[ -z ${REV:-} ]]; then
    REV=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
    [[ -z $(git status --porcelain -- src Cargo.toml Cargo.lock 2>/dev/null) ]] || REV="$REV+dirty"
fi
LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)
GEN_HASH=$(sha256sum examples/synth.rs | cut -c1-10)

rmdb() { rm -f "$1" "$1-wal" "$1-shm" "$1-journal" "$1.build"; }
BUILD=$("$FLIGHTREC_BIN" --version)
# A database is reused only when this build imported it: another build's would be migrated on
# first open (not what a fresh import writes) and its derived data (checkpoints, caches) ignored.
built_here() { [[ -s $1 && $(cat "$1.build" 2>/dev/null) == "$BUILD" ]]; }

# session N: generates (once) a one-session file of N events and imports it (once) into its own
# database; prints "FILE DB".
session() {
    local n=$1
    local stem=$DATA/scale-$n-$GEN_HASH
    local file=$stem.sesn_011CZsynth00000000000001.jsonl
    if [[ ! -s $stem.manifest.json ]]; then
        log "generating a session of $n events"
        "$EX/synth" --events "$n" --out "$file" >"$stem.manifest.json.tmp"
        mv "$stem.manifest.json.tmp" "$stem.manifest.json"
        rmdb "$stem.db"
    fi
    if ! built_here "$stem.db"; then
        log "importing the session of $n events"
        rmdb "$stem.db"
        "$FLIGHTREC_BIN" --db "$stem.db" import "$file" >/dev/null
        echo "$BUILD" >"$stem.db.build"
    fi
    echo "$file $stem.db"
}

SESSION_SIZES=("$SMALL" "$LARGE")
[[ $FULL == 1 ]] && SESSION_SIZES+=("$HUGE")
[[ $SKIP_SESSIONS == 1 ]] && SESSION_SIZES=()
SESSION_SPECS=()
for n in ${SESSION_SIZES[@]+"${SESSION_SIZES[@]}"}; do
    SESSION_SPECS+=("$n $(session "$n")")
done

WS_SPEC=""
if [[ $WS != 0 ]]; then
    wsdir=$DATA/scale-ws-$WS_SESSIONS-$WS_EVENTS-$GEN_HASH
    if [[ ! -s $wsdir/manifest.json ]]; then
        log "generating a workspace: $WS_SESSIONS sessions, $WS_EVENTS events over 365 days"
        rm -rf "$wsdir"
        mkdir -p "$wsdir"
        "$EX/synth" --events "$WS_EVENTS" --sessions "$WS_SESSIONS" --days 365 \
            --out "$wsdir/ws.jsonl" >"$wsdir/manifest.json.tmp"
        mv "$wsdir/manifest.json.tmp" "$wsdir/manifest.json"
    fi
    if ! built_here "$wsdir/ws.db" || [[ ! -s $wsdir/import.json ]]; then
        log "importing the workspace"
        rmdb "$wsdir/ws.db"
        t0=$(date +%s%N)
        find "$wsdir" -name 'ws.sesn_*.jsonl' -print0 | sort -z |
            xargs -0 "$FLIGHTREC_BIN" --db "$wsdir/ws.db" import >/dev/null
        t1=$(date +%s%N)
        echo "{\"import_s\": $(((t1 - t0) / 1000000))e-3}" >"$wsdir/import.json"
        echo "$BUILD" >"$wsdir/ws.db.build"
    fi
    WS_SPEC=$wsdir
fi

SHARE_JSON=""
if [[ $SKIP_SHARE != 1 ]]; then
    log "exports and diff: bench/share.sh (RUNS=1)"
    RUNS=1 bash bench/share.sh >&2
    SHARE_JSON=$DATA/share-last.json
fi

export FLIGHTREC_BIN RUNS IMPORT_RUNS REV DATA EX LOAD_START WS_SPEC SHARE_JSON LARGE
export SESSION_SPECS_STR
SESSION_SPECS_STR=$(printf '%s\n' ${SESSION_SPECS[@]+"${SESSION_SPECS[@]}"})
exec python3 "$ROOT/bench/scale_measure.py"
