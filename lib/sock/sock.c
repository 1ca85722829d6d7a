/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The public socket API: the implementation registry and options, dispatch to the
 * implementation of each socket and group, the queue of asynchronous writes both
 * implementations share, and the "sock" subsystem's saved configuration.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "pollux/event.h"
#include "pollux/log.h"
#include "sock_internal.h"

/* ---- registry ---- */

struct sock_impl {
	const struct plx_sock_impl_ops *ops;
	struct plx_sock_impl_opts opts;
};

static struct sock_impl g_impls[2];
static int g_nimpls;
static const struct sock_impl *g_default_impl;
static pthread_once_t g_impls_once = PTHREAD_ONCE_INIT;

/*
 * Buffer sizes 0 keep the kernel's autotuning (a fixed SO_RCVBUF turns it off and is capped
 * by net.core.rmem_max). Zero copy is off by default: on loopback and for small PDUs the
 * kernel copies anyway and the completion notifications only add work.
 */
static const struct plx_sock_impl_opts g_default_opts = {
    .recv_buf_size = 0,
    .send_buf_size = 0,
    .enable_recv_pipe = false,
    .enable_quickack = false,
    .enable_placement_id = 0,
    .enable_zerocopy_send_server = false,
    .enable_zerocopy_send_client = false,
    .zerocopy_threshold = 0,
    .tls_version = 0,
    .enable_ktls = false,
};

static void register_impl(const struct plx_sock_impl_ops *ops)
{
	if (ops->probe != NULL && ops->probe() != 0) {
		return;
	}
	g_impls[g_nimpls].ops = ops;
	g_impls[g_nimpls].opts = g_default_opts;
	g_nimpls++;
}

/* Explicit order (posix first, the default) rather than constructor order. */
static void impls_init(void)
{
	register_impl(&g_sock_posix_ops);
	register_impl(&g_sock_uring_ops);
	g_default_impl = &g_impls[0];
}

static struct sock_impl *impl_find(const char *name)
{
	pthread_once(&g_impls_once, impls_init);
	if (name == NULL) {
		return (struct sock_impl *)g_default_impl;
	}
	for (int i = 0; i < g_nimpls; i++) {
		if (strcmp(g_impls[i].ops->name, name) == 0) {
			return &g_impls[i];
		}
	}
	return NULL;
}

const struct plx_sock_impl_opts *sock_impl_opts(const struct plx_sock_impl_ops *ops)
{
	struct sock_impl *impl = impl_find(ops->name);

	return impl != NULL ? &impl->opts : &g_default_opts;
}

int plx_sock_impl_get_opts(const char *impl_name, struct plx_sock_impl_opts *opts)
{
	struct sock_impl *impl = impl_name != NULL ? impl_find(impl_name) : NULL;

	if (impl == NULL || opts == NULL) {
		return -EINVAL;
	}
	*opts = impl->opts;
	return 0;
}

int plx_sock_impl_set_opts(const char *impl_name, const struct plx_sock_impl_opts *opts)
{
	struct sock_impl *impl = impl_name != NULL ? impl_find(impl_name) : NULL;

	if (impl == NULL || opts == NULL) {
		return -EINVAL;
	}
	impl->opts = *opts;
	return 0;
}

int plx_sock_set_default_impl(const char *impl_name)
{
	struct sock_impl *impl = impl_name != NULL ? impl_find(impl_name) : NULL;

	if (impl == NULL) {
		return -EINVAL;
	}
	g_default_impl = impl;
	return 0;
}

const char *plx_sock_get_default_impl(void)
{
	return impl_find(NULL)->ops->name;
}

void plx_sock_foreach_impl(void (*fn)(const char *impl_name, void *arg), void *arg)
{
	pthread_once(&g_impls_once, impls_init);
	for (int i = 0; i < g_nimpls; i++) {
		fn(g_impls[i].ops->name, arg);
	}
}

static const struct plx_sock_impl_ops *ops_for(const struct plx_sock_opts *opts)
{
	struct sock_impl *impl = impl_find(opts != NULL ? opts->impl_name : NULL);

	if (impl == NULL) {
		PLX_ERRLOG("unknown socket implementation '%s'\n", opts->impl_name);
		errno = EINVAL;
		return NULL;
	}
	return impl->ops;
}

/* ---- sockets ---- */

struct plx_sock *plx_sock_listen(const char *ip, int port, const struct plx_sock_opts *opts)
{
	const struct plx_sock_impl_ops *ops = ops_for(opts);

	return ops != NULL ? sock_posix_listen(ops, ip, port, opts) : NULL;
}

struct plx_sock *plx_sock_accept(struct plx_sock *listener)
{
	if (listener == NULL || !listener->listener) {
		errno = EINVAL;
		return NULL;
	}
	return sock_posix_accept(listener);
}

struct plx_sock *plx_sock_connect(const char *ip, int port, const struct plx_sock_opts *opts)
{
	const struct plx_sock_impl_ops *ops = ops_for(opts);

	return ops != NULL ? sock_posix_connect(ops, ip, port, opts, false) : NULL;
}

struct plx_sock *plx_sock_connect_async(const char *ip, int port, const struct plx_sock_opts *opts,
					plx_sock_connect_cb cb, void *cb_arg)
{
	const struct plx_sock_impl_ops *ops = ops_for(opts);
	struct plx_sock *sock;

	if (ops == NULL) {
		return NULL;
	}
	sock = sock_posix_connect(ops, ip, port, opts, true);
	if (sock != NULL) {
		sock->connect_cb = cb;
		sock->connect_arg = cb_arg;
	}
	return sock;
}

static void sock_free(struct plx_sock *sock)
{
	free(sock->iov);
	free(sock);
}

void sock_hold(struct plx_sock *sock)
{
	sock->hold++;
}

bool sock_try_free(struct plx_sock *sock)
{
	if (!sock->closed || sock->hold > 0 ||
	    (sock->ops->can_free != NULL && !sock->ops->can_free(sock))) {
		return false;
	}
	sock_free(sock);
	return true;
}

bool sock_put(struct plx_sock *sock)
{
	sock->hold--;
	return sock_try_free(sock);
}

int plx_sock_close(struct plx_sock **psock)
{
	struct plx_sock *sock;

	if (psock == NULL || *psock == NULL) {
		return -EINVAL;
	}
	sock = *psock;
	*psock = NULL;
	if (sock->group != NULL) {
		plx_sock_group_remove_sock(sock->group, sock);
	}
	sock->closed = true;
	sock->connected = false;
	if (sock->write_err == 0) {
		sock->write_err = -ECANCELED;
	}
	if (sock->ops->close != NULL) {
		sock->ops->close(sock);
	}
	close(sock->fd);
	sock->fd = -1;
	/* uring keeps requests its SQEs point at until the kernel is done with them. */
	if (!sock->write_inflight) {
		sock_hold(sock);
		sock_queue_abort(sock, -ECANCELED);
		sock_put(sock);
	} else {
		sock_try_free(sock);
	}
	return 0;
}

int plx_sock_connect_poll(struct plx_sock *sock)
{
	plx_sock_connect_cb cb;
	int status, rc;
	socklen_t len = sizeof(status);

	if (sock == NULL || !sock->connecting) {
		return 1;
	}
	status = sock->connect_status;
	if (status == 0) {
		rc = getsockopt(sock->fd, SOL_SOCKET, SO_ERROR, &status, &len);
		if (rc != 0) {
			status = errno;
		}
		if (status == 0) {
			/* A connect in progress has no error yet; the peer address tells if it is
			 * done. */
			struct sockaddr_storage sa;
			socklen_t salen = sizeof(sa);

			if (getpeername(sock->fd, (struct sockaddr *)&sa, &salen) != 0) {
				if (errno == ENOTCONN) {
					return 0;
				}
				status = errno;
			}
		}
		status = -status;
	}
	sock->connecting = false;
	sock->connected = status == 0;
	cb = sock->connect_cb;
	if (cb != NULL) {
		cb(sock->connect_arg, status);
	}
	return 1;
}

static void note_recv(struct plx_sock *sock, ssize_t rc)
{
	if (rc == 0 || (rc < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) {
		sock->connected = false;
	}
}

ssize_t plx_sock_recv(struct plx_sock *sock, void *buf, size_t len)
{
	ssize_t rc = recv(sock->fd, buf, len, MSG_DONTWAIT);

	note_recv(sock, rc);
	return rc;
}

ssize_t plx_sock_readv(struct plx_sock *sock, struct iovec *iov, int iovcnt)
{
	ssize_t rc = readv(sock->fd, iov, iovcnt);

	note_recv(sock, rc);
	return rc;
}

ssize_t plx_sock_writev(struct plx_sock *sock, struct iovec *iov, int iovcnt)
{
	struct msghdr msg = {.msg_iov = iov, .msg_iovlen = (size_t)iovcnt};
	ssize_t rc;

	if (sock->queue != NULL) {
		plx_sock_flush(sock);
		if (sock->queue != NULL) {
			errno = sock->write_err != 0 ? -sock->write_err : EAGAIN;
			return -1;
		}
	}
	rc = sendmsg(sock->fd, &msg, MSG_NOSIGNAL | MSG_DONTWAIT);
	if (rc < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
		sock->connected = false;
	}
	return rc;
}

/* Writes of sock are queued: have its group issue them. */
static void notify_group(struct plx_sock *sock)
{
	if (sock->group == NULL) {
		return;
	}
	if (sock->ops->write_queued != NULL) {
		sock->ops->write_queued(sock->group, sock);
	} else if (!sock->write_blocked || sock->write_err != 0) {
		sock_group_flush_add(sock->group, sock);
	}
}

void plx_sock_writev_async(struct plx_sock *sock, struct plx_sock_request *req)
{
	req->internal.next = NULL;
	req->internal.offset = 0;
	req->internal.is_zcopy = false;
	req->internal.zcopy_idx = 0;
	*sock->queue_tail = req;
	sock->queue_tail = &req->internal.next;
	notify_group(sock);
}

int plx_sock_flush(struct plx_sock *sock)
{
	int rc;

	if (sock->queue == NULL && sock->write_err == 0) {
		return 0;
	}
	sock_hold(sock);
	rc = sock->ops->flush != NULL ? sock->ops->flush(sock) : sock_posix_flush(sock);
	if (sock_put(sock)) {
		return rc < 0 && rc != -EAGAIN ? rc : 0;
	}
	if (sock->queue != NULL) {
		/* The group's poll takes over (and waits for writability if need be). */
		notify_group(sock);
	}
	return rc < 0 && rc != -EAGAIN ? rc : 0;
}

bool plx_sock_is_ipv6(struct plx_sock *sock)
{
	return sock->ipv6;
}

bool plx_sock_is_connected(struct plx_sock *sock)
{
	return sock->connected && sock->write_err == 0;
}

int plx_sock_get_fd(const struct plx_sock *sock)
{
	return sock != NULL ? sock->fd : -1;
}

int plx_sock_set_recvlowat(struct plx_sock *sock, int nbytes)
{
	int val = nbytes < 1 ? 1 : nbytes;

	if (setsockopt(sock->fd, SOL_SOCKET, SO_RCVLOWAT, &val, sizeof(val)) != 0) {
		return -errno;
	}
	return 0;
}

const char *plx_sock_get_impl_name(struct plx_sock *sock)
{
	return sock->ops->name;
}

/* ---- request queue ---- */

int sock_queue_gather(struct plx_sock *sock, size_t *len)
{
	struct plx_sock_request *req;
	size_t total = 0;
	int n = 0;

	if (sock->iov == NULL) {
		sock->iov = malloc(sizeof(*sock->iov) * IOV_MAX);
		if (sock->iov == NULL) {
			*len = 0;
			return 0;
		}
	}
	for (req = sock->queue; req != NULL && n < IOV_MAX; req = req->internal.next) {
		uint64_t skip = req->internal.offset;

		for (int i = 0; i < req->iovcnt && n < IOV_MAX; i++) {
			size_t l = req->iovs[i].iov_len;

			if (skip >= l) {
				skip -= l;
				continue;
			}
			sock->iov[n].iov_base = (char *)req->iovs[i].iov_base + skip;
			sock->iov[n].iov_len = l - skip;
			total += l - skip;
			skip = 0;
			n++;
		}
	}
	*len = total;
	return n;
}

static size_t req_len(const struct plx_sock_request *req)
{
	size_t len = 0;

	for (int i = 0; i < req->iovcnt; i++) {
		len += req->iovs[i].iov_len;
	}
	return len;
}

static void append_sent(struct plx_sock *sock, struct plx_sock_request *req)
{
	req->internal.next = NULL;
	*sock->sent_tail = req;
	sock->sent_tail = &req->internal.next;
}

/* Complete a detached chain of requests; the callbacks may queue more or close sock. */
static int complete_chain(struct plx_sock_request *chain, int err)
{
	int n = 0;

	while (chain != NULL) {
		struct plx_sock_request *req = chain;

		chain = req->internal.next;
		req->internal.next = NULL;
		req->cb_fn(req->cb_arg, err);
		n++;
	}
	return n;
}

int sock_queue_written(struct plx_sock *sock, size_t n, const uint32_t *zc_seq)
{
	struct plx_sock_request *done = NULL, **done_tail = &done;

	while (sock->queue != NULL) {
		struct plx_sock_request *req = sock->queue;
		size_t left = req_len(req) - req->internal.offset;

		if (zc_seq != NULL && n > 0) {
			/* The kernel may read this request's memory until that send is released. */
			req->internal.is_zcopy = true;
			req->internal.zcopy_idx = *zc_seq;
		}
		if (n < left) {
			req->internal.offset += n;
			break;
		}
		n -= left;
		req->internal.offset += left;
		sock->queue = req->internal.next;
		if (sock->queue == NULL) {
			sock->queue_tail = &sock->queue;
		}
		if (req->internal.is_zcopy || sock->sent != NULL) {
			/* Completions stay in order: wait behind the zero-copy sends before it. */
			if (!req->internal.is_zcopy) {
				req->internal.zcopy_idx = sock->zc_seq - 1;
			}
			append_sent(sock, req);
			continue;
		}
		req->internal.next = NULL;
		*done_tail = req;
		done_tail = &req->internal.next;
	}
	return complete_chain(done, 0);
}

int sock_queue_release_sent(struct plx_sock *sock)
{
	struct plx_sock_request *done = NULL, **done_tail = &done;

	while (sock->sent != NULL &&
	       (int32_t)(sock->sent->internal.zcopy_idx - sock->zc_notified) <= 0) {
		struct plx_sock_request *req = sock->sent;

		sock->sent = req->internal.next;
		if (sock->sent == NULL) {
			sock->sent_tail = &sock->sent;
		}
		req->internal.next = NULL;
		*done_tail = req;
		done_tail = &req->internal.next;
	}
	return complete_chain(done, 0);
}

int sock_queue_abort(struct plx_sock *sock, int err)
{
	struct plx_sock_request *sent = sock->sent, *queue = sock->queue;
	int n;

	sock->sent = NULL;
	sock->sent_tail = &sock->sent;
	sock->queue = NULL;
	sock->queue_tail = &sock->queue;
	n = complete_chain(sent, err);
	return n + complete_chain(queue, err);
}

int sock_write_failed(struct plx_sock *sock, int err)
{
	if (sock->write_err == 0) {
		sock->write_err = err;
	}
	sock->connected = false;
	return sock_queue_abort(sock, sock->write_err);
}

/* ---- groups ---- */

struct plx_sock_group *plx_sock_group_create(const char *impl_name)
{
	struct sock_impl *impl = impl_find(impl_name);
	struct plx_sock_group *group;

	if (impl == NULL) {
		PLX_ERRLOG("unknown socket implementation '%s'\n", impl_name);
		return NULL;
	}
	group = impl->ops->group_create();
	if (group == NULL) {
		return NULL;
	}
	group->ops = impl->ops;
	TAILQ_INIT(&group->socks);
	TAILQ_INIT(&group->flush);
	return group;
}

int plx_sock_group_add_sock(struct plx_sock_group *group, struct plx_sock *sock, plx_sock_cb cb,
			    void *cb_arg)
{
	int rc;

	if (group == NULL || sock == NULL || cb == NULL || sock->ops != group->ops ||
	    sock->group != NULL || sock->connecting) {
		return sock != NULL && sock->group == group ? -EBUSY : -EINVAL;
	}
	sock->cb = cb;
	sock->cb_arg = cb_arg;
	rc = group->ops->group_add(group, sock);
	if (rc != 0) {
		return rc;
	}
	sock->group = group;
	TAILQ_INSERT_TAIL(&group->socks, sock, link);
	group->nsocks++;
	if (sock->queue != NULL) {
		sock_group_flush_add(group, sock);
	}
	return 0;
}

int plx_sock_group_remove_sock(struct plx_sock_group *group, struct plx_sock *sock)
{
	if (group == NULL || sock == NULL || sock->group != group) {
		return -ENOENT;
	}
	group->ops->group_remove(group, sock);
	if (sock->in_flush) {
		TAILQ_REMOVE(&group->flush, sock, flush_link);
		sock->in_flush = false;
	}
	/* A callback earlier in this poll may remove a socket whose callback is still due. */
	for (int i = 0; i < group->nready; i++) {
		if (group->ready[i] == sock) {
			group->ready[i] = NULL;
		}
	}
	TAILQ_REMOVE(&group->socks, sock, link);
	group->nsocks--;
	sock->group = NULL;
	sock->write_blocked = false;
	return 0;
}

void sock_group_flush_add(struct plx_sock_group *group, struct plx_sock *sock)
{
	if (!sock->in_flush) {
		sock->in_flush = true;
		TAILQ_INSERT_TAIL(&group->flush, sock, flush_link);
	}
}

int sock_group_flush_all(struct plx_sock_group *group, int (*write_once)(struct plx_sock *sock),
			 bool *busy)
{
	uint64_t gen = ++group->flush_gen;
	struct plx_sock *sock;
	int done = 0;

	/* Each socket writes once per poll; callbacks may append or close sockets meanwhile. */
	while ((sock = TAILQ_FIRST(&group->flush)) != NULL && sock->flush_gen != gen) {
		int rc;

		TAILQ_REMOVE(&group->flush, sock, flush_link);
		sock->in_flush = false;
		sock->flush_gen = gen;
		sock_hold(sock);
		rc = write_once(sock);
		if (sock_put(sock)) {
			continue;
		}
		done += rc > 0 ? rc : 0;
		if (sock->group == group && !sock->write_blocked && sock->queue != NULL &&
		    rc != -EINPROGRESS) {
			sock_group_flush_add(group, sock);
		}
	}
	*busy = !TAILQ_EMPTY(&group->flush);
	return done;
}

int plx_sock_group_poll_count(struct plx_sock_group *group, int max_events)
{
	int rc, n;

	if (group == NULL || max_events <= 0) {
		return -EINVAL;
	}
	max_events = PLX_MIN(max_events, SOCK_GROUP_MAX_EVENTS);
	group->nready = 0;
	rc = group->ops->group_poll(group, max_events);
	if (rc < 0) {
		group->nready = 0;
		return rc;
	}
	n = group->nready;
	for (int i = 0; i < n; i++) {
		struct plx_sock *sock = group->ready[i];

		if (sock == NULL) {
			continue;
		}
		group->ready[i] = NULL;
		sock_hold(sock);
		sock->cb(sock->cb_arg, group, sock);
		rc++;
		if (!sock_put(sock) && sock->group == group && group->ops->read_done != NULL) {
			group->ops->read_done(group, sock);
		}
	}
	group->nready = 0;
	return rc;
}

int plx_sock_group_poll(struct plx_sock_group *group)
{
	return plx_sock_group_poll_count(group, SOCK_GROUP_MAX_EVENTS);
}

int plx_sock_group_get_fd(struct plx_sock_group *group)
{
	if (group == NULL || group->ops->group_get_fd == NULL) {
		return -1;
	}
	return group->ops->group_get_fd(group);
}

int plx_sock_group_close(struct plx_sock_group **pgroup)
{
	struct plx_sock_group *group;

	if (pgroup == NULL || *pgroup == NULL) {
		return -EINVAL;
	}
	group = *pgroup;
	if (group->nsocks > 0) {
		return -EBUSY;
	}
	group->ops->group_close(group);
	*pgroup = NULL;
	return 0;
}

/* ---- the "sock" subsystem: save_config ---- */

json_t *sock_impl_opts_json(const char *name, const struct plx_sock_impl_opts *o)
{
	return json_pack("{s:s, s:I, s:I, s:b, s:b, s:I, s:b, s:b, s:I, s:I, s:b}", "impl_name",
			 name, "recv_buf_size", (json_int_t)o->recv_buf_size, "send_buf_size",
			 (json_int_t)o->send_buf_size, "enable_recv_pipe", o->enable_recv_pipe,
			 "enable_quickack", o->enable_quickack, "enable_placement_id",
			 (json_int_t)o->enable_placement_id, "enable_zerocopy_send_server",
			 o->enable_zerocopy_send_server, "enable_zerocopy_send_client",
			 o->enable_zerocopy_send_client, "zerocopy_threshold",
			 (json_int_t)o->zerocopy_threshold, "tls_version",
			 (json_int_t)o->tls_version, "enable_ktls", o->enable_ktls);
}

static void sock_write_config(json_t *config)
{
	json_array_append_new(config,
			      json_pack("{s:s, s:{s:s}}", "method", "sock_set_default_impl",
					"params", "impl_name", plx_sock_get_default_impl()));
	for (int i = 0; i < g_nimpls; i++) {
		json_array_append_new(
		    config, json_pack("{s:s, s:o}", "method", "sock_impl_set_options", "params",
				      sock_impl_opts_json(g_impls[i].ops->name, &g_impls[i].opts)));
	}
}

static struct plx_subsystem g_sock_subsystem = {
    .name = "sock",
    .write_config_json = sock_write_config,
};
PLX_SUBSYSTEM_REGISTER(g_sock_subsystem)
