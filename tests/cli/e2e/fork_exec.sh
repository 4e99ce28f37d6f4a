#!/usr/bin/env bash
# A fork child gets its own rings; the program it execs joins the same session.
. "$GT_SRC/tests/cli/lib.sh"
run_traced fork "$GT_BIN/gt_e2e" fork
[ "$rc" -eq 0 ] || fail "gt_e2e fork exited $rc"
dump_json "$file"
python3 - "$GT_SRC/tests/cli/e2e" <<'PY'
import sys
sys.path.insert(0, sys.argv[1])
from check import load, of, one, expect
ev = load()
steps = [(e["event"], e["fields"]["step"], e["pid"]) for e in of(ev, "Test.E2E")]
expect([s[:2] for s in steps] == [("Parent", 1), ("ForkChild", 2), ("ExecChild", 3), ("Parent", 4)],
       f"steps in time order: {steps}")
parent, child = steps[0][2], steps[1][2]
expect(parent != child and steps[2][2] == child and steps[3][2] == parent, f"pids: {steps}")
starts = {e["fields"]["pid"]: e for e in of(ev, "gtrace.process", "start")}
expect(parent in starts and child in starts, f"process start for {parent} and {child}: {sorted(starts)}")
expect(starts[child]["fields"]["ppid"] == parent, "child's ppid is the parent")
exits = {e["fields"]["pid"]: e["fields"] for e in of(ev, "gtrace.process", "exit")}
expect(exits.get(parent, {}).get("status") == 0 and exits.get(child, {}).get("status") == 0,
       f"exit records: {exits}")
expect("exec-child" in " ".join(e["fields"].get("argv", "") for e in of(ev, "gtrace.process")),
       "the exec'd image's argv is recorded")
PY
