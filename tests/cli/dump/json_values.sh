#!/bin/bash
# gtrace dump --format json: every field type and edge value checked exactly,
# time order, log messages and span kinds.
set -u
GEN="$GT_BUILD/tests/tools/gt_fmt_gen"
rm -rf "$GT_TMP" && mkdir -p "$GT_TMP" && cd "$GT_TMP" || exit 1
fail() { echo "FAIL: $*" >&2; exit 1; }

N=3000
for clock in mono tsc; do
	rm -f t.gtrace
	"$GEN" t.gtrace --events $N --threads 3 --chunk-bytes 8000 --clock $clock >/dev/null || fail gen
	timeout 20 "$GTRACE" dump t.gtrace --format json >out.jsonl 2>err.txt
	rc=$?
	[ $rc -eq 0 ] || fail "$clock: exit $rc: $(cat err.txt)"
	[ -s err.txt ] && fail "$clock: stderr: $(cat err.txt)"
	python3 - $N <<'PY' || exit 1
import json, math, sys
N = int(sys.argv[1])
ev = [json.loads(l) for l in open("out.jsonl")]   # every line must be valid JSON
def die(m): sys.exit("FAIL: " + m)
if len(ev) != N + 4 + N // 1000 + 2:
    die(f"{len(ev)} events")
ts = [e["ts"] for e in ev]
if ts != sorted(ts):
    die("not in time order")
t = [e for e in ev if e["event"] == "AllTypes"]
want = [
    {"i32": -2147483648, "u32": 0, "i64": -9223372036854775808, "u64": 0, "f64": "NaN",
     "flag": False, "s": "", "b": ""},
    {"i32": 2147483647, "u32": 4294967295, "i64": 9223372036854775807,
     "u64": 18446744073709551615, "f64": "Infinity", "flag": True,
     "s": "h\u00e9llo \"q\" \\ \n\t\u0001", "b": "00017f80feff"},
    {"i32": -1, "u32": 1, "i64": -1, "u64": 9223372036854775808, "f64": "-Infinity",
     "flag": True, "s": "\ufffd\ufffd bad", "b": "4754"},
    {"i32": 0, "u32": 123456, "i64": 0, "u64": 1, "f64": -1.5e-300, "flag": False,
     "s": "x" * 1000, "b": "0000"},
]
for i, (e, w) in enumerate(zip(t, want)):
    if e["fields"] != w:
        die(f"types event {i}: {e['fields']} != {w}")
    # exact integers: no float conversion anywhere
    for k in ("i32", "u32", "i64", "u64"):
        if type(e["fields"][k]) is not int:
            die(f"{k} is not an integer")
    if e["ts"] != 10 * (i + 1) or e["pid"] != 100 or e["tid"] != 100:
        die(f"types event {i} ts/pid/tid {e['ts']} {e['pid']} {e['tid']}")
    if (e["provider"], e["kind"], e["level"], e["keywords"]) != ("Test.Types", "event", 4, 5):
        die(f"types meta {e}")
b = [e for e in ev if e["event"] == "Tick"]
if len(b) != N:
    die("tick count")
names = ["test_alloc_small", "test_alloc_large", "test_free_null__", "test_ring_wrap__",
         "test_span_nested", "test_log_format_", "test_clock_tsc__", "test_exit_status"]
for e in b:
    i = e["fields"]["counter"]
    T = 3
    want_ts = 1000 + 100 * i - (150 if i % 7 == 3 else 0)
    if e["ts"] != want_ts or e["pid"] != 100 + (i % T) // 2 or e["tid"] != 101 + i % T:
        die(f"tick {i}: {e}")
    if e["fields"] != {"counter": i, "value": (i * 7) % 1000 - 500, "name": names[i % 8]}:
        die(f"tick {i} fields {e['fields']}")
    if (e["level"], e["keywords"], e["kind"]) != (5, 1, "event"):
        die(f"tick meta {e}")
if sorted(e["fields"]["counter"] for e in b) != list(range(N)):
    die("ticks missing or doubled")
logs = [e for e in ev if e["event"] == "Message"]
for k, e in enumerate(logs):
    i = 1000 * k + 999
    pct = i * 100.0 / N
    if e["kind"] != "log" or e["message"] != "iteration %d of phase: %.2f%%" % (k, pct):
        die(f"log {k}: {e}")
    if e["fields"] != {"n": k, "what": "phase", "pct": pct}:
        die(f"log fields {e['fields']}")
sp = [e for e in ev if e["event"] == "Step"]
if [e["kind"] for e in sp] != ["span_begin", "span_end"] or sp[0]["ts"] != 5 or sp[1]["ts"] != 1000 + 100 * N:
    die(f"spans {sp}")
PY
done
exit 0
