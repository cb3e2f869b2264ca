#!/usr/bin/env bash
# Debugger benchmark (issue 4): explain, spans, state, search and stats on one 100,000-event
# session inside a 1,000,000-event database, each timed as a whole command (process start to
# exit), plus explain's last-stop-reason answer against a jq pass over the same session's JSONL.
# All figures come from one run, so the ratios compare like with like on a noisy machine.
# See BENCHMARKS.md.
#
#   bash bench/debugger.sh                  # 10 sessions x 100,000 events
#   EVENTS=200000 bash bench/debugger.sh    # quick iteration (10 x 20,000)
#
# Environment:
#   EVENTS=N      events in the database (default 1000000), in SESSIONS sessions (default 10)
#   RUNS=K        timed runs of each command after one warm-up; the median is reported (default 9)
#   SESSION_NO=I  which session to question, 1-based (default 3)
#
# Needs: cargo, python3, jq, /usr/bin/time. Data goes to bench/data/ (git-ignored); the figures of
# the last run are written to bench/data/debugger-last.json.

set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
ROOT=$PWD

EVENTS=${EVENTS:-1000000}
SESSIONS=${SESSIONS:-10}
RUNS=${RUNS:-9}
SESSION_NO=${SESSION_NO:-3}
DATA=$ROOT/bench/data
mkdir -p "$DATA"
BIN=$ROOT/target/release

log() { printf '%s\n' "bench: $*" >&2; }

for tool in jq python3; do
    command -v "$tool" >/dev/null || { log "needs $tool"; exit 1; }
done

log "building release binaries"
cargo build --release --quiet --bin flightrec --example synth

GEN_HASH=$(sha256sum examples/synth.rs | cut -c1-10)
STEM=$DATA/debug-$EVENTS-s$SESSIONS-$GEN_HASH
MANIFEST=$STEM.manifest.json
DB=$STEM.db
if [[ ! -s $MANIFEST ]]; then
    log "generating $EVENTS events in $SESSIONS sessions"
    "$BIN/examples/synth" --events "$EVENTS" --sessions "$SESSIONS" --out "$STEM.jsonl" >"$MANIFEST.tmp"
    mv "$MANIFEST.tmp" "$MANIFEST"
    rm -f "$DB" "$DB-wal" "$DB-shm"
fi
mapfile -t FILES < <(python3 -c 'import json,sys; [print(f["path"]) for f in json.load(open(sys.argv[1]))["files"]]' "$MANIFEST")
if [[ ! -s $DB || ! -s $DB.unindexed ]]; then
    log "importing into $DB"
    rm -f "$DB" "$DB-wal" "$DB-shm"
    "$BIN/flightrec" --db "$DB" import "${FILES[@]}" >/dev/null
    # Kept before any search builds the index there, to time the first search on.
    cp "$DB" "$DB.unindexed"
fi

REV=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
[[ -z $(git status --porcelain -- src Cargo.toml Cargo.lock 2>/dev/null) ]] || REV="$REV+dirty"

export BIN DB MANIFEST RUNS SESSION_NO REV DATA
python3 - <<'PY'
import json, os, statistics, subprocess, sys, time

BIN, DB, RUNS = os.environ["BIN"], os.environ["DB"], int(os.environ["RUNS"])
manifest = json.load(open(os.environ["MANIFEST"]))
f = manifest["files"][int(os.environ["SESSION_NO"]) - 1]
session, path, n_events = f["session"], f["path"], f["events"]

# The event in the middle of the session, for `state --at`.
with open(path, "rb") as fh:
    for i, line in enumerate(fh):
        if i == n_events // 2:
            middle = json.loads(line)["id"]
            break
# Warm the page cache for jq like the database is warm for flightrec.
open(path, "rb").read()

fr = [f"{BIN}/flightrec", "--db", DB]

def run(cmd, shell=False):
    p = subprocess.run(cmd, shell=shell, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    if p.returncode != 0:
        sys.exit(f"bench: failed ({p.returncode}): {cmd}\n{p.stderr.decode()}")
    return p.stdout

def timed(cmd, shell=False):
    """Median wall milliseconds over RUNS runs after one warm-up, and the last output."""
    out = run(cmd, shell)
    times = []
    for _ in range(RUNS):
        t0 = time.perf_counter()
        out = run(cmd, shell)
        times.append((time.perf_counter() - t0) * 1000)
    return statistics.median(times), out

def rss_kb(cmd):
    p = subprocess.run(["/usr/bin/time", "-f", "%M"] + cmd, stdout=subprocess.DEVNULL,
                       stderr=subprocess.PIPE)
    return int(p.stderr.decode().strip().splitlines()[-1])

# The search index is built on first use: time that once, on a copy of the database as imported.
fresh = DB + ".fresh"
for suffix in ("", "-wal", "-shm"):
    if os.path.exists(fresh + suffix):
        os.remove(fresh + suffix)
subprocess.run(["cp", DB + ".unindexed", fresh], check=True)
t0 = time.perf_counter()
run([f"{BIN}/flightrec", "--db", fresh, "search", "overloaded", "--session", session, "--json"])
first_search_ms = (time.perf_counter() - t0) * 1000
for suffix in ("", "-wal", "-shm"):
    if os.path.exists(fresh + suffix):
        os.remove(fresh + suffix)

commands = {
    "floor (timeline --limit 1)": fr + ["timeline", session, "--limit", "1", "--json"],
    "explain": fr + ["explain", session, "--json"],
    "spans --open": fr + ["spans", session, "--open", "--json"],
    "spans (all, JSON to /dev/null)": fr + ["spans", session, "--json"],
    "explain --at middle": fr + ["explain", session, "--at", middle, "--json"],
    "state (end)": fr + ["state", session, "--json"],
    "state --at middle": fr + ["state", session, "--at", middle, "--json"],
    "search (rare word)": fr + ["search", "overloaded", "--session", session, "--json"],
    "search (common word)": fr + ["search", "settle_payment", "--session", session, "--json"],
    "stats": fr + ["stats", session, "--json"],
}
results = {}
for name, cmd in commands.items():
    ms, out = timed(cmd)
    results[name] = {"median_ms": round(ms, 1), "peak_rss_kb": rss_kb(cmd)}
    print(f"{name:34} {ms:8.1f} ms  {results[name]['peak_rss_kb'] / 1024:6.1f} MiB", flush=True)

# The last stop reason: flightrec explain vs jq over the JSONL.
jq_cmd = f"jq -r 'select(.type == \"session.status_idle\") | .stop_reason.type' '{path}' | tail -n 1"
jq_ms, jq_out = timed(jq_cmd, shell=True)
explain = json.loads(run(fr + ["explain", session, "--json"]))
# A session that has moved on from its last idle (running again) has no stop reason; the last
# idle's is then `previous_stop_reason`.
last_stop = explain["stop_reason"] or explain.get("previous_stop_reason")
assert last_stop == jq_out.decode().strip(), (last_stop, jq_out)
ratio = jq_ms / results["explain"]["median_ms"]
print(f"{'jq last stop reason':34} {jq_ms:8.1f} ms")
print(f"explain is {ratio:.1f}x faster than jq (target >= 10x); both say {last_stop}")
print(f"first search (builds the index of {manifest['events']} events): {first_search_ms:.0f} ms")

out = {
    "rev": os.environ["REV"], "events_in_db": manifest["events"], "session": session,
    "session_events": n_events, "runs": RUNS, "commands": results,
    "jq_last_stop_reason_ms": round(jq_ms, 1), "explain_vs_jq": round(ratio, 2),
    "first_search_ms": round(first_search_ms),
}
json.dump(out, open(os.path.join(os.environ["DATA"], "debugger-last.json"), "w"), indent=2)
PY
