/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Completion status names and retry policy, one table per status code type. Each row says
 * what a code is called and whether resubmitting the same command on the same queue can help
 * (a transient condition); DNR always overrides that.
 */
#include <stdio.h>

#include "nvme_core.h"

struct nvme_status_desc {
	uint8_t sc;
	bool retryable;
	const char *name;
};

static const struct nvme_status_desc g_generic[] = {
    {PLX_NVME_SC_SUCCESS, false, "SUCCESS"},
    {PLX_NVME_SC_INVALID_OPCODE, false, "INVALID OPCODE"},
    {PLX_NVME_SC_INVALID_FIELD, false, "INVALID FIELD"},
    {PLX_NVME_SC_COMMAND_ID_CONFLICT, false, "COMMAND ID CONFLICT"},
    {PLX_NVME_SC_DATA_TRANSFER_ERROR, false, "DATA TRANSFER ERROR"},
    {PLX_NVME_SC_ABORTED_POWER_LOSS, false, "ABORTED - POWER LOSS"},
    {PLX_NVME_SC_INTERNAL_DEVICE_ERROR, false, "INTERNAL DEVICE ERROR"},
    /* What our own timeout handling produces: the command may well succeed a second time. */
    {PLX_NVME_SC_ABORTED_BY_REQUEST, true, "ABORTED - BY REQUEST"},
    {PLX_NVME_SC_ABORTED_SQ_DELETION, false, "ABORTED - SQ DELETION"},
    {PLX_NVME_SC_ABORTED_FAILED_FUSED, false, "ABORTED - FAILED FUSED"},
    {PLX_NVME_SC_ABORTED_MISSING_FUSED, false, "ABORTED - MISSING FUSED"},
    {PLX_NVME_SC_INVALID_NAMESPACE_OR_FORMAT, false, "INVALID NAMESPACE OR FORMAT"},
    {PLX_NVME_SC_COMMAND_SEQUENCE_ERROR, false, "COMMAND SEQUENCE ERROR"},
    {PLX_NVME_SC_INVALID_SGL_SEG_DESCRIPTOR, false, "INVALID SGL SEGMENT DESCRIPTOR"},
    {PLX_NVME_SC_INVALID_NUM_SGL_DESCRIPTORS, false, "INVALID NUMBER OF SGL DESCRIPTORS"},
    {PLX_NVME_SC_DATA_SGL_LENGTH_INVALID, false, "DATA SGL LENGTH INVALID"},
    {PLX_NVME_SC_METADATA_SGL_LENGTH_INVALID, false, "METADATA SGL LENGTH INVALID"},
    {PLX_NVME_SC_SGL_DESCRIPTOR_TYPE_INVALID, false, "SGL DESCRIPTOR TYPE INVALID"},
    {PLX_NVME_SC_INVALID_CONTROLLER_MEM_BUF, false, "INVALID CONTROLLER MEMORY BUFFER"},
    {PLX_NVME_SC_INVALID_PRP_OFFSET, false, "INVALID PRP OFFSET"},
    {PLX_NVME_SC_ATOMIC_WRITE_UNIT_EXCEEDED, false, "ATOMIC WRITE UNIT EXCEEDED"},
    {PLX_NVME_SC_OPERATION_DENIED, false, "OPERATION DENIED"},
    {PLX_NVME_SC_INVALID_SGL_OFFSET, false, "INVALID SGL OFFSET"},
    {PLX_NVME_SC_HOSTID_INCONSISTENT_FORMAT, false, "HOST IDENTIFIER INCONSISTENT FORMAT"},
    {PLX_NVME_SC_KEEP_ALIVE_EXPIRED, false, "KEEP ALIVE TIMER EXPIRED"},
    {PLX_NVME_SC_KEEP_ALIVE_INVALID, false, "KEEP ALIVE TIMEOUT INVALID"},
    {PLX_NVME_SC_ABORTED_PREEMPT, false, "ABORTED - PREEMPT AND ABORT"},
    {PLX_NVME_SC_SANITIZE_FAILED, false, "SANITIZE FAILED"},
    {PLX_NVME_SC_SANITIZE_IN_PROGRESS, false, "SANITIZE IN PROGRESS"},
    {PLX_NVME_SC_SGL_DATA_BLOCK_GRANULARITY_INVALID, false, "SGL DATA BLOCK GRANULARITY INVALID"},
    {PLX_NVME_SC_COMMAND_INVALID_IN_CMB, false, "COMMAND NOT SUPPORTED FOR QUEUE IN CMB"},
    {PLX_NVME_SC_NAMESPACE_IS_WRITE_PROTECTED, false, "NAMESPACE IS WRITE PROTECTED"},
    {PLX_NVME_SC_COMMAND_INTERRUPTED, true, "COMMAND INTERRUPTED"},
    {PLX_NVME_SC_TRANSIENT_TRANSPORT_ERROR, true, "TRANSIENT TRANSPORT ERROR"},
    {PLX_NVME_SC_LBA_OUT_OF_RANGE, false, "LBA OUT OF RANGE"},
    {PLX_NVME_SC_CAPACITY_EXCEEDED, false, "CAPACITY EXCEEDED"},
    {PLX_NVME_SC_NAMESPACE_NOT_READY, true, "NAMESPACE NOT READY"},
    {PLX_NVME_SC_RESERVATION_CONFLICT, false, "RESERVATION CONFLICT"},
    {PLX_NVME_SC_FORMAT_IN_PROGRESS, false, "FORMAT IN PROGRESS"},
};

/* Command specific codes of the admin and NVM command sets. */
static const struct nvme_status_desc g_command_specific[] = {
    {PLX_NVME_SC_COMPLETION_QUEUE_INVALID, false, "COMPLETION QUEUE INVALID"},
    {PLX_NVME_SC_INVALID_QUEUE_IDENTIFIER, false, "INVALID QUEUE IDENTIFIER"},
    {PLX_NVME_SC_INVALID_QUEUE_SIZE, false, "INVALID QUEUE SIZE"},
    {PLX_NVME_SC_ABORT_COMMAND_LIMIT_EXCEEDED, false, "ABORT COMMAND LIMIT EXCEEDED"},
    {PLX_NVME_SC_ASYNC_EVENT_REQUEST_LIMIT_EXCEEDED, false,
     "ASYNCHRONOUS EVENT REQUEST LIMIT EXCEEDED"},
    {PLX_NVME_SC_INVALID_FIRMWARE_SLOT, false, "INVALID FIRMWARE SLOT"},
    {PLX_NVME_SC_INVALID_FIRMWARE_IMAGE, false, "INVALID FIRMWARE IMAGE"},
    {PLX_NVME_SC_INVALID_INTERRUPT_VECTOR, false, "INVALID INTERRUPT VECTOR"},
    {PLX_NVME_SC_INVALID_LOG_PAGE, false, "INVALID LOG PAGE"},
    {PLX_NVME_SC_INVALID_FORMAT, false, "INVALID FORMAT"},
    {PLX_NVME_SC_INVALID_QUEUE_DELETION, false, "INVALID QUEUE DELETION"},
    {PLX_NVME_SC_FEATURE_ID_NOT_SAVEABLE, false, "FEATURE IDENTIFIER NOT SAVEABLE"},
    {PLX_NVME_SC_FEATURE_NOT_CHANGEABLE, false, "FEATURE NOT CHANGEABLE"},
    {PLX_NVME_SC_FEATURE_NOT_NAMESPACE_SPECIFIC, false, "FEATURE NOT NAMESPACE SPECIFIC"},
    {PLX_NVME_SC_NAMESPACE_ID_UNAVAILABLE, false, "NAMESPACE IDENTIFIER UNAVAILABLE"},
    {PLX_NVME_SC_NAMESPACE_ALREADY_ATTACHED, false, "NAMESPACE ALREADY ATTACHED"},
    {PLX_NVME_SC_NAMESPACE_NOT_ATTACHED, false, "NAMESPACE NOT ATTACHED"},
    {PLX_NVME_SC_CONFLICTING_ATTRIBUTES, false, "CONFLICTING ATTRIBUTES"},
    {PLX_NVME_SC_INVALID_PROTECTION_INFO, false, "INVALID PROTECTION INFORMATION"},
    {PLX_NVME_SC_ATTEMPTED_WRITE_TO_RO_RANGE, false, "ATTEMPTED WRITE TO READ ONLY RANGE"},
};

/* Command specific codes of the fabrics commands (Connect, Property Get/Set, ...). */
static const struct nvme_status_desc g_fabrics[] = {
    {PLX_NVMF_SC_INCOMPATIBLE_FORMAT, false, "INCOMPATIBLE FORMAT"},
    {PLX_NVMF_SC_CONTROLLER_BUSY, false, "CONTROLLER BUSY"},
    {PLX_NVMF_SC_INVALID_PARAM, false, "INVALID PARAMETERS"},
    {PLX_NVMF_SC_RESTART_DISCOVERY, false, "RESTART DISCOVERY"},
    {PLX_NVMF_SC_INVALID_HOST, false, "INVALID HOST"},
    {PLX_NVMF_SC_INVALID_QUEUE_TYPE, false, "INVALID QUEUE TYPE"},
    {PLX_NVMF_SC_LOG_RESTART_DISCOVERY, false, "DISCOVERY RESTART"},
    {PLX_NVMF_SC_AUTH_REQUIRED, false, "AUTHENTICATION REQUIRED"},
};

/*
 * The codes both sets use: without the opcode the name cannot be known, so say both (the
 * NVM meaning first).
 */
static const struct nvme_status_desc g_command_specific_shared[] = {
    {0x80, false, "CONFLICTING ATTRIBUTES / INCOMPATIBLE FORMAT"},
    {0x81, false, "INVALID PROTECTION INFORMATION / CONTROLLER BUSY"},
    {0x82, false, "ATTEMPTED WRITE TO READ ONLY RANGE / INVALID PARAMETERS"},
};

static const struct nvme_status_desc g_media[] = {
    {PLX_NVME_SC_WRITE_FAULTS, false, "WRITE FAULTS"},
    {PLX_NVME_SC_UNRECOVERED_READ_ERROR, false, "UNRECOVERED READ ERROR"},
    {PLX_NVME_SC_GUARD_CHECK_ERROR, false, "END-TO-END GUARD CHECK ERROR"},
    {PLX_NVME_SC_APPLICATION_TAG_CHECK_ERROR, false, "END-TO-END APPLICATION TAG CHECK ERROR"},
    {PLX_NVME_SC_REFERENCE_TAG_CHECK_ERROR, false, "END-TO-END REFERENCE TAG CHECK ERROR"},
    {PLX_NVME_SC_COMPARE_FAILURE, false, "COMPARE FAILURE"},
    {PLX_NVME_SC_ACCESS_DENIED, false, "ACCESS DENIED"},
    {PLX_NVME_SC_DEALLOCATED_OR_UNWRITTEN_BLOCK, false, "DEALLOCATED OR UNWRITTEN LOGICAL BLOCK"},
};

/*
 * Path errors: a transition or a glitch inside the controller can clear by itself; an
 * inaccessible or lost path, or an error the host raised, is for multipath to act on.
 */
static const struct nvme_status_desc g_path[] = {
    {PLX_NVME_SC_INTERNAL_PATH_ERROR, true, "INTERNAL PATH ERROR"},
    {PLX_NVME_SC_ASYMMETRIC_ACCESS_PERSISTENT_LOSS, false, "ASYMMETRIC ACCESS PERSISTENT LOSS"},
    {PLX_NVME_SC_ASYMMETRIC_ACCESS_INACCESSIBLE, false, "ASYMMETRIC ACCESS INACCESSIBLE"},
    {PLX_NVME_SC_ASYMMETRIC_ACCESS_TRANSITION, true, "ASYMMETRIC ACCESS TRANSITION"},
    {PLX_NVME_SC_CONTROLLER_PATH_ERROR, true, "CONTROLLER PATHING ERROR"},
    {PLX_NVME_SC_HOST_PATH_ERROR, false, "HOST PATHING ERROR"},
    {PLX_NVME_SC_ABORTED_BY_HOST, false, "COMMAND ABORTED BY HOST"},
};

struct nvme_status_table {
	const struct nvme_status_desc *rows;
	size_t count;
};

#define TABLE(t)                                                                                   \
	{                                                                                          \
		t, PLX_COUNTOF(t)                                                                  \
	}

static const struct nvme_status_desc *nvme_status_find(const struct nvme_status_table *tables,
						       size_t ntables, uint8_t sc)
{
	for (size_t t = 0; t < ntables; t++) {
		for (size_t i = 0; i < tables[t].count; i++) {
			if (tables[t].rows[i].sc == sc) {
				return &tables[t].rows[i];
			}
		}
	}
	return NULL;
}

/* The row for a status; fabrics true resolves the shared command specific codes. */
static const struct nvme_status_desc *nvme_status_lookup(const struct plx_nvme_status *status,
							 bool fabrics)
{
	static const struct nvme_status_table generic[] = {TABLE(g_generic)};
	static const struct nvme_status_table nvm_cs[] = {
	    TABLE(g_command_specific_shared), TABLE(g_command_specific), TABLE(g_fabrics)};
	static const struct nvme_status_table fabrics_cs[] = {TABLE(g_fabrics),
							      TABLE(g_command_specific)};
	static const struct nvme_status_table media[] = {TABLE(g_media)};
	static const struct nvme_status_table path[] = {TABLE(g_path)};

	switch (status->sct) {
	case PLX_NVME_SCT_GENERIC:
		return nvme_status_find(generic, PLX_COUNTOF(generic), status->sc);
	case PLX_NVME_SCT_COMMAND_SPECIFIC:
		return fabrics ? nvme_status_find(fabrics_cs, PLX_COUNTOF(fabrics_cs), status->sc)
			       : nvme_status_find(nvm_cs, PLX_COUNTOF(nvm_cs), status->sc);
	case PLX_NVME_SCT_MEDIA_ERROR:
		return nvme_status_find(media, PLX_COUNTOF(media), status->sc);
	case PLX_NVME_SCT_PATH:
		return nvme_status_find(path, PLX_COUNTOF(path), status->sc);
	default:
		return NULL;
	}
}

static const char *nvme_status_name(const struct plx_nvme_status *status, bool fabrics)
{
	static __thread char unknown[40];
	const struct nvme_status_desc *desc = nvme_status_lookup(status, fabrics);

	if (desc != NULL) {
		return desc->name;
	}
	snprintf(unknown, sizeof(unknown), "UNKNOWN (sct %u sc 0x%02x)", (unsigned)status->sct,
		 (unsigned)status->sc);
	return unknown;
}

const char *plx_nvme_status_string(const struct plx_nvme_status *status)
{
	return nvme_status_name(status, false);
}

const char *nvme_status_string_opc(uint8_t opc, const struct plx_nvme_status *status)
{
	return nvme_status_name(status, opc == PLX_NVME_OPC_FABRIC);
}

const char *plx_nvme_sct_string(uint8_t sct)
{
	switch (sct) {
	case PLX_NVME_SCT_GENERIC:
		return "GENERIC";
	case PLX_NVME_SCT_COMMAND_SPECIFIC:
		return "COMMAND SPECIFIC";
	case PLX_NVME_SCT_MEDIA_ERROR:
		return "MEDIA ERROR";
	case PLX_NVME_SCT_PATH:
		return "PATH";
	case PLX_NVME_SCT_VENDOR_SPECIFIC:
		return "VENDOR SPECIFIC";
	default:
		return "RESERVED";
	}
}

bool nvme_status_is_retryable(const struct plx_nvme_status *status)
{
	const struct nvme_status_desc *desc;

	if (status->dnr) {
		return false;
	}
	desc = nvme_status_lookup(status, false);
	return desc != NULL && desc->retryable;
}
