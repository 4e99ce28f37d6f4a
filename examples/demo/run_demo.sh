#!/bin/sh
# SPDX-License-Identifier: MIT
#
# run_demo.sh - the gtrace demo pipeline: a toy packet filter's set-up,
# unit tests, integration tests, performance tests and clean-up, each traced
# as its own operation, so TestLogs/ ends up with five small, focused files:
#
#   TestLogs/setup_pf_<YYYYMMDD>_<HHMMSS>.gtrace
#   TestLogs/unit_tests_...   integration_tests_...   perf_tests_...   cleanup_pf_...
#
# usage: GTRACE=path/to/gtrace DEMO_BIN=path/to/build/examples/demo sh run_demo.sh
# Optional: DEMO_LOGDIR (default TestLogs), PF_WORKDIR (default pf_work),
# PF_PERF_PACKETS (default 2000000), DEMO_PROFILE (a gtrace profile for every
# step).  Without DEMO_PROFILE, perf_tests runs with perf_tests.profile next to
# this script: its burst of one event per packet (tens of millions of events
# per second) outruns any collector, so, as with LTTng's sub-buffers, a
# performance test sizes its ring to hold the burst instead of losing events.
# Runs in the current directory.
set -u

GTRACE=${GTRACE:-gtrace}
DEMO_BIN=${DEMO_BIN:-build/examples/demo}
LOGDIR=${DEMO_LOGDIR:-TestLogs}
PF_WORKDIR=${PF_WORKDIR:-pf_work}
PF_PERF_PACKETS=${PF_PERF_PACKETS:-2000000}
export PF_WORKDIR
OPS="setup_pf unit_tests integration_tests perf_tests cleanup_pf"

die() {
	echo "run_demo.sh: $*" >&2
	exit 1
}

if ! command -v "$GTRACE" >/dev/null 2>&1; then
	die "cannot run gtrace '$GTRACE' (set GTRACE=path/to/gtrace)"
fi
for tool in pf_setup pf_unit_tests pf_integration_tests pf_helper pf_perf_tests pf_cleanup; do
	[ -x "$DEMO_BIN/$tool" ] || die "missing '$DEMO_BIN/$tool' (build first, or set DEMO_BIN)"
done

# old output of this demo only; other files in $LOGDIR are left alone
mkdir -p "$LOGDIR" || die "cannot create '$LOGDIR'"
for op in $OPS; do
	rm -f "$LOGDIR/${op}"_[0-9]*.gtrace
done

HERE=$(dirname "$0")

# step OP CMD...: run CMD traced as operation OP; stop the pipeline if it fails
step() {
	op=$1
	shift
	echo "==> $op: $*"
	profile=${DEMO_PROFILE:-}
	if [ -z "$profile" ] && [ -f "$HERE/$op.profile" ]; then
		profile=$HERE/$op.profile
	fi
	if [ -n "$profile" ]; then
		"$GTRACE" run --op "$op" --dir "$LOGDIR" --profile "$profile" -- "$@"
	else
		"$GTRACE" run --op "$op" --dir "$LOGDIR" -- "$@"
	fi
	rc=$?
	if [ "$rc" -ne 0 ]; then
		echo "run_demo.sh: step '$op' failed (exit status $rc); pipeline stopped." >&2
		echo "run_demo.sh: its trace: $(ls "$LOGDIR/${op}"_*.gtrace 2>/dev/null)" >&2
		if [ -d "$PF_WORKDIR" ]; then
			echo "run_demo.sh: the work directory '$PF_WORKDIR' is left for inspection" >&2
		fi
		exit 1
	fi
}

step setup_pf "$DEMO_BIN/pf_setup"
step unit_tests "$DEMO_BIN/pf_unit_tests"
step integration_tests "$DEMO_BIN/pf_integration_tests"
step perf_tests "$DEMO_BIN/pf_perf_tests" "$PF_PERF_PACKETS"
step cleanup_pf "$DEMO_BIN/pf_cleanup"

files=""
for op in $OPS; do
	files="$files $(ls "$LOGDIR/${op}"_[0-9]*.gtrace)"
done
echo
echo "==> gtrace info"
# shellcheck disable=SC2086 # file names are [A-Za-z0-9._-] by construction
"$GTRACE" info $files || die "gtrace info failed"
echo
echo "==> ls -l $LOGDIR"
ls -l "$LOGDIR"

# one line for the whole pipeline (bytes/event target: <= 4)
if command -v python3 >/dev/null 2>&1; then
	# shellcheck disable=SC2086
	"$GTRACE" info $files --json | python3 -c '
import json, sys
d = json.load(sys.stdin)
d = d if isinstance(d, list) else [d]
ev = sum(f.get("events", 0) for f in d)
lost = sum(f.get("lost", 0) for f in d)
size = sum(f.get("file_size", 0) for f in d)
print("pipeline: %d files, %d events, %d lost, %d bytes, %.2f bytes/event"
      % (len(d), ev, lost, size, size / ev if ev else 0))' || die "gtrace info --json failed"
fi
