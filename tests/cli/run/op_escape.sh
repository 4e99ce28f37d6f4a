# --op cannot write outside DIR.
source "$(dirname "$0")/../lib.sh"

mkdir -p a/b
cd a/b
touch marker
sleep 0.01
for op in '../../x' '/etc/passwd' '..' '.hidden' '' 'a/../../b'; do
	"$GTRACE" run --dir logs --op "$op" -- true 2>err.txt || fail "op '$op' failed"
done
cd "$GT_TMP"
outside=$(find . -newer a/b/marker -type f ! -path './a/b/logs/*' ! -name err.txt)
[ -z "$outside" ] || fail "files written outside DIR: $outside"
ls a/b/logs | grep -q '^_.._x_' || fail "'../../x' not sanitised: $(ls a/b/logs)"
ls a/b/logs | grep -q '^op_' || fail "'..' should become 'op': $(ls a/b/logs)"
ls a/b/logs | grep -q '^hidden_' || fail "leading dot not stripped: $(ls a/b/logs)"
! ls -A a/b/logs | grep -q '^\.' || fail "hidden file created"
[ "$(ls a/b/logs | wc -l)" -eq 6 ] || fail "expected 6 files: $(ls a/b/logs)"
