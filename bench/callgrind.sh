#!/bin/sh
# SPDX-License-Identifier: MIT
#
# callgrind.sh - instructions per GT_EVENT, counted by valgrind's callgrind.
#
# usage: sh bench/callgrind.sh BUILD_DIR
#
# Wall-clock numbers on a shared 2-core VM move by +-30 % from run to run;
# instruction counts do not.  This runs BUILD_DIR/bench/bench_emit under
# `valgrind --tool=callgrind --toggle-collect=bench_loop`, so only the
# measured loop is counted (with everything it calls: libgtrace, strlen),
# not the start-up, the thread's first event (slot claim, registration) or
# the timing calls.  Three runs of N events from one thread:
#
#   enabled   under `gtrace run` with a profile whose ring holds all N
#             events, so no event takes the drop path (checked against the
#             file with `gtrace info --json`);
#   disabled  with GTRACE_SESSION unset (a call site in a session whose
#             profile disables the provider runs the same instructions);
#   loop      bench_emit -b: the same loop without the event.
#
# Output: one line per run, "callgrind <what> instr_per_event=X
# net=Y", where X is the loop's instructions / N and Y is X minus the
# empty loop's (the event alone).  Knobs: CALLGRIND_EVENTS (200000),
# GTRACE (the gtrace binary; BUILD_DIR/cli/gtrace).  Scratch files go to
# BUILD_DIR/callgrind-out.  Needs valgrind and python3.
set -u

B=${1:-build-bench}
EMIT=$B/bench/bench_emit
GTRACE=${GTRACE:-$B/cli/gtrace}
N=${CALLGRIND_EVENTS:-200000}
OUT=$B/callgrind-out

die() {
	echo "callgrind.sh: $*" >&2
	exit 1
}

command -v valgrind >/dev/null 2>&1 || die "valgrind is not installed (apt-get install valgrind)"
command -v python3 >/dev/null 2>&1 || die "python3 is needed to read gtrace info --json"
for x in "$EMIT" "$GTRACE"; do
	[ -x "$x" ] || die "missing '$x' (build $B first)"
done
case $N in
'' | *[!0-9]*) die "CALLGRIND_EVENTS must be a number" ;;
esac
[ "$N" -ge 1000 ] || die "CALLGRIND_EVENTS must be at least 1000"
rm -rf "$OUT"
mkdir -p "$OUT" || die "cannot create $OUT"

# A ring that holds every event (header 16 + i64 8 + i32 4 + str 4+16 = 48
# bytes), rounded up to a power of two, at least the default 1 MiB.
ring=1048576
while [ "$ring" -lt $((N * 48 + 4096)) ]; do
	ring=$((ring * 2))
done
[ "$ring" -le 268435456 ] || die "CALLGRIND_EVENTS too large for one ring"
cat >"$OUT/cg.profile" <<P
provider * level=verbose
buffer ring_size=$ring threads=4
P

# total OUTFILE: instructions counted in a callgrind output file
total() {
	sed -n 's/^summary: *\([0-9]*\).*/\1/p;s/^totals: *\([0-9]*\).*/\1/p' "$1" | head -n 1
}

# cg NAME [bench_emit args]: run bench_emit's loop under callgrind
cg() {
	name=$1
	shift
	valgrind --tool=callgrind --toggle-collect=bench_loop --toggle-collect=bench_loop_empty \
		--callgrind-out-file="$OUT/$name.out" "$EMIT" -t 1 -n "$N" -r 1 -l "$name" "$@" \
		>"$OUT/$name.txt" 2>"$OUT/$name.log" ||
		die "valgrind $name failed (see $OUT/$name.log)"
}

unset GTRACE_SESSION
"$GTRACE" run --op cg_enabled --dir "$OUT" --profile "$OUT/cg.profile" -- \
	valgrind --tool=callgrind --toggle-collect=bench_loop \
	--callgrind-out-file="$OUT/enabled.out" "$EMIT" -t 1 -n "$N" -r 1 -l enabled \
	>"$OUT/enabled.txt" 2>"$OUT/enabled.log" ||
	die "valgrind under gtrace run failed (see $OUT/enabled.log)"
f=$(ls "$OUT"/cg_enabled_*.gtrace 2>/dev/null | head -n 1)
[ -n "$f" ] || die "gtrace run wrote no file"
got=$("$GTRACE" info "$f" --json | python3 -c '
import json, sys
d = json.load(sys.stdin)
d = d[0] if isinstance(d, list) else d
print(sum(p.get("events", 0) for p in d.get("providers", [])
          if p.get("provider") == "Bench.Emit"))') ||
	die "gtrace info --json failed on $f"
[ "$got" -eq $((N + 1)) ] ||
	die "the enabled run recorded $got of $((N + 1)) events: some took the drop path"
cg disabled
cg loop -b

loop=$(total "$OUT/loop.out")
for name in enabled disabled loop; do
	ins=$(total "$OUT/$name.out")
	[ -n "$ins" ] || die "no instruction total in $OUT/$name.out"
	awk -v n="$N" -v i="$ins" -v l="$loop" -v w="$name" 'BEGIN {
		printf "callgrind %-8s instr_per_event=%.2f net=%.2f\n", w, i / n, (i - l) / n }'
done
