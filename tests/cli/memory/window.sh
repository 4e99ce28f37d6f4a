#!/usr/bin/env bash
# A window smaller than the trace: the oldest chunks are dropped whole, so
# the file starts later than the first event, says how much it dropped and
# from when it starts, and keeps one contiguous tail of the events ending
# with the last one.  Also: --timeout under memory mode (124) keeps the file.
. "$GT_SRC/tests/cli/lib.sh"

# 20000 Noise events of ~200 incompressible bytes: ~4 MB of chunks for a 1 MiB window.
# A 16 MiB ring holds all of them, so a collector starved by a busy machine
# loses none (a hole from a loss would hide a hole from a split chunk).
printf 'buffer ring_size=16M threads=4\n' >big.profile
set +e
timeout 60 "$GTRACE" run --op win --dir TestLogs --mode memory --keep always --window 1M \
	--profile ./big.profile -- \
	"$GT_BIN/gt_e2e" noise 20000 >stdout.txt 2>stderr.txt
rc=$?
set -e
[ "$rc" -eq 0 ] || fail "expected exit 0, got $rc: $(cat stderr.txt)"
f=$(only_file TestLogs)
size=$(stat -c %s "$f")
# at most the window plus one chunk (a chunk is never split), plus header/footer
[ "$size" -lt $((3 << 20)) ] || fail "file of $size bytes for a 1 MiB window"
"$GTRACE" info --json "$f" >info.json
dump_json "$f"
python3 - <<'PY'
import json
info = json.load(open("info.json"))
m = info["meta"]
assert m["mode"] == "memory" and m["window_bytes"] == str(1 << 20), m
dropped_chunks = int(m["window_evicted_chunks"])
dropped = int(m["window_evicted_events"])
assert dropped_chunks > 0 and dropped > 0, m
assert info["complete"] is True, info
evs = [json.loads(l) for l in open("dump.json")]
assert len(evs) == info["events"], (len(evs), info["events"])
seq = [e["fields"]["seq"] for e in evs if e["event"] == "Noise"]
assert seq, "no Noise event kept"
# the last event is there, the kept ones are one contiguous tail: whole chunks were dropped
assert seq[-1] == 19999, seq[-1]
assert seq == list(range(seq[0], 20000)), "hole in the kept sequence numbers"
assert seq[0] > 0, "nothing dropped from the start"
# every Noise event not in the file was dropped with a whole chunk (plus the
# collector's own process/start event, which came first)
lost = info["lost"]
assert lost == 0, "events lost in the ring: %d" % lost
assert seq[0] <= dropped <= seq[0] + 1, (seq[0], dropped)
# the file says from when it starts: no kept event is older than window_start_ns
start = int(m["window_start_ns"])
assert start > 0 and min(e["ts"] for e in evs) == start, (start, min(e["ts"] for e in evs))
PY
"$GTRACE" info "$f" >info.txt
grep -Eq "^window: +last 1.0 MiB of a memory session, [0-9]+ chunks \([0-9]+ events\) dropped before [0-9]+\.[0-9]{9} s" info.txt ||
	fail "info window line: $(grep window info.txt)"

# --timeout kills the command: 124, and with --keep failure the window is written
rm -rf TestLogs
set +e
timeout 60 "$GTRACE" run --op slow --dir TestLogs --mode memory --timeout 3 -- \
	sh -c '"$1" exit 0; touch started; exec sleep 30' sh "$GT_BIN/gt_e2e" >stdout.txt 2>stderr.txt
rc=$?
set -e
[ "$rc" -eq 124 ] || fail "timeout: expected 124, got $rc"
[ -e started ] || fail "timeout: the command had not emitted its event after 3 s (machine too slow?)"
f=$(only_file TestLogs)
"$GTRACE" info --json "$f" | python3 -c '
import json, sys
m = json.load(sys.stdin)["meta"]
assert m["timed_out"] == "1" and m["mode"] == "memory", m
'
"$GTRACE" dump "$f" | grep -q "Test.E2E/Exiting" || fail "timeout: the events before it are missing"
exit 0
