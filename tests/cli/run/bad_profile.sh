# A bad or missing profile is a warning naming FILE:LINE; --strict: exit 2.
source "$(dirname "$0")/../lib.sh"

printf 'provider Good.* level=info\nprovider Bad level=loud\n' >bad.prof
set +e
"$GTRACE" run --profile bad.prof -- sh -c 'echo ran >ran.txt; exit 4' >out.txt 2>err.txt
rc=$?
set -e
[ "$rc" -eq 4 ] || fail "expected 4, got $rc"
[ -f ran.txt ] || fail "command did not run"
grep -q "^gtrace run: warning: bad.prof:2: bad level 'loud' (expected .*); running untraced (fix the profile or use --profile default)$" err.txt ||
	fail "warning: $(cat err.txt)"
[ ! -d TestLogs ] || [ -z "$(ls TestLogs)" ] || fail "a file was written with a bad profile"

rm -f ran.txt
set +e
"$GTRACE" run --strict --profile bad.prof -- sh -c 'echo ran >ran.txt' >out.txt 2>err.txt
rc=$?
set -e
[ "$rc" -eq 2 ] || fail "--strict: expected 2, got $rc"
[ ! -f ran.txt ] || fail "--strict: command ran"
grep -q "^gtrace run: error: bad.prof:2: bad level 'loud'" err.txt || fail "strict: $(cat err.txt)"

set +e
"$GTRACE" run --profile missing.prof -- true 2>err.txt
rc=$?
set -e
[ "$rc" -eq 0 ] || fail "missing profile: rc $rc"
grep -q "warning: cannot read profile 'missing.prof': No such file or directory" err.txt || fail "missing: $(cat err.txt)"

# a good profile file and the built-in default both trace
printf '# ok\nprovider * level=verbose\nbuffer ring_size=64K threads=8\n' >good.prof
run_traced good true
"$GTRACE" run --profile default --op def -- true 2>err.txt
grep -q '^gtrace: wrote TestLogs/def_' err.txt || fail "default profile: $(cat err.txt)"
