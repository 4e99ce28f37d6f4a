#!/bin/bash
# Fault (d): commands that make `gtrace run` hard to end.  With --timeout 2
# each one still ends within a bounded time (the outer `timeout 30` fails
# the test otherwise), exits 124, kills the whole tree, even a daemon that
# left the process group with setsid and a double fork, and leaves a
# complete file.  A command that exits leaving a daemon that holds its
# pipes: gtrace ends shortly after the command, with its status.
source "$(dirname "$0")/../lib.sh"
daemons=()
cleanup() {
	for p in "${daemons[@]}"; do kill -9 "$p" 2>/dev/null || true; done
	true
}
trap cleanup EXIT

# wait_gone PID: true once PID no longer exists (a zombie is reaped by init)
wait_gone() {
	for _ in $(seq 50); do
		kill -0 "$1" 2>/dev/null || return 0
		[ "$(ps -o stat= -p "$1" 2>/dev/null)" = Z ] && return 0
		sleep 0.1
	done
	return 1
}

# runaway NAME SCRIPT: run SCRIPT under --timeout 2, expect 124 and a complete file
runaway() {
	local name=$1 script=$2
	rm -rf TestLogs daemon.pid
	SECONDS=0
	set +e
	timeout 30 "$GTRACE" run --op "$name" --dir TestLogs --timeout 2 -- sh -c "$script" >out.txt 2>err.txt
	rc=$?
	set -e
	[ "$rc" -eq 124 ] || fail "$name: exit $rc, expected 124 (timeout); stderr: $(cat err.txt)"
	[ "$SECONDS" -lt 15 ] || fail "$name: took ${SECONDS}s"
	file=$(only_file TestLogs)
	grep -q "^gtrace: wrote $file " err.txt || fail "$name: no summary: $(cat err.txt)"
	timeout 30 "$GTRACE" info "$file" >info.txt || fail "$name: info"
	grep -qx 'complete:     yes' info.txt || fail "$name: $(grep complete info.txt)"
	grep -qx 'exit:         timed out' info.txt ||
		fail "$name: timeout not recorded: $(cat info.txt)"
}

# closes stdout and stderr, ignores SIGTERM, keeps running
runaway closed 'trap "" TERM; echo before; exec >&- 2>&-; sleep 60'
grep -qx before out.txt || fail "closed: output before the close lost"

# redirects them to /dev/null, ignores SIGTERM
runaway devnull 'trap "" TERM; exec >/dev/null 2>&1; sleep 60'

# forks a daemon (setsid, double fork) that ignores SIGTERM and holds the pipes
runaway daemon 'setsid sh -c "sh -c '\''echo \$\$ >daemon.pid; trap \"\" TERM; while :; do echo tick; sleep 0.2; done'\'' & exit 0"; sleep 60'
[ -s daemon.pid ] || fail "daemon: did not start"
d=$(cat daemon.pid)
daemons+=("$d")
wait_gone "$d" || fail "daemon $d outlived the timeout"
grep -q tick out.txt || fail "daemon: its output was not passed through"

# the command exits at once, its daemon keeps the pipes: gtrace ends anyway,
# with the command's status; the daemon is not gtrace's to kill
rm -rf TestLogs daemon.pid
SECONDS=0
set +e
timeout 30 "$GTRACE" run --op leaver --dir TestLogs --timeout 20 -- sh -c \
	'setsid sh -c "sh -c '\''echo \$\$ >daemon.pid; while :; do echo tick; sleep 0.2; done'\'' & exit 0"; sleep 0.3; exit 5' >out.txt 2>err.txt
rc=$?
set -e
[ -s daemon.pid ] && daemons+=("$(cat daemon.pid)")
[ "$rc" -eq 5 ] || fail "leaver: exit $rc, expected 5"
[ "$SECONDS" -lt 10 ] || fail "leaver: gtrace waited ${SECONDS}s for the daemon"
file=$(only_file TestLogs)
timeout 30 "$GTRACE" info "$file" | grep -qx 'complete:     yes' || fail "leaver: file not complete"
exit 0
