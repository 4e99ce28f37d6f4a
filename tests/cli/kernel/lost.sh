#!/usr/bin/env bash
# Kernel losses are counted per CPU: 200,000 getppid() calls, recorded +
# lost == 200,000, with the default buffers and with tiny ones.
. "$GT_SRC/tests/cli/lib.sh"
. "$GT_SRC/tests/cli/kernel/kernel_lib.bash"
need_tracefs syscalls:sys_enter_getppid
# N: the program's calls (its runtime may add a few, e.g. under ASan)
check() {
	local kb=$1 n=$2 op=klost_${1}_${2}_$$
	rm -rf TestLogs
	{ echo "kernel syscalls:sys_enter_getppid"; [ "$kb" = 0 ] || echo "kernel buffer_kb=$kb"; } >k.prof
	set +e
	timeout 60 "$GTRACE" run --op "$op" --dir TestLogs --profile ./k.prof -- \
		"$GT_BIN/gt_e2e" getppid "$n" >stdout.txt 2>stderr.txt
	rc=$?
	set -e
	[ "$rc" -eq 0 ] || fail "gtrace run exited $rc: $(cat stderr.txt)"
	no_instance_left "$op"
	file=$(only_file TestLogs)
	"$GTRACE" info --json "$file" >info.json
	"$GTRACE" info "$file" >info.txt
	grep -Eq "^kernel lost:  cpu0=[0-9]+" info.txt || fail "info: no kernel lost line: $(cat info.txt)"
	python3 - "$kb" "$n" <<'PY'
import json, sys
kb, n = sys.argv[1], int(sys.argv[2])
d = json.load(open("info.json"))
d = d[0] if isinstance(d, list) else d
rec = sum(e["events"] for e in d["event_counts"]
          if e["provider"] == "kernel.syscalls" and e["event"] == "sys_enter_getppid")
lost = sum(d["kernel_lost"].values())
if n == 0:
    if rec + lost > 16:
        sys.exit(f"FAIL: {rec + lost} getppid() calls by a program that makes none")
    open("base.txt", "w").write(str(rec + lost))
    sys.exit(0)
base = int(open("base.txt").read())
if rec + lost != n + base:
    sys.exit(f"FAIL: buffer_kb={kb}: recorded {rec} + lost {lost} != {n} (+ {base} by the runtime)")
# per-CPU kernel losses also reach the footer's lost table (pid 0, tid = CPU)
if sum(l["count"] for l in d["lost_by_thread"] if l["pid"] == 0) != lost:
    sys.exit(f"FAIL: lost table {d['lost_by_thread']} vs kernel_lost {d['kernel_lost']}")
print(f"buffer_kb={kb}: recorded {rec}, lost {lost}, runtime {base}")
PY
}
check 0 0
check 0 200000
check 8 200000
