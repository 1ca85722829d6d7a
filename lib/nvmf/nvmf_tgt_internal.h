/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The configuration side of the target (app thread): what the RPC methods and the "nvmf"
 * event subsystem call. Asynchronous operations report through cb(cb_arg, rc) on the app
 * thread once every poll group has applied the change; a non-zero return means the change
 * was refused at once (err says why, naming the parameter) and cb will not run.
 */
#ifndef POLLUX_NVMF_TGT_INTERNAL_H
#define POLLUX_NVMF_TGT_INTERNAL_H

#include "nvmf_internal.h"

typedef void (*nvmf_done_cb)(void *cb_arg, int rc);

/* ---- target (tgt.c) ---- */
struct nvmf_tgt *nvmf_tgt_alloc(uint32_t max_subsystems, const struct nvmf_tgt_config *conf);
void nvmf_tgt_free(struct nvmf_tgt *tgt);
void nvmf_tgt_set(struct nvmf_tgt *tgt);
int nvmf_tgt_add_transport(struct nvmf_tgt *tgt, const struct nvmf_transport_ops *ops,
			   const struct nvmf_transport_opts *opts, nvmf_done_cb cb, void *cb_arg,
			   char *err);
/* Listen addresses are shared by subsystems and counted; the transport listens once. */
int nvmf_tgt_listen(struct nvmf_tgt *tgt, struct nvmf_transport *transport,
		    const struct plx_nvme_trid *trid, char *err);
void nvmf_tgt_stop_listen(struct nvmf_tgt *tgt, const struct plx_nvme_trid *trid);
bool nvmf_tgt_is_listening(struct nvmf_tgt *tgt, const struct plx_nvme_trid *trid);
void nvmf_tgt_foreach_listen(struct nvmf_tgt *tgt,
			     void (*fn)(const struct plx_nvme_trid *trid,
					struct nvmf_transport *transport, void *arg),
			     void *arg);

/* ---- poll groups (poll_group.c) ---- */
int nvmf_tgt_create_poll_groups(struct nvmf_tgt *tgt, nvmf_done_cb cb, void *cb_arg);
/* Disconnect every qpair, wait for them, destroy the groups and exit their threads. */
void nvmf_tgt_destroy_poll_groups(struct nvmf_tgt *tgt, void (*cb)(void *cb_arg), void *cb_arg);
void nvmf_poll_group_add_transport(struct nvmf_poll_group *group, struct nvmf_transport *transport);
int nvmf_pg_subsystem_alloc(struct nvmf_poll_group *group, const struct nvmf_subsystem *subsys);
void nvmf_pg_subsystem_free(struct nvmf_poll_group *group, const struct nvmf_subsystem *subsys);
void nvmf_pg_ns_resume_pending(struct nvmf_pg_ns *pg_ns);

/* ---- subsystems (subsystem.c) ---- */
struct nvmf_subsystem_opts {
	const char *nqn;
	enum nvmf_subtype subtype;
	const char *sn; /* NULL: default */
	const char *mn;
	uint32_t max_namespaces;
	bool allow_any_host;
	bool ana_reporting;
	uint16_t min_cntlid;
	uint16_t max_cntlid;
};
void nvmf_subsystem_opts_init(struct nvmf_subsystem_opts *o);
/* Synchronous part of creation (used for the discovery subsystem before poll groups exist). */
struct nvmf_subsystem *
nvmf_subsystem_alloc(struct nvmf_tgt *tgt, const struct nvmf_subsystem_opts *o, char *err, int *rc);
int nvmf_subsystem_create(struct nvmf_tgt *tgt, const struct nvmf_subsystem_opts *o,
			  nvmf_done_cb cb, void *cb_arg, char *err);
/* Disconnects the controllers, detaches the namespaces, then frees the subsystem. */
int nvmf_subsystem_delete(struct nvmf_subsystem *s, nvmf_done_cb cb, void *cb_arg);
int nvmf_subsystem_add_host(struct nvmf_subsystem *s, const char *hostnqn, char *err);
int nvmf_subsystem_remove_host(struct nvmf_subsystem *s, const char *hostnqn, char *err);
void nvmf_subsystem_set_allow_any_host(struct nvmf_subsystem *s, bool allow);

/* ---- namespaces (ns.c) ---- */
struct nvmf_ns_opts {
	const char *bdev_name;
	uint32_t nsid;	   /* 0: lowest free */
	uint32_t anagrpid; /* 0: same as nsid */
	bool nguid_set, eui64_set, uuid_set;
	uint8_t nguid[16];
	uint8_t eui64[8];
	struct plx_uuid uuid;
	const char *ptpl_file;
	bool no_auto_visible;
};
int nvmf_subsystem_add_ns(struct nvmf_subsystem *s, const struct nvmf_ns_opts *o,
			  uint32_t *nsid_out, nvmf_done_cb cb, void *cb_arg, char *err);
int nvmf_subsystem_remove_ns(struct nvmf_subsystem *s, uint32_t nsid, nvmf_done_cb cb, void *cb_arg,
			     char *err);
int nvmf_subsystem_set_ns_ana_group(struct nvmf_subsystem *s, uint32_t nsid, uint32_t anagrpid,
				    char *err);

/* ---- listeners and referrals (listener.c) ---- */
int nvmf_subsystem_add_listener(struct nvmf_subsystem *s, const struct plx_nvme_trid *trid,
				bool have_state, enum plx_nvme_ana_state state, char *err);
int nvmf_subsystem_remove_listener(struct nvmf_subsystem *s, const struct plx_nvme_trid *trid,
				   char *err);
void nvmf_subsystem_listener_detach(struct nvmf_subsystem *s, struct nvmf_subsystem_listener *l);
/* anagrpid 0: every group. Requires ana_reporting. */
int nvmf_subsystem_set_ana_state(struct nvmf_subsystem *s, const struct plx_nvme_trid *trid,
				 enum plx_nvme_ana_state state, uint32_t anagrpid, char *err);
int nvmf_tgt_add_referral(struct nvmf_tgt *tgt, const struct plx_nvme_trid *trid,
			  bool secure_channel);
int nvmf_tgt_remove_referral(struct nvmf_tgt *tgt, const struct plx_nvme_trid *trid, char *err);

#endif /* POLLUX_NVMF_TGT_INTERNAL_H */
