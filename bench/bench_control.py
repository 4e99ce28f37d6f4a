#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
#
# bench_control.py - control-plane timings of a long-lived session, gtrace
# vs LTTng-UST, for run_bench.sh (docs/perf.md, "Control plane").
#
# usage: bench_control.py gtrace GTRACE BENCH_EMIT OUTDIR RUNS
#        bench_control.py lttng BENCH_LTTNG OUTDIR RUNS
#
# Every row is the median of RUNS cycles (rotate: 3 rotations per cycle);
# each cycle is one whole session.  Times are wall clock around the
# commands, as a shell script would see them.  One line per row on stdout:
#   control <side> <row> median_ms=X min_ms=Y n=N
# What each row includes (the same words are in docs/perf.md):
#   ready        gtrace: `gtrace start` returns (collector forked, file
#                created, sockets listening).  LTTng: `lttng create`,
#                `enable-event -u gtbench:*` and `start` have returned.
#   first_event  from launching the first command above until the first
#                event of a freshly started instrumented program is
#                recorded.  gtrace: `gtrace status --json` shows events >= 1
#                (the collector drained it from the ring), polled every
#                millisecond.  LTTng: `lttng stop` has returned, which
#                flushes the buffers to the trace files (the only point at
#                which lttng-tools makes the event readable without live
#                mode); babeltrace2 then checks that it is there, outside
#                the timing.  Both include starting the program (exec,
#                loader, joining the session).
#   rotate       gtrace: `gtrace rotate --op NAME` returns, the old file
#                complete (footer, trailer; fsync with `file sync=full`).  LTTng:
#                `lttng rotate` returns, i.e. it waited for the archive
#                of the current chunk to be complete.  20,000 events are
#                emitted before each rotation.
#   rotate_collector  gtrace only: the rotation as the collector timed it
#                (`rotate_us` of `gtrace rotate --json`), without the CLI
#                process and the control-socket round trip.
#   stop         gtrace: `gtrace stop` returns, every file complete on
#                disk.  LTTng: `lttng stop` + `lttng destroy` return.
# A failed command fails the whole script (exit 1, reason on stderr); the
# session it started is stopped or destroyed first.
import json
import os
import shutil
import subprocess
import sys
import time


def now_ms():
    return time.perf_counter() * 1e3


def run(cmd, env=None, check=True):
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, text=True)
    if check and p.returncode != 0:
        raise RuntimeError("'%s' failed (exit %d): %s" % (" ".join(cmd), p.returncode,
                                                          p.stderr.strip()[:300]))
    return p.stdout


def report(side, row, samples):
    s = sorted(samples)
    print("control %s %s median_ms=%.2f min_ms=%.2f n=%d"
          % (side, row, s[len(s) // 2], s[0], len(s)), flush=True)


def gtrace_side(gtrace, emit, outdir, runs):
    rows = {"ready": [], "first_event": [], "rotate": [], "rotate_collector": [], "stop": []}
    name = "gtbench_cp_%d" % os.getpid()
    env = dict(os.environ)
    env.pop("GTRACE_SESSION", None)
    env.pop("GTRACE_SESSION_NAME", None)
    for i in range(runs):
        d = os.path.join(outdir, "gt_%d" % i)
        started = False
        try:
            t0 = now_ms()
            out = run([gtrace, "start", "--op", "cp", "--dir", d, "--name", name], env=env)
            t_ready = now_ms()
            started = True
            senv = dict(env)
            for part in out.replace(";", "\n").splitlines():
                part = part.strip()
                if part.startswith("export ") and "=" in part:
                    k, v = part[len("export "):].split("=", 1)
                    senv[k] = v.strip("'")
            if "GTRACE_SESSION" not in senv:
                raise RuntimeError("gtrace start printed no GTRACE_SESSION: %r" % out)
            run([emit, "-t", "1", "-n", "1", "-r", "1", "-l", "cp"], env=senv)
            deadline = now_ms() + 10000
            while True:
                st = json.loads(run([gtrace, "status", "--session", name, "--json"], env=env))
                if isinstance(st, list):
                    st = st[0] if st else {}
                if st.get("events", 0) >= 1:
                    break
                if now_ms() > deadline:
                    raise RuntimeError("no event in gtrace status after 10 s: %r" % st)
                time.sleep(0.001)
            t_first = now_ms()
            rows["ready"].append(t_ready - t0)
            rows["first_event"].append(t_first - t0)
            for k in range(3):
                run([emit, "-t", "1", "-n", "20000", "-r", "1", "-l", "cp"], env=senv)
                t0 = now_ms()
                ans = run([gtrace, "rotate", "--op", "cp%d" % k, "--session", name, "--json"],
                          env=env)
                rows["rotate"].append(now_ms() - t0)
                rows["rotate_collector"].append(json.loads(ans).get("rotate_us", 0) / 1e3)
            t0 = now_ms()
            run([gtrace, "stop", "--session", name], env=env)
            rows["stop"].append(now_ms() - t0)
            started = False
        finally:
            if started:
                run([gtrace, "stop", "--session", name], env=env, check=False)
    for k in ("ready", "first_event", "rotate", "rotate_collector", "stop"):
        report("gtrace", k, rows[k])


def lttng_side(lt, outdir, runs):
    rows = {"ready": [], "first_event": [], "rotate": [], "stop": []}
    for i in range(runs):
        sess = "gtbench_cp_%d_%d" % (os.getpid(), i)
        d = os.path.join(outdir, "lt_%d" % i)
        created = False
        try:
            t0 = now_ms()
            run(["lttng", "create", sess, "--output=" + d])
            created = True
            run(["lttng", "enable-event", "-u", "gtbench:*", "-s", sess])
            run(["lttng", "start", sess])
            t_ready = now_ms()
            run([lt, "-t", "1", "-n", "1", "-r", "1"])
            run(["lttng", "stop", sess])
            t_first = now_ms()
            if shutil.which("babeltrace2"):
                n = run(["babeltrace2", d]).count("gtbench:")
                if n < 1:
                    raise RuntimeError("babeltrace2 finds no event in %s" % d)
            rows["ready"].append(t_ready - t0)
            rows["first_event"].append(t_first - t0)
            run(["lttng", "start", sess])
            for _ in range(3):
                run([lt, "-t", "1", "-n", "20000", "-r", "1"])
                t0 = now_ms()
                run(["lttng", "rotate", sess])
                rows["rotate"].append(now_ms() - t0)
            t0 = now_ms()
            run(["lttng", "stop", sess])
            run(["lttng", "destroy", sess])
            rows["stop"].append(now_ms() - t0)
            created = False
        finally:
            if created:
                run(["lttng", "destroy", sess], check=False)
    for k in ("ready", "first_event", "rotate", "stop"):
        report("lttng", k, rows[k])


def main():
    try:
        if len(sys.argv) == 6 and sys.argv[1] == "gtrace":
            gtrace_side(sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5]))
        elif len(sys.argv) == 5 and sys.argv[1] == "lttng":
            lttng_side(sys.argv[2], sys.argv[3], int(sys.argv[4]))
        else:
            sys.exit("usage: bench_control.py gtrace GTRACE BENCH_EMIT OUTDIR RUNS\n"
                     "       bench_control.py lttng BENCH_LTTNG OUTDIR RUNS")
    except (RuntimeError, OSError, ValueError) as e:
        sys.exit("bench_control.py: %s" % e)


if __name__ == "__main__":
    main()
