# Profile of the demo's perf_tests step (docs/profiles.md).
# Every provider at every level, as the default profile, but with a ring
# large enough for the whole burst: perf_tests emits one event per packet,
# 2 M events in well under a second from one thread, faster than a
# collector can drain them on a loaded 2-core machine.
provider * level=verbose
buffer ring_size=64M threads=4
