#!/bin/bash
# The checksum pass reads chunks through a reused window (format/gt_reader.c,
# gt_reader_verify): damage is found in the first chunk, in a chunk after
# several window refills and in the last chunk; a clean file with thousands
# of chunks, spread over several windows, verifies.
set -u
GEN="$GT_BUILD/tests/tools/gt_fmt_gen"
rm -rf "$GT_TMP" && mkdir -p "$GT_TMP" && cd "$GT_TMP" || exit 1
fail() { echo "FAIL: $*" >&2; exit 1; }

# gen FILE EVENTS CHUNK_BYTES: a fresh file, and its chunk count per info
gen() {
	rm -f "$1"
	"$GEN" "$1" --events "$2" --chunk-bytes "$3" >/dev/null || fail "gen $1"
	timeout 20 "$GTRACE" info "$1" >out.txt 2>err.txt || fail "$1 clean: exit $? $(cat err.txt)"
	grep -qxF "complete:     yes" out.txt || fail "$1 clean: $(grep complete: out.txt)"
	sed -n 's/^chunks: *//p' out.txt
}

# damaged FILE K: corrupt chunk K, info must name it and exit 2
damaged() {
	off=$("$GEN" "$1" --corrupt-chunk "$2" | sed 's/.*offset //') || fail "corrupt $1 $2"
	timeout 20 "$GTRACE" info "$1" >out.txt 2>err.txt
	rc=$?
	[ $rc -eq 2 ] || fail "$1 chunk $2: exit $rc, want 2"
	grep -qE "^gtrace info: '$1': chunk $2 at offset [0-9]+: checksum mismatch \(file damaged\)" err.txt ||
		fail "$1 chunk $2: stderr '$(cat err.txt)'"
	# the footer alone does not see it
	timeout 20 "$GTRACE" info --no-verify "$1" >/dev/null 2>&1 || fail "$1 --no-verify: exit $?"
}

# small chunks: a 256 KiB window holds many, and is refilled several times
n=$(gen small.gtrace 400000 4000)
[ "$n" -ge 20 ] || fail "small.gtrace: only $n chunks"
[ "$(stat -c %s small.gtrace)" -gt $((3 * 256 * 1024)) ] || fail "small.gtrace smaller than 3 windows"
for k in 0 $((n / 2)) $((n - 1)); do
	gen small.gtrace 400000 4000 >/dev/null
	damaged small.gtrace "$k"
done
exit 0
