# Helpers of tests/cli/install/*.sh (sourced after tests/cli/lib.sh).

# install_prefix: `cmake --install` the build into $GT_TMP/prefix; sets $PREFIX.
install_prefix() {
	PREFIX=$GT_TMP/prefix
	cmake --install "$GT_BUILD" --prefix "$PREFIX" >install.log 2>&1 ||
		{ cat install.log; fail "cmake --install $GT_BUILD failed"; }
}

# run_app OP EXE TEXT [ARGS...]: run EXE ARGS under `gtrace run --op OP
# --dir logs`, check that it exits 0 and prints TEXT (unless TEXT is empty),
# and dump its file as JSON lines into dump_OP.json.
run_app() {
	local op=$1 exe=$2 text=$3 f rc
	shift 3
	set +e
	timeout 60 "$GTRACE" run --op "$op" --dir logs -- "$exe" "$@" >"run_$op.out" 2>"run_$op.err"
	rc=$?
	set -e
	[ "$rc" -eq 0 ] || { cat "run_$op.err"; fail "gtrace run of $exe exited $rc"; }
	[ -z "$text" ] || grep -q "$text" "run_$op.out" || fail "$exe: output '$text' missing"
	f=$(ls logs/"$op"_*.gtrace 2>/dev/null | head -n 1)
	[ -n "$f" ] || fail "no logs/${op}_*.gtrace written"
	timeout 60 "$GTRACE" dump "$f" --format json >"dump_$op.json" 2>"dump_$op.err" ||
		{ cat "dump_$op.err"; fail "gtrace dump failed on $f"; }
}
