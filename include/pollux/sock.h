/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Pollux sock: TCP sockets for polled-mode protocol servers and clients.
 *
 * Two implementations sit behind one ops table and are chosen at run time by name: "posix"
 * (non-blocking sockets, an epoll set per socket group, queued writes flushed with one writev
 * per socket per poll, optional MSG_ZEROCOPY) and "uring" (one io_uring per socket group,
 * receives and sends submitted in batches). The default is "posix"; sock_set_default_impl
 * changes it.
 *
 * Ownership: a socket and a socket group belong to the plx_thread that created them (or, for
 * a socket, the thread whose group it was added to); only that thread calls into them. No
 * function here blocks, except plx_sock_connect (a blocking TCP connect bounded by the
 * kernel's timeout; use plx_sock_connect_async on reactor threads).
 *
 * Errors: functions returning int return 0 or a negative errno. Functions returning ssize_t
 * return a byte count or -1 with errno set (as the system calls they wrap, so EAGAIN means
 * "nothing now, poll again").
 */
#ifndef POLLUX_SOCK_H
#define POLLUX_SOCK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/uio.h>

#include "pollux/util.h"

#ifdef __cplusplus
extern "C" {
#endif

struct plx_sock;
struct plx_sock_group;
struct plx_json_write_ctx;

/* Options of one implementation (sock_impl_get_options / sock_impl_set_options). */
struct plx_sock_impl_opts {
	uint32_t recv_buf_size;		  /* SO_RCVBUF for new sockets; 0 keeps the kernel's */
	uint32_t send_buf_size;		  /* SO_SNDBUF for new sockets; 0 keeps the kernel's */
	bool enable_recv_pipe;		  /* buffer small receives in user space (posix) */
	bool enable_quickack;		  /* TCP_QUICKACK on accepted sockets */
	uint32_t enable_placement_id;	  /* 0 none, 1 incoming NAPI id, 2 incoming cpu */
	bool enable_zerocopy_send_server; /* MSG_ZEROCOPY on accepted sockets */
	bool enable_zerocopy_send_client; /* MSG_ZEROCOPY on connected sockets */
	uint32_t zerocopy_threshold;	  /* sends smaller than this never use zero copy */
	uint32_t tls_version;		  /* accepted and saved; no TLS implementation yet */
	bool enable_ktls;		  /* accepted and saved; no TLS implementation yet */
};

/* Per-socket options given at listen/connect time. */
struct plx_sock_opts {
	const char *impl_name;	 /* NULL: the default implementation */
	int priority;		 /* SO_PRIORITY, 0 leaves it alone */
	bool zcopy;		 /* allow MSG_ZEROCOPY if the implementation enables it */
	uint32_t ack_timeout_ms; /* TCP_USER_TIMEOUT, 0 leaves it alone */
};

/*
 * An asynchronous write. The caller owns the request and the memory its iovecs point at
 * until cb_fn runs (on the socket's thread, from plx_sock_group_poll or plx_sock_flush, or
 * with an error from plx_sock_close). Queued requests of a socket are written in order, many
 * per writev. cb_fn gets 0 or a negative errno (the connection failed; the data may be lost).
 */
struct plx_sock_request {
	void (*cb_fn)(void *cb_arg, int err);
	void *cb_arg;
	struct iovec *iovs;
	int iovcnt;
	/* Owned by the implementation while queued. */
	struct {
		struct plx_sock_request *next;
		uint64_t offset; /* bytes of this request already written */
		uint32_t zcopy_idx;
		bool is_zcopy;
	} internal;
};

/* Called from plx_sock_group_poll when sock has data to read (or hit EOF or an error). */
typedef void (*plx_sock_cb)(void *cb_arg, struct plx_sock_group *group, struct plx_sock *sock);

/* Called once when plx_sock_connect_async finishes: 0 (sock usable) or a negative errno. */
typedef void (*plx_sock_connect_cb)(void *cb_arg, int status);

/* ---- sockets ---- */

/*
 * Listen on ip (IPv4 dotted, IPv6 without brackets, or a host name) and port. SO_REUSEADDR is
 * set; the socket is non-blocking. NULL with errno set on failure (e.g. EADDRINUSE).
 */
struct plx_sock *plx_sock_listen(const char *ip, int port, const struct plx_sock_opts *opts);

/* Take one pending connection; NULL with errno EAGAIN when there is none. */
struct plx_sock *plx_sock_accept(struct plx_sock *listener);

/* Connect (blocking); the returned socket is non-blocking. NULL with errno set on failure. */
struct plx_sock *plx_sock_connect(const char *ip, int port, const struct plx_sock_opts *opts);

/*
 * Start a non-blocking connect. The socket is returned at once; cb runs later from
 * plx_sock_connect_poll(sock) once the connection is established or has failed. Until then
 * only plx_sock_connect_poll and plx_sock_close may be called on it.
 */
struct plx_sock *plx_sock_connect_async(const char *ip, int port, const struct plx_sock_opts *opts,
					plx_sock_connect_cb cb, void *cb_arg);

/* Drive a pending async connect: 1 when cb has run, 0 still pending. */
int plx_sock_connect_poll(struct plx_sock *sock);

/*
 * Close and free *sock and set it to NULL. Queued write requests complete with -ECANCELED.
 * The socket leaves its group first if it is in one.
 */
int plx_sock_close(struct plx_sock **sock);

/* Non-blocking receive into buf / iov (as recv/readv). 0 means the peer closed. */
ssize_t plx_sock_recv(struct plx_sock *sock, void *buf, size_t len);
ssize_t plx_sock_readv(struct plx_sock *sock, struct iovec *iov, int iovcnt);

/* Non-blocking write now (as writev); flushes queued requests first to keep order. */
ssize_t plx_sock_writev(struct plx_sock *sock, struct iovec *iov, int iovcnt);

/* Queue req behind the socket's other requests; it is written by the group poll or a flush. */
void plx_sock_writev_async(struct plx_sock *sock, struct plx_sock_request *req);

/* Write as much of the queued requests as the socket takes now. 0 or a negative errno. */
int plx_sock_flush(struct plx_sock *sock);

/* Addresses of both ends as text, and their ports. Any pointer may be NULL. */
int plx_sock_getaddr(struct plx_sock *sock, char *saddr, int slen, uint16_t *sport, char *caddr,
		     int clen, uint16_t *cport);

/* True when the socket is connected over IPv6. */
bool plx_sock_is_ipv6(struct plx_sock *sock);

/* True while the connection is up (no error or EOF seen yet). */
bool plx_sock_is_connected(struct plx_sock *sock);

/*
 * The socket's file descriptor, for readiness notification only (register it with
 * plx_poller_set_interrupt_fd for EPOLLIN: data, EOF or an error wait for plx_sock_recv).
 * Never read, write or close it directly. -1 for a closed socket.
 */
int plx_sock_get_fd(const struct plx_sock *sock);

/* Minimum bytes a receive must find before the group reports the socket readable (SO_RCVLOWAT). */
int plx_sock_set_recvlowat(struct plx_sock *sock, int nbytes);

/* The implementation's name ("posix" or "uring"). */
const char *plx_sock_get_impl_name(struct plx_sock *sock);

/* ---- socket groups: many sockets polled by one thread ---- */

/* Create a group on the current thread for the default implementation (or impl_name). */
struct plx_sock_group *plx_sock_group_create(const char *impl_name);

/*
 * Add sock to group; cb(cb_arg, group, sock) runs from plx_sock_group_poll whenever sock has
 * something to read. A socket is in at most one group; sockets of another implementation are
 * refused with -EINVAL.
 */
int plx_sock_group_add_sock(struct plx_sock_group *group, struct plx_sock *sock, plx_sock_cb cb,
			    void *cb_arg);

/* Remove sock from its group (0, or -ENOENT when it is not there). */
int plx_sock_group_remove_sock(struct plx_sock_group *group, struct plx_sock *sock);

/*
 * One poll: flush queued writes of every socket, then call the read callback of up to
 * max_events sockets that are readable. Returns the number of callbacks and write completions
 * (0 when idle), or a negative errno. Never blocks.
 */
int plx_sock_group_poll_count(struct plx_sock_group *group, int max_events);
int plx_sock_group_poll(struct plx_sock_group *group);

/*
 * An fd that becomes readable when a socket of the group needs attention (register it with
 * plx_poller_set_interrupt_fd so the reactor can sleep), or -1 if the group cannot provide one.
 */
int plx_sock_group_get_fd(struct plx_sock_group *group);

/* Close an empty group and set *group to NULL; -EBUSY while it still has sockets. */
int plx_sock_group_close(struct plx_sock_group **group);

/* ---- implementations ---- */

/* Copy the options of impl_name into *opts; -EINVAL for an unknown name. */
int plx_sock_impl_get_opts(const char *impl_name, struct plx_sock_impl_opts *opts);

/* Replace the options of impl_name (for sockets created from now on). */
int plx_sock_impl_set_opts(const char *impl_name, const struct plx_sock_impl_opts *opts);

/* Make impl_name the default; -EINVAL when no implementation has that name. */
int plx_sock_set_default_impl(const char *impl_name);
const char *plx_sock_get_default_impl(void);

/* Call fn for every registered implementation name, in registration order. */
void plx_sock_foreach_impl(void (*fn)(const char *impl_name, void *arg), void *arg);

#ifdef __cplusplus
}
#endif

#endif /* POLLUX_SOCK_H */
