#!/usr/bin/env bash
# Eight threads, each its own ring: every event arrives once, in per-thread order.
. "$GT_SRC/tests/cli/lib.sh"
run_traced threads "$GT_BIN/gt_e2e" threads 8 20000
[ "$rc" -eq 0 ] || fail "gt_e2e threads exited $rc"
dump_json "$file"
"$GTRACE" info --json "$file" >info.json
python3 - "$GT_SRC/tests/cli/e2e" <<'PY'
import json, sys
sys.path.insert(0, sys.argv[1])
from check import load, of, expect
ev = of(load(), "Test.E2E", "Seq")
info = json.load(open("info.json"))
if isinstance(info, list):
    info = info[0]
lost = info["lost"] if isinstance(info["lost"], int) else info["lost"]["total"]
expect(len(ev) + lost == 8 * 20000, f"recorded {len(ev)} + lost {lost} != emitted {8 * 20000}")
expect(lost == 0, f"{lost} events lost with default buffers")
by = {}
for e in ev:
    by.setdefault(e["fields"]["thread"], []).append((e["tid"], e["fields"]["seq"]))
expect(sorted(by) == list(range(8)), f"threads seen: {sorted(by)}")
tids = set()
for t, seqs in by.items():
    expect([s for _, s in seqs] == list(range(20000)), f"thread {t}: sequence not complete and ordered")
    expect(len({tid for tid, _ in seqs}) == 1, f"thread {t} changed tid")
    tids.add(seqs[0][0])
expect(len(tids) == 8, "each thread has its own tid")
PY
