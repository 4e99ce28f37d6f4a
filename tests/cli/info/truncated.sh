#!/bin/bash
# A file whose writer never closed, and one cut inside a chunk: info shows
# what was recovered and exits 0.
set -u
GEN="$GT_BUILD/tests/tools/gt_fmt_gen"
rm -rf "$GT_TMP" && mkdir -p "$GT_TMP" && cd "$GT_TMP" || exit 1
fail() { echo "FAIL: $*" >&2; exit 1; }

"$GEN" u.gtrace --events 5000 --threads 2 --chunk-bytes 30000 --unclosed >/dev/null || fail gen
timeout 20 "$GTRACE" info u.gtrace >out.txt 2>err.txt || fail "unclosed: exit $? $(cat err.txt)"
grep -qE "^complete:     no \(recovered [0-9]+ chunks; file ends after the last whole block at offset $(stat -c %s u.gtrace)\)$" out.txt ||
	fail "unclosed: $(grep complete: out.txt)"
grep -qxF "op:           gen" out.txt || fail "meta lost in the unclosed file"

"$GEN" f.gtrace --events 5000 --threads 2 --chunk-bytes 30000 >/dev/null || fail gen
size=$(stat -c %s f.gtrace)
head -c $((size / 2)) f.gtrace >cut.gtrace
timeout 20 "$GTRACE" info --json cut.gtrace >out.json 2>err.txt || fail "cut: exit $?"
timeout 20 "$GTRACE" info --json f.gtrace >full.json || fail "full"
python3 - <<'PY' || exit 1
import json, re, sys
c = json.load(open("out.json")); f = json.load(open("full.json"))
if c["complete"] or not c["recovered"]:
    sys.exit("FAIL: cut file reported complete")
if not re.fullmatch(r"file ends inside a (chunk|meta|schema|stats) at offset \d+|file ends inside a block header at offset \d+", c["recover_note"]):
    sys.exit(f"FAIL: note {c['recover_note']!r}")
if not (0 < c["chunks"] < f["chunks"]) or not (0 < c["events"] < f["events"]):
    sys.exit(f"FAIL: recovered {c['chunks']} chunks / {c['events']} events of {f['chunks']} / {f['events']}")
PY
timeout 20 "$GTRACE" info cut.gtrace | grep -qE '^complete:     no \(recovered [0-9]+ chunks; file ends inside a' || fail "cut text"
exit 0
