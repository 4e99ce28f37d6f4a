#!/usr/bin/env bash
# A process that SIGKILLs itself after N events leaves all N in the file.
. "$GT_SRC/tests/cli/lib.sh"
run_traced killself "$GT_BIN/gt_e2e" killself 30000
[ "$rc" -eq 137 ] || fail "expected 128+SIGKILL=137, got $rc"
dump_json "$file"
python3 - "$GT_SRC/tests/cli/e2e" <<'PY'
import sys
sys.path.insert(0, sys.argv[1])
from check import load, of, expect
seq = [e["fields"]["seq"] for e in of(load(), "Test.E2E", "BeforeKill")]
expect(seq == list(range(30000)), f"got {len(seq)} of 30000 events before SIGKILL")
PY
