/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Quality of service: rate limits on a bdev (IOPS, and MB/s for all, reads, writes), without
 * locks. One thread owns a bdev's limits (the thread that set them). Every channel of the bdev
 * has BDEV_CH_QOS set and forwards new I/O to that thread by message; the owner queues it and
 * each 1 ms time slice dispatches what the slice's budget allows, as a child I/O on its own
 * channel, sending each completion back to the submitting thread. The slice poller is paused
 * while nothing waits, so an idle bdev with limits costs nothing.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "bdev_internal.h"
#include "pollux/rpc.h"

#define QOS_SLICE_US   1000
#define QOS_MIN_IOPS   1000
#define QOS_NUM_LIMITS 4

enum { QOS_RW_IOPS, QOS_RW_BPS, QOS_R_BPS, QOS_W_BPS };

struct bdev_qos {
	uint64_t limits[QOS_NUM_LIMITS];   /* per second; 0 = unlimited */
	int64_t remaining[QOS_NUM_LIMITS]; /* budget left in this slice */
	struct plx_thread *thread;
	struct plx_bdev_desc *desc;
	struct plx_io_channel *ch;
	struct plx_poller *poller;
	bool poller_paused;
	STAILQ_HEAD(, plx_bdev_io) queued;
};

void bdev_qos_get_limits(struct plx_bdev *bdev, uint64_t limits[4])
{
	struct bdev_qos *qos = bdev->internal->qos;

	for (int i = 0; i < QOS_NUM_LIMITS; i++) {
		/* Bytes limits are reported in MB/s, as they are set. */
		limits[i] = qos == NULL	       ? 0
			    : i == QOS_RW_IOPS ? qos->limits[i]
					       : qos->limits[i] / (1024 * 1024);
	}
}

static int64_t per_slice(uint64_t per_sec)
{
	int64_t v = (int64_t)(per_sec * QOS_SLICE_US / 1000000);

	return v > 0 ? v : 1;
}

static void qos_refill(struct bdev_qos *qos)
{
	for (int i = 0; i < QOS_NUM_LIMITS; i++) {
		if (qos->limits[i] != 0) {
			/* Overshoot of the last slice is paid back; unused budget is not saved. */
			qos->remaining[i] = PLX_MIN(qos->remaining[i] + per_slice(qos->limits[i]),
						    per_slice(qos->limits[i]));
		}
	}
}

static bool qos_allows(struct bdev_qos *qos, struct plx_bdev_io *io)
{
	bool read = io->type == PLX_BDEV_IO_TYPE_READ, write = io->type == PLX_BDEV_IO_TYPE_WRITE;

	return (qos->limits[QOS_RW_IOPS] == 0 || qos->remaining[QOS_RW_IOPS] > 0) &&
	       (qos->limits[QOS_RW_BPS] == 0 || qos->remaining[QOS_RW_BPS] > 0) &&
	       (!read || qos->limits[QOS_R_BPS] == 0 || qos->remaining[QOS_R_BPS] > 0) &&
	       (!write || qos->limits[QOS_W_BPS] == 0 || qos->remaining[QOS_W_BPS] > 0);
}

static void qos_charge(struct bdev_qos *qos, struct plx_bdev_io *io)
{
	int64_t bytes = 0;

	if (io->type == PLX_BDEV_IO_TYPE_READ || io->type == PLX_BDEV_IO_TYPE_WRITE) {
		bytes = (int64_t)(io->u.bdev.num_blocks * io->bdev->blocklen);
	}
	qos->remaining[QOS_RW_IOPS]--;
	qos->remaining[QOS_RW_BPS] -= bytes;
	if (io->type == PLX_BDEV_IO_TYPE_READ) {
		qos->remaining[QOS_R_BPS] -= bytes;
	} else if (io->type == PLX_BDEV_IO_TYPE_WRITE) {
		qos->remaining[QOS_W_BPS] -= bytes;
	}
}

/* On the submitting thread: the I/O no longer counts as outstanding on its channel. */
static void qos_complete_parent(void *arg)
{
	struct plx_bdev_io *parent = arg;

	parent->internal.ch->io_outstanding--;
	bdev_io_complete_to_caller(parent);
}

static void qos_child_done(struct plx_bdev_io *child, bool success, void *cb_arg)
{
	struct plx_bdev_io *parent = cb_arg;
	struct plx_thread *thread = parent->internal.ch->mgmt->thread;

	if (child != NULL) {
		parent->internal.status =
		    success ? PLX_BDEV_IO_STATUS_SUCCESS : plx_bdev_io_get_status(child);
		plx_bdev_free_io(child);
	}
	if (thread == plx_get_thread()) {
		qos_complete_parent(parent);
	} else {
		plx_thread_send_msg(thread, qos_complete_parent, parent);
	}
}

/* On the QoS thread: send io down through the owner's channel. */
static void qos_dispatch_one(struct bdev_qos *qos, struct plx_bdev_io *io)
{
	struct plx_bdev_channel *bch = plx_io_channel_get_ctx(qos->ch);
	struct plx_bdev_io *child = bdev_io_get(bch);

	if (child == NULL) {
		io->internal.status = PLX_BDEV_IO_STATUS_FAILED;
		qos_child_done(NULL, false, io);
		return;
	}
	bdev_io_init(child, io->internal.desc, bch, io->type, qos_child_done, io);
	child->internal.parent = io;
	child->u = io->u;
	if (io->u.bdev.iovs == &io->u.bdev.iov) {
		child->u.bdev.iovs = &child->u.bdev.iov;
	}
	bdev_io_submit(child);
}

static void qos_dispatch(struct bdev_qos *qos)
{
	struct plx_bdev_io *io;

	while ((io = STAILQ_FIRST(&qos->queued)) != NULL && qos_allows(qos, io)) {
		STAILQ_REMOVE_HEAD(&qos->queued, internal.link);
		qos_charge(qos, io);
		qos_dispatch_one(qos, io);
	}
}

static int qos_slice(void *arg)
{
	struct bdev_qos *qos = arg;

	qos_refill(qos);
	qos_dispatch(qos);
	if (STAILQ_EMPTY(&qos->queued)) {
		plx_poller_pause(qos->poller);
		qos->poller_paused = true;
	}
	return PLX_POLLER_BUSY;
}

static void qos_enqueue(void *arg)
{
	struct plx_bdev_io *io = arg;
	struct bdev_qos *qos = io->bdev->internal->qos;

	if (qos == NULL) {
		/* Limits were removed while the message travelled. */
		bdev_io_submit(io);
		return;
	}
	STAILQ_INSERT_TAIL(&qos->queued, io, internal.link);
	qos_dispatch(qos);
	if (!STAILQ_EMPTY(&qos->queued) && qos->poller_paused) {
		qos->poller_paused = false;
		plx_poller_resume(qos->poller);
	}
}

bool bdev_qos_route(struct plx_bdev_io *io)
{
	struct bdev_qos *qos = io->bdev->internal->qos;

	if (qos == NULL || io->internal.parent != NULL) {
		return false;
	}
	if (plx_thread_send_msg(qos->thread, qos_enqueue, io) != 0) {
		return false;
	}
	/* Outstanding until it comes back, so resets wait for it and channels report it. */
	io->internal.ch->io_outstanding++;
	return true;
}

/* ---- setting limits ---- */

struct qos_set_ctx {
	struct plx_jsonrpc_request *req;
	struct plx_bdev *bdev;
	bool enable;
};

static void qos_flag_ch(struct plx_io_channel_iter *i)
{
	struct qos_set_ctx *c = plx_io_channel_iter_get_ctx(i);
	struct plx_bdev_channel *bch = plx_io_channel_get_ctx(plx_io_channel_iter_get_channel(i));

	if (c->enable) {
		bch->flags |= BDEV_CH_QOS;
	} else {
		bch->flags &= ~BDEV_CH_QOS;
	}
	plx_for_each_channel_continue(i, 0);
}

static void qos_teardown(struct plx_bdev_internal *in)
{
	struct bdev_qos *qos = in->qos;
	struct plx_bdev_io *io;

	in->qos = NULL;
	/* Whatever still waits goes straight down now. */
	while ((io = STAILQ_FIRST(&qos->queued)) != NULL) {
		STAILQ_REMOVE_HEAD(&qos->queued, internal.link);
		qos_dispatch_one(qos, io);
	}
	plx_poller_unregister(&qos->poller);
	plx_put_io_channel(qos->ch);
	plx_bdev_close(qos->desc);
	free(qos);
}

static void qos_flag_done(struct plx_io_channel_iter *i, int status)
{
	struct qos_set_ctx *c = plx_io_channel_iter_get_ctx(i);

	if (!c->enable && c->bdev->internal->qos != NULL) {
		qos_teardown(c->bdev->internal);
	}
	plx_jsonrpc_send_bool(c->req, true);
	free(c);
}

static void qos_event(enum plx_bdev_event_type type, struct plx_bdev *bdev, void *ctx)
{
	if (type == PLX_BDEV_EVENT_REMOVE && bdev->internal->qos != NULL) {
		qos_teardown(bdev->internal);
	}
}

static struct bdev_qos *qos_create(struct plx_bdev *bdev)
{
	struct bdev_qos *qos = calloc(1, sizeof(*qos));

	if (qos == NULL) {
		return NULL;
	}
	STAILQ_INIT(&qos->queued);
	qos->thread = plx_get_thread();
	if (plx_bdev_open_ext(bdev->name, false, qos_event, NULL, &qos->desc) != 0) {
		free(qos);
		return NULL;
	}
	qos->ch = plx_bdev_get_io_channel(qos->desc);
	qos->poller = plx_poller_register_named(qos_slice, qos, QOS_SLICE_US, "bdev_qos");
	if (qos->ch == NULL || qos->poller == NULL) {
		if (qos->ch != NULL) {
			plx_put_io_channel(qos->ch);
		}
		plx_poller_unregister(&qos->poller);
		plx_bdev_close(qos->desc);
		free(qos);
		return NULL;
	}
	plx_poller_pause(qos->poller);
	qos->poller_paused = true;
	return qos;
}

struct qos_params {
	char *name;
	uint64_t v[QOS_NUM_LIMITS];
};

static const char *const g_limit_names[QOS_NUM_LIMITS] = {"rw_ios_per_sec", "rw_mbytes_per_sec",
							  "r_mbytes_per_sec", "w_mbytes_per_sec"};

static bool qos_validate(struct plx_jsonrpc_request *req, const struct qos_params *p,
			 const json_t *params)
{
	bool any = false;

	for (int i = 0; i < QOS_NUM_LIMITS; i++) {
		any |= json_object_get(params, g_limit_names[i]) != NULL;
	}
	if (!any) {
		plx_jsonrpc_send_error(req, PLX_JSONRPC_ERROR_INVALID_PARAMS,
				       "give at least one of rw_ios_per_sec, rw_mbytes_per_sec, "
				       "r_mbytes_per_sec, w_mbytes_per_sec");
		return false;
	}
	if (p->v[QOS_RW_IOPS] % QOS_MIN_IOPS != 0) {
		plx_jsonrpc_send_error(req, PLX_JSONRPC_ERROR_INVALID_PARAMS,
				       "rw_ios_per_sec: %lu is not a multiple of %d",
				       (unsigned long)p->v[QOS_RW_IOPS], QOS_MIN_IOPS);
		return false;
	}
	for (int i = 1; i < QOS_NUM_LIMITS; i++) {
		if (p->v[i] > UINT64_MAX / (1024 * 1024)) {
			plx_jsonrpc_send_error(req, PLX_JSONRPC_ERROR_INVALID_PARAMS,
					       "%s: %lu is too large", g_limit_names[i],
					       (unsigned long)p->v[i]);
			return false;
		}
	}
	return true;
}

static void rpc_bdev_set_qos_limit(struct plx_jsonrpc_request *req, const json_t *params)
{
	static const struct plx_json_field fields[] = {
	    {"name", offsetof(struct qos_params, name), PLX_JSON_STRING, true, NULL},
	    {"rw_ios_per_sec", offsetof(struct qos_params, v[0]), PLX_JSON_UINT64, false, NULL},
	    {"rw_mbytes_per_sec", offsetof(struct qos_params, v[1]), PLX_JSON_UINT64, false, NULL},
	    {"r_mbytes_per_sec", offsetof(struct qos_params, v[2]), PLX_JSON_UINT64, false, NULL},
	    {"w_mbytes_per_sec", offsetof(struct qos_params, v[3]), PLX_JSON_UINT64, false, NULL},
	};
	struct qos_params p = {0};
	struct plx_bdev *bdev;
	struct bdev_qos *qos;
	struct qos_set_ctx *c;
	bool any_limit = false;

	if (!plx_rpc_decode_params(req, params, fields, PLX_COUNTOF(fields), &p)) {
		return;
	}
	bdev = plx_bdev_get_by_name(p.name);
	if (bdev == NULL) {
		plx_jsonrpc_send_error(req, -ENODEV, "bdev '%s' not found", p.name);
		goto out;
	}
	if (!qos_validate(req, &p, params)) {
		goto out;
	}
	qos = bdev->internal->qos;
	/* Limits not named keep their value, as SPDK does. */
	for (int i = 0; i < QOS_NUM_LIMITS; i++) {
		uint64_t v = i == QOS_RW_IOPS ? p.v[i] : p.v[i] * 1024 * 1024;

		if (json_object_get(params, g_limit_names[i]) == NULL) {
			v = qos != NULL ? qos->limits[i] : 0;
		}
		p.v[i] = v;
		any_limit |= v != 0;
	}
	if (qos == NULL && any_limit) {
		qos = qos_create(bdev);
		if (qos == NULL) {
			plx_jsonrpc_send_error(req, -ENOMEM, "cannot set up QoS on bdev '%s'",
					       p.name);
			goto out;
		}
		bdev->internal->qos = qos;
	}
	if (qos != NULL) {
		memcpy(qos->limits, p.v, sizeof(qos->limits));
		qos_refill(qos);
	}
	c = calloc(1, sizeof(*c));
	if (c == NULL) {
		plx_jsonrpc_send_error(req, -ENOMEM, "out of memory");
		goto out;
	}
	*c = (struct qos_set_ctx){.req = req, .bdev = bdev, .enable = any_limit};
	plx_for_each_channel(bdev->internal, qos_flag_ch, c, qos_flag_done);
out:
	plx_json_decode_free(fields, PLX_COUNTOF(fields), &p);
}
PLX_RPC_REGISTER("bdev_set_qos_limit", rpc_bdev_set_qos_limit, PLX_RPC_RUNTIME)

void bdev_qos_write_config(struct plx_bdev *bdev, json_t *config)
{
	struct bdev_qos *qos = bdev->internal->qos;
	json_t *params;

	if (qos == NULL) {
		return;
	}
	params = json_pack("{s:s}", "name", bdev->name);
	for (int i = 0; i < QOS_NUM_LIMITS; i++) {
		uint64_t v = i == QOS_RW_IOPS ? qos->limits[i] : qos->limits[i] / (1024 * 1024);

		json_object_set_new(params, g_limit_names[i], json_integer((json_int_t)v));
	}
	json_array_append_new(
	    config, json_pack("{s:s, s:o}", "method", "bdev_set_qos_limit", "params", params));
}
