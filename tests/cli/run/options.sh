# Option forms and option errors.
source "$(dirname "$0")/../lib.sh"

expect_rc() {
	local want=$1
	shift
	set +e
	"$GTRACE" run "$@" >out.txt 2>err.txt
	local got=$?
	set -e
	[ "$got" -eq "$want" ] || fail "run $*: expected $want, got $got ($(cat err.txt))"
}
# memory mode itself: tests/cli/memory/; --keep and --window need it
expect_rc 2 --keep failure -- true
grep -q "needs --mode memory" err.txt || fail "--keep: $(cat err.txt)"
expect_rc 2 --mode tape -- true
expect_rc 2 --bogus -- true
expect_rc 2 --op
expect_rc 0 --mode file --op=eq --dir=eqdir -- true
only_file eqdir >/dev/null
expect_rc 0 --help
grep -q "usage: gtrace run" out.txt || fail "--help"
# without "--", the first non-option starts the command
expect_rc 5 --dir nodash sh -c 'exit 5'
