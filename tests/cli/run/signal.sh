# A command killed by signal N makes gtrace exit 128+N; signals sent to
# gtrace are forwarded to the command's process group.
source "$(dirname "$0")/../lib.sh"

run_traced term sh -c 'kill -TERM $$'
[ "$rc" -eq 143 ] || fail "SIGTERM: expected 143, got $rc"
run_traced kill sh -c 'kill -KILL $$'
[ "$rc" -eq 137 ] || fail "SIGKILL: expected 137, got $rc"
grep -q '^gtrace: wrote ' stderr.txt || fail "no summary after SIGKILL: $(cat stderr.txt)"

# forwarding: the command traps TERM and exits 9
rm -rf TestLogs
set +e
"$GTRACE" run --op fwd -- sh -c 'trap "exit 9" TERM; echo ready; sleep 30 & wait' >fwd.out 2>fwd.err &
gpid=$!
set -e
for _ in $(seq 100); do
	grep -q ready fwd.out 2>/dev/null && break
	sleep 0.05
done
grep -q ready fwd.out || fail "command did not start"
kill -TERM "$gpid"
set +e
wait "$gpid"
rc=$?
set -e
[ "$rc" -eq 9 ] || fail "forwarded SIGTERM: expected 9, got $rc ($(cat fwd.err))"
only_file TestLogs >/dev/null
