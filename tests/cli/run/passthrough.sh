# stdout and stderr reach gtrace's own stdout/stderr byte for byte.
source "$(dirname "$0")/../lib.sh"

cat >prog.sh <<'PROG'
printf 'line one\n'
printf 'err one\n' >&2
printf 'bin \000\001\002\377\376 tab\t cr\r\n'
printf '\n\n'
i=0
while [ $i -lt 3000 ]; do printf 'bulk %05d xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\n' $i; i=$((i+1)); done
head -c 200000 /dev/zero | tr '\0' 'L'
printf '\n'
printf 'err no newline' >&2
printf 'last line without newline'
PROG
sh prog.sh >bare.out 2>bare.err
run_traced pass sh prog.sh
[ "$rc" -eq 0 ] || fail "rc $rc"
cmp bare.out stdout.txt || fail "stdout differs"
# stderr: the command's bytes, then gtrace's summary line
head -c "$(stat -c %s bare.err)" stderr.txt >traced.err
cmp bare.err traced.err || fail "stderr differs"
# the command's stderr ended mid-line: the summary starts on a new line
tail -c +"$(($(stat -c %s bare.err) + 1))" stderr.txt >summary.txt
[ "$(head -c 1 summary.txt | od -An -c | tr -d ' ')" = '\n' ] || fail "summary not on its own line"
grep -q '^gtrace: wrote ' summary.txt || fail "summary line missing"

# stdin is left alone
echo "from stdin" | "$GTRACE" run --op stdin -- cat >stdin.out 2>/dev/null
grep -qx "from stdin" stdin.out || fail "stdin not passed to the command"

# a reader that goes away: the command gets SIGPIPE as it would untraced
set +e
timeout 20 "$GTRACE" run --op pipe -- yes 2>pipe.err | head -n 3 >pipe.out
rc=${PIPESTATUS[0]}
set -e
[ "$rc" -eq 141 ] || fail "yes | head: expected 141 (SIGPIPE), got $rc"
[ "$(wc -l <pipe.out)" -eq 3 ] || fail "head got: $(cat pipe.out)"
