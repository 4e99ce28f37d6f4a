# Helpers for tests/cli/kernel/*.sh (sourced after tests/cli/lib.sh).  Not a
# test itself: the ctest glob only picks up *.sh.

# need_tracefs [EVENT...]: exit 77 (skip) unless we are root with a writable
# tracefs offering every EVENT ("system:event"); mounts tracefs if needed.
need_tracefs() {
	[ "$(id -u)" -eq 0 ] || { echo "skip: kernel events need root" >&2; exit 77; }
	if [ ! -d /sys/kernel/tracing/instances ]; then
		mount -t tracefs nodev /sys/kernel/tracing 2>/dev/null ||
			{ echo "skip: cannot mount tracefs" >&2; exit 77; }
	fi
	[ -w /sys/kernel/tracing/instances ] || { echo "skip: tracefs not writable" >&2; exit 77; }
	local ev
	for ev in "$@"; do
		grep -qx "$ev" /sys/kernel/tracing/available_events ||
			{ echo "skip: kernel has no $ev" >&2; exit 77; }
	done
}

# no_instance_left OP: fail if an ftrace instance of session OP still exists.
no_instance_left() {
	local left
	left=$(ls /sys/kernel/tracing/instances | grep -E "^gtrace_$1_[0-9]+\$" || true)
	[ -z "$left" ] || fail "ftrace instance(s) left behind: $left"
}

# rm_instances NAME: remove every ftrace instance of session/op NAME (for traps).
rm_instances() {
	local d
	for d in /sys/kernel/tracing/instances/gtrace_"$1"_*; do
		[ -d "$d" ] || continue
		echo 0 >"$d/tracing_on" 2>/dev/null || true
		rmdir "$d" 2>/dev/null || true
	done
}
