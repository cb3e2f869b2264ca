#!/usr/bin/env bash
# Follow benchmark (issue 14 #3): how soon `flightrec tail SESSION` prints an event that another
# process stored. A follower runs on the happy-path sample; RUNS times, `flightrec import` stores
# one new event, and the time from the import process's exit to the event's line on the
# follower's stdout is measured (median, 90th percentile, max; the import's own time beside it).
# The target is 300 ms; the follower polls every 100 ms. See BENCHMARKS.md.
#
#   bash bench/follow.sh
#
# Environment: RUNS=K (default 30); FLIGHTREC_BIN=PATH to measure a binary already built (the
# default builds the release one).
# Needs: cargo (unless FLIGHTREC_BIN), python3.

set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
ROOT=$PWD
RUNS=${RUNS:-30}
if [[ -z ${FLIGHTREC_BIN:-} ]]; then
    cargo build --release --quiet --bin flightrec
    FLIGHTREC_BIN=$ROOT/target/release/flightrec
fi
REV=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
[[ -z $(git status --porcelain -- src Cargo.toml Cargo.lock 2>/dev/null) ]] || REV="$REV+dirty"
export FLIGHTREC_BIN RUNS REV ROOT
python3 - <<'PY'
import json, os, queue, statistics, subprocess, tempfile, threading, time

BIN, RUNS, ROOT = os.environ["FLIGHTREC_BIN"], int(os.environ["RUNS"]), os.environ["ROOT"]
SESSION = "sesn_011CZhappyPath0000000001"
tmp = tempfile.mkdtemp(prefix="follow-bench-")
db = os.path.join(tmp, "f.db")
sample = os.path.join(ROOT, "sample-logs", f"happy-path.{SESSION}.jsonl")
subprocess.run([BIN, "--db", db, "import", sample], check=True, capture_output=True)

follower = subprocess.Popen([BIN, "--db", db, "tail", SESSION, "-n", "0"],
                            stdout=subprocess.PIPE, text=True)
lines = queue.Queue()
threading.Thread(target=lambda: [lines.put((l, time.monotonic())) for l in follower.stdout],
                 daemon=True).start()
time.sleep(1)

after_exit, import_ms = [], []
for i in range(RUNS):
    eid = f"sevt_bench{i:06d}"
    path = os.path.join(tmp, f"e{i}.jsonl")
    with open(path, "w") as f:
        f.write(json.dumps({"type": "agent.message", "id": eid,
                            "processed_at": f"2026-08-07T10:{i // 60:02d}:{i % 60:02d}.000Z",
                            "content": [{"type": "text", "text": "bench"}]}) + "\n")
    t0 = time.monotonic()
    subprocess.run([BIN, "--db", db, "import", "--session", SESSION, path],
                   check=True, capture_output=True)
    t1 = time.monotonic()
    while True:
        line, at = lines.get(timeout=10)
        if eid in line:
            break
    after_exit.append(max(0.0, at - t1) * 1000)
    import_ms.append((t1 - t0) * 1000)
    time.sleep(0.05 + (i % 7) * 0.013)  # land at different points of the poll interval
follower.terminate()
follower.wait()

def q(v, p):
    v = sorted(v)
    return v[min(len(v) - 1, int(round(p * (len(v) - 1))))]

print(f"Follow latency, {RUNS} events, binary {os.path.relpath(BIN, ROOT)}, commit {os.environ['REV']}\n")
print("| measured | median | p90 | max |")
print("|---|---:|---:|---:|")
print(f"| import exit → line on the follower's stdout | {statistics.median(after_exit):.0f} ms "
      f"| {q(after_exit, 0.9):.0f} ms | {max(after_exit):.0f} ms |")
print(f"| the import process itself (start → exit) | {statistics.median(import_ms):.0f} ms "
      f"| {q(import_ms, 0.9):.0f} ms | {max(import_ms):.0f} ms |")
PY
