#!/bin/bash
# SPDX-License-Identifier: MIT
#
# install/reader: `cmake --install` the build into a scratch prefix, check
# that libgtrace-reader.so exports exactly the functions of gtrace/reader.h
# and gtrace/error.h, then build a small reader program with nothing but
# `pkg-config --cflags --libs gtrace-reader`, run it on files written by
# `gtrace run` and by gt_fmt_gen, and check that the events it iterates
# through the public API agree with `gtrace info --json`.
. "$GT_SRC/tests/cli/lib.sh"
. "$GT_SRC/tests/cli/install/install_lib.bash"
: "${GT_BUILD:?}"

command -v pkg-config >/dev/null || { echo "pkg-config not installed: skip"; exit 77; }
command -v cc >/dev/null || { echo "no C compiler: skip"; exit 77; }
if grep -q '^GT_FUZZ:BOOL=ON' "$GT_BUILD/CMakeCache.txt" 2>/dev/null; then
	echo "GT_FUZZ build: libgtrace-reader is not built: skip"
	exit 77
fi

install_prefix

pc=$(find "$PREFIX" -name gtrace-reader.pc -path '*/pkgconfig/*' | head -n 1)
[ -n "$pc" ] || fail "no gtrace-reader.pc installed under $PREFIX"
export PKG_CONFIG_PATH=${pc%/gtrace-reader.pc}
pkg-config --exists gtrace-reader || fail "pkg-config does not accept $pc"
libdir=$(pkg-config --variable=libdir gtrace-reader)
incdir=$(pkg-config --variable=includedir gtrace-reader)
case "$libdir" in "$PREFIX"/*) ;; *) fail "libdir '$libdir' is not inside the install prefix" ;; esac
[ -f "$incdir/gtrace/reader.h" ] || fail "gtrace/reader.h not installed in $incdir"
so=$libdir/libgtrace-reader.so.0
[ -f "$so" ] || fail "$so not installed"
[ -L "$libdir/libgtrace-reader.so" ] || fail "no libgtrace-reader.so development link in $libdir"
objdump -p "$so" | grep -q 'SONAME *libgtrace-reader\.so\.0$' || fail "$so: SONAME is not libgtrace-reader.so.0"
# zstd and xxhash stay private: not in the public link line
pkg-config --libs gtrace-reader | grep -q -e -lzstd -e -lxxhash &&
	fail "pkg-config --libs gtrace-reader names zstd/xxhash (they belong in Requires.private)"
pkg-config --static --libs gtrace-reader | grep -q -e -lzstd ||
	fail "pkg-config --static --libs gtrace-reader lacks -lzstd"

# exported symbols == functions declared in the installed public headers
sed -n 's/^[a-z].*[ *]\(gt_[a-z0-9_]*\)(.*/\1/p' "$incdir/gtrace/reader.h" "$incdir/gtrace/error.h" |
	sort -u >api.txt
nm -D --defined-only "$so" | awk '$2 == "T" { sub(/@.*/, "", $3); print $3 }' | sort -u >exported.txt
[ "$(wc -l <api.txt)" -ge 20 ] || fail "could not list the API of reader.h (got $(wc -l <api.txt) names)"
diff -u api.txt exported.txt >exports.diff ||
	{ cat exports.diff; fail "libgtrace-reader exports differ from reader.h + error.h (- missing, + extra)"; }

cat >count.c <<'C'
/* Count the events of a .gtrace file through the public reader API. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <gtrace/reader.h>

int main(int argc, char **argv)
{
	struct gt_reader *r = NULL;
	struct gt_iter *it = NULL;
	const struct gt_event *ev;
	char err[512], msg[256];
	uint64_t total = 0, nlog = 0, prev = 0;
	int ret;

	if (argc != 2)
		return 2;
	ret = gt_reader_open_ex(argv[1], 0, &r, err, sizeof(err));
	if (ret < 0) {
		fprintf(stderr, "count: %s (%s)\n", err, gt_strerror(ret));
		return 1;
	}
	size_t n = gt_reader_schema_count(r);
	uint64_t counts[n ? n : 1];

	memset(counts, 0, sizeof(counts));
	ret = gt_iter_new(r, NULL, &it);
	while (ret >= 0 && (ret = gt_iter_next(it, &ev)) == 1) {
		size_t i;

		if (ev->ts_ns < prev) {
			fprintf(stderr, "count: events out of time order\n");
			return 1;
		}
		prev = ev->ts_ns;
		for (i = 0; i < n && gt_reader_schema_at(r, i) != ev->schema; i++)
			;
		if (i == n) {
			fprintf(stderr, "count: event with an unknown schema\n");
			return 1;
		}
		counts[i]++;
		total++;
		if (gt_format_message(ev, msg, sizeof(msg)) > 0)
			nlog++;
	}
	if (ret < 0) {
		fprintf(stderr, "count: %s: %s\n", gt_reader_errmsg(r), gt_strerror(ret));
		return 1;
	}
	printf("events %" PRIu64 "\n", total);
	printf("messages %" PRIu64 "\n", nlog);
	printf("lost %" PRIu64 "\n", gt_reader_summary(r)->lost_total);
	for (size_t i = 0; i < n; i++) {
		const struct gt_schema *s = gt_reader_schema_at(r, i);

		if (counts[i])
			printf("event %s %s %" PRIu64 "\n", s->provider, s->name, counts[i]);
	}
	gt_iter_free(it);
	gt_reader_close(r);

	/* errors come back as negative errno with a name */
	ret = gt_reader_open("no-such-file.gtrace", &r);
	if (ret != -ENOENT || r != NULL || !strstr(gt_strerror(ret), "No such file")) {
		fprintf(stderr, "count: open of a missing file returned %d\n", ret);
		return 1;
	}
	return 0;
}
C
# shellcheck disable=SC2046 # word splitting of pkg-config output is intended
cc -std=gnu11 -Wall -Wextra -Werror -o count count.c $(pkg-config --cflags --libs gtrace-reader) \
	-Wl,-rpath,"$libdir" 2>cc.log || {
	cat cc.log
	fail "cannot build with pkg-config --cflags --libs gtrace-reader"
}
grep -q "$libdir/libgtrace-reader.so.0" <<<"$(ldd ./count)" || {
	ldd ./count
	fail "count is not linked against the installed libgtrace-reader.so"
}

# files: a traced program (threads, logs) and a generated multi-chunk file
run_app rd_threads "$GT_BIN/gt_e2e" "" threads 3 200
run_app rd_log "$GT_BIN/gt_e2e" ""  log
"$GT_BUILD/tests/tools/gt_fmt_gen" gen.gtrace --events 20000 --threads 3 --chunk-bytes 16384 \
	--clock tsc >gen.out || fail "gt_fmt_gen failed"

checked=0
for f in logs/rd_threads_*.gtrace logs/rd_log_*.gtrace gen.gtrace; do
	[ -f "$f" ] || fail "no $f"
	./count "$f" >count.out 2>count.err || { cat count.err; fail "count failed on $f"; }
	"$GTRACE" info "$f" --json >info.json 2>info.err || { cat info.err; fail "gtrace info failed on $f"; }
	python3 - count.out info.json "$f" <<'PY' || fail "reader API and gtrace info disagree on $f"
import json, sys

counts = {}
total = lost = None
for line in open(sys.argv[1]):
    w = line.split()
    if w[0] == "events":
        total = int(w[1])
    elif w[0] == "lost":
        lost = int(w[1])
    elif w[0] == "event":
        # one line per schema; call sites may share a provider and name
        counts[(w[1], w[2])] = counts.get((w[1], w[2]), 0) + int(w[3])
info = json.load(open(sys.argv[2]))
want = {(e["provider"], e["event"]): e["events"] for e in info["event_counts"] if e["events"]}
if total != info["events"] or total == 0:
    sys.exit(f"{sys.argv[3]}: iterated {total} events, info says {info['events']}")
if counts != want:
    sys.exit(f"{sys.argv[3]}: per-event counts {counts}, info says {want}")
if lost != info["lost"]:
    sys.exit(f"{sys.argv[3]}: lost {lost}, info says {info['lost']}")
print(f"ok: {sys.argv[3]}: {total} events in {len(counts)} kinds")
PY
	checked=$((checked + 1))
done
[ "$checked" -eq 3 ] || fail "checked $checked files, expected 3"
# the log program's three messages render through gt_format_message()
./count logs/rd_log_*.gtrace | grep -qx 'messages 3' || fail "log messages not rendered by the library"
