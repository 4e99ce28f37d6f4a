/* SPDX-License-Identifier: MIT */
/*
 * gt_service.c - a service for the system-session tests (tests/cli/system).
 *
 *   gt_service SECONDS [quiet]
 *   gt_service now       print CLOCK_MONOTONIC in ns (a cheap clock for scripts)
 *
 * Started without GTRACE_SESSION, like a daemon that was running before
 * anyone traced it.  It prints "pid N" and then emits Test.Service/Tick
 * {seq, mono_ns} about every millisecond (Test.Quiet/Tick with "quiet"),
 * seq 0, 1, 2... and mono_ns the CLOCK_MONOTONIC time of the emit, until
 * SECONDS passed or SIGTERM arrives; then it prints "emitted N" and exits 0.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <gtrace/gtrace.h>

GT_PROVIDER_DEFINE(gt_svc_prov, "Test.Service");
GT_PROVIDER_DEFINE(gt_svc_quiet, "Test.Quiet");

static volatile sig_atomic_t gt_svc_stop;

static void gt_svc_term(int sig)
{
	(void)sig;
	gt_svc_stop = 1;
}

static int64_t gt_svc_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

int main(int argc, char **argv)
{
	struct sigaction sa;
	double seconds = argc > 1 ? atof(argv[1]) : 10;
	int quiet = argc > 2 && !strcmp(argv[2], "quiet");
	int64_t end, seq = 0;

	if (argc > 1 && !strcmp(argv[1], "now")) {
		printf("%lld\n", (long long)gt_svc_now());
		return 0;
	}
	if (getenv("GTRACE_SESSION")) {
		fprintf(stderr, "gt_service: GTRACE_SESSION is set; this test needs it unset\n");
		return 2;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = gt_svc_term;
	sigaction(SIGTERM, &sa, NULL);
	printf("pid %d\n", (int)getpid());
	fflush(stdout);
	end = gt_svc_now() + (int64_t)(seconds * 1e9);
	while (!gt_svc_stop && gt_svc_now() < end) {
		if (quiet)
			GT_EVENT(gt_svc_quiet, GT_LEVEL_INFO, 0, "Tick", GT_I64("seq", seq),
				 GT_I64("mono_ns", gt_svc_now()));
		else
			GT_EVENT(gt_svc_prov, GT_LEVEL_INFO, 0, "Tick", GT_I64("seq", seq),
				 GT_I64("mono_ns", gt_svc_now()));
		seq++;
		usleep(1000);
	}
	printf("emitted %lld\n", (long long)seq);
	return 0;
}
