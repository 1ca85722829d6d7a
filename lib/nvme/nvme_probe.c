/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Finding controllers: PCIe functions through the transport's scan, NVMe-oF subsystems
 * through a discovery controller's log page (NVMe-oF 1.1, 5.3), or one named subsystem.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nvme_core.h"
#include "pollux/env.h"
#include "pollux/log.h"

#define NVME_DISCOVERY_RETRIES 4

struct nvme_probe_ctx {
	void *cb_ctx;
	plx_nvme_probe_cb probe_cb;
	plx_nvme_attach_cb attach_cb;
	int attached;
};

/* Ask the user, connect, hand over: one candidate controller. */
static int nvme_probe_one(void *arg, const struct plx_nvme_trid *trid)
{
	struct nvme_probe_ctx *ctx = arg;
	struct plx_nvme_ctrlr_opts opts;
	struct plx_nvme_ctrlr *ctrlr;
	char err[PLX_NVME_ERR_LEN];

	plx_nvme_ctrlr_get_default_opts(&opts);
	if (ctx->probe_cb != NULL && !ctx->probe_cb(ctx->cb_ctx, trid, &opts)) {
		return 0;
	}
	ctrlr = plx_nvme_connect(trid, &opts, err);
	if (ctrlr == NULL) {
		/* One unreachable subsystem does not stop the others. */
		return 0;
	}
	ctx->attached++;
	if (ctx->attach_cb != NULL) {
		ctx->attach_cb(ctx->cb_ctx, trid, ctrlr, &opts);
	}
	return 0;
}

/* Copy a space-padded, maybe unterminated field into a C string. */
static void nvme_copy_padded(char *dst, size_t dst_len, const char *src, size_t src_len)
{
	size_t n = strnlen(src, src_len);

	while (n > 0 && src[n - 1] == ' ') {
		n--;
	}
	n = PLX_MIN(n, dst_len - 1);
	memcpy(dst, src, n);
	dst[n] = '\0';
}

static void nvme_discovery_entry_to_trid(const struct plx_nvmf_discovery_log_page_entry *e,
					 struct plx_nvme_trid *trid)
{
	memset(trid, 0, sizeof(*trid));
	trid->trtype = e->trtype;
	trid->adrfam = (enum plx_nvmf_adrfam)e->adrfam;
	snprintf(trid->trstring, sizeof(trid->trstring), "%s", plx_nvme_trtype_str(e->trtype));
	nvme_copy_padded(trid->traddr, sizeof(trid->traddr), e->traddr, sizeof(e->traddr));
	nvme_copy_padded(trid->trsvcid, sizeof(trid->trsvcid), e->trsvcid, sizeof(e->trsvcid));
	nvme_copy_padded(trid->subnqn, sizeof(trid->subnqn), e->subnqn, sizeof(e->subnqn));
}

/*
 * The whole discovery log, consistent: read the header, then everything, and start over when
 * the generation counter moved meanwhile. *out is plx_dma memory the caller frees.
 */
static int nvme_read_discovery_log(struct plx_nvme_ctrlr *ctrlr,
				   struct plx_nvmf_discovery_log_page **out, char *err)
{
	struct plx_nvmf_discovery_log_page *hdr, *log = NULL;
	struct plx_nvme_cpl cpl;
	uint64_t len;
	int rc = -EAGAIN;

	hdr = plx_dma_zmalloc(sizeof(*hdr), 4096);
	if (hdr == NULL) {
		return -ENOMEM;
	}
	for (int attempt = 0; attempt < NVME_DISCOVERY_RETRIES && rc == -EAGAIN; attempt++) {
		rc = nvme_ctrlr_get_log_sync(ctrlr, PLX_NVME_LOG_DISCOVERY, 0, false, 0, hdr,
					     sizeof(*hdr), &cpl);
		if (rc != 0) {
			break;
		}
		len = sizeof(*hdr) + hdr->numrec * sizeof(struct plx_nvmf_discovery_log_page_entry);
		if (hdr->numrec > 4096) {
			rc = -E2BIG;
			break;
		}
		plx_dma_free(log);
		log = plx_dma_zmalloc(len, 4096);
		if (log == NULL) {
			rc = -ENOMEM;
			break;
		}
		rc = nvme_ctrlr_get_log_sync(ctrlr, PLX_NVME_LOG_DISCOVERY, 0, false, 0, log,
					     (uint32_t)len, &cpl);
		if (rc == 0 && (log->genctr != hdr->genctr || log->numrec != hdr->numrec)) {
			rc = -EAGAIN;
		}
	}
	plx_dma_free(hdr);
	if (rc != 0) {
		nvme_format_err(err, "Get Log Page Discovery", rc, &cpl);
		plx_dma_free(log);
		return rc;
	}
	*out = log;
	return 0;
}

static int nvme_probe_discovery(const struct plx_nvme_trid *trid, struct nvme_probe_ctx *ctx)
{
	struct plx_nvme_trid dtrid = *trid, etrid;
	struct plx_nvmf_discovery_log_page *log = NULL;
	struct plx_nvme_ctrlr_opts opts;
	struct plx_nvme_ctrlr *ctrlr;
	char err[PLX_NVME_ERR_LEN];
	int rc;

	snprintf(dtrid.subnqn, sizeof(dtrid.subnqn), "%s", PLX_NVMF_DISCOVERY_NQN);
	plx_nvme_ctrlr_get_default_opts(&opts);
	ctrlr = plx_nvme_connect(&dtrid, &opts, err);
	if (ctrlr == NULL) {
		return -ENXIO;
	}
	rc = nvme_read_discovery_log(ctrlr, &log, err);
	plx_nvme_detach(ctrlr);
	if (rc != 0) {
		PLX_ERRLOG("%s %s: %s\n", trid->traddr, trid->trsvcid, err);
		return rc;
	}
	for (uint64_t i = 0; i < log->numrec; i++) {
		/* Referrals to other discovery services are not followed. */
		if (log->entries[i].subtype != PLX_NVMF_SUBTYPE_NVME) {
			continue;
		}
		nvme_discovery_entry_to_trid(&log->entries[i], &etrid);
		if (nvme_transport_find(etrid.trtype) == NULL) {
			PLX_WARNLOG("discovery entry %s %s: no %s transport\n", etrid.traddr,
				    etrid.subnqn, etrid.trstring);
			continue;
		}
		nvme_probe_one(ctx, &etrid);
	}
	plx_dma_free(log);
	return ctx->attached;
}

int plx_nvme_probe(const struct plx_nvme_trid *trid, void *cb_ctx, plx_nvme_probe_cb probe_cb,
		   plx_nvme_attach_cb attach_cb)
{
	struct nvme_probe_ctx ctx = {cb_ctx, probe_cb, attach_cb, 0};
	const struct nvme_transport_ops *t = nvme_transport_find(trid->trtype);
	int rc;

	if (t == NULL) {
		PLX_ERRLOG("no NVMe transport for trtype %d\n", trid->trtype);
		return -ENOTSUP;
	}
	if (t->scan != NULL) {
		rc = t->scan(trid, nvme_probe_one, &ctx);
		return rc < 0 ? rc : ctx.attached;
	}
	if (trid->subnqn[0] == '\0' || strcmp(trid->subnqn, PLX_NVMF_DISCOVERY_NQN) == 0) {
		return nvme_probe_discovery(trid, &ctx);
	}
	nvme_probe_one(&ctx, trid);
	return ctx.attached;
}
