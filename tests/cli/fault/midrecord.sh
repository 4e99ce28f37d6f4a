#!/bin/bash
# Fault (c): a producer is SIGKILLed in the middle of writing a record (one
# thread holds a reserved, half-written, never committed record).  Every
# committed event of its other thread and of another process of the same
# session is in the file, each numbered stream a gap-free 0..N-1 with N the
# count the program printed; the half record is not.
source "$(dirname "$0")/../lib.sh"
E="$GT_BIN/gt_e2e"

run_traced half sh -c '
	"$0" numbered 1 20000 2 >other.txt &
	"$0" halfrec 20000 1 >half.txt
	echo "half=$?" >rc
	wait' "$E"
[ "$rc" -eq 0 ] || fail "gtrace run exited $rc: $(cat stderr.txt)"
[ "$(cat rc)" = half=137 ] || fail "halfrec did not SIGKILL itself: $(cat rc)"
grep -qE '^thread 1 emitted [0-9]+$' half.txt || fail "halfrec output: $(cat half.txt)"
grep -qE '^thread 0 emitted [0-9]+$' other.txt || fail "other process output: $(cat other.txt)"
timeout 60 "$GTRACE" info "$file" >info.txt || fail "info"
grep -qx 'complete:     yes' info.txt || fail "file not complete: $(grep complete info.txt)"
dump_json "$file" || fail "dump"
python3 - <<'PY'
import json, collections, re
ev = [json.loads(l) for l in open("dump.json")]
half_n = int(re.search(r"emitted (\d+)", open("half.txt").read()).group(1))
other_n = int(re.search(r"emitted (\d+)", open("other.txt").read()).group(1))
assert half_n > 0 and other_n > 0
done = [e for e in ev if e["event"] == "HalfDone"]
assert sorted(e["fields"]["seq"] for e in done) == list(range(5)), done
half_pid = done[0]["pid"]
assert not [e for e in ev if e["event"] == "Half"], "the uncommitted record reached the file"
nums = collections.defaultdict(list)
for e in ev:
    if e["event"] == "Num":
        nums[(e["pid"] == half_pid, e["fields"]["thread"])].append(e["fields"]["seq"])
assert set(nums) == {(True, 1), (False, 0)}, sorted(nums)
for key, n in (((True, 1), half_n), ((False, 0), other_n)):
    seqs = nums[key]
    assert seqs == list(range(n)), f"{key}: {len(seqs)} events, expected 0..{n - 1} in order"
print(f"killed process: {half_n} events kept; other process: {other_n}")
PY
lost=$(sed -n 's/^lost: *//p' info.txt)
[ "$lost" = 0 ] || fail "events lost: $lost"
exit 0
