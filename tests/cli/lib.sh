# Shared helpers for tests/cli/<cmd>/<case>.sh (sourced, bash).
# Each case runs in a fresh scratch directory $GT_TMP and exits 0 (pass),
# 77 (skip) or anything else (fail).
set -euo pipefail
: "${GTRACE:?GTRACE must point at the built gtrace}"
: "${GT_TMP:?GT_TMP must name a scratch directory}"
rm -rf "$GT_TMP"
mkdir -p "$GT_TMP"
cd "$GT_TMP"

fail() {
	echo "FAIL: $*" >&2
	exit 1
}

# only_file DIR: print the single .gtrace file in DIR, fail unless exactly one.
only_file() {
	local files=("$1"/*.gtrace)
	[ "${#files[@]}" -eq 1 ] && [ -f "${files[0]}" ] || fail "expected one .gtrace in $1, got: ${files[*]}"
	echo "${files[0]}"
}

# run_traced OP CMD...: run CMD under gtrace into ./TestLogs, keep its exit
# status in $rc and the file path in $file.
run_traced() {
	local op=$1
	shift
	rm -rf TestLogs
	set +e
	timeout 60 "$GTRACE" run --op "$op" --dir TestLogs -- "$@" >stdout.txt 2>stderr.txt
	rc=$?
	set -e
	file=$(only_file TestLogs)
}

# dump_json FILE: dump as JSON lines into dump.json
dump_json() {
	timeout 60 "$GTRACE" dump "$1" --format json >dump.json
}
