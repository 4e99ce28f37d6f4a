#!/usr/bin/env bash
# gtrace status (text and JSON) and gtrace mark: marks land in the file that
# is current when they are made, on the session's clock, after the events
# emitted before them; which session a command addresses.
. "$GT_SRC/tests/cli/lib.sh"
. "$GT_SRC/tests/cli/session/sess_lib.bash"

# no session yet: mark, rotate and stop name the problem, exit 2
set +e
"$GTRACE" mark hello 2>err.txt; rc=$?
set -e
[ "$rc" -eq 2 ] && grep -q "no active session" err.txt || fail "mark without session: rc $rc, $(cat err.txt)"
"$GTRACE" status >st.txt
grep -q "no sessions" st.txt || fail "status without sessions: $(cat st.txt)"

sess_start --op first --dir TestLogs --name stm
pid=$(cat "$GT_SESS_ROOT/stm/pid")
[ "$(stat -c %a "$GT_SESS_ROOT/stm")" = 700 ] || fail "state dir not 0700"
# starting the same session twice is refused
set +e
"$GTRACE" start --op first --dir TestLogs --name stm >/dev/null 2>err.txt; rc=$?
set -e
[ "$rc" -eq 2 ] && grep -q "already running" err.txt || fail "second start: rc $rc, $(cat err.txt)"

"$GT_BIN/gt_e2e" threads 1 100
"$GTRACE" mark "after threads"
"$GTRACE" status >st.txt
grep -E "^stm +alive +$pid +file .*first_.*\.gtrace" st.txt >/dev/null || fail "status: $(cat st.txt)"
"$GTRACE" status --json >st.json
python3 - "$pid" <<'PY'
import json, sys
st = json.load(open("st.json"))
assert len(st) == 1, st
s = st[0]
assert s["name"] == "stm" and s["state"] == "alive" and s["pid"] == int(sys.argv[1]), s
assert s["mode"] == "file" and "/TestLogs/first_" in s["file"], s
for k in ("size", "events", "lost"):
    assert isinstance(s[k], int) and s[k] >= 0, (k, s)
assert s["lost"] == 0
PY
"$GTRACE" rotate --op second >/dev/null
"$GTRACE" mark --session stm "in second" "file"
# with a second session alive, commands without GTRACE_SESSION must choose
env -u GTRACE_SESSION -u GTRACE_SESSION_NAME "$GTRACE" start --op other --dir TestLogs \
	--name stm2 >/dev/null 2>&1
set +e
env -u GTRACE_SESSION "$GTRACE" mark x 2>err.txt; rc=$?
set -e
[ "$rc" -eq 2 ] && grep -q "stm stm2" err.txt || fail "ambiguous mark: rc $rc, $(cat err.txt)"
# but GTRACE_SESSION (exported by start) picks ours
"$GTRACE" mark "env picks stm"
"$GTRACE" status --json | python3 -c '
import json, sys
st = {s["name"]: s for s in json.load(sys.stdin)}
assert sorted(st) == ["stm", "stm2"], st
assert st["stm2"]["state"] == "alive"
'
"$GTRACE" stop --session stm2 >/dev/null
timeout 60 "$GTRACE" stop >stop.txt
[ "$(wc -l <stop.txt)" -eq 2 ] || fail "stop: $(cat stop.txt)"

"$GTRACE" dump "$(files_of first)" --format json >first.json
"$GTRACE" dump "$(files_of second)" --format json >second.json
python3 - <<'PY'
import json
def marks(f):
    evs = [json.loads(l) for l in open(f)]
    return evs, [e for e in evs if e["provider"] == "gtrace.session" and e["event"] == "mark"]
evs, m = marks("first.json")
assert [e["fields"]["text"] for e in m] == ["after threads"], m
seq = [e for e in evs if e["provider"] == "Test.E2E"]
assert len(seq) == 100, len(seq)
assert max(e["ts"] for e in seq) <= m[0]["ts"], "mark sorts after the events emitted before it"
evs, m = marks("second.json")
assert [e["fields"]["text"] for e in m] == ["in second file", "env picks stm"], m
PY
