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

#include "pollux/nvme_spec.h"
#include "pollux/util.h"

#ifdef __cplusplus
extern "C" {
#endif

struct nvmf_tgt;
struct nvmf_subsystem;
struct nvmf_transport;

#define PLX_NVMF_ERR_LEN 256

/* An NVMe-oF transport address (a listener, a referral, or the far end of a connection). */
struct plx_nvme_trid {
	enum plx_nvmf_trtype trtype;
	enum plx_nvmf_adrfam adrfam;
	char trstring[PLX_NVMF_TRSTRING_MAX_LEN + 1]; /* "TCP" */
	char traddr[PLX_NVMF_TRADDR_MAX_LEN + 1];
	char trsvcid[32 + 1];
	char subnqn[PLX_NVMF_NQN_MAX_LEN + 1];
};

/*
 * Fill trid from RPC-style strings (trtype "TCP"/"tcp", adrfam "IPv4"/"ipv4"/"IPv6", traddr,
 * trsvcid). adrfam may be NULL (IPv4 unless traddr contains ':'). -EINVAL with err set.
 */
int plx_nvme_trid_from_strings(struct plx_nvme_trid *trid, const char *trtype, const char *adrfam,
			       const char *traddr, const char *trsvcid, char *err);

/* "TCP", "IPv4": the names RPC results and save_config use. */
const char *plx_nvme_trtype_str(enum plx_nvmf_trtype trtype);
const char *plx_nvme_adrfam_str(enum plx_nvmf_adrfam adrfam);

/* Same transport, family, address and service id (subnqn ignored). */
bool plx_nvme_trid_equal(const struct plx_nvme_trid *a, const struct plx_nvme_trid *b);

/* "optimized", "non_optimized", "inaccessible", "persistent_loss", "change" and back. */
const char *plx_nvme_ana_state_str(enum plx_nvme_ana_state state);
int plx_nvme_ana_state_from_str(const char *str, enum plx_nvme_ana_state *state);

/* True when nqn is a well-formed NQN (length, "nqn." prefix with a date and domain, or the
 * UUID form). */
bool plx_nvmf_nqn_is_valid(const char *nqn);

#ifdef __cplusplus
}
#endif

#endif /* POLLUX_NVMF_H */
