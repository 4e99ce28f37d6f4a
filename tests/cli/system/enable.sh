#!/bin/bash
# A service started before `gtrace start --system` delivers its events to
# it without a restart: the first one recorded was emitted within 100 ms of
# `gtrace start` returning, the numbers after it are contiguous (no loss),
# its process start record (pid, argv) is there; after `gtrace stop` it
# keeps running, a second system session gets its later numbers, and it
# exits with its normal status.  A second system session while one runs is
# refused (exit 2) with an error naming the first.
. "$GT_SRC/tests/cli/lib.sh"
. "$GT_SRC/tests/cli/session/sess_lib.bash"
. "$GT_SRC/tests/cli/system/sys_lib.bash"

svc_start svc "$SVC" 60
sleep 0.3 # it runs untraced meanwhile: these numbers must not appear
out=$(timeout 30 "$GTRACE" start --system --op svc --name sys1 --dir TestLogs 2>start.err) ||
	fail "gtrace start --system: $(cat start.err)"
t_start=$(now_ns)
set +e
timeout 30 "$GTRACE" start --system --op other --name sys9 --dir TestLogs >/dev/null 2>second.err
rc=$?
set -e
[ "$rc" -eq 2 ] || fail "second system session: exit $rc, expected 2"
grep -q "system session is already running: 'sys1'" second.err || fail "second: $(cat second.err)"
[ ! -e "$GT_SESS_ROOT/sys9" ] || fail "the refused session left its state directory"
timeout 30 "$GTRACE" status >status.txt
grep -Eq "system session: [1-9][0-9]* processes enabled" status.txt || fail "status: $(cat status.txt)"
sleep 1
timeout 30 "$GTRACE" stop --session sys1 >stop1.txt || fail "stop sys1"
kill -0 "$svc_pid" || fail "the service did not survive the end of the session"
sleep 0.3 # untraced again: these numbers must not appear either
sess_start --system --op svc2 --name sys2 --dir TestLogs
sleep 0.5
timeout 30 "$GTRACE" stop --session sys2 >stop2.txt || fail "stop sys2"
kill -TERM "$svc_pid"
set +e
wait "$svc_pid"
rc=$?
set -e
[ "$rc" -eq 0 ] || fail "service exit status $rc"
f1=$(ls TestLogs/svc_*.gtrace)
f2=$(ls TestLogs/svc2_*.gtrace)
timeout 60 "$GTRACE" dump --format json "$f1" >d1.json
timeout 60 "$GTRACE" dump --format json "$f2" >d2.json
python3 - "$t_start" "$svc_pid" <<'PY' || fail "event check"
import json, sys
t_start, pid = int(sys.argv[1]), int(sys.argv[2])
def load(path):
    ev = [json.loads(l) for l in open(path)]
    ticks = [e["fields"] for e in ev if e["provider"] == "Test.Service" and e["event"] == "Tick"]
    starts = [e["fields"] for e in ev if e["provider"] == "gtrace.process" and e["event"] == "start"
              and e["fields"]["pid"] == pid]
    return ticks, starts
t1, s1 = load("d1.json")
t2, s2 = load("d2.json")
assert t1 and t2, "no events: %d, %d" % (len(t1), len(t2))
first = t1[0]
lag = first["mono_ns"] - t_start
print("first event of session 1: seq %d emitted %.1f ms after start returned" % (first["seq"], lag / 1e6))
assert lag <= 100_000_000, "first event emitted %.1f ms after start returned" % (lag / 1e6)
assert first["seq"] > 0, "events from before the session: seq %d" % first["seq"]
for t in (t1, t2):
    seqs = [f["seq"] for f in t]
    assert seqs == list(range(seqs[0], seqs[0] + len(seqs))), "gap or repeat in %s..%s" % (seqs[0], seqs[-1])
assert t2[0]["seq"] > t1[-1]["seq"] + 1, "session 2 starts at %d, session 1 ended at %d" % (t2[0]["seq"], t1[-1]["seq"])
assert len(s1) == 1 and "gt_service 60" in s1[0]["argv"], "process start record: %r" % s1
print("session 1: seq %d..%d, session 2: seq %d..%d" % (t1[0]["seq"], t1[-1]["seq"], t2[0]["seq"], t2[-1]["seq"]))
PY
exit 0
