/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The "uring" implementation: sockets are created as posix ones; a group is one io_uring.
 *
 * Readiness: a one-shot IORING_OP_POLL_ADD per socket, re-armed after the socket's read
 * callback ran. Multishot poll (kernel 5.13+, liburing 2.3 has it) only posts on new wake-ups:
 * a callback that leaves data in the socket would then never hear of it again. Re-arming a
 * one-shot poll on a still-readable socket completes at once, which gives the level-triggered
 * behaviour the posix group has; the re-arm SQE rides in the next poll's single submit.
 *
 * Writes: queued requests of every socket are gathered into one IORING_OP_SENDMSG per socket
 * (MSG_NOSIGNAL: a dead peer must not raise SIGPIPE), all submitted with one io_uring_submit
 * per poll. One send per socket is in flight at a time, so the gathered iovec array and
 * msghdr in the socket stay untouched until its completion.
 *
 * Receives stay plain non-blocking recv calls from the read callback: the caller decides
 * how much to read into its own buffers (a PDU header, then exactly the payload), which an
 * io_uring receive into a buffer chosen at submit time cannot do without an extra copy.
 *
 * plx_sock_group_get_fd is an eventfd registered with the ring, signalled for every CQE.
 */
#include <errno.h>
#include <liburing.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "pollux/log.h"
#include "sock_internal.h"

#define URING_ENTRIES	  512
#define CLOSE_WAIT_ROUNDS 100 /* group close: give the kernel up to ~10 s to cancel */

enum uring_tag {
	TAG_POLLIN = 1,
	TAG_WRITE = 2,
	TAG_POLLOUT = 3,
	TAG_MASK = 3,
};

struct uring_group {
	struct plx_sock_group base;
	struct io_uring ring;
	int efd;
	bool efd_dirty;		  /* CQEs were reaped: their signals may still sit in efd */
	uint32_t ops;		  /* SQEs of this ring not completed yet */
	struct sock_list zombies; /* closed sockets waiting for their SQEs */
};

static struct uring_group *ugroup(struct plx_sock_group *group)
{
	return PLX_CONTAINEROF(group, struct uring_group, base);
}

static uint64_t tag(struct plx_sock *sock, enum uring_tag t)
{
	return (uint64_t)(uintptr_t)sock | t;
}

static struct io_uring_sqe *get_sqe(struct uring_group *ug)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(&ug->ring);

	if (sqe == NULL) {
		/* The SQ is full: submit what is there and take a fresh one. */
		io_uring_submit(&ug->ring);
		sqe = io_uring_get_sqe(&ug->ring);
	}
	return sqe;
}

static int arm_poll(struct uring_group *ug, struct plx_sock *sock, enum uring_tag t)
{
	struct io_uring_sqe *sqe = get_sqe(ug);

	if (sqe == NULL) {
		return -EBUSY;
	}
	io_uring_prep_poll_add(sqe, sock->fd, t == TAG_POLLIN ? POLLIN | POLLRDHUP : POLLOUT);
	io_uring_sqe_set_data64(sqe, tag(sock, t));
	sock->poll_ops++;
	sock->uring_ops++;
	sock->ring_group = &ug->base;
	ug->ops++;
	return 0;
}

/* Cancel the SQEs of sock carrying tag t (their CQEs still come, with -ECANCELED). */
static void cancel_ops(struct uring_group *ug, struct plx_sock *sock, enum uring_tag t)
{
	struct io_uring_sqe *sqe = get_sqe(ug);

	if (sqe == NULL) {
		return;
	}
	if (t == TAG_WRITE) {
		io_uring_prep_cancel64(sqe, tag(sock, t), 0);
	} else {
		io_uring_prep_poll_remove(sqe, tag(sock, t));
	}
	io_uring_sqe_set_data64(sqe, 0);
}

/* One SQE of sock is done; a closed socket is freed with its last one. */
static bool op_done(struct uring_group *ug, struct plx_sock *sock)
{
	ug->ops--;
	if (--sock->uring_ops > 0) {
		return false;
	}
	sock->ring_group = NULL;
	if (sock->zombie) {
		TAILQ_REMOVE(&ug->zombies, sock, zombie_link);
		sock->zombie = false;
	}
	return sock_try_free(sock);
}

static void write_done(struct uring_group *ug, struct plx_sock *sock, int res, int *done)
{
	sock->write_inflight = false;
	sock_hold(sock);
	if (sock->closed) {
		*done += sock_queue_abort(sock, -ECANCELED);
	} else if (res >= 0) {
		*done += sock_queue_written(sock, (size_t)res, NULL);
	} else if (res == -EAGAIN || res == -EINTR) {
		if (sock->group == &ug->base && arm_poll(ug, sock, TAG_POLLOUT) == 0) {
			sock->write_blocked = true;
		}
	} else {
		*done += sock_write_failed(sock, res);
	}
	op_done(ug, sock);
	if (sock_put(sock)) {
		return;
	}
	if (!sock->closed && sock->group != NULL && sock->queue != NULL && !sock->write_blocked) {
		sock_group_flush_add(sock->group, sock);
	}
}

static void handle_cqe(struct uring_group *ug, uint64_t data, int res, int *done)
{
	struct plx_sock *sock = (struct plx_sock *)(uintptr_t)(data & ~(uint64_t)TAG_MASK);
	struct plx_sock_group *group = &ug->base;

	switch (data & TAG_MASK) {
	case TAG_POLLIN:
		sock->poll_ops--;
		if (!sock->closed && sock->group == group && res != -ECANCELED) {
			group->ready[group->nready++] = sock;
		}
		op_done(ug, sock);
		break;
	case TAG_POLLOUT:
		sock->poll_ops--;
		sock->write_blocked = false;
		if (!sock->closed && sock->group != NULL && sock->queue != NULL) {
			sock_group_flush_add(sock->group, sock);
		}
		(*done)++;
		op_done(ug, sock);
		break;
	case TAG_WRITE:
		write_done(ug, sock, res, done);
		break;
	default:
		break; /* cancellations (user_data 0) */
	}
}

/* Reap CQEs while read callbacks fit in group->ready; returns completions and events. */
static int reap(struct uring_group *ug, int max_events)
{
	struct io_uring_cqe *cqe;
	uint64_t v;
	int done = 0;

	if (io_uring_cq_ready(&ug->ring) == 0) {
		if (ug->efd_dirty) {
			/* Clear signals of CQEs reaped last time, or the reactor never sleeps. */
			ug->efd_dirty = false;
			(void)!read(ug->efd, &v, sizeof(v));
		}
		return 0;
	}
	/* Reset the eventfd before reaping: a CQE posted from now on signals it again. */
	(void)!read(ug->efd, &v, sizeof(v));
	ug->efd_dirty = true;
	while (ug->base.nready < max_events && io_uring_peek_cqe(&ug->ring, &cqe) == 0) {
		uint64_t data = io_uring_cqe_get_data64(cqe);
		int res = cqe->res;

		/* Seen before handling: a callback may submit (and so look at the rings). */
		io_uring_cqe_seen(&ug->ring, cqe);
		handle_cqe(ug, data, res, &done);
	}
	return done;
}

static int uring_write_once(struct plx_sock *sock)
{
	struct uring_group *ug = ugroup(sock->group);
	struct io_uring_sqe *sqe;
	size_t len;
	int cnt;

	if (sock->write_inflight || sock->write_blocked) {
		return -EINPROGRESS; /* its completion puts it back on the flush list */
	}
	if (sock->write_err != 0) {
		return sock_queue_abort(sock, sock->write_err);
	}
	if (sock->ring_group != NULL && sock->ring_group != sock->group) {
		return -EINPROGRESS; /* its former group's ring still has its send */
	}
	cnt = sock_queue_gather(sock, &len);
	if (cnt == 0) {
		return sock->queue != NULL ? sock_write_failed(sock, -ENOMEM) : 0;
	}
	sqe = get_sqe(ug);
	if (sqe == NULL) {
		return 0; /* the ring is saturated: try again next poll */
	}
	memset(&sock->msg, 0, sizeof(sock->msg));
	sock->msg.msg_iov = sock->iov;
	sock->msg.msg_iovlen = (size_t)cnt;
	io_uring_prep_sendmsg(sqe, sock->fd, &sock->msg, MSG_NOSIGNAL);
	io_uring_sqe_set_data64(sqe, tag(sock, TAG_WRITE));
	sock->write_inflight = true;
	sock->uring_ops++;
	sock->ring_group = sock->group;
	ug->ops++;
	return -EINPROGRESS;
}

static int uring_group_poll(struct plx_sock_group *group, int max_events)
{
	struct uring_group *ug = ugroup(group);
	bool busy;
	int done, rc;

	done = reap(ug, max_events);
	done += sock_group_flush_all(group, uring_write_once, &busy);
	if (io_uring_sq_ready(&ug->ring) > 0) {
		rc = io_uring_submit(&ug->ring);
		if (rc < 0 && rc != -EAGAIN && rc != -EBUSY && rc != -EINTR) {
			PLX_ERRLOG("io_uring_submit: %s\n", strerror(-rc));
			return rc;
		}
	}
	/* Sends to sockets with room complete inside the submit: finish them now. */
	done += reap(ug, max_events);
	if (done == 0 && (busy || io_uring_sq_ready(&ug->ring) > 0)) {
		done = 1;
	}
	return done;
}

static int uring_flush(struct plx_sock *sock)
{
	if (sock->write_inflight) {
		return -EAGAIN;
	}
	return sock_posix_flush(sock);
}

static void uring_write_queued(struct plx_sock_group *group, struct plx_sock *sock)
{
	if ((!sock->write_inflight && !sock->write_blocked) || sock->write_err != 0) {
		sock_group_flush_add(group, sock);
	}
}

static void uring_read_done(struct plx_sock_group *group, struct plx_sock *sock)
{
	if (sock->poll_ops == 0) {
		arm_poll(ugroup(group), sock, TAG_POLLIN);
	}
}

static struct plx_sock_group *uring_group_create(void)
{
	struct uring_group *ug = calloc(1, sizeof(*ug));
	int rc;

	if (ug == NULL) {
		return NULL;
	}
	TAILQ_INIT(&ug->zombies);
	rc = io_uring_queue_init(URING_ENTRIES, &ug->ring, 0);
	if (rc < 0) {
		PLX_ERRLOG("io_uring_queue_init: %s\n", strerror(-rc));
		free(ug);
		return NULL;
	}
	ug->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (ug->efd < 0 || io_uring_register_eventfd(&ug->ring, ug->efd) != 0) {
		PLX_ERRLOG("cannot register an eventfd with the socket group's io_uring\n");
		if (ug->efd >= 0) {
			close(ug->efd);
		}
		io_uring_queue_exit(&ug->ring);
		free(ug);
		return NULL;
	}
	return &ug->base;
}

static int uring_group_add(struct plx_sock_group *group, struct plx_sock *sock)
{
	struct uring_group *ug = ugroup(group);
	int rc;

	if (sock->ring_group != NULL && sock->ring_group != group) {
		return -EBUSY; /* its former group still has its SQEs */
	}
	rc = arm_poll(ug, sock, TAG_POLLIN);
	if (rc == 0) {
		/* Membership changes are rare: submit now rather than wait for a poll. */
		io_uring_submit(&ug->ring);
	}
	return rc;
}

static void uring_group_remove(struct plx_sock_group *group, struct plx_sock *sock)
{
	struct uring_group *ug = ugroup(group);

	if (sock->poll_ops > 0) {
		cancel_ops(ug, sock, sock->write_blocked ? TAG_POLLOUT : TAG_POLLIN);
		if (sock->write_blocked && sock->poll_ops > 1) {
			cancel_ops(ug, sock, TAG_POLLIN);
		}
		io_uring_submit(&ug->ring);
	}
}

static void uring_close(struct plx_sock *sock)
{
	struct uring_group *ug;

	if (sock->uring_ops == 0) {
		return;
	}
	ug = ugroup(sock->ring_group);
	if (sock->write_inflight) {
		cancel_ops(ug, sock, TAG_WRITE);
		io_uring_submit(&ug->ring);
	}
	sock->zombie = true;
	TAILQ_INSERT_TAIL(&ug->zombies, sock, zombie_link);
}

static bool uring_can_free(struct plx_sock *sock)
{
	return sock->uring_ops == 0;
}

static int uring_group_get_fd(struct plx_sock_group *group)
{
	return ugroup(group)->efd;
}

static void uring_group_close(struct plx_sock_group *group)
{
	struct uring_group *ug = ugroup(group);
	struct __kernel_timespec ts = {.tv_sec = 0, .tv_nsec = 100 * 1000 * 1000};
	struct io_uring_cqe *cqe;
	int rounds = 0, done = 0;

	/* Removed and closed sockets may still have cancellations on their way back. */
	while (ug->ops > 0 && rounds < CLOSE_WAIT_ROUNDS) {
		if (io_uring_submit_and_wait_timeout(&ug->ring, &cqe, 1, &ts, NULL) < 0) {
			rounds++;
		}
		while (io_uring_peek_cqe(&ug->ring, &cqe) == 0) {
			uint64_t data = io_uring_cqe_get_data64(cqe);
			int res = cqe->res;

			io_uring_cqe_seen(&ug->ring, cqe);
			handle_cqe(ug, data, res, &done);
		}
		group->nready = 0;
	}
	if (ug->ops > 0) {
		PLX_ERRLOG("socket group closed with %u io_uring operations still pending\n",
			   ug->ops);
	}
	io_uring_queue_exit(&ug->ring);
	close(ug->efd);
	free(ug);
}

/* Registered only where io_uring works (kernel, seccomp and sysctl allowing). */
static int uring_probe(void)
{
	static const int needed[] = {IORING_OP_POLL_ADD, IORING_OP_POLL_REMOVE, IORING_OP_SENDMSG,
				     IORING_OP_ASYNC_CANCEL};
	struct io_uring_probe *probe;
	struct io_uring ring;
	int rc = io_uring_queue_init(4, &ring, 0);

	if (rc < 0) {
		PLX_NOTICELOG(
		    "io_uring is not available (%s): no \"uring\" socket implementation\n",
		    strerror(-rc));
		return rc;
	}
	probe = io_uring_get_probe_ring(&ring);
	for (size_t i = 0; probe != NULL && i < PLX_COUNTOF(needed); i++) {
		if (!io_uring_opcode_supported(probe, needed[i])) {
			rc = -ENOTSUP;
		}
	}
	if (probe != NULL) {
		io_uring_free_probe(probe);
	}
	io_uring_queue_exit(&ring);
	if (rc != 0) {
		PLX_NOTICELOG("io_uring lacks the operations sockets need: no \"uring\" socket "
			      "implementation\n");
	}
	return rc;
}

const struct plx_sock_impl_ops g_sock_uring_ops = {
    .name = "uring",
    .probe = uring_probe,
    .flush = uring_flush,
    .close = uring_close,
    .can_free = uring_can_free,
    .group_create = uring_group_create,
    .group_add = uring_group_add,
    .group_remove = uring_group_remove,
    .group_poll = uring_group_poll,
    .read_done = uring_read_done,
    .write_queued = uring_write_queued,
    .group_get_fd = uring_group_get_fd,
    .group_close = uring_group_close,
};
