#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
#
# bench_rss.py - peak resident memory of one process (the collector inside
# `gtrace run`), for run_bench.sh's scale rows (docs/perf.md).
#
# usage: bench_rss.py CMD [ARGS...]
#
# Runs CMD and samples VmHWM ("peak resident set size") from
# /proc/PID/status of CMD's own process every 2 ms until it exits.  VmHWM
# only grows, so the last sample is the peak up to about 2 ms before the
# exit; children of CMD (the traced command) are not counted, unlike
# getrusage(RUSAGE_CHILDREN), which reports the largest process of the
# tree.  CMD's output goes to /dev/null.  Prints
#   rss peak_kb=N wall_ms=T rc=RC
# and exits with CMD's status.
import subprocess
import sys
import time


def hwm_kb(pid):
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        pass
    return 0


def main():
    if len(sys.argv) < 2:
        sys.exit("usage: bench_rss.py CMD [ARGS...]")
    t0 = time.perf_counter()
    p = subprocess.Popen(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    peak = 0
    while p.poll() is None:
        peak = max(peak, hwm_kb(p.pid))
        time.sleep(0.002)
    print("rss peak_kb=%d wall_ms=%.1f rc=%d"
          % (peak, (time.perf_counter() - t0) * 1e3, p.returncode))
    sys.exit(p.returncode)


if __name__ == "__main__":
    main()
