/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Pollux nvmf: the NVMe over Fabrics target.
 *
 * One target per process ("nvmf_tgt"), created by the "nvmf" subsystem at start-up. It owns
 * transports (TCP), subsystems (the discovery subsystem and NVM subsystems), and one poll group
 * per reactor core that runs the connections. Subsystems export bdevs as namespaces to hosts
 * that connect through listeners.
 *
 * Threads: every function here runs on the app thread (where RPC runs) unless it says
 * otherwise. Functions that change what connected hosts see (namespaces, listeners, ANA
 * states) finish asynchronously: cb(cb_arg, status) runs on the app thread once every poll
 * group has applied the change, with 0 or a negative errno.
 *
 * Errors: negative errno; the function logs the reason once (PLX_ERRLOG) and, where a
 * message helps an RPC caller, writes it into err (may be NULL) of PLX_NVMF_ERR_LEN bytes.
 */
#ifndef POLLUX_NVMF_H
#define POLLUX_NVMF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pollux/nvme.h"
#include "pollux/nvme_spec.h"
#include "pollux/util.h"

#ifdef __cplusplus
extern "C" {
#endif

/*
 * Transport addresses (struct plx_nvme_trid), ANA state names and NQN checks are shared with
 * the host driver and live in pollux/nvme.h.
 */
#define PLX_NVMF_ERR_LEN PLX_NVME_ERR_LEN

#ifdef __cplusplus
}
#endif

#endif /* POLLUX_NVMF_H */
