/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * What the public sock API (sock.c) and its implementations (posix.c, uring.c) share: the
 * socket and group objects, the implementation ops table, socket creation, and the queue of
 * asynchronous write requests.
 */
#ifndef POLLUX_SOCK_INTERNAL_H
#define POLLUX_SOCK_INTERNAL_H

#include <limits.h>
#include <sys/queue.h>
#include <sys/socket.h>

#include <jansson.h>

#include "pollux/sock.h"

#ifndef IOV_MAX
#define IOV_MAX 1024
#endif

/* Read callbacks one group poll can run (larger max_events are capped to this). */
#define SOCK_GROUP_MAX_EVENTS 64

struct plx_sock_impl_ops;

struct plx_sock {
	const struct plx_sock_impl_ops *ops;
	int fd;
	bool ipv6;
	bool connected; /* false after EOF or an error */
	bool server;	/* accepted (or listening), as opposed to connected */
	bool listener;
	bool zcopy; /* MSG_ZEROCOPY is on for this socket */
	uint32_t zcopy_threshold;
	struct plx_sock_opts opts; /* impl_name not kept */

	/* plx_sock_connect_async */
	bool connecting;
	int connect_status;
	plx_sock_connect_cb connect_cb;
	void *connect_arg;

	/* group membership */
	struct plx_sock_group *group;
	plx_sock_cb cb;
	void *cb_arg;
	TAILQ_ENTRY(plx_sock) link;	  /* group->socks */
	TAILQ_ENTRY(plx_sock) flush_link; /* group->flush */
	bool in_flush;
	uint64_t flush_gen;

	/* asynchronous writes */
	struct plx_sock_request *queue, **queue_tail; /* not fully written yet, in order */
	struct plx_sock_request *sent, **sent_tail;   /* zero copy: written, kernel not done */
	struct iovec *iov;			      /* IOV_MAX entries, allocated at first use */
	int write_err;				      /* sticky: the connection failed */
	bool write_blocked;			      /* EAGAIN seen; wait for writability */

	/* deferred free: a callback may close the socket its caller is still using */
	uint32_t hold;
	bool closed;

	/* posix */
	uint32_t epoll_events;
	uint32_t zc_seq;      /* the kernel's number for our next zero-copy send */
	uint32_t zc_notified; /* highest zero-copy send the kernel has released */

	/* uring */
	struct msghdr msg;
	uint32_t uring_ops; /* SQEs in the kernel that point at this socket */
	uint32_t poll_ops;
	bool write_inflight;
	bool zombie;
	struct plx_sock_group *ring_group; /* the group whose ring holds those SQEs */
	TAILQ_ENTRY(plx_sock) zombie_link;
};

TAILQ_HEAD(sock_list, plx_sock);

struct plx_sock_group {
	const struct plx_sock_impl_ops *ops;
	struct sock_list socks;
	struct sock_list flush; /* sockets with writes to issue */
	uint32_t nsocks;
	uint64_t flush_gen;
	struct plx_sock *ready[SOCK_GROUP_MAX_EVENTS]; /* read callbacks due in this poll */
	int nready;
};

/* An implementation. Members left NULL fall back to the common code in sock.c. */
struct plx_sock_impl_ops {
	const char *name;
	/* Once at registration: 0 when the implementation can run on this machine. */
	int (*probe)(void);
	/* Queued writes of sock may be issued now (socket not in a group, or flush). */
	int (*flush)(struct plx_sock *sock);
	/* Before the common close: leave nothing in the kernel that points at sock. */
	void (*close)(struct plx_sock *sock);
	/* Whether sock can be freed now (uring: not while SQEs point at it). */
	bool (*can_free)(struct plx_sock *sock);

	struct plx_sock_group *(*group_create)(void);
	int (*group_add)(struct plx_sock_group *group, struct plx_sock *sock);
	void (*group_remove)(struct plx_sock_group *group, struct plx_sock *sock);
	/* Reap events, issue writes, fill group->ready; completions (>= 0) or a negative errno. */
	int (*group_poll)(struct plx_sock_group *group, int max_events);
	/* After a read callback of a socket still in group (uring re-arms its poll). */
	void (*read_done)(struct plx_sock_group *group, struct plx_sock *sock);
	/* Queued writes of a socket in group were just added. */
	void (*write_queued)(struct plx_sock_group *group, struct plx_sock *sock);
	int (*group_get_fd)(struct plx_sock_group *group);
	void (*group_close)(struct plx_sock_group *group);
};

extern const struct plx_sock_impl_ops g_sock_posix_ops;
extern const struct plx_sock_impl_ops g_sock_uring_ops;

/* Current options of the implementation (registry in sock.c). */
const struct plx_sock_impl_opts *sock_impl_opts(const struct plx_sock_impl_ops *ops);
/* The sock_impl_set_options params object of one implementation (new reference). */
json_t *sock_impl_opts_json(const char *name, const struct plx_sock_impl_opts *opts);

/* ---- socket creation (posix.c; used by both implementations) ---- */

struct plx_sock *sock_posix_listen(const struct plx_sock_impl_ops *ops, const char *ip, int port,
				   const struct plx_sock_opts *opts);
struct plx_sock *sock_posix_connect(const struct plx_sock_impl_ops *ops, const char *ip, int port,
				    const struct plx_sock_opts *opts, bool async);
struct plx_sock *sock_posix_accept(struct plx_sock *listener);
/* sendmsg of the queue head (one call): completions, or a negative errno (-EAGAIN: full). */
int sock_posix_write_once(struct plx_sock *sock);
/* sendmsg until the queue is empty or the socket is full: completions or a negative errno. */
int sock_posix_flush(struct plx_sock *sock);

/* ---- request queue (sock.c) ---- */

/* Gather the queued bytes into sock->iov (up to IOV_MAX entries); the count, and *len. */
int sock_queue_gather(struct plx_sock *sock, size_t *len);
/*
 * Account n bytes written by one send. Requests now fully written complete (cb 0), or, when
 * zc_seq is not NULL (a zero-copy send with that number) or earlier requests still wait for
 * the kernel, move to the sent list. Returns the completions. Call with the socket held.
 */
int sock_queue_written(struct plx_sock *sock, size_t n, const uint32_t *zc_seq);
/* Complete sent requests the kernel has released (zc_notified). Call with the socket held. */
int sock_queue_release_sent(struct plx_sock *sock);
/* Complete every queued and sent request with err; returns how many. */
int sock_queue_abort(struct plx_sock *sock, int err);
/* A write failed: remember err, fail every request, mark the socket disconnected. */
int sock_write_failed(struct plx_sock *sock, int err);

/* Take and drop a reference around code that runs callbacks; true when put freed sock. */
void sock_hold(struct plx_sock *sock);
bool sock_put(struct plx_sock *sock);
/* Free now if nothing holds sock any more (uring calls it when its SQEs are done). */
bool sock_try_free(struct plx_sock *sock);

/* Put sock on its group's flush list (idempotent). */
void sock_group_flush_add(struct plx_sock_group *group, struct plx_sock *sock);
/*
 * Issue writes of every socket on the flush list once (write_once per socket); sockets with
 * more to write stay on the list. write_once returns completions, -EAGAIN (socket full: it
 * waits for writability) or -EINPROGRESS (a send is with the kernel; its completion puts the
 * socket back). Returns completions; *busy true if work remains.
 */
int sock_group_flush_all(struct plx_sock_group *group, int (*write_once)(struct plx_sock *sock),
			 bool *busy);

#endif
