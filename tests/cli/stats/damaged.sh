#!/usr/bin/env bash
# Damaged inputs: exit 2 and one line naming the file and the fault, never a
# crash; a truncated file is decoded up to its last whole chunk with one
# warning, like `gtrace dump`.
. "$GT_SRC/tests/cli/lib.sh"
GEN="$GT_BUILD/tests/tools/gt_fmt_gen"

check() { # file expected-stderr-regex [stats args]
	local f=$1 re=$2
	shift 2
	set +e
	timeout 20 "$GTRACE" stats "$f" "$@" >out.txt 2>err.txt
	local rc=$?
	set -e
	[ $rc -eq 2 ] || fail "$f: exit $rc, want 2: $(cat err.txt)"
	[ "$(wc -l <err.txt)" -eq 1 ] || fail "$f: want one line: $(cat err.txt)"
	grep -qE -- "$re" err.txt || fail "$f: stderr '$(cat err.txt)' does not match '$re'"
	[ -s out.txt ] && fail "$f: stdout not empty: $(head -3 out.txt)"
	return 0
}

"$GEN" bad.gtrace --events 3000 --threads 1 --chunk-bytes 20000 --no-types >/dev/null || fail gen
"$GEN" bad.gtrace --corrupt-chunk 2 >/dev/null || fail corrupt
for t in 1 2 4; do
	check bad.gtrace "^gtrace stats: 'bad.gtrace': chunk 2 at offset [0-9]+: checksum mismatch \(file damaged\); run 'gtrace repair' or re-record$" --threads $t
done
head -c 10000 /dev/urandom >rand.gtrace
check rand.gtrace "^gtrace stats: 'rand.gtrace': not a gtrace file \(bad magic\)$"
"$GEN" v2.gtrace --events 10 >/dev/null && "$GEN" v2.gtrace --set-major 2 || fail gen
check v2.gtrace "^gtrace stats: 'v2.gtrace': written by a newer gtrace \(format 2\.0\); this reader reads 1\.x$"
check missing.gtrace "^gtrace stats: 'missing.gtrace': No such file or directory$"
set +e
timeout 20 "$GTRACE" stats >out.txt 2>err.txt; rc=$?
set -e
[ $rc -eq 2 ] && grep -q "^gtrace stats: missing FILE" err.txt || fail "no FILE: exit $rc: $(cat err.txt)"

# truncated: the whole chunks are counted, one warning, exit 0
"$GEN" f.gtrace --events 6000 --threads 2 --chunk-bytes 20000 >/dev/null || fail gen
size=$(stat -c %s f.gtrace)
head -c $((size / 2)) f.gtrace >cut.gtrace
timeout 20 "$GTRACE" stats --json cut.gtrace >cut.json 2>err.txt || fail "cut: exit $?: $(cat err.txt)"
[ "$(wc -l <err.txt)" -eq 1 ] || fail "cut: want one warning: $(cat err.txt)"
grep -qE "^gtrace stats: warning: 'cut.gtrace' is incomplete \(recovered [0-9]+ chunks; " err.txt ||
	fail "cut warning: $(cat err.txt)"
want=$(timeout 20 "$GTRACE" info --json cut.gtrace | python3 -c 'import json,sys; print(json.load(sys.stdin)["events"])')
got=$(python3 -c 'import json; s = json.load(open("cut.json")); print(s["events"], sum(x["count"] for x in s["schemas"]), s["complete"])')
[ "$got" = "$want $want False" ] || fail "cut: stats says '$got', info says $want events"
[ "$want" -gt 0 ] || fail "cut: nothing recovered"

# every truncation point of a small file: never a crash (exit 0 or 2 only)
"$GEN" s.gtrace --events 300 --threads 2 --chunk-bytes 2000 >/dev/null || fail gen
size=$(stat -c %s s.gtrace)
for ((k = 0; k < size; k += 97)); do
	head -c $k s.gtrace >t.gtrace
	set +e
	timeout 20 "$GTRACE" stats t.gtrace --threads 2 >/dev/null 2>err.txt
	rc=$?
	set -e
	[ $rc -eq 0 ] || [ $rc -eq 2 ] || fail "cut at $k: exit $rc: $(cat err.txt)"
done
exit 0
