#!/usr/bin/env bash
# Without a session an instrumented program runs exactly as without gtrace.
. "$GT_SRC/tests/cli/lib.sh"
unset GTRACE_SESSION
"$GT_BIN/gt_e2e" output >out.txt 2>err.txt || fail "gt_e2e output failed untraced"
printf 'out line 1\nout line 2 "quoted"\n' | cmp - out.txt || fail "stdout changed"
printf 'err line 1\nerr no newline' | cmp - err.txt || fail "stderr changed"
set +e
"$GT_BIN/gt_e2e" exit 5; rc=$?
set -e
[ "$rc" -eq 5 ] || fail "exit status $rc"
GTRACE_SESSION=/nonexistent/socket "$GT_BIN/gt_e2e" types >out.txt 2>err.txt || fail "bad GTRACE_SESSION broke the program"
[ ! -s out.txt ] && [ ! -s err.txt ] || fail "library printed something: $(cat out.txt err.txt)"
ls TestLogs 2>/dev/null && fail "no file expected" || true
