#!/bin/bash
# Damaged inputs: one clear line naming the file and the fault, exit 2, no hang.
set -u
GEN="$GT_BUILD/tests/tools/gt_fmt_gen"
rm -rf "$GT_TMP" && mkdir -p "$GT_TMP" && cd "$GT_TMP" || exit 1
fail() { echo "FAIL: $*" >&2; exit 1; }

check() { # file expected-stderr-regex
	timeout 20 "$GTRACE" info "$1" >out.txt 2>err.txt
	local rc=$?
	[ $rc -eq 2 ] || fail "$1: exit $rc, want 2"
	[ "$(wc -l <err.txt)" -eq 1 ] || fail "$1: want one line: $(cat err.txt)"
	grep -qE -- "$2" err.txt || fail "$1: stderr '$(cat err.txt)' does not match '$2'"
	[ -s out.txt ] && fail "$1: stdout not empty"
	return 0
}

"$GEN" bad.gtrace --events 3000 --chunk-bytes 20000 >/dev/null || fail gen
off=$("$GEN" bad.gtrace --corrupt-chunk 1 | sed 's/.*offset //') || fail corrupt
check bad.gtrace "^gtrace info: 'bad.gtrace': chunk 1 at offset [0-9]+: checksum mismatch \(file damaged\); run 'gtrace repair' or re-record$"
# --no-verify reads the footer only: the damage is not seen
timeout 20 "$GTRACE" info --no-verify bad.gtrace >out.txt 2>err.txt || fail "--no-verify: exit $?"
grep -qxF "complete:     yes" out.txt || fail "--no-verify output"
head -c 10000 /dev/urandom >rand.gtrace
check rand.gtrace "^gtrace info: 'rand.gtrace': not a gtrace file \(bad magic\)$"
"$GEN" v2.gtrace --events 10 >/dev/null && "$GEN" v2.gtrace --set-major 2 || fail gen
check v2.gtrace "^gtrace info: 'v2.gtrace': written by a newer gtrace \(format 2\.0\); this reader reads 1\.x$"
check missing.gtrace "^gtrace info: 'missing.gtrace': No such file or directory$"
: >empty.gtrace
check empty.gtrace "^gtrace info: 'empty.gtrace': empty file"
check . "^gtrace info: '\.': Is a directory$"
# a header cut short
head -c 40 v2.gtrace >short.gtrace
check short.gtrace "^gtrace info: 'short.gtrace': file ends inside the header"
exit 0
