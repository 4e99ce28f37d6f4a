#!/usr/bin/env bash
# stdout and stderr pass through unchanged and each line is an event.
. "$GT_SRC/tests/cli/lib.sh"
"$GT_BIN/gt_e2e" output >bare_out.txt 2>bare_err.txt
run_traced output "$GT_BIN/gt_e2e" output
[ "$rc" -eq 0 ] || fail "output exited $rc"
cmp bare_out.txt stdout.txt || fail "stdout differs from the bare run"
# gtrace's own summary line is the only addition, at the very end
python3 -c "
import re, sys
err = open('stderr.txt', 'rb').read()
m = re.search(rb'\n?gtrace: wrote [^\n]*\n\Z', err)
sys.exit(0 if m and err[:m.start()] == open('bare_err.txt', 'rb').read() else 'stderr differs: %r' % err)"
dump_json "$file"
python3 - "$GT_SRC/tests/cli/e2e" <<'PY'
import sys
sys.path.insert(0, sys.argv[1])
from check import load, of, expect
lines = [(e["fields"]["stream"], e["fields"]["line"]) for e in of(load(), "gtrace.output", "line")]
expect(sorted(lines) == sorted([("stdout", "out line 1"), ("stderr", "err line 1"),
                                ("stdout", 'out line 2 "quoted"'), ("stderr", "err no newline")]),
       f"output lines: {lines}")
PY
