#!/usr/bin/env bash
# A long-lived memory session (gtrace start --mode memory): nothing on disk
# until `gtrace snapshot`, which writes the window and lets it go on (the
# second snapshot holds the later events too); status shows the window;
# rotate is refused; stop writes nothing more and says so.
. "$GT_SRC/tests/cli/lib.sh"
. "$GT_SRC/tests/cli/session/sess_lib.bash"

sess_start --op flight --dir TestLogs --mode memory --window 2M --name memsess
grep -q "in memory" start.err || fail "start message: $(cat start.err)"
"$GT_BIN/gt_e2e" noise 300
"$GT_BIN/gt_e2e" exit 5 || true
[ -d TestLogs ] && [ -z "$(ls TestLogs)" ] || fail "memory session wrote files: $(ls TestLogs)"

"$GTRACE" status >st.txt
grep -Eq "^memsess +alive +[0-9]+ +memory " st.txt || fail "status: $(cat st.txt)"
grep -q "memory window: .* of 2.0 MiB" st.txt || fail "status window line: $(cat st.txt)"
"$GTRACE" status --json >st.json
python3 - <<'PY'
import json
s = json.load(open("st.json"))[0]
assert s["mode"] == "memory" and s["file"] is None, s
assert s["window"]["max_bytes"] == 2 << 20 and s["files"] == [], s
assert s["events"] >= 301, s
PY

# rotate has no file to close: refused, exit 2
set +e
"$GTRACE" rotate --op other 2>err.txt; rc=$?
set -e
[ "$rc" -eq 2 ] && grep -q "gtrace snapshot" err.txt || fail "rotate: rc $rc, $(cat err.txt)"

"$GTRACE" snapshot >snap1.txt
IFS=$'\t' read -r f1 size1 <snap1.txt
case "$f1" in "$GT_TMP"/TestLogs/flight_*.gtrace) ;; *) fail "snapshot 1 path: $f1" ;; esac
[ "$(stat -c %s "$f1")" -eq "$size1" ] || fail "snapshot 1 size $size1"

"$GTRACE" mark "after the first snapshot"
"$GT_BIN/gt_e2e" exit 7 || true
"$GTRACE" snapshot --op second >snap2.txt
IFS=$'\t' read -r f2 size2 <snap2.txt
case "$f2" in "$GT_TMP"/TestLogs/second_*.gtrace) ;; *) fail "snapshot 2 path: $f2" ;; esac

timeout 60 "$GTRACE" stop >stop.txt 2>stop.err
[ "$(cat stop.txt)" = "$(printf '%s\t%s\n%s\t%s' "$f1" "$size1" "$f2" "$size2")" ] ||
	fail "stop: $(cat stop.txt)"
grep -q "memory session 'memsess' stopped; its window (.* events) was discarded" stop.err ||
	fail "stop message: $(cat stop.err)"
[ "$(ls TestLogs | wc -l)" -eq 2 ] || fail "stop wrote a file: $(ls TestLogs)"
[ ! -e "$GT_SESS_ROOT/memsess" ] || fail "state directory left behind"

"$GTRACE" dump "$f1" --format json >one.json
"$GTRACE" dump "$f2" --format json >two.json
"$GTRACE" info --json "$f1" "$f2" >info.json
python3 - <<'PY'
import json
def load(f):
    return [json.loads(l) for l in open(f)]
one, two = load("one.json"), load("two.json")
def codes(evs):
    return [e["fields"]["code"] for e in evs if e["event"] == "Exiting"]
assert codes(one) == [5], codes(one)
assert codes(two) == [5, 7], codes(two)
marks = [e["fields"]["text"] for e in two if e["event"] == "mark"]
assert marks == ["after the first snapshot"], marks
assert not [e for e in one if e["event"] == "mark"]
assert len([e for e in one if e["event"] == "Noise"]) == 300
assert len([e for e in two if e["event"] == "Noise"]) == 300
info = json.load(open("info.json"))
assert [i["op"] for i in info] == ["flight", "second"], info
for i in info:
    assert i["meta"]["mode"] == "memory" and i["meta"]["session"] == "memsess", i["meta"]
    assert i["complete"] is True
PY

# snapshot of a file-mode session: refused, names the way out
sess_start --op filemode --dir TestLogs --name filesess
set +e
"$GTRACE" snapshot 2>err.txt; rc=$?
set -e
[ "$rc" -eq 2 ] && grep -q "start it with --mode memory" err.txt || fail "file-mode snapshot: rc $rc, $(cat err.txt)"
timeout 60 "$GTRACE" stop >/dev/null

# bad options of start
set +e
"$GTRACE" start --op x --mode memory --window 1T >/dev/null 2>err.txt; rc=$?
set -e
[ "$rc" -eq 2 ] && grep -q "bad --window '1T'" err.txt || fail "start --window 1T: rc $rc, $(cat err.txt)"
set +e
"$GTRACE" start --op x --window 4M >/dev/null 2>err.txt; rc=$?
set -e
[ "$rc" -eq 2 ] && grep -q "needs --mode memory" err.txt || fail "start --window alone: rc $rc, $(cat err.txt)"
exit 0
