#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# run_fuzz.sh - run every libFuzzer target of a -DGT_FUZZ=ON build for a set
# time each (`make fuzz` calls this), or merge what they found back into the
# seed corpora (`make fuzz-merge`).
#
#   tests/fuzz/run_fuzz.sh BUILD_DIR [SECONDS [TARGET...]]   fuzz
#   tests/fuzz/run_fuzz.sh --merge BUILD_DIR [TARGET...]     keep new coverage
#
# Each target fuzzes a working copy of its corpus, BUILD_DIR/fuzz-work/<t>/
# corpus (seeded from tests/fuzz/corpus/<t>/, kept between runs), so the
# files libFuzzer adds never land in git by themselves.  `--merge` adds to
# tests/fuzz/corpus/<t>/ only the inputs that reach code edges the seeds do
# not (libFuzzer -merge=1 -use_counters=0: new edges, not new hit counts);
# review and commit those.  A crash, leak, timeout or
# sanitizer report leaves BUILD_DIR/fuzz-work/<t>/crash-* (or leak-*,
# timeout-*, oom-*) and makes the script exit 1; once the bug is fixed, copy
# the file into tests/fuzz/corpus/<t>/ so fuzz.<t>.replay keeps it fixed.
#
# Environment: FUZZ_JOBS targets at a time (default: the number of CPUs),
# FUZZ_ARGS extra libFuzzer flags.
set -u
here=$(cd "$(dirname "$0")" && pwd)
merge=0
if [ "${1:-}" = "--merge" ]; then
	merge=1
	shift
fi
build=${1:?usage: run_fuzz.sh [--merge] BUILD_DIR [SECONDS [TARGET...]]}
shift
secs=60
if [ $merge = 0 ] && [ $# -gt 0 ]; then
	secs=$1
	shift
fi
targets=("$@")
if [ ${#targets[@]} = 0 ]; then
	for f in "$here"/fuzz_*.c; do
		t=$(basename "$f" .c)
		targets+=("${t#fuzz_}")
	done
fi
for t in "${targets[@]}"; do
	[ -x "$build/tests/fuzz/fuzz_$t" ] || {
		echo "run_fuzz: $build/tests/fuzz/fuzz_$t not built (configure with -DGT_FUZZ=ON and clang)" >&2
		exit 2
	}
done

if [ $merge = 1 ]; then
	for t in "${targets[@]}"; do
		work=$build/fuzz-work/$t/corpus
		[ -d "$work" ] || continue
		before=$(find "$here/corpus/$t" -type f | wc -l)
		"$build/tests/fuzz/fuzz_$t" -merge=1 -use_counters=0 -close_fd_mask=3 "$here/corpus/$t" "$work" \
			>"$build/fuzz-work/$t/merge.log" 2>&1 || {
			echo "run_fuzz: merge of $t failed, see $build/fuzz-work/$t/merge.log" >&2
			exit 1
		}
		after=$(find "$here/corpus/$t" -type f | wc -l)
		echo "fuzz_$t: $((after - before)) new inputs added to tests/fuzz/corpus/$t"
	done
	exit 0
fi

run_one() {
	local t=$1 w=$build/fuzz-work/$1
	mkdir -p "$w/corpus"
	cp -n "$here/corpus/$t"/* "$w/corpus/" 2>/dev/null
	# -close_fd_mask=3: the targets' own stderr chatter (collector warnings
	# about the hostile input) is dropped; sanitizer reports still print
	"$build/tests/fuzz/fuzz_$t" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 \
		-close_fd_mask=3 -print_final_stats=1 -artifact_prefix="$w/" ${FUZZ_ARGS:-} \
		"$w/corpus" >"$w/fuzz.log" 2>&1
	echo "$?" >"$w/rc"
}
export -f run_one
export build here secs

echo "fuzzing ${targets[*]} for ${secs}s each, ${FUZZ_JOBS:=$(nproc)} at a time"
for t in "${targets[@]}"; do
	rm -f "$build/fuzz-work/$t/rc"
done
printf '%s\n' "${targets[@]}" | xargs -P "$FUZZ_JOBS" -I{} bash -c 'run_one {}'

bad=0
for t in "${targets[@]}"; do
	w=$build/fuzz-work/$t
	rc=$(cat "$w/rc" 2>/dev/null || echo 1)
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$w/fuzz.log" | tail -n 1)
	cov=$(grep -o 'cov: [0-9]*' "$w/fuzz.log" | tail -n 1)
	n=$(find "$w/corpus" -type f | wc -l)
	arts=$(find "$w" -maxdepth 1 -type f \( -name 'crash-*' -o -name 'leak-*' -o \
		-name 'timeout-*' -o -name 'oom-*' -o -name 'slow-unit-*' \) | wc -l)
	printf 'fuzz_%-12s rc=%s execs=%s %s corpus=%s artifacts=%s\n' "$t" "$rc" "${execs:-?}" \
		"${cov:-cov: ?}" "$n" "$arts"
	if [ "$rc" != 0 ] || [ "$arts" != 0 ]; then
		bad=1
		grep -m1 -A30 -E '^==[0-9]+==ERROR|runtime error|deadly signal|ALARM' "$w/fuzz.log" >&2
		echo "fuzz_$t: FAILED, log $w/fuzz.log, reproducer(s):" >&2
		find "$w" -maxdepth 1 -type f -name '*-*' ! -name '*.log' >&2
	fi
done
exit $bad
