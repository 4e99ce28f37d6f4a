#!/usr/bin/env bash
# Two sessions at once never see each other's events: each has its own
# producer socket, state directory and files.
. "$GT_SRC/tests/cli/lib.sh"
. "$GT_SRC/tests/cli/session/sess_lib.bash"

envA=$("$GTRACE" start --op alpha --dir A --name conc_a 2>/dev/null)
envB=$("$GTRACE" start --op beta --dir B --name conc_b 2>/dev/null)
(eval "$envA"; "$GT_BIN/gt_e2e" threads 2 3000 & "$GT_BIN/gt_e2e" exit 3; wait) &
(eval "$envB"; "$GT_BIN/gt_e2e" threads 3 2000 & "$GT_BIN/gt_e2e" exit 5; wait) &
set +e
wait %1; a=$?
wait %2; b=$?
set -e
[ "$a" -eq 3 ] && [ "$b" -eq 5 ] || fail "exit statuses $a $b"
(eval "$envA"; "$GTRACE" mark "only in A")
"$GTRACE" status --json >st.json
python3 -c '
import json
st = {s["name"]: s for s in json.load(open("st.json"))}
assert sorted(st) == ["conc_a", "conc_b"], st
assert st["conc_a"]["socket"] != st["conc_b"]["socket"]
'
timeout 60 "$GTRACE" stop --all >stop.txt
[ "$(wc -l <stop.txt)" -eq 2 ] || fail "stop --all: $(cat stop.txt)"
"$GTRACE" dump "$(only_file A)" --format json >a.json
"$GTRACE" dump "$(only_file B)" --format json >b.json
python3 - <<'PY'
import json
def load(f):
    return [json.loads(l) for l in open(f)]
a, b = load("a.json"), load("b.json")
def seq(evs):
    return [e for e in evs if e["event"] == "Seq"]
def exits(evs):
    return [e["fields"]["code"] for e in evs if e["event"] == "Exiting"]
assert len(seq(a)) == 6000 and {e["fields"]["thread"] for e in seq(a)} == {0, 1}, len(seq(a))
assert len(seq(b)) == 6000 and {e["fields"]["thread"] for e in seq(b)} == {0, 1, 2}, len(seq(b))
assert exits(a) == [3] and exits(b) == [5], (exits(a), exits(b))
assert len([e for e in a if e["event"] == "mark"]) == 1 and not [e for e in b if e["event"] == "mark"]
pa = {e["pid"] for e in a if e["provider"] == "Test.E2E"}
pb = {e["pid"] for e in b if e["provider"] == "Test.E2E"}
assert not (pa & pb), "a process in both sessions"
PY
[ -z "$(ls "$GT_SESS_ROOT")" ] || fail "state left: $(ls "$GT_SESS_ROOT")"
