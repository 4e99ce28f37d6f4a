#!/usr/bin/env bash
# The collector is SIGKILLed in the middle of a traced command: the command
# runs on unblocked with its exit status unchanged, the file keeps every
# chunk sealed before the death, status reports the session dead, and
# stop --all removes its state.
. "$GT_SRC/tests/cli/lib.sh"
. "$GT_SRC/tests/cli/session/sess_lib.bash"

sess_start --op victim --dir TestLogs --name killed
pid=$(cat "$GT_SESS_ROOT/killed/pid")
SECONDS=0
# one thread, 20000 events/s for 3 s
"$GT_BIN/gt_e2e" numbered 1 20000 3 >emitted.txt &
prog=$!
sleep 1.6 # the collector seals the open chunk about once a second
kill -9 "$pid"
set +e
wait "$prog"; rc=$?
set -e
[ "$rc" -eq 0 ] || fail "traced command exited $rc after the collector died"
[ "$SECONDS" -lt 10 ] || fail "traced command took ${SECONDS}s: blocked?"
# a command started after the death runs untraced with its own status
set +e
"$GT_BIN/gt_e2e" exit 7; rc=$?
set -e
[ "$rc" -eq 7 ] || fail "exit 7 under a dead session gave $rc"

"$GTRACE" status --json >st.json
python3 -c '
import json
st = json.load(open("st.json"))
assert len(st) == 1 and st[0]["name"] == "killed" and st[0]["state"] == "dead", st
'
"$GTRACE" status | grep -E "^killed +dead " >/dev/null || fail "status text: $("$GTRACE" status)"
file=$(only_file TestLogs)
"$GTRACE" dump "$file" --format json --provider Test.E2E >dump.json || fail "dump of the cut file"
python3 - <<'PY'
import json
seqs = [json.loads(l)["fields"]["seq"] for l in open("dump.json")]
# everything up to the last sealed chunk: a prefix 0..n-1 with no gap or double
assert len(seqs) > 0, "no chunk survived the collector's death"
assert sorted(seqs) == list(range(len(seqs))), "survivors are not a clean prefix"
print(f"{len(seqs)} events survived in sealed chunks")
PY
timeout 30 "$GTRACE" stop --all >stop.txt 2>stop.err
grep -q "$file" stop.txt || fail "stop --all did not list $file: $(cat stop.txt)"
grep -q "had died" stop.err || fail "stop --all: $(cat stop.err)"
[ ! -e "$GT_SESS_ROOT/killed" ] || fail "state of the dead session left behind"
"$GTRACE" status | grep -q "no sessions" || fail "status after cleanup"
