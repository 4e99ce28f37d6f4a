#!/bin/bash
# Fault (b): the trace directory fills up (a 3 MiB tmpfs).  gtrace warns
# once, when it happens, naming the file and "No space left on device"; the
# command's output and exit status are unchanged; the file is valid up to
# its last whole chunk.  Needs root (mount); skips otherwise.
source "$(dirname "$0")/../lib.sh"
E="$GT_BIN/gt_e2e"
[ "$(id -u)" -eq 0 ] || { echo "SKIP: needs root to mount a tmpfs"; exit 77; }
mkdir -p full
mount -t tmpfs -o size=3m gt_fault_full full 2>mount.err ||
	{ echo "SKIP: cannot mount a tmpfs: $(cat mount.err)"; exit 77; }
trap 'umount full 2>/dev/null || umount -l full' EXIT

# ~200 incompressible bytes per event: 40000 events are ~8 MB, more than twice
# the space, so some whole chunks (about 1 MB each) fit before it is full
set +e
timeout 120 "$GTRACE" run --op filler --dir full -- sh -c '
	echo "before"; "$0" noise 40000; echo "noise=$?"; echo "to stderr" >&2; exit 3' "$E" >out.txt 2>err.txt
rc=$?
set -e
[ "$rc" -eq 3 ] || fail "exit status $rc, expected the command's 3; stderr: $(cat err.txt)"
printf 'before\nnoise=0\n' | cmp -s - out.txt || fail "stdout changed: $(cat out.txt)"
grep -qx 'to stderr' err.txt || fail "the command's stderr lost: $(cat err.txt)"
# one warning, when it happens: what went wrong, in which file, what is kept
n=$(grep -c '^gtrace' err.txt || true)
[ "$n" -eq 1 ] || fail "expected one gtrace warning, got $n: $(cat err.txt)"
grep -qx "gtrace: warning: writing 'full/filler_[0-9_]*\.gtrace' failed: No space left on device; .*last whole chunk.*" err.txt ||
	fail "the warning does not name the file and the error: $(cat err.txt)"
! grep -q '^gtrace: wrote ' err.txt || fail "summary claims a complete file: $(cat err.txt)"
file=$(only_file full)
timeout 60 "$GTRACE" info --json "$file" >info.json || fail "info on the cut file"
timeout 60 "$GTRACE" dump "$file" --format json >dump.json 2>dump.err || fail "dump on the cut file"
python3 - "$file" <<'PY'
import json, os, sys
j = json.load(open("info.json"))
size = os.path.getsize(sys.argv[1])
# cut back to its last whole block: the recovery scan ends exactly at the end
if j["complete"]:
    sys.exit(0)
assert j["recovered"], j
assert j["recover_note"] == f"file ends after the last whole block at offset {size}", j["recover_note"]
seqs = [json.loads(l)["fields"]["seq"] for l in open("dump.json") if json.loads(l)["event"] == "Noise"]
assert len(seqs) == j["events"] - sum(1 for l in open("dump.json") if json.loads(l)["event"] != "Noise")
# what was kept is a clean prefix of the numbered events
assert sorted(seqs) == list(range(len(seqs))), "kept events are not a prefix"
assert len(seqs) > 0, "no whole chunk kept"
print(f"kept {len(seqs)} of 40000 events in {size} bytes")
PY
exit 0
