# An unusable DIR is a warning and the command still runs; --strict makes it
# an error (exit 2) and the command does not run.
source "$(dirname "$0")/../lib.sh"

touch notadir
set +e
"$GTRACE" run --dir notadir/logs -- sh -c 'echo ran >ran.txt; echo out; exit 3' >out.txt 2>err.txt
rc=$?
set -e
[ "$rc" -eq 3 ] || fail "expected the command's 3, got $rc"
[ -f ran.txt ] || fail "command did not run"
grep -qx out out.txt || fail "output lost"
grep -q "^gtrace run: warning: cannot create 'notadir/logs': Not a directory; running untraced (use --dir)$" err.txt ||
	fail "warning: $(cat err.txt)"
[ "$(wc -l <err.txt)" -eq 1 ] || fail "expected one line on stderr: $(cat err.txt)"

rm -f ran.txt
set +e
"$GTRACE" run --strict --dir notadir/logs -- sh -c 'echo ran >ran.txt' >out.txt 2>err.txt
rc=$?
set -e
[ "$rc" -eq 2 ] || fail "--strict: expected 2, got $rc"
[ ! -f ran.txt ] || fail "--strict: command ran"
grep -q "^gtrace run: error: cannot create 'notadir/logs'" err.txt || fail "strict message: $(cat err.txt)"

# an unwritable directory (skipped as root, who can write anywhere)
if [ "$(id -u)" -ne 0 ]; then
	mkdir ro && chmod 555 ro
	set +e
	"$GTRACE" run --dir ro -- true 2>err.txt
	rc=$?
	set -e
	[ "$rc" -eq 0 ] || fail "ro: rc $rc"
	grep -q "warning: cannot create 'ro/true_.*Permission denied" err.txt || fail "ro: $(cat err.txt)"
fi
