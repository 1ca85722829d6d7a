/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The UNIX socket server. One timed poller on the thread that called plx_rpc_listen serves
 * everything; its interrupt fd is the server's own epoll set of the listening socket and the
 * client sockets, so an idle target sleeps until a client speaks. Sockets are non-blocking
 * and every loop is bounded per run, so a slow or greedy client cannot stall the others.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "pollux/log.h"
#include "pollux/rpc.h"
#include "pollux/thread.h"
#include "pollux/util.h"
#include "rpc_internal.h"

#define RPC_BACKLOG	    128
#define RPC_MAX_CONNECTIONS 1024
#define RPC_POLL_PERIOD_US  1000
#define RPC_MAX_EVENTS	    64
#define RPC_READ_SIZE	    (64u * 1024)
/* Reads per connection per run: enough for big requests, bounded for fairness. */
#define RPC_MAX_READS 4
/* Output above this stops reading from a client until it catches up. */
#define RPC_OUT_HIGH_WATER (4u * 1024 * 1024)

struct rpc_conn {
	int fd;
	struct plx_rpc_stream *stream;
	char *out;
	size_t out_off; /* sent so far */
	size_t out_len;
	size_t out_cap;
	uint32_t events; /* registered in the epoll set */
	bool eof;	 /* the client shut its side: answer what is pending, then close */
	bool failed;	 /* -EPROTO: flush the error answer, then close */
	bool broken;	 /* I/O error: close at the next run */
	struct rpc_conn *prev, *next;
};

struct rpc_server {
	int listen_fd;
	int lock_fd;
	int epfd;
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	char lock_path[sizeof(((struct sockaddr_un *)0)->sun_path) + 8];
	struct plx_poller *poller;
	struct rpc_conn *conns;
	uint32_t num_conns;
	bool in_poll;
	struct rpc_conn *current; /* being handled by the poller; it flushes at the end */
	bool closed;		  /* plx_rpc_close ran during a poll: the poller frees the server */
	bool limit_logged;
};

static struct rpc_server *g_server;
static char g_read_buf[RPC_READ_SIZE];

static void conn_set_events(struct rpc_server *srv, struct rpc_conn *c, uint32_t events)
{
	struct epoll_event ev = {.events = events, .data.ptr = c};

	if (events == c->events) {
		return;
	}
	if (epoll_ctl(srv->epfd, EPOLL_CTL_MOD, c->fd, &ev) != 0) {
		PLX_ERRLOG("epoll_ctl on RPC connection %d: %s", c->fd, strerror(errno));
		c->broken = true;
		return;
	}
	c->events = events;
}

static bool conn_done(const struct rpc_conn *c)
{
	if (c->broken) {
		return true;
	}
	if (c->out_len > c->out_off) {
		return false;
	}
	return c->failed || (c->eof && plx_rpc_stream_pending(c->stream) == 0);
}

/*
 * What to wait for: input unless the client is done sending or behind on output; output when
 * some is queued, or when the connection is done (a writable socket wakes the poller at once,
 * which then closes it: that is how answers completed off the poller get it closed).
 */
static void conn_update_events(struct rpc_server *srv, struct rpc_conn *c)
{
	uint32_t events = 0;

	if (!c->eof && !c->failed && c->out_len - c->out_off < RPC_OUT_HIGH_WATER) {
		events |= EPOLLIN;
	}
	if (c->out_len > c->out_off || conn_done(c)) {
		events |= EPOLLOUT;
	}
	conn_set_events(srv, c, events);
}

static void conn_flush(struct rpc_conn *c)
{
	ssize_t n;

	while (c->out_off < c->out_len && !c->broken) {
		n = send(c->fd, c->out + c->out_off, c->out_len - c->out_off,
			 MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n > 0) {
			c->out_off += (size_t)n;
		} else if (n < 0 && errno == EINTR) {
			continue;
		} else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			break;
		} else {
			c->broken = true;
		}
	}
	if (c->out_off == c->out_len) {
		c->out_off = 0;
		c->out_len = 0;
	}
}

static int conn_queue(struct rpc_conn *c, const char *buf, size_t len)
{
	if (c->out_off > 0 && c->out_len + len > c->out_cap) {
		memmove(c->out, c->out + c->out_off, c->out_len - c->out_off);
		c->out_len -= c->out_off;
		c->out_off = 0;
	}
	if (c->out_len + len > c->out_cap) {
		size_t cap = PLX_MAX(c->out_cap * 2, c->out_len + len);
		char *out = realloc(c->out, cap);

		if (out == NULL) {
			return -ENOMEM;
		}
		c->out = out;
		c->out_cap = cap;
	}
	memcpy(c->out + c->out_len, buf, len);
	c->out_len += len;
	return 0;
}

static void conn_out(void *arg, const char *buf, size_t len)
{
	struct rpc_conn *c = arg;
	struct rpc_server *srv = g_server;

	if (conn_queue(c, buf, len) != 0) {
		PLX_ERRLOG("out of memory queueing an RPC answer; closing the connection");
		c->broken = true;
	}
	if (srv == NULL || c == srv->current) {
		/* No server (closing), or the poller flushes this connection when done with it. */
		return;
	}
	if (srv->in_poll) {
		/* A handler answered another connection's request: have the poller come back. */
		conn_update_events(srv, c);
		return;
	}
	/* Asynchronous answer: send it now, and wake the poller if anything is left to do. */
	conn_flush(c);
	conn_update_events(srv, c);
	/*
	 * This request still counts as pending until we return; if it was the last one of a
	 * finished client, wake the poller (the socket is writable) to close the connection.
	 */
	if (c->eof || c->failed || c->broken) {
		conn_set_events(srv, c, c->events | EPOLLOUT);
	}
}

static void conn_close(struct rpc_server *srv, struct rpc_conn *c)
{
	epoll_ctl(srv->epfd, EPOLL_CTL_DEL, c->fd, NULL);
	close(c->fd);
	/* Pending answers are dropped when their handlers finish. */
	plx_rpc_stream_destroy(c->stream);
	if (c->prev != NULL) {
		c->prev->next = c->next;
	} else {
		srv->conns = c->next;
	}
	if (c->next != NULL) {
		c->next->prev = c->prev;
	}
	srv->num_conns--;
	free(c->out);
	free(c);
}

static int conn_add(struct rpc_server *srv, int fd)
{
	struct rpc_conn *c = calloc(1, sizeof(*c));
	struct epoll_event ev = {.events = EPOLLIN};

	if (c == NULL) {
		return -ENOMEM;
	}
	c->fd = fd;
	c->events = EPOLLIN;
	c->stream = plx_rpc_stream_create(conn_out, c);
	ev.data.ptr = c;
	if (c->stream == NULL) {
		free(c);
		return -ENOMEM;
	}
	if (epoll_ctl(srv->epfd, EPOLL_CTL_ADD, fd, &ev) != 0) {
		int rc = -errno;

		plx_rpc_stream_destroy(c->stream);
		free(c);
		return rc;
	}
	c->next = srv->conns;
	if (c->next != NULL) {
		c->next->prev = c;
	}
	srv->conns = c;
	srv->num_conns++;
	return 0;
}

/* Accept what is pending (bounded). Returns the number of connections taken or refused. */
static int server_accept(struct rpc_server *srv)
{
	int count = 0, fd, rc;

	for (; count < RPC_MAX_EVENTS; count++) {
		fd = accept4(srv->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
				PLX_ERRLOG("accept on RPC socket %s: %s", srv->path,
					   strerror(errno));
			}
			break;
		}
		if (srv->num_conns >= RPC_MAX_CONNECTIONS) {
			if (!srv->limit_logged) {
				PLX_ERRLOG("RPC server has %u connections; refusing more",
					   srv->num_conns);
				srv->limit_logged = true;
			}
			close(fd);
			continue;
		}
		srv->limit_logged = false;
		rc = conn_add(srv, fd);
		if (rc != 0) {
			PLX_ERRLOG("cannot add RPC connection: %s", strerror(-rc));
			close(fd);
		}
	}
	return count;
}

static void conn_read(struct rpc_server *srv, struct rpc_conn *c)
{
	ssize_t n;

	for (int i = 0; i < RPC_MAX_READS && !c->eof && !c->failed && !c->broken; i++) {
		n = recv(c->fd, g_read_buf, sizeof(g_read_buf), MSG_DONTWAIT);
		if (n > 0) {
			if (plx_rpc_stream_feed(c->stream, g_read_buf, (size_t)n) != 0) {
				c->failed = true;
			}
			if (srv->closed) {
				return;
			}
		} else if (n == 0) {
			c->eof = true;
		} else if (errno == EINTR) {
			continue;
		} else if (errno == EAGAIN || errno == EWOULDBLOCK) {
			return;
		} else {
			c->broken = true;
		}
	}
}

static void conn_handle(struct rpc_server *srv, struct rpc_conn *c, uint32_t events)
{
	if (events & (EPOLLERR | EPOLLHUP)) {
		/* The client is gone: answers could not reach it. */
		c->broken = true;
	} else if (events & EPOLLIN) {
		conn_read(srv, c);
		if (srv->closed) {
			return;
		}
	}
	conn_flush(c);
	if (conn_done(c)) {
		conn_close(srv, c);
		return;
	}
	conn_update_events(srv, c);
}

static void server_free(struct rpc_server *srv)
{
	while (srv->conns != NULL) {
		/* Best effort, never blocking: e.g. the answer of the method that stopped us. */
		conn_flush(srv->conns);
		conn_close(srv, srv->conns);
	}
	close(srv->epfd);
	free(srv);
}

static int server_poll(void *arg)
{
	struct rpc_server *srv = arg;
	struct epoll_event events[RPC_MAX_EVENTS];
	int n, busy = 0;

	n = epoll_wait(srv->epfd, events, RPC_MAX_EVENTS, 0);
	srv->in_poll = true;
	for (int i = 0; i < n && !srv->closed; i++) {
		if (events[i].data.ptr == NULL) {
			busy += server_accept(srv);
		} else {
			srv->current = events[i].data.ptr;
			conn_handle(srv, srv->current, events[i].events);
			srv->current = NULL;
			busy++;
		}
	}
	srv->in_poll = false;
	if (srv->closed) {
		server_free(srv);
	}
	return busy > 0 ? PLX_POLLER_BUSY : PLX_POLLER_IDLE;
}

/* Take path.lock, or fail with -EADDRINUSE when a live process holds it. */
static int server_lock(struct rpc_server *srv)
{
	srv->lock_fd = open(srv->lock_path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (srv->lock_fd < 0) {
		int rc = -errno;

		PLX_ERRLOG("cannot open RPC lock file %s: %s", srv->lock_path, strerror(-rc));
		return rc;
	}
	if (flock(srv->lock_fd, LOCK_EX | LOCK_NB) != 0) {
		int rc = errno == EWOULDBLOCK ? -EADDRINUSE : -errno;

		if (rc == -EADDRINUSE) {
			PLX_ERRLOG("RPC socket %s is in use by another process (lock %s.lock held)",
				   srv->path, srv->path);
		} else {
			PLX_ERRLOG("cannot lock %s: %s", srv->lock_path, strerror(-rc));
		}
		close(srv->lock_fd);
		srv->lock_fd = -1;
		return rc;
	}
	return 0;
}

static int server_bind(struct rpc_server *srv)
{
	struct sockaddr_un addr = {.sun_family = AF_UNIX};
	struct epoll_event ev = {.events = EPOLLIN, .data.ptr = NULL};
	int rc;

	memcpy(addr.sun_path, srv->path, strlen(srv->path) + 1);
	/* We hold the lock, so a socket file left here belongs to a dead process. */
	unlink(srv->path);
	srv->listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (srv->listen_fd < 0 ||
	    bind(srv->listen_fd, (struct sockaddr *)&addr, sizeof(addr)) != 0 ||
	    listen(srv->listen_fd, RPC_BACKLOG) != 0) {
		rc = -errno;
		PLX_ERRLOG("cannot listen on RPC socket %s: %s", srv->path, strerror(-rc));
		return rc;
	}
	srv->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (srv->epfd < 0 || epoll_ctl(srv->epfd, EPOLL_CTL_ADD, srv->listen_fd, &ev) != 0) {
		rc = -errno;
		PLX_ERRLOG("cannot set up epoll for the RPC server: %s", strerror(-rc));
		return rc;
	}
	return 0;
}

static int server_start_poller(struct rpc_server *srv)
{
	int rc;

	srv->poller = plx_poller_register_named(server_poll, srv, RPC_POLL_PERIOD_US, "rpc_server");
	if (srv->poller == NULL) {
		PLX_ERRLOG("cannot register the RPC poller");
		return -ENOMEM;
	}
	rc = plx_poller_set_interrupt_fd(srv->poller, srv->epfd, EPOLLIN);
	if (rc != 0) {
		PLX_ERRLOG("cannot set the RPC poller's interrupt fd: %s", strerror(-rc));
		plx_poller_unregister(&srv->poller);
	}
	return rc;
}

/* Undo a partly done listen; files are removed only when we held the lock. */
static void server_teardown(struct rpc_server *srv)
{
	plx_poller_unregister(&srv->poller);
	if (srv->listen_fd >= 0) {
		close(srv->listen_fd);
		unlink(srv->path);
	}
	if (srv->lock_fd >= 0) {
		unlink(srv->lock_path);
		close(srv->lock_fd);
	}
}

int plx_rpc_listen(const char *path)
{
	struct rpc_server *srv;
	int rc;

	if (g_server != NULL) {
		PLX_ERRLOG("RPC server already listening on %s", g_server->path);
		return -EBUSY;
	}
	if (plx_get_thread() == NULL) {
		PLX_ERRLOG("plx_rpc_listen must be called on a plx_thread");
		return -EINVAL;
	}
	if (path == NULL || path[0] == '\0' || strlen(path) >= sizeof(srv->path)) {
		PLX_ERRLOG("invalid RPC socket path '%s'", path != NULL ? path : "");
		return -EINVAL;
	}
	srv = calloc(1, sizeof(*srv));
	if (srv == NULL) {
		return -ENOMEM;
	}
	srv->listen_fd = srv->lock_fd = srv->epfd = -1;
	snprintf(srv->path, sizeof(srv->path), "%s", path);
	snprintf(srv->lock_path, sizeof(srv->lock_path), "%s.lock", path);
	rc = server_lock(srv);
	if (rc == 0) {
		rc = server_bind(srv);
	}
	if (rc == 0) {
		rc = server_start_poller(srv);
	}
	if (rc != 0) {
		server_teardown(srv);
		if (srv->epfd >= 0) {
			close(srv->epfd);
		}
		free(srv);
		return rc;
	}
	g_server = srv;
	return 0;
}

void plx_rpc_close(void)
{
	struct rpc_server *srv = g_server;

	if (srv == NULL) {
		return;
	}
	g_server = NULL;
	server_teardown(srv);
	if (srv->in_poll) {
		/* Called from a handler inside server_poll: it frees the rest on its way out. */
		srv->closed = true;
		return;
	}
	server_free(srv);
}

uint32_t plx_rpc_connection_count(void)
{
	return g_server != NULL ? g_server->num_conns : 0;
}
