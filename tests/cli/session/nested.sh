#!/usr/bin/env bash
# Nested sessions (docs/sessions.md): a `gtrace run` in a session's shell,
# and a session started inside another, put their command's events in their
# own file AND in the enclosing session's file, each exactly once, with the
# same pid/tid; events of the enclosing shell never go into the inner file.
. "$GT_SRC/tests/cli/lib.sh"
. "$GT_SRC/tests/cli/session/sess_lib.bash"

sess_start --op outer --dir O --name nest_out
"$GT_BIN/gt_e2e" exit 0 # a process of the outer session itself
timeout 60 "$GTRACE" run --op inner --dir I -- "$GT_BIN/gt_e2e" numbered 2 5000 0.5 \
	>run1.out 2>run1.err || fail "gtrace run: $(cat run1.err)"
grep -q "warning" run1.err && fail "unexpected warning: $(cat run1.err)"
"$GTRACE" rotate --op outer2 >/dev/null || fail "rotate"
# a session started inside the outer one, two files (rotated), then stopped
outer_env=$GTRACE_SESSION
sess_start --op mid1 --dir M --name nest_mid
"$GT_BIN/gt_e2e" numbered 1 5000 0.3 >mid1.out
"$GTRACE" rotate --session nest_mid --op mid2 >/dev/null || fail "rotate nest_mid"
"$GT_BIN/gt_e2e" numbered 1 5000 0.3 >mid2.out
timeout 60 "$GTRACE" stop --session nest_mid >stopm.txt || fail "stop nest_mid"
export GTRACE_SESSION=$outer_env
timeout 60 "$GTRACE" stop --session nest_out >stop.txt || fail "stop nest_out"

: >outer.json
for f in O/*.gtrace; do
	"$GTRACE" dump "$f" --format json >>outer.json || fail "dump $f"
done
"$GTRACE" dump "$(only_file I)" --format json >inner.json || fail "dump inner"
: >mid.json
for f in M/*.gtrace; do
	"$GTRACE" dump "$f" --format json >>mid.json || fail "dump $f"
done
python3 - <<'PY'
import json, re
def load(f):
    return [json.loads(l) for l in open(f)]
def nums(evs):
    out = {}
    for e in evs:
        if e["event"] == "Num":
            k = (e["pid"], e["fields"]["thread"], e["fields"]["seq"])
            out[k] = out.get(k, 0) + 1
            assert e["tid"], e
    return out
def emitted(path):
    return sum(int(m.group(1)) for m in re.finditer(r"emitted (\d+)", open(path).read()))
outer, inner, mid = load("outer.json"), load("inner.json"), load("mid.json")
no, ni, nm = nums(outer), nums(inner), nums(mid)
n_run = emitted("run1.out")
n_mid = emitted("mid1.out") + emitted("mid2.out")
assert n_run > 0 and n_mid > 0
assert len(ni) == n_run and all(v == 1 for v in ni.values()), (len(ni), n_run)
assert len(nm) == n_mid and all(v == 1 for v in nm.values()), (len(nm), n_mid)
# the outer session has both, each exactly once, same pid/tid/seq
assert all(v == 1 for v in no.values()), "doubled in the outer file"
assert set(no) == set(ni) | set(nm), (len(no), len(ni), len(nm))
tid_in = {(e["pid"], e["tid"], e["fields"]["seq"], e["fields"]["thread"]) for e in inner if e["event"] == "Num"}
tid_out = {(e["pid"], e["tid"], e["fields"]["seq"], e["fields"]["thread"]) for e in outer if e["event"] == "Num"}
assert tid_in <= tid_out, "pid/tid changed on import"
# the outer shell's own process is not in the inner files
pids_outer_only = {e["pid"] for e in outer if e["event"] == "Exiting"}
assert pids_outer_only, "the outer session's own process is missing"
assert not pids_outer_only & {e["pid"] for e in inner + mid}
PY
[ -z "$(ls "$GT_SESS_ROOT")" ] || fail "state left: $(ls "$GT_SESS_ROOT")"

# the enclosing session is gone: one warning, the command's status unchanged
set +e
timeout 60 "$GTRACE" run --op orphan --dir I -- "$GT_BIN/gt_e2e" exit 3 >run2.out 2>run2.err
rc=$?
set -e
[ "$rc" -eq 3 ] || fail "exit $rc, expected 3: $(cat run2.err)"
[ "$(grep -c 'warning' run2.err)" -eq 1 ] || fail "expected one warning: $(cat run2.err)"
grep -q "enclosing session 'nest_out'" run2.err || fail "warning names no session: $(cat run2.err)"
