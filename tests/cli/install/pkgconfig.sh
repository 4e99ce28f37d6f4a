#!/bin/bash
# SPDX-License-Identifier: MIT
#
# install/pkgconfig: `cmake --install` the build into a scratch prefix,
# compile a small instrumented program with nothing but
# `pkg-config --cflags --libs gtrace`, run it under `gtrace run` and check
# with `gtrace dump --format json` that its events are in the file.
set -u
: "${GTRACE:?}" "${GT_BUILD:?}" "${GT_TMP:?}"

fail() {
	echo "install/pkgconfig: $*" >&2
	exit 1
}

command -v pkg-config >/dev/null || { echo "pkg-config not installed: skip"; exit 77; }
command -v cc >/dev/null || { echo "no C compiler: skip"; exit 77; }
command -v python3 >/dev/null || { echo "python3 not installed: skip"; exit 77; }

rm -rf "$GT_TMP" && mkdir -p "$GT_TMP" && cd "$GT_TMP" || exit 1
PREFIX=$GT_TMP/prefix
cmake --install "$GT_BUILD" --prefix "$PREFIX" >install.log 2>&1 || {
	cat install.log
	fail "cmake --install failed"
}

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
ldd ./app | grep -q "$libdir/libgtrace.so" || {
	ldd ./app
	fail "app is not linked against the installed libgtrace.so"
}

"$GTRACE" run --op pc_app --dir logs -- ./app >run.out 2>run.err
rc=$?
[ "$rc" -eq 0 ] || { cat run.err; fail "gtrace run exited $rc"; }
grep -q "app ran" run.out || fail "app output missing"
f=$(ls logs/pc_app_*.gtrace 2>/dev/null | head -n 1)
[ -n "$f" ] || fail "no logs/pc_app_*.gtrace written"
"$GTRACE" dump "$f" --format json >dump.json 2>dump.err || { cat dump.err; fail "gtrace dump failed"; }

python3 - dump.json <<'PY' || fail "events missing from the dump (see $GT_TMP/dump.json)"
import json, sys

text = open(sys.argv[1]).read()
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

hello = [fields(e) for e in data if isinstance(e, dict)
         and e.get("provider") == "Install.PkgConfig"
         and (e.get("event") or e.get("name")) == "Hello"]
seq = sorted(int(f.get("i")) for f in hello)
if seq != list(range(10)) or any(f.get("via") != "pkg-config" for f in hello):
    print("Hello events:", hello, file=sys.stderr)
    sys.exit(1)
print("ok: 10 Hello events")
PY
echo "install/pkgconfig: ok"
