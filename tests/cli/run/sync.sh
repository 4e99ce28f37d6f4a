# `file sync=` (docs/profiles.md): by default a finished file is complete
# and its writeback is started, without waiting for the disk; with
# `file sync=full` gtrace run and a session's rotate and stop fsync each
# file and its directory before they return.  An LD_PRELOAD spy logs which
# descriptors are fsynced.
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/../session/sess_lib.bash"
spy="$GT_BIN/fsync_spy.so"
[ -f "$spy" ] || fail "missing $spy"
printf 'file sync=full\n' >full.prof

traced() { # LOG ARGS...: gtrace ARGS with the spy logging into LOG
	local log=$1
	shift
	GT_FSYNC_LOG="$PWD/$log" LD_PRELOAD="$spy" timeout 60 "$GTRACE" "$@"
}

# default: writeback started on the file, no fsync of it or of the directory
traced async.log run --op a --dir TestLogs -- true 2>err.txt || fail "run: $(cat err.txt)"
file=$(realpath "$(only_file TestLogs)")
grep -qx "range $file" async.log || fail "default: no writeback started on $file: $(cat async.log)"
! grep -q "^fsync " async.log || fail "default: fsync called: $(cat async.log)"

# sync=full: the file, then its directory
rm -rf TestLogs
traced full.log run --profile full.prof --op f --dir TestLogs -- true 2>err.txt ||
	fail "run full: $(cat err.txt)"
file=$(realpath "$(only_file TestLogs)")
[ "$(grep '^fsync ' full.log)" = "fsync $file
fsync $(dirname "$file")" ] || fail "sync=full: expected file then directory: $(cat full.log)"
! grep -q '^range ' full.log || fail "sync=full: writeback only: $(cat full.log)"

# a session with sync=full: rotate and stop each make the closed file durable
rm -rf TestLogs
out=$(traced sess.log start --op s1 --dir TestLogs --profile full.prof 2>start.err) ||
	fail "start: $(cat start.err)"
eval "$out"
timeout 60 "$GTRACE" rotate --op s2 >rot.txt || fail "rotate"
timeout 60 "$GTRACE" stop >stop.txt || fail "stop"
first=$(realpath "$(cut -f1 rot.txt)")
last=$(realpath "$(tail -1 stop.txt | cut -f1)")
[ "$first" != "$last" ] || fail "rotate and stop name the same file"
for f in "$first" "$last"; do
	grep -qx "fsync $f" sess.log || fail "session: $f not fsynced: $(cat sess.log)"
done
[ "$(grep -cx "fsync $(dirname "$first")" sess.log)" -eq 2 ] ||
	fail "session: directory not fsynced after each close: $(cat sess.log)"
