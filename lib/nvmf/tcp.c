/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The NVMe/TCP transport behind struct nvmf_transport_ops: options, listeners and the acceptor
 * (app thread), and poll groups (one socket group and two buffer caches per core). The
 * connections themselves are in tcp_qpair.c.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>

#include "pollux/log.h"
#include "tcp_internal.h"

#define TCP_MAX_QUEUE_DEPTH 32767 /* slots are twice the depth and tagged with 16 bits */
#define TCP_MAX_AQ_DEPTH    4096  /* AQA holds 12 bits */
#define TCP_MAX_IO_SIZE	    (4u << 20)
#define TCP_MAX_CACHE	    65536

static void tcp_opts_init(struct nvmf_transport_opts *opts)
{
	*opts = (struct nvmf_transport_opts){
	    .max_queue_depth = NVMF_TCP_DEFAULT_MAX_QUEUE_DEPTH,
	    .max_qpairs_per_ctrlr = NVMF_TCP_DEFAULT_MAX_IO_QPAIRS + 1,
	    .in_capsule_data_size = NVMF_TCP_DEFAULT_IN_CAPSULE_DATA_SIZE,
	    .max_io_size = NVMF_TCP_DEFAULT_MAX_IO_SIZE,
	    .io_unit_size = NVMF_TCP_DEFAULT_IO_UNIT_SIZE,
	    .max_aq_depth = NVMF_TCP_DEFAULT_AQ_DEPTH,
	    .num_shared_buffers = 511,
	    .buf_cache_size = 32,
	    .iobuf_small_cache_size = UINT32_MAX,
	    .iobuf_large_cache_size = UINT32_MAX,
	    .abort_timeout_sec = 1,
	    .acceptor_poll_rate = NVMF_TCP_DEFAULT_ACCEPTOR_RATE,
	    .kas = 100,
	    .min_kato = 10000,
	    .c2h_success = true,
	    .control_msg_num = NVMF_TCP_DEFAULT_CONTROL_MSG_NUM,
	};
}

static int opts_check(const struct nvmf_transport_opts *o, char *err)
{
	const char *msg = NULL;

	if (o->max_queue_depth < 2 || o->max_queue_depth > TCP_MAX_QUEUE_DEPTH) {
		msg = "max_queue_depth: must be between 2 and 32767";
	} else if (o->max_aq_depth < 2 || o->max_aq_depth > TCP_MAX_AQ_DEPTH) {
		msg = "max_aq_depth: must be between 2 and 4096";
	} else if (o->max_qpairs_per_ctrlr < 1) {
		msg = "max_io_qpairs_per_ctrlr: must be at least 1";
	} else if (o->in_capsule_data_size % 16 != 0 ||
		   o->in_capsule_data_size > NVMF_TCP_MAX_ICD_SIZE) {
		msg = "in_capsule_data_size: must be a multiple of 16, at most 131072";
	} else if (o->max_io_size < 4096 || o->max_io_size % 4096 != 0 ||
		   o->max_io_size > TCP_MAX_IO_SIZE) {
		msg = "max_io_size: must be a multiple of 4096 between 4096 and 4194304";
	}
	if (msg != NULL) {
		snprintf(err, PLX_NVMF_ERR_LEN, "%s", msg);
		return -EINVAL;
	}
	return 0;
}

/* ---- acceptor (app thread) ---- */

static void accept_one(struct tcp_transport *tt, struct tcp_listener *l, struct plx_sock *sock)
{
	struct tcp_qpair *tq = calloc(1, sizeof(*tq));

	if (tq == NULL) {
		PLX_ERRLOG("out of memory accepting a connection on %s:%s\n", l->trid.traddr,
			   l->trid.trsvcid);
		plx_sock_close(&sock);
		return;
	}
	tq->sock = sock;
	tq->ttransport = tt;
	tq->qpair.transport = &tt->base;
	tq->qpair.listen_trid = l->trid;
	nvmf_tgt_new_qpair(tt->base.tgt, &tq->qpair);
}

static int tcp_acceptor_poll(void *arg)
{
	struct tcp_transport *tt = arg;
	struct tcp_listener *l;
	int count = 0;

	TAILQ_FOREACH(l, &tt->listeners, link)
	{
		struct plx_sock *sock;

		while ((sock = plx_sock_accept(l->sock)) != NULL) {
			accept_one(tt, l, sock);
			count++;
		}
	}
	return count > 0 ? PLX_POLLER_BUSY : PLX_POLLER_IDLE;
}

static void tcp_destroy(struct nvmf_transport *transport)
{
	struct tcp_transport *tt = tcp_transport(transport);
	struct tcp_listener *l;

	while ((l = TAILQ_FIRST(&tt->listeners)) != NULL) {
		TAILQ_REMOVE(&tt->listeners, l, link);
		plx_sock_close(&l->sock);
		free(l);
	}
	plx_poller_unregister(&tt->acceptor);
	if (tt->listen_group != NULL) {
		plx_sock_group_close(&tt->listen_group);
	}
	free(tt);
}

/*
 * Interrupt mode: the listening sockets sit in a socket group that is never polled; its fd
 * turns readable while a connection is pending, which wakes the acceptor.
 */
/* Listening sockets in the wake-up group are never polled for reads. */
static void listen_sock_cb(void *arg, struct plx_sock_group *group, struct plx_sock *sock)
{
}

static void acceptor_use_group(struct tcp_transport *tt)
{
	int fd;

	if (!plx_interrupt_mode_is_enabled()) {
		return;
	}
	tt->listen_group = plx_sock_group_create("posix");
	fd = tt->listen_group != NULL ? plx_sock_group_get_fd(tt->listen_group) : -1;
	if (fd < 0 || plx_poller_set_interrupt_fd(tt->acceptor, fd, EPOLLIN) != 0) {
		PLX_WARNLOG("TCP acceptor: no wake-up fd, polling every %u us\n",
			    tt->base.opts.acceptor_poll_rate);
		if (tt->listen_group != NULL) {
			plx_sock_group_close(&tt->listen_group);
		}
	}
}

static struct nvmf_transport *tcp_create(const struct nvmf_transport_opts *opts, char *err)
{
	struct tcp_transport *tt;
	uint32_t rate;

	if (opts_check(opts, err) != 0) {
		return NULL;
	}
	tt = calloc(1, sizeof(*tt));
	if (tt == NULL) {
		snprintf(err, PLX_NVMF_ERR_LEN, "out of memory");
		return NULL;
	}
	tt->base.opts = *opts; /* the core copies them again; the acceptor needs them now */
	TAILQ_INIT(&tt->listeners);
	rate = opts->acceptor_poll_rate != 0 ? opts->acceptor_poll_rate
					     : NVMF_TCP_DEFAULT_ACCEPTOR_RATE;
	tt->acceptor = plx_poller_register_named(tcp_acceptor_poll, tt, rate, "nvmf_tcp_accept");
	if (tt->acceptor == NULL) {
		snprintf(err, PLX_NVMF_ERR_LEN, "cannot register the acceptor poller");
		free(tt);
		return NULL;
	}
	acceptor_use_group(tt);
	return &tt->base;
}

/* ---- listeners (app thread) ---- */

static struct tcp_listener *find_listener(struct tcp_transport *tt,
					  const struct plx_nvme_trid *trid)
{
	struct tcp_listener *l;

	TAILQ_FOREACH(l, &tt->listeners, link)
	{
		if (plx_nvme_trid_equal(&l->trid, trid)) {
			return l;
		}
	}
	return NULL;
}

static int tcp_listen(struct nvmf_transport *transport, const struct plx_nvme_trid *trid, char *err)
{
	struct tcp_transport *tt = tcp_transport(transport);
	struct plx_sock_opts sopts = {.priority = (int)transport->opts.sock_priority,
				      .zcopy = transport->opts.zcopy,
				      .ack_timeout_ms = transport->opts.ack_timeout};
	struct tcp_listener *l;
	char *end;
	long port;
	int rc;

	if (find_listener(tt, trid) != NULL) {
		return 0;
	}
	port = strtol(trid->trsvcid, &end, 10);
	if (trid->trsvcid[0] == '\0' || *end != '\0' || port <= 0 || port > 65535) {
		snprintf(err, PLX_NVMF_ERR_LEN, "trsvcid: invalid port '%s'", trid->trsvcid);
		return -EINVAL;
	}
	l = calloc(1, sizeof(*l));
	if (l == NULL) {
		snprintf(err, PLX_NVMF_ERR_LEN, "out of memory");
		return -ENOMEM;
	}
	l->trid = *trid;
	l->sock = plx_sock_listen(trid->traddr, (int)port, &sopts);
	if (l->sock == NULL) {
		rc = errno != 0 ? -errno : -EIO;
		snprintf(err, PLX_NVMF_ERR_LEN, "cannot listen on %s port %s: %s", trid->traddr,
			 trid->trsvcid, strerror(-rc));
		free(l);
		return rc;
	}
	if (tt->listen_group != NULL &&
	    plx_sock_group_add_sock(tt->listen_group, l->sock, listen_sock_cb, NULL) != 0) {
		PLX_WARNLOG("listener %s:%s cannot wake the acceptor; it is polled\n", trid->traddr,
			    trid->trsvcid);
	}
	TAILQ_INSERT_TAIL(&tt->listeners, l, link);
	PLX_NOTICELOG("NVMe/TCP target listening on %s port %s\n", trid->traddr, trid->trsvcid);
	return 0;
}

static void tcp_stop_listen(struct nvmf_transport *transport, const struct plx_nvme_trid *trid)
{
	struct tcp_transport *tt = tcp_transport(transport);
	struct tcp_listener *l = find_listener(tt, trid);

	if (l == NULL) {
		return;
	}
	TAILQ_REMOVE(&tt->listeners, l, link);
	plx_sock_close(&l->sock);
	free(l);
}

static void tcp_listener_discover(struct nvmf_transport *transport,
				  const struct plx_nvme_trid *trid,
				  struct plx_nvmf_discovery_log_page_entry *entry)
{
	entry->treq = PLX_NVMF_TREQ_SECURE_CHANNEL_NOT_REQUIRED;
	memset(entry->tsas, 0, sizeof(entry->tsas)); /* sectype 0: no security */
}

/* ---- poll groups ---- */

static uint32_t cache_size(uint32_t opt, uint32_t dflt)
{
	return opt == UINT32_MAX ? dflt : PLX_MIN(opt, (uint32_t)TCP_MAX_CACHE);
}

static void tcp_poll_group_destroy(struct nvmf_transport_poll_group *tgroup)
{
	struct tcp_poll_group *g = tcp_poll_group(tgroup);

	nvmf_tcp_buf_cache_fini(&g->small);
	nvmf_tcp_buf_cache_fini(&g->large);
	if (g->sgroup != NULL && plx_sock_group_close(&g->sgroup) != 0) {
		PLX_ERRLOG("TCP poll group destroyed with connections left\n");
	}
	if (g->flush_scheduled) {
		g->destroyed = true; /* the flush message frees it */
		return;
	}
	free(g);
}

static struct nvmf_transport_poll_group *tcp_poll_group_create(struct nvmf_transport *transport,
							       struct nvmf_poll_group *group)
{
	const struct nvmf_transport_opts *o = &transport->opts;
	struct tcp_poll_group *g = calloc(1, sizeof(*g));
	uint64_t large = plx_iobuf_get_large_size();

	if (g == NULL) {
		PLX_ERRLOG("out of memory\n");
		return NULL;
	}
	TAILQ_INIT(&g->pending_buf);
	TAILQ_INIT(&g->qpairs);
	TAILQ_INIT(&g->flush_list);
	if (large < NVMF_TCP_SMALL_BUF_SIZE) {
		PLX_ERRLOG("TCP poll group: iobuf large buffers (%lu bytes) are too small\n",
			   (unsigned long)large);
		free(g);
		return NULL;
	}
	g->sgroup = plx_sock_group_create(NULL);
	if (g->sgroup == NULL ||
	    nvmf_tcp_buf_cache_init(
		&g->small, cache_size(o->iobuf_small_cache_size, NVMF_TCP_DEFAULT_SMALL_CACHE),
		NVMF_TCP_SMALL_BUF_SIZE) != 0 ||
	    nvmf_tcp_buf_cache_init(
		&g->large, cache_size(o->iobuf_large_cache_size, NVMF_TCP_DEFAULT_LARGE_CACHE),
		large) != 0) {
		PLX_ERRLOG("cannot create a TCP poll group\n");
		tcp_poll_group_destroy(&g->base);
		return NULL;
	}
	return &g->base;
}

static int tcp_poll_group_add(struct nvmf_transport_poll_group *tgroup, struct nvmf_qpair *qpair)
{
	return nvmf_tcp_qpair_start(tcp_poll_group(tgroup), tcp_qpair(qpair));
}

static int tcp_poll_group_poll(struct nvmf_transport_poll_group *tgroup)
{
	struct tcp_poll_group *g = tcp_poll_group(tgroup);
	int n = 0, rc;

	g->in_poll = true;
	if (plx_unlikely(!TAILQ_EMPTY(&g->pending_buf))) {
		n = nvmf_tcp_process_pending(g);
	}
	rc = plx_sock_group_poll(g->sgroup);
	/* Responses of commands completed inline go out now, not after a sleep. */
	nvmf_tcp_flush_queued(g);
	g->in_poll = false;
	return n > 0 || rc > 0 ? PLX_POLLER_BUSY : PLX_POLLER_IDLE;
}

static int tcp_poll_group_get_fd(struct nvmf_transport_poll_group *tgroup)
{
	return plx_sock_group_get_fd(tcp_poll_group(tgroup)->sgroup);
}

static void tcp_poll_group_dump_stat(struct nvmf_transport_poll_group *tgroup, json_t *obj)
{
	struct tcp_poll_group *g = tcp_poll_group(tgroup);

	json_object_set_new(obj, "trtype", json_string("TCP"));
	json_object_set_new(obj, "pending_data_buffer",
			    json_integer((json_int_t)g->stat_pending_data_buffer));
}

/* ---- qpairs ---- */

static int copy_trid(const struct plx_nvme_trid *src, struct plx_nvme_trid *dst)
{
	if (src->trtype == 0) {
		return -ENOTCONN;
	}
	*dst = *src;
	return 0;
}

static int tcp_qpair_get_peer_trid(struct nvmf_qpair *qpair, struct plx_nvme_trid *trid)
{
	return copy_trid(&tcp_qpair(qpair)->peer_trid, trid);
}

static int tcp_qpair_get_local_trid(struct nvmf_qpair *qpair, struct plx_nvme_trid *trid)
{
	return copy_trid(&tcp_qpair(qpair)->local_trid, trid);
}

static int tcp_qpair_get_listen_trid(struct nvmf_qpair *qpair, struct plx_nvme_trid *trid)
{
	*trid = qpair->listen_trid;
	return 0;
}

static void tcp_dump_opts(struct nvmf_transport *transport, json_t *params)
{
	const struct nvmf_transport_opts *o = &transport->opts;

	json_object_set_new(params, "c2h_success", json_boolean(o->c2h_success));
	json_object_set_new(params, "sock_priority", json_integer(o->sock_priority));
	json_object_set_new(params, "control_msg_num", json_integer(o->control_msg_num));
}

static const struct nvmf_transport_ops g_tcp_ops = {
    .name = "TCP",
    .trtype = PLX_NVMF_TRTYPE_TCP,
    .opts_init = tcp_opts_init,
    .create = tcp_create,
    .destroy = tcp_destroy,
    .listen = tcp_listen,
    .stop_listen = tcp_stop_listen,
    .listener_discover = tcp_listener_discover,
    .poll_group_create = tcp_poll_group_create,
    .poll_group_destroy = tcp_poll_group_destroy,
    .poll_group_add = tcp_poll_group_add,
    .poll_group_poll = tcp_poll_group_poll,
    .poll_group_get_fd = tcp_poll_group_get_fd,
    .req_complete = nvmf_tcp_req_complete,
    .qpair_disconnect = nvmf_tcp_qpair_disconnect,
    .qpair_free = nvmf_tcp_qpair_free,
    .qpair_get_peer_trid = tcp_qpair_get_peer_trid,
    .qpair_get_local_trid = tcp_qpair_get_local_trid,
    .qpair_get_listen_trid = tcp_qpair_get_listen_trid,
    .qpair_abort_request = nvmf_tcp_qpair_abort_request,
    .dump_opts = tcp_dump_opts,
    .poll_group_dump_stat = tcp_poll_group_dump_stat,
};

NVMF_TRANSPORT_REGISTER(tcp, &g_tcp_ops)
