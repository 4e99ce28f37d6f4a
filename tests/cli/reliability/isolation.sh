#!/usr/bin/env bash
# Isolation and permissions (docs/reliability.md, "isolation"): a session's
# state directory, sockets and files belong to its user with no access for
# others; a process of another user (uid 65534 through setpriv) cannot join,
# read the session's shared memory, or talk to its control socket -- not even
# when the directories have been opened up by mistake (the collector then
# refuses it by SO_PEERCRED uid, logs it and counts it); an op name given to
# start or rotate cannot leave DIR; a profile file is only read.
# Needs root (skips with 77 otherwise).  Kernel events without privilege:
# cli.kernel.nopriv.
. "$GT_SRC/tests/cli/lib.sh"
[ "$(id -u)" -eq 0 ] || exit 77
command -v setpriv >/dev/null || exit 77
. "$GT_SRC/tests/cli/session/sess_lib.bash"
as_nobody=(setpriv --reuid=65534 --regid=65534 --clear-groups)
"${as_nobody[@]}" test -x "$GTRACE" -a -x "$GT_BIN/gt_e2e" || exit 77
chmod 755 "$GT_TMP" # nobody runs in it, writes nothing there

mode() { stat -c '%a %U' "$1"; }
expect_mode() { # PATH MODE: fail unless PATH has MODE and belongs to root
	[ "$(mode "$1")" = "$2 root" ] || fail "$1: mode/owner '$(mode "$1")', expected '$2 root'"
}

printf 'provider Test.*\nbuffer ring_size=64K threads=8\n' >prof.txt
chmod 444 prof.txt
sum_before=$(sha256sum prof.txt; stat -c '%a %s %Y' prof.txt)
sess_start --op iso --dir TestLogs --name iso --profile "$GT_TMP/prof.txt"
sdir=$GT_SESS_ROOT/iso
cpid=$(cat "$sdir/pid")

# 1. modes and owners
for d in "$GT_SESS_RT/gtrace" "$GT_SESS_ROOT" "$sdir"; do
	expect_mode "$d" 700
done
expect_mode "$sdir/control.sock" 600
expect_mode "$GTRACE_SESSION" 600
[ -S "$GTRACE_SESSION" ] && [ -S "$sdir/control.sock" ] || fail "sockets missing in $sdir"
for f in "$sdir"/*; do
	[ "$(stat -c %U "$f")" = root ] || fail "$f not owned by root"
	# the directory is 0700, and inside it everything is private too
	[ $(( 0$(stat -c %a "$f") & 077 )) -eq 0 ] || fail "$f: mode $(stat -c %a "$f") gives others access"
done

# 2. a live producer of ours: its segment is reachable by nobody only through /proc, which refuses
stop=$GT_TMP/stop.flag
trap 'touch "$stop"; sess_cleanup' EXIT
"$GT_BIN/gt_e2e" numbered 1 1000 30 "$stop" >honest.out &
ppid=$!
for _ in $(seq 100); do
	grep -q memfd:gtrace "/proc/$ppid/maps" 2>/dev/null && break
	sleep 0.1
done
grep -q memfd:gtrace "/proc/$ppid/maps" || fail "producer $ppid has no segment"
for p in "$ppid" "$cpid"; do
	for what in "cat /proc/$p/maps" "ls /proc/$p/fd" "ls /proc/$p/map_files" "cat /proc/$p/mem"; do
		if "${as_nobody[@]}" $what >/dev/null 2>&1; then
			fail "nobody can run '$what': it would reach the segments"
		fi
	done
done
grep -q memfd:gtrace "/proc/$cpid/maps" || fail "the collector maps no segment"

# 3. nobody with our GTRACE_SESSION: cannot join, cannot use the control socket
set +e
"${as_nobody[@]}" env GTRACE_SESSION="$GTRACE_SESSION" "$GT_BIN/gt_e2e" exit 5 >/dev/null 2>&1
nrc=$?
"${as_nobody[@]}" env XDG_RUNTIME_DIR="$GT_SESS_RT" GTRACE_SESSION="$GTRACE_SESSION" \
	GTRACE_SESSION_NAME=iso timeout 30 "$GTRACE" mark "from nobody" >/dev/null 2>mark.err
mrc=$?
"${as_nobody[@]}" env XDG_RUNTIME_DIR="$GT_SESS_RT" GTRACE_SESSION_NAME=iso \
	timeout 30 "$GTRACE" rotate --op stolen >/dev/null 2>rotate.err
rrc=$?
"${as_nobody[@]}" env XDG_RUNTIME_DIR="$GT_SESS_RT" timeout 30 "$GTRACE" stop --all >/dev/null 2>stop.err
src=$?
set -e
[ "$nrc" -eq 5 ] || fail "nobody's traced program changed its verdict: $nrc"
[ "$mrc" -ne 0 ] && [ -s mark.err ] || fail "nobody's mark did not fail clearly (exit $mrc): $(cat mark.err)"
[ "$rrc" -ne 0 ] && [ -s rotate.err ] || fail "nobody's rotate did not fail (exit $rrc): $(cat rotate.err)"
grep -q "^gtrace " mark.err || fail "mark error does not name the command: $(cat mark.err)"
grep -q "run gtrace as that user" mark.err || fail "mark error does not say what to do: $(cat mark.err)"
[ -z "$(ls TestLogs | grep stolen || true)" ] || fail "nobody rotated the session"
echo "nobody's mark: $(cat mark.err)"
echo "nobody's stop: exit $src: $(cat stop.err)"
timeout 30 "$GTRACE" status --json >status.json
grep -q '"iso"' status.json || fail "nobody stopped the session"

# 4. the same with the directories opened up by mistake: the collector's uid check refuses
chmod 711 "$GT_SESS_RT" "$GT_SESS_RT/gtrace" "$GT_SESS_ROOT" "$sdir"
chmod 666 "$GTRACE_SESSION" "$sdir/control.sock"
set +e
"${as_nobody[@]}" env GTRACE_SESSION="$GTRACE_SESSION" GT_DEBUG=1 "$GT_BIN/gt_e2e" exit 6 \
	>/dev/null 2>nobody.err &
npid=$!
wait "$npid"
nrc=$?
"${as_nobody[@]}" env XDG_RUNTIME_DIR="$GT_SESS_RT" GTRACE_SESSION="$GTRACE_SESSION" \
	GTRACE_SESSION_NAME=iso timeout 30 "$GTRACE" mark "from nobody" >/dev/null 2>mark2.err
mrc=$?
set -e
chmod 700 "$GT_SESS_RT" "$GT_SESS_RT/gtrace" "$GT_SESS_ROOT" "$sdir"
chmod 600 "$GTRACE_SESSION" "$sdir/control.sock"
[ "$nrc" -eq 6 ] || fail "refused program changed its verdict: $nrc"
[ "$mrc" -ne 0 ] && [ -s mark2.err ] || fail "nobody's mark through an open socket worked (exit $mrc)"
echo "nobody's mark (open socket): $(cat mark2.err)"
grep -q "process $npid of uid 65534 refused" "$sdir/collector.log" ||
	fail "collector did not log the refused peer: $(cat "$sdir/collector.log")"

# 5. op names given to start and rotate stay inside DIR
mkdir -p a/b
touch a/b/marker
sleep 0.01
(cd a/b && for op in '../../x' '/etc/passwd' '..' 'a/../../b'; do
	timeout 30 "$GTRACE" rotate --op "$op" >/dev/null 2>>"$GT_TMP/rot.err" || exit 1
done) || fail "rotate --op failed: $(cat rot.err)"
(cd a/b && timeout 30 "$GTRACE" start --op '../../../esc' --dir logs --name iso2 >/dev/null 2>&1) ||
	fail "start with a hostile op failed"
timeout 30 "$GTRACE" stop --all >stop.out
touch "$stop"
wait "$ppid"
outside=$(find "$GT_TMP" /etc -newer a/b/marker -type f ! -path "$GT_TMP/TestLogs/*" \
	! -path "$GT_TMP/a/b/logs/*" ! -name '*.err' ! -name '*.out' ! -name '*.json' \
	! -name stop.flag 2>/dev/null || true)
[ -z "$outside" ] || fail "files written outside DIR: $outside"
ls a/b/logs | grep -q '^_.._.._esc_' || fail "start op not sanitised: $(ls a/b/logs)"
[ "$(ls TestLogs | wc -l)" -eq 5 ] || fail "expected iso + 4 rotated files: $(ls TestLogs)"

# 6. the files: ours and 0600; nobody's events absent; the refusal counted
for f in TestLogs/*.gtrace a/b/logs/*.gtrace; do
	expect_mode "$f" 600
done
first=$(ls TestLogs/iso_*.gtrace | head -1)
timeout 30 "$GTRACE" dump "$first" --format json >dump.json
timeout 30 "$GTRACE" info "$first" --json >info.json
python3 - "$npid" "$ppid" <<'PY' || fail "file contents"
import json, sys
npid, ppid = int(sys.argv[1]), int(sys.argv[2])
ev = [json.loads(l) for l in open("dump.json")]
assert not [e for e in ev if e["event"] == "Exiting"], "a refused process's event is in the file"
assert not [e for e in ev if e["event"] == "mark"], "nobody's mark is in the file"
assert [e for e in ev if e["pid"] == ppid and e["event"] == "Num"], "our own producer missing"
info = json.load(open("info.json"))
assert {c["pid"]: c["count"] for c in info["corrupt_by_pid"]}.get(npid) == 1, info["corrupt_by_pid"]
PY

# 7. the profile was only read
[ "$(sha256sum prof.txt; stat -c '%a %s %Y' prof.txt)" = "$sum_before" ] || fail "profile file changed"
