/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The socket layer over loopback, for every registered implementation ("posix", "uring"):
 * connect/accept over IPv4 and IPv6, read callbacks, batched asynchronous writes larger than
 * the socket buffer, cancellation on close, peer close, asynchronous connects, group rules,
 * the group fd for sleeping, and the implementation registry.
 *
 * Waits are bounded loops (hang detection), never timing assertions.
 */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pollux/sock.h"
#include "ut.h"

#define WAIT_ROUNDS 200000 /* polls (with a 50 us nap) before a wait counts as a hang */

static const char *g_impl_names[4];
static int g_nimpls;

static void collect_impl(const char *name, void *arg)
{
	if (g_nimpls < 4) {
		g_impl_names[g_nimpls++] = name;
	}
}

static void load_impls(void)
{
	if (g_nimpls == 0) {
		plx_sock_foreach_impl(collect_impl, NULL);
	}
}

static bool g_zcopy; /* ask for MSG_ZEROCOPY on new sockets */

static struct plx_sock_opts opts_for(const char *impl)
{
	struct plx_sock_opts o = {.impl_name = impl, .zcopy = g_zcopy};

	return o;
}

static void nap(void)
{
	usleep(50);
}

static struct plx_sock *listen_any(const char *impl, const char *ip, uint16_t *port)
{
	struct plx_sock_opts o = opts_for(impl);
	struct plx_sock *l = plx_sock_listen(ip, 0, &o);

	if (l != NULL) {
		CU_ASSERT_EQUAL(plx_sock_getaddr(l, NULL, 0, port, NULL, 0, NULL), 0);
		CU_ASSERT_NOT_EQUAL(*port, 0);
	}
	return l;
}

static struct plx_sock *accept_wait(struct plx_sock *l)
{
	struct plx_sock *s = NULL;

	for (int i = 0; i < WAIT_ROUNDS && s == NULL; i++) {
		s = plx_sock_accept(l);
		if (s == NULL) {
			CU_ASSERT_EQUAL(errno, EAGAIN);
			nap();
		}
	}
	return s;
}

/* A connected pair: *c from plx_sock_connect, *s accepted. False when ip cannot listen. */
static bool make_pair(const char *impl, const char *ip, struct plx_sock **c, struct plx_sock **s)
{
	struct plx_sock_opts o = opts_for(impl);
	struct plx_sock *l;
	uint16_t port = 0;

	l = listen_any(impl, ip, &port);
	if (l == NULL) {
		return false;
	}
	*c = plx_sock_connect(ip, port, &o);
	CU_ASSERT_PTR_NOT_NULL_FATAL(*c);
	*s = accept_wait(l);
	CU_ASSERT_PTR_NOT_NULL_FATAL(*s);
	plx_sock_close(&l);
	CU_ASSERT_PTR_NULL(l);
	return true;
}

/* ---- read callbacks ---- */

struct reader {
	int calls;
	char buf[256];
	ssize_t got;
	int eof;
};

static void read_cb(void *arg, struct plx_sock_group *group, struct plx_sock *sock)
{
	struct reader *r = arg;
	ssize_t rc = plx_sock_recv(sock, r->buf + r->got, sizeof(r->buf) - 1 - (size_t)r->got);

	r->calls++;
	if (rc > 0) {
		r->got += rc;
	} else if (rc == 0) {
		r->eof++;
	}
}

static void poll_until(struct plx_sock_group *g, const int *counter, int want)
{
	for (int i = 0; i < WAIT_ROUNDS && *counter < want; i++) {
		CU_ASSERT(plx_sock_group_poll(g) >= 0);
		if (*counter < want) {
			nap();
		}
	}
}

static void check_pair_family(const char *impl, const char *ip, bool v6)
{
	struct plx_sock *c, *s;
	struct plx_sock_group *g;
	struct reader r = {0};
	char saddr[64], caddr[64], caddr2[64];
	uint16_t sport, cport, sport2, cport2;
	struct iovec iov[2] = {{"hel", 3}, {"lo", 2}};

	if (!make_pair(impl, ip, &c, &s)) {
		CU_ASSERT(v6);
		printf("\n  %s: cannot listen on %s; IPv6 part skipped ", impl, ip);
		return;
	}
	CU_ASSERT_STRING_EQUAL(plx_sock_get_impl_name(c), impl);
	CU_ASSERT_EQUAL(plx_sock_is_ipv6(c), v6);
	CU_ASSERT_EQUAL(plx_sock_is_ipv6(s), v6);
	CU_ASSERT(plx_sock_is_connected(c));
	CU_ASSERT_EQUAL(
	    plx_sock_getaddr(s, saddr, sizeof(saddr), &sport, caddr, sizeof(caddr), &cport), 0);
	CU_ASSERT_STRING_EQUAL(saddr, ip);
	CU_ASSERT_STRING_EQUAL(caddr, ip);
	CU_ASSERT_EQUAL(plx_sock_getaddr(c, caddr2, sizeof(caddr2), &cport2, NULL, 0, &sport2), 0);
	CU_ASSERT_EQUAL(cport2, cport);
	CU_ASSERT_EQUAL(sport2, sport);

	g = plx_sock_group_create(impl);
	CU_ASSERT_PTR_NOT_NULL_FATAL(g);
	CU_ASSERT_EQUAL(plx_sock_group_add_sock(g, s, read_cb, &r), 0);
	CU_ASSERT_EQUAL(plx_sock_group_poll(g), 0);
	CU_ASSERT_EQUAL(r.calls, 0);
	CU_ASSERT_EQUAL(plx_sock_writev(c, iov, 2), 5);
	for (int i = 0; i < WAIT_ROUNDS && r.got < 5; i++) {
		CU_ASSERT(plx_sock_group_poll(g) >= 0);
		nap();
	}
	CU_ASSERT_EQUAL(r.got, 5);
	CU_ASSERT_NSTRING_EQUAL(r.buf, "hello", 5);
	CU_ASSERT(r.calls >= 1);
	CU_ASSERT_EQUAL(plx_sock_group_remove_sock(g, s), 0);
	CU_ASSERT_EQUAL(plx_sock_group_remove_sock(g, s), -ENOENT);
	CU_ASSERT_EQUAL(plx_sock_group_close(&g), 0);
	CU_ASSERT_PTR_NULL(g);
	plx_sock_close(&c);
	plx_sock_close(&s);
}

static void test_pair_read_cb(void)
{
	load_impls();
	for (int i = 0; i < g_nimpls; i++) {
		check_pair_family(g_impl_names[i], "127.0.0.1", false);
		check_pair_family(g_impl_names[i], "::1", true);
	}
}

/* ---- asynchronous writes ---- */

#define BIG_TOTAL (8u << 20)
#define BIG_REQS  256
#define BIG_IOVS  3

struct writer {
	int completed;
	int next_expected;
	int in_order;
	int err_count;
	int first_err;
	int ok_after_err;
};

struct big_req {
	struct plx_sock_request req;
	struct iovec iov[BIG_IOVS];
	int idx;
	struct writer *w;
};

static void write_cb(void *arg, int err)
{
	struct big_req *br = arg;
	struct writer *w = br->w;

	if (br->idx == w->next_expected) {
		w->in_order++;
	}
	w->next_expected = br->idx + 1;
	w->completed++;
	if (err != 0) {
		if (w->err_count++ == 0) {
			w->first_err = err;
		}
	} else if (w->err_count > 0) {
		w->ok_after_err++;
	}
}

/* n requests over buf in order, each split into three uneven iovecs. */
static struct big_req *make_reqs(uint8_t *buf, size_t total, int n, struct writer *w)
{
	struct big_req *reqs = calloc((size_t)n, sizeof(*reqs));
	size_t per = total / (size_t)n, off = 0;

	for (int i = 0; i < n; i++) {
		size_t a = per / 7 + (size_t)i, b = per / 2;

		reqs[i].idx = i;
		reqs[i].w = w;
		reqs[i].iov[0] = (struct iovec){buf + off, a};
		reqs[i].iov[1] = (struct iovec){buf + off + a, b};
		reqs[i].iov[2] = (struct iovec){buf + off + a + b, per - a - b};
		off += per;
		reqs[i].req.cb_fn = write_cb;
		reqs[i].req.cb_arg = &reqs[i];
		reqs[i].req.iovs = reqs[i].iov;
		reqs[i].req.iovcnt = BIG_IOVS;
	}
	return reqs;
}

static void check_close_cancels(const char *impl, bool in_group);

static void set_sndbuf(const char *impl, uint32_t size, uint32_t *old)
{
	struct plx_sock_impl_opts o;

	CU_ASSERT_EQUAL_FATAL(plx_sock_impl_get_opts(impl, &o), 0);
	if (old != NULL) {
		*old = o.send_buf_size;
	}
	o.send_buf_size = size;
	CU_ASSERT_EQUAL(plx_sock_impl_set_opts(impl, &o), 0);
}

static void check_big_writes(const char *impl)
{
	uint8_t *src = malloc(BIG_TOTAL), *dst = malloc(BIG_TOTAL);
	struct writer w = {0};
	struct big_req *reqs;
	struct plx_sock *c, *s;
	struct plx_sock_group *g;
	struct reader r = {0};
	size_t got = 0;
	uint32_t old;

	for (size_t i = 0; i < BIG_TOTAL; i++) {
		src[i] = (uint8_t)(i * 131 + (i >> 13));
	}
	/* Small, but not below the loopback MSS (64 KiB): TCP would then crawl on timers. */
	set_sndbuf(impl, 256 * 1024, &old);
	CU_ASSERT_FATAL(make_pair(impl, "127.0.0.1", &c, &s));
	set_sndbuf(impl, old, NULL);
	reqs = make_reqs(src, BIG_TOTAL, BIG_REQS, &w);
	g = plx_sock_group_create(impl);
	CU_ASSERT_PTR_NOT_NULL_FATAL(g);
	CU_ASSERT_EQUAL(plx_sock_group_add_sock(g, c, read_cb, &r), 0);
	for (int i = 0; i < BIG_REQS; i++) {
		plx_sock_writev_async(c, &reqs[i].req);
	}
	for (int i = 0; i < WAIT_ROUNDS * 4 && (w.completed < BIG_REQS || got < BIG_TOTAL); i++) {
		ssize_t rc;
		int prc = plx_sock_group_poll(g);

		CU_ASSERT(prc >= 0);
		rc = plx_sock_recv(s, dst + got, BIG_TOTAL - got);
		if (rc > 0) {
			got += (size_t)rc;
		} else {
			CU_ASSERT(rc < 0 && errno == EAGAIN);
			if (prc == 0) {
				nap();
			}
		}
	}
	if (w.completed != BIG_REQS || got != BIG_TOTAL) {
		printf("\n  %s: %d of %d requests completed, %zu of %u bytes received ", impl,
		       w.completed, BIG_REQS, got, BIG_TOTAL);
	}
	CU_ASSERT_EQUAL(w.completed, BIG_REQS);
	CU_ASSERT_EQUAL(w.in_order, BIG_REQS);
	CU_ASSERT_EQUAL(w.err_count, 0);
	CU_ASSERT_EQUAL(got, BIG_TOTAL);
	CU_ASSERT(memcmp(src, dst, BIG_TOTAL) == 0);
	CU_ASSERT_EQUAL(r.calls, 0);

	CU_ASSERT_EQUAL(plx_sock_group_close(&g), -EBUSY);
	CU_ASSERT_PTR_NOT_NULL(g);
	plx_sock_close(&c);
	CU_ASSERT_EQUAL(plx_sock_group_close(&g), 0);
	plx_sock_close(&s);
	free(reqs);
	free(src);
	free(dst);
}

static void test_big_async_writes(void)
{
	load_impls();
	for (int i = 0; i < g_nimpls; i++) {
		check_big_writes(g_impl_names[i]);
	}
}

/* posix with MSG_ZEROCOPY: requests complete once the kernel's notifications cover them. */
static void test_big_async_writes_zcopy(void)
{
	struct plx_sock_impl_opts o, saved;

	CU_ASSERT_EQUAL_FATAL(plx_sock_impl_get_opts("posix", &o), 0);
	saved = o;
	o.enable_zerocopy_send_client = true;
	o.zerocopy_threshold = 4096;
	CU_ASSERT_EQUAL(plx_sock_impl_set_opts("posix", &o), 0);
	g_zcopy = true;
	check_big_writes("posix");
	check_close_cancels("posix", true);
	g_zcopy = false;
	CU_ASSERT_EQUAL(plx_sock_impl_set_opts("posix", &saved), 0);
}

/* Close with requests queued: those not written complete with -ECANCELED, all in order. */
static void check_close_cancels(const char *impl, bool in_group)
{
	uint8_t *src = calloc(1, BIG_TOTAL);
	struct writer w = {0};
	struct big_req *reqs;
	struct plx_sock *c, *s;
	struct plx_sock_group *g = NULL;
	struct reader r = {0};
	uint32_t old;

	set_sndbuf(impl, 256 * 1024, &old);
	CU_ASSERT_FATAL(make_pair(impl, "127.0.0.1", &c, &s));
	set_sndbuf(impl, old, NULL);
	reqs = make_reqs(src, BIG_TOTAL, BIG_REQS, &w);
	for (int i = 0; i < BIG_REQS; i++) {
		plx_sock_writev_async(c, &reqs[i].req);
	}
	if (in_group) {
		g = plx_sock_group_create(impl);
		CU_ASSERT_EQUAL(plx_sock_group_add_sock(g, c, read_cb, &r), 0);
		/* Start writing: some requests complete, one may be in flight at close. */
		for (int i = 0; i < 3; i++) {
			CU_ASSERT(plx_sock_group_poll(g) >= 0);
		}
	} else {
		CU_ASSERT_EQUAL(plx_sock_flush(c), 0);
	}
	CU_ASSERT(w.completed < BIG_REQS);
	CU_ASSERT_EQUAL(plx_sock_close(&c), 0);
	CU_ASSERT_PTR_NULL(c);
	if (g != NULL) {
		/* A write the kernel still had completes from the poll that sees it come back. */
		poll_until(g, &w.completed, BIG_REQS);
		CU_ASSERT_EQUAL(plx_sock_group_close(&g), 0);
	}
	CU_ASSERT_EQUAL(w.completed, BIG_REQS);
	CU_ASSERT_EQUAL(w.in_order, BIG_REQS);
	CU_ASSERT(w.err_count > 0);
	CU_ASSERT_EQUAL(w.first_err, -ECANCELED);
	CU_ASSERT_EQUAL(w.ok_after_err, 0);
	plx_sock_close(&s);
	free(reqs);
	free(src);
}

static void test_close_cancels(void)
{
	load_impls();
	for (int i = 0; i < g_nimpls; i++) {
		check_close_cancels(g_impl_names[i], false);
		check_close_cancels(g_impl_names[i], true);
	}
}

/* ---- peer close, connects, groups ---- */

static void test_peer_close(void)
{
	load_impls();
	for (int i = 0; i < g_nimpls; i++) {
		struct plx_sock *c, *s;
		struct plx_sock_group *g = plx_sock_group_create(g_impl_names[i]);
		struct reader r = {0};

		CU_ASSERT_FATAL(make_pair(g_impl_names[i], "127.0.0.1", &c, &s));
		CU_ASSERT_EQUAL(plx_sock_group_add_sock(g, s, read_cb, &r), 0);
		CU_ASSERT_EQUAL(plx_sock_close(&c), 0);
		poll_until(g, &r.eof, 1);
		CU_ASSERT_EQUAL(r.eof, 1);
		CU_ASSERT_FALSE(plx_sock_is_connected(s));
		CU_ASSERT_EQUAL(plx_sock_close(&s), 0);
		CU_ASSERT_EQUAL(plx_sock_group_close(&g), 0);
		CU_ASSERT_EQUAL(plx_sock_close(&s), -EINVAL);
	}
}

struct conn_result {
	int done;
	int status;
};

static void connect_cb(void *arg, int status)
{
	struct conn_result *cr = arg;

	cr->done++;
	cr->status = status;
}

static void check_connect_async(const char *impl)
{
	struct plx_sock_opts o = opts_for(impl);
	struct conn_result cr = {0}, bad = {0};
	struct plx_sock *l, *c, *s = NULL;
	uint16_t port = 0, closed_port = 0;
	int rc = 0;

	l = listen_any(impl, "127.0.0.1", &port);
	CU_ASSERT_PTR_NOT_NULL_FATAL(l);
	c = plx_sock_connect_async("127.0.0.1", port, &o, connect_cb, &cr);
	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	for (int i = 0; i < WAIT_ROUNDS && (rc == 0 || s == NULL); i++) {
		rc = rc == 0 ? plx_sock_connect_poll(c) : rc;
		if (s == NULL) {
			s = plx_sock_accept(l);
		}
		nap();
	}
	CU_ASSERT_EQUAL(rc, 1);
	CU_ASSERT_EQUAL(cr.done, 1);
	CU_ASSERT_EQUAL(cr.status, 0);
	CU_ASSERT(plx_sock_is_connected(c));
	CU_ASSERT_PTR_NOT_NULL(s);
	CU_ASSERT_EQUAL(plx_sock_connect_poll(c), 1);
	CU_ASSERT_EQUAL(cr.done, 1);
	plx_sock_close(&c);
	plx_sock_close(&s);
	plx_sock_close(&l);

	/* A port that was just free: listen there, note it, close. */
	l = listen_any(impl, "127.0.0.1", &closed_port);
	plx_sock_close(&l);
	c = plx_sock_connect_async("127.0.0.1", closed_port, &o, connect_cb, &bad);
	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	for (int i = 0; i < WAIT_ROUNDS && plx_sock_connect_poll(c) == 0; i++) {
		nap();
	}
	CU_ASSERT_EQUAL(bad.done, 1);
	CU_ASSERT_EQUAL(bad.status, -ECONNREFUSED);
	plx_sock_close(&c);

	/* The blocking connect reports the same. */
	CU_ASSERT_PTR_NULL(plx_sock_connect("127.0.0.1", closed_port, &o));
	CU_ASSERT_EQUAL(errno, ECONNREFUSED);
}

static void test_connect_async(void)
{
	load_impls();
	for (int i = 0; i < g_nimpls; i++) {
		check_connect_async(g_impl_names[i]);
	}
}

static void test_group_rules(void)
{
	load_impls();
	for (int i = 0; i < g_nimpls; i++) {
		const char *impl = g_impl_names[i];
		struct plx_sock_group *g = plx_sock_group_create(impl), *g2;
		struct plx_sock *c, *s;
		struct reader r = {0};

		CU_ASSERT_PTR_NOT_NULL_FATAL(g);
		CU_ASSERT_FATAL(make_pair(impl, "127.0.0.1", &c, &s));
		CU_ASSERT_EQUAL(plx_sock_group_remove_sock(g, s), -ENOENT);
		CU_ASSERT_EQUAL(plx_sock_group_add_sock(g, s, read_cb, &r), 0);
		CU_ASSERT_EQUAL(plx_sock_group_add_sock(g, s, read_cb, &r), -EBUSY);
		CU_ASSERT_EQUAL(plx_sock_group_close(&g), -EBUSY);
		CU_ASSERT_PTR_NOT_NULL(g);
		/* A socket of another implementation is refused. */
		if (g_nimpls > 1) {
			g2 = plx_sock_group_create(g_impl_names[(i + 1) % g_nimpls]);
			CU_ASSERT_EQUAL(plx_sock_group_add_sock(g2, c, read_cb, &r), -EINVAL);
			CU_ASSERT_EQUAL(plx_sock_group_close(&g2), 0);
		}
		/* Closing a member removes it from its group. */
		plx_sock_close(&s);
		CU_ASSERT_EQUAL(plx_sock_group_poll_count(g, 0), -EINVAL);
		CU_ASSERT(plx_sock_group_poll(g) >= 0);
		CU_ASSERT_EQUAL(plx_sock_group_close(&g), 0);
		plx_sock_close(&c);
	}
	CU_ASSERT_PTR_NULL(plx_sock_group_create("nope"));
}

static bool fd_readable(int fd, int timeout_ms)
{
	struct pollfd p = {.fd = fd, .events = POLLIN};

	return poll(&p, 1, timeout_ms) == 1 && (p.revents & POLLIN);
}

static void check_group_fd(const char *impl)
{
	struct plx_sock_group *g = plx_sock_group_create(impl);
	struct plx_sock *c, *s;
	struct reader r = {0};
	int fd;

	CU_ASSERT_FATAL(make_pair(impl, "127.0.0.1", &c, &s));
	CU_ASSERT_EQUAL(plx_sock_group_add_sock(g, s, read_cb, &r), 0);
	fd = plx_sock_group_get_fd(g);
	CU_ASSERT_FATAL(fd >= 0);
	CU_ASSERT_EQUAL(plx_sock_group_poll(g), 0);
	CU_ASSERT_FALSE(fd_readable(fd, 0));
	CU_ASSERT_EQUAL(plx_sock_writev(c, &(struct iovec){"x", 1}, 1), 1);
	CU_ASSERT(fd_readable(fd, 10000));
	poll_until(g, (const int *)&r.got, 1);
	CU_ASSERT_EQUAL(r.got, 1);
	/* Idle again: a few polls settle, then the fd must let a reactor sleep. */
	for (int i = 0; i < 5; i++) {
		CU_ASSERT(plx_sock_group_poll(g) >= 0);
	}
	CU_ASSERT_EQUAL(plx_sock_group_poll(g), 0);
	CU_ASSERT_FALSE(fd_readable(fd, 0));
	/* And it wakes again for the next data. */
	CU_ASSERT_EQUAL(plx_sock_writev(c, &(struct iovec){"y", 1}, 1), 1);
	CU_ASSERT(fd_readable(fd, 10000));
	poll_until(g, (const int *)&r.got, 2);
	CU_ASSERT_NSTRING_EQUAL(r.buf, "xy", 2);
	plx_sock_close(&s);
	plx_sock_close(&c);
	CU_ASSERT_EQUAL(plx_sock_group_close(&g), 0);
}

static void test_group_fd(void)
{
	load_impls();
	for (int i = 0; i < g_nimpls; i++) {
		check_group_fd(g_impl_names[i]);
	}
}

/* A write completion that closes its own socket, with more requests queued behind it. */
static int g_closing_done;
static struct plx_sock *g_closing_sock;

static void closing_cb(void *arg, int err)
{
	int *slot = arg;

	*slot = err == 0 ? 1 : err;
	g_closing_done++;
	if (g_closing_sock != NULL) {
		plx_sock_close(&g_closing_sock);
	}
}

static void test_close_from_callback(void)
{
	load_impls();
	for (int i = 0; i < g_nimpls; i++) {
		struct plx_sock_group *g = plx_sock_group_create(g_impl_names[i]);
		struct plx_sock *s;
		struct iovec iov = {"abc", 3};
		struct plx_sock_request reqs[3];
		int results[3] = {0};
		struct reader r = {0};

		g_closing_done = 0;
		CU_ASSERT_FATAL(make_pair(g_impl_names[i], "127.0.0.1", &g_closing_sock, &s));
		CU_ASSERT_EQUAL(plx_sock_group_add_sock(g, g_closing_sock, read_cb, &r), 0);
		for (int k = 0; k < 3; k++) {
			reqs[k] = (struct plx_sock_request){
			    .cb_fn = closing_cb, .cb_arg = &results[k], .iovs = &iov, .iovcnt = 1};
			plx_sock_writev_async(g_closing_sock, &reqs[k]);
		}
		poll_until(g, &g_closing_done, 3);
		CU_ASSERT_EQUAL(g_closing_done, 3);
		CU_ASSERT_PTR_NULL(g_closing_sock);
		/* All three were written by one send; the close came after the first callback. */
		CU_ASSERT_EQUAL(results[0], 1);
		CU_ASSERT(results[1] == 1 || results[1] == -ECANCELED);
		CU_ASSERT(results[2] == 1 || results[2] == -ECANCELED);
		CU_ASSERT_EQUAL(plx_sock_group_close(&g), 0);
		plx_sock_close(&s);
	}
}

/* ---- registry ---- */

static void test_impl_registry(void)
{
	struct plx_sock_impl_opts o, o2;

	load_impls();
	CU_ASSERT(g_nimpls >= 1);
	CU_ASSERT_STRING_EQUAL(g_impl_names[0], "posix");
	CU_ASSERT_STRING_EQUAL(plx_sock_get_default_impl(), "posix");
	CU_ASSERT_EQUAL(plx_sock_impl_get_opts("nope", &o), -EINVAL);
	CU_ASSERT_EQUAL(plx_sock_impl_set_opts("nope", &o), -EINVAL);
	CU_ASSERT_EQUAL(plx_sock_set_default_impl("nope"), -EINVAL);
	CU_ASSERT_EQUAL(plx_sock_set_default_impl(NULL), -EINVAL);
	CU_ASSERT_STRING_EQUAL(plx_sock_get_default_impl(), "posix");
	CU_ASSERT_EQUAL(plx_sock_impl_get_opts("posix", &o), 0);
	o2 = o;
	o2.recv_buf_size = 1 << 20;
	o2.enable_quickack = true;
	o2.tls_version = 13;
	CU_ASSERT_EQUAL(plx_sock_impl_set_opts("posix", &o2), 0);
	CU_ASSERT_EQUAL(plx_sock_impl_get_opts("posix", &o), 0);
	CU_ASSERT_EQUAL(o.recv_buf_size, 1u << 20);
	CU_ASSERT(o.enable_quickack);
	CU_ASSERT_EQUAL(o.tls_version, 13);
	o2.recv_buf_size = 0;
	o2.enable_quickack = false;
	o2.tls_version = 0;
	CU_ASSERT_EQUAL(plx_sock_impl_set_opts("posix", &o2), 0);
	for (int i = 0; i < g_nimpls; i++) {
		CU_ASSERT_EQUAL(plx_sock_set_default_impl(g_impl_names[i]), 0);
		CU_ASSERT_STRING_EQUAL(plx_sock_get_default_impl(), g_impl_names[i]);
		/* NULL impl_name in the options means the default. */
		struct plx_sock *l = plx_sock_listen("127.0.0.1", 0, NULL);

		CU_ASSERT_PTR_NOT_NULL_FATAL(l);
		CU_ASSERT_STRING_EQUAL(plx_sock_get_impl_name(l), g_impl_names[i]);
		plx_sock_close(&l);
	}
	CU_ASSERT_EQUAL(plx_sock_set_default_impl("posix"), 0);
	CU_ASSERT_PTR_NULL(plx_sock_listen("127.0.0.1", 0, &(struct plx_sock_opts){"nope"}));
	CU_ASSERT_EQUAL(errno, EINVAL);
	CU_ASSERT_PTR_NULL(plx_sock_listen("127.0.0.1", 70000, NULL));
}

static void test_listen_in_use_and_lowat(void)
{
	uint16_t port = 0;
	struct plx_sock *l = listen_any("posix", "127.0.0.1", &port), *l2, *c, *s;

	CU_ASSERT_PTR_NOT_NULL_FATAL(l);
	l2 = plx_sock_listen("127.0.0.1", port, NULL);
	CU_ASSERT_PTR_NULL(l2);
	CU_ASSERT_EQUAL(errno, EADDRINUSE);
	CU_ASSERT_PTR_NULL(plx_sock_accept(l));
	CU_ASSERT_EQUAL(errno, EAGAIN);
	plx_sock_close(&l);
	CU_ASSERT_FATAL(make_pair("posix", "localhost", &c, &s));
	CU_ASSERT_EQUAL(plx_sock_set_recvlowat(s, 4), 0);
	plx_sock_close(&c);
	plx_sock_close(&s);
}

static const struct plx_ut_case cases[] = {
    {"impl_registry", test_impl_registry},
    {"pair_read_cb", test_pair_read_cb},
    {"big_async_writes", test_big_async_writes},
    {"big_async_writes_zcopy", test_big_async_writes_zcopy},
    {"close_cancels", test_close_cancels},
    {"close_from_callback", test_close_from_callback},
    {"peer_close", test_peer_close},
    {"connect_async", test_connect_async},
    {"group_rules", test_group_rules},
    {"group_fd", test_group_fd},
    {"listen_in_use_and_lowat", test_listen_in_use_and_lowat},
};
PLX_UT_MAIN("sock", cases)
