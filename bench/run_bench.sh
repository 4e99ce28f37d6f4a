#!/bin/sh
# SPDX-License-Identifier: MIT
#
# run_bench.sh - gtrace's benchmarks, one table on stdout (docs/perf.md).
#
# usage: sh bench/run_bench.sh BUILD_DIR       (make bench: BUILD_DIR=build-bench, Release)
# Knobs (environment): BENCH_EVENTS events per thread per run (5000000),
# BENCH_RUNS runs per emit benchmark (5), BENCH_DISABLED_EVENTS (200000000),
# BENCH_SYNTH_EVENTS events in the largest synthetic file (100000000),
# BENCH_SCALE="1000000 10000000" the smaller scale points (synthetic files
# and captures; the largest is BENCH_SYNTH_EVENTS), BENCH_CONTROL_RUNS
# sessions per control-plane row (5), BENCH_SKIP_DEMO=1 to skip the demo
# pipeline, BENCH_SKIP_LTTNG=1 to skip the LTTng-UST rows (the gtrace half
# of every side-by-side row still runs), BENCH_LTTNG_EVENTS (1000000),
# BENCH_BURSTS bursts of 20,000 events in the 1-thread burst runs of both
# tracers (500: the 10,000,000 events whose size and full read are compared),
# CALLGRIND_EVENTS
# (200000, for the instruction rows of bench/callgrind.sh; skipped without
# valgrind).  The LTTng rows need liblttng-ust-dev (at build time),
# lttng-tools and babeltrace2; a session daemon is started if none runs,
# and stopped again afterwards.  Scratch files go to
# BUILD_DIR/bench-out (removed first).  Not a test: nothing here fails on a
# slow number; it fails only when a step itself fails.
set -u

B=${1:-build-bench}
GTRACE=$B/cli/gtrace
EMIT=$B/bench/bench_emit
SCAN=$B/bench/bench_scan
N=${BENCH_EVENTS:-5000000}
RUNS=${BENCH_RUNS:-5}
NDIS=${BENCH_DISABLED_EVENTS:-200000000}
BURSTS=${BENCH_BURSTS:-500}
NSYN=${BENCH_SYNTH_EVENTS:-100000000}
SCALE="${BENCH_SCALE-1000000 10000000} $NSYN"
NCP=${BENCH_CONTROL_RUNS:-5}
OUT=$B/bench-out
BENCH_DIR=$(cd "$(dirname "$0")" && pwd)
T_START=$(date +%s)

die() {
	echo "run_bench.sh: $*" >&2
	exit 1
}

for x in "$GTRACE" "$EMIT" "$SCAN"; do
	[ -x "$x" ] || die "missing '$x' (build $B first)"
done
command -v python3 >/dev/null 2>&1 || die "python3 is needed to read gtrace info --json"
rm -rf "$OUT"
mkdir -p "$OUT" || die "cannot create $OUT"
OUT=$(cd "$OUT" && pwd)
GTRACE=$(cd "$(dirname "$GTRACE")" && pwd)/gtrace

# key=value field $2 of bench line $1
val() {
	echo "$1" | tr ' ' '\n' | sed -n "s/^$2=//p"
}

# timed N CMD...: run CMD N times (output discarded), print the median wall time in ms
timed() {
	python3 - "$@" <<'PY'
import subprocess, sys, time
n, cmd = int(sys.argv[1]), sys.argv[2:]
t = []
for _ in range(n):
    t0 = time.perf_counter()
    if subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).returncode:
        sys.exit(1)
    t.append((time.perf_counter() - t0) * 1e3)
print("%.2f" % sorted(t)[n // 2])
PY
}

# meps EVENTS MS: millions of events per second
meps() {
	awk -v n="$1" -v ms="$2" 'BEGIN { printf "%.1f", (ms > 0 ? n / ms / 1000 : 0) }'
}

# info_events FILE [PROVIDER]: events in FILE (of PROVIDER only) per gtrace info --json
info_events() {
	"$GTRACE" info "$1" --json | python3 -c '
import json, sys
d = json.load(sys.stdin)
if isinstance(d, list):
    d = d[0]
if len(sys.argv) > 1 and sys.argv[1]:
    print(sum(p.get("events", 0) for p in d.get("providers", []) if p.get("provider") == sys.argv[1]))
elif isinstance(d.get("events"), int):
    print(d["events"])
else:
    sys.exit("no event count in gtrace info --json")' "${2:-}"
}

TABLE=$OUT/table.txt
VERSUS=$OUT/versus.txt
# row TITLE RESULT DETAIL: one line of the table; the load average (1 min)
# at the time goes at the end of the detail, since the machine is shared
row() {
	printf '%-40s %16s   %s [load %s]\n' "$1" "$2" "$3" "$(cut -d' ' -f1 /proc/loadavg)" >>"$TABLE"
}
# vs_row WHAT GTRACE LTTNG RATIO: one line of the side-by-side table
vs_row() {
	printf '%-44s %18s %18s   %s\n' "$1" "$2" "$3" "$4" >>"$VERSUS"
}

echo "run_bench.sh: $(nproc) cores, $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1), kernel $(uname -r)"
echo "run_bench.sh: emit: $RUNS runs x $N events/thread; disabled: $NDIS events"

# ---- enabled emit cost, 1 and 2 threads, in a real session ----
# emit_row TITLE OP THREADS EVENTS RUNS PAUSE_MS [MEV_PER_S]: bench_emit under
# gtrace run (paced at MEV_PER_S million events/s per thread if given), plus
# how many of the events the file holds (the rest were dropped).
emit_row() {
	"$GTRACE" run --op "$2" --dir "$OUT" -- "$EMIT" -t "$3" -n "$4" -r "$5" -p "$6" \
		-R "${7:-0}" -l "$2" >"$OUT/$2.txt" || die "bench_emit ($2) failed under gtrace run"
	line=$(grep '^bench_emit' "$OUT/$2.txt")
	f=$(ls "$OUT/$2"_*.gtrace)
	want=$(($5 * ($4 + 1) * $3))
	got=$(info_events "$f" Bench.Emit) || die "gtrace info --json failed on $f"
	if [ "${7:-0}" != 0 ]; then
		row "$1" "$(awk "BEGIN { printf \"%.1f %% kept\", 100 * $got / $want }")" \
			"$(val "$line" rate_meps) M ev/s offered; recorded $got of $want ($((want - got)) dropped)"
	else
		row "$1" "$(val "$line" median_ns) ns/ev" \
			"min $(val "$line" min_ns) max $(val "$line" max_ns); $(val "$line" rate_meps) M ev/s total; recorded $got of $want ($((want - got)) dropped)"
	fi
}
# bursts that fit the default ring, with a pause to drain: real writes, no drops
emit_row "emit enabled, 1 thr, 20k bursts" burst_1t 1 20000 "$BURSTS" 20
file_burst=$f
ns_burst=$(val "$line" median_ns)
emit_row "emit enabled, 2 thr, 20k bursts" burst_2t 2 20000 51 20
# sustained: N events per thread per run, as fast as possible
emit_row "emit enabled, 1 thr, sustained" emit_1t 1 "$N" "$RUNS" 0
emit_row "emit enabled, 2 thr, sustained" emit_2t 2 "$N" "$RUNS" 0
file_emit=$f
# the capture target: 2 threads x 10 M events/s for one second, default buffers
emit_row "capture 2 thr x 10 M ev/s, 1 s" paced_2t 2 10000000 1 0 10

# ---- disabled emit cost: no session, and a session whose profile disables the provider ----
line=$(env -u GTRACE_SESSION "$EMIT" -t 1 -n "$NDIS" -r "$RUNS" -l nosession) || die "bench_emit (no session) failed"
row "emit, no session" "$(val "$line" median_ns) ns/ev" "min $(val "$line" min_ns) max $(val "$line" max_ns)"
cat >"$OUT/off.profile" <<'P'
# everything but the benchmark's provider
provider * level=verbose
provider Bench.Emit level=off
P
"$GTRACE" run --op emit_off --dir "$OUT" --profile "$OUT/off.profile" -- \
	"$EMIT" -t 1 -n "$NDIS" -r "$RUNS" -l profile_off >"$OUT/emit_off.txt" || die "bench_emit (profile off) failed"
line=$(grep '^bench_emit' "$OUT/emit_off.txt")
f=$(ls "$OUT"/emit_off_*.gtrace)
row "emit, session, provider disabled" "$(val "$line" median_ns) ns/ev" \
	"min $(val "$line" min_ns) max $(val "$line" max_ns); Bench.Emit events in file: $(info_events "$f" Bench.Emit)"

# ---- instructions per event (callgrind): stable where the times above are not ----
if command -v valgrind >/dev/null 2>&1; then
	cg=$(GTRACE=$GTRACE sh "$(dirname "$0")/callgrind.sh" "$B" 2>"$OUT/callgrind.err")
	if [ -n "$cg" ]; then
		cg_loop=$(echo "$cg" | sed -n 's/^callgrind loop .*instr_per_event=\([0-9.]*\).*/\1/p')
		for w in enabled disabled; do
			l=$(echo "$cg" | grep "^callgrind $w ")
			row "emit $w, instructions (callgrind)" "$(val "$l" net) instr/ev" \
				"$(val "$l" instr_per_event) with the benchmark loop ($cg_loop alone)"
		done
	else
		row "emit, instructions (callgrind)" "failed" "see $OUT/callgrind.err"
	fi
else
	row "emit, instructions (callgrind)" "skipped" "needs valgrind"
fi

# ---- files: size, full scan, info ----
# The emit file holds what the collector kept; the synthetic file (written
# through the format writer by bench_scan -g) has a known size.
f=$file_emit
line=$("$SCAN" -t 2 -r 3 "$f") || die "bench_scan failed on $f"
row "emit 2-thread file: size" "$(val "$line" bytes_per_event) B/ev" \
	"$(val "$line" events) events, $(val "$line" bytes) bytes"
row "emit 2-thread file: full scan, 2 thr" "$(val "$line" best_meps) M ev/s" \
	"best of 3, median $(val "$line" median_meps); every field read"
# ---- scale: synthetic files of 1 M, 10 M, 100 M events (the format writer) ----
# size must grow linearly; `gtrace info --no-verify` (footer only) must stay
# flat; `gtrace info` (default) also hashes every chunk, so it grows with
# the file; the full scan's speed must hold.
for n in $SCALE; do
	syn=$OUT/synthetic_$n.gtrace
	"$SCAN" -g "$syn" -n "$n" >/dev/null || die "bench_scan -g -n $n failed"
	if [ "$n" = "$NSYN" ]; then
		threads="1 2"
	else
		threads=2
	fi
	for t in $threads; do
		line=$("$SCAN" -t "$t" -r 3 "$syn") || die "bench_scan -t $t failed on $syn"
		row "synthetic $n: full scan, $t thr" "$(val "$line" best_meps) M ev/s" \
			"bench_scan best of 3, median $(val "$line" median_meps); $(val "$line" events) events"
		# the full read as a user runs it: the whole `gtrace stats` process
		ms=$(timed 5 "$GTRACE" stats --threads "$t" "$syn") || die "gtrace stats failed on $syn"
		row "synthetic $n: gtrace stats, $t thr" "$(meps "$n" "$ms") M ev/s" \
			"median of 5, whole process ($ms ms); every event decoded and summed"
	done
	row "synthetic $n: size" "$(val "$line" bytes_per_event) B/ev" "$(val "$line" bytes) bytes"
	ms=$(timed 5 "$GTRACE" info "$syn") || die "gtrace info failed on $syn"
	row "gtrace info, $n-event file" "$ms ms" "median of 5, whole process; verifies every chunk's checksum"
	ms=$(timed 5 "$GTRACE" info --no-verify "$syn") || die "gtrace info --no-verify failed on $syn"
	row "gtrace info --no-verify, $n-event file" "$ms ms" "median of 5, whole process; footer only"
	[ "$n" = "$NSYN" ] || rm -f "$syn"
done

# ---- scale: the collector's peak memory while capturing 1 M, 10 M, 100 M events ----
# gtrace run's own process (collector, writer thread), VmHWM sampled every
# 2 ms by bench_rss.py; bench_emit emits as fast as it can, so at default
# buffers most events are dropped at the ring (counted in the file).
for n in $SCALE; do
	line=$(python3 "$BENCH_DIR/bench_rss.py" "$GTRACE" run --op "rss_$n" --dir "$OUT/rss" -- \
		"$EMIT" -t 1 -n "$n" -r 1 -l "rss_$n") || die "gtrace run (rss $n) failed"
	f=$(ls "$OUT/rss/rss_$n"_*.gtrace)
	got=$(info_events "$f" Bench.Emit) || die "gtrace info --json failed on $f"
	row "collector peak RSS, $n events emitted" "$(($(val "$line" peak_kb) / 1024)) MiB" \
		"VmHWM of gtrace run; recorded $got, $(wc -c <"$f") bytes, $(val "$line" wall_ms) ms"
	rm -f "$f"
done

# ---- gtrace run around an uninstrumented command ----
# bare and wrapped runs alternate, so a change in the machine's load hits both
line=$(python3 - "$GTRACE" "$OUT/run" <<'PY'
import subprocess, sys, time
gt, d = sys.argv[1], sys.argv[2]
base, wrap = [], []
for _ in range(21):
    for cmd, acc in ((["/bin/true"], base), ([gt, "run", "--op", "true", "--dir", d, "--", "/bin/true"], wrap)):
        t0 = time.perf_counter()
        if subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).returncode:
            sys.exit(1)
        acc.append((time.perf_counter() - t0) * 1e3)
base.sort()
wrap.sort()
print("base=%.2f wrapped=%.2f added=%.2f" % (base[10], wrap[10], wrap[10] - base[10]))
PY
) || die "gtrace run -- /bin/true failed"
row "gtrace run -- /bin/true, added" "$(val "$line" added) ms" \
	"median of 21 (alternating): $(val "$line" wrapped) ms vs $(val "$line" base) ms bare"
[ "$(ls "$OUT/run" | wc -l)" -eq 21 ] || die "gtrace run -- /bin/true did not leave 21 files"
rm -rf "$OUT/run"

# ---- control plane of a long-lived session (bench_control.py; LTTng side below) ----
python3 "$BENCH_DIR/bench_control.py" gtrace "$GTRACE" "$EMIT" "$OUT/control" "$NCP" \
	>"$OUT/control_gtrace.txt" || die "bench_control.py gtrace failed"
# cp_ms SIDE ROW: median ms of a control-plane row
cp_ms() {
	sed -n "s/^control $1 $2 median_ms=\([0-9.]*\) .*/\1/p" "$OUT/control_$1.txt"
}
for r in ready first_event rotate rotate_collector stop; do
	row "session $r (gtrace)" "$(cp_ms gtrace $r) ms" "median of $(sed -n "s/^control gtrace $r .* n=//p" "$OUT/control_gtrace.txt") (bench_control.py)"
done

# ---- LTTng-UST 2.13 side by side: same payload, same machine, same run ----
# lt_run NAME ARGS...: bench_lttng ARGS in a fresh LTTng session writing to
# $OUT/lttng_NAME; sets $line and $lt_dir.
lt_run() {
	lt_dir=$OUT/lttng_$1
	lt_sess=gtbench_$1_$$
	shift
	lttng create "$lt_sess" --output="$lt_dir" >/dev/null &&
		lttng enable-event -u 'gtbench:*' -s "$lt_sess" >/dev/null &&
		lttng start "$lt_sess" >/dev/null || return 1
	line=$("$LT" "$@")
	rc=$?
	lttng stop "$lt_sess" >/dev/null
	lttng destroy "$lt_sess" >/dev/null
	return $rc
}

lttng_bench() {
	lt_started=""
	if ! lttng list >/dev/null 2>&1; then
		lttng-sessiond --daemonize --no-kernel >/dev/null 2>&1 || {
			row "LTTng-UST side by side" "skipped" "lttng-sessiond does not start"
			return 0
		}
		for pf in /var/run/lttng/lttng-sessiond.pid "$HOME/.lttng/lttng-sessiond.pid"; do
			[ -r "$pf" ] && lt_started=$(cat "$pf") && break
		done
	fi
	if lt_run burst -t 1 -n 20000 -r "$BURSTS" -p 20; then
		want=$((BURSTS * 20001))
		bt_err=$(babeltrace2 --output-format=dummy "$lt_dir" 2>&1 >/dev/null)
		disc=$(echo "$bt_err" | sed -n 's/.*[Tt]racer discarded \([0-9]*\) events.*/\1/p' |
			awk '{ s += $1 } END { print s + 0 }')
		got=$((want - disc))
		lt_ns=$(val "$line" median_ns)
		row "LTTng-UST, 1 thr, 20k bursts" "$lt_ns ns/ev" \
			"min $(val "$line" min_ns); gtrace is $(awk "BEGIN { printf \"%.1fx\", $lt_ns / $ns_burst }") faster; $disc discarded"
		vs_lt_ns=$lt_ns
		lt_bytes=$(du -sb "$lt_dir" | cut -f1)
		gt_bytes=$(wc -c <"$file_burst")
		row "LTTng CTF size, same events" "$(awk "BEGIN { printf \"%.2f\", $lt_bytes / $got }") B/ev" \
			"$lt_bytes bytes; gtrace file $gt_bytes bytes = 1/$(awk "BEGIN { printf \"%.0f\", $lt_bytes / $gt_bytes }") of it"
		vs_lt_bytes=$lt_bytes
		ms=$(timed 3 babeltrace2 --output-format=dummy "$lt_dir") || ms=0
		lt_meps=$(awk "BEGIN { printf \"%.2f\", ($ms > 0 ? $got / $ms / 1000 : 0) }")
		# both sides whole processes, median of 3: `gtrace stats` decodes and sums every event
		gms=$(timed 3 "$GTRACE" stats "$file_burst") || die "gtrace stats failed on $file_burst"
		gt_meps=$(meps "$(info_events "$file_burst")" "$gms")
		row "babeltrace2 -o dummy, same events" "$lt_meps M ev/s" \
			"median of 3; gtrace stats (2 thr) $gt_meps M ev/s = $(awk "BEGIN { printf \"%.0fx\", ($lt_meps > 0 ? $gt_meps / $lt_meps : 0) }")"
		vs_lt_meps=$lt_meps
		vs_gt_meps=$gt_meps
	else
		row "LTTng-UST side by side" "failed" "lttng session or bench_lttng failed"
	fi
	if lt_run sustained -t 1 -n "$NLT" -r 3; then
		row "LTTng-UST, 1 thr, sustained" "$(val "$line" median_ns) ns/ev" \
			"min $(val "$line" min_ns); $NLT events x 3 runs"
	fi
	if python3 "$BENCH_DIR/bench_control.py" lttng "$LT" "$OUT/control_lt" "$NCP" \
		>"$OUT/control_lttng.txt" 2>"$OUT/control_lttng.err"; then
		for r in ready first_event rotate stop; do
			row "session $r (LTTng)" "$(cp_ms lttng $r) ms" "median of $NCP sessions (bench_control.py)"
		done
	else
		row "session control (LTTng)" "failed" "see $OUT/control_lttng.err"
		: >"$OUT/control_lttng.txt"
	fi
	if [ -n "$lt_started" ]; then
		# the session daemon this script started, and only that one
		kill "$lt_started" 2>/dev/null
		for _ in 1 2 3 4 5 6 7 8 9 10; do
			kill -0 "$lt_started" 2>/dev/null || break
			sleep 0.5
		done
	fi
}

LT=$B/bench/bench_lttng
NLT=${BENCH_LTTNG_EVENTS:-1000000}
if [ "${BENCH_SKIP_LTTNG:-0}" != 1 ] && [ -x "$LT" ] && command -v lttng >/dev/null 2>&1 &&
	command -v lttng-sessiond >/dev/null 2>&1 && command -v babeltrace2 >/dev/null 2>&1; then
	lttng_bench
elif [ "${BENCH_SKIP_LTTNG:-0}" = 1 ]; then
	row "LTTng-UST side by side" "skipped" "BENCH_SKIP_LTTNG=1"
else
	row "LTTng-UST side by side" "skipped" "needs liblttng-ust-dev (at build time), lttng-tools, babeltrace2"
fi

# ---- the side-by-side table: one row per comparison, ratio = how many times better gtrace is ----
# ratio A B WORD: "A/B WORD" with one decimal, or "-" when either is missing or zero
ratio() {
	awk -v a="${1:-0}" -v b="${2:-0}" -v w="$3" \
		'BEGIN { if (a + 0 > 0 && b + 0 > 0) printf "%.1fx %s", a / b, w; else printf "-" }'
}
lt_or_skip() {
	if [ -n "$1" ]; then echo "$1 $2"; else echo "skipped"; fi
}
vs_row "enabled event, 1 thr, 20k bursts (median)" "$ns_burst ns" "$(lt_or_skip "${vs_lt_ns:-}" ns)" \
	"$(ratio "${vs_lt_ns:-}" "$ns_burst" faster)"
gt_bytes=$(wc -c <"$file_burst")
vs_row "size of the same 20k-burst events" "$gt_bytes B" "$(lt_or_skip "${vs_lt_bytes:-}" B)" \
	"$(ratio "${vs_lt_bytes:-}" "$gt_bytes" smaller)"
if [ -n "${vs_gt_meps:-}" ]; then
	vs_row "decode every event (gtrace stats / babeltrace2)" "$vs_gt_meps M ev/s" "$vs_lt_meps M ev/s" \
		"$(ratio "$vs_gt_meps" "$vs_lt_meps" faster)"
else
	vs_row "decode every event (gtrace stats / babeltrace2)" "see table" "skipped" "-"
fi
for r in ready first_event rotate stop; do
	lt=""
	[ -s "$OUT/control_lttng.txt" ] && lt=$(cp_ms lttng $r)
	vs_row "session $r (median, $NCP sessions)" "$(cp_ms gtrace $r) ms" "$(lt_or_skip "$lt" ms)" \
		"$(ratio "$lt" "$(cp_ms gtrace $r)" faster)"
done

# ---- the demo pipeline: bytes/event ----
if [ "${BENCH_SKIP_DEMO:-0}" != 1 ] && [ -x "$B/examples/demo/pf_setup" ]; then
	here=$(pwd)
	src=$(cd "$(dirname "$0")/.." && pwd)
	demo_bin=$(cd "$B/examples/demo" && pwd)
	mkdir -p "$OUT/demo" || die "cannot create $OUT/demo"
	cd "$OUT/demo" || exit 1
	GTRACE=$GTRACE DEMO_BIN=$demo_bin sh "$src/examples/demo/run_demo.sh" >demo.log 2>&1 ||
		die "demo pipeline failed (see $OUT/demo/demo.log)"
	total_ev=0
	total_b=0
	for f in TestLogs/*.gtrace; do
		total_ev=$((total_ev + $(info_events "$f")))
		total_b=$((total_b + $(wc -c <"$f")))
	done
	cd "$here" || exit 1
	row "demo pipeline, 5 files" "$(awk "BEGIN { printf \"%.2f\", $total_b / $total_ev }") B/ev" \
		"$total_ev events, $total_b bytes"
fi

echo
printf '%-40s %16s   %s\n' "benchmark" "result" "detail"
printf '%-40s %16s   %s\n' "---------" "------" "------"
cat "$TABLE"
echo
printf '%-44s %18s %18s   %s\n' "gtrace vs LTTng-UST 2.13" "gtrace" "LTTng-UST" "ratio"
printf '%-44s %18s %18s   %s\n' "------------------------" "------" "---------" "-----"
cat "$VERSUS"
echo
echo "run_bench.sh: $(($(date +%s) - T_START)) s; load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
