/* SPDX-License-Identifier: BSD-3-Clause */
/* The registry of NVMe transports, and the clock the driver's timeouts run on. */
#include "nvme_internal.h"
#include "pollux/env.h"
#include "pollux/log.h"
#include "pollux/util.h"

#define NVME_MAX_TRANSPORTS 8

/* Filled by constructors before main(); read-only afterwards, so no lock is needed. */
static const struct nvme_transport_ops *g_transports[NVME_MAX_TRANSPORTS];
static unsigned int g_num_transports;

void nvme_transport_register(const struct nvme_transport_ops *ops)
{
	for (unsigned int i = 0; i < g_num_transports; i++) {
		if (g_transports[i]->trtype == ops->trtype) {
			g_transports[i] = ops;
			return;
		}
	}
	if (g_num_transports == NVME_MAX_TRANSPORTS) {
		PLX_ERRLOG("too many NVMe transports, %s not registered\n", ops->name);
		return;
	}
	g_transports[g_num_transports++] = ops;
}

const struct nvme_transport_ops *nvme_transport_find(int trtype)
{
	for (unsigned int i = 0; i < g_num_transports; i++) {
		if (g_transports[i]->trtype == trtype) {
			return g_transports[i];
		}
	}
	return NULL;
}

/* Weak so that unit tests can run the driver on a clock they move by hand. */
__attribute__((weak)) uint64_t nvme_ticks(void)
{
	return plx_get_ticks();
}

__attribute__((weak)) uint64_t nvme_ticks_per_ms(void)
{
	uint64_t per_ms = plx_get_ticks_hz() / 1000;

	return per_ms != 0 ? per_ms : 1;
}
