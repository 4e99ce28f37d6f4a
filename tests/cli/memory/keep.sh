#!/usr/bin/env bash
# gtrace run --mode memory: the file is written only when --keep says so
# (failure: non-zero exit, signal, timeout; always), the exit status is
# always the command's, and the file says it is a memory-mode window.
. "$GT_SRC/tests/cli/lib.sh"

# run_mem ARGS...: gtrace run --dir TestLogs ARGS, status in $rc
run_mem() {
	rm -rf TestLogs
	set +e
	timeout 60 "$GTRACE" run --dir TestLogs "$@" >stdout.txt 2>stderr.txt
	rc=$?
	set -e
}

# a failing command (exit 3): one file, its events, exit 3 kept (--keep failure is the default)
run_mem --op failing --mode memory -- "$GT_BIN/gt_e2e" exit 3
[ "$rc" -eq 3 ] || fail "failing: expected exit 3, got $rc: $(cat stderr.txt)"
f=$(only_file TestLogs)
case "$f" in TestLogs/failing_*.gtrace) ;; *) fail "failing: file name $f" ;; esac
grep -q "^gtrace: wrote $f (.*memory window 64.0 MiB" stderr.txt || fail "failing: summary: $(cat stderr.txt)"
"$GTRACE" info --json "$f" >info.json
dump_json "$f"
python3 - <<'PY'
import json
info = json.load(open("info.json"))
m = info["meta"]
assert m["mode"] == "memory" and m["window_bytes"] == str(64 << 20), m
assert m["window_evicted_chunks"] == "0" and m["window_evicted_events"] == "0", m
assert m["exit_status"] == "3" and m["op"] == "failing", m
assert info["complete"] is True and info["lost"] == 0, info
evs = [json.loads(l) for l in open("dump.json")]
ex = [e for e in evs if e["provider"] == "Test.E2E" and e["event"] == "Exiting"]
assert len(ex) == 1 and ex[0]["fields"]["code"] == 3, evs
names = {(e["provider"], e["event"]) for e in evs}
assert ("gtrace.process", "start") in names and ("gtrace.process", "exit") in names, names
assert info["events"] == len(evs), (info["events"], len(evs))
PY
"$GTRACE" info "$f" >info.txt
grep -q "^window: *last 64.0 MiB of a memory session, nothing dropped" info.txt || fail "info: $(cat info.txt)"

# a passing command: no file, exit 0, the summary says why
run_mem --op passing --mode memory --keep failure -- "$GT_BIN/gt_e2e" exit 0
[ "$rc" -eq 0 ] || fail "passing: expected exit 0, got $rc"
[ -d TestLogs ] && [ -z "$(ls TestLogs)" ] || fail "passing: files written: $(ls TestLogs)"
grep -q "^gtrace: no file written (command succeeded, --keep failure" stderr.txt ||
	fail "passing: summary: $(cat stderr.txt)"

# nothing on disk while the command runs, even with --keep always: the
# command emits its events, says so, and waits for the test to let it end
rm -rf TestLogs stop.flag started
timeout 60 "$GTRACE" run --op live --dir TestLogs --mode memory --keep always -- \
	sh -c '"$1" exit 0; touch started; while [ ! -e stop.flag ]; do sleep 0.05; done' sh \
	"$GT_BIN/gt_e2e" >stdout.txt 2>stderr.txt &
bg=$!
for _ in $(seq 400); do
	[ -e started ] && break
	sleep 0.05
done
[ -e started ] || fail "live: the command did not start within 20 s: $(cat stderr.txt)"
[ -d TestLogs ] && [ -z "$(ls TestLogs)" ] || fail "live: files while running: $(ls TestLogs)"
touch stop.flag
wait "$bg" || fail "live: gtrace run failed: $(cat stderr.txt)"
f=$(only_file TestLogs)
"$GTRACE" dump "$f" | grep -q "Test.E2E/Exiting .*code=0" || fail "live: no Exiting event in $f"

# --keep always with a passing command: a file
run_mem --op always --mode memory --keep always -- "$GT_BIN/gt_e2e" exit 0
[ "$rc" -eq 0 ] || fail "always: expected exit 0, got $rc"
f=$(only_file TestLogs)
"$GTRACE" dump "$f" | grep -q "Test.E2E/Exiting .*code=0" || fail "always: no Exiting event in $f"

# killed by a signal counts as a failure: 128+9, file kept
run_mem --op killed --mode memory -- "$GT_BIN/gt_e2e" killself 10
[ "$rc" -eq 137 ] || fail "killself: expected 137, got $rc"
f=$(only_file TestLogs)
[ "$("$GTRACE" dump "$f" --event BeforeKill | wc -l)" -eq 10 ] || fail "killself: events missing"

# a command that cannot be run (127) is a failure too
run_mem --op nosuch --mode memory -- ./no-such-command
[ "$rc" -eq 127 ] || fail "not found: expected 127, got $rc"
only_file TestLogs >/dev/null

# option errors name the value and what to do; exit 2, nothing run
for args in "--keep failure" "--window 8M" "--mode memory --keep sometimes" \
	"--mode memory --window 12Q" "--mode memory --window 512K" "--mode disk"; do
	run_mem $args -- touch ran
	[ "$rc" -eq 2 ] || fail "'$args': expected 2, got $rc"
	[ ! -e ran ] || fail "'$args': the command ran"
done
run_mem --keep always -- true
grep -q "needs --mode memory" stderr.txt || fail "--keep alone: $(cat stderr.txt)"
run_mem --mode memory --window 512K -- true
grep -q "bad --window '512K' (out of range" stderr.txt || fail "--window 512K: $(cat stderr.txt)"
run_mem --mode memory --window 12Q -- true
grep -q "bad --window '12Q' (not a size" stderr.txt || fail "--window 12Q: $(cat stderr.txt)"
run_mem --mode memory --keep sometimes -- true
grep -q "bad --keep 'sometimes'" stderr.txt || fail "--keep sometimes: $(cat stderr.txt)"
exit 0
