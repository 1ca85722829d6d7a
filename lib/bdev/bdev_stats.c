/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * I/O statistics. Each channel counts its own completions (no shared writes on the I/O
 * path); readers sum the channels with for_each_channel plus what retired channels left.
 */
#include <string.h>

#include "bdev_internal.h"

void bdev_stat_init(struct bdev_io_stat *stat)
{
	memset(stat, 0, sizeof(*stat));
	for (int t = 0; t < PLX_BDEV_NUM_IO_TYPES; t++) {
		stat->min_latency_ticks[t] = UINT64_MAX;
	}
}

void bdev_stat_record(struct plx_bdev_channel *bch, struct plx_bdev_io *io, uint64_t now)
{
	struct bdev_io_stat *stat = &bch->stat;
	enum plx_bdev_io_type t = io->type;
	uint64_t lat = now - io->internal.submit_tsc;

	if (plx_unlikely(io->internal.status != PLX_BDEV_IO_STATUS_SUCCESS)) {
		stat->io_error++;
		return;
	}
	if (plx_unlikely(bch->histogram != NULL)) {
		bdev_histogram_record(bch->histogram, t, lat);
	}
	stat->ops[t]++;
	stat->bytes[t] += io->u.bdev.num_blocks * io->bdev->blocklen;
	stat->latency_ticks[t] += lat;
	if (plx_unlikely(lat > stat->max_latency_ticks[t])) {
		stat->max_latency_ticks[t] = lat;
	}
	if (plx_unlikely(lat < stat->min_latency_ticks[t])) {
		stat->min_latency_ticks[t] = lat;
	}
}

void bdev_stat_add(struct bdev_io_stat *to, const struct bdev_io_stat *from)
{
	for (int t = 0; t < PLX_BDEV_NUM_IO_TYPES; t++) {
		to->ops[t] += from->ops[t];
		to->bytes[t] += from->bytes[t];
		to->latency_ticks[t] += from->latency_ticks[t];
		to->max_latency_ticks[t] =
		    PLX_MAX(to->max_latency_ticks[t], from->max_latency_ticks[t]);
		to->min_latency_ticks[t] =
		    PLX_MIN(to->min_latency_ticks[t], from->min_latency_ticks[t]);
	}
	to->io_error += from->io_error;
}
