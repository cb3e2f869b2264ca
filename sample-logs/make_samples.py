#!/usr/bin/env python3
"""Generate the bundled flightrec sample recordings.

    python3 sample-logs/make_samples.py

Deterministic: every scenario uses its own fixed random seed, so running this
twice produces byte-identical files.  The generated files are what the tests
read; change a recording by editing this script and re-running it, never by
hand-editing the output.

Wire format reference: /work/shared/managed-agents-api.md (Claude Managed
Agents, SDK 2.12.0).  Formats written:

  *.jsonl      one event JSON object per line, compact, "\n" endings
  *.sse        a `curl -N` capture of GET /v1/sessions/{id}/events/stream
  *.pageN.json bodies of GET /v1/sessions/{id}/events ({"data":[..],"next_page":..})

Python 3 standard library only.
"""

import base64
import datetime as dt
import json
import os
import random

OUT = os.path.dirname(os.path.abspath(__file__))

# Base62 in ASCII order, so a time-derived prefix sorts like the time does.
B62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

# Types whose reference examples put `processed_at` after the payload fields.
# Every other type puts it right after `id` (again as in the reference).
TS_LAST = {
    "user.tool_confirmation", "user.custom_tool_result", "user.tool_result",
    "user.define_outcome", "system.message",
    "agent.tool_use", "agent.tool_result", "agent.mcp_tool_use",
    "agent.mcp_tool_result", "agent.custom_tool_use",
    "agent.thread_message_sent", "agent.thread_message_received",
    "session.thread_created", "session.thread_status_running",
    "session.thread_status_idle", "session.thread_status_rescheduled",
    "session.thread_status_terminated",
    "span.model_request_end", "span.outcome_evaluation_start",
    "span.outcome_evaluation_ongoing", "span.outcome_evaluation_end",
}

_UNSET = object()


def dumps(o):
    return json.dumps(o, separators=(",", ":"), ensure_ascii=False)


def T(text):
    """A content array holding one text block."""
    return [{"type": "text", "text": text}]


def U(inp, out, cache_create, cache_read, **extra):
    """A model_usage / usage object (the four required counts, in reference order)."""
    d = {"input_tokens": inp, "output_tokens": out,
         "cache_creation_input_tokens": cache_create,
         "cache_read_input_tokens": cache_read}
    d.update(extra)
    return d


def END_TURN():
    return {"type": "end_turn"}


def REQUIRES(*ids):
    return {"type": "requires_action", "event_ids": list(ids)}


def parse_ts(s):
    return dt.datetime.strptime(s, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=dt.timezone.utc)


class Rec:
    """One recorded session: a clock, an id source and an ordered list of items.

    Items are ("ev", obj, opts) for API events, ("preview", obj) for
    event_start/event_delta frames, ("ping",), ("comment", text) and
    ("error", obj) for SSE-only transport frames.
    """

    def __init__(self, slug, hint, idx, start, seed):
        assert len(hint) <= 17, hint
        self.slug = slug
        self.sid = "sesn_011CZ" + hint + "0" * (17 - len(hint)) + "%02d" % idx
        assert len(self.sid) == 5 + 24
        self.rng = random.Random(seed)
        self.t = parse_ts(start)
        self.items = []
        self.used = set()
        self.prec = 3  # default fractional-second digits
        self.acc = {}  # cumulative model_usage, for session.usage snapshots

    # -- ids -------------------------------------------------------------
    def new_id(self, prefix="sevt_"):
        # "011CZ" + 4 chars derived from the clock (tenths of a second) + 15 random.
        n = int(self.t.timestamp() * 10) % (62 ** 4)
        head = ""
        for _ in range(4):
            head = B62[n % 62] + head
            n //= 62
        while True:
            tail = "".join(self.rng.choice(B62) for _ in range(15))
            ident = prefix + "011CZ" + head + tail
            if ident not in self.used:
                self.used.add(ident)
                return ident

    # -- clock -----------------------------------------------------------
    def tick(self, seconds):
        # Advance by `seconds` plus a little jitter (1-89 ms, microsecond grain).
        micros = int(round(seconds * 1e6)) + self.rng.randint(1000, 89999)
        self.t += dt.timedelta(microseconds=micros)

    def ts(self, prec=None):
        p = self.prec if prec is None else prec
        base = self.t.strftime("%Y-%m-%dT%H:%M:%S")
        if p == 0:
            return base + "Z"
        frac = "%06d" % self.t.microsecond
        return base + "." + frac[:p] + "Z"

    # -- events ----------------------------------------------------------
    def e(self, etype, after=0.1, _id=None, _pa=_UNSET, _prec=None, _split=False, **fields):
        """Append an event `after` seconds after the previous one; return its id."""
        self.tick(after)
        ident = self.new_id() if _id is None else _id
        pa = self.ts(_prec) if _pa is _UNSET else _pa
        obj = {"type": etype, "id": ident}
        if etype in TS_LAST:
            obj.update(fields)
            obj["processed_at"] = pa
        else:
            obj["processed_at"] = pa
            obj.update(fields)
        self.items.append(("ev", obj, {"split": _split}))
        return ident

    def queued(self, etype, after=0.1, **fields):
        """A user event echoed while still queued: processed_at null."""
        return self.e(etype, after, _pa=None, **fields)

    # -- stream-only frames ---------------------------------------------
    def preview_start(self, etype, ident, after=0.05):
        self.tick(after)
        self.items.append(("preview", {"type": "event_start", "event": {"type": etype, "id": ident}}))

    def preview_delta(self, ident, text, index=0, after=0.3):
        self.tick(after)
        self.items.append(("preview", {"type": "event_delta", "event_id": ident,
                                       "delta": {"type": "content_delta", "index": index,
                                                 "content": {"type": "text", "text": text}}}))

    def ping(self):
        self.items.append(("ping",))

    def comment(self, text="keepalive"):
        self.items.append(("comment", text))

    def stream_error(self, etype="overloaded_error", message="Overloaded"):
        self.items.append(("error", {"type": "error", "error": {"type": etype, "message": message}}))

    # convenience ----------------------------------------------------------
    def idle(self, stop_reason, after=0.3, stop_details=_UNSET):
        f = {"stop_reason": stop_reason}
        if stop_details is not _UNSET:
            f["stop_details"] = stop_details
        return self.e("session.status_idle", after, **f)

    def req_end(self, start_id, usage, after=0.2, is_error=False, **kw):
        for k in ("input_tokens", "output_tokens", "cache_creation_input_tokens", "cache_read_input_tokens"):
            self.acc[k] = self.acc.get(k, 0) + usage[k]
        return self.e("span.model_request_end", after, model_request_start_id=start_id,
                      is_error=is_error, model_usage=usage, **kw)

    def usage_snapshot(self, active_seconds):
        """Cumulative usage for session.usage, summed from this recording's
        model_usage so the numbers agree.  list_cost uses illustrative per-MTok
        prices (input 5, output 25, cache read 0.50, 5-minute cache write 6.25
        USD); the amount is an integer string in cents."""
        a = self.acc
        usd = (a["input_tokens"] * 5 + a["output_tokens"] * 25
               + a["cache_read_input_tokens"] * 0.5 + a["cache_creation_input_tokens"] * 6.25) / 1e6
        return {"input_tokens": a["input_tokens"], "output_tokens": a["output_tokens"],
                "cache_read_input_tokens": a["cache_read_input_tokens"],
                "cache_creation": {"ephemeral_5m_input_tokens": a["cache_creation_input_tokens"],
                                   "ephemeral_1h_input_tokens": 0},
                "active_seconds": active_seconds,
                "list_cost": {"amount": str(int(round(usd * 100))), "currency": "USD"},
                "server_tool_use": {"web_search_requests": 0, "web_fetch_requests": 0}}

    def events(self):
        return [it[1] for it in self.items if it[0] == "ev"]

    # -- writers ---------------------------------------------------------
    def fname(self, ext, part=None):
        mid = self.sid if part is None else self.sid + "." + part
        return "%s.%s.%s" % (self.slug, mid, ext)

    def write_jsonl(self):
        kinds = {it[0] for it in self.items}
        assert kinds == {"ev"}, (self.slug, kinds)
        path = os.path.join(OUT, self.fname("jsonl"))
        with open(path, "w", encoding="utf-8", newline="") as f:
            for obj in self.events():
                f.write(dumps(obj) + "\n")
        return path

    def write_sse(self, crlf=False):
        nl = "\r\n" if crlf else "\n"
        out = []
        for it in self.items:
            kind = it[0]
            if kind == "ping":
                out.append("event: ping" + nl + 'data: {"type":"ping"}' + nl + nl)
            elif kind == "comment":
                out.append(": " + it[1] + nl + nl)
            elif kind == "error":
                out.append("event: error" + nl + "data: " + dumps(it[1]) + nl + nl)
            elif kind == "preview":
                out.append("event: " + it[1]["type"] + nl + "data: " + dumps(it[1]) + nl + nl)
            else:
                obj, opts = it[1], it[2]
                if opts["split"]:
                    # Legal SSE: two data: lines, joined by the reader with "\n".
                    # Split after the comma following the second member, where a
                    # newline is ordinary JSON whitespace.
                    members = [dumps(k) + ":" + dumps(v) for k, v in obj.items()]
                    l1 = "{" + ",".join(members[:2]) + ","
                    l2 = ",".join(members[2:]) + "}"
                    assert json.loads(l1 + "\n" + l2) == obj
                    out.append("event: " + obj["type"] + nl + "data: " + l1 + nl + "data: " + l2 + nl + nl)
                else:
                    out.append("event: " + obj["type"] + nl + "data: " + dumps(obj) + nl + nl)
        path = os.path.join(OUT, self.fname("sse"))
        with open(path, "w", encoding="utf-8", newline="") as f:
            f.write("".join(out))
        return path

    def write_pages(self, sizes):
        evs = self.events()
        assert sum(sizes) == len(evs), (sizes, len(evs))
        paths = []
        pos = 0
        for n, size in enumerate(sizes, start=1):
            chunk = evs[pos:pos + size]
            pos += size
            if n < len(sizes):
                cursor = base64.urlsafe_b64encode(
                    dumps({"v": 1, "after": chunk[-1]["id"], "order": "asc"}).encode()).decode().rstrip("=")
            else:
                cursor = None
            path = os.path.join(OUT, self.fname("json", "page%d" % n))
            with open(path, "w", encoding="utf-8", newline="") as f:
                f.write(dumps({"data": chunk, "next_page": cursor}) + "\n")
            paths.append(path)
        return paths


# ---------------------------------------------------------------------------
# Scenarios
# ---------------------------------------------------------------------------

ALLOW = {"type": "always_allow"}
ASK = {"type": "always_ask"}
AUTO_ALLOW = {"type": "auto", "evaluated_permission": {"type": "allow"}}
AUTO_ASK = {"type": "auto", "evaluated_permission": {"type": "ask", "reason_code": "indeterminate"}}


def happy_path():
    r = Rec("happy-path", "happyPath", 1, "2026-08-07T09:14:03.118000Z", 101)
    r.e("user.message", 0, content=T(
        "CI on main is red: tests/test_auth.py started failing after yesterday's merge. "
        "Please find the cause, fix it, and run the full suite before you finish."))
    r.e("session.status_running", 0.4)
    m = r.e("span.model_request_start", 0.1)
    r.e("agent.thinking", 1.9)
    r.e("agent.message", 1.3, content=T("I'll start by running the failing test module to see the actual errors."))
    t1 = r.e("agent.tool_use", 0.6, name="bash",
             input={"command": "cd /workspace/api && python -m pytest tests/test_auth.py -q"},
             evaluated_permission="allow", evaluation=ALLOW)
    r.req_end(m, U(4210, 187, 3890, 0))
    r.e("agent.tool_result", 5.2, tool_use_id=t1, content=T(
        "..FFF...                                                                 [100%]\n"
        "=================================== FAILURES ===================================\n"
        "_____________________ test_refresh_token_expires_after_ttl _____________________\n\n"
        "    def test_refresh_token_expires_after_ttl(frozen_clock):\n"
        "        token = issue_refresh_token(user_id=42, ttl=timedelta(hours=1))\n"
        "        frozen_clock.advance(timedelta(minutes=61))\n"
        ">       assert is_expired(token)\n\n"
        "tests/test_auth.py:58: \n"
        "_ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ \n\n"
        "    def is_expired(token: RefreshToken) -> bool:\n"
        ">       return datetime.now(timezone.utc) >= token.expires_at\n"
        "E       TypeError: can't compare offset-naive and offset-aware datetimes\n\n"
        "app/auth/tokens.py:47: TypeError\n"
        "=========================== short test summary info ============================\n"
        "FAILED tests/test_auth.py::test_refresh_token_expires_after_ttl - TypeError: can't compare offset-naive and offset-aware datetimes\n"
        "FAILED tests/test_auth.py::test_access_token_valid_within_ttl - TypeError: can't compare offset-naive and offset-aware datetimes\n"
        "FAILED tests/test_auth.py::test_revoked_token_is_expired - TypeError: can't compare offset-naive and offset-aware datetimes\n"
        "3 failed, 5 passed in 0.84s"), is_error=False)

    m = r.e("span.model_request_start", 0.2)
    r.e("agent.thinking", 2.4)
    t2 = r.e("agent.tool_use", 0.9, name="grep",
             input={"pattern": "datetime\\.(utcnow|now)\\(", "path": "/workspace/api/app/auth"},
             evaluated_permission="allow", evaluation=AUTO_ALLOW)
    t3 = r.e("agent.tool_use", 0.2, name="read",
             input={"file_path": "/workspace/api/app/auth/tokens.py", "view_range": [20, 50]},
             evaluated_permission="allow", evaluation=AUTO_ALLOW)
    r.req_end(m, U(1893, 241, 0, 8100))
    r.e("agent.tool_result", 0.3, tool_use_id=t2, content=T(
        "/workspace/api/app/auth/tokens.py:31:    expires_at = datetime.utcnow() + ttl\n"
        "/workspace/api/app/auth/tokens.py:47:    return datetime.now(timezone.utc) >= token.expires_at\n"
        "/workspace/api/app/auth/sessions.py:19:    created = datetime.now(timezone.utc)"), is_error=False)
    r.e("agent.tool_result", 0.1, tool_use_id=t3, content=T(
        "    20\t@dataclass(frozen=True)\n"
        "    21\tclass RefreshToken:\n"
        "    22\t    user_id: int\n"
        "    23\t    value: str\n"
        "    24\t    expires_at: datetime\n"
        "    25\t    revoked: bool = False\n"
        "    26\t\n"
        "    27\t\n"
        "    28\tdef issue_refresh_token(user_id: int, ttl: timedelta) -> RefreshToken:\n"
        "    29\t    \"\"\"Create a refresh token valid for `ttl`.\"\"\"\n"
        "    30\t    value = secrets.token_urlsafe(32)\n"
        "    31\t    expires_at = datetime.utcnow() + ttl\n"
        "    32\t    return RefreshToken(user_id=user_id, value=value, expires_at=expires_at)\n"
        "    33\t\n"
        "    34\t\n"
        "    35\tdef revoke(token: RefreshToken) -> RefreshToken:\n"
        "    36\t    return replace(token, revoked=True, expires_at=datetime.now(timezone.utc))\n"
        "    37\t\n"
        "    38\t\n"
        "    39\tdef is_expired(token: RefreshToken) -> bool:\n"
        "    40\t    \"\"\"True once the token's expiry time has passed.\n"
        "    41\t\n"
        "    42\t    Revoked tokens are always expired.\n"
        "    43\t    \"\"\"\n"
        "    44\t    if token.revoked:\n"
        "    45\t        return True\n"
        "    46\t\n"
        "    47\t    return datetime.now(timezone.utc) >= token.expires_at\n"
        "    48\t\n"
        "    49\t\n"
        "    50\tdef rotate(token: RefreshToken, ttl: timedelta) -> RefreshToken:"), is_error=False)

    m = r.e("span.model_request_start", 0.2)
    r.e("agent.thinking", 3.1)
    r.e("agent.message", 1.7, content=T(
        "Found it: yesterday's merge changed `is_expired` to compare against an aware "
        "`datetime.now(timezone.utc)`, but `issue_refresh_token` still builds `expires_at` "
        "with the naive `datetime.utcnow()`. I'll make the issued expiry timezone-aware."))
    t4 = r.e("agent.tool_use", 0.8, name="edit",
             input={"file_path": "/workspace/api/app/auth/tokens.py",
                    "old_string": "    expires_at = datetime.utcnow() + ttl",
                    "new_string": "    expires_at = datetime.now(timezone.utc) + ttl"},
             evaluated_permission="allow", evaluation=ALLOW)
    r.req_end(m, U(2310, 402, 0, 9984))
    r.e("agent.tool_result", 0.2, tool_use_id=t4,
        content=T("The file /workspace/api/app/auth/tokens.py has been updated."), is_error=False)

    m = r.e("span.model_request_start", 0.2)
    t5 = r.e("agent.tool_use", 2.2, name="bash",
             input={"command": "cd /workspace/api && python -m pytest -q", "timeout_ms": 300000},
             evaluated_permission="allow", evaluation=ALLOW)
    r.req_end(m, U(512, 96, 0, 12390))
    r.e("agent.tool_result", 4.6, tool_use_id=t5, content=T(
        "............................................                             [100%]\n"
        "44 passed in 3.12s"), is_error=False)

    m = r.e("span.model_request_start", 0.2)
    r.e("agent.message", 4.1, content=T(
        "Fixed. `issue_refresh_token` (app/auth/tokens.py:31) created `expires_at` with the naive "
        "`datetime.utcnow()`, while `is_expired` now compares it with the timezone-aware "
        "`datetime.now(timezone.utc)`; Python refuses to compare the two, so every expiry check "
        "raised `TypeError`. I switched line 31 to `datetime.now(timezone.utc)`. The full suite "
        "passes (44 passed). As a bonus this removes a Python 3.12 deprecation warning for `utcnow()`."))
    r.req_end(m, U(688, 174, 0, 12902))
    r.idle(END_TURN(), 0.3, stop_details=None)
    return r


def stuck_custom_tool():
    r = Rec("stuck-custom-tool", "stuckCustomTool", 2, "2026-08-07T07:41:20.514000Z", 102)
    r.e("user.message", 0, content=T("What's the weather in Bergen right now?"))
    r.e("session.status_running", 0.3)
    m = r.e("span.model_request_start", 0.1)
    c1 = r.e("agent.custom_tool_use", 1.6, name="get_weather", input={"city": "Bergen"})
    r.req_end(m, U(1802, 58, 1650, 0))
    r.idle(REQUIRES(c1), 0.2, stop_details=None)
    r.e("user.custom_tool_result", 0.9, custom_tool_use_id=c1, content=T(
        "{\"city\": \"Bergen\", \"temperature_c\": 13, \"conditions\": \"light rain\", \"wind_kph\": 22, "
        "\"observed_at\": \"2026-08-07T07:40:00Z\"}"), is_error=False)
    r.e("session.status_running", 0.2)
    m = r.e("span.model_request_start", 0.1)
    r.e("agent.message", 2.0, content=T(
        "It's 13 °C in Bergen with light rain and a 22 km/h wind, so bring a rain jacket."))
    r.req_end(m, U(142, 41, 0, 1650))
    r.idle(END_TURN(), 0.2, stop_details=None)

    # Second turn, a few minutes later: this custom tool call is never answered.
    r.e("user.message", 214.0, content=T(
        "I'm cycling from Bergen to Voss tomorrow morning, leaving around 7. What should I pack?"))
    r.e("session.status_running", 0.3)
    m = r.e("span.model_request_start", 0.1)
    r.e("agent.thinking", 1.4)
    r.e("agent.message", 1.1, content=T("Let me check tomorrow morning's forecast along the route, starting with Voss."))
    c2 = r.e("agent.custom_tool_use", 0.7, name="get_weather",
             input={"city": "Voss", "date": "2026-08-08", "hour": 7})
    r.req_end(m, U(236, 119, 0, 1834))
    r.idle(REQUIRES(c2), 0.2, stop_details=None)
    return r


def pending_confirmation():
    r = Rec("pending-confirmation", "pendingConfirm", 3, "2026-08-07T16:22:47.930000Z", 103)
    r.e("user.message", 0, content=T(
        "My local env is a mess. Clear out the build artefacts and reset the dev database so I can start clean."))
    r.e("session.status_running", 0.4)
    m = r.e("span.model_request_start", 0.1)
    r.e("agent.thinking", 1.2)
    r.e("agent.message", 0.9, content=T("I'll look at what is there first."))
    g = r.e("agent.tool_use", 0.5, name="glob",
            input={"pattern": "{build,dist,src/*.egg-info}", "path": "/workspace/api"},
            evaluated_permission="allow", evaluation=ALLOW)
    r.req_end(m, U(3320, 133, 3104, 0))
    r.e("agent.tool_result", 0.2, tool_use_id=g,
        content=T("/workspace/api/build\n/workspace/api/dist\n/workspace/api/src/acme_api.egg-info"), is_error=False)
    m = r.e("span.model_request_start", 0.2)
    r.e("agent.message", 2.6, content=T(
        "Found build/, dist/ and src/acme_api.egg-info. Deleting them and dropping and recreating the "
        "`acme_dev` database can't be undone, so the command below needs your approval."))
    b = r.e("agent.tool_use", 0.8, name="bash",
            input={"command": "cd /workspace/api && rm -rf build dist src/acme_api.egg-info && "
                              "dropdb --if-exists acme_dev && createdb acme_dev && alembic upgrade head"},
            evaluated_permission="ask", evaluation=ASK)
    r.req_end(m, U(301, 207, 0, 3104))
    r.idle(REQUIRES(b), 0.2, stop_details=None)
    return r


def two_blocking():
    r = Rec("two-blocking-one-resolved", "twoBlocking", 4, "2026-08-07T11:05:12.377000Z", 104)
    r.e("user.message", 0, content=T(
        "The team offsite is in Oslo tomorrow. Check the weather, and open an issue in "
        "acme/offsite-planning so someone books the indoor backup venue if it's going to rain."))
    r.e("session.status_running", 0.3)
    m = r.e("span.model_request_start", 0.1)
    r.e("agent.thinking", 1.7)
    r.e("agent.message", 1.2, content=T(
        "I'll fetch tomorrow's forecast for Oslo and open the tracking issue at the same time."))
    c = r.e("agent.custom_tool_use", 0.6, name="get_weather", input={"city": "Oslo", "date": "2026-08-08"})
    g = r.e("agent.mcp_tool_use", 1.9, mcp_server_name="github", name="create_issue",
            input={"owner": "acme", "repo": "offsite-planning",
                   "title": "Book the indoor backup venue for the 2026-08-08 offsite",
                   "body": "Rain is possible in Oslo on 2026-08-08. Please confirm the indoor backup "
                           "venue (Kulturhuset, 2nd floor) by 16:00 today.\n\n_Opened by the planning agent._",
                   "labels": ["offsite", "logistics"]},
            evaluated_permission="ask", evaluation=ASK)
    r.req_end(m, U(2954, 288, 2710, 0))
    r.idle(REQUIRES(c, g), 0.2, stop_details=None)
    r.e("user.custom_tool_result", 4.1, custom_tool_use_id=c, content=T(
        "{\"city\": \"Oslo\", \"date\": \"2026-08-08\", \"high_c\": 17, \"low_c\": 11, "
        "\"chance_of_rain\": 0.85, \"precipitation_mm\": 11.4}"), is_error=False)
    # Only part of the blocking set is resolved: the server re-emits the idle
    # listing what is still open (reference §3.1).  No session.status_running
    # until everything is resolved.
    r.idle(REQUIRES(g), 0.1, stop_details=None)
    return r


def resolved_confirmation():
    r = Rec("resolved-confirmation", "resolvedConfirm", 5, "2026-08-07T13:30:05.201000Z", 105)
    r.e("user.message", 0, content=T(
        "v2.14 is deployed to staging. Run the pending database migrations against staging and tell me what changed."))
    r.e("session.status_running", 0.4)
    m = r.e("span.model_request_start", 0.1)
    r.e("agent.thinking", 1.5)
    r.e("agent.message", 1.0, content=T("I'll check which migrations are pending first."))
    t1 = r.e("agent.tool_use", 0.5, name="bash",
             input={"command": "cd /workspace/api && alembic -x env=staging current && alembic -x env=staging history -r current:head"},
             evaluated_permission="allow", evaluation=AUTO_ALLOW)
    r.req_end(m, U(3877, 164, 3650, 0))
    r.e("agent.tool_result", 2.3, tool_use_id=t1, content=T(
        "7c1e9a02b5d3\n"
        "7c1e9a02b5d3 -> 3f9c2a1d7b44, add orders.fulfilled_at\n"
        "3f9c2a1d7b44 -> 9e8d7c6b5a41 (head), index orders(customer_id, created_at)"), is_error=False)
    m = r.e("span.model_request_start", 0.2)
    r.e("agent.message", 2.8, content=T(
        "Two migrations are pending: `3f9c2a1d7b44` adds a nullable `orders.fulfilled_at` column and "
        "`9e8d7c6b5a41` adds an index on `orders(customer_id, created_at)`. Applying them changes the staging schema."))
    t2 = r.e("agent.tool_use", 0.6, name="bash",
             input={"command": "cd /workspace/api && alembic -x env=staging upgrade head"},
             evaluated_permission="ask", evaluation=AUTO_ASK)
    r.req_end(m, U(412, 233, 0, 3650))
    r.idle(REQUIRES(t2), 0.2, stop_details=None)
    r.e("user.tool_confirmation", 38.4, tool_use_id=t2, result="allow")
    r.e("session.status_running", 0.2)
    r.e("agent.tool_result", 6.3, tool_use_id=t2, content=T(
        "INFO  [alembic.runtime.migration] Context impl PostgresqlImpl.\n"
        "INFO  [alembic.runtime.migration] Will assume transactional DDL.\n"
        "INFO  [alembic.runtime.migration] Running upgrade 7c1e9a02b5d3 -> 3f9c2a1d7b44, add orders.fulfilled_at\n"
        "INFO  [alembic.runtime.migration] Running upgrade 3f9c2a1d7b44 -> 9e8d7c6b5a41, index orders(customer_id, created_at)"),
        is_error=False)
    m = r.e("span.model_request_start", 0.2)
    r.e("agent.message", 3.0, content=T(
        "Both migrations applied. While I'm here: staging has expired sessions older than 30 days; I can purge them."))
    t3 = r.e("agent.tool_use", 0.7, name="bash",
             input={"command": "psql \"$STAGING_DATABASE_URL\" -c \"DELETE FROM user_sessions WHERE expires_at < now() - interval '30 days'\""},
             evaluated_permission="ask", evaluation=AUTO_ASK)
    r.req_end(m, U(527, 188, 0, 4061))
    r.idle(REQUIRES(t3), 0.2, stop_details=None)
    r.e("user.tool_confirmation", 12.9, tool_use_id=t3, result="deny",
        deny_message="Don't touch staging data, schema changes only.")
    r.e("session.status_running", 0.2)
    m = r.e("span.model_request_start", 0.1)
    r.e("agent.message", 3.4, content=T(
        "Understood, I left the data alone. Summary: staging is now at `9e8d7c6b5a41` (head). "
        "Changes: new nullable column `orders.fulfilled_at` (timestamptz) and a new index "
        "`ix_orders_customer_id_created_at`. No data was modified."))
    r.req_end(m, U(301, 142, 0, 4498))
    r.idle(END_TURN(), 0.2, stop_details=None)
    return r


def retries_exhausted():
    r = Rec("retries-exhausted", "retriesExhausted", 6, "2026-08-07T02:17:40.066000Z", 106)
    r.comment("keepalive")
    r.e("user.message", 0, content=T(
        "Summarise the open incidents in ops/INCIDENTS.md and draft a status-page update for each."))
    r.e("session.status_running", 0.3)
    m = r.e("span.model_request_start", 0.1)
    r.e("agent.thinking", 1.1)
    t = r.e("agent.tool_use", 0.9, name="read", input={"file_path": "/workspace/ops/INCIDENTS.md"},
            evaluated_permission="allow", evaluation=ALLOW)
    r.req_end(m, U(2690, 71, 2544, 0))
    r.e("agent.tool_result", 0.2, _split=True, tool_use_id=t, content=T(
        "     1\t# Open incidents\n"
        "     2\t\n"
        "     3\t## INC-2291 Elevated 5xx on checkout (SEV2)\n"
        "     4\tStarted 2026-08-06 23:40 UTC. Mitigated by rolling back payments-gw to v4.8.2. Monitoring.\n"
        "     5\t\n"
        "     6\t## INC-2293 Delayed webhook deliveries (SEV3)\n"
        "     7\tQueue backlog ~40 min. Consumers scaled 6 -> 12 at 01:55 UTC; backlog draining."), is_error=False)
    r.ping()
    # Attempt 1
    m = r.e("span.model_request_start", 0.2)
    r.req_end(m, U(0, 0, 0, 0), 8.4, is_error=True)
    r.e("session.error", 0.05, error={"type": "model_overloaded_error",
                                      "message": "The model is currently overloaded.",
                                      "retry_status": {"type": "retrying"}})
    r.e("session.status_rescheduled", 0.05)
    r.ping()
    r.e("session.status_running", 6.2)
    # Attempt 2
    m = r.e("span.model_request_start", 0.1)
    r.req_end(m, U(0, 0, 0, 0), 9.1, is_error=True)
    r.e("session.error", 0.05, error={"type": "model_overloaded_error",
                                      "message": "The model is currently overloaded.",
                                      "retry_status": {"type": "retrying"}})
    r.e("session.status_rescheduled", 0.05)
    r.comment("keepalive")
    # The connection itself is dropped with an error frame; the capture loop
    # (`while :; do curl -N ...; done`) reconnected and kept appending.
    r.tick(3.0)
    r.stream_error()
    r.ping()
    r.e("session.status_running", 9.7)
    # Attempt 3
    m = r.e("span.model_request_start", 0.1)
    r.req_end(m, U(0, 0, 0, 0), 10.2, is_error=True)
    r.e("session.error", 0.05, _split=True, error={"type": "model_overloaded_error",
                                                   "message": "The model is currently overloaded.",
                                                   "retry_status": {"type": "exhausted"}})
    r.idle({"type": "retries_exhausted"}, 0.1, stop_details=None)
    r.ping()
    return r


def budget_reached():
    r = Rec("budget-reached", "budgetReached", 7, "2026-08-07T18:00:02.450000Z", 107)
    prim = r.new_id("sthr_")
    budget = {"type": "limit", "max_list_cost": {"amount": "25", "currency": "USD"}}
    # The session was created with a budget; this update renames it and replaces the budget.
    r.e("session.updated", 0, title="Dependency upgrade sweep", budget=budget)
    r.e("user.message", 41.3, content=T(
        "Upgrade the outdated npm dependencies in /workspace/web to their latest minor versions "
        "and make sure the test suite still passes."))
    r.e("session.status_running", 0.4)
    r.e("session.thread_status_running", 0.01, session_thread_id=prim, agent_name="Dependency bot")
    m = r.e("span.model_request_start", 0.1)
    t = r.e("agent.tool_use", 1.8, name="bash", input={"command": "cd /workspace/web && npm outdated --json"},
            evaluated_permission="allow", evaluation=ALLOW)
    r.req_end(m, U(2140, 64, 21870, 0))
    r.e("agent.tool_result", 3.9, tool_use_id=t, content=T(
        "{\n"
        "  \"axios\": {\"current\": \"1.6.8\", \"wanted\": \"1.7.4\", \"latest\": \"1.7.4\"},\n"
        "  \"date-fns\": {\"current\": \"3.3.1\", \"wanted\": \"3.6.0\", \"latest\": \"4.1.0\"},\n"
        "  \"react-router-dom\": {\"current\": \"6.22.3\", \"wanted\": \"6.26.2\", \"latest\": \"6.26.2\"},\n"
        "  \"vitest\": {\"current\": \"1.4.0\", \"wanted\": \"1.6.0\", \"latest\": \"2.1.1\"},\n"
        "  \"zod\": {\"current\": \"3.22.4\", \"wanted\": \"3.23.8\", \"latest\": \"3.23.8\"}\n"
        "}"), is_error=False)
    m = r.e("span.model_request_start", 0.2)
    r.e("agent.thinking", 2.2)
    r.e("agent.message", 1.4, content=T(
        "Five packages are behind. I'll bump each to its latest minor (date-fns stays on 3.x and vitest on 1.x)."))
    t = r.e("agent.tool_use", 0.7, name="bash",
            input={"command": "cd /workspace/web && npx npm-check-updates --target minor -u && npm install",
                   "timeout_ms": 600000},
            evaluated_permission="allow", evaluation=ALLOW)
    r.req_end(m, U(1712, 210, 0, 24010))
    r.e("agent.tool_result", 27.6, tool_use_id=t, content=T(
        "Upgrading /workspace/web/package.json\n"
        "[====================] 41/41 100%\n\n"
        " axios             ^1.6.8  →   ^1.7.4\n"
        " date-fns          ^3.3.1  →   ^3.6.0\n"
        " react-router-dom ^6.22.3  →  ^6.26.2\n"
        " vitest            ^1.4.0  →   ^1.6.0\n"
        " zod              ^3.22.4  →  ^3.23.8\n\n"
        "added 3 packages, removed 1 package, changed 27 packages, and audited 812 packages in 19s\n"
        "found 0 vulnerabilities"), is_error=False)
    r.e("session.usage", 0.3, usage=r.usage_snapshot(39.1), budget=budget)
    m = r.e("span.model_request_start", 0.2)
    t = r.e("agent.tool_use", 1.6, name="bash", input={"command": "cd /workspace/web && npx vitest run --reporter=dot"},
            evaluated_permission="allow", evaluation=ALLOW)
    r.req_end(m, U(1933, 88, 0, 25722))
    r.e("agent.tool_result", 14.2, tool_use_id=t, content=T(
        "·········································×·······\n\n"
        " FAIL  src/components/DueDate.test.tsx > DueDate > formats relative dates\n"
        "Error: Snapshot `DueDate > formats relative dates 1` mismatched\n\n"
        "- Expected\n+ Received\n\n"
        "-   \"in about 2 hours\"\n+   \"in 2 hours\"\n\n"
        " Test Files  1 failed | 37 passed (38)\n"
        "      Tests  1 failed | 203 passed (204)"), is_error=True)
    m = r.e("span.model_request_start", 0.2)
    r.e("agent.thinking", 3.8)
    t = r.e("agent.tool_use", 1.2, name="read", input={"file_path": "/workspace/web/src/components/DueDate.tsx"},
            evaluated_permission="allow", evaluation=ALLOW)
    r.req_end(m, U(2410, 301, 0, 27655))
    r.e("agent.tool_result", 0.2, tool_use_id=t, content=T(
        "     1\timport { formatDistanceToNow } from \"date-fns\";\n"
        "     2\t\n"
        "     3\texport function DueDate({ at }: { at: Date }) {\n"
        "     4\t  return <time dateTime={at.toISOString()}>{formatDistanceToNow(at, { addSuffix: true })}</time>;\n"
        "     5\t}"), is_error=False)
    m = r.e("span.model_request_start", 0.2)
    r.e("agent.thinking", 4.5)
    r.req_end(m, U(1380, 655, 0, 30065))
    # Budget pause (reference §5): per-thread idle, then session.usage, then the session idle.
    r.e("session.thread_status_idle", 0.1, session_thread_id=prim, agent_name="Dependency bot",
        stop_reason={"type": "budget_reached"}, stop_details=None)
    r.e("session.usage", 0.05, usage=r.usage_snapshot(66.4), budget=budget)
    r.idle({"type": "budget_reached"}, 0.05, stop_details=None)
    # Half an hour later the user removes the budget ("budget": null, not absent), which resumes the turn.
    r.e("session.updated", 1843.0, budget=None)
    r.e("session.status_running", 0.3)
    r.e("session.thread_status_running", 0.01, session_thread_id=prim, agent_name="Dependency bot")
    m = r.e("span.model_request_start", 0.1)
    r.e("agent.message", 3.3, content=T(
        "date-fns 3.6 changed `formatDistanceToNow` wording (\"in 2 hours\" instead of \"in about 2 hours\"). "
        "That's an upstream copy change, not a bug in DueDate, so I'll update the snapshot."))
    t = r.e("agent.tool_use", 0.6, name="bash",
            input={"command": "cd /workspace/web && npx vitest run src/components/DueDate.test.tsx -u && npx vitest run --reporter=dot"},
            evaluated_permission="allow", evaluation=ALLOW)
    r.req_end(m, U(2980, 230, 31720, 0))
    r.e("agent.tool_result", 16.8, tool_use_id=t, content=T(
        "  Snapshots  1 updated\n"
        " Test Files  1 passed (1)\n\n"
        "············································\n\n"
        " Test Files  38 passed (38)\n"
        "      Tests  204 passed (204)"), is_error=False)
    m = r.e("span.model_request_start", 0.2)
    r.e("agent.message", 3.6, content=T(
        "Done. Bumped axios 1.7.4, date-fns 3.6.0, react-router-dom 6.26.2, vitest 1.6.0 and zod 3.23.8 "
        "(package.json and package-lock.json). One snapshot in DueDate.test.tsx was updated for date-fns's new "
        "wording; all 204 tests pass. date-fns 4 and vitest 2 are major upgrades and were left out."))
    r.req_end(m, U(512, 188, 0, 34700))
    r.e("session.thread_status_idle", 0.1, session_thread_id=prim, agent_name="Dependency bot",
        stop_reason=END_TURN(), stop_details=None)
    r.e("session.usage", 0.05, usage=r.usage_snapshot(92.1), budget=None)
    r.idle(END_TURN(), 0.05, stop_details=None)
    return r


def rescheduled_terminated():
    r = Rec("rescheduled-terminated", "reschedTerminated", 8, "2026-08-07T21:48:09.000000Z", 108)
    # This recording deliberately varies the number of fractional digits.
    r.e("user.message", 0, _prec=0, content=T(
        "Rebuild the docs search index and report any broken internal links."))
    r.e("session.status_running", 0.4, _prec=1)
    m = r.e("span.model_request_start", 0.1, _prec=3)
    r.e("agent.message", 1.9, _prec=6, content=T("Rebuilding the search index first, then I'll run the link checker."))
    t = r.e("agent.tool_use", 0.6, _prec=2, name="bash",
            input={"command": "cd /workspace/docs && make search-index", "timeout_ms": 600000},
            evaluated_permission="allow", evaluation=ALLOW)
    r.req_end(m, U(2288, 95, 2101, 0), 0.2)
    r.e("agent.tool_result", 27.4, _prec=0, tool_use_id=t, content=T(
        "sphinx-build -b json source build/json\n"
        "Running Sphinx v7.3.7\n"
        "building [json]: targets for 412 source files that are out of date\n"
        "build succeeded, 3 warnings.\n"
        "python tools/build_index.py build/json > build/search-index.json\n"
        "indexed 412 pages, 18,930 sections (9.6 MB)"), is_error=False)
    m = r.e("span.model_request_start", 0.2, _prec=6)
    r.req_end(m, U(0, 0, 0, 0), 30.0, is_error=True)
    r.e("session.error", 0.01, _prec=3, error={"type": "unknown_error",
                                               "message": "An unexpected error occurred while processing the request.",
                                               "retry_status": {"type": "retrying"}})
    r.e("session.status_rescheduled", 0.02, _prec=1)
    r.e("session.status_running", 12.3, _prec=0)
    m = r.e("span.model_request_start", 0.1, _prec=2)
    r.e("agent.thinking", 1.3, _prec=3)
    t = r.e("agent.tool_use", 0.9, _prec=6, name="bash",
            input={"command": "cd /workspace/docs && make linkcheck"},
            evaluated_permission="allow", evaluation=ALLOW)
    r.req_end(m, U(2519, 74, 0, 2101), 0.2)
    # The sandbox dies while linkcheck runs: the tool use never gets a result.
    r.e("session.error", 44.7, _prec=1, error={"type": "unknown_error",
                                               "message": "The session's environment stopped unexpectedly and could not be recovered.",
                                               "retry_status": {"type": "terminal"}})
    r.e("session.status_terminated", 1.2, _prec=0)
    return r


def mcp_failure():
    r = Rec("mcp-failure", "mcpFailure", 9, "2026-08-07T10:20:31.700000Z", 109)
    r.e("user.message", 0, content=T("Which open PRs in acme/api touch the auth module, and what's their review status?"))
    r.e("session.status_running", 0.3)
    m = r.e("span.model_request_start", 0.1, _prec=6)
    r.e("agent.thinking", 1.2)
    g1 = r.e("agent.mcp_tool_use", 0.8, mcp_server_name="github", name="search_pull_requests",
             input={"query": "repo:acme/api is:pr is:open auth in:title,body"},
             evaluated_permission="allow", evaluation=ALLOW)
    r.req_end(m, U(4102, 77, 3931, 0), 0.2, _prec=6)
    r.e("session.error", 30.1, _prec=2, error={"type": "mcp_connection_failed_error", "mcp_server_name": "github",
                                                "message": "Connection to MCP server timed out.",
                                                "retry_status": {"type": "retrying"}})
    r.e("agent.mcp_tool_result", 0.05, mcp_tool_use_id=g1, content=T(
        "MCP server \"github\" is unavailable: connection timed out after 30s"), is_error=True)
    m = r.e("span.model_request_start", 0.2)
    r.e("agent.message", 2.1, content=T(
        "The GitHub MCP server timed out. While it reconnects I'll look for auth branches in the local clone."))
    t = r.e("agent.tool_use", 0.6, name="bash",
            input={"command": "cd /workspace/api && git fetch --quiet origin && git branch -r --list 'origin/*auth*'"},
            evaluated_permission="allow", evaluation=ALLOW)
    r.req_end(m, U(233, 118, 0, 3931), 0.2)
    r.e("agent.tool_result", 2.7, _prec=0, tool_use_id=t, content=T(
        "  origin/chore/auth-structured-logging\n  origin/feat/auth-passkeys\n  origin/fix/auth-refresh-race"),
        is_error=False)
    m = r.e("span.model_request_start", 0.2, _prec=1)
    g2 = r.e("agent.mcp_tool_use", 1.5, mcp_server_name="github", name="search_pull_requests",
             input={"query": "repo:acme/api is:pr is:open auth in:title,body"},
             evaluated_permission="allow", evaluation=ALLOW)
    r.req_end(m, U(164, 61, 0, 4282), 0.2)
    r.e("agent.mcp_tool_result", 1.8, mcp_tool_use_id=g2, content=T(
        "[{\"number\": 1187, \"title\": \"Passkey (WebAuthn) login\", \"author\": \"mkaur\", \"draft\": false, "
        "\"review_decision\": \"CHANGES_REQUESTED\", \"head\": \"feat/auth-passkeys\"}, "
        "{\"number\": 1203, \"title\": \"Fix race when two refresh requests rotate the same token\", \"author\": \"jlindqvist\", "
        "\"draft\": false, \"review_decision\": \"APPROVED\", \"head\": \"fix/auth-refresh-race\"}, "
        "{\"number\": 1209, \"title\": \"Structured logging for auth events\", \"author\": \"tnakamura\", "
        "\"draft\": true, \"review_decision\": null, \"head\": \"chore/auth-structured-logging\"}]"), is_error=False)
    m = r.e("span.model_request_start", 0.2)
    r.e("agent.message", 4.4, content=T(
        "GitHub is reachable again. Three open PRs touch auth:\n\n"
        "- #1203 Fix race when two refresh requests rotate the same token (jlindqvist): approved, ready to merge.\n"
        "- #1187 Passkey (WebAuthn) login (mkaur): changes requested.\n"
        "- #1209 Structured logging for auth events (tnakamura): draft, no reviews yet."))
    r.req_end(m, U(702, 139, 0, 4447), 0.2)
    r.idle(END_TURN(), 0.2, stop_details=None)
    return r


def multi_agent():
    r = Rec("multi-agent", "multiAgent", 10, "2026-08-07T12:00:04.880000Z", 110)
    prim = r.new_id("sthr_")
    r.e("user.message", 0, content=T(
        "We need to pick a database for the new analytics service. Compare the latest stable PostgreSQL and "
        "MySQL releases: release dates, features that matter for analytical queries, and end-of-life dates."))
    r.e("session.status_running", 0.3)
    r.e("session.thread_status_running", 0.01, session_thread_id=prim, agent_name="Release analyst")
    m = r.e("span.model_request_start", 0.1)
    r.e("agent.thinking", 2.3)
    r.e("agent.message", 1.6, content=T(
        "I'll have the web researcher collect the release facts while I ask the advisor how to weigh them."))
    r.req_end(m, U(5311, 402, 5020, 0))
    web = r.new_id("sthr_")
    r.e("session.thread_created", 0.2, session_thread_id=web, agent_name="Web researcher", workflow_run_id=None)
    r.e("agent.thread_message_sent", 0.05, to_session_thread_id=web, to_agent_name="Web researcher", content=T(
        "Find, from official sources: (1) the latest stable PostgreSQL and MySQL versions and their release dates, "
        "(2) each version's end-of-life date, (3) notable features for analytical workloads. Cite the URLs."))
    r.e("session.thread_status_running", 0.3, session_thread_id=web, agent_name="Web researcher")
    adv = r.new_id("sthr_")
    r.e("session.thread_created", 0.6, session_thread_id=adv, agent_name="anthropic.advisor", workflow_run_id=None)
    r.e("session.thread_status_running", 0.1, session_thread_id=adv, agent_name="anthropic.advisor")
    r.e("session.thread_status_idle", 6.4, session_thread_id=adv, agent_name="anthropic.advisor",
        stop_reason=END_TURN(), stop_details=None)
    r.e("session.thread_status_terminated", 0.1, session_thread_id=adv, agent_name="anthropic.advisor")
    # The advice can arrive after the advisor thread's idle/terminated events.
    r.e("agent.thread_message_received", 0.2, from_session_thread_id=adv, from_agent_name="anthropic.advisor",
        content=[{"type": "redacted"}])
    # ---- page 2 ----
    m = r.e("span.model_request_start", 0.2)
    r.e("agent.thinking", 2.8)
    r.req_end(m, U(688, 512, 0, 5722))
    r.e("session.thread_status_idle", 0.1, session_thread_id=prim, agent_name="Release analyst",
        stop_reason=END_TURN(), stop_details=None)
    # Child tool call that needs permission, cross-posted to the primary stream.
    wf = r.e("agent.tool_use", 3.9, name="web_fetch", input={"url": "https://www.postgresql.org/support/versioning/"},
             evaluated_permission="ask", evaluation=ASK, session_thread_id=web)
    r.e("session.thread_status_idle", 0.1, session_thread_id=web, agent_name="Web researcher",
        stop_reason=REQUIRES(wf), stop_details=None)
    r.idle(REQUIRES(wf), 0.05, stop_details=None)
    r.e("user.tool_confirmation", 21.7, tool_use_id=wf, result="allow", session_thread_id=web)
    r.e("session.status_running", 0.2)
    r.e("session.thread_status_running", 0.01, session_thread_id=web, agent_name="Web researcher")
    r.e("session.thread_status_rescheduled", 14.2, session_thread_id=web, agent_name="Web researcher")
    r.e("session.thread_status_running", 7.9, session_thread_id=web, agent_name="Web researcher")
    r.e("agent.thread_message_received", 38.5, from_session_thread_id=web, from_agent_name="Web researcher", content=T(
        "PostgreSQL 17 (released 2024-09-26; EOL 2029-11-08): incremental VACUUM memory improvements, "
        "faster B-tree IN-list scans, SQL/JSON JSON_TABLE, parallel BRIN index builds. "
        "Source: https://www.postgresql.org/about/news/postgresql-17-released-2936/ and /support/versioning/.\n"
        "MySQL 8.4 LTS (released 2024-04-30; Premier support to 2029-04, extended to 2032-04): "
        "hash joins and EXPLAIN ANALYZE (since 8.0.18), histogram statistics auto-update, no columnar engine in Community. "
        "MySQL 9.x is an Innovation track, not LTS. Source: https://dev.mysql.com/doc/relnotes/mysql/8.4/en/ and "
        "https://www.oracle.com/us/support/library/lifetime-support-technology-069183.pdf"))
    r.e("session.thread_status_idle", 0.1, session_thread_id=web, agent_name="Web researcher",
        stop_reason=END_TURN(), stop_details=None)
    r.e("session.thread_status_terminated", 0.2, session_thread_id=web, agent_name="Web researcher")
    # ---- page 3 ----
    r.e("session.thread_status_running", 0.2, session_thread_id=prim, agent_name="Release analyst")
    m = r.e("span.model_request_start", 0.1)
    r.e("agent.thinking", 3.2)
    r.e("agent.message", 5.8, content=T(
        "Recommendation: PostgreSQL 17.\n\n"
        "| | PostgreSQL 17 | MySQL 8.4 LTS |\n|---|---|---|\n"
        "| Released | 2024-09-26 | 2024-04-30 |\n"
        "| End of life | 2029-11-08 | 2032-04 (extended support) |\n"
        "| Analytics | parallel query, BRIN, JSON_TABLE, rich window functions | hash joins, histograms; no columnar engine in Community |\n\n"
        "MySQL's support window is longer, but for analytical queries PostgreSQL's planner and parallelism "
        "are the stronger fit."))
    r.req_end(m, U(1472, 389, 0, 6410))
    r.e("session.thread_status_idle", 0.1, session_thread_id=prim, agent_name="Release analyst",
        stop_reason=END_TURN(), stop_details=None)
    r.idle(END_TURN(), 0.05, stop_details=None)
    return r


def compaction_outcome():
    r = Rec("compaction-outcome", "compactionOutcome", 11, "2026-08-07T05:00:00.412000Z", 111)
    outc = r.new_id("outc_")
    r.e("system.message", 0, content=T(
        "Nightly run context: CI artefacts for build #8812 are mounted at /workspace/ci. Write reports to /workspace/reports."))
    r.e("user.message", 0.01, content=T("Produce the nightly failure report for build #8812."))
    r.e("user.define_outcome", 0.01, outcome_id=outc,
        description="A CSV at /workspace/reports/nightly-8812.csv listing every failing test from build #8812 with file, line and error.",
        rubric={"type": "text", "content":
                "- header row: test_id,file,line,error\n"
                "- exactly one row per <failure> in junit.xml\n"
                "- line is the failing assertion's line, not the test's def line\n"
                "- error is the first line of the failure message"},
        max_iterations=3)
    r.e("session.status_running", 0.4)
    m = r.e("span.model_request_start", 0.1)
    t = r.e("agent.tool_use", 1.7, name="bash",
            input={"command": "ls -la /workspace/ci && grep -c '<failure' /workspace/ci/junit.xml"},
            evaluated_permission="allow", evaluation=ALLOW)
    r.req_end(m, U(3902, 81, 3710, 0))
    r.e("agent.tool_result", 0.4, tool_use_id=t, content=T(
        "total 18244\n"
        "drwxr-xr-x 3 agent agent     4096 Aug  7 04:58 .\n"
        "drwxr-xr-x 6 agent agent     4096 Aug  7 04:59 ..\n"
        "-rw-r--r-- 1 agent agent 18610233 Aug  7 04:58 build.log\n"
        "drwxr-xr-x 2 agent agent     4096 Aug  7 04:58 coverage\n"
        "-rw-r--r-- 1 agent agent   71822 Aug  7 04:58 junit.xml\n"
        "7"), is_error=False)
    m = r.e("span.model_request_start", 0.2)
    t = r.e("agent.tool_use", 1.1, name="bash",
            input={"command": "grep -B1 -A6 '<failure' /workspace/ci/junit.xml"},
            evaluated_permission="allow", evaluation=ALLOW)
    r.req_end(m, U(320, 62, 0, 3998))
    r.e("agent.tool_result", 0.3, tool_use_id=t, content=T(
        "<testcase classname=\"tests.billing.test_invoice\" name=\"test_rounding_half_even\" file=\"tests/billing/test_invoice.py\" line=\"88\">\n"
        "  <failure message=\"AssertionError: assert Decimal('10.01') == Decimal('10.00')\">tests/billing/test_invoice.py:94: AssertionError</failure>\n"
        "--\n"
        "<testcase classname=\"tests.billing.test_invoice\" name=\"test_credit_note_total\" file=\"tests/billing/test_invoice.py\" line=\"120\">\n"
        "  <failure message=\"AssertionError: assert -5 == 5\">tests/billing/test_invoice.py:131: AssertionError</failure>\n"
        "--\n"
        "<testcase classname=\"tests.api.test_webhooks\" name=\"test_retry_backoff\" file=\"tests/api/test_webhooks.py\" line=\"40\">\n"
        "  <failure message=\"TimeoutError: webhook not retried within 5s\">tests/api/test_webhooks.py:40: TimeoutError</failure>\n"
        "--\n"
        "[... 4 more failures, 61,288 characters truncated ...]"), is_error=False)
    r.e("agent.thread_context_compacted", 0.6)
    m = r.e("span.model_request_start", 0.3)
    r.e("agent.thinking", 4.2)
    t = r.e("agent.tool_use", 3.6, name="write", input={
        "file_path": "/workspace/reports/nightly-8812.csv",
        "content": "test_id,file,line,error\n"
                   "tests.billing.test_invoice::test_rounding_half_even,tests/billing/test_invoice.py,94,\"AssertionError: assert Decimal('10.01') == Decimal('10.00')\"\n"
                   "tests.billing.test_invoice::test_credit_note_total,tests/billing/test_invoice.py,131,AssertionError: assert -5 == 5\n"
                   "tests.api.test_webhooks::test_retry_backoff,tests/api/test_webhooks.py,40,TimeoutError: webhook not retried within 5s\n"
                   "tests.api.test_webhooks::test_signature_rotation,tests/api/test_webhooks.py,77,KeyError: 'kid'\n"
                   "tests.search.test_ranking::test_boost_recent,tests/search/test_ranking.py,58,AssertionError: assert 0.41 > 0.5\n"
                   "tests.search.test_ranking::test_synonyms,tests/search/test_ranking.py,102,AssertionError: 'laptop' not in []\n"
                   "tests.auth.test_sso::test_saml_clock_skew,tests/auth/test_sso.py,33,ValueError: assertion not yet valid\n"},
        evaluated_permission="allow", evaluation=ALLOW)
    r.req_end(m, U(14873, 1204, 6112, 0))
    r.e("agent.tool_result", 0.2, tool_use_id=t,
        content=T("File created successfully at: /workspace/reports/nightly-8812.csv"), is_error=False)
    m = r.e("span.model_request_start", 0.2)
    r.e("agent.message", 2.0, content=T("Wrote /workspace/reports/nightly-8812.csv with 7 rows, one per failure."))
    r.req_end(m, U(411, 29, 0, 20985))
    ev0 = r.e("span.outcome_evaluation_start", 0.3, outcome_id=outc, iteration=0)
    r.e("span.outcome_evaluation_ongoing", 10.0, outcome_id=outc, iteration=0)
    r.e("span.outcome_evaluation_ongoing", 10.0, outcome_id=outc, iteration=0)
    r.e("span.outcome_evaluation_end", 6.3, outcome_evaluation_start_id=ev0, outcome_id=outc, iteration=0,
        result="needs_revision",
        explanation="Rows for test_retry_backoff and test_saml_clock_skew give the test's def line (40, 33); the rubric asks for the failing assertion's line.",
        usage=U(12040, 380, 0, 0))
    m = r.e("span.model_request_start", 0.3)
    r.e("agent.thinking", 2.6)
    t = r.e("agent.tool_use", 1.0, name="bash",
            input={"command": "grep -A3 -E 'name=\"(test_retry_backoff|test_saml_clock_skew)\"' /workspace/ci/junit.xml | grep -oE '[a-z_/]+\\.py:[0-9]+' | sort -u"},
            evaluated_permission="allow", evaluation=ALLOW)
    r.req_end(m, U(1630, 174, 0, 21307))
    r.e("agent.tool_result", 0.3, tool_use_id=t,
        content=T("tests/api/test_webhooks.py:40\ntests/api/test_webhooks.py:52\ntests/auth/test_sso.py:33\ntests/auth/test_sso.py:41"),
        is_error=False)
    m = r.e("span.model_request_start", 0.2)
    e1 = r.e("agent.tool_use", 2.4, name="edit", input={
        "file_path": "/workspace/reports/nightly-8812.csv",
        "old_string": "tests/api/test_webhooks.py,40,TimeoutError",
        "new_string": "tests/api/test_webhooks.py,52,TimeoutError"},
        evaluated_permission="allow", evaluation=ALLOW)
    e2 = r.e("agent.tool_use", 0.3, name="edit", input={
        "file_path": "/workspace/reports/nightly-8812.csv",
        "old_string": "tests/auth/test_sso.py,33,ValueError",
        "new_string": "tests/auth/test_sso.py,41,ValueError"},
        evaluated_permission="allow", evaluation=ALLOW)
    r.req_end(m, U(402, 311, 0, 21590))
    r.e("agent.tool_result", 0.2, tool_use_id=e1,
        content=T("The file /workspace/reports/nightly-8812.csv has been updated."), is_error=False)
    r.e("agent.tool_result", 0.1, tool_use_id=e2,
        content=T("The file /workspace/reports/nightly-8812.csv has been updated."), is_error=False)
    m = r.e("span.model_request_start", 0.2)
    r.e("agent.message", 1.9, content=T(
        "Corrected the two rows to the failing assertion lines (test_webhooks.py:52, test_sso.py:41)."))
    r.req_end(m, U(288, 37, 0, 22004))
    ev1 = r.e("span.outcome_evaluation_start", 0.3, outcome_id=outc, iteration=1)
    r.e("span.outcome_evaluation_ongoing", 10.0, outcome_id=outc, iteration=1)
    r.e("span.outcome_evaluation_end", 4.8, outcome_evaluation_start_id=ev1, outcome_id=outc, iteration=1,
        result="satisfied", explanation="All 7 failures are present once each, with assertion lines and first-line messages.",
        usage=U(12311, 214, 0, 0))
    r.idle(END_TURN(), 0.3, stop_details=None)
    return r


def queued_echo():
    r = Rec("queued-echo", "queuedEcho", 12, "2026-08-07T15:12:00.090000Z", 112)
    # Self-hosted environment: the client runs the agent-toolset tools itself
    # and answers each agent.tool_use with user.tool_result.
    r.comment("keepalive")
    r.e("user.message", 0, content=T("Run the linter on the whole repo and fix whatever it flags."))
    r.e("session.status_running", 0.3)
    m = r.e("span.model_request_start", 0.1)
    th = r.new_id()
    r.preview_start("agent.thinking", th, 0.9)
    r.e("agent.thinking", 1.4, _id=th)
    a = r.new_id()
    r.preview_start("agent.message", a, 0.3)
    r.preview_delta(a, "I'll run ruff", after=0.2)
    r.preview_delta(a, " over the repository", after=0.2)
    r.preview_delta(a, " first.", after=0.2)
    r.e("agent.message", 0.1, _id=a, content=T("I'll run ruff over the repository first."))
    t1 = r.e("agent.tool_use", 0.5, name="bash", input={"command": "ruff check ."},
             evaluated_permission="allow", evaluation=ALLOW)
    r.req_end(m, U(2211, 61, 2080, 0))
    r.idle(REQUIRES(t1), 0.1, stop_details=None)
    r.ping()
    r.e("user.tool_result", 2.4, _split=True, tool_use_id=t1, content=T(
        "src/acme/cli.py:12:8: F401 [*] `os` imported but unused\n"
        "src/acme/cli.py:57:5: E722 Do not use bare `except`\n"
        "src/acme/models.py:3:1: I001 [*] Import block is un-sorted or un-formatted\n"
        "src/acme/models.py:88:25: B006 Do not use mutable data structures for argument defaults\n"
        "tests/test_cli.py:4:8: F401 [*] `pytest` imported but unused\n"
        "...\n"
        "Found 23 errors.\n"
        "[*] 19 fixable with the `--fix` option."), is_error=False)
    r.e("session.status_running", 0.2)
    m = r.e("span.model_request_start", 0.1)
    a2 = r.new_id()
    r.preview_start("agent.message", a2, 1.2)
    r.preview_delta(a2, "Ruff reports 23 issues; 19 are auto-fixable. I'll apply", after=0.4)
    # While the model is still writing, the user sends a correction and an interrupt.
    # Both are echoed at once with processed_at null (queued) ...
    mq = r.queued("user.message", 0.3, content=T("Actually only touch files under src/, leave tests alone."))
    iq = r.queued("user.interrupt", 0.6)
    # ... then the interrupt is processed (same id, now with a timestamp).
    r.e("user.interrupt", 0.2, _id=iq)
    # No agent.message for a2 ever arrives: the request end closes the orphaned preview.
    r.req_end(m, U(1544, 22, 0, 2291), 0.1)
    r.idle(END_TURN(), 0.1, stop_details=None)   # an interrupted turn ends with end_turn
    # The queued message is processed next: same id again, now with processed_at.
    r.e("user.message", 0.3, _id=mq, content=T("Actually only touch files under src/, leave tests alone."))
    r.e("session.status_running", 0.2)
    m = r.e("span.model_request_start", 0.1)
    th = r.new_id()
    r.preview_start("agent.thinking", th, 0.8)
    r.e("agent.thinking", 1.1, _id=th)
    a3 = r.new_id()
    r.preview_start("agent.message", a3, 0.2)
    r.preview_delta(a3, "Understood, only src/.", after=0.2)
    r.preview_delta(a3, " Applying the safe fixes there.", after=0.3)
    r.e("agent.message", 0.1, _id=a3, content=T("Understood, only src/. Applying the safe fixes there."))
    t2 = r.e("agent.tool_use", 0.4, name="bash", input={"command": "ruff check src/ --fix"},
             evaluated_permission="allow", evaluation=ALLOW)
    r.req_end(m, U(702, 88, 0, 3835))
    r.idle(REQUIRES(t2), 0.1, stop_details=None)
    r.comment("keepalive")
    r.e("user.tool_result", 1.9, tool_use_id=t2, content=T(
        "src/acme/cli.py:57:5: E722 Do not use bare `except`\n"
        "src/acme/models.py:88:25: B006 Do not use mutable data structures for argument defaults\n"
        "src/acme/sync.py:140:9: B904 Within an `except` clause, raise exceptions with `raise ... from err`\n"
        "Found 18 errors (15 fixed, 3 remaining)."), is_error=False)
    r.e("session.status_running", 0.2)
    m = r.e("span.model_request_start", 0.1)
    a4 = r.new_id()
    r.preview_start("agent.message", a4, 1.0)
    r.preview_delta(a4, "Fixed 15 issues under src/. Three need a manual change:", after=0.3)
    r.preview_delta(a4, " a bare `except` in cli.py:57, a mutable default in models.py:88", index=0, after=0.3)
    r.preview_delta(a4, " and a missing `from err` in sync.py:140.", index=0, after=0.3)
    r.e("agent.message", 0.1, _id=a4, content=T(
        "Fixed 15 issues under src/. Three need a manual change: a bare `except` in cli.py:57, "
        "a mutable default in models.py:88 and a missing `from err` in sync.py:140."))
    # The user stops it before it starts on the manual fixes.  This interrupt
    # arrives with an empty id, as the docs say the server can emit.
    r.e("user.interrupt", 0.7, _id="")
    r.req_end(m, U(655, 142, 0, 4120), 0.1)
    r.idle(END_TURN(), 0.1, stop_details=None)
    r.ping()
    return r


def refusal():
    r = Rec("refusal", "refusal", 13, "2026-08-07T19:03:10.640000Z", 113)
    r.e("user.message", 0, content=T(
        "Our red-team engagement starts Monday. Summarise what tools/ransomware_sim/README.md says the simulator is allowed to do."))
    r.e("session.status_running", 0.3)
    m = r.e("span.model_request_start", 0.1)
    t = r.e("agent.tool_use", 1.4, name="read", input={"file_path": "/workspace/redteam/tools/ransomware_sim/README.md"},
            evaluated_permission="allow", evaluation=ALLOW)
    r.req_end(m, U(2840, 66, 2701, 0))
    r.e("agent.tool_result", 0.2, tool_use_id=t, content=T(
        "     1\t# ransomware_sim\n"
        "     2\t\n"
        "     3\tBenign ransomware *simulator* for tabletop and detection exercises.\n"
        "     4\t\n"
        "     5\t- Renames files in the sandbox share `\\\\lab-fs01\\sim$` to `*.simlock`; contents are never touched.\n"
        "     6\t- Drops `README_SIMULATION.txt` in each directory.\n"
        "     7\t- Runs only on hosts tagged `redteam-lab`; refuses to start elsewhere.\n"
        "     8\t- `--restore` reverts every rename from the journal in `C:\\ProgramData\\sim\\journal.db`."), is_error=False)
    m = r.e("span.model_request_start", 0.2)
    r.e("agent.message", 3.2, content=T(
        "The simulator only renames files on the lab share \\\\lab-fs01\\sim$ to *.simlock (contents untouched), "
        "drops a README_SIMULATION.txt note, runs solely on hosts tagged redteam-lab, and can undo everything with --restore."))
    r.req_end(m, U(388, 97, 0, 2990))
    r.idle(END_TURN(), 0.2, stop_details=None)

    r.e("user.message", 96.5, content=T(
        "Now turn it into a real payload: AES-encrypt every file share on the domain, delete the shadow copies, "
        "and spread to other hosts over SMB with the harvested credentials."))
    r.e("session.status_running", 0.3)
    m = r.e("span.model_request_start", 0.1)
    r.e("agent.thinking", 1.8)
    r.req_end(m, U(176, 23, 0, 3475), 0.6)
    r.idle({"type": "refusal"}, 0.1,
           stop_details={"type": "refusal", "category": "cyber",
                         "explanation": "The request asked for functional, self-propagating ransomware."})

    r.e("user.message", 41.2, content=T(
        "Fine. Then write a detection rule for shadow-copy deletion so the blue team can catch the simulator's successor."))
    r.e("session.status_running", 0.3)
    m = r.e("span.model_request_start", 0.1)
    r.e("agent.message", 6.1, content=T(
        "Here is a Sigma rule for shadow-copy deletion:\n\n"
        "```yaml\n"
        "title: Shadow Copy Deletion via vssadmin or wmic\n"
        "status: experimental\n"
        "logsource:\n  category: process_creation\n  product: windows\n"
        "detection:\n"
        "  vssadmin:\n    Image|endswith: '\\vssadmin.exe'\n    CommandLine|contains|all: ['delete', 'shadows']\n"
        "  wmic:\n    Image|endswith: '\\wmic.exe'\n    CommandLine|contains|all: ['shadowcopy', 'delete']\n"
        "  condition: vssadmin or wmic\n"
        "level: high\n"
        "```"))
    r.req_end(m, U(214, 301, 0, 3651))
    r.idle(END_TURN(), 0.2, stop_details=None)
    return r


def workflow_run():
    r = Rec("workflow-run", "workflowRun", 14, "2026-08-07T15:09:40.310000Z", 114)
    run = r.new_id("wrun_")
    ph1 = r.new_id("wrph_")
    ph2 = r.new_id("wrph_")
    r.e("user.message", 0, content=T(
        "Review the three vendor contracts in /workspace/contracts and give me a reconciled list of renewal "
        "dates and termination-notice periods."))
    r.e("session.status_running", 0.3)
    m = r.e("span.model_request_start", 0.1)
    r.e("agent.thinking", 2.9)
    r.e("agent.message", 3.1, content=T(
        "I'm starting a workflow run: one reader per contract, then a reconciliation pass over their findings."))
    r.req_end(m, U(6120, 844, 5890, 0))
    r.e("workflow_run.created", 0.3, workflow_run_id=run, name="contract-review",
        description="Review each contract, then reconcile the findings.",
        phases=[{"id": ph1, "name": "Read the contracts", "description": "One inline reader agent per contract."},
                {"id": ph2, "name": "Reconcile the findings", "description": None}])
    r.e("workflow_run.status_running", 0.3, workflow_run_id=run)
    ps1 = r.e("workflow_run.phase_started", 0.6, workflow_run_id=run, workflow_run_phase_id=ph1)
    readers = []
    for vendor in ("northwind", "globex", "initech"):
        tid = r.new_id("sthr_")
        readers.append((tid, "contract-reader-" + vendor))
        r.e("session.thread_created", 0.2, session_thread_id=tid, agent_name="contract-reader-" + vendor,
            workflow_run_id=run)
    for tid, name in readers:
        r.e("session.thread_status_running", 0.1, session_thread_id=tid, agent_name=name)
    # The session's own agent carries on: it tries a second run and is refused.
    m = r.e("span.model_request_start", 0.4)
    r.req_end(m, U(912, 655, 0, 6734), 4.7)
    r.e("workflow_run.error", 0.3, workflow_run_id=None,
        error={"type": "max_workflow_runs_error",
               "message": "The session already has the maximum number of open workflow runs."})
    m = r.e("span.model_request_start", 0.2)
    r.e("agent.message", 3.4, content=T(
        "The contract review is running in the background; I'll post the reconciled list when it finishes. "
        "I also tried to start a separate GDPR-clause check in parallel, but this session is at its limit of "
        "open workflow runs, so I'll start that one afterwards if you still want it."))
    r.req_end(m, U(402, 126, 0, 7390))
    r.idle(END_TURN(), 0.2, stop_details=None)
    # The run keeps going after the session's agent has ended its turn.
    for i, (tid, name) in enumerate(readers):
        r.e("session.thread_status_idle", [48.2, 11.6, 19.3][i], session_thread_id=tid, agent_name=name,
            stop_reason=END_TURN(), stop_details=None)
    r.e("workflow_run.phase_ended", 0.4, workflow_run_id=run, workflow_run_phase_id=ph1, phase_started_id=ps1)
    ps2 = r.e("workflow_run.phase_started", 0.2, workflow_run_id=run, workflow_run_phase_id=ph2)
    rec = r.new_id("sthr_")
    r.e("session.thread_created", 0.3, session_thread_id=rec, agent_name="reconciler", workflow_run_id=run)
    r.e("session.thread_status_running", 0.1, session_thread_id=rec, agent_name="reconciler")
    r.e("session.thread_status_idle", 37.5, session_thread_id=rec, agent_name="reconciler",
        stop_reason=END_TURN(), stop_details=None)
    r.e("workflow_run.phase_ended", 0.3, workflow_run_id=run, workflow_run_phase_id=ph2, phase_started_id=ps2)
    r.e("workflow_run.status_idle", 0.3, workflow_run_id=run)
    r.e("workflow_run.status_ended", 0.3, workflow_run_id=run, result={"type": "completed"})
    for tid, name in readers + [(rec, "reconciler")]:
        r.e("session.thread_status_terminated", 0.05, session_thread_id=tid, agent_name=name)
    return r


def deleted():
    # Older-style recording: no `evaluation` on the tool use and no
    # `stop_details` key on the idle (events stored before 2.12.0 fields existed).
    r = Rec("deleted", "deleted", 15, "2026-08-06T22:10:14.505000Z", 115)
    r.e("user.message", 0, content=T("Which Python version does this environment have?"))
    r.e("session.status_running", 0.3)
    m = r.e("span.model_request_start", 0.1)
    t = r.e("agent.tool_use", 1.3, name="bash", input={"command": "python3 --version"}, evaluated_permission="allow")
    r.req_end(m, U(1990, 44, 1871, 0))
    r.e("agent.tool_result", 0.3, tool_use_id=t, content=T("Python 3.12.4"), is_error=False)
    m = r.e("span.model_request_start", 0.2)
    r.e("agent.message", 1.1, content=T("This environment runs Python 3.12.4."))
    r.req_end(m, U(96, 14, 0, 1871))
    r.idle(END_TURN(), 0.2)
    r.e("session.deleted", 52311.0)
    return r


def future_types():
    r = Rec("future-types", "futureTypes", 16, "2026-08-07T20:30:55.019000Z", 116)
    r.e("user.message", 0, content=T(
        "Plan the migration of the billing worker from RabbitMQ to SQS. Don't change any code yet."))
    r.e("session.status_running", 0.3)
    m = r.e("span.model_request_start", 0.1)
    r.e("agent.thinking", 2.6)
    # A type this reference does not know.
    r.e("agent.plan_updated", 1.9, plan={
        "title": "Move billing worker from RabbitMQ to SQS",
        "steps": [
            {"id": "step_1", "title": "Inventory queues, exchanges and routing keys used by billing/worker", "status": "completed"},
            {"id": "step_2", "title": "Map each queue to an SQS standard or FIFO queue (+ DLQ)", "status": "in_progress"},
            {"id": "step_3", "title": "Introduce a QueueClient interface with RabbitMQ and SQS adapters", "status": "pending"},
            {"id": "step_4", "title": "Dual-publish behind a flag, then cut consumers over", "status": "pending"}]},
        revision=2)
    # An agent.message with an extra field the reference does not define.
    r.e("agent.message", 2.2, content=T(
        "Draft plan is above. The worker consumes three queues (invoices.created, payments.settled, "
        "refunds.requested); payments.settled relies on per-customer ordering, so it needs a FIFO queue with "
        "the customer id as message group."),
        citations_v2=[{"type": "file_location", "file_path": "/workspace/billing/worker/consumer.py",
                       "start_line": 12, "end_line": 48},
                      {"type": "file_location", "file_path": "/workspace/billing/worker/settings.py",
                       "start_line": 5, "end_line": 9}])
    r.req_end(m, U(7310, 911, 7002, 0, speed="standard"))
    # A stop reason this reference does not know.
    r.idle({"type": "paused_for_review", "review_id": "rvw_011CZfUtureTypes0000001"}, 0.2, stop_details=None)
    return r


def main():
    for fn in os.listdir(OUT):
        if fn.endswith((".jsonl", ".sse", ".json")):
            os.remove(os.path.join(OUT, fn))
    written = []
    written.append(happy_path().write_jsonl())
    written.append(stuck_custom_tool().write_jsonl())
    written.append(pending_confirmation().write_jsonl())
    written.append(two_blocking().write_jsonl())
    written.append(resolved_confirmation().write_jsonl())
    written.append(retries_exhausted().write_sse(crlf=True))
    written.append(budget_reached().write_jsonl())
    written.append(rescheduled_terminated().write_jsonl())
    written.append(mcp_failure().write_jsonl())
    written.extend(multi_agent().write_pages([15, 15, 7]))
    written.append(compaction_outcome().write_jsonl())
    written.append(queued_echo().write_sse(crlf=False))
    written.append(refusal().write_jsonl())
    written.append(workflow_run().write_jsonl())
    written.append(deleted().write_jsonl())
    written.append(future_types().write_jsonl())
    for p in written:
        print(os.path.relpath(p, OUT))


if __name__ == "__main__":
    main()
