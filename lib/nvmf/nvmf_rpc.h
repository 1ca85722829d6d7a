/* SPDX-License-Identifier: BSD-3-Clause */
/* Helpers shared by the nvmf_* RPC method files (app thread). */
#ifndef POLLUX_NVMF_RPC_H
#define POLLUX_NVMF_RPC_H

#include <jansson.h>

#include "nvmf_internal.h"
#include "pollux/rpc.h"

/* false (request answered) when the target is not running or tgt_name is not ours. */
bool nvmf_rpc_check_tgt_name(struct plx_jsonrpc_request *req, const char *tgt_name);
/* The subsystem named nqn ("discovery" for the discovery subsystem), or NULL (answered). */
struct nvmf_subsystem *nvmf_rpc_find_subsystem(struct plx_jsonrpc_request *req, const char *nqn);
/* Decode {nqn, tgt_name}: the subsystem, or NULL when the request was answered. */
struct nvmf_subsystem *nvmf_rpc_decode_subsystem(struct plx_jsonrpc_request *req,
						 const json_t *params);
/* Answer true on rc == 0, else an error carrying err (invalid params for -EINVAL). */
void nvmf_rpc_send_rc(struct plx_jsonrpc_request *req, int rc, const char *err);
json_t *nvmf_rpc_trid_json(const struct plx_nvme_trid *trid);
/* {address, secure_channel, subnqn}: nvmf_discovery_get_referrals and save_config alike. */
json_t *nvmf_rpc_referral_json(const struct nvmf_referral *r);
/* The names of a bit set: which 0 discovery filters, 1 DH-HMAC-CHAP digests, 2 DH groups. */
json_t *nvmf_rpc_name_set_json(uint32_t bits, int which);

#endif /* POLLUX_NVMF_RPC_H */
