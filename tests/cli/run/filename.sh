# File name: DIR/<NAME>_<YYYYMMDD>_<HHMMSS>.gtrace, NAME from --op or the
# command's basename, sanitised; a clash gets _2.
source "$(dirname "$0")/../lib.sh"

"$GTRACE" run -- /bin/true 2>err.txt
f=$(only_file TestLogs)
[[ "$f" =~ ^TestLogs/true_[0-9]{8}_[0-9]{6}\.gtrace$ ]] || fail "default name: $f"
rm -rf TestLogs

"$GTRACE" run --dir out/nested/logs --op 'my op:1' -- true 2>err.txt
f=$(only_file out/nested/logs)
[[ "$f" =~ ^out/nested/logs/my_op_1_[0-9]{8}_[0-9]{6}\.gtrace$ ]] || fail "sanitised --op: $f"

# clash: pre-create the names of the next few seconds, expect _2
mkdir -p clash
now=$(date +%s)
for i in 0 1 2 3 4; do
	: >"clash/c_$(date -d "@$((now + i))" +%Y%m%d_%H%M%S).gtrace"
done
"$GTRACE" run --dir clash --op c -- true 2>err.txt
n=$(ls clash | grep -c '_2\.gtrace$') || true
[ "$n" -eq 1 ] || fail "expected one _2 file: $(ls clash)"
grep -q "^gtrace: wrote clash/c_[0-9]*_[0-9]*_2.gtrace " err.txt || fail "summary: $(cat err.txt)"
# the pre-existing files were not touched
[ "$(find clash -size 0 | wc -l)" -eq 5 ] || fail "existing file overwritten"
