# Helpers for tests/cli/session/*.sh (sourced after tests/cli/lib.sh).
# Every case gets a private session root (XDG_RUNTIME_DIR), so `gtrace stop
# --all` and `gtrace status` see only its own sessions even under ctest -j,
# and an EXIT trap stops whatever it left running.
GT_SESS_RT=$(mktemp -d /tmp/gtsess.XXXXXX)
export XDG_RUNTIME_DIR=$GT_SESS_RT
unset GTRACE_SESSION GTRACE_SESSION_NAME
GT_SESS_ROOT=$GT_SESS_RT/gtrace/sessions

sess_cleanup() {
	local p
	timeout 30 "$GTRACE" stop --all >/dev/null 2>&1 || true
	for p in "$GT_SESS_ROOT"/*/pid; do
		[ -f "$p" ] && kill -9 "$(cat "$p")" 2>/dev/null || true
	done
	rm -rf "$GT_SESS_RT"
}
trap sess_cleanup EXIT

# sess_start ARGS...: gtrace start, fail unless it works; exports its environment.
sess_start() {
	local out
	out=$(timeout 30 "$GTRACE" start "$@" 2>start.err) || fail "gtrace start $*: $(cat start.err)"
	eval "$out"
	[ -n "${GTRACE_SESSION:-}" ] || fail "gtrace start printed no GTRACE_SESSION: $out"
}

# files_of OP: the .gtrace files named OP_* in TestLogs
files_of() {
	ls TestLogs/"$1"_*.gtrace 2>/dev/null
}
