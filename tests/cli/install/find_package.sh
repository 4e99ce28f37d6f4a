#!/bin/bash
# SPDX-License-Identifier: MIT
#
# install/find_package: `cmake --install` the build into a scratch prefix,
# build a tiny CMake project that uses find_package(gtrace) and links one
# program against gtrace::gtrace (shared) and one against
# gtrace::gtrace_static, run both under `gtrace run` and check that each
# file holds the program's events.
set -u
: "${GTRACE:?}" "${GT_BUILD:?}" "${GT_TMP:?}"

fail() {
	echo "install/find_package: $*" >&2
	exit 1
}

command -v python3 >/dev/null || { echo "python3 not installed: skip"; exit 77; }

rm -rf "$GT_TMP" && mkdir -p "$GT_TMP/app" && cd "$GT_TMP" || exit 1
PREFIX=$GT_TMP/prefix
cmake --install "$GT_BUILD" --prefix "$PREFIX" >install.log 2>&1 || {
	cat install.log
	fail "cmake --install failed"
}

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
CM
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
cmake -S app -B app/build -DCMAKE_PREFIX_PATH="$PREFIX" -DCMAKE_BUILD_TYPE=Release \
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
	if ldd app/build/app_static | grep -q libgtrace; then
		fail "app_static is linked against libgtrace.so"
	fi
else
	echo "note: gtrace::gtrace_static not installed, static link not tested"
fi
ldd app/build/app_shared | grep -q "$PREFIX/.*libgtrace.so" || {
	ldd app/build/app_shared
	fail "app_shared does not use the installed libgtrace.so"
}

for kind in $kinds; do
	"$GTRACE" run --op "fp_$kind" --dir logs -- "app/build/app_$kind" >"run_$kind.out" 2>&1
	rc=$?
	[ "$rc" -eq 0 ] || { cat "run_$kind.out"; fail "gtrace run of app_$kind exited $rc"; }
	grep -q "$kind app ran" "run_$kind.out" || fail "app_$kind output missing"
	f=$(ls logs/fp_"$kind"_*.gtrace 2>/dev/null | head -n 1)
	[ -n "$f" ] || fail "no logs/fp_${kind}_*.gtrace written"
	"$GTRACE" dump "$f" --format json >"dump_$kind.json" 2>"dump_$kind.err" ||
		{ cat "dump_$kind.err"; fail "gtrace dump failed on $f"; }
	python3 - "dump_$kind.json" "$kind" <<'PY' || fail "app_$kind events missing (see $GT_TMP/dump_$kind.json)"
import json, sys

text = open(sys.argv[1]).read()
kind = sys.argv[2]
try:
    data = json.loads(text)
except ValueError:
    data = [json.loads(l) for l in text.splitlines() if l.strip()]
if isinstance(data, dict):
    data = data.get("events", [])

def fields(ev):
    f = ev.get("fields", ev.get("args", {}))
    if isinstance(f, list):
        f = {x.get("name"): x.get("value") for x in f if isinstance(x, dict)}
    return f

mine = [e for e in data if isinstance(e, dict) and e.get("provider") == "Install.FindPackage"]
names = [e.get("event") or e.get("name") for e in mine]
steps = sorted(int(fields(e)["i"]) for e in mine if (e.get("event") or e.get("name")) == "Step"
               and fields(e).get("kind") == kind)
if steps != list(range(5)) or names.count("Main") != 2:
    print("events:", mine, file=sys.stderr)
    sys.exit(1)
print("ok: %s: 5 Step events and a Main span" % kind)
PY
done
echo "install/find_package: ok"
