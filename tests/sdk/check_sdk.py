"""The official Python SDK (anthropic 2.12.0) as a client of `flightrec serve`.

Usage: check_sdk.py BASE_URL EXPORT_DIR
EXPORT_DIR holds SESSION.jsonl per session, as `flightrec export` wrote it (the expected events).

Every event must parse into the exact SDK class named by its `type` (the SDK silently falls back to
another class for a type it does not know, so "it parsed" proves nothing). Types the SDK does not
know (the future-types sample) are counted and must be the only exceptions.
"""

import json
import os
import sys
import typing

import anthropic
from anthropic.types.beta.sessions import beta_managed_agents_session_event as list_union
from anthropic.types.beta.sessions import beta_managed_agents_stream_session_events as stream_union


def classes_by_type(union):
    args = typing.get_args(union)
    if typing.get_origin(union) is typing.Annotated:
        args = typing.get_args(args[0])
    out = {}
    for cls in args:
        literal = cls.model_fields["type"].annotation
        out[typing.get_args(literal)[0]] = cls
    return out


LIST_CLASSES = classes_by_type(list_union.BetaManagedAgentsSessionEvent)
STREAM_CLASSES = classes_by_type(stream_union.BetaManagedAgentsStreamSessionEvents)
assert len(LIST_CLASSES) == 42, len(LIST_CLASSES)
assert len(STREAM_CLASSES) == 44, len(STREAM_CLASSES)


def check_classes(where, events, expected, classes, counts):
    assert len(events) == len(expected), f"{where}: {len(events)} events, expected {len(expected)}"
    for got, want in zip(events, expected):
        assert got.id == want["id"], f"{where}: id {got.id!r} where {want['id']!r} was expected"
        cls = classes.get(want["type"])
        if cls is None:
            counts["unknown"] += 1
            counts["unknown_types"].add(want["type"])
            continue
        assert type(got) is cls, f"{where}: {want['type']} {want['id']} parsed as {type(got).__name__}, not {cls.__name__}"
        counts["typed"] += 1


def main():
    base_url, export_dir = sys.argv[1], sys.argv[2]
    client = anthropic.Anthropic(api_key="sk-ant-test-key", base_url=base_url, max_retries=0)
    listed = [s.id for s in client.beta.sessions.list(limit=4)]
    files = sorted(f[:-6] for f in os.listdir(export_dir) if f.endswith(".jsonl"))
    assert sorted(listed) == files, f"sessions.list gave {sorted(listed)}, expected {files}"
    counts = {"typed": 0, "unknown": 0, "unknown_types": set(), "stream": 0, "filtered": 0}
    for sid in files:
        with open(os.path.join(export_dir, sid + ".jsonl"), encoding="utf-8") as f:
            expected = [json.loads(line) for line in f if line.strip()]

        # Small pages: the SDK follows next_page until null.
        events = list(client.beta.sessions.events.list(sid, limit=3))
        check_classes(f"{sid} list", events, expected, LIST_CLASSES, counts)

        # Newest first.
        desc = list(client.beta.sessions.events.list(sid, order="desc", limit=5))
        assert [e.id for e in desc] == [e["id"] for e in reversed(expected)], f"{sid}: order=desc"

        # types[] filter.
        idles = list(client.beta.sessions.events.list(sid, types=["session.status_idle", "agent.message"], limit=2))
        want = [e for e in expected if e["type"] in ("session.status_idle", "agent.message")]
        assert [e.id for e in idles] == [e["id"] for e in want], f"{sid}: types[] filter"
        counts["filtered"] += len(idles)

        # created_at[gte] at the middle event's time: everything from it on, ties included.
        timed = [e for e in expected if e.get("processed_at")]
        if timed:
            pivot = timed[len(timed) // 2]["processed_at"]
            later = list(client.beta.sessions.events.list(sid, created_at_gte=pivot, limit=4))
            from datetime import datetime

            def t(s):
                return datetime.fromisoformat(s.replace("Z", "+00:00"))

            want = [e["id"] for e in timed if t(e["processed_at"]) >= t(pivot)]
            assert [e.id for e in later] == want, f"{sid}: created_at[gte]={pivot}"

        # The stream replays the session; read exactly as many events, then hang up.
        got = []
        with client.beta.sessions.events.stream(sid) as stream:
            for event in stream:
                got.append(event)
                if len(got) == len(expected):
                    break
        check_classes(f"{sid} stream", got, expected, STREAM_CLASSES, counts)
        counts["stream"] += len(got)

        # A wrong session id is the API's 404.
    try:
        client.beta.sessions.retrieve("sesn_011CZdoesNotExist0000000")
        raise AssertionError("retrieve of an unknown session succeeded")
    except anthropic.NotFoundError:
        pass
    print(
        f"SDK {anthropic.__version__}: {len(files)} sessions; {counts['typed']} events parsed into their own class, "
        f"{counts['unknown']} of types the SDK does not know; {counts['stream']} streamed; {counts['filtered']} filtered"
    )
    print("unknown types: " + ",".join(sorted(counts["unknown_types"])))


if __name__ == "__main__":
    main()
