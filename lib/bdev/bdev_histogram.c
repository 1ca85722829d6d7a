/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Latency histograms. Each channel keeps its own buckets (no sharing on the I/O path); reading
 * sums them with a channel walk. Buckets are log-linear in ticks: with bucket_shift b, values
 * below 2^b have a bucket each, and every power-of-two range above is split into 2^b buckets,
 * so the relative error is at most 2^-b.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "bdev_internal.h"
#include "pollux/rpc.h"

struct bdev_histogram {
	uint8_t shift;
	int opc; /* record only this I/O type; 0 for all */
	uint64_t min_ticks, max_ticks;
	size_t nbuckets;
	uint64_t buckets[];
};

static size_t nbuckets(uint8_t shift)
{
	return (size_t)(64 - shift + 1) << shift;
}

static struct bdev_histogram *histogram_alloc(uint8_t shift, int opc, uint64_t min_ticks,
					      uint64_t max_ticks)
{
	size_t n = nbuckets(shift);
	struct bdev_histogram *h = calloc(1, sizeof(*h) + n * sizeof(uint64_t));

	if (h != NULL) {
		*h = (struct bdev_histogram){.shift = shift,
					     .opc = opc,
					     .min_ticks = min_ticks,
					     .max_ticks = max_ticks,
					     .nbuckets = n};
	}
	return h;
}

struct bdev_histogram *bdev_histogram_clone_config(const struct bdev_histogram *h)
{
	return histogram_alloc(h->shift, h->opc, h->min_ticks, h->max_ticks);
}

void bdev_histogram_free(struct bdev_histogram *h)
{
	free(h);
}

static size_t bucket_index(uint8_t shift, uint64_t v)
{
	unsigned int msb, range;

	if (v < ((uint64_t)1 << shift)) {
		return (size_t)v;
	}
	msb = 63u - (unsigned int)__builtin_clzll(v);
	range = msb - shift + 1;
	return ((size_t)range << shift) + (size_t)((v >> (msb - shift)) & ((1u << shift) - 1));
}

void bdev_histogram_record(struct bdev_histogram *h, enum plx_bdev_io_type type, uint64_t ticks)
{
	if ((h->opc != 0 && h->opc != (int)type) || ticks < h->min_ticks ||
	    (h->max_ticks != 0 && ticks > h->max_ticks)) {
		return;
	}
	h->buckets[bucket_index(h->shift, ticks)]++;
}

static char *base64(const void *data, size_t len)
{
	static const char tbl[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	const uint8_t *p = data;
	char *out = malloc((len + 2) / 3 * 4 + 1), *o = out;

	if (out == NULL) {
		return NULL;
	}
	for (size_t i = 0; i < len; i += 3) {
		uint32_t v = (uint32_t)p[i] << 16;

		v |= i + 1 < len ? (uint32_t)p[i + 1] << 8 : 0;
		v |= i + 2 < len ? p[i + 2] : 0;
		*o++ = tbl[(v >> 18) & 63];
		*o++ = tbl[(v >> 12) & 63];
		*o++ = i + 1 < len ? tbl[(v >> 6) & 63] : '=';
		*o++ = i + 2 < len ? tbl[v & 63] : '=';
	}
	*o = '\0';
	return out;
}

/* ---- bdev_enable_histogram ---- */

struct enable_params {
	char *name;
	bool enable;
	char *opc;
	uint8_t granularity;
	uint64_t min_nsec;
	uint64_t max_nsec;
};

struct hist_walk {
	struct plx_jsonrpc_request *req;
	struct plx_bdev_desc *desc;
	struct bdev_histogram *sum; /* bdev_get_histogram; template for enable */
	bool enable;
};

static void hist_ignore_event(enum plx_bdev_event_type type, struct plx_bdev *bdev, void *ctx)
{
}

static void enable_ch(struct plx_io_channel_iter *i)
{
	struct hist_walk *w = plx_io_channel_iter_get_ctx(i);
	struct plx_bdev_channel *bch = plx_io_channel_get_ctx(plx_io_channel_iter_get_channel(i));

	bdev_histogram_free(bch->histogram);
	bch->histogram = NULL;
	bch->flags &= ~BDEV_CH_HISTOGRAM;
	if (w->enable) {
		bch->histogram = bdev_histogram_clone_config(w->sum);
		if (bch->histogram == NULL) {
			plx_for_each_channel_continue(i, -ENOMEM);
			return;
		}
		bch->flags |= BDEV_CH_HISTOGRAM;
	}
	plx_for_each_channel_continue(i, 0);
}

static void walk_end(struct hist_walk *w)
{
	plx_bdev_close(w->desc);
	bdev_histogram_free(w->sum);
	free(w);
}

static void enable_done(struct plx_io_channel_iter *i, int status)
{
	struct hist_walk *w = plx_io_channel_iter_get_ctx(i);

	if (status != 0) {
		plx_jsonrpc_send_error(w->req, status, "cannot allocate histograms");
	} else {
		plx_jsonrpc_send_bool(w->req, true);
	}
	walk_end(w);
}

static int opc_parse(const char *name)
{
	for (int t = PLX_BDEV_IO_TYPE_READ; t < PLX_BDEV_NUM_IO_TYPES; t++) {
		if (strcmp(plx_bdev_io_type_name(t), name) == 0) {
			return t;
		}
	}
	return -1;
}

static struct hist_walk *walk_open(struct plx_jsonrpc_request *req, const char *name)
{
	struct hist_walk *w = calloc(1, sizeof(*w));

	if (w == NULL) {
		plx_jsonrpc_send_error(req, -ENOMEM, "out of memory");
		return NULL;
	}
	w->req = req;
	if (plx_bdev_open_ext(name, false, hist_ignore_event, NULL, &w->desc) != 0) {
		plx_jsonrpc_send_error(req, -ENODEV, "bdev '%s' not found", name);
		free(w);
		return NULL;
	}
	return w;
}

static void rpc_bdev_enable_histogram(struct plx_jsonrpc_request *req, const json_t *params)
{
	static const struct plx_json_field fields[] = {
	    {"name", offsetof(struct enable_params, name), PLX_JSON_STRING, true, NULL},
	    {"enable", offsetof(struct enable_params, enable), PLX_JSON_BOOL, true, NULL},
	    {"opc", offsetof(struct enable_params, opc), PLX_JSON_STRING, false, NULL},
	    {"granularity", offsetof(struct enable_params, granularity), PLX_JSON_UINT8, false,
	     NULL},
	    {"min_nsec", offsetof(struct enable_params, min_nsec), PLX_JSON_UINT64, false, NULL},
	    {"max_nsec", offsetof(struct enable_params, max_nsec), PLX_JSON_UINT64, false, NULL},
	};
	struct enable_params p = {.granularity = 7};
	struct hist_walk *w;
	int opc = 0;
	uint64_t hz = plx_get_ticks_hz();

	if (!plx_rpc_decode_params(req, params, fields, PLX_COUNTOF(fields), &p)) {
		return;
	}
	if (p.granularity < 1 || p.granularity > 16) {
		plx_jsonrpc_send_error(req, PLX_JSONRPC_ERROR_INVALID_PARAMS,
				       "granularity: %u is not in 1..16", p.granularity);
	} else if (p.opc != NULL && (opc = opc_parse(p.opc)) < 0) {
		plx_jsonrpc_send_error(req, PLX_JSONRPC_ERROR_INVALID_PARAMS,
				       "opc: '%s' is not an I/O type", p.opc);
	} else if (p.max_nsec != 0 && p.max_nsec < p.min_nsec) {
		plx_jsonrpc_send_error(req, PLX_JSONRPC_ERROR_INVALID_PARAMS,
				       "max_nsec: smaller than min_nsec");
	} else if ((w = walk_open(req, p.name)) != NULL) {
		struct plx_bdev_internal *in = plx_bdev_desc_get_bdev(w->desc)->internal;

		w->enable = p.enable;
		w->sum = histogram_alloc(p.granularity, opc, p.min_nsec * hz / 1000000000,
					 p.max_nsec * hz / 1000000000);
		/* The bdev keeps the configuration for channels created later. */
		bdev_histogram_free(in->histogram);
		in->histogram = p.enable ? bdev_histogram_clone_config(w->sum) : NULL;
		plx_for_each_channel(in, enable_ch, w, enable_done);
	}
	plx_json_decode_free(fields, PLX_COUNTOF(fields), &p);
}
PLX_RPC_REGISTER("bdev_enable_histogram", rpc_bdev_enable_histogram, PLX_RPC_RUNTIME)

/* ---- bdev_get_histogram ---- */

static void sum_ch(struct plx_io_channel_iter *i)
{
	struct hist_walk *w = plx_io_channel_iter_get_ctx(i);
	struct plx_bdev_channel *bch = plx_io_channel_get_ctx(plx_io_channel_iter_get_channel(i));

	if (bch->histogram != NULL && bch->histogram->shift == w->sum->shift) {
		for (size_t b = 0; b < w->sum->nbuckets; b++) {
			w->sum->buckets[b] += bch->histogram->buckets[b];
		}
	}
	plx_for_each_channel_continue(i, 0);
}

static void sum_done(struct plx_io_channel_iter *i, int status)
{
	struct hist_walk *w = plx_io_channel_iter_get_ctx(i);
	char *enc = base64(w->sum->buckets, w->sum->nbuckets * sizeof(uint64_t));

	if (enc == NULL) {
		plx_jsonrpc_send_error(w->req, -ENOMEM, "out of memory");
	} else {
		plx_jsonrpc_send_result(w->req,
					json_pack("{s:s, s:I, s:I, s:I}", "histogram", enc,
						  "granularity", (json_int_t)w->sum->shift,
						  "bucket_shift", (json_int_t)w->sum->shift,
						  "tsc_rate", (json_int_t)plx_get_ticks_hz()));
	}
	free(enc);
	walk_end(w);
}

static void rpc_bdev_get_histogram(struct plx_jsonrpc_request *req, const json_t *params)
{
	static const struct plx_json_field fields[] = {
	    {"name", offsetof(struct enable_params, name), PLX_JSON_STRING, true, NULL},
	};
	struct enable_params p = {0};
	struct hist_walk *w;
	struct plx_bdev_internal *in;

	if (!plx_rpc_decode_params(req, params, fields, PLX_COUNTOF(fields), &p)) {
		return;
	}
	w = walk_open(req, p.name);
	if (w != NULL) {
		in = plx_bdev_desc_get_bdev(w->desc)->internal;
		if (in->histogram == NULL) {
			plx_jsonrpc_send_error(req, -EINVAL,
					       "histogram is not enabled on bdev '%s'", p.name);
			plx_bdev_close(w->desc);
			free(w);
		} else {
			w->sum = bdev_histogram_clone_config(in->histogram);
			if (w->sum == NULL) {
				plx_jsonrpc_send_error(req, -ENOMEM, "out of memory");
				walk_end(w);
			} else {
				plx_for_each_channel(in, sum_ch, w, sum_done);
			}
		}
	}
	plx_json_decode_free(fields, PLX_COUNTOF(fields), &p);
}
PLX_RPC_REGISTER("bdev_get_histogram", rpc_bdev_get_histogram, PLX_RPC_RUNTIME)
