#!/bin/bash
# Fault (a): `gtrace run` (and with it the collector) is SIGKILLed in the
# middle of a traced command.  The command runs on unblocked and keeps
# printing (the output relay passes its output through), exits with its own
# status (7, recorded by a wrapper shell); the file is readable up to its
# last whole chunk, and `gtrace repair` makes it complete with exactly the
# events the recovering reader saw.
source "$(dirname "$0")/../lib.sh"
E="$GT_BIN/gt_e2e"
relay=""
cleanup() {
	# the relay and the command end by themselves; make sure of it
	[ -n "$relay" ] && kill -9 "$relay" 2>/dev/null
	# the killed collector could not remove its session socket
	[ -s sess ] && rm -f "$(cat sess)"
	true
}
trap cleanup EXIT

# 60000 events/s for 2 s (~28 bytes each): a 1 MiB chunk is sealed about
# every 0.6 s, so a kill at ~1.5 s leaves sealed chunks and an open one.
# Then 20 lines more, a marker, exit 7; the wrapper writes the status to rc.
"$GTRACE" run --op victim --dir TestLogs -- sh -c '
	echo "$GTRACE_SESSION" >sess
	sh -c "\"\$0\" numbered 1 60000 2 && i=0 && while [ \$i -lt 20 ]; do echo after \$i; i=\$((i + 1)); sleep 0.05; done && touch marker; exit 7" "$0"
	echo $? >rc' "$E" >out.txt 2>err.txt &
gpid=$!
# wait until the command emits, then kill gtrace
for _ in $(seq 100); do
	[ -n "$(ls TestLogs 2>/dev/null)" ] && [ "$(stat -c %s TestLogs/*.gtrace 2>/dev/null || echo 0)" -gt 64 ] && break
	sleep 0.05
done
for p in $(pgrep -P "$gpid"); do
	[ "$(cat "/proc/$p/comm" 2>/dev/null)" = gtrace-relay ] && relay=$p
done
[ -n "$relay" ] || fail "no output relay child of gtrace run"
kill -9 "$gpid"
wait "$gpid" 2>/dev/null || true
SECONDS=0
while [ ! -e rc ] && [ "$SECONDS" -lt 30 ]; do sleep 0.1; done
[ -e rc ] || fail "the command did not finish within 30 s of the kill: blocked?"
[ "$(cat rc)" = 7 ] || fail "command status $(cat rc), expected 7 (141 = SIGPIPE)"
[ -e marker ] || fail "the command did not run to its end"
grep -qx 'after 19' out.txt || fail "output after the kill lost: $(tail -3 out.txt)"
grep -qE '^thread 0 emitted [0-9]+$' out.txt || fail "gt_e2e's own output lost"
# the relay ends once the command's pipes close
for _ in $(seq 50); do kill -0 "$relay" 2>/dev/null || break; sleep 0.1; done
! kill -0 "$relay" 2>/dev/null || fail "output relay $relay still running"
relay=""

file=$(only_file TestLogs)
timeout 60 "$GTRACE" info --json "$file" >before.json || fail "info on the cut file"
read -r complete events < <(python3 -c '
import json; j = json.load(open("before.json")); print(j["complete"], j["events"])')
[ "$complete" = False ] || fail "a killed run's file says complete"
[ "$events" -gt 0 ] || fail "no whole chunk survived the kill"
timeout 60 "$GTRACE" dump "$file" --format json >before.events 2>dump.err || fail "dump of the cut file"
[ "$(wc -l <before.events)" -eq "$events" ] || fail "dump $(wc -l <before.events) events, info $events"
python3 - <<'PY'
import json
seqs = [json.loads(l)["fields"]["seq"] for l in open("before.events")
        if json.loads(l)["event"] == "Num"]
assert seqs and sorted(seqs) == list(range(len(seqs))), "survivors are not a clean prefix"
PY
timeout 60 "$GTRACE" repair "$file" >repair.txt || fail "repair: $(cat repair.txt)"
grep -qE "^repaired $file: [0-9]+ chunks, $events events kept; [0-9]+ bytes dropped at offset [0-9]+$" repair.txt ||
	fail "repair line: $(cat repair.txt)"
timeout 60 "$GTRACE" info "$file" >info.txt || fail "info after repair"
grep -qx 'complete:     yes' info.txt || fail "not complete after repair: $(grep complete info.txt)"
grep -qE "^events: +$events\$" info.txt || fail "events after repair: $(grep events: info.txt)"
timeout 60 "$GTRACE" dump "$file" --format json >after.events || fail "dump after repair"
cmp -s before.events after.events || fail "repair changed the events"
exit 0
