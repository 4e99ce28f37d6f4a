#!/bin/bash
# gtrace info on a generated file: every summary value checked, text and JSON.
set -u
GEN="$GT_BUILD/tests/tools/gt_fmt_gen"
rm -rf "$GT_TMP" && mkdir -p "$GT_TMP" && cd "$GT_TMP" || exit 1
fail() { echo "FAIL: $*" >&2; exit 1; }

"$GEN" t.gtrace --events 3000 --threads 3 --chunk-bytes 20000 >/dev/null || fail "gen"
timeout 20 "$GTRACE" info --json t.gtrace >out.json 2>err.txt
rc=$?
[ $rc -eq 0 ] || fail "info --json exit $rc: $(cat err.txt)"
[ -s err.txt ] && fail "unexpected stderr: $(cat err.txt)"
python3 - "$(stat -c %s t.gtrace)" <<'PY' || exit 1
import json, sys
size = int(sys.argv[1])
d = json.load(open("out.json"))
def eq(k, want):
    if d[k] != want:
        sys.exit(f"FAIL: {k} = {d[k]!r}, want {want!r}")
eq("path", "t.gtrace")
eq("op", "gen")
eq("command", "gt_fmt_gen test")
eq("exit_status", 0)
eq("exit", "0")
eq("timed_out", False)
eq("events", 3000 + 4 + 3 + 2)
eq("start_realtime_ns", 1764165600000000000)
eq("duration_ns", 1000 + 100 * 3000 + 500)
eq("lost", 7)
eq("lost_by_thread", [{"pid": 100, "tid": 102, "count": 7}])
eq("corrupt", 3)
eq("corrupt_by_pid", [{"pid": 100, "count": 3}])
eq("file_size", size)
eq("complete", True)
eq("recovered", False)
eq("format_version", "1.0")
eq("clock", "mono")
eq("providers", [{"provider": "Test.Bench", "events": 3000},
                 {"provider": "Test.Types", "events": 4},
                 {"provider": "Test.Log", "events": 3},
                 {"provider": "Test.Span", "events": 2}])
eq("event_counts", [{"provider": "Test.Bench", "event": "Tick", "events": 3000},
                    {"provider": "Test.Types", "event": "AllTypes", "events": 4},
                    {"provider": "Test.Log", "event": "Message", "events": 3},
                    {"provider": "Test.Span", "event": "Step", "events": 2}])
if not d["chunks"] > 1:
    sys.exit(f"FAIL: chunks = {d['chunks']}")
if abs(d["bytes_per_event"] - size / 3009) > 1e-9:
    sys.exit(f"FAIL: bytes_per_event {d['bytes_per_event']}")
if d["meta"]["host"] != "testhost" or d["meta"]["cwd"] != "/tmp":
    sys.exit(f"FAIL: meta {d['meta']}")
PY

timeout 20 "$GTRACE" info t.gtrace >out.txt 2>err.txt || fail "info exit $?"
for want in "file:         t.gtrace" "op:           gen" "command:      gt_fmt_gen test" \
	    "exit:         0" "duration:     0.000301500 s" "events:       3009" \
	    "          3000  Test.Bench/Tick" "lost:         7" "  pid 100 tid 102: 7" \
	    "corrupt:      3" "file size:    $(stat -c %s t.gtrace) bytes" "complete:     yes"; do
	grep -qxF -- "$want" out.txt || fail "text output lacks '$want':
$(cat out.txt)"
done
grep -qE '^start:        2025-11-2[67]T[0-9:]{8}\.000[+-][0-9]{2}:[0-9]{2}$' out.txt ||
	fail "start line: $(grep start: out.txt)"
# provider lines are sorted by count, descending
python3 - <<'PY' || exit 1
import sys
lines = open("out.txt").read().split("by event:")[1].split("lost:")[0].strip().splitlines()
counts = [int(l.split()[0]) for l in lines]
if counts != sorted(counts, reverse=True) or len(counts) != 4:
    sys.exit(f"FAIL: event lines not sorted: {lines}")
PY
exit 0
