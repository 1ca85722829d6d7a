/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * nvme_identify: attach NVMe controllers (NVMe/TCP or PCIe) and print what they say about
 * themselves: Identify Controller, the registers that matter, and every active namespace.
 * -x adds a hex dump of the raw Identify data.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pollux/env.h"
#include "pollux/nvme.h"

#define PROG	  "nvme_identify"
#define MAX_TRIDS 16

static bool g_hex;
static int g_num_attached;
static int g_failed;

static void usage(void)
{
	printf("usage: " PROG " [-r TRID]... [-x]\n"
	       " -r TRID  transport ID, repeatable: 'trtype:tcp adrfam:IPv4 traddr:127.0.0.1\n"
	       "          trsvcid:4420 subnqn:NQN' (a discovery NQN or none: every subsystem\n"
	       "          the discovery controller lists) or 'trtype:pcie traddr:0000:00:04.0'\n"
	       "          (no -r: every PCIe controller bound to vfio-pci or uio_pci_generic)\n"
	       " -x       also hex dump the Identify Controller and Namespace data\n"
	       " -h       this help\n");
}

/* ---- formatting ---- */

static void hexdump(const void *data, size_t len)
{
	const uint8_t *p = data;

	for (size_t off = 0; off < len; off += 16) {
		printf("%08zx ", off);
		for (size_t i = 0; i < 16 && off + i < len; i++) {
			printf(" %02x", p[off + i]);
		}
		printf("  |");
		for (size_t i = 0; i < 16 && off + i < len; i++) {
			char ch = (char)p[off + i];

			putchar(ch >= 0x20 && ch < 0x7f ? ch : '.');
		}
		printf("|\n");
	}
}

/* Identify strings are space padded, not NUL terminated. */
static void print_str(const char *label, const char *s, size_t len)
{
	while (len > 0 && (s[len - 1] == ' ' || s[len - 1] == '\0')) {
		len--;
	}
	printf("%-36s %.*s\n", label, (int)len, s);
}

static bool is_zero(const uint8_t *p, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		if (p[i] != 0) {
			return false;
		}
	}
	return true;
}

static void print_hex_id(const char *label, const uint8_t *p, size_t len)
{
	printf("%-36s ", label);
	if (is_zero(p, len)) {
		printf("(none)\n");
		return;
	}
	for (size_t i = 0; i < len; i++) {
		printf("%02x", p[i]);
	}
	printf("\n");
}

/* A 128-bit little-endian byte count (TNVMCAP): exact below 2^64, else approximate. */
static void print_u128(const char *label, const uint8_t *p)
{
	uint64_t lo, hi;

	memcpy(&lo, p, 8);
	memcpy(&hi, p + 8, 8);
	if (hi == 0) {
		printf("%-36s %" PRIu64 "\n", label, lo);
	} else {
		printf("%-36s %.0f\n", label, (double)hi * 18446744073709551616.0 + (double)lo);
	}
}

static void print_bytes(const char *label, uint64_t blocks, uint32_t block_size)
{
	double bytes = (double)blocks * block_size;
	const char *unit = "B";
	double v = bytes;

	if (v >= 1024.0 * 1024 * 1024 * 1024) {
		v /= 1024.0 * 1024 * 1024 * 1024, unit = "TiB";
	} else if (v >= 1024.0 * 1024 * 1024) {
		v /= 1024.0 * 1024 * 1024, unit = "GiB";
	} else if (v >= 1024.0 * 1024) {
		v /= 1024.0 * 1024, unit = "MiB";
	} else if (v >= 1024.0) {
		v /= 1024.0, unit = "KiB";
	}
	printf("%-36s %" PRIu64 " blocks, %.0f bytes (%.2f %s)\n", label, blocks, bytes, v, unit);
}

static const char *yes(bool v)
{
	return v ? "Supported" : "Not Supported";
}

/* ---- controller ---- */

static void print_oncs(uint16_t oncs)
{
	static const struct {
		uint16_t bit;
		const char *name;
	} names[] = {
	    {PLX_NVME_ONCS_COMPARE, "Compare"},
	    {PLX_NVME_ONCS_WRITE_UNCORRECTABLE, "Write Uncorrectable"},
	    {PLX_NVME_ONCS_DSM, "Dataset Management"},
	    {PLX_NVME_ONCS_WRITE_ZEROES, "Write Zeroes"},
	    {PLX_NVME_ONCS_SET_FEATURES_SAVE, "Set Features Save"},
	    {PLX_NVME_ONCS_RESERVATIONS, "Reservations"},
	    {PLX_NVME_ONCS_TIMESTAMP, "Timestamp"},
	    {PLX_NVME_ONCS_VERIFY, "Verify"},
	    {PLX_NVME_ONCS_COPY, "Copy"},
	};

	printf("Optional NVM Command Support (ONCS 0x%04x)\n", oncs);
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		printf("  %-34s %s\n", names[i].name, yes(oncs & names[i].bit));
	}
}

static void print_sgls(uint32_t sgls)
{
	printf("SGL Support (SGLS 0x%08x)\n", sgls);
	if ((sgls & 3) == 0) {
		printf("  %-34s %s\n", "SGLs", yes(false));
		return;
	}
	printf("  %-34s %s\n", "SGLs", (sgls & 3) == 1 ? "Supported" : "Supported (dword aligned)");
	printf("  %-34s %s\n", "Keyed SGL Data Block", yes(sgls & PLX_NVME_SGLS_KEYED));
	printf("  %-34s %s\n", "SGL Bit Bucket", yes(sgls & PLX_NVME_SGLS_BIT_BUCKET));
	printf("  %-34s %s\n", "SGL Offset", yes(sgls & PLX_NVME_SGLS_OFFSET));
	printf("  %-34s %s\n", "Transport SGL Data Block", yes(sgls & PLX_NVME_SGLS_TRANSPORT));
}

static void print_ana(const struct plx_nvme_ctrlr_data *cd)
{
	printf("Asymmetric Namespace Access (ANA)\n");
	printf("  %-34s %s\n", "ANA Reporting", yes(cd->cmic & PLX_NVME_CMIC_ANA_REPORTING));
	if (!(cd->cmic & PLX_NVME_CMIC_ANA_REPORTING)) {
		return;
	}
	printf("  %-34s %u s\n", "ANA Transition Time", cd->anatt);
	printf("  %-34s %s%s%s%s%s\n", "ANA States Reported",
	       cd->anacap & PLX_NVME_ANACAP_OPTIMIZED ? "optimized " : "",
	       cd->anacap & PLX_NVME_ANACAP_NON_OPTIMIZED ? "non_optimized " : "",
	       cd->anacap & PLX_NVME_ANACAP_INACCESSIBLE ? "inaccessible " : "",
	       cd->anacap & PLX_NVME_ANACAP_PERSISTENT_LOSS ? "persistent_loss " : "",
	       cd->anacap & PLX_NVME_ANACAP_CHANGE ? "change" : "");
	printf("  %-34s %u\n", "ANA Group ID Maximum", cd->anagrpmax);
	printf("  %-34s %u\n", "Number of ANA Group IDs", cd->nanagrpid);
}

static void print_ctrlr(struct plx_nvme_ctrlr *ctrlr)
{
	const struct plx_nvme_ctrlr_data *cd = plx_nvme_ctrlr_get_data(ctrlr);
	const struct plx_nvme_trid *trid = plx_nvme_ctrlr_get_trid(ctrlr);
	union plx_nvme_cap cap = plx_nvme_ctrlr_get_cap(ctrlr);
	union plx_nvme_vs vs = plx_nvme_ctrlr_get_vs(ctrlr);
	bool fabrics = trid->trtype != PLX_NVME_TRTYPE_PCIE;
	uint64_t mps_min = 1ull << (12 + cap.bits.mpsmin);

	printf("=====================================================\n");
	if (fabrics) {
		printf("NVMe over Fabrics controller at %s:%s (%s, %s): %s\n", trid->traddr,
		       trid->trsvcid, plx_nvme_trtype_str(trid->trtype),
		       plx_nvme_adrfam_str(trid->adrfam), trid->subnqn);
	} else {
		printf("NVMe controller at %s\n", trid->traddr);
	}
	printf("=====================================================\n");
	printf("Controller Capabilities/Features\n");
	printf("================================\n");
	printf("%-36s 0x%04x\n", "Vendor ID:", cd->vid);
	printf("%-36s 0x%04x\n", "Subsystem Vendor ID:", cd->ssvid);
	print_str("Serial Number:", cd->sn, sizeof(cd->sn));
	print_str("Model Number:", cd->mn, sizeof(cd->mn));
	print_str("Firmware Version:", cd->fr, sizeof(cd->fr));
	printf("%-36s %02x-%02x-%02x\n", "IEEE OUI Identifier:", cd->ieee[2], cd->ieee[1],
	       cd->ieee[0]);
	printf("%-36s %u (0x%04x)\n", "Controller ID:", cd->cntlid, cd->cntlid);
	printf("%-36s %u.%u.%u\n", "NVMe Specification Version (VS):", vs.bits.mjr, vs.bits.mnr,
	       vs.bits.ter);
	printf("%-36s %s\n", "Controller Type:",
	       cd->cntrltype == 1   ? "I/O"
	       : cd->cntrltype == 2 ? "Discovery"
	       : cd->cntrltype == 3 ? "Administrative"
				    : "not reported");
	printf("%-36s %s port, %s controller\n",
	       "Multi-path I/O:", cd->cmic & PLX_NVME_CMIC_MULTI_PORT ? "multi" : "single",
	       cd->cmic & PLX_NVME_CMIC_MULTI_CTRLR ? "multi" : "single");
	if (cd->mdts == 0) {
		printf("%-36s unlimited\n", "Max Data Transfer Size (MDTS):");
	} else {
		printf("%-36s %" PRIu64 " bytes\n",
		       "Max Data Transfer Size (MDTS):", mps_min << cd->mdts);
	}
	printf("%-36s %u bytes\n",
	       "Max Transfer (driver):", plx_nvme_ctrlr_get_max_xfer_size(ctrlr));
	printf("%-36s %u\n", "Maximum Queue Entries (CAP.MQES+1):", (unsigned)cap.bits.mqes + 1);
	printf("%-36s %u ms\n", "Ready Timeout (CAP.TO):", (unsigned)cap.bits.to * 500);
	printf("%-36s %u\n", "I/O Queues Granted:", plx_nvme_ctrlr_get_num_io_queues(ctrlr));
	printf("%-36s %u\n", "Abort Command Limit:", cd->acl + 1u);
	printf("%-36s %u\n", "Async Event Request Limit:", cd->aerl + 1u);
	if (cd->kas != 0) {
		printf("%-36s %u ms\n", "Keep Alive Granularity:", cd->kas * 100u);
	} else {
		printf("%-36s %s\n", "Keep Alive:", yes(false));
	}
	printf("%-36s %u\n", "Number of Namespaces (NN):", cd->nn);
	print_u128("Total NVM Capacity (bytes):", cd->tnvmcap);
	printf("%-36s %s\n", "Volatile Write Cache:", cd->vwc & 1 ? "Present" : "Not Present");
	printf("%-36s %s\n", "Fused Compare and Write:", yes(cd->fuses & 1));
	print_oncs(cd->oncs);
	print_sgls(cd->sgls);
	print_ana(cd);
	print_str("Subsystem NQN:", cd->subnqn, strnlen(cd->subnqn, sizeof(cd->subnqn)));
	if (fabrics) {
		printf("NVMe over Fabrics Attributes\n");
		printf("  %-34s %u bytes\n", "I/O Command Capsule Size:", cd->ioccsz * 16u);
		printf("  %-34s %u bytes\n", "I/O Response Capsule Size:", cd->iorcsz * 16u);
		printf("  %-34s %u bytes\n", "In Capsule Data Offset:", cd->icdoff * 16u);
		printf("  %-34s %s\n", "Controller Model:", cd->fcatt & 1 ? "Static" : "Dynamic");
		printf("  %-34s %u\n", "Max SGL Data Block Descriptors:", cd->msdbd);
	}
	printf("\n");
	if (g_hex) {
		printf("Identify Controller data (4096 bytes):\n");
		hexdump(cd, sizeof(*cd));
		printf("\n");
	}
}

/* ---- namespaces ---- */

struct sync_cmd {
	bool done;
	struct plx_nvme_cpl cpl;
};

static void sync_cb(void *arg, const struct plx_nvme_cpl *cpl)
{
	struct sync_cmd *s = arg;

	s->cpl = *cpl;
	s->done = true;
}

/* The namespace's UUID from its Identification Descriptor list (CNS 03h), if it has one. */
static bool ns_uuid(struct plx_nvme_ctrlr *ctrlr, uint32_t nsid, uint8_t uuid[16])
{
	struct sync_cmd s = {0};
	uint8_t *list = plx_dma_zmalloc(4096, 4096);
	bool found = false;

	if (list == NULL ||
	    plx_nvme_ctrlr_cmd_identify(ctrlr, PLX_NVME_IDENTIFY_NS_ID_DESCRIPTOR_LIST, nsid, list,
					4096, sync_cb, &s) != 0) {
		plx_dma_free(list);
		return false;
	}
	while (!s.done) {
		if (plx_nvme_ctrlr_process_admin_completions(ctrlr) < 0) {
			/* The library completes the command with an abort status. */
			if (!s.done) {
				plx_dma_free(list);
				return false;
			}
		}
	}
	for (size_t off = 0; !plx_nvme_cpl_is_error(&s.cpl) && off + 4 <= 4096;) {
		const struct plx_nvme_ns_id_desc *d = (const void *)(list + off);

		if (d->nidt == 0 || off + 4 + d->nidl > 4096) {
			break;
		}
		if (d->nidt == PLX_NVME_NIDT_UUID && d->nidl == 16) {
			memcpy(uuid, d->nid, 16);
			found = true;
			break;
		}
		off += 4 + d->nidl;
	}
	plx_dma_free(list);
	return found;
}

static void print_ns(struct plx_nvme_ctrlr *ctrlr, struct plx_nvme_ns *ns)
{
	const struct plx_nvme_ns_data *nd = plx_nvme_ns_get_data(ns);
	const struct plx_nvme_ctrlr_data *cd = plx_nvme_ctrlr_get_data(ctrlr);
	uint32_t ss = plx_nvme_ns_get_sector_size(ns);
	uint8_t uuid[16];

	printf("Namespace ID:%u\n", plx_nvme_ns_get_id(ns));
	printf("=====================================================\n");
	print_bytes("Size (NSZE):", nd->nsze, ss);
	print_bytes("Capacity (NCAP):", nd->ncap, ss);
	print_bytes("Utilization (NUSE):", nd->nuse, ss);
	printf("%-36s %u bytes\n", "Sector Size:", ss);
	printf("%-36s %s\n", "Thin Provisioning:", yes(nd->nsfeat & PLX_NVME_NSFEAT_THIN_PROV));
	printf("%-36s %s\n", "Deallocated Blocks Read:",
	       (nd->dlfeat & 7) == 1   ? "zeroes"
	       : (nd->dlfeat & 7) == 2 ? "all ones"
				       : "not reported");
	printf("%-36s %s\n",
	       "Multi-controller Sharing (NMIC):", nd->nmic & 1 ? "May be shared" : "Private");
	printf("%-36s %s\n", "Reservations:", nd->rescap != 0 ? "Supported" : "Not Supported");
	print_hex_id("NGUID:", nd->nguid, sizeof(nd->nguid));
	print_hex_id("EUI64:", nd->eui64, sizeof(nd->eui64));
	if (ns_uuid(ctrlr, plx_nvme_ns_get_id(ns), uuid)) {
		printf(
		    "%-36s %02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x\n",
		    "UUID:", uuid[0], uuid[1], uuid[2], uuid[3], uuid[4], uuid[5], uuid[6], uuid[7],
		    uuid[8], uuid[9], uuid[10], uuid[11], uuid[12], uuid[13], uuid[14], uuid[15]);
	} else {
		printf("%-36s (none)\n", "UUID:");
	}
	if (cd->cmic & PLX_NVME_CMIC_ANA_REPORTING) {
		printf("%-36s %u (%s)\n", "ANA Group ID:", plx_nvme_ns_get_ana_group_id(ns),
		       plx_nvme_ana_state_str(plx_nvme_ns_get_ana_state(ns)));
	}
	printf("%-36s %u\n", "Number of LBA Formats:", nd->nlbaf + 1u);
	printf("%-36s %u\n", "Current LBA Format:", nd->flbas & 0xf);
	for (uint32_t i = 0; i <= nd->nlbaf && i < 64; i++) {
		const struct plx_nvme_lbaf *f = &nd->lbaf[i];

		printf("LBA Format #%02u: Data Size: %5u  Metadata Size: %5u%s\n", i,
		       f->lbads != 0 ? 1u << f->lbads : 0, f->ms,
		       i == (nd->flbas & 0xfu) ? "  (in use)" : "");
	}
	printf("\n");
	if (g_hex) {
		printf("Identify Namespace data (4096 bytes):\n");
		hexdump(nd, sizeof(*nd));
		printf("\n");
	}
}

static void identify(struct plx_nvme_ctrlr *ctrlr)
{
	uint32_t n = 0;

	print_ctrlr(ctrlr);
	printf("Active Namespaces\n");
	printf("=================\n");
	for (uint32_t nsid = plx_nvme_ctrlr_get_first_active_ns(ctrlr); nsid != 0;
	     nsid = plx_nvme_ctrlr_get_next_active_ns(ctrlr, nsid)) {
		struct plx_nvme_ns *ns = plx_nvme_ctrlr_get_ns(ctrlr, nsid);

		if (ns != NULL) {
			print_ns(ctrlr, ns);
			n++;
		}
	}
	if (n == 0) {
		printf("(none)\n\n");
	}
}

/* ---- attaching ---- */

static bool probe_cb(void *ctx, const struct plx_nvme_trid *trid, struct plx_nvme_ctrlr_opts *opts)
{
	return true;
}

struct attached {
	struct plx_nvme_ctrlr **ctrlrs;
	int num;
	bool nomem;
};

/* Identify after the probe returned: the library is done with the controller by then. */
static void attach_cb(void *ctx, const struct plx_nvme_trid *trid, struct plx_nvme_ctrlr *ctrlr,
		      const struct plx_nvme_ctrlr_opts *opts)
{
	struct attached *a = ctx;
	struct plx_nvme_ctrlr **c = realloc(a->ctrlrs, (a->num + 1) * sizeof(*c));

	if (c == NULL) {
		a->nomem = true;
		plx_nvme_detach(ctrlr);
		return;
	}
	a->ctrlrs = c;
	a->ctrlrs[a->num++] = ctrlr;
}

static void trid_desc(const struct plx_nvme_trid *trid, char *buf, size_t len)
{
	if (trid->trtype == PLX_NVME_TRTYPE_PCIE) {
		snprintf(buf, len, "PCIe %s", trid->traddr[0] != '\0' ? trid->traddr : "(all)");
	} else {
		snprintf(buf, len, "%s %s:%s %s", plx_nvme_trtype_str(trid->trtype), trid->traddr,
			 trid->trsvcid, trid->subnqn[0] != '\0' ? trid->subnqn : "(discovery)");
	}
}

/*
 * A named NVM subsystem: connect directly, so a failure says why. PCIe and discovery: probe
 * and identify every controller found.
 */
static int identify_trid(const struct plx_nvme_trid *trid)
{
	char err[PLX_NVME_ERR_LEN] = "", desc[PLX_NVMF_TRADDR_MAX_LEN + PLX_NVMF_NQN_MAX_LEN + 64];
	struct attached a = {0};
	struct plx_nvme_ctrlr *ctrlr;
	int n;

	trid_desc(trid, desc, sizeof(desc));
	if (trid->trtype != PLX_NVME_TRTYPE_PCIE && trid->subnqn[0] != '\0' &&
	    strcmp(trid->subnqn, PLX_NVMF_DISCOVERY_NQN) != 0) {
		ctrlr = plx_nvme_connect(trid, NULL, err);
		if (ctrlr == NULL) {
			fprintf(stderr, PROG ": cannot connect to %s: %s\n", desc,
				err[0] != '\0' ? err : "unknown error");
			return -ENXIO;
		}
		g_num_attached++;
		identify(ctrlr);
		plx_nvme_detach(ctrlr);
		return 0;
	}
	n = plx_nvme_probe(trid, &a, probe_cb, attach_cb);
	for (int i = 0; i < a.num; i++) {
		g_num_attached++;
		identify(a.ctrlrs[i]);
		plx_nvme_detach(a.ctrlrs[i]);
	}
	free(a.ctrlrs);
	if (n < 0) {
		fprintf(stderr, PROG ": probing %s failed: %s\n", desc, strerror(-n));
		return n;
	}
	if (n == 0 || a.num == 0) {
		fprintf(stderr, PROG ": no NVMe controller found at %s\n", desc);
		return -ENODEV;
	}
	return a.nomem ? -ENOMEM : 0;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {{"help", no_argument, NULL, 'h'},
						 {NULL, 0, NULL, 0}};
	static struct plx_nvme_trid trids[MAX_TRIDS];
	char err[PLX_NVME_ERR_LEN];
	int num_trids = 0, c;

	while ((c = getopt_long(argc, argv, "r:xh", longopts, NULL)) != -1) {
		switch (c) {
		case 'r':
			if (num_trids == MAX_TRIDS) {
				fprintf(stderr, PROG ": at most %d -r options\n", MAX_TRIDS);
				return 1;
			}
			if (plx_nvme_trid_parse(&trids[num_trids], optarg, err) != 0) {
				fprintf(stderr, PROG ": -r '%s': %s\n", optarg, err);
				return 1;
			}
			num_trids++;
			break;
		case 'x':
			g_hex = true;
			break;
		case 'h':
			usage();
			return 0;
		default:
			usage();
			return 1;
		}
	}
	if (optind < argc) {
		fprintf(stderr, PROG ": unexpected argument '%s'\n", argv[optind]);
		return 1;
	}
	if (num_trids == 0) {
		trids[0].trtype = PLX_NVME_TRTYPE_PCIE;
		snprintf(trids[0].trstring, sizeof(trids[0].trstring), "PCIe");
		num_trids = 1;
	}
	plx_env_init(NULL);
	for (int i = 0; i < num_trids; i++) {
		if (identify_trid(&trids[i]) != 0) {
			g_failed++;
		}
	}
	return g_failed != 0 ? 1 : 0;
}
