#!/usr/bin/env bash
# Kernel events in a long-lived session (docs/kernel.md): the session's own
# ftrace instance follows the shell that ran `gtrace start` and its
# descendants, plus processes that join through GTRACE_SESSION; 20
# rotations while traced commands make system calls lose no kernel event,
# and every file declares the kernel schemas its events use; `gtrace stop`
# removes the instance.
. "$GT_SRC/tests/cli/lib.sh"
. "$GT_SRC/tests/cli/session/sess_lib.bash"
. "$GT_SRC/tests/cli/kernel/kernel_lib.bash"
need_tracefs syscalls:sys_enter_getppid sched:sched_process_exec
name=ksess_$$
name2=ksjoin_$$
trap 'sess_cleanup; rm_instances "$name"; rm_instances "$name2"' EXIT
printf 'kernel syscalls:sys_enter_getppid\nkernel sched:sched_process_exec\n' >k.prof

# no wrapper: `gtrace start` is a direct child of this shell, which is the tree's root
out=$("$GTRACE" start --op k0 --dir TestLogs --name "$name" --profile ./k.prof 2>start.err) ||
	fail "gtrace start: $(cat start.err)"
eval "$out"
grep -q warning start.err && fail "start warned: $(cat start.err)"
cpid=$(cat "$GT_SESS_ROOT/$name/pid")
[ -d "/sys/kernel/tracing/instances/gtrace_${name}_$cpid" ] ||
	fail "no instance gtrace_${name}_$cpid: $(ls /sys/kernel/tracing/instances)"
(
	n=0
	while [ ! -f stop.flag ]; do
		"$GT_BIN/gt_e2e" getppid 2000
		n=$((n + 1))
	done
	echo "$n" >iterations.txt
) &
loop=$!
for i in $(seq 1 20); do
	sleep 0.05
	"$GTRACE" rotate --op "k$i" >/dev/null || fail "rotation $i failed"
done
touch stop.flag
wait "$loop"
timeout 60 "$GTRACE" stop >stop.txt || fail "gtrace stop"
[ "$(wc -l <stop.txt)" -eq 21 ] || fail "stop listed $(wc -l <stop.txt) files"
no_instance_left "$name"
: >all.json
for f in TestLogs/*.gtrace; do
	"$GTRACE" dump "$f" --format json >one.json 2>dump.err || fail "dump $f: $(cat dump.err)"
	[ -s dump.err ] && fail "dump $f warned: $(cat dump.err)"
	sed "s|^|$f\t|" one.json >>all.json
done
"$GTRACE" info --json TestLogs/*.gtrace >info.json || fail "info"
python3 - <<'PY'
import json
iters = int(open("iterations.txt").read())
assert iters > 0
files, e2e, getppid = {}, set(), {}
for line in open("all.json"):
    f, ev = line.split("\t", 1)
    e = json.loads(ev)
    if not e["provider"].startswith("kernel."):
        continue
    files[f] = files.get(f, 0) + 1
    if e["event"] == "sched_process_exec":
        assert isinstance(e["fields"].get("filename"), str), e
        if e["fields"]["filename"].endswith("/gt_e2e"):
            e2e.add(e["pid"])
    elif e["event"] == "sys_enter_getppid":
        assert "__syscall_nr" in e["fields"], e
        getppid[e["pid"]] = getppid.get(e["pid"], 0) + 1
assert len(files) >= 10, f"kernel events in only {len(files)} of 21 files"
assert len(e2e) == iters, f"{len(e2e)} gt_e2e execs recorded, {iters} ran"
text, dec, pos, lost = open("info.json").read(), json.JSONDecoder(), 0, 0
while pos < len(text):
    while pos < len(text) and text[pos].isspace():
        pos += 1
    if pos >= len(text):
        break
    i, pos = dec.raw_decode(text, pos)
    for x in (i if isinstance(i, list) else [i]):
        lost += x["lost"] if isinstance(x["lost"], int) else x["lost"]["total"]
if lost == 0:
    bad = {p: getppid.get(p, 0) for p in e2e if getppid.get(p, 0) != 2000}
    assert not bad, f"getppid events per process not 2000: {bad}"
PY

# a process outside the shell's tree that joins through GTRACE_SESSION is followed
out=$(timeout 30 "$GTRACE" start --op j0 --dir J --name "$name2" --profile ./k.prof 2>start.err) ||
	fail "gtrace start: $(cat start.err)"
eval "$out" # the root is `timeout`, gone at once: only joined processes are traced
"$GT_BIN/gt_e2e" syscalls 50000 &
jpid=$!
wait "$jpid"
timeout 60 "$GTRACE" stop >stop2.txt || fail "gtrace stop"
no_instance_left "$name2"
"$GTRACE" dump "$(only_file J)" --format json >j.json || fail "dump J"
JPID=$jpid python3 - <<'PY'
import json, os
jpid = int(os.environ["JPID"])
k = [e for e in map(json.loads, open("j.json")) if e["event"] == "sys_enter_getppid"]
mine = [e for e in k if e["pid"] == jpid]
assert mine, f"no kernel event of the joined process {jpid} ({len(k)} kernel events)"
assert len(mine) <= 50000
PY
