#!/usr/bin/env bash
# The process tree from kernel events covers uninstrumented descendants:
# fork, exec (file name) and exit of every process, shown by gtrace info;
# exit codes come from sys_enter_exit_group where the kernel has syscall events.
. "$GT_SRC/tests/cli/lib.sh"
. "$GT_SRC/tests/cli/kernel/kernel_lib.bash"
need_tracefs sched:sched_process_fork sched:sched_process_exec sched:sched_process_exit
op=kproctree_$$
set +e
timeout 60 "$GTRACE" run --op "$op" --dir TestLogs --profile kernel -- \
	sh -c 'true; /bin/echo hi; sleep 0.1 & wait' >stdout.txt 2>stderr.txt
rc=$?
set -e
[ "$rc" -eq 0 ] || fail "gtrace run exited $rc: $(cat stderr.txt)"
[ "$(cat stdout.txt)" = hi ] || fail "stdout: $(cat stdout.txt)"
no_instance_left "$op"
file=$(only_file TestLogs)
"$GTRACE" info "$file" >info.txt
"$GTRACE" info --json "$file" >info.json
grep -q "^processes:    3$" info.txt || fail "info: $(cat info.txt)"
grep -Eq "^  [0-9]+ sh \(ppid [0-9]+\) exec /(usr/)?bin/sh exit 0$" info.txt || fail "info sh: $(cat info.txt)"
if grep -qx syscalls:sys_enter_exit_group /sys/kernel/tracing/available_events; then
	done_re="exit 0"
else
	done_re="exited"
fi
grep -Eq "^    [0-9]+ echo \(ppid [0-9]+\) exec /bin/echo $done_re$" info.txt || fail "info echo: $(cat info.txt)"
grep -Eq "^    [0-9]+ sleep \(ppid [0-9]+\) exec /(usr/)?bin/sleep $done_re$" info.txt || fail "info sleep: $(cat info.txt)"
! grep -q exit_group info.txt || fail "exit_group events in the file without being selected"

# a child's own exit code
set +e
timeout 60 "$GTRACE" run --op "$op" --dir TestLogs2 --profile kernel -- sh -c 'sh -c "exit 7"; true' \
	>stdout.txt 2>stderr.txt
set -e
if [ "$done_re" = "exit 0" ]; then
	"$GTRACE" info "$(only_file TestLogs2)" >info2.txt
	grep -Eq "^    [0-9]+ sh \(ppid [0-9]+\) exec /(usr/)?bin/sh exit 7$" info2.txt || fail "exit 7: $(cat info2.txt)"
fi
python3 - <<'PY'
import json, sys
d = json.load(open("info.json"))
d = d[0] if isinstance(d, list) else d
ps = d["processes"]
root = ps[0]
if root["comm"] != "sh" or not root["exec"].endswith("/sh") or root.get("status") != 0:
    sys.exit(f"FAIL: root: {root}")
kids = sorted(p["exec"] for p in ps[1:])
if len(ps) != 3 or kids[0] != "/bin/echo" or not kids[1].endswith("/sleep"):
    sys.exit(f"FAIL: children: {ps}")
if not all(p["ppid"] == root["pid"] and p["exited"] for p in ps[1:]):
    sys.exit(f"FAIL: children's ppid/exit: {ps}")
# the kernel events themselves are in the file too
names = {(e["provider"], e["event"]) for e in d["event_counts"]}
for want in ("sched_process_fork", "sched_process_exec", "sched_process_exit"):
    if ("kernel.sched", want) not in names:
        sys.exit(f"FAIL: no {want} in {names}")
PY
