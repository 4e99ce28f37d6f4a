"""Helpers for end-to-end checks: load `gtrace dump --format json` lines."""
import json
import sys


def load(path="dump.json"):
    events = []
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            try:
                events.append(json.loads(line))
            except ValueError as e:
                sys.exit(f"dump.json:{n}: not JSON ({e}): {line!r}")
    ts = [e["ts"] for e in events]
    if ts != sorted(ts):
        sys.exit("events are not in time order")
    return events


def of(events, provider, event=None):
    return [e for e in events if e["provider"] == provider and (event is None or e["event"] == event)]


def one(events, provider, event):
    found = of(events, provider, event)
    if len(found) != 1:
        sys.exit(f"expected one {provider}/{event}, found {len(found)}")
    return found[0]


def expect(cond, what):
    if not cond:
        sys.exit("FAIL: " + what)
