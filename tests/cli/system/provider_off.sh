#!/bin/bash
# A service whose provider the system session's profile does not select is
# joined to the session but stays disabled: no event of it in the file
# (one branch per call site, as without a session), while a service of a
# selected provider, started and enabled the same way, is recorded.
. "$GT_SRC/tests/cli/lib.sh"
. "$GT_SRC/tests/cli/session/sess_lib.bash"
. "$GT_SRC/tests/cli/system/sys_lib.bash"

printf 'provider Test.Service level=info\n' >only_service.profile
svc_start quiet "$SVC" 60 quiet
quiet_pid=$svc_pid
svc_start loud "$SVC" 60
loud_pid=$svc_pid
sess_start --system --op sel --name syssel --dir TestLogs --profile "$PWD/only_service.profile"
sleep 1
timeout 30 "$GTRACE" stop --session syssel >stop.txt || fail "stop"
kill -TERM "$quiet_pid" "$loud_pid"
wait "$quiet_pid" || fail "quiet service exit status $?"
wait "$loud_pid" || fail "loud service exit status $?"
file=$(only_file TestLogs)
timeout 60 "$GTRACE" dump --format json "$file" >d.json
python3 - "$quiet_pid" "$loud_pid" <<'PY' || fail "event check"
import json, sys
quiet, loud = int(sys.argv[1]), int(sys.argv[2])
ev = [json.loads(l) for l in open("d.json")]
q = [e for e in ev if e["provider"] == "Test.Quiet"]
l = [e for e in ev if e["provider"] == "Test.Service" and e["pid"] == loud]
assert not q, "%d events of the unselected provider" % len(q)
assert len(l) > 100, "only %d events of the selected provider" % len(l)
PY
exit 0
