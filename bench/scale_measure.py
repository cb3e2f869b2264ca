"""The measuring half of bench/scale.sh (issue 15): run by the script, which prepares the data and
passes everything in the environment. Prints the figures as Markdown tables (for BENCHMARKS.md)
and writes them to bench/data/scale-last.json."""

import json
import os
import resource
import statistics
import subprocess
import sys
import time

BIN = os.environ["FLIGHTREC_BIN"]
RUNS = int(os.environ["RUNS"])
IMPORT_RUNS = int(os.environ["IMPORT_RUNS"])
DATA = os.environ["DATA"]
EX = os.environ["EX"]
LARGE = int(os.environ["LARGE"])
# The end of the generated year (synth --days), and "now" for the workspace's answers.
YEAR_END = "2026-12-01T00:00:00Z"
NOW = "2026-12-01T02:00:00Z"
SINCE_30D = "2026-11-01"


def log(msg):
    print(f"bench: {msg}", file=sys.stderr, flush=True)


def run(cmd, ok=(0,)):
    p = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    if p.returncode not in ok:
        sys.exit(f"bench: failed ({p.returncode}): {' '.join(cmd)}\n{p.stderr.decode()[:2000]}")


def measure(cmd, ok=(0,)):
    """Median wall ms of RUNS runs after a warm-up, the runs, and the peak RSS (MiB) of one more."""
    run(cmd, ok)
    times = []
    for _ in range(RUNS):
        t0 = time.perf_counter()
        run(cmd, ok)
        times.append((time.perf_counter() - t0) * 1000)
    p = subprocess.run(["/usr/bin/time", "-f", "%M"] + cmd, stdout=subprocess.DEVNULL,
                       stderr=subprocess.PIPE)
    if p.returncode not in ok:
        sys.exit(f"bench: failed ({p.returncode}): {' '.join(cmd)}")
    rss = int(p.stderr.decode().strip().splitlines()[-1]) / 1024
    return {"median_ms": round(statistics.median(times), 1),
            "runs_ms": [round(t, 1) for t in times], "peak_rss_mib": round(rss, 1)}


def middle_event(path, n):
    with open(path, "rb") as fh:
        for i, line in enumerate(fh):
            if i == n // 2:
                return json.loads(line)["id"]
    raise SystemExit(f"bench: {path} has fewer than {n // 2} lines")


def rmdb(d):
    for suffix in ("", "-wal", "-shm", "-journal"):
        if os.path.exists(d + suffix):
            os.remove(d + suffix)


def dbsize(db):
    return sum(os.path.getsize(db + s) for s in ("", "-wal") if os.path.exists(db + s))


out = {"rev": os.environ["REV"], "load_start": os.environ["LOAD_START"], "runs": RUNS}

# ------------------------------------------------------------------ 1. one session, small vs large
SESSION = "sesn_011CZsynth00000000000001"
specs = [line.split() for line in os.environ["SESSION_SPECS_STR"].splitlines() if line.strip()]
per_size = {}
for n, path, db in specs:
    n = int(n)
    mid = middle_event(path, n)
    fr = [BIN, "--db", db]
    commands = {
        "floor: timeline --limit 1": fr + ["timeline", SESSION, "--limit", "1", "--json"],
        "spans --open": fr + ["spans", SESSION, "--open", "--json"],
        "state": fr + ["state", SESSION, "--json"],
        "state --at middle": fr + ["state", SESSION, "--at", mid, "--json"],
        "stats": fr + ["stats", SESSION, "--json"],
        "explain": fr + ["explain", SESSION, "--json"],
        "explain --at middle": fr + ["explain", SESSION, "--at", mid, "--json"],
    }
    res = {}
    for name, cmd in commands.items():
        res[name] = measure(cmd)
        log(f"{n} events: {name}: {res[name]['median_ms']} ms, {res[name]['peak_rss_mib']} MiB")
    per_size[n] = res
out["sessions"] = {str(k): v for k, v in per_size.items()}

print(f"commit {out['rev']}; load average at the start {out['load_start']}; median of {RUNS}")
print()
sizes = sorted(per_size)
if sizes:
    small, large = sizes[0], sizes[1]
    hdr = " | ".join(f"{n:,} events" for n in sizes)
    print(f"| command | {hdr} | ×{large // small} events: time | RSS |")
    print("|---|" + "---:|" * (len(sizes) + 2))
    for name in per_size[small]:
        cells = " | ".join(f"{per_size[n][name]['median_ms']:,.1f} ms, {per_size[n][name]['peak_rss_mib']:.0f} MiB"
                           for n in sizes)
        a, b = per_size[small][name], per_size[large][name]
        print(f"| `{name}` | {cells} | {b['median_ms'] / a['median_ms']:.1f}× "
              f"| {b['peak_rss_mib'] / a['peak_rss_mib']:.1f}× |")
    print()

    # ------------------------------------------------------------------ 2. size and import, large
    path, db = next((p, d) for n, p, d in specs if int(n) == LARGE)
    input_bytes = os.path.getsize(path)
    fresh, bare = os.path.join(DATA, "scale-import.db"), os.path.join(DATA, "scale-bare.db")

    fr_s, bare_s, fr_cpu = [], [], []
    for k in range(IMPORT_RUNS):
        rmdb(fresh)
        subprocess.run(["sync"])
        t0 = time.perf_counter()
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        run([BIN, "--db", fresh, "import", path])
        fr_s.append(time.perf_counter() - t0)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        fr_cpu.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
        rmdb(bare)
        subprocess.run(["sync"])
        # The same rows as the import stored them (compressed text, dictionaries), written the
        # same way (a commit a second): examples/bare_insert.rs --rows-from.
        p = subprocess.run([f"{EX}/bare_insert", "--db", bare, "--variant", "full", "--rows-from", fresh, path],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, check=True)
        bare_s.append(json.loads(p.stdout.decode().strip().splitlines()[-1])["total_s"])
        log(f"import run {k + 1}: flightrec {fr_s[-1]:.2f} s, ceiling {bare_s[-1]:.2f} s")
    db_bytes = dbsize(fresh)
    rmdb(fresh)
    rmdb(bare)
    imp = {"input_bytes": input_bytes, "db_bytes": db_bytes, "db_over_input": round(db_bytes / input_bytes, 2),
           "import_s": [round(x, 2) for x in fr_s], "ceiling_s": [round(x, 2) for x in bare_s],
           "import_over_ceiling": round(statistics.median(fr_s) / statistics.median(bare_s), 2),
           "import_cpu_s": [round(x, 2) for x in fr_cpu],
           # With no thread ever waiting, two cores need at least half the CPU time.
           "two_core_floor_over_ceiling": round(statistics.median(fr_cpu) / 2 / statistics.median(bare_s), 2)}
    out["storage"] = imp
    print(f"| storage ({LARGE:,}-event session) | value |")
    print("|---|---:|")
    print(f"| JSON Lines input | {input_bytes / 2**20:,.1f} MiB |")
    print(f"| database after import | {db_bytes / 2**20:,.1f} MiB |")
    print(f"| database / input | {imp['db_over_input']}× |")
    print(f"| flightrec import, median of {IMPORT_RUNS} | {statistics.median(fr_s):.2f} s "
          f"({', '.join(f'{x:.2f}' for x in fr_s)}) |")
    print(f"| bare-SQLite insert ceiling (`full`), median | {statistics.median(bare_s):.2f} s "
          f"({', '.join(f'{x:.2f}' for x in bare_s)}) |")
    print(f"| import / ceiling | {imp['import_over_ceiling']}× |")
    print(f"| import CPU (user + system), median | {statistics.median(fr_cpu):.2f} s: on two cores at "
          f"least {statistics.median(fr_cpu) / 2:.2f} s, {imp['two_core_floor_over_ceiling']}× the ceiling |")
    print()

# ------------------------------------------------------------------ 3. the workspace
ws = os.environ.get("WS_SPEC")
if ws:
    manifest = json.load(open(os.path.join(ws, "manifest.json")))
    wsdb = os.path.join(ws, "ws.db")
    fr = [BIN, "--db", wsdb]
    # triage-bot is one of the five agents (15 % of the sessions).
    commands = {
        "sessions (all)": fr + ["sessions", "--json", "--now", NOW],
        "sessions --status running": fr + ["sessions", "--status", "running", "--json", "--now", NOW],
        "sessions --stop-reason requires_action": fr + ["sessions", "--stop-reason", "requires_action", "--json", "--now", NOW],
        "sessions --agent triage-bot": fr + ["sessions", "--agent", "triage-bot", "--json", "--now", NOW],
        "sessions --since 30d": fr + ["sessions", "--since", "30d", "--json", "--now", NOW],
        "sessions --since 30d --limit 20": fr + ["sessions", "--since", "30d", "--limit", "20", "--json", "--now", NOW],
        "check --all": fr + ["check", "--all", "--json", "--now", NOW],
        "stats --since 30d --by agent": fr + ["stats", "--since", "30d", "--by", "agent", "--json", "--now", NOW],
    }
    res = {}
    for name, cmd in commands.items():
        res[name] = measure(cmd, ok=(0, 1))
        log(f"workspace: {name}: {res[name]['median_ms']} ms, {res[name]['peak_rss_mib']} MiB")
    # What the filters select, for the table.
    counts = {}
    for name in ("sessions --status running", "sessions --stop-reason requires_action",
                 "sessions --agent triage-bot", "sessions --since 30d", "sessions (all)"):
        p = subprocess.run(commands[name], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        counts[name] = len(json.loads(p.stdout or b"[]"))
    p = subprocess.run(commands["check --all"], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    hits = json.loads(p.stdout or b"[]")
    counts["check --all"] = f"{len(hits)} hits"
    imported = json.load(open(os.path.join(ws, "import.json")))
    wsbytes = manifest["bytes"]
    out["workspace"] = {"sessions": manifest["sessions"], "events": manifest["events"],
                        "input_bytes": wsbytes, "db_bytes": dbsize(wsdb),
                        "import_s": imported["import_s"], "commands": res,
                        "selected": counts}
    print(f"Workspace: {manifest['sessions']:,} sessions, {manifest['events']:,} events over 365 days "
          f"to {YEAR_END} ({wsbytes / 2**20:,.0f} MiB of JSON Lines, database "
          f"{dbsize(wsdb) / 2**20:,.0f} MiB, imported in {imported['import_s']:.0f} s); --now {NOW}")
    print()
    print("| command | median | peak RSS | selects |")
    print("|---|---:|---:|---:|")
    for name, r in res.items():
        sel = counts.get(name, "")
        sel = f"{sel:,} sessions" if isinstance(sel, int) else sel
        print(f"| `{name}` | {r['median_ms']:,.1f} ms | {r['peak_rss_mib']:.0f} MiB | {sel} |")
    print()

# ------------------------------------------------------------------ 4. exports (bench/share.sh)
share = os.environ.get("SHARE_JSON")
if share and os.path.exists(share):
    s = json.load(open(share))
    out["share"] = s
    print(f"Exports and diff (bench/share.sh, commit {s['rev']}, {s['session_events']:,}-event session, "
          f"median of {s['runs']}):")
    print()
    print("| command | median | peak RSS |")
    print("|---|---:|---:|")
    for r in s["commands"]:
        print(f"| {r['name']} | {r['median_ms']:,.0f} ms | {r['peak_rss_mib']:.0f} MiB |")
    print()

out["load_end"] = " ".join(open("/proc/loadavg").read().split()[:3])
print(f"load average at the end {out['load_end']}")
json.dump(out, open(os.path.join(DATA, "scale-last.json"), "w"), indent=1)
