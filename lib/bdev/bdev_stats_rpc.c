/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * bdev_get_iostat and bdev_reset_iostat: walk the channels of each bdev in turn (each channel
 * reads or clears its own counters on its own thread), holding a descriptor so the bdev stays
 * while the walk is under way.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "bdev_internal.h"
#include "pollux/rpc.h"

static const char *const g_reset_modes[] = {"all", "maxmin", "error", "none", NULL};

enum reset_mode { RESET_ALL, RESET_MAXMIN, RESET_ERROR, RESET_NONE };

struct iostat_walk {
	struct plx_jsonrpc_request *req;
	json_t *names; /* bdevs still to visit */
	size_t next;
	bool per_channel;
	int reset_mode;
	bool answer_stats; /* false for bdev_reset_iostat */
	json_t *bdevs;	   /* result array */
	struct plx_bdev_desc *desc;
	struct bdev_io_stat sum;
	uint64_t queue_depth;
	json_t *channels;
};

static void stat_to_json(json_t *obj, const struct bdev_io_stat *s, uint64_t queue_depth)
{
	static const struct {
		enum plx_bdev_io_type type;
		const char *bytes, *ops, *lat;
	} map[] = {
	    {PLX_BDEV_IO_TYPE_READ, "bytes_read", "num_read_ops", "read"},
	    {PLX_BDEV_IO_TYPE_WRITE, "bytes_written", "num_write_ops", "write"},
	    {PLX_BDEV_IO_TYPE_UNMAP, "bytes_unmapped", "num_unmap_ops", "unmap"},
	    {PLX_BDEV_IO_TYPE_WRITE_ZEROES, "bytes_zeroed", "num_write_zeroes_ops", "write_zeroes"},
	    {PLX_BDEV_IO_TYPE_FLUSH, "bytes_flushed", "num_flush_ops", "flush"},
	};
	char key[64];

	for (size_t i = 0; i < PLX_COUNTOF(map); i++) {
		enum plx_bdev_io_type t = map[i].type;
		uint64_t min = s->min_latency_ticks[t] == UINT64_MAX ? 0 : s->min_latency_ticks[t];

		json_object_set_new(obj, map[i].bytes, json_integer((json_int_t)s->bytes[t]));
		json_object_set_new(obj, map[i].ops, json_integer((json_int_t)s->ops[t]));
		snprintf(key, sizeof(key), "%s_latency_ticks", map[i].lat);
		json_object_set_new(obj, key, json_integer((json_int_t)s->latency_ticks[t]));
		snprintf(key, sizeof(key), "max_%s_latency_ticks", map[i].lat);
		json_object_set_new(obj, key, json_integer((json_int_t)s->max_latency_ticks[t]));
		snprintf(key, sizeof(key), "min_%s_latency_ticks", map[i].lat);
		json_object_set_new(obj, key, json_integer((json_int_t)min));
	}
	json_object_set_new(obj, "io_error", json_integer((json_int_t)s->io_error));
	json_object_set_new(obj, "queue_depth", json_integer((json_int_t)queue_depth));
}

static void stat_reset(struct bdev_io_stat *s, int mode)
{
	switch (mode) {
	case RESET_ALL:
		bdev_stat_init(s);
		break;
	case RESET_MAXMIN:
		for (int t = 0; t < PLX_BDEV_NUM_IO_TYPES; t++) {
			s->max_latency_ticks[t] = 0;
			s->min_latency_ticks[t] = UINT64_MAX;
		}
		break;
	case RESET_ERROR:
		s->io_error = 0;
		break;
	default:
		break;
	}
}

static void walk_next_bdev(struct iostat_walk *w);

static void ignore_event(enum plx_bdev_event_type type, struct plx_bdev *bdev, void *ctx)
{
}

static void collect_ch(struct plx_io_channel_iter *i)
{
	struct iostat_walk *w = plx_io_channel_iter_get_ctx(i);
	struct plx_bdev_channel *bch = plx_io_channel_get_ctx(plx_io_channel_iter_get_channel(i));
	struct plx_thread *thread = plx_get_thread();

	if (w->answer_stats) {
		bdev_stat_add(&w->sum, &bch->stat);
		w->queue_depth += bch->io_outstanding;
		if (w->per_channel) {
			json_t *c = json_pack("{s:I, s:s}", "thread_id",
					      (json_int_t)plx_thread_get_id(thread), "thread_name",
					      plx_thread_get_name(thread));

			stat_to_json(c, &bch->stat, bch->io_outstanding);
			json_array_append_new(w->channels, c);
		}
	}
	stat_reset(&bch->stat, w->reset_mode);
	plx_for_each_channel_continue(i, 0);
}

static void collect_done(struct plx_io_channel_iter *i, int status)
{
	struct iostat_walk *w = plx_io_channel_iter_get_ctx(i);
	struct plx_bdev *bdev = plx_bdev_desc_get_bdev(w->desc);
	struct plx_bdev_internal *in = bdev->internal;
	json_t *b;

	pthread_mutex_lock(&in->mutex);
	if (w->answer_stats && !w->per_channel) {
		bdev_stat_add(&w->sum, &in->stat_retired);
	}
	stat_reset(&in->stat_retired, w->reset_mode);
	pthread_mutex_unlock(&in->mutex);
	if (w->answer_stats) {
		b = json_pack("{s:s}", "name", bdev->name);
		if (w->per_channel) {
			json_object_set_new(b, "channels", w->channels);
			w->channels = NULL;
		} else {
			stat_to_json(b, &w->sum, w->queue_depth);
		}
		json_array_append_new(w->bdevs, b);
	}
	plx_bdev_close(w->desc);
	w->desc = NULL;
	walk_next_bdev(w);
}

static void walk_finish(struct iostat_walk *w)
{
	if (w->answer_stats) {
		plx_jsonrpc_send_result(w->req,
					json_pack("{s:I, s:I, s:o}", "tick_rate",
						  (json_int_t)plx_get_ticks_hz(), "ticks",
						  (json_int_t)plx_get_ticks(), "bdevs", w->bdevs));
	} else {
		json_decref(w->bdevs);
		plx_jsonrpc_send_bool(w->req, true);
	}
	json_decref(w->names);
	free(w);
}

static void walk_next_bdev(struct iostat_walk *w)
{
	while (w->next < json_array_size(w->names)) {
		const char *name = json_string_value(json_array_get(w->names, w->next++));

		if (plx_bdev_open_ext(name, false, ignore_event, NULL, &w->desc) != 0) {
			continue; /* gone since the list was made */
		}
		bdev_stat_init(&w->sum);
		w->queue_depth = 0;
		w->channels = w->per_channel ? json_array() : NULL;
		plx_for_each_channel(plx_bdev_desc_get_bdev(w->desc)->internal, collect_ch, w,
				     collect_done);
		return;
	}
	walk_finish(w);
}

/* Resolve the names to visit: the given ones (each must exist) or every bdev. */
static json_t *resolve_names(struct plx_jsonrpc_request *req, const json_t *given)
{
	json_t *names = json_array(), *v;
	struct plx_bdev *bdev;
	size_t i;

	if (given == NULL) {
		for (bdev = plx_bdev_next(NULL); bdev != NULL; bdev = plx_bdev_next(bdev)) {
			json_array_append_new(names, json_string(bdev->name));
		}
		return names;
	}
	json_array_foreach(given, i, v)
	{
		if (!json_is_string(v) || plx_bdev_get_by_name(json_string_value(v)) == NULL) {
			plx_jsonrpc_send_error(req, -ENODEV, "bdev '%s' not found",
					       json_is_string(v) ? json_string_value(v) : "?");
			json_decref(names);
			return NULL;
		}
		json_array_append(names, v);
	}
	return names;
}

static void start_walk(struct plx_jsonrpc_request *req, json_t *names, bool per_channel,
		       int reset_mode, bool answer_stats)
{
	struct iostat_walk *w = calloc(1, sizeof(*w));

	if (w == NULL) {
		json_decref(names);
		plx_jsonrpc_send_error(req, -ENOMEM, "out of memory");
		return;
	}
	*w = (struct iostat_walk){.req = req,
				  .names = names,
				  .per_channel = per_channel,
				  .reset_mode = reset_mode,
				  .answer_stats = answer_stats,
				  .bdevs = json_array()};
	walk_next_bdev(w);
}

struct get_iostat_params {
	json_t *names;
	bool per_channel;
	int reset_mode;
};

static void rpc_bdev_get_iostat(struct plx_jsonrpc_request *req, const json_t *params)
{
	static const struct plx_json_field fields[] = {
	    {"names", offsetof(struct get_iostat_params, names), PLX_JSON_ARRAY, false, NULL},
	    {"per_channel", offsetof(struct get_iostat_params, per_channel), PLX_JSON_BOOL, false,
	     NULL},
	    {"reset_mode", offsetof(struct get_iostat_params, reset_mode), PLX_JSON_ENUM, false,
	     g_reset_modes},
	};
	struct get_iostat_params p = {.reset_mode = RESET_NONE};
	json_t *names;

	if (!plx_rpc_decode_params(req, params, fields, PLX_COUNTOF(fields), &p)) {
		return;
	}
	names = resolve_names(req, p.names);
	if (names != NULL) {
		start_walk(req, names, p.per_channel, p.reset_mode, true);
	}
	plx_json_decode_free(fields, PLX_COUNTOF(fields), &p);
}
PLX_RPC_REGISTER("bdev_get_iostat", rpc_bdev_get_iostat, PLX_RPC_RUNTIME)

struct reset_iostat_params {
	char *name;
	int mode;
};

static void rpc_bdev_reset_iostat(struct plx_jsonrpc_request *req, const json_t *params)
{
	static const struct plx_json_field fields[] = {
	    {"name", offsetof(struct reset_iostat_params, name), PLX_JSON_STRING, false, NULL},
	    {"mode", offsetof(struct reset_iostat_params, mode), PLX_JSON_ENUM, false,
	     g_reset_modes},
	};
	struct reset_iostat_params p = {.mode = RESET_ALL};
	json_t *given = NULL, *names;

	if (!plx_rpc_decode_params(req, params, fields, PLX_COUNTOF(fields), &p)) {
		return;
	}
	if (p.name != NULL) {
		given = json_pack("[s]", p.name);
	}
	names = resolve_names(req, given);
	if (names != NULL) {
		start_walk(req, names, false, p.mode, false);
	}
	json_decref(given);
	plx_json_decode_free(fields, PLX_COUNTOF(fields), &p);
}
PLX_RPC_REGISTER("bdev_reset_iostat", rpc_bdev_reset_iostat, PLX_RPC_RUNTIME)
