#!/usr/bin/env bash
# Soak (docs/reliability.md, "no leaks"; outside CI, `make soak`): one
# long-lived `gtrace start` session serves WARMUP + ITERATIONS runs of gt_load
# (PROCS x THREADS for SECONDS each, every run checked for exact accounting
# with `gtrace rotate` giving each run its own file).  The collector's open
# file descriptors (/proc/PID/fd), resident memory outside its batch arenas
# (/proc/PID/smaps, tests/soak/heaprss.awk) and mapped segments
# (/proc/PID/maps lines with memfd:) are sampled after WARMUP warm-up runs
# and after the last run, once every producer is gone; the soak fails if
# they grew beyond the slack below.  Total VmRSS is printed too.
#
# usage: tests/soak/soak.sh BUILD_DIR
# env: SOAK_ITERATIONS (100), SOAK_PROCS (16), SOAK_THREADS (4),
#      SOAK_SECONDS (1), SOAK_WARMUP (10), SOAK_RSS_SLACK_KB (4096), SOAK_FD_SLACK (0),
#      SOAK_MAP_SLACK (0), SOAK_SAMPLE_EVERY (10)
set -euo pipefail
build=$(cd "${1:?usage: soak.sh BUILD_DIR}" && pwd)
here=$(cd "$(dirname "$0")" && pwd)
GTRACE=$build/cli/gtrace
LOAD=$build/tests/progs/gt_load
[ -x "$GTRACE" ] && [ -x "$LOAD" ] || { echo "soak: build $build first (gtrace, gt_load)" >&2; exit 2; }
iters=${SOAK_ITERATIONS:-100}
procs=${SOAK_PROCS:-16}
threads=${SOAK_THREADS:-4}
secs=${SOAK_SECONDS:-1}
# Slack: the collector's batch arenas (collector/batch.c: address space
# reserved once, touched as the backlog grows, given back only after a long
# quiet spell) make its VmRSS follow the deepest backlog so far, up to a few
# hundred MB at 16x4 full speed: bounded by design, so VmRSS is only
# printed.  Memory outside the arenas (malloc'd state: process table,
# schemas, segments' bookkeeping) may grow by at most 4 MiB after the
# warm-up; fds and segment mappings must come back exactly.
rss_slack=${SOAK_RSS_SLACK_KB:-4096}
warmup=${SOAK_WARMUP:-10}
fd_slack=${SOAK_FD_SLACK:-0}
map_slack=${SOAK_MAP_SLACK:-0}

# glibc keeps freed memory and raises its mmap threshold after large frees,
# so a collector's RSS would follow its peak backlog, not what it holds:
# fixed thresholds make freed blocks go back to the kernel (soak only).
export MALLOC_MMAP_THRESHOLD_=131072 MALLOC_TRIM_THRESHOLD_=131072
work=$(mktemp -d /tmp/gtsoak.XXXXXX)
export XDG_RUNTIME_DIR=$work/rt
mkdir -m 700 "$XDG_RUNTIME_DIR"
unset GTRACE_SESSION GTRACE_SESSION_NAME
cleanup() {
	timeout 60 "$GTRACE" stop --all >/dev/null 2>&1 || true
	rm -rf "$work"
}
trap cleanup EXIT
trap "exit 130" INT TERM
cd "$work"

out=$("$GTRACE" start --op soak_0 --dir "$work/logs" --name soak)
eval "$out"
cpid=$(cat "$XDG_RUNTIME_DIR/gtrace/sessions/soak/pid")

# sample: "fds rss_kb memfd_maps" of the collector, once its segments are gone
sample() {
	local n
	for _ in $(seq 100); do
		n=$(grep -c 'memfd:' "/proc/$cpid/maps" || true)
		[ "$n" -le "$map_slack" ] && break
		sleep 0.1
	done
	read -r tot arena < <(awk -f "$here/heaprss.awk" "/proc/$cpid/smaps")
	echo "$(ls "/proc/$cpid/fd" | wc -l) $((tot - arena)) $n $tot"
}

# one load run into its own file, checked, then the file is removed
run_once() {
	local i=$1 f
	rm -f counts.json
	timeout $((secs + 60)) "$LOAD" emit "$procs" "$threads" "$secs" counts.json ||
		{ echo "soak: iteration $i: gt_load emit failed or hung" >&2; exit 1; }
	timeout 60 "$GTRACE" rotate --op "soak_$((i + 1))" >/dev/null ||
		{ echo "soak: iteration $i: rotate failed" >&2; exit 1; }
	f=$(ls "$work"/logs/soak_"$i"_*.gtrace)
	env -u GTRACE_SESSION timeout 120 "$LOAD" check "$f" counts.json >>check.jsonl ||
		{ echo "soak: iteration $i: accounting check failed: $(tail -1 check.jsonl)" >&2; exit 1; }
	rm -f "$f"
}

start_s=$(date +%s)
for i in $(seq 0 $((warmup - 1))); do
	run_once "$i"
done
read -r fd0 rss0 map0 tot0 < <(sample)
echo "soak: collector $cpid after $warmup warm-up runs: fds $fd0, RSS outside arenas $rss0 kB" \
	"(VmRSS $tot0 kB), memfd maps $map0"
grep -E '^(VmHWM|RssAnon|RssFile|RssShmem)' "/proc/$cpid/status" | tr -s ' \t' ' ' | sed 's/^/soak:   /'
for i in $(seq "$warmup" $((warmup + iters - 1))); do
	run_once "$i"
	if [ $(((i - warmup + 1) % ${SOAK_SAMPLE_EVERY:-10})) -eq 0 ]; then
		read -r fd rss map tot < <(sample)
		echo "soak: iteration $((i - warmup + 1))/$iters: fds $fd, RSS outside arenas $rss kB" \
			"(VmRSS $tot kB), memfd maps $map"
	fi
done
read -r fd1 rss1 map1 tot1 < <(sample)
kill -0 "$cpid" || { echo "soak: the collector died" >&2; exit 1; }
echo "soak: collector after the last run: fds $fd1, RSS outside arenas $rss1 kB (VmRSS $tot1 kB)," \
	"memfd maps $map1"
grep -E '^(VmHWM|RssAnon|RssFile|RssShmem)' "/proc/$cpid/status" 2>/dev/null | tr -s ' \t' ' ' | sed 's/^/soak:   /' || true
timeout 120 "$GTRACE" stop >/dev/null
end_s=$(date +%s)
python3 - "$work/check.jsonl" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
e = sum(r["emitted"] for r in rows); rec = sum(r["recorded"] for r in rows); l = sum(r["lost"] for r in rows)
assert e == rec + l
print(f"soak: {len(rows)} runs, {e} events emitted = {rec} recorded + {l} lost, every thread exact")
PY
echo "soak: $warmup warm-up + $iters iterations of ${procs}x${threads} for ${secs} s in $((end_s - start_s)) s"
echo "soak: fds $fd0 -> $fd1 (delta $((fd1 - fd0)), slack $fd_slack)"
echo "soak: RSS outside arenas $rss0 -> $rss1 kB (delta $((rss1 - rss0)) kB, slack $rss_slack kB)"
echo "soak: VmRSS $tot0 -> $tot1 kB (delta $((tot1 - tot0)) kB, not checked: arenas)"
echo "soak: memfd maps $map0 -> $map1 (delta $((map1 - map0)), slack $map_slack)"
bad=0
[ $((fd1 - fd0)) -le "$fd_slack" ] || { echo "soak: FAIL: file descriptors leak" >&2; bad=1; }
[ $((rss1 - rss0)) -le "$rss_slack" ] || { echo "soak: FAIL: resident memory grows" >&2; bad=1; }
[ $((map1 - map0)) -le "$map_slack" ] || { echo "soak: FAIL: segment mappings leak" >&2; bad=1; }
[ "$bad" -eq 0 ] && echo "soak: PASS"
exit "$bad"
