#!/bin/bash
# gtrace repair: a file whose writer never closed and one cut inside a chunk
# become complete, with exactly the events the recovering reader saw; a
# chunk damaged in the middle is dropped and the chunks after it kept; a
# complete file is left untouched; errors name the file and exit 2.
source "$(dirname "$0")/../lib.sh"
GEN="$GT_BUILD/tests/tools/gt_fmt_gen"

# events_json FILE: the events as JSON lines (dump --format json)
events() { timeout 60 "$GTRACE" dump "$1" --format json 2>/dev/null; }
field() { python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' "$1" "$2"; }

"$GEN" full.gtrace --events 5000 --threads 2 --chunk-bytes 8000 >/dev/null || fail gen
full_sum=$(sha256sum <full.gtrace)

# complete: untouched, exit 0
timeout 60 "$GTRACE" repair full.gtrace >out.txt 2>err.txt || fail "complete: exit $? $(cat err.txt)"
grep -qE '^full.gtrace: already complete \([0-9]+ chunks, [0-9]+ events\); not changed$' out.txt ||
	fail "complete: $(cat out.txt)"
[ "$(sha256sum <full.gtrace)" = "$full_sum" ] || fail "complete file was changed"

# unclosed (no footer) and cut in the middle of a chunk, in place and with -o
"$GEN" u.gtrace --events 5000 --threads 2 --chunk-bytes 8000 --unclosed >/dev/null || fail gen
size=$(stat -c %s full.gtrace)
head -c $((size * 2 / 3)) full.gtrace >cut.gtrace
for f in u.gtrace cut.gtrace; do
	timeout 60 "$GTRACE" info --json "$f" >before.json || fail "$f: info before"
	[ "$(field before.json complete)" = False ] || fail "$f: complete before repair"
	events "$f" >before.events || fail "$f: dump before"
	n=$(field before.json events)
	[ "$n" -gt 0 ] && [ "$(wc -l <before.events)" -eq "$n" ] || fail "$f: $n events, dump $(wc -l <before.events)"
	cp "$f" "copy-$f"
	timeout 60 "$GTRACE" repair "$f" >out.txt 2>err.txt || fail "$f: repair exit $? $(cat err.txt)"
	grep -qE "^repaired $f: [0-9]+ chunks, $n events kept; [0-9]+ bytes dropped at offset [0-9]+$" out.txt ||
		fail "$f: $(cat out.txt)"
	timeout 60 "$GTRACE" info --json "$f" >after.json || fail "$f: info after"
	[ "$(field after.json complete)" = True ] || fail "$f: not complete after repair"
	[ "$(field after.json events)" -eq "$n" ] || fail "$f: $(field after.json events) events after, $n before"
	timeout 60 "$GTRACE" info "$f" | grep -qx 'complete:     yes' || fail "$f: info text"
	events "$f" >after.events || fail "$f: dump after"
	cmp -s before.events after.events || fail "$f: events changed by the repair"
	# -o: a repaired copy, the input unchanged; a second -o onto it is refused
	sum=$(sha256sum <"copy-$f")
	timeout 60 "$GTRACE" repair "copy-$f" -o "out-$f" >out.txt || fail "$f: -o"
	grep -q "^repaired out-$f: " out.txt || fail "$f: -o line: $(cat out.txt)"
	[ "$(sha256sum <"copy-$f")" = "$sum" ] || fail "$f: -o changed the input"
	cmp -s "$f" "out-$f" || fail "$f: in place and -o differ"
	set +e
	"$GTRACE" repair "copy-$f" -o "out-$f" >out.txt 2>err.txt
	rc=$?
	set -e
	[ "$rc" -eq 2 ] && grep -q "out-$f': already exists" err.txt || fail "$f: -o existing: $rc $(cat err.txt)"
	# repaired twice: already complete
	timeout 60 "$GTRACE" repair "$f" | grep -q 'already complete' || fail "$f: second repair"
done
ls | grep -q '\.tmp$' && fail "temporary file left: $(ls)"

# damage in the middle: one byte of the 3rd chunk; chunks after it are kept
cp full.gtrace mid.gtrace
"$GEN" mid.gtrace --corrupt-chunk 2 >/dev/null || fail corrupt
timeout 60 "$GTRACE" info --json full.gtrace >full.json
set +e
timeout 60 "$GTRACE" info mid.gtrace >/dev/null 2>err.txt
rc=$?
set -e
[ "$rc" -eq 2 ] || fail "damaged file: info exit $rc"
timeout 60 "$GTRACE" repair mid.gtrace >out.txt 2>err.txt || fail "mid: exit $? $(cat err.txt)"
timeout 60 "$GTRACE" info --json mid.gtrace >after.json || fail "mid: info after"
python3 - "$(cat out.txt)" <<'PY' || exit 1
import json, re, sys
f = json.load(open("full.json")); a = json.load(open("after.json"))
m = re.fullmatch(r"repaired mid.gtrace: (\d+) chunks, (\d+) events kept; (\d+) bytes dropped at offset (\d+)", sys.argv[1])
if not m:
    sys.exit(f"FAIL: line {sys.argv[1]!r}")
ch, ev, dropped, at = map(int, m.groups())
if not a["complete"] or a["chunks"] != f["chunks"] - 1 or ch != a["chunks"] or ev != a["events"]:
    sys.exit(f"FAIL: after {a['chunks']} chunks {a['events']} events, full {f['chunks']}, line {sys.argv[1]}")
if not (0 < a["events"] < f["events"]) or dropped <= 0 or at <= 0:
    sys.exit(f"FAIL: events {a['events']} of {f['events']}, dropped {dropped} at {at}")
PY
timeout 60 "$GTRACE" dump mid.gtrace >/dev/null || fail "mid: dump after repair"

# errors: exit 2, the file named
for bad in missing.gtrace notrace.txt; do
	[ "$bad" = notrace.txt ] && head -c 500 /dev/urandom >notrace.txt
	set +e
	"$GTRACE" repair "$bad" >out.txt 2>err.txt
	rc=$?
	set -e
	[ "$rc" -eq 2 ] || fail "$bad: exit $rc"
	grep -q "^gtrace repair: .*$bad" err.txt || fail "$bad: message $(cat err.txt)"
done
set +e
"$GTRACE" repair >/dev/null 2>err.txt
rc=$?
set -e
[ "$rc" -eq 2 ] && grep -q 'no FILE given' err.txt || fail "no args: $rc"
"$GTRACE" repair --help | grep -q '^usage: gtrace repair FILE \[-o OUT\]' || fail help
"$GTRACE" --help | grep -q 'gtrace repair FILE' || fail "not in the command list"
exit 0
