#!/usr/bin/env bash
# One timeline: each user event stamped just before getppid() sorts before
# the kernel's sys_enter_getppid of that call, 10,000 of 10,000.
. "$GT_SRC/tests/cli/lib.sh"
. "$GT_SRC/tests/cli/kernel/kernel_lib.bash"
need_tracefs syscalls:sys_enter_getppid
op=ktimeline_$$
printf 'provider Test.E2E\nkernel syscalls:sys_enter_getppid\n' >k.prof
set +e
timeout 60 "$GTRACE" run --op "$op" --dir TestLogs --profile ./k.prof -- \
	"$GT_BIN/gt_e2e" syscalls 10000 >stdout.txt 2>stderr.txt
rc=$?
set -e
[ "$rc" -eq 0 ] || fail "gtrace run exited $rc: $(cat stderr.txt)"
no_instance_left "$op"
file=$(only_file TestLogs)
dump_json "$file"
python3 - <<'PY'
import json, sys
user = []   # i of each BeforeSyscall, in dump order
ok = 0
nk = 0
last_ts = -1
for line in open("dump.json"):
    e = json.loads(line)
    if e["ts"] < last_ts:
        sys.exit(f"FAIL: dump not in time order at {e}")
    last_ts = e["ts"]
    if e["provider"] == "Test.E2E" and e["event"] == "BeforeSyscall":
        user.append(e["fields"]["i"])
        tid = e["tid"]
    elif e["provider"] == "kernel.syscalls" and e["event"] == "sys_enter_getppid":
        # calls of the runtime (e.g. ASan) before the loop or on other threads do not count
        if not user or e["tid"] != tid:
            continue
        # the k-th syscall must come after BeforeSyscall k and before BeforeSyscall k+1
        if len(user) == nk + 1 and user[nk] == nk:
            ok += 1
        nk += 1
if user != list(range(10000)):
    sys.exit(f"FAIL: BeforeSyscall events: {len(user)}, in order: {user == sorted(user)}")
if nk != 10000 or ok != 10000:
    sys.exit(f"FAIL: sys_enter_getppid: {nk} recorded, {ok} of 10000 in place")
PY
