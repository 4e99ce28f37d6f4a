#!/bin/bash
# gtrace info with several files, some bad: the good ones are shown, each bad
# one gets one clear line naming it, exit 2; --json gives an array.
set -u
GEN="$GT_BUILD/tests/tools/gt_fmt_gen"
rm -rf "$GT_TMP" && mkdir -p "$GT_TMP" && cd "$GT_TMP" || exit 1
fail() { echo "FAIL: $*" >&2; exit 1; }

"$GEN" a.gtrace --events 100 >/dev/null || fail gen
"$GEN" b.gtrace --events 200 --threads 1 >/dev/null || fail gen
head -c 3000 /dev/urandom >rand.gtrace

timeout 20 "$GTRACE" info a.gtrace missing.gtrace b.gtrace rand.gtrace >out.txt 2>err.txt
rc=$?
[ $rc -eq 2 ] || fail "exit $rc, want 2"
[ "$(grep -c '^file:' out.txt)" -eq 2 ] || fail "want 2 files shown: $(cat out.txt)"
grep -qxF "events:       106" out.txt || fail "a.gtrace events"
grep -qxF "events:       206" out.txt || fail "b.gtrace events"
[ "$(wc -l <err.txt)" -eq 2 ] || fail "want 2 error lines: $(cat err.txt)"
grep -qxF "gtrace info: 'missing.gtrace': No such file or directory" err.txt || fail "missing: $(cat err.txt)"
grep -qxF "gtrace info: 'rand.gtrace': not a gtrace file (bad magic)" err.txt || fail "rand: $(cat err.txt)"

timeout 20 "$GTRACE" info --json a.gtrace missing.gtrace b.gtrace >out.json 2>err.txt
[ $? -eq 2 ] || fail "json exit"
python3 - <<'PY' || exit 1
import json, sys
d = json.load(open("out.json"))
if not isinstance(d, list) or len(d) != 3:
    sys.exit(f"FAIL: want an array of 3: {d}")
if d[0]["events"] != 106 or d[2]["events"] != 206 or d[2]["lost"] != 0:
    sys.exit("FAIL: counts")
if d[1]["path"] != "missing.gtrace" or "No such file" not in d[1]["error"]:
    sys.exit(f"FAIL: error entry {d[1]}")
PY
timeout 20 "$GTRACE" info >/dev/null 2>&1; [ $? -eq 2 ] || fail "no file: want exit 2"
timeout 20 "$GTRACE" info --bogus a.gtrace >/dev/null 2>&1; [ $? -eq 2 ] || fail "bad option: want exit 2"
exit 0
