#!/bin/bash
# A truncated file: dump prints every event of every whole chunk, warns once
# on stderr and exits 0.
set -u
GEN="$GT_BUILD/tests/tools/gt_fmt_gen"
rm -rf "$GT_TMP" && mkdir -p "$GT_TMP" && cd "$GT_TMP" || exit 1
fail() { echo "FAIL: $*" >&2; exit 1; }

"$GEN" f.gtrace --events 6000 --threads 2 --chunk-bytes 20000 >/dev/null || fail gen
timeout 20 "$GTRACE" dump f.gtrace --format json >full.jsonl || fail full
size=$(stat -c %s f.gtrace)
for frac in 2 3 5; do
	head -c $((size * (frac - 1) / frac)) f.gtrace >cut.gtrace
	timeout 20 "$GTRACE" dump cut.gtrace --format json >cut.jsonl 2>err.txt
	rc=$?
	[ $rc -eq 0 ] || fail "cut $frac: exit $rc: $(cat err.txt)"
	[ "$(wc -l <err.txt)" -eq 1 ] || fail "cut $frac: want one warning: $(cat err.txt)"
	grep -qE "^gtrace dump: warning: 'cut.gtrace' is incomplete \(recovered [0-9]+ chunks; file ends inside a .* at offset [0-9]+\)" err.txt ||
		fail "warning text: $(cat err.txt)"
	want=$(timeout 20 "$GTRACE" info --json cut.gtrace | python3 -c 'import json,sys; print(json.load(sys.stdin)["events"])')
	[ "$(wc -l <cut.jsonl)" -eq "$want" ] || fail "cut $frac: $(wc -l <cut.jsonl) events, index says $want"
	[ "$want" -gt 0 ] || fail "cut $frac: nothing recovered"
	# every recovered event is one of the originals
	python3 - <<'PY' || exit 1
import sys
full = set(open("full.jsonl").read().splitlines())
cut = open("cut.jsonl").read().splitlines()
bad = [l for l in cut if l not in full]
if bad:
    sys.exit(f"FAIL: {len(bad)} recovered events differ, e.g. {bad[0]}")
PY
done
"$GEN" u.gtrace --events 4000 --chunk-bytes 20000 --unclosed >/dev/null || fail gen
timeout 20 "$GTRACE" dump u.gtrace >/dev/null 2>err.txt || fail "unclosed exit $?"
grep -q "file ends after the last whole block" err.txt || fail "unclosed warning: $(cat err.txt)"
exit 0
