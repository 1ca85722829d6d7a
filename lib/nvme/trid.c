/* SPDX-License-Identifier: BSD-3-Clause */
/* Transport addresses, ANA state names and NQN checks (include/pollux/nvme.h). */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "pollux/nvme.h"
#include "pollux/util.h"

static const struct {
	int type;
	const char *name;
} g_trtypes[] = {
    {PLX_NVMF_TRTYPE_RDMA, "RDMA"},
    {PLX_NVMF_TRTYPE_FC, "FC"},
    {PLX_NVMF_TRTYPE_TCP, "TCP"},
    {PLX_NVME_TRTYPE_PCIE, "PCIe"},
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

const char *plx_nvme_trtype_str(int trtype)
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
		snprintf(err, PLX_NVME_ERR_LEN, "trtype: unknown transport type '%s'",
			 trtype != NULL ? trtype : "");
		return -EINVAL;
	}
	trid->trtype = g_trtypes[i].type;
	snprintf(trid->trstring, sizeof(trid->trstring), "%s", g_trtypes[i].name);
	if (traddr == NULL || traddr[0] == '\0' || strlen(traddr) > PLX_NVMF_TRADDR_MAX_LEN) {
		snprintf(err, PLX_NVME_ERR_LEN, "traddr: missing or too long");
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
			snprintf(err, PLX_NVME_ERR_LEN, "adrfam: unknown address family '%s'",
				 adrfam);
			return -EINVAL;
		}
		trid->adrfam = g_adrfams[i].fam;
	}
	if (trid->trtype == PLX_NVMF_TRTYPE_TCP) {
		char *end;
		long port = trsvcid != NULL ? strtol(trsvcid, &end, 10) : -1;

		if (trsvcid == NULL || *end != '\0' || port <= 0 || port > 65535) {
			snprintf(err, PLX_NVME_ERR_LEN, "trsvcid: '%s' is not a TCP port",
				 trsvcid != NULL ? trsvcid : "");
			return -EINVAL;
		}
		if (trid->adrfam != PLX_NVMF_ADRFAM_IPV4 && trid->adrfam != PLX_NVMF_ADRFAM_IPV6) {
			snprintf(err, PLX_NVME_ERR_LEN, "adrfam: TCP needs IPv4 or IPv6");
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

/*
 * PCI addresses in the full "dddd:bb:dd.f" form (sysfs spelling), accepting the domain-less
 * "bb:dd.f" too, so that parsed and scanned addresses compare equal.
 */
static int trid_normalize_pci(char *traddr, size_t len)
{
	unsigned int dom = 0, bus, dev, fn;
	char tail;

	if (sscanf(traddr, "%x:%x:%x.%x%c", &dom, &bus, &dev, &fn, &tail) != 4) {
		dom = 0;
		if (sscanf(traddr, "%x:%x.%x%c", &bus, &dev, &fn, &tail) != 3) {
			return -EINVAL;
		}
	}
	if (dom > 0xffff || bus > 0xff || dev > 0x1f || fn > 7) {
		return -EINVAL;
	}
	snprintf(traddr, len, "%04x:%02x:%02x.%x", dom, bus, dev, fn);
	return 0;
}

/* Keys SPDK's tools put in the same string for their own use: accepted and left to them. */
static const char *const g_trid_foreign_keys[] = {"ns",	       "hostnqn",  "hostaddr",
						  "hostsvcid", "priority", "alt_traddr"};

static int trid_set(struct plx_nvme_trid *trid, const char *key, const char *val, bool *have_adrfam,
		    char *err)
{
	size_t i;

#define TRID_COPY(field)                                                                           \
	do {                                                                                       \
		if (strlen(val) >= sizeof(trid->field)) {                                          \
			snprintf(err, PLX_NVME_ERR_LEN, "%s: value too long", key);                \
			return -EINVAL;                                                            \
		}                                                                                  \
		snprintf(trid->field, sizeof(trid->field), "%s", val);                             \
	} while (0)

	if (strcasecmp(key, "trtype") == 0) {
		for (i = 0; i < sizeof(g_trtypes) / sizeof(g_trtypes[0]); i++) {
			if (strcasecmp(val, g_trtypes[i].name) == 0) {
				trid->trtype = g_trtypes[i].type;
				snprintf(trid->trstring, sizeof(trid->trstring), "%s",
					 g_trtypes[i].name);
				return 0;
			}
		}
		snprintf(err, PLX_NVME_ERR_LEN, "trtype: unknown transport type '%.64s'", val);
		return -EINVAL;
	}
	if (strcasecmp(key, "adrfam") == 0) {
		for (i = 0; i < sizeof(g_adrfams) / sizeof(g_adrfams[0]); i++) {
			if (strcasecmp(val, g_adrfams[i].name) == 0) {
				trid->adrfam = g_adrfams[i].fam;
				*have_adrfam = true;
				return 0;
			}
		}
		snprintf(err, PLX_NVME_ERR_LEN, "adrfam: unknown address family '%.64s'", val);
		return -EINVAL;
	}
	if (strcasecmp(key, "traddr") == 0) {
		TRID_COPY(traddr);
		return 0;
	}
	if (strcasecmp(key, "trsvcid") == 0) {
		TRID_COPY(trsvcid);
		return 0;
	}
	if (strcasecmp(key, "subnqn") == 0) {
		TRID_COPY(subnqn);
		return 0;
	}
#undef TRID_COPY
	for (i = 0; i < sizeof(g_trid_foreign_keys) / sizeof(g_trid_foreign_keys[0]); i++) {
		if (strcasecmp(key, g_trid_foreign_keys[i]) == 0) {
			return 0;
		}
	}
	snprintf(err, PLX_NVME_ERR_LEN, "%.64s: unknown key", key);
	return -EINVAL;
}

/* What a parsed trid needs beyond its syntax: a transport, an address, a usable port. */
static int trid_check(struct plx_nvme_trid *trid, bool have_adrfam, char *err)
{
	char *end;
	long port;

	if (trid->trtype == 0) {
		snprintf(err, PLX_NVME_ERR_LEN, "trtype: missing");
		return -EINVAL;
	}
	if (trid->trtype == PLX_NVME_TRTYPE_PCIE) {
		/* An empty PCIe address means every controller (probe). */
		if (trid->traddr[0] != '\0' &&
		    trid_normalize_pci(trid->traddr, sizeof(trid->traddr)) != 0) {
			snprintf(err, PLX_NVME_ERR_LEN, "traddr: '%.64s' is not a PCI address",
				 trid->traddr);
			return -EINVAL;
		}
		return 0;
	}
	if (trid->traddr[0] == '\0') {
		snprintf(err, PLX_NVME_ERR_LEN, "traddr: missing");
		return -EINVAL;
	}
	if (!have_adrfam) {
		trid->adrfam =
		    strchr(trid->traddr, ':') != NULL ? PLX_NVMF_ADRFAM_IPV6 : PLX_NVMF_ADRFAM_IPV4;
	}
	if (trid->trsvcid[0] != '\0') {
		port = strtol(trid->trsvcid, &end, 10);
		if (trid->trtype == PLX_NVMF_TRTYPE_TCP &&
		    (*end != '\0' || port <= 0 || port > 65535)) {
			snprintf(err, PLX_NVME_ERR_LEN, "trsvcid: '%.32s' is not a TCP port",
				 trid->trsvcid);
			return -EINVAL;
		}
	}
	return 0;
}

int plx_nvme_trid_parse(struct plx_nvme_trid *trid, const char *str, char *err)
{
	bool have_adrfam = false;
	const char *p = str;
	int rc;

	memset(trid, 0, sizeof(*trid));
	if (str == NULL) {
		snprintf(err, PLX_NVME_ERR_LEN, "trtype: missing");
		return -EINVAL;
	}
	while (*p != '\0') {
		char key[32], val[PLX_NVMF_TRADDR_MAX_LEN + 1];
		size_t klen, vlen;

		p += strspn(p, " \t\n");
		if (*p == '\0') {
			break;
		}
		/* The key ends at the first ':' or '='; a PCI address keeps its own colons. */
		klen = strcspn(p, ":= \t\n");
		if (p[klen] != ':' && p[klen] != '=') {
			snprintf(err, PLX_NVME_ERR_LEN, "%.*s: expected key:value",
				 (int)PLX_MIN(klen, (size_t)64), p);
			return -EINVAL;
		}
		if (klen == 0 || klen >= sizeof(key)) {
			snprintf(err, PLX_NVME_ERR_LEN, "'%.*s': bad key",
				 (int)PLX_MIN(klen, (size_t)64), p);
			return -EINVAL;
		}
		memcpy(key, p, klen);
		key[klen] = '\0';
		p += klen + 1;
		vlen = strcspn(p, " \t\n");
		if (vlen == 0 || vlen >= sizeof(val)) {
			snprintf(err, PLX_NVME_ERR_LEN, "%s: %s value", key,
				 vlen == 0 ? "missing" : "too long a");
			return -EINVAL;
		}
		memcpy(val, p, vlen);
		val[vlen] = '\0';
		p += vlen;
		rc = trid_set(trid, key, val, &have_adrfam, err);
		if (rc != 0) {
			return rc;
		}
	}
	return trid_check(trid, have_adrfam, err);
}
