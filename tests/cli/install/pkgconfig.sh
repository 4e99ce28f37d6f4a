#!/bin/bash
# SPDX-License-Identifier: MIT
#
# install/pkgconfig: `cmake --install` the build into a scratch prefix,
# compile a small instrumented program with nothing but
# `pkg-config --cflags --libs gtrace`, run it under `gtrace run` and check
# with `gtrace dump --format json` that its events are in the file.
. "$GT_SRC/tests/cli/lib.sh"
. "$GT_SRC/tests/cli/install/install_lib.bash"
: "${GT_BUILD:?}"

command -v pkg-config >/dev/null || { echo "pkg-config not installed: skip"; exit 77; }
command -v cc >/dev/null || { echo "no C compiler: skip"; exit 77; }

install_prefix

pc=$(find "$PREFIX" -name gtrace.pc -path '*/pkgconfig/*' | head -n 1)
[ -n "$pc" ] || fail "no gtrace.pc installed under $PREFIX"
export PKG_CONFIG_PATH=${pc%/gtrace.pc}
pkg-config --exists gtrace || fail "pkg-config does not accept $pc"
[ "$(pkg-config --modversion gtrace)" = "$(sed -n 's/^Version: //p' "$pc")" ] ||
	fail "pkg-config --modversion disagrees with $pc"
libdir=$(pkg-config --variable=libdir gtrace)
incdir=$(pkg-config --variable=includedir gtrace)
case "$libdir" in "$PREFIX"/*) ;; *) fail "libdir '$libdir' is not inside the install prefix" ;; esac
case "$incdir" in "$PREFIX"/*) ;; *) fail "includedir '$incdir' is not inside the install prefix" ;; esac
[ -f "$incdir/gtrace/gtrace.h" ] || fail "gtrace/gtrace.h not installed in $incdir"

cat >app.c <<'C'
#include <stdio.h>
#include <gtrace/gtrace.h>

GT_PROVIDER_DEFINE(app_prov, "Install.PkgConfig");

int main(void)
{
	for (int i = 0; i < 10; i++)
		GT_EVENT(app_prov, GT_LEVEL_INFO, 0x1, "Hello", GT_I32("i", i),
			 GT_STR("via", "pkg-config"));
	gt_log(app_prov, GT_LEVEL_WARNING, "built with %s", "pkg-config");
	puts("app ran");
	return 0;
}
C
# shellcheck disable=SC2046 # word splitting of pkg-config output is intended
cc -std=gnu11 -Wall -Wextra -Werror -o app app.c $(pkg-config --cflags --libs gtrace) \
	-Wl,-rpath,"$libdir" 2>cc.log || {
	cat cc.log
	fail "cannot build with pkg-config --cflags --libs gtrace"
}
grep -q "$libdir/libgtrace.so" <<<"$(ldd ./app)" || {
	ldd ./app
	fail "app is not linked against the installed libgtrace.so"
}

run_app pc_app ./app "app ran"
python3 - dump_pc_app.json <<'PY' || fail "events missing from the dump (see $GT_TMP/dump_pc_app.json)"
import json, sys

mine = [e for e in map(json.loads, open(sys.argv[1])) if e["provider"] == "Install.PkgConfig"]
hello = [e["fields"] for e in mine if e["event"] == "Hello"]
logs = [e.get("message") for e in mine if e["event"] == "log"]
if sorted(f["i"] for f in hello) != list(range(10)) or any(f["via"] != "pkg-config" for f in hello):
    sys.exit(f"Hello events: {hello}")
if logs != ["built with pkg-config"]:
    sys.exit(f"log events: {logs}")
print("ok: 10 Hello events and the log event")
PY
