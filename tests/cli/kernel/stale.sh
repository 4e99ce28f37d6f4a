#!/usr/bin/env bash
# Instances left by collectors that were SIGKILLed are removed: a killed
# `gtrace run` leaves its instance, the next `gtrace run` with kernel events
# removes it; a killed session collector leaves its instance and state,
# `gtrace stop --all` removes both.  Live instances are never touched.
. "$GT_SRC/tests/cli/lib.sh"
. "$GT_SRC/tests/cli/session/sess_lib.bash"
. "$GT_SRC/tests/cli/kernel/kernel_lib.bash"
need_tracefs sched:sched_process_exec
op=kstale_$$
name=kstsess_$$
live=kstlive_$$
stale_cleanup() {
	sess_cleanup
	if [ -n "${kid:-}" ]; then kill -9 "$kid" 2>/dev/null || true; fi
	rm_instances "$op"
	rm_instances "${op}_next"
	rm_instances "$name"
	rm_instances "$live"
}
trap stale_cleanup EXIT
printf 'kernel sched:sched_process_exec\n' >k.prof
inst=/sys/kernel/tracing/instances

wait_instance() { # NAME: wait until it exists
	for _ in $(seq 200); do
		[ -d "$inst/$1" ] && return 0
		sleep 0.05
	done
	fail "instance $1 never appeared: $(ls $inst)"
}

# a live session's instance must survive every clean-up below
out=$("$GTRACE" start --op l0 --dir L --name "$live" --profile ./k.prof 2>start.err) ||
	fail "start: $(cat start.err)"
livepid=$(cat "$GT_SESS_ROOT/$live/pid")
[ -d "$inst/gtrace_${live}_$livepid" ] || fail "no live instance"

# 1. SIGKILL a gtrace run mid-command
"$GTRACE" run --op "$op" --dir TestLogs --profile ./k.prof -- sleep 30 >run.out 2>run.err &
gpid=$!
wait_instance "gtrace_${op}_$gpid"
kid=$(pgrep -P "$gpid" | head -1)
kill -9 "$gpid"
wait "$gpid" 2>/dev/null || true
[ -n "$kid" ] && kill -9 "$kid" 2>/dev/null || true
[ -d "$inst/gtrace_${op}_$gpid" ] || fail "the killed run's instance is already gone"
timeout 60 "$GTRACE" run --op "${op}_next" --dir TestLogs --profile ./k.prof -- true \
	>run2.out 2>run2.err || fail "next run: $(cat run2.err)"
[ ! -d "$inst/gtrace_${op}_$gpid" ] || fail "the next gtrace run left the stale instance"
no_instance_left "${op}_next"

# 2. SIGKILL a session collector
out=$("$GTRACE" start --op s0 --dir S --name "$name" --profile ./k.prof 2>start.err) ||
	fail "start: $(cat start.err)"
cpid=$(cat "$GT_SESS_ROOT/$name/pid")
[ -d "$inst/gtrace_${name}_$cpid" ] || fail "no session instance"
kill -9 "$cpid"
for _ in $(seq 100); do kill -0 "$cpid" 2>/dev/null || break; sleep 0.05; done
[ -d "$inst/gtrace_${name}_$cpid" ] || fail "the killed collector's instance is already gone"
# stop --all stops the live session too: check the dead one goes and nothing else is hurt
timeout 60 "$GTRACE" stop --all >stop.txt 2>stop.err || fail "stop --all: $(cat stop.err)"
[ ! -d "$inst/gtrace_${name}_$cpid" ] || fail "stop --all left the dead collector's instance"
[ ! -d "$GT_SESS_ROOT/$name" ] || fail "stop --all left the dead session's state"
grep -q "gtrace_${name}_$cpid" stop.err || fail "stop --all did not say what it removed: $(cat stop.err)"
no_instance_left "$live" # removed by its own (clean) stop
grep -q "^$PWD/L/" stop.txt || fail "the live session was not stopped cleanly: $(cat stop.txt)"
