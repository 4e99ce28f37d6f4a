#!/usr/bin/env bash
# The session's private ftrace instance is removed however the run ends:
# normal exit, exec failure, --timeout, SIGINT and SIGTERM forwarded.
. "$GT_SRC/tests/cli/lib.sh"
. "$GT_SRC/tests/cli/kernel/kernel_lib.bash"
need_tracefs sched:sched_process_exec
printf 'kernel sched:sched_process_exec\n' >k.prof
run_op() { # OP EXPECTED_RC ARGS...
	local op=$1 want=$2
	shift 2
	set +e
	timeout 60 "$GTRACE" run --op "$op" --dir TestLogs --profile ./k.prof "$@" >stdout.txt 2>stderr.txt
	rc=$?
	set -e
	[ "$rc" -eq "$want" ] || fail "$op: exit $rc, expected $want: $(cat stderr.txt)"
	no_instance_left "$op"
}
run_op kcl_ok_$$ 0 -- true
run_op kcl_fail_$$ 3 -- sh -c 'exit 3'
run_op kcl_noexec_$$ 127 -- /nonexistent/command
grep -q "cannot run '/nonexistent/command'" stderr.txt || fail "exec failure: $(cat stderr.txt)"
run_op kcl_timeout_$$ 124 --timeout 0.3 -- sleep 10

# a signal to gtrace is forwarded to the command; the instance still goes
for sig in INT TERM; do
	op=kcl_sig${sig}_$$
	env --default-signal=INT "$GTRACE" run --op "$op" --dir TestLogs --profile ./k.prof \
		-- sleep 10 >stdout.txt 2>stderr.txt &
	pid=$!
	for _ in $(seq 100); do
		ls /sys/kernel/tracing/instances | grep -q "^gtrace_${op}_$pid\$" && break
		sleep 0.05
	done
	ls /sys/kernel/tracing/instances | grep -q "^gtrace_${op}_$pid\$" ||
		fail "no instance gtrace_${op}_$pid while running"
	sleep 0.1
	kill -s "$sig" "$pid"
	set +e
	wait "$pid"
	rc=$?
	set -e
	want=$((128 + $(kill -l "$sig")))
	[ "$rc" -eq "$want" ] || fail "SIG$sig: exit $rc, expected $want: $(cat stderr.txt)"
	no_instance_left "$op"
done
