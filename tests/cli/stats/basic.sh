#!/usr/bin/env bash
# `gtrace stats` decodes every event: per event type counts that match the
# index (`gtrace info --json`), exact min/max/mean of known fields, and the
# same numbers whether one thread or several decode the chunks.
. "$GT_SRC/tests/cli/lib.sh"

# N Noise events {seq 0..N-1, 200 incompressible bytes}: several chunks
n=20000
run_traced noise "$GT_BIN/gt_e2e" noise $n
[ "$rc" -eq 0 ] || fail "gt_e2e noise exited $rc: $(cat stderr.txt)"
timeout 60 "$GTRACE" info --json "$file" >info.json || fail "info failed"
for t in 1 2 3; do
	timeout 60 "$GTRACE" stats --json --threads $t "$file" >stats$t.json 2>err$t.txt ||
		fail "stats --threads $t: exit $?: $(cat err$t.txt)"
	[ -s err$t.txt ] && fail "stats --threads $t: stderr: $(cat err$t.txt)"
done
python3 - $n <<'PY'
import json, sys
n = int(sys.argv[1])
info = json.load(open("info.json"))
runs = {t: json.load(open(f"stats{t}.json")) for t in (1, 2, 3)}
def fail(msg):
    sys.exit("FAIL: " + msg)
s = runs[1]
if s["events"] != info["events"]:
    fail(f"stats events {s['events']} != info events {info['events']}")
if info["chunks"] < 2:
    fail(f"want a file of several chunks, so that the parallel path runs: {info['chunks']}")
# counts per provider/event agree with the index
got = {}
for x in s["schemas"]:
    k = (x["provider"], x["event"])
    got[k] = got.get(k, 0) + x["count"]
want = {(e["provider"], e["event"]): e["events"] for e in info["event_counts"]}
if got != want:
    fail(f"per-event counts {got} != info {want}")
if s["lost"] != info["lost"] or s["corrupt"] != info["corrupt"]:
    fail(f"lost/corrupt {s['lost']}/{s['corrupt']} != info {info['lost']}/{info['corrupt']}")
noise = [x for x in s["schemas"] if x["event"] == "Noise"]
if len(noise) != 1 or noise[0]["count"] != n:
    fail(f"Noise rows: {noise}")
x = noise[0]
seq = {f["name"]: f for f in x["fields"]}["seq"]
if seq["type"] != "i64" or seq["min"] != 0 or seq["max"] != n - 1 or abs(seq["mean"] - (n - 1) / 2) > 1e-6:
    fail(f"seq stats: {seq}")
junk = {f["name"]: f for f in x["fields"]}["junk"]
if "min" in junk:
    fail(f"bytes field got numeric stats: {junk}")
if not (0 <= x["first_ts_ns"] <= x["last_ts_ns"]) or x["rate_per_s"] <= 0:
    fail(f"times/rate: {x}")
if abs(sum(y["share"] for y in s["schemas"]) - 1.0) > 1e-9:
    fail("shares do not add up to 1")
# several threads: the same numbers
for t in (2, 3):
    a = dict(runs[t]); b = dict(s)
    a.pop("threads"); b.pop("threads")
    if a != b:
        fail(f"--threads {t} differs from --threads 1")
if runs[3]["threads"] < 2:
    fail(f"--threads 3 decoded with {runs[3]['threads']} thread(s)")
PY

# edge values: min == max == the value emitted; text output names each type
run_traced types "$GT_BIN/gt_e2e" types
[ "$rc" -eq 0 ] || fail "gt_e2e types exited $rc: $(cat stderr.txt)"
timeout 60 "$GTRACE" stats --json "$file" >types.json || fail "stats types"
python3 - <<'PY'
import json, sys
s = json.load(open("types.json"))
def fail(msg):
    sys.exit("FAIL: " + msg)
row = {x["event"]: x for x in s["schemas"]}
ints = {f["name"]: f for f in row["Ints"]["fields"]}
for k, v in {"i32min": -2**31, "i32max": 2**31 - 1, "u32max": 2**32 - 1, "i64min": -2**63,
             "i64max": 2**63 - 1, "zero": 0, "minus1": -1}.items():
    if ints[k]["min"] != v or ints[k]["max"] != v or ints[k]["mean"] != float(v):
        fail(f"Ints.{k}: {ints[k]}")
if abs(ints["u64max"]["max"] - 2.0**64) > 2**12:
    fail(f"Ints.u64max: {ints['u64max']}")
fl = {f["name"]: f for f in row["Floats"]["fields"]}
if fl["tenth"]["min"] != 0.1 or "min" in fl["nan"]:
    fail(f"Floats: {fl}")
b = {f["name"]: f for f in row["Bools"]["fields"]}
if b["yes"]["min"] != 1 or b["no"]["max"] != 0:
    fail(f"Bools: {b}")
if row["NoFields"]["count"] != 1 or row["Other"]["count"] != 1:
    fail(f"counts: {row['NoFields']} {row['Other']}")
PY
timeout 60 "$GTRACE" stats "$file" >types.txt || fail "stats text"
grep -qE '^ +1 +[0-9.]+% .* Test.E2E/Ints$' types.txt || fail "text row for Ints: $(cat types.txt)"
grep -qE '^ +i32 +i32min: min -2147483648, max -2147483648, mean -2147483648$' types.txt ||
	fail "text field line: $(cat types.txt)"
grep -qE '^events: +[0-9]+ decoded' types.txt || fail "text totals: $(cat types.txt)"
exit 0
