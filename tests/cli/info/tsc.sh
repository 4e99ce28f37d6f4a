#!/bin/bash
# A TSC-clocked file: duration comes from the clock samples (3 ticks per ns).
set -u
GEN="$GT_BUILD/tests/tools/gt_fmt_gen"
rm -rf "$GT_TMP" && mkdir -p "$GT_TMP" && cd "$GT_TMP" || exit 1
fail() { echo "FAIL: $*" >&2; exit 1; }

"$GEN" t.gtrace --events 2000 --clock tsc >/dev/null || fail gen
timeout 20 "$GTRACE" info --json t.gtrace >out.json || fail "exit $?"
python3 - <<'PY' || exit 1
import json, sys
d = json.load(open("out.json"))
if d["clock"] != "tsc" or d["duration_ns"] != 1000 + 100 * 2000 + 500:
    sys.exit(f"FAIL: clock {d['clock']} duration {d['duration_ns']}")
PY
exit 0
