# NEEDS THE READER and libgtrace: a profile's provider rules reach the
# producers (WELCOME) and only the enabled providers are recorded.  Skips
# (77) while `gtrace info` cannot read the file or gt_e2e is not built; set
# GT_REQUIRE_DUMP=1 to make that a failure.
source "$(dirname "$0")/../lib.sh"

E2E=${GT_BIN:-}/gt_e2e
if [ ! -x "$E2E" ]; then
	echo "SKIP: $E2E not built"
	exit 77
fi
printf '# only one provider, and the collector minus output lines\nprovider Test.Other level=info\nprovider gtrace.output level=off\n' >p.prof
rm -rf TestLogs
"$GTRACE" run --profile p.prof --op rules -- "$E2E" types 2>err.txt || fail "rc $?: $(cat err.txt)"
f=$(only_file TestLogs)
if ! "$GTRACE" info "$f" --json >info.json 2>info.err; then
	[ "${GT_REQUIRE_DUMP:-0}" = 1 ] && fail "gtrace info failed: $(cat info.err)"
	echo "SKIP: gtrace info cannot read the file yet"
	exit 77
fi
python3 - <<'PY'
import json
i = json.load(open("info.json"))
i = i[0] if isinstance(i, list) else i
got = {(c["provider"], c["event"]): c["events"] for c in i["event_counts"] if c["events"]}
want = {("Test.Other", "Other"): 1, ("gtrace.process", "start"): 1, ("gtrace.process", "exit"): 1}
assert got == want, got
PY
