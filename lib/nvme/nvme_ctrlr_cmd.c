/* SPDX-License-Identifier: BSD-3-Clause */
/* Admin commands: raw passthrough and the helpers built on it (field encodings per NVMe 2.0). */
#include <errno.h>

#include "nvme_core.h"

int plx_nvme_ctrlr_cmd_admin_raw(struct plx_nvme_ctrlr *ctrlr, const struct plx_nvme_cmd *cmd,
				 void *buf, uint32_t len, plx_nvme_cmd_cb cb, void *cb_arg)
{
	int rc;

	pthread_mutex_lock(&ctrlr->lock);
	rc = nvme_qpair_submit_cmd(ctrlr->adminq, cmd, buf, len, cb, cb_arg);
	pthread_mutex_unlock(&ctrlr->lock);
	return rc;
}

void nvme_cmd_get_log_page(struct plx_nvme_cmd *cmd, uint8_t lid, uint8_t lsp, bool rae,
			   uint32_t nsid, uint32_t len, uint64_t offset)
{
	uint32_t numd = len / 4 - 1; /* 0's based dword count, split NUMDL / NUMDU */

	*cmd = (struct plx_nvme_cmd){0};
	cmd->opc = PLX_NVME_OPC_GET_LOG_PAGE;
	cmd->nsid = nsid;
	cmd->cdw10 = lid | ((uint32_t)(lsp & 0x7f) << 8) | (rae ? PLX_NVME_LOG_RAE : 0) |
		     ((numd & 0xffff) << 16);
	cmd->cdw11 = numd >> 16;
	cmd->cdw12 = (uint32_t)offset;
	cmd->cdw13 = (uint32_t)(offset >> 32);
}

int plx_nvme_ctrlr_cmd_get_log_page(struct plx_nvme_ctrlr *ctrlr, uint8_t lid, uint32_t nsid,
				    void *buf, uint32_t len, uint64_t offset, plx_nvme_cmd_cb cb,
				    void *cb_arg)
{
	struct plx_nvme_cmd cmd;

	if (len < 4 || len % 4 != 0 || offset % 4 != 0) {
		return -EINVAL;
	}
	nvme_cmd_get_log_page(&cmd, lid, 0, false, nsid, len, offset);
	return nvme_qpair_submit_cmd(ctrlr->adminq, &cmd, buf, len, cb, cb_arg);
}

int plx_nvme_ctrlr_cmd_identify(struct plx_nvme_ctrlr *ctrlr, uint8_t cns, uint32_t nsid, void *buf,
				uint32_t len, plx_nvme_cmd_cb cb, void *cb_arg)
{
	struct plx_nvme_cmd cmd = {0};

	cmd.opc = PLX_NVME_OPC_IDENTIFY;
	cmd.nsid = nsid;
	cmd.cdw10 = cns; /* CNTID (31:16) 0 */
	return nvme_qpair_submit_cmd(ctrlr->adminq, &cmd, buf, len, cb, cb_arg);
}

int plx_nvme_ctrlr_cmd_get_feature(struct plx_nvme_ctrlr *ctrlr, uint8_t fid, uint32_t cdw11,
				   void *buf, uint32_t len, plx_nvme_cmd_cb cb, void *cb_arg)
{
	struct plx_nvme_cmd cmd = {0};

	cmd.opc = PLX_NVME_OPC_GET_FEATURES;
	cmd.cdw10 = fid | ((uint32_t)PLX_NVME_FEAT_SEL_CURRENT << 8);
	cmd.cdw11 = cdw11;
	return nvme_qpair_submit_cmd(ctrlr->adminq, &cmd, buf, len, cb, cb_arg);
}

int plx_nvme_ctrlr_cmd_set_feature(struct plx_nvme_ctrlr *ctrlr, uint8_t fid, uint32_t cdw11,
				   uint32_t cdw12, void *buf, uint32_t len, plx_nvme_cmd_cb cb,
				   void *cb_arg)
{
	struct plx_nvme_cmd cmd = {0};

	cmd.opc = PLX_NVME_OPC_SET_FEATURES;
	cmd.cdw10 = fid; /* SV (bit 31) clear: not saved across power cycles */
	cmd.cdw11 = cdw11;
	cmd.cdw12 = cdw12;
	return nvme_qpair_submit_cmd(ctrlr->adminq, &cmd, buf, len, cb, cb_arg);
}
