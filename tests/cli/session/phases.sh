#!/usr/bin/env bash
# A pipeline of three phases in one session, split by rotate: three files,
# named after each phase, each holding exactly its phase's events.
. "$GT_SRC/tests/cli/lib.sh"
. "$GT_SRC/tests/cli/session/sess_lib.bash"

sess_start --op setup --dir TestLogs --name phases
"$GT_BIN/gt_e2e" types
"$GTRACE" rotate --op unit_tests >rot1.txt
"$GT_BIN/gt_e2e" spans | cat
"$GTRACE" rotate --op perf_tests >rot2.txt
sh -c '"$0" log' "$GT_BIN/gt_e2e"
timeout 60 "$GTRACE" stop >stop.txt

[ "$(ls TestLogs | wc -l)" -eq 3 ] || fail "expected 3 files, got: $(ls TestLogs)"
setup=$(files_of setup) && unit=$(files_of unit_tests) && perf=$(files_of perf_tests) ||
	fail "file names: $(ls TestLogs)"
# rotate prints the closed file, stop every file of the session, with their sizes
[ "$(cut -f1 rot1.txt)" = "$PWD/$setup" ] || fail "rotate 1 printed $(cat rot1.txt)"
[ "$(cut -f1 rot2.txt)" = "$PWD/$unit" ] || fail "rotate 2 printed $(cat rot2.txt)"
[ "$(wc -l <stop.txt)" -eq 3 ] || fail "stop printed: $(cat stop.txt)"
while IFS=$'\t' read -r path size; do
	[ -f "$path" ] || fail "stop printed a missing file $path"
	[ "$(stat -c %s "$path")" = "$size" ] || fail "$path: stop said $size bytes"
done <stop.txt
[ -z "$(ls "$GT_SESS_ROOT")" ] || fail "state left behind: $(ls "$GT_SESS_ROOT")"

for f in "$setup" "$unit" "$perf"; do
	"$GTRACE" info --json "$f" >info.json || fail "info $f"
	timeout 60 "$GTRACE" dump "$f" --format json >"$(basename "$f").json" || fail "dump $f"
done
python3 - "$setup" "$unit" "$perf" <<'PY'
import json, sys
def load(f):
    return [json.loads(l) for l in open(f.split("/")[-1] + ".json")]
def names(evs):
    return {(e["provider"], e["event"]) for e in evs if e["provider"].startswith("Test.")}
s, u, p = (load(f) for f in sys.argv[1:])
want_s = {("Test.E2E", n) for n in ["Ints", "Floats", "Bools", "Strings", "Bytes", "NoFields"]} | {("Test.Other", "Other")}
assert names(s) == want_s, f"setup file: {names(s)}"
assert names(u) == {("Test.E2E", "Step")}, f"unit_tests file: {names(u)}"
assert len([e for e in u if e["event"] == "Step"]) == 6, "unit_tests: 3 span pairs"
assert names(p) == {("Test.E2E", "log")}, f"perf file: {names(p)}"
logs = [e for e in p if e["provider"] == "Test.E2E"]
assert len(logs) == 3, f"perf_tests: {len(logs)} log events"
for evs, op in ((s, "setup"), (u, "unit_tests"), (p, "perf_tests")):
    starts = [e for e in evs if e["provider"] == "gtrace.process" and e["event"] == "start"]
    assert starts, f"{op}: no gtrace.process/start"
PY
for f in "$setup" "$unit" "$perf"; do
	"$GTRACE" info --json "$f" >"$(basename "$f").info"
done
python3 - "$setup:setup" "$unit:unit_tests" "$perf:perf_tests" <<'PY'
import json, sys
for arg in sys.argv[1:]:
    f, op = arg.split(":")
    i = json.load(open(f.split("/")[-1] + ".info"))
    i = i[0] if isinstance(i, list) else i
    m = i["meta"]
    assert i["complete"] is True, f"{f}: not complete (footer missing)"
    assert m.get("op") == op, f"{f}: op meta {m.get('op')} != {op}"
    assert m.get("session") == "phases", f"{f}: session meta {m.get('session')}"
PY
