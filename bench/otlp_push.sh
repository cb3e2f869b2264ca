#!/usr/bin/env bash
# What pushing to a tracing backend costs per million events (README, "When one machine is not
# enough"): `flightrec export SESSION --otlp-endpoint` of one synth session to a loopback stand-in
# collector (bench/otlp_sink.py) that counts the protobuf bytes; time and peak RSS from GNU time.
#
#   bash bench/otlp_push.sh              # a 300,000-event session (EVENTS=N to change)
#
# Prints one JSON line: events, seconds, CPU seconds, peak RSS, requests and bytes received, and
# the same scaled to a million events. Data: bench/data/ (shared with bench/scale.sh's cache).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
EVENTS=${EVENTS:-300000}
DATA=bench/data
mkdir -p "$DATA"
[[ -x /usr/bin/time ]] || { echo "bench: needs GNU time at /usr/bin/time" >&2; exit 1; }
if [[ -z ${FLIGHTREC_BIN:-} ]]; then
    cargo build --release --quiet --bin flightrec --example synth
    FLIGHTREC_BIN=target/release/flightrec
else
    cargo build --release --quiet --example synth
fi
SESSION=sesn_011CZsynth00000000000001
stem=$DATA/otlp-$EVENTS
file=$stem.$SESSION.jsonl
[[ -s $file ]] || target/release/examples/synth --events "$EVENTS" --out "$file" >/dev/null
rm -f "$stem.db" "$stem.db-wal" "$stem.db-shm"
"$FLIGHTREC_BIN" --db "$stem.db" import "$file" >/dev/null

coproc SINK { exec python3 bench/otlp_sink.py; }
read -r PORT <&"${SINK[0]}"
/usr/bin/time -f '%e %U %S %M' -o "$stem.time" \
    "$FLIGHTREC_BIN" --db "$stem.db" export "$SESSION" --otlp-endpoint "http://127.0.0.1:$PORT" >/dev/null
kill -TERM "$SINK_PID"
read -r GOT <&"${SINK[0]}"
wait "$SINK_PID" || true
read -r WALL USR SYS RSS <"$stem.time"
python3 - "$EVENTS" "$WALL" "$USR" "$SYS" "$RSS" "$GOT" <<'PY'
import json, sys
n, wall, usr, sys_, rss, got = int(sys.argv[1]), *map(float, sys.argv[2:6]), json.loads(sys.argv[6])
k = 1e6 / n
print(json.dumps({
    "events": n, "wall_s": wall, "cpu_s": usr + sys_, "peak_rss_mib": round(rss / 1024, 1),
    "requests": got["requests"], "bytes": got["bytes"],
    "per_million": {"wall_s": round(wall * k, 2), "cpu_s": round((usr + sys_) * k, 2),
                    "mb_sent": round(got["bytes"] * k / 1e6, 1), "requests": round(got["requests"] * k)},
}))
PY
