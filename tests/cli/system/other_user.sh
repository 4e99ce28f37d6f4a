#!/bin/bash
# Only the process's own user (or root) can enable it: a service running as
# root is not enabled by a system session of user nobody; it is skipped
# with the reason in the collector's log and counted in `gtrace status`,
# and the session itself works.  (Root enabling another user's service is
# docs/sessions.md "System sessions", not tested here.)
. "$GT_SRC/tests/cli/lib.sh"
[ "$(id -u)" -eq 0 ] || exit 77
command -v setpriv >/dev/null || exit 77
. "$GT_SRC/tests/cli/session/sess_lib.bash"
. "$GT_SRC/tests/cli/system/sys_lib.bash"

chmod 1777 "$GT_SYS_REG"   # a registry shared by root and nobody, like /run/gtrace/system
svc_start root_svc "$SVC" 60
NOBODY_RT=$(mktemp -d /tmp/gtsysnb.XXXXXX)
chown 65534:65534 "$NOBODY_RT"
chmod 755 "$GT_TMP"
as_nobody() {
	setpriv --reuid=65534 --regid=65534 --clear-groups env XDG_RUNTIME_DIR="$NOBODY_RT" \
		GTRACE_SYSTEM_DIR="$GT_SYS_REG" "$@"
}
cleanup_nobody() {
	as_nobody timeout 30 "$GTRACE" stop --all >/dev/null 2>&1 || true
	rm -rf "$NOBODY_RT"
	sys_cleanup
}
trap cleanup_nobody EXIT
mkdir -m 777 out
as_nobody timeout 30 "$GTRACE" start --system --op nb --name sysnb --dir "$GT_TMP/out" \
	>/dev/null 2>start.err || fail "start as nobody: $(cat start.err)"
sleep 0.5
as_nobody timeout 30 "$GTRACE" status --json >status.json
cp "$NOBODY_RT"/gtrace/sessions/sysnb/collector.log collector.log
as_nobody timeout 30 "$GTRACE" stop --session sysnb >/dev/null || fail "stop as nobody"
grep -q "process $svc_pid of uid 0 not enabled: only its own user or root may enable it" \
	collector.log || fail "no reason logged: $(cat collector.log)"
kill -TERM "$svc_pid"
wait "$svc_pid" || fail "service exit status"
python3 - <<'PY' || fail "status: $(cat status.json)"
import json
st = json.load(open("status.json"))[0]
assert st["system"] is True
assert st["system_enabled"] == 0, st
assert st["system_skipped"] >= 1, st
PY
file=$(only_file out)
timeout 60 "$GTRACE" dump --format json "$file" >d.json
! grep -q '"Test.Service"' d.json || fail "nobody's session received root's events"
grep -q '"pid":'"$svc_pid" d.json && fail "root's service appears in nobody's file"
exit 0
