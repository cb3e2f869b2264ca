#!/usr/bin/env bash
# Fleet watch benchmark (issue 13): one `flightrec watch` recording many live sessions at once,
# and its webhook intake under load. See BENCHMARKS.md, "Fleet watch".
#
#   bash bench/watch.sh
#
# 1. Fleet: SESSIONS sessions (default 1000) are generated to start when the replay server
#    starts, each with about 100 events a minute (an event every 0.6 s, jittered) for MINUTES
#    minutes (default 3); every STUCK_EVERY-th one (default 10) ends waiting on a custom tool
#    (requires_action), the others end their turn. `flightrec serve --live` replays them all at
#    once on loopback; `flightrec watch --poll 2s --stuck-after STUCK_AFTER` records them and
#    alerts. Measured: watch's CPU time (user + system, from /proc) over the wall time, its peak
#    RSS (VmHWM), its most threads (sampled every 2 s), how long it takes to stop on SIGTERM,
#    events lost or stored twice (every session's event ids against the source's),
#    and each alert's latency after its threshold: fired_at − (the blocking event's time +
#    stuck-after), p50 / p99 / max. The first event of every session is stamped with the moment
#    the server is about to start, so event times are wall-clock times, as on the real API.
# 2. Webhook intake: `watch --webhook-listen` on an empty database takes DELIVERIES (default
#    20000) signed deliveries from examples/webhook_load.rs over 16 keep-alive connections;
#    measured: verified, stored deliveries per second (each is stored: the count is checked).
#
# Environment: SESSIONS, MINUTES, STUCK_EVERY, STUCK_AFTER (seconds, default 20), DELIVERIES;
# FLIGHTREC_BIN=PATH to measure a binary already built (the default builds the release binary
# and the load generator).
# Needs: cargo, python3, /proc (Linux).

set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
ROOT=$PWD
if [[ -z ${FLIGHTREC_BIN:-} ]]; then
    cargo build --release --quiet --bin flightrec --example webhook_load
    FLIGHTREC_BIN=$ROOT/target/release/flightrec
fi
LOAD_BIN=${LOAD_BIN:-$ROOT/target/release/examples/webhook_load}
REV=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
[[ -z $(git status --porcelain -- src Cargo.toml Cargo.lock 2>/dev/null) ]] || REV="$REV+dirty"
export FLIGHTREC_BIN LOAD_BIN REV ROOT
export SESSIONS=${SESSIONS:-1000} MINUTES=${MINUTES:-3} STUCK_EVERY=${STUCK_EVERY:-10}
export STUCK_AFTER=${STUCK_AFTER:-20} DELIVERIES=${DELIVERIES:-20000}
python3 - <<'PY'
import datetime as dt, json, os, random, sqlite3, statistics, subprocess, tempfile, time

BIN, LOAD, REV = os.environ["FLIGHTREC_BIN"], os.environ["LOAD_BIN"], os.environ["REV"]
SESSIONS, MINUTES = int(os.environ["SESSIONS"]), float(os.environ["MINUTES"])
STUCK_EVERY, STUCK_AFTER = int(os.environ["STUCK_EVERY"]), int(os.environ["STUCK_AFTER"])
DELIVERIES = int(os.environ["DELIVERIES"])
KEY = "sk-ant-bench-not-a-key"
SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
tmp = tempfile.mkdtemp(prefix="watch-bench-")
env = dict(os.environ, ANTHROPIC_API_KEY=KEY, ANTHROPIC_WEBHOOK_SIGNING_KEY=SECRET)

def stamp(t):
    return dt.datetime.fromtimestamp(t, dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"

counter = 0
def eid(rng):
    global counter
    counter += 1
    tail = "".join(rng.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789") for _ in range(10))
    return f"sevt_011CZ{counter:010d}{tail}"

def session(i, t0, rng):
    """One session's events: turns of model requests and tool calls, ~100 events a minute."""
    out, t = [], t0
    def ev(kind, **fields):
        nonlocal t
        e = {"type": kind, "id": eid(rng), "processed_at": stamp(t), **fields}
        out.append(e)
        t += rng.uniform(0.3, 0.9)
        return e
    ev("user.message", content=[{"type": "text", "text": f"Task {i}: tidy the build scripts."}])
    ev("session.status_running")
    end = t0 + MINUTES * 60
    while t < end - 5:
        start = ev("span.model_request_start")
        use = ev("agent.tool_use", name="bash", input={"command": f"make check-{rng.randrange(99)}"},
                 evaluated_permission="allow")
        ev("span.model_request_end", model_request_start_id=start["id"], is_error=False,
           model_usage={"input_tokens": 900, "output_tokens": 60, "cache_creation_input_tokens": 0,
                        "cache_read_input_tokens": 800})
        ev("agent.tool_result", tool_use_id=use["id"], content=[{"type": "text", "text": "ok"}],
           is_error=False)
    start = ev("span.model_request_start")
    stuck = i % STUCK_EVERY == 0
    if stuck:
        call = ev("agent.custom_tool_use", name="approve_deploy", input={"build": i})
        ev("span.model_request_end", model_request_start_id=start["id"], is_error=False,
           model_usage={"input_tokens": 900, "output_tokens": 40, "cache_creation_input_tokens": 0,
                        "cache_read_input_tokens": 800})
        ev("session.status_idle", stop_reason={"type": "requires_action", "event_ids": [call["id"]]})
    else:
        ev("agent.message", content=[{"type": "text", "text": "Done."}])
        ev("span.model_request_end", model_request_start_id=start["id"], is_error=False,
           model_usage={"input_tokens": 900, "output_tokens": 40, "cache_creation_input_tokens": 0,
                        "cache_read_input_tokens": 800})
        ev("session.status_idle", stop_reason={"type": "end_turn"})
    return out, stuck

def rss_peak(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return float("nan")

def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

def listening(proc, what):
    line = proc.stdout.readline()
    if "listening on" not in line:
        raise SystemExit(f"{what} did not start: {line!r}")
    return line.strip().rsplit(" ", 1)[1]

def q(db, sql, *args):
    c = sqlite3.connect(db)
    try:
        return c.execute(sql, args).fetchall()
    finally:
        c.close()

# 1. Fleet.
src, dst = os.path.join(tmp, "src.db"), os.path.join(tmp, "dst.db")
rng = random.Random(13)
gen = time.time()
lead = 5 + SESSIONS * MINUTES * 0.004  # generation and import time, so events start as served
t0 = gen + lead
logs = os.path.join(tmp, "logs")
os.mkdir(logs)
stuck_ids, total = set(), 0
for i in range(SESSIONS):
    sid = f"sesn_011CZbenchWatch{i:09d}"
    events, stuck = session(i, t0, rng)
    total += len(events)
    if stuck:
        stuck_ids.add(sid)
    with open(os.path.join(logs, f"w.{sid}.jsonl"), "w") as f:
        for e in events:
            f.write(json.dumps(e, separators=(",", ":")) + "\n")
files = sorted(os.path.join(logs, f) for f in os.listdir(logs))
subprocess.run([BIN, "--db", src, "import", *files], check=True, capture_output=True)
wait = t0 - time.time()
if wait < 0:
    print(f"note: generation took {-wait:.1f} s longer than planned: event times run that much early")
time.sleep(max(0, wait))
serve = subprocess.Popen([BIN, "--db", src, "serve", "--live", "--addr", "127.0.0.1:0"],
                         stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=env)
api = listening(serve, "serve")
started = time.time()
watch = subprocess.Popen([BIN, "--db", dst, "watch", "--base-url", api, "--poll", "2s",
                          "--stuck-after", f"{STUCK_AFTER}s", "--log-format", "json"],
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
want = {sid: n for sid, n in q(src, "SELECT session_id, count(*) FROM events GROUP BY session_id")}
deadline = started + MINUTES * 60 + STUCK_AFTER + 180
done_at = None
threads = 0
while time.time() < deadline:
    time.sleep(2)
    threads = max(threads, len(os.listdir(f"/proc/{watch.pid}/task")))
    try:
        got = dict(q(dst, "SELECT session_id, count(*) FROM events GROUP BY session_id"))
        alerts = q(dst, "SELECT count(*) FROM alerts WHERE rule = 'requires_action'")[0][0]
    except sqlite3.OperationalError:
        continue
    if got == want and alerts >= len(stuck_ids):
        done_at = time.time()
        break
cpu, rss = cpu_seconds(watch.pid), rss_peak(watch.pid)
wall = time.time() - started
stop_began = time.time()
watch.terminate(); serve.terminate()
try:
    watch.wait(120)
    stopped = f"{time.time() - stop_began:.1f} s"
except subprocess.TimeoutExpired:
    watch.kill(); watch.wait()
    stopped = "more than 120 s (killed)"
serve.wait(30)

lost = twice = 0
for sid in want:
    a = sorted(r[0] for r in q(src, "SELECT event_id FROM events WHERE session_id = ?", sid))
    b = sorted(r[0] for r in q(dst, "SELECT event_id FROM events WHERE session_id = ?", sid))
    lost += len(set(a) - set(b))
    twice += len(b) - len(set(b))
latencies = []
for session_id, at, fired in q(dst, "SELECT session_id, at, fired_at FROM alerts WHERE rule = 'requires_action'"):
    parse = lambda s: dt.datetime.fromisoformat(s.replace("Z", "+00:00")).timestamp()
    latencies.append(parse(fired) - (parse(at) + STUCK_AFTER))
latencies.sort()
alerted = {r[0] for r in q(dst, "SELECT session_id FROM alerts WHERE rule = 'requires_action'")}
other = q(dst, "SELECT rule, count(*) FROM alerts WHERE rule <> 'requires_action' GROUP BY rule")
pct = lambda p: latencies[min(len(latencies) - 1, int(round(p / 100 * (len(latencies) - 1))))] if latencies else float("nan")

print(f"rev {REV}: {SESSIONS} sessions x {MINUTES:g} min, {total} events "
      f"({total / SESSIONS / MINUTES:.0f} events a minute each), {len(stuck_ids)} left stuck")
print(f"  all stored after {((done_at or time.time()) - started):.0f} s "
      f"({'complete' if done_at else 'NOT complete by the deadline'})")
print(f"  watch: CPU {cpu:.1f} s over {wall:.0f} s wall = {100 * cpu / wall:.0f}% of one core; "
      f"peak RSS {rss:.0f} MB, {threads} threads at most; stopped on SIGTERM in {stopped}")
print(f"  events lost {lost}, stored twice {twice}")
print(f"  requires_action alerts: {len(latencies)} for {len(stuck_ids)} stuck sessions "
      f"(right sessions: {alerted == stuck_ids}); latency after the threshold "
      f"p50 {pct(50):.2f} s, p99 {pct(99):.2f} s, max {latencies[-1] if latencies else float('nan'):.2f} s")
print(f"  other alerts: {other or 'none'}")

# 2. Webhook intake.
empty_src, hooks = os.path.join(tmp, "empty.db"), os.path.join(tmp, "hooks.db")
subprocess.run([BIN, "--db", empty_src, "import", os.path.join(os.environ["ROOT"], "sample-logs",
               "happy-path.sesn_011CZhappyPath0000000001.jsonl")], check=True, capture_output=True)
serve = subprocess.Popen([BIN, "--db", empty_src, "serve", "--addr", "127.0.0.1:0"],
                         stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=env)
api = listening(serve, "serve")
watch = subprocess.Popen([BIN, "--db", hooks, "watch", "--base-url", api, "--poll", "1h",
                          "--webhook-listen", "127.0.0.1:0", "--log-format", "json"],
                         stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=env)
line = watch.stdout.readline()
url = line.strip().rsplit(" ", 1)[1]
out = subprocess.run([LOAD, "--url", url, "--secret", SECRET, "--count", str(DELIVERIES),
                      "--connections", "16"], check=True, capture_output=True, text=True).stdout
r = json.loads(out)
stored = q(hooks, "SELECT count(*) FROM webhooks")[0][0]
watch.terminate(); serve.terminate()
watch.wait(30); serve.wait(30)
print(f"  webhook intake: {r['sent']} deliveries in {r['seconds']:.2f} s = "
      f"{r['accepted_per_second']:.0f} verified and stored a second; codes {r['codes']}; "
      f"rows stored {stored}")
PY
