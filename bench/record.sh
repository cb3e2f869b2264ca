#!/usr/bin/env bash
# Recorder benchmark (issue 3): record a 200,000-event session from `flightrec serve` over loopback,
# and compare a history-only read (list pages) with the official Python SDK's
# `client.beta.sessions.events.list()` loop writing JSONL, against the same server in the same run.
#
#   bash bench/record.sh              # 200,000 events
#   EVENTS=20000 bash bench/record.sh # quick iteration
#
# Needs cargo, python3 and GNU /usr/bin/time. Installs anthropic==2.12.0 into bench/.venv-sdk.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
EVENTS=${EVENTS:-200000}
RUNS=${RUNS:-3}
DATA=$ROOT/bench/data
mkdir -p "$DATA"
log() { echo "bench: $*" >&2; }
rmdb() { rm -f "$1" "$1-wal" "$1-shm"; }
median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

log "building"
cargo build --release --quiet --bin flightrec --example synth
BIN=$ROOT/target/release
S=sesn_011CZrecordBench00000001
IN=$DATA/record-v2-$EVENTS.$S.jsonl
if [[ ! -s $IN ]]; then
    # The generator stops at exactly N events, mid-turn; the session then goes idle and is
    # terminated, so that `record --until idle` (flooded: everything at once) and `--until
    # terminated` (paced: the session goes idle after every turn) have an end. N + 2 events.
    "$BIN/examples/synth" --events "$EVENTS" --seed 7 --out "$IN" >/dev/null
    echo '{"type":"session.status_idle","id":"sevt_011CZbenchFinalIdle00001","processed_at":"2099-01-01T00:00:00.000Z","stop_reason":{"type":"end_turn"},"stop_details":null}' >>"$IN"
    echo '{"type":"session.status_terminated","id":"sevt_011CZbenchTerminated001","processed_at":"2099-01-01T00:00:01.000Z"}' >>"$IN"
fi
TOTAL=$((EVENTS + 2))
SRC=$DATA/record-src-v2-$EVENTS.db
if [[ ! -s $SRC ]]; then
    rmdb "$SRC"
    "$BIN/flightrec" --db "$SRC" import "$IN" >/dev/null
fi

VENV=$ROOT/bench/.venv-sdk
if [[ ! -x $VENV/bin/python ]] || ! "$VENV/bin/python" -c 'import anthropic' 2>/dev/null; then
    log "installing anthropic==2.12.0 into $VENV"
    python3 -m venv "$VENV"
    "$VENV/bin/pip" install -q anthropic==2.12.0
fi

log "starting flightrec serve on $SRC"
"$BIN/flightrec" --db "$SRC" serve --addr 127.0.0.1:0 --ping-interval 5s >"$DATA/serve.out" 2>&1 &
SERVE=$!
trap 'kill $SERVE 2>/dev/null || true' EXIT
for _ in $(seq 100); do grep -q listening "$DATA/serve.out" && break; sleep 0.1; done
URL=$(awk '/listening/ {print $NF}' "$DATA/serve.out")
log "server at $URL"

DST=$DATA/record-dst.db
rec_wall=() rec_rss=() rec_p99=() hist_wall=() hist_rss=() sdk_wall=() sdk_rss=() sdk_loop=()
for run in $(seq "$RUNS"); do
    log "run $run/$RUNS: record (stream + history, until idle)"
    rmdb "$DST"; sync
    /usr/bin/time -f "%e %M" -o "$DATA/t.txt" "$BIN/flightrec" --db "$DST" record "$S" --base-url "$URL" \
        --until idle --quiet --json >"$DATA/rec.json"
    read -r wall rss <"$DATA/t.txt"
    new=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["counts"]["new"])' "$DATA/rec.json")
    [[ $new == "$TOTAL" ]] || { log "recorded $new events, expected $TOTAL"; exit 1; }
    rec_wall+=("$wall") rec_rss+=("$rss")
    rec_p99+=("$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["latency_p99_micros"] / 1000)' "$DATA/rec.json")")
    log "  ${wall}s, ${rss} KB, p99 arrival-to-commit ${rec_p99[-1]} ms"

    log "run $run/$RUNS: record --no-stream (history pages only)"
    rmdb "$DST"; sync
    /usr/bin/time -f "%e %M" -o "$DATA/t.txt" "$BIN/flightrec" --db "$DST" record "$S" --base-url "$URL" \
        --no-stream --quiet --json >"$DATA/hist.json"
    read -r wall rss <"$DATA/t.txt"
    hist_wall+=("$wall") hist_rss+=("$rss")
    log "  ${wall}s, ${rss} KB"

    log "run $run/$RUNS: Python SDK list loop writing JSONL"
    /usr/bin/time -f "%e %M" -o "$DATA/t.txt" "$VENV/bin/python" - "$URL" "$S" "$DATA/sdk.jsonl" >"$DATA/sdk.json" <<'PY'
import json, sys, time
import anthropic
url, session, out = sys.argv[1:4]
client = anthropic.Anthropic(api_key="bench", base_url=url, max_retries=0)
t = time.perf_counter()
n = 0
with open(out, "w", encoding="utf-8") as f:
    for event in client.beta.sessions.events.list(session, limit=1000):
        f.write(event.to_json(indent=None))
        f.write("\n")
        n += 1
print(json.dumps({"events": n, "loop_s": time.perf_counter() - t}))
PY
    read -r wall rss <"$DATA/t.txt"
    n=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["events"])' "$DATA/sdk.json")
    [[ $n == "$TOTAL" ]] || { log "the SDK listed $n events, expected $TOTAL"; exit 1; }
    sdk_wall+=("$wall") sdk_rss+=("$rss")
    sdk_loop+=("$(python3 -c 'import json,sys; print(round(json.load(open(sys.argv[1]))["loop_s"], 3))' "$DATA/sdk.json")")
    log "  ${wall}s (loop ${sdk_loop[-1]}s), ${rss} KB"
done

# Latency at a steady rate: a second server in live mode reveals the session at roughly 20,000
# events/s (every recorded gap shortened to 50 µs), as a busy real session would arrive.
log "paced run: flightrec serve --live --max-gap 0.05ms"
"$BIN/flightrec" --db "$SRC" serve --addr 127.0.0.1:0 --live --max-gap 0.05ms >"$DATA/serve-live.out" 2>&1 &
LIVE=$!
for _ in $(seq 100); do grep -q listening "$DATA/serve-live.out" && break; sleep 0.1; done
LURL=$(awk '/listening/ {print $NF}' "$DATA/serve-live.out")
rmdb "$DST"; sync
/usr/bin/time -f "%e %M" -o "$DATA/t.txt" "$BIN/flightrec" --db "$DST" record "$S" --base-url "$LURL" \
    --until terminated --quiet --json >"$DATA/paced.json"
kill $LIVE 2>/dev/null || true
read -r PW PR <"$DATA/t.txt"
PACED=$(python3 -c 'import json,sys; j=json.load(open(sys.argv[1])); print(" ".join(str(j[k] / 1000) for k in ("latency_p50_micros", "latency_p90_micros", "latency_p99_micros", "latency_p999_micros")))' "$DATA/paced.json")
log "  ${PW}s, ${PR} KB, latency p50/p90/p99/p99.9 ms: $PACED"

RW=$(median "${rec_wall[@]}") RR=$(median "${rec_rss[@]}") RP=$(median "${rec_p99[@]}")
HW=$(median "${hist_wall[@]}") HR=$(median "${hist_rss[@]}")
SW=$(median "${sdk_wall[@]}") SR=$(median "${sdk_rss[@]}") SL=$(median "${sdk_loop[@]}")
python3 - "$TOTAL" "$RW" "$RR" "$RP" "$HW" "$HR" "$SW" "$SR" "$SL" "${rec_wall[*]}" "${hist_wall[*]}" "${sdk_wall[*]}" "$(git rev-parse --short HEAD)" "$PW" "$PR" "$PACED" <<'PY'
import sys
ev, rw, rr, rp, hw, hr, sw, sr, sl, rws, hws, sws, rev, pw, pr, paced = sys.argv[1:]
pw, pr = float(pw), float(pr)
p50, p90, p99, p999 = map(float, paced.split())
ev = int(ev); rw, rr, rp, hw, hr, sw, sr, sl = map(float, (rw, rr, rp, hw, hr, sw, sr, sl))
print(f"\nRecorder benchmark: {ev:,} events in one session, served by flightrec serve on loopback; commit {rev}\n")
print("| what | time | events/s | peak RSS | notes |")
print("|---|---:|---:|---:|---|")
print(f"| flightrec record (stream + history, until idle) | {rw:.2f} s | {ev/rw:,.0f} | {rr/1024:.1f} MiB | whole process, median ({rws}); p99 arrival-to-commit {rp:.2f} ms |")
print(f"| flightrec record --no-stream (history pages) | {hw:.2f} s | {ev/hw:,.0f} | {hr/1024:.1f} MiB | whole process, median ({hws}) |")
print(f"| flightrec record, paced (serve --live) | {pw:.2f} s | {ev/pw:,.0f} | {pr/1024:.1f} MiB | one run; arrival-to-commit p50 {p50:.2f} / p90 {p90:.2f} / p99 {p99:.2f} / p99.9 {p999:.2f} ms |")
print(f"| Python SDK 2.12.0 events.list() → JSONL | {sw:.2f} s | {ev/sw:,.0f} | {sr/1024:.1f} MiB | whole process, median ({sws}); the loop alone {sl:.2f} s |")
print()
print("| target | value | |")
print("|---|---:|---|")
print(f"| record ≥ 20,000 events/s | {ev/rw:,.0f} | {'met' if ev/rw >= 20000 else 'MISSED'} |")
print(f"| p99 arrival-to-commit < 10 ms | {p99:.2f} ms paced, {rp:.2f} ms flooded | {'met' if max(p99, rp) < 10 else 'MISSED'} |")
print(f"| peak RSS < 30 MB | {rr/1024:.1f} MiB | {'met' if rr/1024 < 30 else 'MISSED'} |")
print(f"| backfill vs SDK loop ≥ 5× | {sw/hw:.1f}× (loop alone {sl/hw:.1f}×) | {'met' if sw/hw >= 5 else 'MISSED'} |")
PY
