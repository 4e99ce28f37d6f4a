#!/usr/bin/env bash
# gtrace run exits with the command's status and the file records it.
. "$GT_SRC/tests/cli/lib.sh"
for code in 0 3 42; do
	run_traced exit "$GT_BIN/gt_e2e" exit "$code"
	[ "$rc" -eq "$code" ] || fail "exit $code came back as $rc"
	"$GTRACE" info --json "$file" >info.json
	python3 -c "
import json, sys
i = json.load(open('info.json'))
i = i[0] if isinstance(i, list) else i
sys.exit(0 if str(i['exit_status']) == '$code' else 'exit_status %r != $code' % i['exit_status'])"
done
