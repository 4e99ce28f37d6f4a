#!/usr/bin/env bash
# 100 rotations while two threads emit numbered events: every number is in
# exactly one file (none lost or doubled across a boundary), every file is
# complete, and each rotation's timing is reported.
. "$GT_SRC/tests/cli/lib.sh"
. "$GT_SRC/tests/cli/session/sess_lib.bash"

sess_start --op rot0 --dir TestLogs --name rot100
# 2 threads x 20000 events/s until the stop file appears (at most 60 s)
"$GT_BIN/gt_e2e" numbered 2 20000 60 "$PWD/stop.flag" >emitted.txt &
prog=$!
sleep 0.2
for i in $(seq 1 100); do
	"$GTRACE" rotate --op "rot$i" --json >"rot$i.json" || fail "rotation $i failed"
done
touch stop.flag
wait "$prog" || fail "gt_e2e numbered exited $?"
timeout 60 "$GTRACE" stop >stop.txt

[ "$(ls TestLogs | wc -l)" -eq 101 ] || fail "expected 101 files, got $(ls TestLogs | wc -l)"
[ "$(wc -l <stop.txt)" -eq 101 ] || fail "stop listed $(wc -l <stop.txt) files"
: >all.json
for f in TestLogs/*.gtrace; do
	timeout 60 "$GTRACE" dump "$f" --format json --provider Test.E2E >>all.json || fail "dump $f"
done
"$GTRACE" info --json TestLogs/*.gtrace >infos.json || fail "info"
python3 - <<'PY'
import json, re, statistics
emitted = {}
for line in open("emitted.txt"):
    m = re.match(r"thread (\d+) emitted (\d+)", line)
    emitted[int(m.group(1))] = int(m.group(2))
assert sorted(emitted) == [0, 1], f"emitted: {emitted}"
seen = {}
for line in open("all.json"):
    e = json.loads(line)
    if e["event"] != "Num":
        continue
    k = (e["fields"]["thread"], e["fields"]["seq"])
    seen[k] = seen.get(k, 0) + 1
doubled = [k for k, n in seen.items() if n > 1]
assert not doubled, f"{len(doubled)} events doubled, e.g. {doubled[:5]}"
dec = json.JSONDecoder()
text = open("infos.json").read()
pos, lost, complete = 0, 0, 0
while pos < len(text):
    while pos < len(text) and text[pos].isspace():
        pos += 1
    if pos >= len(text):
        break
    i, pos = dec.raw_decode(text, pos)
    for x in (i if isinstance(i, list) else [i]):
        lost += x["lost"] if isinstance(x["lost"], int) else x["lost"]["total"]
        complete += x["complete"] is True
assert complete == 101, f"only {complete} of 101 files complete"
assert lost == 0, f"{lost} events lost"
for t, n in emitted.items():
    missing = [s for s in range(n) if (t, s) not in seen]
    assert not missing, f"thread {t}: {len(missing)} of {n} missing, e.g. {missing[:5]}"
assert len(seen) == sum(emitted.values()), "events beyond those emitted"
us = sorted(json.load(open(f"rot{i}.json"))["rotate_us"] for i in range(1, 101))
op = sorted(json.load(open(f"rot{i}.json"))["open_us"] for i in range(1, 101))
sw = sorted(json.load(open(f"rot{i}.json"))["switch_us"] for i in range(1, 101))
print(f"{sum(emitted.values())} events in 101 files, each exactly once; "
      f"rotate (old file complete, fsync included): median {us[50]} us, p90 {us[90]} us, max {us[-1]} us; "
      f"drain loop paused (new file created): median {op[50]} us, max {op[-1]} us; "
      f"writer reached the switch after: median {sw[50]} us")
PY
