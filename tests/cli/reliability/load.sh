#!/usr/bin/env bash
# Load (docs/reliability.md, "exact accounting under load"): 16 processes x
# 4 threads emit numbered events as fast as they can for 10 s through one
# `gtrace start` session.  No deadlock (every step has an outer timeout), and
# for every thread: emitted == recorded + lost exactly, its recorded seqs
# strictly increasing, no event or lost count of an unknown thread
# (gt_load check reads the file itself: tens of millions of events).
# GT_LOAD_PROCS / GT_LOAD_THREADS / GT_LOAD_SECONDS override the shape.
. "$GT_SRC/tests/cli/lib.sh"
. "$GT_SRC/tests/cli/session/sess_lib.bash"

procs=${GT_LOAD_PROCS:-16}
threads=${GT_LOAD_THREADS:-4}
secs=${GT_LOAD_SECONDS:-10}

sess_start --op load --dir TestLogs --name load
set +e
timeout $((secs + 60)) "$GT_BIN/gt_load" emit "$procs" "$threads" "$secs" counts.json
rc=$?
set -e
[ "$rc" -eq 0 ] || fail "gt_load emit exit $rc (124: deadlock, no progress within $((secs + 60)) s)"
[ "$(wc -l <counts.json)" -eq $((procs * threads)) ] || fail "counts.json: $(wc -l <counts.json) threads"
timeout 120 "$GTRACE" stop >stop.out || fail "gtrace stop did not finish"
unset GTRACE_SESSION
f=$(only_file TestLogs)
set +e
timeout 120 "$GT_BIN/gt_load" check "$f" counts.json >check.json
rc=$?
set -e
cat check.json
[ "$rc" -eq 0 ] || fail "accounting check failed (exit $rc)"
python3 - "$secs" <<'PY'
import json, sys
c = json.load(open("check.json"))
secs = float(sys.argv[1])
assert c["emitted"] > 0 and c["recorded"] > 0, c
assert c["emitted"] == c["recorded"] + c["lost"], c
print(f"load: {c['threads']} threads, {c['emitted'] / secs / 1e6:.2f} M emitted/s, "
      f"{c['recorded'] / secs / 1e6:.2f} M recorded/s, {c['lost'] / secs / 1e6:.2f} M lost/s")
PY
rm -rf TestLogs
[ -z "$(ls "$GT_SESS_ROOT")" ] || fail "session state left: $(ls "$GT_SESS_ROOT")"
