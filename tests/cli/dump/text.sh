#!/bin/bash
# gtrace dump text lines: "<s.ns> <pid>/<tid> <provider>/<event> [<LEVEL>] k=v ...".
set -u
GEN="$GT_BUILD/tests/tools/gt_fmt_gen"
rm -rf "$GT_TMP" && mkdir -p "$GT_TMP" && cd "$GT_TMP" || exit 1
fail() { echo "FAIL: $*" >&2; exit 1; }

"$GEN" t.gtrace --events 1000 --threads 2 >/dev/null || fail gen
timeout 20 "$GTRACE" dump t.gtrace >out.txt 2>err.txt || fail "exit $?"
[ "$(wc -l <out.txt)" -eq 1007 ] || fail "line count $(wc -l <out.txt)"
expect_line() {
	grep -qxF -- "$1" out.txt || fail "missing line: $1"
}
expect_line '0.000000005 100/101 Test.Span/Step [INFO] begin name="main"'
expect_line '0.000000020 100/100 Test.Types/AllTypes [INFO] i32=2147483647 u32=4294967295 i64=9223372036854775807 u64=18446744073709551615 f64=inf flag=true s="h'$'\xc3\xa9''llo \"q\" \\ \n\t\x01" b=0x00017f80feff'
expect_line '0.000001000 100/101 Test.Bench/Tick [VERBOSE] counter=0 value=-500 name="test_alloc_small"'
expect_line '0.000100901 100/101 Test.Log/Message [WARNING] iteration 0 of phase: 99.90%'
expect_line '0.000101000 100/101 Test.Span/Step [INFO] end name="main"'
head -1 out.txt | grep -qF '0.000000005 ' || fail "first line: $(head -1 out.txt)"
# every line has the fixed prefix
grep -vqE '^[0-9]+\.[0-9]{9} [0-9]+/[0-9]+ [^ /]+/[^ ]+ \[(CRITICAL|ERROR|WARNING|INFO|VERBOSE)\]' out.txt &&
	fail "malformed line: $(grep -vE '^[0-9]+\.[0-9]{9} ' out.txt | head -1)"
timeout 20 "$GTRACE" dump --help | grep -q -- '--since' || fail "help"
exit 0
