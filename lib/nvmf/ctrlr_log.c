/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Get Log Page (controller thread). Each page is built whole, then the window the host asked
 * for (64-bit byte offset, NUMD dwords) is copied out; bytes past the page read as zero.
 * Reading a page with RAE clear re-arms the asynchronous event that points at it.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "nvmf_internal.h"
#include "pollux/log.h"

static void log_status(struct nvmf_request *req, uint8_t sct, uint8_t sc)
{
	nvmf_request_set_status(req, sct, sc);
	nvmf_request_complete(req);
}

/* Copy page[offset, offset + len) to the host, zero-filling past the page. */
static int log_copy_window(struct nvmf_request *req, const void *page, size_t page_len,
			   uint64_t offset, size_t len)
{
	uint8_t *win = calloc(1, PLX_MAX(len, 1));

	if (win == NULL) {
		return -ENOMEM;
	}
	if (offset < page_len) {
		memcpy(win, (const uint8_t *)page + offset, PLX_MIN(page_len - offset, len));
	}
	nvmf_request_copy_to_iov(req, win, len, 0);
	free(win);
	return 0;
}

static void put_u128(uint8_t dst[16], uint64_t v)
{
	memset(dst, 0, 16);
	memcpy(dst, &v, sizeof(v)); /* little-endian hosts only */
}

static void health_page(struct nvmf_ctrlr *ctrlr, struct plx_nvme_health_information_page *hp)
{
	struct nvmf_io_stat sum = ctrlr->io_stat_departed;
	struct nvmf_qpair *qpair;
	const uint16_t kelvin = 323;

	/* Counters of live qpairs are written by their threads: relaxed reads suffice. */
	TAILQ_FOREACH(qpair, &ctrlr->qpairs, ctrlr_link)
	{
		sum.read_cmds += __atomic_load_n(&qpair->io_stat.read_cmds, __ATOMIC_RELAXED);
		sum.write_cmds += __atomic_load_n(&qpair->io_stat.write_cmds, __ATOMIC_RELAXED);
		sum.bytes_read += __atomic_load_n(&qpair->io_stat.bytes_read, __ATOMIC_RELAXED);
		sum.bytes_written +=
		    __atomic_load_n(&qpair->io_stat.bytes_written, __ATOMIC_RELAXED);
	}
	memset(hp, 0, sizeof(*hp));
	hp->temperature[0] = kelvin & 0xff;
	hp->temperature[1] = kelvin >> 8;
	hp->available_spare = 100;
	hp->available_spare_threshold = 10;
	/* Data units are thousands of 512-byte units, rounded up. */
	put_u128(hp->data_units_read, (sum.bytes_read + 511999) / 512000);
	put_u128(hp->data_units_written, (sum.bytes_written + 511999) / 512000);
	put_u128(hp->host_read_commands, sum.read_cmds);
	put_u128(hp->host_write_commands, sum.write_cmds);
	put_u128(hp->power_cycles, 1);
	put_u128(hp->num_error_info_log_entries, ctrlr->error_count);
}

static void effects_page(struct plx_nvme_cmds_and_effect_log_page *ep)
{
	static const uint8_t admin[] = {
	    PLX_NVME_OPC_GET_LOG_PAGE, PLX_NVME_OPC_IDENTIFY,	  PLX_NVME_OPC_ABORT,
	    PLX_NVME_OPC_SET_FEATURES, PLX_NVME_OPC_GET_FEATURES, PLX_NVME_OPC_ASYNC_EVENT_REQUEST,
	    PLX_NVME_OPC_KEEP_ALIVE,
	};
	static const uint8_t io_read[] = {
	    PLX_NVME_OPC_FLUSH,
	    PLX_NVME_OPC_READ,
	    PLX_NVME_OPC_COMPARE,
	    PLX_NVME_OPC_RESERVATION_REGISTER,
	    PLX_NVME_OPC_RESERVATION_REPORT,
	    PLX_NVME_OPC_RESERVATION_ACQUIRE,
	    PLX_NVME_OPC_RESERVATION_RELEASE,
	};
	static const uint8_t io_write[] = {
	    PLX_NVME_OPC_WRITE,
	    PLX_NVME_OPC_WRITE_ZEROES,
	    PLX_NVME_OPC_DATASET_MANAGEMENT,
	};

	memset(ep, 0, sizeof(*ep));
	for (size_t i = 0; i < PLX_COUNTOF(admin); i++) {
		ep->admin_cmds_supported[admin[i]] = PLX_NVME_CMD_EFFECT_CSUPP;
	}
	for (size_t i = 0; i < PLX_COUNTOF(io_read); i++) {
		ep->io_cmds_supported[io_read[i]] = PLX_NVME_CMD_EFFECT_CSUPP;
	}
	for (size_t i = 0; i < PLX_COUNTOF(io_write); i++) {
		ep->io_cmds_supported[io_write[i]] =
		    PLX_NVME_CMD_EFFECT_CSUPP | PLX_NVME_CMD_EFFECT_LBCC;
	}
}

/* ---- ANA ---- */

static uint32_t ns_group(const struct nvmf_ns *ns)
{
	return ns->anagrpid != 0 ? ns->anagrpid : ns->nsid;
}

size_t nvmf_ctrlr_ana_log(struct nvmf_ctrlr *ctrlr, bool rgo, void *buf, size_t offset, size_t len)
{
	uint32_t max = ctrlr->subsys->max_nsid, ngroups = 0, nns = 0;
	uint32_t *count = calloc((size_t)max + 1, sizeof(uint32_t));
	struct plx_nvme_ana_page *hdr;
	uint8_t *page, *p;
	size_t page_len, n = 0;
	uint64_t change_count = __atomic_load_n(&ctrlr->subsys->ana_change_count, __ATOMIC_RELAXED);

	if (count == NULL) {
		return 0;
	}
	for (uint32_t nsid = 1; nsid <= max; nsid++) {
		struct nvmf_pg_ns *pg_ns = nvmf_ctrlr_pg_ns(ctrlr, nsid);
		uint32_t grp = pg_ns != NULL ? ns_group(pg_ns->ns) : 0;

		if (grp != 0 && grp <= max) {
			ngroups += count[grp]++ == 0;
			nns++;
		}
	}
	page_len = sizeof(*hdr) + (size_t)ngroups * sizeof(struct plx_nvme_ana_group_descriptor) +
		   (rgo ? 0 : (size_t)nns * sizeof(uint32_t));
	page = calloc(1, page_len);
	if (page == NULL) {
		free(count);
		return 0;
	}
	hdr = (struct plx_nvme_ana_page *)page;
	hdr->change_count = change_count;
	hdr->num_ana_group_desc = (uint16_t)ngroups;
	p = page + sizeof(*hdr);
	for (uint32_t grp = 1; grp <= max; grp++) {
		struct plx_nvme_ana_group_descriptor *desc = (void *)p;

		if (count[grp] == 0) {
			continue;
		}
		desc->ana_group_id = grp;
		desc->num_of_nsid = rgo ? 0 : count[grp];
		desc->change_count = change_count;
		desc->ana_state = nvmf_ctrlr_get_ana_state(ctrlr, grp) & 0xf;
		p += sizeof(*desc);
		for (uint32_t nsid = 1; !rgo && nsid <= max; nsid++) {
			struct nvmf_pg_ns *pg_ns = nvmf_ctrlr_pg_ns(ctrlr, nsid);

			if (pg_ns != NULL && ns_group(pg_ns->ns) == grp) {
				memcpy(p, &nsid, sizeof(nsid));
				p += sizeof(nsid);
			}
		}
	}
	if (offset < page_len) {
		n = PLX_MIN(page_len - offset, len);
		memcpy(buf, page + offset, n);
	}
	free(page);
	free(count);
	return n;
}

static int ana_log(struct nvmf_request *req, bool rgo, uint64_t offset, size_t len)
{
	uint8_t *win = calloc(1, PLX_MAX(len, 1));

	if (win == NULL) {
		return -ENOMEM;
	}
	nvmf_ctrlr_ana_log(req->qpair->ctrlr, rgo, win, offset, len);
	nvmf_request_copy_to_iov(req, win, len, 0);
	free(win);
	return 0;
}

/* ---- discovery: built on the app thread, which owns the configuration ---- */

struct disc_log_ctx {
	struct nvmf_request *req;
	struct plx_thread *thread;
	struct nvmf_tgt *tgt;
	char hostnqn[PLX_NVMF_NQN_MAX_LEN + 1];
	struct plx_nvme_trid local;
	uint64_t offset;
	size_t len;
	bool rae;
	uint64_t genctr;
	uint8_t buf[];
};

static void disc_log_done(void *arg)
{
	struct disc_log_ctx *ctx = arg;
	struct nvmf_request *req = ctx->req;
	struct nvmf_ctrlr *ctrlr = req->qpair->ctrlr;

	nvmf_request_copy_to_iov(req, ctx->buf, ctx->len, 0);
	if (ctrlr != NULL) {
		ctrlr->disc_genctr_seen = ctx->genctr;
		if (!ctx->rae) {
			ctrlr->disc_changed_masked = false;
		}
	}
	free(ctx);
	nvmf_request_complete(req);
}

static void disc_log_on_app(void *arg)
{
	struct disc_log_ctx *ctx = arg;

	nvmf_discovery_log_filtered(ctx->tgt, ctx->hostnqn, &ctx->local, ctx->buf, ctx->offset,
				    ctx->len);
	ctx->genctr = ctx->tgt->discovery_genctr;
	if (plx_thread_send_msg(ctx->thread, disc_log_done, ctx) != 0) {
		PLX_ERRLOG("cannot answer a discovery log request\n");
	}
}

static int discovery_log(struct nvmf_request *req, uint64_t offset, size_t len, bool rae)
{
	struct nvmf_ctrlr *ctrlr = req->qpair->ctrlr;
	struct disc_log_ctx *ctx = calloc(1, sizeof(*ctx) + len);

	if (ctx == NULL) {
		return -ENOMEM;
	}
	ctx->req = req;
	ctx->thread = plx_get_thread();
	ctx->tgt = ctrlr->subsys->tgt;
	memcpy(ctx->hostnqn, ctrlr->hostnqn, sizeof(ctx->hostnqn));
	ctx->local = req->qpair->listen_trid;
	ctx->offset = offset;
	ctx->len = len;
	ctx->rae = rae;
	if (plx_thread_send_msg(ctx->tgt->thread, disc_log_on_app, ctx) != 0) {
		free(ctx);
		return -EIO;
	}
	return 0;
}

/* ---- reservation notification ---- */

static int resv_log(struct nvmf_request *req, uint64_t offset, size_t len, bool rae)
{
	struct nvmf_ctrlr *ctrlr = req->qpair->ctrlr;
	struct nvmf_reservation_log *log = STAILQ_FIRST(&ctrlr->resv_log);
	struct plx_nvme_reservation_notification_log page;
	int rc;

	memset(&page, 0, sizeof(page));
	if (log != NULL) {
		STAILQ_REMOVE_HEAD(&ctrlr->resv_log, link);
		ctrlr->num_resv_log--;
		page = log->log;
		page.num_avail_log_pages = (uint8_t)PLX_MIN(ctrlr->num_resv_log, 255u);
		free(log);
	}
	rc = log_copy_window(req, &page, sizeof(page), offset, len);
	if (rc == 0 && !rae && !STAILQ_EMPTY(&ctrlr->resv_log)) {
		/* More entries wait: tell the host again. */
		nvmf_ctrlr_raise_event(
		    ctrlr, plx_nvme_async_event_cdw0(PLX_NVME_ASYNC_EVENT_TYPE_IO,
						     PLX_NVME_ASYNC_EVENT_RESERVATION_LOG_AVAIL,
						     PLX_NVME_LOG_RESERVATION_NOTIFICATION));
	}
	return rc;
}

static void supported_logs(uint32_t *lsupp)
{
	static const uint8_t lids[] = {
	    PLX_NVME_LOG_SUPPORTED_LOG_PAGES,
	    PLX_NVME_LOG_ERROR,
	    PLX_NVME_LOG_HEALTH_INFORMATION,
	    PLX_NVME_LOG_FIRMWARE_SLOT,
	    PLX_NVME_LOG_CHANGED_NS_LIST,
	    PLX_NVME_LOG_COMMAND_EFFECTS,
	    PLX_NVME_LOG_ASYMMETRIC_NAMESPACE_ACCESS,
	    PLX_NVME_LOG_RESERVATION_NOTIFICATION,
	};

	for (size_t i = 0; i < PLX_COUNTOF(lids); i++) {
		lsupp[lids[i]] = 1;
	}
}

/* Pages built in a 4 KiB buffer; -ENOENT for an unknown page. */
static int small_page(struct nvmf_request *req, uint8_t lid, uint8_t *buf, size_t *page_len,
		      bool rae)
{
	struct nvmf_ctrlr *ctrlr = req->qpair->ctrlr;

	switch (lid) {
	case PLX_NVME_LOG_SUPPORTED_LOG_PAGES:
		supported_logs((uint32_t *)buf);
		*page_len = 1024;
		return 0;
	case PLX_NVME_LOG_ERROR:
		*page_len = sizeof(ctrlr->error_log);
		memcpy(buf, ctrlr->error_log, *page_len);
		return 0;
	case PLX_NVME_LOG_HEALTH_INFORMATION:
		health_page(ctrlr, (struct plx_nvme_health_information_page *)buf);
		*page_len = sizeof(struct plx_nvme_health_information_page);
		return 0;
	case PLX_NVME_LOG_FIRMWARE_SLOT: {
		struct plx_nvme_firmware_page *fw = (struct plx_nvme_firmware_page *)buf;
		size_t n = strlen(NVMF_FIRMWARE_REV);

		fw->afi = 1;
		memset(fw->revision[0], ' ', sizeof(fw->revision[0]));
		memcpy(fw->revision[0], NVMF_FIRMWARE_REV, PLX_MIN(n, sizeof(fw->revision[0])));
		*page_len = sizeof(*fw);
		return 0;
	}
	case PLX_NVME_LOG_CHANGED_NS_LIST:
		memcpy(buf, &ctrlr->changed_ns_list, sizeof(ctrlr->changed_ns_list));
		*page_len = sizeof(ctrlr->changed_ns_list);
		memset(&ctrlr->changed_ns_list, 0, sizeof(ctrlr->changed_ns_list));
		ctrlr->changed_ns_count = 0;
		if (!rae) {
			ctrlr->ns_changed_masked = false;
		}
		return 0;
	case PLX_NVME_LOG_COMMAND_EFFECTS:
		effects_page((struct plx_nvme_cmds_and_effect_log_page *)buf);
		*page_len = sizeof(struct plx_nvme_cmds_and_effect_log_page);
		return 0;
	default:
		return -ENOENT;
	}
}

void nvmf_ctrlr_get_log_page(struct nvmf_request *req)
{
	struct nvmf_ctrlr *ctrlr = req->qpair->ctrlr;
	const struct plx_nvme_cmd *cmd = req->cmd;
	uint8_t lid = cmd->cdw10 & 0xff, lsp = (cmd->cdw10 >> 8) & 0x7f;
	bool rae = (cmd->cdw10 & PLX_NVME_LOG_RAE) != 0;
	uint64_t numd = ((uint64_t)(cmd->cdw11 & 0xffff) << 16 | (cmd->cdw10 >> 16)) + 1;
	uint64_t offset = (uint64_t)cmd->cdw13 << 32 | cmd->cdw12;
	size_t len = (size_t)PLX_MIN(numd * 4, (uint64_t)req->length), page_len = 0;
	uint64_t buf[4096 / sizeof(uint64_t)];
	int rc;

	if ((offset & 3) != 0 || req->length == 0) {
		log_status(req, PLX_NVME_SCT_GENERIC, PLX_NVME_SC_INVALID_FIELD);
		return;
	}
	if (nvmf_ctrlr_is_discovery(ctrlr) != (lid == PLX_NVME_LOG_DISCOVERY)) {
		log_status(req, PLX_NVME_SCT_COMMAND_SPECIFIC, PLX_NVME_SC_INVALID_LOG_PAGE);
		return;
	}
	switch (lid) {
	case PLX_NVME_LOG_DISCOVERY:
		rc = discovery_log(req, offset, len, rae);
		if (rc == 0) {
			return; /* completes on the way back from the app thread */
		}
		break;
	case PLX_NVME_LOG_ASYMMETRIC_NAMESPACE_ACCESS:
		rc = ana_log(req, (lsp & PLX_NVME_ANA_LSP_RGO) != 0, offset, len);
		if (rc == 0 && !rae) {
			ctrlr->ana_changed_masked = false;
		}
		break;
	case PLX_NVME_LOG_RESERVATION_NOTIFICATION:
		rc = resv_log(req, offset, len, rae);
		break;
	default:
		memset(buf, 0, sizeof(buf));
		rc = small_page(req, lid, (uint8_t *)buf, &page_len, rae);
		if (rc == -ENOENT) {
			log_status(req, PLX_NVME_SCT_COMMAND_SPECIFIC,
				   PLX_NVME_SC_INVALID_LOG_PAGE);
			return;
		}
		rc = log_copy_window(req, buf, page_len, offset, len);
		break;
	}
	if (rc != 0) {
		PLX_ERRLOG("Get Log Page 0x%x: %d\n", lid, rc);
		nvmf_request_set_status(req, PLX_NVME_SCT_GENERIC,
					PLX_NVME_SC_INTERNAL_DEVICE_ERROR);
	}
	nvmf_request_complete(req);
}
