# --timeout: SIGTERM to the group, SIGKILL after a 2 s grace, exit 124; the
# file is still closed properly (summary line printed).
source "$(dirname "$0")/../lib.sh"

start=$(date +%s.%N)
set +e
"$GTRACE" run --op to --timeout 0.3 -- sleep 30 >out.txt 2>err.txt
rc=$?
set -e
[ "$rc" -eq 124 ] || fail "timeout: expected 124, got $rc"
grep -q '^gtrace: wrote TestLogs/to_' err.txt || fail "no summary: $(cat err.txt)"

# a command that ignores SIGTERM is killed after the grace period
rm -rf TestLogs
start=$(date +%s.%N)
set +e
"$GTRACE" run --op stubborn --timeout 0.3 -- sh -c 'trap "" TERM; echo before; sleep 30; echo after' >out.txt 2>err.txt
rc=$?
set -e
end=$(date +%s.%N)
[ "$rc" -eq 124 ] || fail "stubborn: expected 124, got $rc"
grep -qx before out.txt || fail "output before the timeout lost"
! grep -q after out.txt || fail "command was not killed"
awk -v s="$start" -v e="$end" 'BEGIN { d = e - s; exit !(d >= 2.0 && d < 10) }' ||
	fail "stubborn: took $(awk -v s="$start" -v e="$end" 'BEGIN{print e-s}') s, expected ~2.3 s"
f=$(only_file TestLogs)
grep -q "^gtrace: wrote $f " err.txt || fail "no summary for $f: $(cat err.txt)"

# bad values
set +e
"$GTRACE" run --timeout abc -- true 2>err.txt
rc=$?
set -e
[ "$rc" -eq 2 ] || fail "--timeout abc: expected 2, got $rc"
grep -q "bad --timeout 'abc'" err.txt || fail "no message for bad --timeout"
