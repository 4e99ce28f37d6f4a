# Helpers for tests/cli/system/*.sh (sourced after tests/cli/lib.sh and
# tests/cli/session/sess_lib.bash).  Every case gets its own registry
# (GTRACE_SYSTEM_DIR), so cases never see each other's services or system
# sessions, and an EXIT trap ends the services it started.
GT_SYS_REG=$(mktemp -d /tmp/gtsysreg.XXXXXX)
export GTRACE_SYSTEM_DIR=$GT_SYS_REG
SVC=$GT_BIN/gt_service
GT_SYS_PIDS=()

sys_cleanup() {
	local p
	for p in "${GT_SYS_PIDS[@]}"; do
		kill -9 "$p" 2>/dev/null || true
	done
	sess_cleanup
	rm -rf "$GT_SYS_REG"
}
trap sys_cleanup EXIT

# svc_start NAME ARGS...: start gt_service ARGS in the background (stdout
# NAME.out) with no session in its environment; wait until it registered.
# Sets $svc_pid.
svc_start() {
	local name=$1 i
	shift
	env -u GTRACE_SESSION "$@" >"$name.out" 2>"$name.err" &
	svc_pid=$!
	GT_SYS_PIDS+=("$svc_pid")
	for i in $(seq 200); do
		[ -f "$GT_SYS_REG/p$svc_pid" ] && return 0
		sleep 0.05
	done
	fail "service $name (pid $svc_pid) wrote no registry entry: $(cat "$name.err")"
}

# now_ns: CLOCK_MONOTONIC in ns (a small C program: python3 takes seconds to start on a loaded machine)
now_ns() {
	"$SVC" now
}
