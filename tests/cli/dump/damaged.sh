#!/bin/bash
# Damaged inputs: exit 2 with one clear line naming the file and the fault; a
# bad chunk in a complete file comes after the events before it.
set -u
GEN="$GT_BUILD/tests/tools/gt_fmt_gen"
rm -rf "$GT_TMP" && mkdir -p "$GT_TMP" && cd "$GT_TMP" || exit 1
fail() { echo "FAIL: $*" >&2; exit 1; }

check() { # file expected-stderr-regex
	timeout 20 "$GTRACE" dump "$1" >out.txt 2>err.txt
	local rc=$?
	[ $rc -eq 2 ] || fail "$1: exit $rc, want 2"
	[ "$(wc -l <err.txt)" -eq 1 ] || fail "$1: want one line: $(cat err.txt)"
	grep -qE -- "$2" err.txt || fail "$1: stderr '$(cat err.txt)' does not match '$2'"
	return 0
}

"$GEN" bad.gtrace --events 3000 --threads 1 --chunk-bytes 20000 --no-types >/dev/null || fail gen
"$GEN" bad.gtrace --corrupt-chunk 2 >/dev/null || fail corrupt
check bad.gtrace "^gtrace dump: 'bad.gtrace': chunk 2 at offset [0-9]+: checksum mismatch \(file damaged\); run 'gtrace repair' or re-record$"
[ -s out.txt ] || fail "events before the bad chunk were not printed"
head -c 10000 /dev/urandom >rand.gtrace
check rand.gtrace "^gtrace dump: 'rand.gtrace': not a gtrace file \(bad magic\)$"
[ -s out.txt ] && fail "rand: stdout not empty"
"$GEN" v2.gtrace --events 10 >/dev/null && "$GEN" v2.gtrace --set-major 2 || fail gen
check v2.gtrace "^gtrace dump: 'v2.gtrace': written by a newer gtrace \(format 2\.0\); this reader reads 1\.x$"
check missing.gtrace "^gtrace dump: 'missing.gtrace': No such file or directory$"
# garbage after a valid header: recovered with no events, exit 0
head -c 64 v2.gtrace >hdr.gtrace
"$GEN" ok.gtrace --events 10 >/dev/null || fail gen
{ head -c 64 ok.gtrace; head -c 5000 /dev/urandom; } >garbage.gtrace
timeout 20 "$GTRACE" dump garbage.gtrace >out.txt 2>err.txt; rc=$?
[ $rc -eq 0 ] || fail "garbage after header: exit $rc"
[ -s out.txt ] && fail "garbage after header: events printed"
grep -q "warning: 'garbage.gtrace' is incomplete (recovered 0 chunks; bad block header at offset 64)" err.txt ||
	fail "garbage warning: $(cat err.txt)"
exit 0
