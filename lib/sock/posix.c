/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The "posix" implementation: non-blocking TCP sockets, one epoll set per group, queued
 * writes flushed with one sendmsg per socket per poll, optional MSG_ZEROCOPY. The socket
 * creation here is also what the "uring" implementation uses.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/errqueue.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "pollux/log.h"
#include "sock_internal.h"

#define LISTEN_BACKLOG 512

/* ---- creation ---- */

static struct plx_sock *sock_alloc(const struct plx_sock_impl_ops *ops, int fd,
				   const struct plx_sock_opts *opts, bool server)
{
	struct plx_sock *sock = calloc(1, sizeof(*sock));
	struct sockaddr_storage sa;
	socklen_t len = sizeof(sa);

	if (sock == NULL) {
		errno = ENOMEM;
		return NULL;
	}
	sock->ops = ops;
	sock->fd = fd;
	sock->server = server;
	if (opts != NULL) {
		sock->opts = *opts;
	}
	sock->opts.impl_name = NULL;
	sock->queue_tail = &sock->queue;
	sock->sent_tail = &sock->sent;
	sock->zc_notified = UINT32_MAX; /* nothing released yet: the first send is number 0 */
	if (getsockname(fd, (struct sockaddr *)&sa, &len) == 0) {
		sock->ipv6 = sa.ss_family == AF_INET6;
	}
	return sock;
}

static void set_int_opt(int fd, int level, int name, int val)
{
	/* Tuning only: a kernel without the option still gives a working socket. */
	(void)setsockopt(fd, level, name, &val, sizeof(val));
}

/* Buffer sizes go on before listen/connect so the TCP window scale can use them. */
static void apply_buf_opts(int fd, const struct plx_sock_impl_opts *io)
{
	if (io->recv_buf_size != 0) {
		set_int_opt(fd, SOL_SOCKET, SO_RCVBUF, (int)PLX_MIN(io->recv_buf_size, INT32_MAX));
	}
	if (io->send_buf_size != 0) {
		set_int_opt(fd, SOL_SOCKET, SO_SNDBUF, (int)PLX_MIN(io->send_buf_size, INT32_MAX));
	}
}

static void apply_conn_opts(struct plx_sock *sock)
{
	const struct plx_sock_impl_opts *io = sock_impl_opts(sock->ops);
	bool zc = sock->server ? io->enable_zerocopy_send_server : io->enable_zerocopy_send_client;

	set_int_opt(sock->fd, IPPROTO_TCP, TCP_NODELAY, 1);
	if (sock->opts.priority != 0) {
		set_int_opt(sock->fd, SOL_SOCKET, SO_PRIORITY, sock->opts.priority);
	}
	if (sock->opts.ack_timeout_ms != 0) {
		set_int_opt(sock->fd, IPPROTO_TCP, TCP_USER_TIMEOUT,
			    (int)PLX_MIN(sock->opts.ack_timeout_ms, INT32_MAX));
	}
	if (sock->server && io->enable_quickack) {
		set_int_opt(sock->fd, IPPROTO_TCP, TCP_QUICKACK, 1);
	}
	if (zc && sock->opts.zcopy && sock->ops == &g_sock_posix_ops) {
		int one = 1;

		sock->zcopy = setsockopt(sock->fd, SOL_SOCKET, SO_ZEROCOPY, &one, sizeof(one)) == 0;
		sock->zcopy_threshold = io->zerocopy_threshold;
	}
}

static struct addrinfo *resolve(const char *ip, int port, bool passive)
{
	struct addrinfo hints = {.ai_family = AF_UNSPEC,
				 .ai_socktype = SOCK_STREAM,
				 .ai_flags = AI_NUMERICSERV | (passive ? AI_PASSIVE : 0)};
	struct addrinfo *res = NULL;
	char host[256], portstr[16];
	size_t len;
	int rc;

	if (port < 0 || port > 65535) {
		errno = EINVAL;
		return NULL;
	}
	if (ip != NULL) {
		/* Accept "[::1]" as well as "::1". */
		len = strlen(ip);
		if (len >= 2 && ip[0] == '[' && ip[len - 1] == ']') {
			ip++;
			len -= 2;
		}
		if (len >= sizeof(host)) {
			errno = EINVAL;
			return NULL;
		}
		memcpy(host, ip, len);
		host[len] = '\0';
	}
	snprintf(portstr, sizeof(portstr), "%d", port);
	rc = getaddrinfo(ip != NULL ? host : NULL, portstr, &hints, &res);
	if (rc != 0) {
		PLX_ERRLOG("cannot resolve %s: %s\n", ip != NULL ? ip : "(any)", gai_strerror(rc));
		errno = rc == EAI_SYSTEM ? errno : EADDRNOTAVAIL;
		return NULL;
	}
	return res;
}

struct plx_sock *sock_posix_listen(const struct plx_sock_impl_ops *ops, const char *ip, int port,
				   const struct plx_sock_opts *opts)
{
	struct addrinfo *res = resolve(ip, port, true), *ai;
	struct plx_sock *sock;
	int fd = -1, err = EADDRNOTAVAIL;

	for (ai = res; ai != NULL; ai = ai->ai_next) {
		fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		if (fd < 0) {
			err = errno;
			continue;
		}
		set_int_opt(fd, SOL_SOCKET, SO_REUSEADDR, 1);
		apply_buf_opts(fd, sock_impl_opts(ops));
		if (bind(fd, ai->ai_addr, ai->ai_addrlen) == 0 && listen(fd, LISTEN_BACKLOG) == 0) {
			break;
		}
		err = errno;
		close(fd);
		fd = -1;
	}
	if (res == NULL) {
		return NULL;
	}
	freeaddrinfo(res);
	if (fd < 0) {
		PLX_ERRLOG("cannot listen on %s port %d: %s\n", ip != NULL ? ip : "(any)", port,
			   strerror(err));
		errno = err;
		return NULL;
	}
	sock = sock_alloc(ops, fd, opts, true);
	if (sock == NULL) {
		close(fd);
		return NULL;
	}
	sock->listener = true;
	return sock;
}

struct plx_sock *sock_posix_connect(const struct plx_sock_impl_ops *ops, const char *ip, int port,
				    const struct plx_sock_opts *opts, bool async)
{
	struct addrinfo *res = resolve(ip, port, false), *ai;
	struct plx_sock *sock;
	int fd = -1, err = EADDRNOTAVAIL, status = 0;

	if (res == NULL) {
		return NULL;
	}
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC | (async ? SOCK_NONBLOCK : 0),
			    0);
		if (fd < 0) {
			err = errno;
			continue;
		}
		apply_buf_opts(fd, sock_impl_opts(ops));
		if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0 ||
		    (async && errno == EINPROGRESS)) {
			break;
		}
		err = errno;
		if (async && ai->ai_next == NULL) {
			/* The last address failed at once: the callback reports it, as promised. */
			status = -err;
			break;
		}
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	if (fd < 0) {
		errno = err;
		return NULL;
	}
	if (!async && fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) != 0) {
		err = errno;
		close(fd);
		errno = err;
		return NULL;
	}
	sock = sock_alloc(ops, fd, opts, false);
	if (sock == NULL) {
		close(fd);
		return NULL;
	}
	apply_conn_opts(sock);
	sock->connected = !async;
	sock->connecting = async;
	sock->connect_status = status;
	return sock;
}

struct plx_sock *sock_posix_accept(struct plx_sock *listener)
{
	struct plx_sock *sock;
	int fd = accept4(listener->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

	if (fd < 0) {
		return NULL;
	}
	sock = sock_alloc(listener->ops, fd, &listener->opts, true);
	if (sock == NULL) {
		close(fd);
		return NULL;
	}
	apply_conn_opts(sock);
	sock->connected = true;
	return sock;
}

/* ---- addresses ---- */

static int addr_str(const struct sockaddr_storage *sa, char *buf, int len, uint16_t *port)
{
	const void *a;
	uint16_t p;

	if (sa->ss_family == AF_INET) {
		a = &((const struct sockaddr_in *)sa)->sin_addr;
		p = ntohs(((const struct sockaddr_in *)sa)->sin_port);
	} else if (sa->ss_family == AF_INET6) {
		a = &((const struct sockaddr_in6 *)sa)->sin6_addr;
		p = ntohs(((const struct sockaddr_in6 *)sa)->sin6_port);
	} else {
		return -EAFNOSUPPORT;
	}
	if (buf != NULL && inet_ntop(sa->ss_family, a, buf, (socklen_t)len) == NULL) {
		return -errno;
	}
	if (port != NULL) {
		*port = p;
	}
	return 0;
}

int plx_sock_getaddr(struct plx_sock *sock, char *saddr, int slen, uint16_t *sport, char *caddr,
		     int clen, uint16_t *cport)
{
	struct sockaddr_storage sa;
	socklen_t len = sizeof(sa);
	int rc;

	if (getsockname(sock->fd, (struct sockaddr *)&sa, &len) != 0) {
		return -errno;
	}
	rc = addr_str(&sa, saddr, slen, sport);
	if (rc != 0 || (caddr == NULL && cport == NULL)) {
		return rc;
	}
	len = sizeof(sa);
	if (getpeername(sock->fd, (struct sockaddr *)&sa, &len) != 0) {
		/* A listener (or a connect in progress) has no peer: empty address, port 0. */
		if (errno != ENOTCONN) {
			return -errno;
		}
		if (caddr != NULL && clen > 0) {
			caddr[0] = '\0';
		}
		if (cport != NULL) {
			*cport = 0;
		}
		return 0;
	}
	return addr_str(&sa, caddr, clen, cport);
}

/* ---- writes ---- */

int sock_posix_write_once(struct plx_sock *sock)
{
	struct msghdr msg = {0};
	int done = 0, flags = MSG_NOSIGNAL | MSG_DONTWAIT;
	bool zc = false;
	uint32_t seq;
	size_t len;
	ssize_t rc;

	if (sock->write_err != 0) {
		return sock_queue_abort(sock, sock->write_err);
	}
	if (sock->sent != NULL) {
		done = sock_queue_release_sent(sock);
		if (sock->closed) {
			return done;
		}
	}
	msg.msg_iov = sock->iov;
	msg.msg_iovlen = (size_t)sock_queue_gather(sock, &len);
	msg.msg_iov = sock->iov;
	if (msg.msg_iovlen == 0) {
		return sock->queue != NULL ? done + sock_write_failed(sock, -ENOMEM) : done;
	}
	if (sock->zcopy && len >= sock->zcopy_threshold) {
		zc = true;
		flags |= MSG_ZEROCOPY;
	}
	rc = sendmsg(sock->fd, &msg, flags);
	if (rc < 0 && zc && errno == ENOBUFS) {
		/* Out of option memory for notifications: this one goes by copy. */
		zc = false;
		rc = sendmsg(sock->fd, &msg, flags & ~MSG_ZEROCOPY);
	}
	if (rc < 0) {
		if (errno == EAGAIN || errno == EWOULDBLOCK) {
			return done > 0 ? done : -EAGAIN;
		}
		if (errno == EINTR) {
			return done;
		}
		return done + sock_write_failed(sock, -errno);
	}
	if (zc) {
		seq = sock->zc_seq++;
		return done + sock_queue_written(sock, (size_t)rc, &seq);
	}
	return done + sock_queue_written(sock, (size_t)rc, NULL);
}

int sock_posix_flush(struct plx_sock *sock)
{
	int rc;

	while (sock->queue != NULL && !sock->closed) {
		rc = sock_posix_write_once(sock);
		if (rc == -EAGAIN) {
			return -EAGAIN;
		}
		if (sock->write_err != 0) {
			return sock->write_err;
		}
	}
	return sock->write_err;
}

/* ---- groups: one epoll set ---- */

/*
 * Level-triggered epoll: a read callback may leave data in the socket (a PDU at a time, or a
 * budget per poll), and level triggering reports it again on the next poll without our
 * keeping a list of "maybe more" sockets or issuing a recv to find out. EPOLLOUT is in the
 * interest set only while a socket's writes are blocked, so an idle group reports nothing
 * and the reactor can sleep on the epoll fd.
 */
struct posix_group {
	struct plx_sock_group base;
	int epfd;
	struct epoll_event events[SOCK_GROUP_MAX_EVENTS];
};

static struct posix_group *pgroup(struct plx_sock_group *group)
{
	return PLX_CONTAINEROF(group, struct posix_group, base);
}

static int posix_set_events(struct plx_sock *sock)
{
	uint32_t want = EPOLLIN | EPOLLRDHUP | (sock->write_blocked ? EPOLLOUT : 0);
	struct epoll_event ev = {.events = want, .data.ptr = sock};

	if (want == sock->epoll_events) {
		return 0;
	}
	if (epoll_ctl(pgroup(sock->group)->epfd, EPOLL_CTL_MOD, sock->fd, &ev) != 0) {
		return -errno;
	}
	sock->epoll_events = want;
	return 0;
}

static struct plx_sock_group *posix_group_create(void)
{
	struct posix_group *pg = calloc(1, sizeof(*pg));

	if (pg == NULL) {
		return NULL;
	}
	pg->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (pg->epfd < 0) {
		PLX_ERRLOG("epoll_create1: %s\n", strerror(errno));
		free(pg);
		return NULL;
	}
	return &pg->base;
}

static int posix_group_add(struct plx_sock_group *group, struct plx_sock *sock)
{
	struct epoll_event ev = {.events = EPOLLIN | EPOLLRDHUP, .data.ptr = sock};

	if (epoll_ctl(pgroup(group)->epfd, EPOLL_CTL_ADD, sock->fd, &ev) != 0) {
		return -errno;
	}
	sock->epoll_events = ev.events;
	sock->write_blocked = false;
	return 0;
}

static void posix_group_remove(struct plx_sock_group *group, struct plx_sock *sock)
{
	epoll_ctl(pgroup(group)->epfd, EPOLL_CTL_DEL, sock->fd, NULL);
	sock->epoll_events = 0;
}

/* Read the kernel's zero-copy notifications: which sends no longer use our memory. */
static void posix_read_errqueue(struct plx_sock *sock)
{
	char control[128] __attribute__((aligned(8)));

	for (;;) {
		struct msghdr msg = {.msg_control = control, .msg_controllen = sizeof(control)};
		struct cmsghdr *cm;

		if (recvmsg(sock->fd, &msg, MSG_ERRQUEUE | MSG_DONTWAIT) < 0) {
			return;
		}
		for (cm = CMSG_FIRSTHDR(&msg); cm != NULL; cm = CMSG_NXTHDR(&msg, cm)) {
			struct sock_extended_err serr;

			if (!(cm->cmsg_level == SOL_IP && cm->cmsg_type == IP_RECVERR) &&
			    !(cm->cmsg_level == SOL_IPV6 && cm->cmsg_type == IPV6_RECVERR)) {
				continue;
			}
			memcpy(&serr, CMSG_DATA(cm), sizeof(serr));
			if (serr.ee_errno != 0 || serr.ee_origin != SO_EE_ORIGIN_ZEROCOPY) {
				continue;
			}
			/* TCP releases sends in order: the range's end covers everything before. */
			if ((int32_t)(serr.ee_data - sock->zc_notified) > 0) {
				sock->zc_notified = serr.ee_data;
			}
		}
	}
}

static int posix_group_write_once(struct plx_sock *sock)
{
	int rc = sock_posix_write_once(sock);

	if (rc == -EAGAIN && sock->group != NULL) {
		sock->write_blocked = true;
		if (posix_set_events(sock) != 0) {
			/* Without EPOLLOUT we would never retry: keep polling for it. */
			sock->write_blocked = false;
		}
	}
	return rc;
}

static int posix_group_poll(struct plx_sock_group *group, int max_events)
{
	struct posix_group *pg = pgroup(group);
	bool busy;
	int n, done;

	n = epoll_wait(pg->epfd, pg->events, max_events, 0);
	if (n < 0) {
		if (errno != EINTR) {
			return -errno;
		}
		n = 0;
	}
	/* No callbacks in this loop: they could close sockets later in events[]. */
	for (int i = 0; i < n; i++) {
		struct plx_sock *sock = pg->events[i].data.ptr;
		uint32_t ev = pg->events[i].events;

		if (sock->zcopy && (ev & EPOLLERR)) {
			posix_read_errqueue(sock);
			if (sock->sent != NULL) {
				sock_group_flush_add(group, sock);
			}
		}
		if ((ev & (EPOLLOUT | EPOLLERR | EPOLLHUP)) && sock->write_blocked) {
			sock->write_blocked = false;
			posix_set_events(sock);
			sock_group_flush_add(group, sock);
		}
		if ((ev & (EPOLLIN | EPOLLHUP | EPOLLRDHUP)) || ((ev & EPOLLERR) && !sock->zcopy)) {
			group->ready[group->nready++] = sock;
		}
	}
	done = sock_group_flush_all(group, posix_group_write_once, &busy);
	return done == 0 && busy ? 1 : done;
}

static int posix_group_get_fd(struct plx_sock_group *group)
{
	return pgroup(group)->epfd;
}

static void posix_group_close(struct plx_sock_group *group)
{
	struct posix_group *pg = pgroup(group);

	close(pg->epfd);
	free(pg);
}

const struct plx_sock_impl_ops g_sock_posix_ops = {
    .name = "posix",
    .flush = sock_posix_flush,
    .group_create = posix_group_create,
    .group_add = posix_group_add,
    .group_remove = posix_group_remove,
    .group_poll = posix_group_poll,
    .group_get_fd = posix_group_get_fd,
    .group_close = posix_group_close,
};
