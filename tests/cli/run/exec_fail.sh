# A command that cannot be run: message like a shell's, exit 127 / 126.
source "$(dirname "$0")/../lib.sh"

set +e
"$GTRACE" run -- ./no-such-cmd arg >out.txt 2>err.txt
rc=$?
set -e
[ "$rc" -eq 127 ] || fail "missing command: expected 127, got $rc"
grep -qx "gtrace run: cannot run './no-such-cmd': No such file or directory" err.txt || fail "$(cat err.txt)"

printf 'echo hi\n' >noexec.sh
chmod 644 noexec.sh
set +e
"$GTRACE" run -- ./noexec.sh >out.txt 2>err.txt
rc=$?
set -e
[ "$rc" -eq 126 ] || fail "not executable: expected 126, got $rc"
grep -qx "gtrace run: cannot run './noexec.sh': Permission denied" err.txt || fail "$(cat err.txt)"

set +e
"$GTRACE" run 2>err.txt
rc=$?
set -e
[ "$rc" -eq 2 ] || fail "no command: expected 2, got $rc"
