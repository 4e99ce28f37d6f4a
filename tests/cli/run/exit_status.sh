# gtrace run exits with the command's own status and writes one file per run.
source "$(dirname "$0")/../lib.sh"

for code in 0 3 42; do
	run_traced "exit$code" sh -c "exit $code"
	[ "$rc" -eq "$code" ] || fail "exit $code: gtrace returned $rc"
	[ -s "$file" ] || fail "exit $code: empty trace file $file"
	grep -q "^gtrace: wrote TestLogs/exit${code}_" stderr.txt || fail "exit $code: no summary: $(cat stderr.txt)"
done
# a command that ran fine but printed nothing: exactly one line on stderr
run_traced quiet true
[ "$rc" -eq 0 ] || fail "true returned $rc"
[ "$(wc -l <stderr.txt)" -eq 1 ] || fail "expected one summary line, got: $(cat stderr.txt)"
[ ! -s stdout.txt ] || fail "gtrace wrote to stdout: $(cat stdout.txt)"
