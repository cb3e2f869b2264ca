#!/usr/bin/env bash
# Soak (issue 12): record one long session through `flightrec serve --live` with every chaos
# option on, for DURATION seconds, killing the recorder with SIGKILL and restarting it KILLS times
# along the way. Samples the recorder's and the server's RSS every 10 s. At the end, checks that
# the recording holds every event of the source exactly once, byte for byte: nothing lost,
# nothing doubled, whatever was killed.
#
#   bash bench/soak.sh                                  # 1,000,000 events over 30 minutes, 20 kills
#   EVENTS=20000 DURATION=120 KILLS=5 bash bench/soak.sh  # a quick run
#
# Writes bench/data/soak-rss.csv (t_s, incarnation, VmRSS and RssAnon of recorder and serve) and a summary on stdout;
# exits 1 when an event is lost or doubled. Needs cargo and python3 (stdlib only).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
EVENTS=${EVENTS:-1000000}
DURATION=${DURATION:-1800}
KILLS=${KILLS:-20}
SAMPLE=${SAMPLE:-10}
DATA=$ROOT/bench/data
mkdir -p "$DATA"
log() { echo "soak: $*" >&2; }
rmdb() { rm -f "$1" "$1-wal" "$1-shm"; }

log "building"
cargo build --release --quiet --bin flightrec --example synth
BIN=$ROOT/target/release
S=sesn_011CZsoakSession00000001
IN=$DATA/soak-$EVENTS.$S.jsonl
if [[ ! -s $IN ]]; then
    "$BIN/examples/synth" --events "$EVENTS" --seed 11 --out "$IN" >/dev/null
    # The generator stops mid-turn: end the session just after its last event, so that
    # `record --until terminated` has an end.
    python3 - "$IN" <<'PY'
import datetime, json, sys
path = sys.argv[1]
with open(path, "rb") as f:
    f.seek(-4096, 2)
    last = json.loads(f.read().splitlines()[-1])
t = datetime.datetime.fromisoformat(last["processed_at"].replace("Z", "+00:00"))
def at(ms):
    return (t + datetime.timedelta(milliseconds=ms)).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
with open(path, "a") as f:
    f.write(json.dumps({"type": "session.status_idle", "id": "sevt_011CZsoakFinalIdle000001",
                        "processed_at": at(1), "stop_reason": {"type": "end_turn"},
                        "stop_details": None}, separators=(",", ":")) + "\n")
    f.write(json.dumps({"type": "session.status_terminated", "id": "sevt_011CZsoakTerminated0001",
                        "processed_at": at(2)}, separators=(",", ":")) + "\n")
PY
fi
SRC=$DATA/soak-src-$EVENTS.db
# A database kept from an older build may need a migration that serve (a reader) will not run.
if [[ ! -s $SRC ]] || ! "$BIN/flightrec" --db "$SRC" sessions >/dev/null 2>&1; then
    rmdb "$SRC"
    "$BIN/flightrec" --db "$SRC" import "$IN" >/dev/null
fi
# The clock's rate that spreads the session over DURATION seconds.
SPEED=$(python3 - "$IN" "$DURATION" <<'PY'
import datetime, json, sys
def ts(line):
    return datetime.datetime.fromisoformat(json.loads(line)["processed_at"].replace("Z", "+00:00"))
with open(sys.argv[1], "rb") as f:
    first = f.readline()
    f.seek(-4096, 2)
    last = f.read().splitlines()[-1]
span = (ts(last) - ts(first)).total_seconds()
print(f"{max(span / float(sys.argv[2]), 0.001):.6f}")
PY
)
log "source: $((EVENTS + 2)) events; live at ${SPEED}x over ${DURATION}s, $KILLS kills"

"$BIN/flightrec" --db "$SRC" serve --addr 127.0.0.1:0 --live --speed "$SPEED" --ping-interval 2s \
    --chaos-drop-every 5000 --chaos-repeat-every 97 --chaos-split --chaos-stall 3s \
    --chaos-list-errors 0.1 --chaos-malformed-every 1000 --chaos-seed 1 \
    >"$DATA/soak-serve.out" 2>&1 &
SERVE=$!
REC=""
trap 'kill $SERVE 2>/dev/null || true; [[ -n $REC ]] && kill -9 $REC 2>/dev/null || true' EXIT
for _ in $(seq 100); do grep -q listening "$DATA/soak-serve.out" && break; sleep 0.1; done
URL=$(awk '/listening/ {print $NF}' "$DATA/soak-serve.out")
if [[ -z $URL ]]; then
    log "serve did not start: $(cat "$DATA/soak-serve.out")"
    exit 2
fi

DST=$DATA/soak-dst.db
rmdb "$DST"
start_recorder() {
    "$BIN/flightrec" --db "$DST" record "$S" --base-url "$URL" --until terminated --quiet \
        --idle-timeout 20s --give-up-after 30m >>"$DATA/soak-rec.out" 2>&1 &
    REC=$!
}
: >"$DATA/soak-rec.out"
# VmRSS counts the pages of the database file that the store's memory map has touched, which grow
# with the file; RssAnon is the process's own memory, the figure that must stay flat.
echo "t_s,incarnation,recorder_kb,recorder_anon_kb,serve_kb,serve_anon_kb" >"$DATA/soak-rss.csv"
rss() { awk '/^VmRSS/ {print $2}' "/proc/$1/status" 2>/dev/null || echo 0; }
anon() { awk '/^RssAnon/ {print $2}' "/proc/$1/status" 2>/dev/null || echo 0; }

T0=$(date +%s)
# Kills are spread over the first 80% of the run, so the last incarnation runs long enough to
# show whether memory stays flat.
KILL_GAP=$(( DURATION * 8 / 10 / (KILLS + 1) ))
(( KILL_GAP > 0 )) || KILL_GAP=1
incarnation=1
kills=0
next_kill=$(( T0 + KILL_GAP ))
next_sample=$T0
start_recorder
while true; do
    now=$(date +%s)
    if ! kill -0 "$REC" 2>/dev/null; then
        wait "$REC" && rc=0 || rc=$?
        if (( rc == 0 )); then break; fi
        log "recorder exited $rc at $((now - T0))s; restarting"
        incarnation=$((incarnation + 1))
        start_recorder
    fi
    if (( kills < KILLS && now >= next_kill )); then
        kill -9 "$REC" 2>/dev/null || true
        wait "$REC" 2>/dev/null || true
        kills=$((kills + 1))
        incarnation=$((incarnation + 1))
        start_recorder
        next_kill=$(( now + KILL_GAP ))
    fi
    if (( now >= next_sample )); then
        echo "$((now - T0)),$incarnation,$(rss "$REC"),$(anon "$REC"),$(rss "$SERVE"),$(anon "$SERVE")" >>"$DATA/soak-rss.csv"
        next_sample=$(( now + SAMPLE ))
    fi
    if (( now - T0 > DURATION * 2 + 600 )); then
        log "the recorder did not finish in twice the duration"; exit 1
    fi
    sleep 1
done
ELAPSED=$(( $(date +%s) - T0 ))
log "recorder finished after ${ELAPSED}s, $kills kills, $incarnation incarnations"

python3 - "$SRC" "$DST" "$S" "$DATA/soak-rss.csv" "$kills" "$ELAPSED" <<'PY'
import csv, sqlite3, statistics, sys
src, dst, session, rss_csv, kills, elapsed = sys.argv[1:]
def rows(db):
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    return con.execute(
        "SELECT event_id, raw FROM events WHERE session_id = ? AND thread_id = ''", (session,)
    ).fetchall()
a, b = rows(src), rows(dst)
ids_b = [i for i, _ in b]
doubled = len(ids_b) - len(set(ids_b))
want = dict(a)
got = dict(b)
lost = [i for i in want if i not in got]
changed = [i for i in want if i in got and got[i] != want[i]]
extra = [i for i in got if i not in want]
samples = list(csv.DictReader(open(rss_csv)))
rec = [int(r["recorder_kb"]) for r in samples if int(r["recorder_kb"]) > 0]
rec_anon = [int(r["recorder_anon_kb"]) for r in samples if int(r["recorder_anon_kb"]) > 0]
srv = [int(r["serve_kb"]) for r in samples if int(r["serve_kb"]) > 0]
srv_anon = [int(r["serve_anon_kb"]) for r in samples if int(r["serve_anon_kb"]) > 0]
last_inc = max(int(r["incarnation"]) for r in samples)
tail = [int(r["recorder_anon_kb"]) for r in samples
        if int(r["incarnation"]) == last_inc and int(r["recorder_anon_kb"]) > 0]
half = len(tail) // 2
print(f"events in source {len(a)}, recorded {len(b)}: lost {len(lost)}, doubled {doubled}, "
      f"changed {len(changed)}, extra {len(extra)}")
print(f"{kills} SIGKILLs, {elapsed} s, {len(samples)} RSS samples")
if rec:
    print(f"recorder RSS (with the database's mapped pages): median "
          f"{statistics.median(rec) / 1024:.1f} MiB, max {max(rec) / 1024:.1f} MiB")
if rec_anon:
    print(f"recorder anonymous RSS (its own memory): median "
          f"{statistics.median(rec_anon) / 1024:.1f} MiB, max {max(rec_anon) / 1024:.1f} MiB")
if half >= 1:
    print(f"last incarnation's anonymous RSS ({len(tail)} samples): first half median "
          f"{statistics.median(tail[:half]) / 1024:.1f} MiB, second half median "
          f"{statistics.median(tail[half:]) / 1024:.1f} MiB")
if srv_anon:
    print(f"serve anonymous RSS: first {srv_anon[0] / 1024:.1f} MiB, max "
          f"{max(srv_anon) / 1024:.1f} MiB, last {srv_anon[-1] / 1024:.1f} MiB "
          f"(with mapped pages: max {max(srv) / 1024:.1f} MiB)")
sys.exit(1 if lost or doubled or changed or extra else 0)
PY
