#!/bin/bash
# SPDX-License-Identifier: MIT
#
# install/find_package: `cmake --install` the build into a scratch prefix,
# build a tiny CMake project that uses find_package(gtrace) and links one
# program against gtrace::gtrace (shared) and one against
# gtrace::gtrace_static, run both under `gtrace run` and check that each
# file holds the program's events; a third program linked against
# gtrace::reader counts the events of such a file.
. "$GT_SRC/tests/cli/lib.sh"
. "$GT_SRC/tests/cli/install/install_lib.bash"
: "${GT_BUILD:?}"

mkdir app
install_prefix

cat >app/CMakeLists.txt <<'CM'
cmake_minimum_required(VERSION 3.20)
project(gtrace_consumer C)
find_package(gtrace 0.1 REQUIRED)
if(NOT TARGET gtrace::gtrace_lib OR NOT TARGET gtrace::gtrace)
  message(FATAL_ERROR "gtrace::gtrace_lib / gtrace::gtrace missing")
endif()
add_executable(app_shared app.c)
target_compile_definitions(app_shared PRIVATE APP_KIND="shared")
target_link_libraries(app_shared PRIVATE gtrace::gtrace)
if(TARGET gtrace::gtrace_static)
  add_executable(app_static app.c)
  target_compile_definitions(app_static PRIVATE APP_KIND="static")
  target_link_libraries(app_static PRIVATE gtrace::gtrace_static)
endif()
if(WANT_READER AND NOT TARGET gtrace::reader)
  message(FATAL_ERROR "gtrace::reader missing")
endif()
if(TARGET gtrace::reader)
  add_executable(app_reader reader.c)
  target_link_libraries(app_reader PRIVATE gtrace::reader)
endif()
CM
cat >app/reader.c <<'C'
#include <inttypes.h>
#include <stdio.h>
#include <gtrace/reader.h>

int main(int argc, char **argv)
{
	struct gt_reader *r;
	struct gt_iter *it;
	const struct gt_event *ev;
	uint64_t n = 0;
	int ret;

	if (argc != 2 || (ret = gt_reader_open(argv[1], &r)) < 0)
		return 1;
	ret = gt_iter_new(r, NULL, &it);
	while (ret >= 0 && (ret = gt_iter_next(it, &ev)) == 1)
		n++;
	gt_iter_free(it);
	gt_reader_close(r);
	if (ret < 0) {
		fprintf(stderr, "app_reader: %s\n", gt_strerror(ret));
		return 1;
	}
	printf("%" PRIu64 "\n", n);
	return 0;
}
C
cat >app/app.c <<'C'
#include <stdio.h>
#include <gtrace/gtrace.h>

GT_PROVIDER_DEFINE(app_prov, "Install.FindPackage");

int main(void)
{
	GT_SPAN_BEGIN(app_prov, GT_LEVEL_INFO, 0, "Main", GT_STR("kind", APP_KIND));
	for (int i = 0; i < 5; i++)
		GT_EVENT(app_prov, GT_LEVEL_INFO, 0x2, "Step", GT_I64("i", i), GT_STR("kind", APP_KIND));
	GT_SPAN_END(app_prov, GT_LEVEL_INFO, 0, "Main", GT_I32("rc", 0));
	printf("%s app ran\n", APP_KIND);
	return 0;
}
C
# a GT_FUZZ build has no reader library (format/CMakeLists.txt)
want_reader=ON
grep -q '^GT_FUZZ:BOOL=ON' "$GT_BUILD/CMakeCache.txt" 2>/dev/null && want_reader=OFF
cmake -S app -B app/build -DCMAKE_PREFIX_PATH="$PREFIX" -DCMAKE_BUILD_TYPE=Release \
	-DWANT_READER=$want_reader \
	>configure.log 2>&1 || { cat configure.log; fail "find_package(gtrace) project does not configure"; }
cmake --build app/build >build.log 2>&1 || { cat build.log; fail "find_package(gtrace) project does not build"; }

# the version file: the next major version is not satisfied
version=$(sed -n 's/^Version: //p' "$(find "$PREFIX" -name gtrace.pc | head -n 1)")
[ -n "$version" ] || fail "no Version in the installed gtrace.pc"
next=$((${version%%.*} + 1)).0
mkdir -p badver
cat >badver/CMakeLists.txt <<CM
cmake_minimum_required(VERSION 3.20)
project(gtrace_badver C)
find_package(gtrace $next REQUIRED)
CM
if cmake -S badver -B badver/build -DCMAKE_PREFIX_PATH="$PREFIX" >badver.log 2>&1; then
	fail "find_package(gtrace $next) accepted version $version"
fi

kinds="shared"
if [ -x app/build/app_static ]; then
	kinds="shared static"
	if grep -q libgtrace <<<"$(ldd app/build/app_static)"; then
		fail "app_static is linked against libgtrace.so"
	fi
else
	echo "note: gtrace::gtrace_static not installed, static link not tested"
fi
grep -q "$PREFIX/.*libgtrace.so" <<<"$(ldd app/build/app_shared)" || {
	ldd app/build/app_shared
	fail "app_shared does not use the installed libgtrace.so"
}

for kind in $kinds; do
	run_app "fp_$kind" "app/build/app_$kind" "$kind app ran"
	python3 - "dump_fp_$kind.json" "$kind" <<'PY' || fail "app_$kind events missing (see $GT_TMP/dump_fp_$kind.json)"
import json, sys

kind = sys.argv[2]
mine = [e for e in map(json.loads, open(sys.argv[1])) if e["provider"] == "Install.FindPackage"]
steps = sorted(e["fields"]["i"] for e in mine if e["event"] == "Step" and e["fields"]["kind"] == kind)
spans = [e["kind"] for e in mine if e["event"] == "Main"]
if steps != list(range(5)) or len(spans) != 2:
    sys.exit(f"events: {mine}")
print(f"ok: {kind}: 5 Step events and a Main span")
PY
done

# gtrace::reader: the event count through the installed reader library
[ "$want_reader" = ON ] || { echo "note: GT_FUZZ build, gtrace::reader not tested"; exit 0; }
grep -q "$PREFIX/.*libgtrace-reader.so" <<<"$(ldd app/build/app_reader)" || {
	ldd app/build/app_reader
	fail "app_reader does not use the installed libgtrace-reader.so"
}
f=$(ls logs/fp_shared_*.gtrace | head -n 1)
n=$(app/build/app_reader "$f") || fail "app_reader failed on $f"
want=$("$GTRACE" info "$f" --json | python3 -c 'import json, sys; print(json.load(sys.stdin)["events"])')
[ "$n" -ge 7 ] && [ "$n" = "$want" ] || fail "app_reader counted '$n' events in $f, gtrace info says $want"
echo "ok: app_reader counted $n events"
