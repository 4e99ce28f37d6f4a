#!/bin/bash
# gtrace dump filters: provider/event globs, level, time range; bad values exit 2.
set -u
GEN="$GT_BUILD/tests/tools/gt_fmt_gen"
rm -rf "$GT_TMP" && mkdir -p "$GT_TMP" && cd "$GT_TMP" || exit 1
fail() { echo "FAIL: $*" >&2; exit 1; }

"$GEN" t.gtrace --events 5000 --threads 2 --chunk-bytes 4000 >/dev/null || fail gen
count() { timeout 20 "$GTRACE" dump t.gtrace "$@" | wc -l; }
[ "$(count)" -eq 5011 ] || fail "all: $(count)"
[ "$(count --provider 'Test.B*')" -eq 5000 ] || fail "provider glob"
[ "$(count --provider Test.Bench --event Tick)" -eq 5000 ] || fail "provider+event"
[ "$(count --event 'M?ssage')" -eq 5 ] || fail "event glob"
[ "$(count --provider 'Nope*')" -eq 0 ] || fail "no match"
[ "$(count --level warning)" -eq 5 ] || fail "level warning"
[ "$(count --level 3)" -eq 5 ] || fail "level 3"
[ "$(count --level info)" -eq 11 ] || fail "level info: $(count --level info)"
[ "$(count --level 1)" -eq 0 ] || fail "level 1"
# ticks are at ns 1000 + 100 i (some 150 ns early); [200us, 300us] inclusive
timeout 20 "$GTRACE" dump t.gtrace --since 200us --until 0.0003 --format json >range.jsonl || fail range
python3 - <<'PY' || exit 1
import json, sys
ev = [json.loads(l) for l in open("range.jsonl")]
ts = [e["ts"] for e in ev]
if not ts or min(ts) < 200000 or max(ts) > 300000 or ts != sorted(ts):
    sys.exit(f"FAIL: range {min(ts)}..{max(ts)}")
ticks = [e for e in ev if e["event"] == "Tick"]
want = [i for i in range(5000) if 200000 <= 1000 + 100 * i - (150 if i % 7 == 3 else 0) <= 300000]
if sorted(e["fields"]["counter"] for e in ticks) != want:
    sys.exit("FAIL: wrong ticks in range")
PY
[ "$(count --since 1525ns --until 1525ns)" -eq 0 ] || fail "empty range"
[ "$(count --since 1600ns --until 1600ns)" -eq 1 ] || fail "point range"
[ "$(count --since=200ms)" -eq 0 ] || fail "since after end"
for bad in "--level 9" "--level loud" "--since 1h" "--until abc" "--format xml" "--bogus 1"; do
	timeout 20 "$GTRACE" dump t.gtrace $bad >/dev/null 2>err.txt
	rc=$?
	[ $rc -eq 2 ] || fail "'$bad': exit $rc, want 2"
	grep -q '^gtrace dump: ' err.txt || fail "'$bad': message $(cat err.txt)"
done
timeout 20 "$GTRACE" dump >/dev/null 2>&1; [ $? -eq 2 ] || fail "no file"
exit 0
