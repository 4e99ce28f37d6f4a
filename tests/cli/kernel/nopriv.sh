#!/usr/bin/env bash
# Without tracefs permission the kernel events are skipped with one warning
# and everything else is still captured; with --strict it is an error.
. "$GT_SRC/tests/cli/lib.sh"
if [ "$(id -u)" -eq 0 ]; then
	command -v setpriv >/dev/null || exit 77
	as_nobody=(setpriv --reuid=65534 --regid=65534 --clear-groups)
	chmod 777 "$GT_TMP"
	# nobody must reach gtrace and the scratch directory
	"${as_nobody[@]}" test -x "$GTRACE" -a -w "$GT_TMP" || exit 77
else
	[ -w /sys/kernel/tracing/instances ] && exit 77 # we may trace: nothing to test
	as_nobody=()
fi
set +e
"${as_nobody[@]}" env -u XDG_RUNTIME_DIR timeout 60 "$GTRACE" run --op np --dir "$GT_TMP/TestLogs" \
	--profile kernel -- sh -c 'echo hi; touch ran' >stdout.txt 2>stderr.txt
rc=$?
set -e
[ "$rc" -eq 0 ] || fail "exit $rc: $(cat stderr.txt)"
[ "$(cat stdout.txt)" = hi ] && [ -f ran ] || fail "command output: $(cat stdout.txt)"
n=$(grep -c "kernel events skipped" stderr.txt || true)
[ "$n" -eq 1 ] || fail "expected one warning, got $n: $(cat stderr.txt)"
grep -q "^gtrace run: warning: kernel events skipped: .*(need root).*; recording user events only$" stderr.txt ||
	fail "warning text: $(cat stderr.txt)"
[ "$(grep -c . stderr.txt)" -eq 2 ] || fail "more than the warning and the summary: $(cat stderr.txt)"
file=$(only_file TestLogs)
"$GTRACE" dump "$file" --format json >dump.json
grep -q '"event":"start"' dump.json || fail "no process start: $(cat dump.json)"
grep -q '"line":"hi"' dump.json || fail "output not captured: $(cat dump.json)"
! grep -q '"provider":"kernel\.' dump.json || fail "kernel events without permission?"

rm -rf TestLogs ran
set +e
"${as_nobody[@]}" env -u XDG_RUNTIME_DIR timeout 60 "$GTRACE" run --strict --op np --dir "$GT_TMP/TestLogs" \
	--profile kernel -- sh -c 'touch ran' >stdout.txt 2>stderr.txt
rc=$?
set -e
[ "$rc" -eq 2 ] || fail "--strict: exit $rc, expected 2: $(cat stderr.txt)"
[ ! -f ran ] || fail "--strict: the command ran"
grep -q "^gtrace run: error: kernel events skipped: .*not running the command (--strict)$" stderr.txt ||
	fail "--strict message: $(cat stderr.txt)"
[ -z "$(ls TestLogs 2>/dev/null)" ] || fail "--strict left a file: $(ls TestLogs)"
