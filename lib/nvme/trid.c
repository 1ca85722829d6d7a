/* SPDX-License-Identifier: BSD-3-Clause */
/* Transport addresses, ANA state names and NQN checks (include/pollux/nvmf.h). */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "pollux/nvmf.h"

static const struct {
	enum plx_nvmf_trtype type;
	const char *name;
} g_trtypes[] = {
    {PLX_NVMF_TRTYPE_RDMA, "RDMA"},
    {PLX_NVMF_TRTYPE_FC, "FC"},
    {PLX_NVMF_TRTYPE_TCP, "TCP"},
};

static const struct {
	enum plx_nvmf_adrfam fam;
	const char *name;
} g_adrfams[] = {
    {PLX_NVMF_ADRFAM_IPV4, "IPv4"},
    {PLX_NVMF_ADRFAM_IPV6, "IPv6"},
    {PLX_NVMF_ADRFAM_IB, "IB"},
    {PLX_NVMF_ADRFAM_FC, "FC"},
    {PLX_NVMF_ADRFAM_INTRA_HOST, "INTRA_HOST"},
};

const char *plx_nvme_trtype_str(enum plx_nvmf_trtype trtype)
{
	for (size_t i = 0; i < sizeof(g_trtypes) / sizeof(g_trtypes[0]); i++) {
		if (g_trtypes[i].type == trtype) {
			return g_trtypes[i].name;
		}
	}
	return "unknown";
}

const char *plx_nvme_adrfam_str(enum plx_nvmf_adrfam adrfam)
{
	for (size_t i = 0; i < sizeof(g_adrfams) / sizeof(g_adrfams[0]); i++) {
		if (g_adrfams[i].fam == adrfam) {
			return g_adrfams[i].name;
		}
	}
	return "unknown";
}

int plx_nvme_trid_from_strings(struct plx_nvme_trid *trid, const char *trtype, const char *adrfam,
			       const char *traddr, const char *trsvcid, char *err)
{
	size_t i;

	memset(trid, 0, sizeof(*trid));
	for (i = 0; i < sizeof(g_trtypes) / sizeof(g_trtypes[0]); i++) {
		if (trtype != NULL && strcasecmp(trtype, g_trtypes[i].name) == 0) {
			break;
		}
	}
	if (i == sizeof(g_trtypes) / sizeof(g_trtypes[0])) {
		snprintf(err, PLX_NVMF_ERR_LEN, "trtype: unknown transport type '%s'",
			 trtype != NULL ? trtype : "");
		return -EINVAL;
	}
	trid->trtype = g_trtypes[i].type;
	snprintf(trid->trstring, sizeof(trid->trstring), "%s", g_trtypes[i].name);
	if (traddr == NULL || traddr[0] == '\0' || strlen(traddr) > PLX_NVMF_TRADDR_MAX_LEN) {
		snprintf(err, PLX_NVMF_ERR_LEN, "traddr: missing or too long");
		return -EINVAL;
	}
	snprintf(trid->traddr, sizeof(trid->traddr), "%s", traddr);
	if (adrfam == NULL) {
		trid->adrfam =
		    strchr(traddr, ':') != NULL ? PLX_NVMF_ADRFAM_IPV6 : PLX_NVMF_ADRFAM_IPV4;
	} else {
		for (i = 0; i < sizeof(g_adrfams) / sizeof(g_adrfams[0]); i++) {
			if (strcasecmp(adrfam, g_adrfams[i].name) == 0) {
				break;
			}
		}
		if (i == sizeof(g_adrfams) / sizeof(g_adrfams[0])) {
			snprintf(err, PLX_NVMF_ERR_LEN, "adrfam: unknown address family '%s'",
				 adrfam);
			return -EINVAL;
		}
		trid->adrfam = g_adrfams[i].fam;
	}
	if (trid->trtype == PLX_NVMF_TRTYPE_TCP) {
		char *end;
		long port = trsvcid != NULL ? strtol(trsvcid, &end, 10) : -1;

		if (trsvcid == NULL || *end != '\0' || port <= 0 || port > 65535) {
			snprintf(err, PLX_NVMF_ERR_LEN, "trsvcid: '%s' is not a TCP port",
				 trsvcid != NULL ? trsvcid : "");
			return -EINVAL;
		}
		if (trid->adrfam != PLX_NVMF_ADRFAM_IPV4 && trid->adrfam != PLX_NVMF_ADRFAM_IPV6) {
			snprintf(err, PLX_NVMF_ERR_LEN, "adrfam: TCP needs IPv4 or IPv6");
			return -EINVAL;
		}
	}
	if (trsvcid != NULL) {
		snprintf(trid->trsvcid, sizeof(trid->trsvcid), "%s", trsvcid);
	}
	return 0;
}

bool plx_nvme_trid_equal(const struct plx_nvme_trid *a, const struct plx_nvme_trid *b)
{
	return a->trtype == b->trtype && a->adrfam == b->adrfam &&
	       strcasecmp(a->traddr, b->traddr) == 0 && strcmp(a->trsvcid, b->trsvcid) == 0;
}

static const char *const g_ana_names[] = {
    [PLX_NVME_ANA_OPTIMIZED_STATE] = "optimized",
    [PLX_NVME_ANA_NON_OPTIMIZED_STATE] = "non_optimized",
    [PLX_NVME_ANA_INACCESSIBLE_STATE] = "inaccessible",
    [PLX_NVME_ANA_PERSISTENT_LOSS_STATE] = "persistent_loss",
    [PLX_NVME_ANA_CHANGE_STATE] = "change",
};

const char *plx_nvme_ana_state_str(enum plx_nvme_ana_state state)
{
	if ((size_t)state < sizeof(g_ana_names) / sizeof(g_ana_names[0]) &&
	    g_ana_names[state] != NULL) {
		return g_ana_names[state];
	}
	return "unknown";
}

int plx_nvme_ana_state_from_str(const char *str, enum plx_nvme_ana_state *state)
{
	for (size_t i = 0; i < sizeof(g_ana_names) / sizeof(g_ana_names[0]); i++) {
		if (g_ana_names[i] != NULL && strcmp(str, g_ana_names[i]) == 0) {
			*state = (enum plx_nvme_ana_state)i;
			return 0;
		}
	}
	return -EINVAL;
}

/* "nqn.yyyy-mm.reverse.domain[:anything]" as the NVMe base spec names NQNs, or the UUID form. */
bool plx_nvmf_nqn_is_valid(const char *nqn)
{
	size_t len = strlen(nqn);
	const char *p;

	if (len < 12 || len > PLX_NVMF_NQN_MAX_LEN || strncmp(nqn, "nqn.", 4) != 0) {
		return false;
	}
	if (strncmp(nqn, PLX_NVMF_NQN_UUID_PRE, strlen(PLX_NVMF_NQN_UUID_PRE)) == 0) {
		return len == strlen(PLX_NVMF_NQN_UUID_PRE) + 36;
	}
	p = nqn + 4;
	for (int i = 0; i < 7; i++) {
		bool want_dash = i == 4;

		if (want_dash ? p[i] != '-' : !isdigit((unsigned char)p[i])) {
			return false;
		}
	}
	if (p[7] != '.' || !isalnum((unsigned char)p[8])) {
		return false;
	}
	for (p += 8; *p != '\0'; p++) {
		if ((unsigned char)*p < 0x20 || (unsigned char)*p > 0x7e) {
			return false;
		}
	}
	return true;
}
