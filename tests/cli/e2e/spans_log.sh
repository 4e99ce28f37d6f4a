#!/usr/bin/env bash
# Spans come out as begin/end pairs; gt_log renders its stored format.
. "$GT_SRC/tests/cli/lib.sh"
run_traced spans "$GT_BIN/gt_e2e" spans
[ "$rc" -eq 0 ] || fail "spans exited $rc"
dump_json "$file"
python3 - "$GT_SRC/tests/cli/e2e" <<'PY'
import sys
sys.path.insert(0, sys.argv[1])
from check import load, of, expect
ev = of(load(), "Test.E2E", "Step")
kinds = [(e["kind"], e["fields"]) for e in ev]
want = []
for i in range(3):
    want += [("span_begin", {"i": i}), ("span_end", {"rc": -i})]
expect(kinds == want, f"spans: {kinds}")
expect(all(b["ts"] + 900_000 <= e["ts"] for b, e in zip(ev[0::2], ev[1::2])), "span durations >= 0.9 ms")
PY
run_traced log "$GT_BIN/gt_e2e" log
[ "$rc" -eq 0 ] || fail "log exited $rc"
dump_json "$file"
python3 - "$GT_SRC/tests/cli/e2e" <<'PY'
import sys
sys.path.insert(0, sys.argv[1])
from check import load, of, expect
ev = [e for e in of(load(), "Test.E2E") if e["kind"] == "log"]
msgs = [e["message"] for e in ev]
expect(msgs == ["retry 3 of connect after 2.5 ms", "plain message",
                "big 18446744073709551615 neg -9223372036854775808 hex ff pct %"], f"messages: {msgs}")
expect(ev[0]["level"] == 3 and list(ev[0]["fields"].values()) == [3, "connect", 2.5], f"log fields: {ev[0]}")
PY
"$GTRACE" dump "$file" | grep -q 'retry 3 of connect after 2.5 ms' || fail "text dump lacks the message"
