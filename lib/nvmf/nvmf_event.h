/* SPDX-License-Identifier: BSD-3-Clause */
/* Shared by the "nvmf" event subsystem and the RPC methods (app thread). */
#ifndef POLLUX_NVMF_EVENT_H
#define POLLUX_NVMF_EVENT_H

#include <jansson.h>

#include "nvmf_internal.h"

/* Start-up settings (nvmf_set_config, nvmf_set_crdt), applied when the target is created. */
struct nvmf_tgt_config *nvmf_event_config(void);
/* -EPERM once the target exists. */
int nvmf_event_set_max_subsystems(uint32_t max);
uint32_t nvmf_event_get_max_subsystems(void);

/* JSON shapes shared by save_config and the get methods. */
json_t *nvmf_transport_opts_json(struct nvmf_transport *t);
json_t *nvmf_ns_json(const struct nvmf_ns *ns, bool for_config);
json_t *nvmf_config_json(void);

#endif /* POLLUX_NVMF_EVENT_H */
