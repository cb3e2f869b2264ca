#!/usr/bin/env bash
# Share benchmark (issue 6): every export format, the tape round trip, redaction and diff on one
# 100,000-event session of the debugger benchmark's database (bench/debugger.sh makes it), each
# timed as a whole command (median of RUNS after a warm-up) with its peak RSS. The plain JSON Lines
# export is the baseline of the same run, so the ratios compare like with like on a noisy machine.
# See BENCHMARKS.md.
#
#   bash bench/share.sh
#
# Environment: RUNS=K (default 5), SESSION_NO=I (default 3; diff compares it with I+1).
# Needs: cargo, python3, /usr/bin/time; the debugger benchmark's data (it is made if missing).
# The figures of the last run are also written to bench/data/share-last.json (bench/scale.sh reads
# them).

set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
ROOT=$PWD
DATA=$ROOT/bench/data
BIN=$ROOT/target/release
RUNS=${RUNS:-5}
SESSION_NO=${SESSION_NO:-3}

GEN_HASH=$(sha256sum examples/synth.rs | cut -c1-10)
STEM=$DATA/debug-1000000-s10-$GEN_HASH
if [[ ! -s $STEM.db || ! -s $STEM.manifest.json ]]; then
    RUNS=1 bash bench/debugger.sh >/dev/null
fi
cargo build --release --quiet --bin flightrec

REV=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
[[ -z $(git status --porcelain -- src Cargo.toml Cargo.lock 2>/dev/null) ]] || REV="$REV+dirty"
export BIN RUNS SESSION_NO REV DATA
export DB=$STEM.db MANIFEST=$STEM.manifest.json
python3 - <<'PY'
import json, os, statistics, subprocess, sys, tempfile, time

BIN, DB, RUNS = os.environ["BIN"], os.environ["DB"], int(os.environ["RUNS"])
files = json.load(open(os.environ["MANIFEST"]))["files"]
i = int(os.environ["SESSION_NO"]) - 1
session, n_events = files[i]["session"], files[i]["events"]
other = files[(i + 1) % len(files)]["session"]
tmp = tempfile.mkdtemp(prefix="flightrec-share-")
fr = [f"{BIN}/flightrec", "--db", DB]

def run(cmd):
    p = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    if p.returncode not in (0, 1):
        sys.exit(f"bench: failed ({p.returncode}): {cmd}\n{p.stderr.decode()}")

def timed(cmd, before=None):
    """Median wall milliseconds over RUNS runs after a warm-up; peak RSS (MiB) of one more."""
    times = []
    for k in range(RUNS + 1):
        if before:
            before()
        t0 = time.perf_counter()
        run(cmd)
        if k:
            times.append((time.perf_counter() - t0) * 1000)
    if before:
        before()
    p = subprocess.run(["/usr/bin/time", "-f", "%M"] + cmd, stdout=subprocess.DEVNULL,
                       stderr=subprocess.PIPE)
    rss = int(p.stderr.decode().strip().splitlines()[-1]) / 1024
    return statistics.median(times), rss

out = lambda name: ["-o", os.path.join(tmp, name)]
tape, tapegz = os.path.join(tmp, "s.tape"), os.path.join(tmp, "s.tape.gz")
restored = os.path.join(tmp, "restored.db")
def fresh_restore():
    for s in ("", "-wal", "-shm"):
        if os.path.exists(restored + s):
            os.remove(restored + s)

commands = [
    ("export jsonl (baseline)", fr + ["export", session] + out("s.jsonl"), None),
    ("export jsonl --redact", fr + ["export", session, "--redact"] + out("r.jsonl"), None),
    ("export tape", fr + ["export", session, "--format", "tape", "-o", tape], None),
    ("export tape --compress", fr + ["export", session, "--format", "tape", "--compress", "-o", tapegz], None),
    ("export tape --redact", fr + ["export", session, "--format", "tape", "--redact"] + out("r.tape"), None),
    ("import tape (fresh db)", [f"{BIN}/flightrec", "--db", restored, "import", tape], fresh_restore),
    ("export md", fr + ["export", session, "--format", "md"] + out("s.md"), None),
    ("export html", fr + ["export", session, "--format", "html"] + out("s.html"), None),
    ("export perfetto", fr + ["export", session, "--format", "perfetto"] + out("s.json"), None),
    ("export otlp", fr + ["export", session, "--format", "otlp"] + out("s.otlp.json"), None),
    ("diff (two 100k sessions)", fr + ["diff", session, other, "--json"], None),
]
results = []
for name, cmd, before in commands:
    ms, rss = timed(cmd, before)
    results.append((name, ms, rss))
    print(f"bench: {name}: {ms:.0f} ms, {rss:.0f} MiB", file=sys.stderr)
sizes = {n: os.path.getsize(os.path.join(tmp, n)) for n in ["s.jsonl", "s.tape", "s.tape.gz", "s.md", "s.html", "s.json", "s.otlp.json"]}
base = results[0][1]
print(f"commit {os.environ['REV']}, session {session} ({n_events} events), median of {RUNS}")
print("| command | median | × jsonl export | peak RSS |")
print("|---|---:|---:|---:|")
for name, ms, rss in results:
    print(f"| {name} | {ms:,.0f} ms | {ms / base:.1f}× | {rss:.0f} MiB |")
print()
print("| output | size |")
print("|---|---:|")
for n, s in sizes.items():
    print(f"| {n} | {s / 1e6:.1f} MB |")
json.dump({"rev": os.environ["REV"], "session": session, "session_events": n_events, "runs": RUNS,
           "commands": [{"name": n, "median_ms": round(ms, 1), "peak_rss_mib": round(rss, 1)}
                        for n, ms, rss in results],
           "output_bytes": sizes},
          open(os.path.join(os.environ["DATA"], "share-last.json"), "w"), indent=1)
PY
