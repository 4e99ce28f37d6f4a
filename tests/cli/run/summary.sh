# The one summary line: path, human size, events, lost.
source "$(dirname "$0")/../lib.sh"

run_traced unit_tests sh -c 'i=0; while [ $i -lt 100 ]; do echo line $i; i=$((i+1)); done'
[ "$rc" -eq 0 ] || fail "rc $rc"
line=$(tail -n 1 stderr.txt)
[[ "$line" =~ ^gtrace:\ wrote\ (TestLogs/unit_tests_[0-9]{8}_[0-9]{6}\.gtrace)\ \(([0-9.]+)\ (B|KiB|MiB),\ ([0-9]+)\ events,\ 0\ lost\)$ ]] ||
	fail "summary: $line"
[ "${BASH_REMATCH[1]}" = "$file" ] || fail "summary names ${BASH_REMATCH[1]}, file is $file"
# 100 output lines + process start/exit at least
[ "${BASH_REMATCH[4]}" -ge 102 ] || fail "only ${BASH_REMATCH[4]} events"
size=$(stat -c %s "$file")
case ${BASH_REMATCH[3]} in
B) [ "${BASH_REMATCH[2]}" = "$size" ] || fail "size ${BASH_REMATCH[2]} B vs $size" ;;
KiB) awk -v s="$size" -v k="${BASH_REMATCH[2]}" 'BEGIN { exit !(s / 1024 - k < 0.06 && k - s / 1024 < 0.06) }' ||
	fail "size ${BASH_REMATCH[2]} KiB vs $size bytes" ;;
esac
