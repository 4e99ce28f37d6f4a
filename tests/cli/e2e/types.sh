#!/usr/bin/env bash
# Every field type with edge values arrives exact in `gtrace dump --format json`.
. "$GT_SRC/tests/cli/lib.sh"
run_traced types "$GT_BIN/gt_e2e" types
[ "$rc" -eq 0 ] || fail "gt_e2e types exited $rc: $(cat stderr.txt)"
dump_json "$file"
python3 - "$GT_SRC/tests/cli/e2e" <<'PY'
import math, sys
sys.path.insert(0, sys.argv[1])
from check import load, one, of, expect
ev = load()
e = one(ev, "Test.E2E", "Ints")
expect(e["level"] == 4 and e["keywords"] == 1, f"Ints level/keywords: {e}")
f = e["fields"]
want = {"i32min": -2**31, "i32max": 2**31 - 1, "u32max": 2**32 - 1, "i64min": -2**63,
        "i64max": 2**63 - 1, "u64max": 2**64 - 1, "zero": 0, "minus1": -1,
        "u64big": 0x8000000000000001}
for k, v in want.items():
    expect(f.get(k) == v and type(f.get(k)) is int, f"Ints.{k}: want {v}, got {f.get(k)!r}")
expect(list(f) == list(want), f"Ints field order {list(f)}")
f = one(ev, "Test.E2E", "Floats")["fields"]
expect(f["tenth"] == 0.1 and f["max"] == 1.7976931348623157e308 and f["min"] == 2.2250738585072014e-308,
       f"Floats: {f}")
expect(f["negzero"] == 0.0 and math.copysign(1, f["negzero"]) == -1, f"negzero {f['negzero']!r}")
expect(f["nan"] == "NaN" and f["inf"] == "Infinity" and f["ninf"] == "-Infinity", f"non-finite: {f}")
e = one(ev, "Test.E2E", "Bools")
expect(e["fields"] == {"yes": True, "no": False} and e["level"] == 3 and e["keywords"] == 2, f"Bools: {e}")
e = one(ev, "Test.E2E", "Strings")
f = e["fields"]
expect(f["empty"] == "", "empty string")
expect(f["escapes"] == 'tab\there "quoted" back\\slash\nnewline \x01 ctl', f"escapes: {f['escapes']!r}")
expect(f["utf8"] == "h\u00e9llo \u20ac", f"utf8: {f['utf8']!r}")
expect(f["sixteen"] == "0123456789abcdef", "sixteen")
expect(f["null"] == "", "NULL string records as empty")
expect(f["big"] == "x" * 2999, f"big string length {len(f['big'])}")
expect(e["level"] == 2, "Strings level")
f = one(ev, "Test.E2E", "Bytes")["fields"]
expect(f == {"raw": "00017f80feff", "none": ""}, f"Bytes: {f}")
e = one(ev, "Test.E2E", "NoFields")
expect(e["fields"] == {} and e["level"] == 1 and e["keywords"] == 2**63, f"NoFields: {e}")
expect(one(ev, "Test.Other", "Other")["fields"] == {"n": 7}, "Other provider")
pids = {x["pid"] for x in of(ev, "Test.E2E")}
expect(len(pids) == 1 and all(x["tid"] > 0 for x in ev if x["provider"].startswith("Test.")), "pid/tid")
for x in ev:
    for k in ("ts", "pid", "tid", "provider", "event", "level", "keywords", "fields"):
        expect(k in x, f"key {k} missing in {x}")
PY
