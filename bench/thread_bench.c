/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Micro-benchmarks of the thread and event layers.
 *
 *   thread_bench msg     [-t SEC]   messages per second from one reactor to another
 *   thread_bench wakeup  [-t SEC]   latency from send to handling when the receiver sleeps
 *   thread_bench poller  [-n ITER]  nanoseconds per poller call (one OS thread, no reactor)
 *   thread_bench oswake  [-t SEC]   the floor for wakeup: a bare eventfd + epoll_wait ping
 *                                   between two pinned pthreads, no Pollux code at all
 *
 * msg and wakeup run the real app framework on cores 0 and 1 (interrupt mode, as shipped).
 */
#include <getopt.h>
#include <pthread.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pollux/env.h"
#include "pollux/event.h"
#include "pollux/thread.h"

static double g_seconds = 3.0;
static uint64_t g_iters = 20000000;

/* ---- msg: the app thread floods reactor_1 with messages ---- */

static struct plx_thread *g_peer;
static struct plx_poller *g_poller;
static uint64_t g_sent, g_handled, g_start, g_end;

/* Written by the receiver only; the sender reads it to bound what is in flight. */
static _Atomic uint64_t g_handled_shared;

static void count_msg(void *arg)
{
	g_handled++;
	/* Publish progress once per batch-sized group, not per message. */
	if ((g_handled & 63) == 0) {
		atomic_store_explicit(&g_handled_shared, g_handled, memory_order_relaxed);
	}
}

static void find_peer(void *arg)
{
	if (strcmp(plx_thread_get_name(plx_get_thread()), "reactor_1") == 0) {
		g_peer = plx_get_thread();
	}
}

static void msg_report(void *arg)
{
	double secs = (double)(g_end - g_start) / (double)plx_get_ticks_hz();

	printf("msg: %lu messages handled in %.2f s: %.2f M messages/s\n", (unsigned long)g_handled,
	       secs, (double)g_handled / secs / 1e6);
	plx_app_stop(0);
}

static void msg_collect(void *arg)
{
	/* Runs on reactor_1 after every earlier message: g_handled is final here. */
	g_end = plx_get_ticks();
	plx_thread_send_msg(plx_thread_get_app_thread(), msg_report, NULL);
}

static int msg_flood(void *arg)
{
	uint64_t now = plx_get_ticks();

	if (now - g_start > (uint64_t)(g_seconds * (double)plx_get_ticks_hz())) {
		plx_poller_unregister(&g_poller);
		while (plx_thread_send_msg(g_peer, msg_collect, NULL) != 0) {
		}
		return PLX_POLLER_BUSY;
	}
	/*
	 * Keep at most half the queue in flight: a full queue makes sender and receiver fight
	 * over the same slots, which measures the fight rather than the messages.
	 */
	if (g_sent - atomic_load_explicit(&g_handled_shared, memory_order_relaxed) >
	    PLX_MSG_QUEUE_SIZE / 2) {
		return PLX_POLLER_IDLE;
	}
	for (int i = 0; i < 64; i++) {
		if (plx_thread_send_msg(g_peer, count_msg, NULL) != 0) {
			break;
		}
		g_sent++;
	}
	return PLX_POLLER_BUSY;
}

/* ---- wakeup: one message every 2 ms to a sleeping reactor ---- */

#define WAKE_MAX 100000
static uint64_t g_lat[WAKE_MAX];
static uint32_t g_nlat;

static void wake_msg(void *arg)
{
	uint64_t sent = (uint64_t)(uintptr_t)arg;

	if (g_nlat < WAKE_MAX) {
		g_lat[g_nlat++] = plx_get_ticks() - sent;
	}
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static void wake_report_print(const char *what)
{
	double ns_per_tick = 1e9 / (double)plx_get_ticks_hz();

	qsort(g_lat, g_nlat, sizeof(g_lat[0]), cmp_u64);
	if (g_nlat > 0) {
		printf("%s: %u samples: median %.1f us, p99 %.1f us, max %.1f us\n", what, g_nlat,
		       (double)g_lat[g_nlat / 2] * ns_per_tick / 1000,
		       (double)g_lat[g_nlat * 99 / 100] * ns_per_tick / 1000,
		       (double)g_lat[g_nlat - 1] * ns_per_tick / 1000);
	}
}

static void wake_report(void *arg)
{
	wake_report_print("wakeup");
	plx_app_stop(0);
}

static void wake_collect(void *arg)
{
	plx_thread_send_msg(plx_thread_get_app_thread(), wake_report, NULL);
}

static int wake_send(void *arg)
{
	uint64_t now = plx_get_ticks();

	if (now - g_start > (uint64_t)(g_seconds * (double)plx_get_ticks_hz())) {
		plx_poller_unregister(&g_poller);
		plx_thread_send_msg(g_peer, wake_collect, NULL);
		return PLX_POLLER_BUSY;
	}
	plx_thread_send_msg(g_peer, wake_msg, (void *)(uintptr_t)plx_get_ticks());
	return PLX_POLLER_BUSY;
}

static const char *g_mode;

static void peer_found(void *arg)
{
	if (g_peer == NULL) {
		fprintf(stderr, "thread_bench: needs two reactors (-m 0x3)\n");
		plx_app_stop(1);
		return;
	}
	g_start = plx_get_ticks();
	if (strcmp(g_mode, "msg") == 0) {
		g_poller = PLX_POLLER_REGISTER(msg_flood, NULL, 0);
	} else {
		/* 2 ms apart: long enough for the receiver to go back to sleep each time. */
		g_poller = PLX_POLLER_REGISTER(wake_send, NULL, 2000);
	}
}

static void app_started(void *arg)
{
	plx_for_each_thread(find_peer, NULL, peer_found);
}

static int run_app(const char *mode)
{
	struct plx_app_opts opts;

	plx_app_opts_init(&opts);
	opts.name = "thread_bench";
	opts.reactor_mask = "0x3";
	opts.rpc_addr = NULL;
	g_mode = mode;
	return plx_app_start(&opts, app_started, NULL);
}

/* ---- poller: raw cost of the poll loop per poller call ---- */

static int idle_poller(void *arg)
{
	(*(uint64_t *)arg)++;
	return PLX_POLLER_IDLE;
}

static int run_poller_bench(void)
{
	enum { NPOLLERS = 8 };
	struct plx_poller *pollers[NPOLLERS];
	struct plx_thread *thread;
	uint64_t calls = 0, t0, t1, iters = g_iters / NPOLLERS;
	double ns;

	plx_thread_lib_init(NULL, 0, false);
	thread = plx_thread_create("bench", NULL);
	plx_set_thread(thread);
	for (int i = 0; i < NPOLLERS; i++) {
		pollers[i] = PLX_POLLER_REGISTER(idle_poller, &calls, 0);
	}
	t0 = plx_get_ticks();
	for (uint64_t i = 0; i < iters; i++) {
		plx_thread_poll(thread, 0, t0);
	}
	t1 = plx_get_ticks();
	ns = (double)(t1 - t0) * 1e9 / (double)plx_get_ticks_hz();
	printf("poller: %lu calls (%d active pollers): %.2f ns per poller call, %.2f ns per "
	       "thread poll\n",
	       (unsigned long)calls, NPOLLERS, ns / (double)calls, ns / (double)iters);
	for (int i = 0; i < NPOLLERS; i++) {
		plx_poller_unregister(&pollers[i]);
	}
	plx_thread_exit(thread);
	while (!plx_thread_is_exited(thread)) {
		plx_thread_poll(thread, 0, plx_get_ticks());
	}
	plx_thread_destroy(thread);
	plx_thread_lib_fini();
	return 0;
}

/* ---- oswake: what the kernel and hypervisor alone cost to wake a sleeping thread ---- */

static int g_os_efd;
static _Atomic uint64_t g_os_sent;

static void *oswake_receiver(void *arg)
{
	struct epoll_event ev = {.events = EPOLLIN};
	int ep = epoll_create1(0);
	uint64_t val;

	plx_env_pin_current_thread(1);
	epoll_ctl(ep, EPOLL_CTL_ADD, g_os_efd, &ev);
	while (g_nlat < WAKE_MAX) {
		if (epoll_wait(ep, &ev, 1, -1) != 1 || read(g_os_efd, &val, sizeof(val)) < 0) {
			continue;
		}
		if (val == 2) { /* the sender's stop mark */
			break;
		}
		g_lat[g_nlat++] = plx_get_ticks() - atomic_load(&g_os_sent);
	}
	close(ep);
	return NULL;
}

static int run_oswake(void)
{
	uint64_t one = 1, two = 2, end;
	pthread_t rx;

	g_os_efd = eventfd(0, EFD_NONBLOCK);
	plx_env_pin_current_thread(0);
	pthread_create(&rx, NULL, oswake_receiver, NULL);
	end = plx_get_ticks() + (uint64_t)(g_seconds * (double)plx_get_ticks_hz());
	while (plx_get_ticks() < end) {
		usleep(2000);
		atomic_store(&g_os_sent, plx_get_ticks());
		if (write(g_os_efd, &one, sizeof(one)) < 0) {
			break;
		}
	}
	usleep(2000);
	if (write(g_os_efd, &two, sizeof(two)) < 0) {
		return 1;
	}
	pthread_join(rx, NULL);
	close(g_os_efd);
	wake_report_print("oswake");
	return 0;
}

int main(int argc, char **argv)
{
	int ch;

	while ((ch = getopt(argc, argv, "t:n:")) != -1) {
		switch (ch) {
		case 't':
			g_seconds = atof(optarg);
			break;
		case 'n':
			g_iters = strtoull(optarg, NULL, 10);
			break;
		default:
			return 2;
		}
	}
	if (optind >= argc) {
		fprintf(stderr,
			"usage: thread_bench msg|wakeup|oswake|poller [-t SEC] [-n ITER]\n");
		return 2;
	}
	if (strcmp(argv[optind], "poller") == 0) {
		return run_poller_bench();
	}
	if (strcmp(argv[optind], "oswake") == 0) {
		return run_oswake();
	}
	if (strcmp(argv[optind], "msg") == 0 || strcmp(argv[optind], "wakeup") == 0) {
		return run_app(argv[optind]) == 0 ? 0 : 1;
	}
	fprintf(stderr, "thread_bench: unknown mode '%s'\n", argv[optind]);
	return 2;
}
