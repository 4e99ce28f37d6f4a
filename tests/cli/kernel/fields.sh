#!/usr/bin/env bash
# Kernel events carry named, typed fields from the kernel's own format.
. "$GT_SRC/tests/cli/lib.sh"
. "$GT_SRC/tests/cli/kernel/kernel_lib.bash"
need_tracefs sched:sched_switch
op=kfields_$$
printf 'kernel sched:sched_switch\n' >k.prof
set +e
timeout 60 "$GTRACE" run --op "$op" --dir TestLogs --profile ./k.prof -- \
	sh -c 'sleep 0.02; sleep 0.02' >stdout.txt 2>stderr.txt
rc=$?
set -e
[ "$rc" -eq 0 ] || fail "gtrace run exited $rc: $(cat stderr.txt)"
no_instance_left "$op"
file=$(only_file TestLogs)
dump_json "$file"
"$GTRACE" dump "$file" --event sched_switch >dump.txt
grep -q "prev_comm" dump.txt || fail "text dump lacks prev_comm: $(head -3 dump.txt)"
python3 - <<'PY'
import json, sys
sw = [e for e in map(json.loads, open("dump.json"))
      if e["provider"] == "kernel.sched" and e["event"] == "sched_switch"]
if not sw:
    sys.exit("FAIL: no sched_switch event")
for e in sw:
    f = e["fields"]
    for k, t in (("prev_comm", str), ("prev_pid", int), ("prev_prio", int),
                 ("prev_state", int), ("next_comm", str), ("next_pid", int), ("next_prio", int)):
        if not isinstance(f.get(k), t):
            sys.exit(f"FAIL: field {k} missing or not {t.__name__}: {f}")
    if any(k.startswith("common_") for k in f):
        sys.exit(f"FAIL: common_ fields leaked: {f}")
# the traced tree switched out: its own comm is there with its pid
if not any(e["fields"]["prev_comm"] in ("sh", "sleep") and e["fields"]["prev_pid"] == e["tid"]
           for e in sw):
    sys.exit("FAIL: no switch out of sh/sleep with prev_pid == tid")
PY
