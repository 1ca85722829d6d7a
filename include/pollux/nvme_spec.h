/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * NVMe data structures as the NVM Express Base Specification 2.0 and the NVM Command Set
 * Specification define them, plus the NVMe over Fabrics commands: submission and completion
 * queue entries, status codes, opcodes, Identify data, log pages, features and properties.
 *
 * Every structure has the exact size and layout of the wire/memory format (static asserts
 * below check the offsets that matter), so it can be copied to and from the wire as is.
 * Multi-byte fields are little-endian on the wire; Pollux runs on little-endian hosts only.
 */
#ifndef POLLUX_NVME_SPEC_H
#define POLLUX_NVME_SPEC_H

#include <assert.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- opcodes ---- */

enum plx_nvme_admin_opc {
	PLX_NVME_OPC_DELETE_IO_SQ = 0x00,
	PLX_NVME_OPC_CREATE_IO_SQ = 0x01,
	PLX_NVME_OPC_GET_LOG_PAGE = 0x02,
	PLX_NVME_OPC_DELETE_IO_CQ = 0x04,
	PLX_NVME_OPC_CREATE_IO_CQ = 0x05,
	PLX_NVME_OPC_IDENTIFY = 0x06,
	PLX_NVME_OPC_ABORT = 0x08,
	PLX_NVME_OPC_SET_FEATURES = 0x09,
	PLX_NVME_OPC_GET_FEATURES = 0x0a,
	PLX_NVME_OPC_ASYNC_EVENT_REQUEST = 0x0c,
	PLX_NVME_OPC_NS_MANAGEMENT = 0x0d,
	PLX_NVME_OPC_FIRMWARE_COMMIT = 0x10,
	PLX_NVME_OPC_FIRMWARE_IMAGE_DOWNLOAD = 0x11,
	PLX_NVME_OPC_NS_ATTACHMENT = 0x15,
	PLX_NVME_OPC_KEEP_ALIVE = 0x18,
	PLX_NVME_OPC_DIRECTIVE_SEND = 0x19,
	PLX_NVME_OPC_DIRECTIVE_RECEIVE = 0x1a,
	PLX_NVME_OPC_DOORBELL_BUFFER_CONFIG = 0x7c,
	PLX_NVME_OPC_FABRIC = 0x7f,
	PLX_NVME_OPC_FORMAT_NVM = 0x80,
	PLX_NVME_OPC_SECURITY_SEND = 0x81,
	PLX_NVME_OPC_SECURITY_RECEIVE = 0x82,
	PLX_NVME_OPC_SANITIZE = 0x84,
};

enum plx_nvme_nvm_opc {
	PLX_NVME_OPC_FLUSH = 0x00,
	PLX_NVME_OPC_WRITE = 0x01,
	PLX_NVME_OPC_READ = 0x02,
	PLX_NVME_OPC_WRITE_UNCORRECTABLE = 0x04,
	PLX_NVME_OPC_COMPARE = 0x05,
	PLX_NVME_OPC_WRITE_ZEROES = 0x08,
	PLX_NVME_OPC_DATASET_MANAGEMENT = 0x09,
	PLX_NVME_OPC_VERIFY = 0x0c,
	PLX_NVME_OPC_RESERVATION_REGISTER = 0x0d,
	PLX_NVME_OPC_RESERVATION_REPORT = 0x0e,
	PLX_NVME_OPC_RESERVATION_ACQUIRE = 0x11,
	PLX_NVME_OPC_RESERVATION_RELEASE = 0x15,
	PLX_NVME_OPC_COPY = 0x19,
};

/* Data transfer direction is bits 1:0 of every opcode. */
enum plx_nvme_data_transfer {
	PLX_NVME_DATA_NONE = 0,
	PLX_NVME_DATA_HOST_TO_CONTROLLER = 1,
	PLX_NVME_DATA_CONTROLLER_TO_HOST = 2,
	PLX_NVME_DATA_BIDIRECTIONAL = 3,
};

static inline enum plx_nvme_data_transfer plx_nvme_opc_get_data_transfer(uint8_t opc)
{
	return (enum plx_nvme_data_transfer)(opc & 3);
}

/* Fabrics command types (cmd.fctype when opc == PLX_NVME_OPC_FABRIC). */
enum plx_nvmf_fctype {
	PLX_NVMF_FCTYPE_PROPERTY_SET = 0x00,
	PLX_NVMF_FCTYPE_CONNECT = 0x01,
	PLX_NVMF_FCTYPE_PROPERTY_GET = 0x04,
	PLX_NVMF_FCTYPE_AUTH_SEND = 0x05,
	PLX_NVMF_FCTYPE_AUTH_RECV = 0x06,
	PLX_NVMF_FCTYPE_DISCONNECT = 0x08,
};

/* Fused operation (cmd.fuse). */
enum plx_nvme_fuse {
	PLX_NVME_FUSE_NONE = 0,
	PLX_NVME_FUSE_FIRST = 1,
	PLX_NVME_FUSE_SECOND = 2,
};

/* ---- SGL descriptors ---- */

enum plx_nvme_sgl_type {
	PLX_NVME_SGL_TYPE_DATA_BLOCK = 0x0,
	PLX_NVME_SGL_TYPE_BIT_BUCKET = 0x1,
	PLX_NVME_SGL_TYPE_SEGMENT = 0x2,
	PLX_NVME_SGL_TYPE_LAST_SEGMENT = 0x3,
	PLX_NVME_SGL_TYPE_KEYED_DATA_BLOCK = 0x4,
	PLX_NVME_SGL_TYPE_TRANSPORT_DATA_BLOCK = 0x5,
};

enum plx_nvme_sgl_subtype {
	PLX_NVME_SGL_SUBTYPE_ADDRESS = 0x0,
	PLX_NVME_SGL_SUBTYPE_OFFSET = 0x1,
	PLX_NVME_SGL_SUBTYPE_TRANSPORT = 0xa,
};

struct plx_nvme_sgl_desc {
	uint64_t address;
	union {
		struct {
			uint32_t length;
			uint8_t rsvd[3];
			uint8_t subtype : 4;
			uint8_t type : 4;
		} unkeyed;
		struct {
			uint32_t length : 24;
			uint32_t key;
			uint8_t subtype : 4;
			uint8_t type : 4;
		} __attribute__((packed)) keyed;
		struct {
			uint8_t rsvd[7];
			uint8_t subtype : 4;
			uint8_t type : 4;
		} generic;
	};
};
static_assert(sizeof(struct plx_nvme_sgl_desc) == 16, "SGL descriptor is 16 bytes");

/* ---- submission and completion queue entries ---- */

struct plx_nvme_cmd {
	uint8_t opc;
	uint8_t fuse : 2;
	uint8_t rsvd1 : 4;
	uint8_t psdt : 2; /* 0 PRP, 1 or 2 SGL (fabrics always SGL) */
	uint16_t cid;
	uint32_t nsid;
	uint32_t cdw2;
	uint32_t cdw3;
	uint64_t mptr;
	union {
		struct {
			uint64_t prp1;
			uint64_t prp2;
		} prp;
		struct plx_nvme_sgl_desc sgl1;
	} dptr;
	uint32_t cdw10;
	uint32_t cdw11;
	uint32_t cdw12;
	uint32_t cdw13;
	uint32_t cdw14;
	uint32_t cdw15;
};
static_assert(sizeof(struct plx_nvme_cmd) == 64, "SQE is 64 bytes");

/* Status code types (status.sct). */
enum plx_nvme_sct {
	PLX_NVME_SCT_GENERIC = 0x0,
	PLX_NVME_SCT_COMMAND_SPECIFIC = 0x1,
	PLX_NVME_SCT_MEDIA_ERROR = 0x2,
	PLX_NVME_SCT_PATH = 0x3,
	PLX_NVME_SCT_VENDOR_SPECIFIC = 0x7,
};

struct plx_nvme_status {
	uint16_t p : 1;	  /* phase tag (PCIe only) */
	uint16_t sc : 8;  /* status code */
	uint16_t sct : 3; /* status code type */
	uint16_t crd : 2; /* command retry delay */
	uint16_t m : 1;	  /* more */
	uint16_t dnr : 1; /* do not retry */
};
static_assert(sizeof(struct plx_nvme_status) == 2, "status is 16 bits");

struct plx_nvme_cpl {
	uint32_t cdw0;
	uint32_t cdw1;
	uint16_t sqhd;
	uint16_t sqid;
	uint16_t cid;
	union {
		uint16_t status_raw;
		struct plx_nvme_status status;
	};
};
static_assert(sizeof(struct plx_nvme_cpl) == 16, "CQE is 16 bytes");

static inline int plx_nvme_cpl_is_error(const struct plx_nvme_cpl *cpl)
{
	return cpl->status.sc != 0 || cpl->status.sct != 0;
}

/* Generic command status (SCT 0). */
enum plx_nvme_generic_sc {
	PLX_NVME_SC_SUCCESS = 0x00,
	PLX_NVME_SC_INVALID_OPCODE = 0x01,
	PLX_NVME_SC_INVALID_FIELD = 0x02,
	PLX_NVME_SC_COMMAND_ID_CONFLICT = 0x03,
	PLX_NVME_SC_DATA_TRANSFER_ERROR = 0x04,
	PLX_NVME_SC_ABORTED_POWER_LOSS = 0x05,
	PLX_NVME_SC_INTERNAL_DEVICE_ERROR = 0x06,
	PLX_NVME_SC_ABORTED_BY_REQUEST = 0x07,
	PLX_NVME_SC_ABORTED_SQ_DELETION = 0x08,
	PLX_NVME_SC_ABORTED_FAILED_FUSED = 0x09,
	PLX_NVME_SC_ABORTED_MISSING_FUSED = 0x0a,
	PLX_NVME_SC_INVALID_NAMESPACE_OR_FORMAT = 0x0b,
	PLX_NVME_SC_COMMAND_SEQUENCE_ERROR = 0x0c,
	PLX_NVME_SC_INVALID_SGL_SEG_DESCRIPTOR = 0x0d,
	PLX_NVME_SC_INVALID_NUM_SGL_DESCRIPTORS = 0x0e,
	PLX_NVME_SC_DATA_SGL_LENGTH_INVALID = 0x0f,
	PLX_NVME_SC_METADATA_SGL_LENGTH_INVALID = 0x10,
	PLX_NVME_SC_SGL_DESCRIPTOR_TYPE_INVALID = 0x11,
	PLX_NVME_SC_INVALID_CONTROLLER_MEM_BUF = 0x12,
	PLX_NVME_SC_INVALID_PRP_OFFSET = 0x13,
	PLX_NVME_SC_ATOMIC_WRITE_UNIT_EXCEEDED = 0x14,
	PLX_NVME_SC_OPERATION_DENIED = 0x15,
	PLX_NVME_SC_INVALID_SGL_OFFSET = 0x16,
	PLX_NVME_SC_HOSTID_INCONSISTENT_FORMAT = 0x18,
	PLX_NVME_SC_KEEP_ALIVE_EXPIRED = 0x19,
	PLX_NVME_SC_KEEP_ALIVE_INVALID = 0x1a,
	PLX_NVME_SC_ABORTED_PREEMPT = 0x1b,
	PLX_NVME_SC_SANITIZE_FAILED = 0x1c,
	PLX_NVME_SC_SANITIZE_IN_PROGRESS = 0x1d,
	PLX_NVME_SC_SGL_DATA_BLOCK_GRANULARITY_INVALID = 0x1e,
	PLX_NVME_SC_COMMAND_INVALID_IN_CMB = 0x1f,
	PLX_NVME_SC_NAMESPACE_IS_WRITE_PROTECTED = 0x20,
	PLX_NVME_SC_COMMAND_INTERRUPTED = 0x21,
	PLX_NVME_SC_TRANSIENT_TRANSPORT_ERROR = 0x22,
	PLX_NVME_SC_LBA_OUT_OF_RANGE = 0x80,
	PLX_NVME_SC_CAPACITY_EXCEEDED = 0x81,
	PLX_NVME_SC_NAMESPACE_NOT_READY = 0x82,
	PLX_NVME_SC_RESERVATION_CONFLICT = 0x83,
	PLX_NVME_SC_FORMAT_IN_PROGRESS = 0x84,
};

/* Command specific status (SCT 1), including the fabrics codes. */
enum plx_nvme_command_specific_sc {
	PLX_NVME_SC_COMPLETION_QUEUE_INVALID = 0x00,
	PLX_NVME_SC_INVALID_QUEUE_IDENTIFIER = 0x01,
	PLX_NVME_SC_INVALID_QUEUE_SIZE = 0x02,
	PLX_NVME_SC_ABORT_COMMAND_LIMIT_EXCEEDED = 0x03,
	PLX_NVME_SC_ASYNC_EVENT_REQUEST_LIMIT_EXCEEDED = 0x05,
	PLX_NVME_SC_INVALID_FIRMWARE_SLOT = 0x06,
	PLX_NVME_SC_INVALID_FIRMWARE_IMAGE = 0x07,
	PLX_NVME_SC_INVALID_INTERRUPT_VECTOR = 0x08,
	PLX_NVME_SC_INVALID_LOG_PAGE = 0x09,
	PLX_NVME_SC_INVALID_FORMAT = 0x0a,
	PLX_NVME_SC_INVALID_QUEUE_DELETION = 0x0c,
	PLX_NVME_SC_FEATURE_ID_NOT_SAVEABLE = 0x0d,
	PLX_NVME_SC_FEATURE_NOT_CHANGEABLE = 0x0e,
	PLX_NVME_SC_FEATURE_NOT_NAMESPACE_SPECIFIC = 0x0f,
	PLX_NVME_SC_NAMESPACE_ID_UNAVAILABLE = 0x16,
	PLX_NVME_SC_NAMESPACE_ALREADY_ATTACHED = 0x18,
	PLX_NVME_SC_NAMESPACE_NOT_ATTACHED = 0x1a,
	PLX_NVME_SC_CONFLICTING_ATTRIBUTES = 0x80,
	PLX_NVME_SC_INVALID_PROTECTION_INFO = 0x81,
	PLX_NVME_SC_ATTEMPTED_WRITE_TO_RO_RANGE = 0x82,
	/* fabrics */
	PLX_NVMF_SC_INCOMPATIBLE_FORMAT = 0x80,
	PLX_NVMF_SC_CONTROLLER_BUSY = 0x81,
	PLX_NVMF_SC_INVALID_PARAM = 0x82,
	PLX_NVMF_SC_RESTART_DISCOVERY = 0x83,
	PLX_NVMF_SC_INVALID_HOST = 0x84,
	PLX_NVMF_SC_INVALID_QUEUE_TYPE = 0x85,
	PLX_NVMF_SC_LOG_RESTART_DISCOVERY = 0x90,
	PLX_NVMF_SC_AUTH_REQUIRED = 0x91,
};

/* Media and data integrity errors (SCT 2). */
enum plx_nvme_media_error_sc {
	PLX_NVME_SC_WRITE_FAULTS = 0x80,
	PLX_NVME_SC_UNRECOVERED_READ_ERROR = 0x81,
	PLX_NVME_SC_GUARD_CHECK_ERROR = 0x82,
	PLX_NVME_SC_APPLICATION_TAG_CHECK_ERROR = 0x83,
	PLX_NVME_SC_REFERENCE_TAG_CHECK_ERROR = 0x84,
	PLX_NVME_SC_COMPARE_FAILURE = 0x85,
	PLX_NVME_SC_ACCESS_DENIED = 0x86,
	PLX_NVME_SC_DEALLOCATED_OR_UNWRITTEN_BLOCK = 0x87,
};

/* Path related status (SCT 3). */
enum plx_nvme_path_sc {
	PLX_NVME_SC_INTERNAL_PATH_ERROR = 0x00,
	PLX_NVME_SC_ASYMMETRIC_ACCESS_PERSISTENT_LOSS = 0x01,
	PLX_NVME_SC_ASYMMETRIC_ACCESS_INACCESSIBLE = 0x02,
	PLX_NVME_SC_ASYMMETRIC_ACCESS_TRANSITION = 0x03,
	PLX_NVME_SC_CONTROLLER_PATH_ERROR = 0x60,
	PLX_NVME_SC_HOST_PATH_ERROR = 0x70,
	PLX_NVME_SC_ABORTED_BY_HOST = 0x71,
};

/* ---- controller properties (registers; Property Get/Set over fabrics) ---- */

enum plx_nvme_prop_offset {
	PLX_NVME_REG_CAP = 0x00,   /* 8 bytes */
	PLX_NVME_REG_VS = 0x08,	   /* 4 */
	PLX_NVME_REG_INTMS = 0x0c, /* 4, PCIe only */
	PLX_NVME_REG_INTMC = 0x10, /* 4, PCIe only */
	PLX_NVME_REG_CC = 0x14,	   /* 4 */
	PLX_NVME_REG_CSTS = 0x1c,  /* 4 */
	PLX_NVME_REG_NSSR = 0x20,  /* 4 */
	PLX_NVME_REG_AQA = 0x24,   /* 4, PCIe only */
	PLX_NVME_REG_ASQ = 0x28,   /* 8, PCIe only */
	PLX_NVME_REG_ACQ = 0x30,   /* 8, PCIe only */
	PLX_NVME_REG_DOORBELL = 0x1000,
};

union plx_nvme_cap {
	uint64_t raw;
	struct {
		uint64_t mqes : 16; /* maximum queue entries supported, 0's based */
		uint64_t cqr : 1;   /* contiguous queues required */
		uint64_t ams : 2;   /* arbitration mechanisms supported */
		uint64_t rsvd1 : 5;
		uint64_t to : 8;    /* timeout, in 500 ms units */
		uint64_t dstrd : 4; /* doorbell stride 2^(2+dstrd) */
		uint64_t nssrs : 1; /* NVM subsystem reset supported */
		uint64_t css : 8; /* command sets supported: bit 0 NVM, bit 6 IOCS, bit 7 no I/O */
		uint64_t bps : 1; /* boot partition support */
		uint64_t cps : 2;
		uint64_t mpsmin : 4; /* 2^(12+mpsmin) */
		uint64_t mpsmax : 4;
		uint64_t pmrs : 1;
		uint64_t cmbs : 1;
		uint64_t nsss : 1;
		uint64_t crms : 2;
		uint64_t rsvd2 : 3;
	} bits;
};
static_assert(sizeof(union plx_nvme_cap) == 8, "CAP is 64 bits");

union plx_nvme_vs {
	uint32_t raw;
	struct {
		uint32_t ter : 8;
		uint32_t mnr : 8;
		uint32_t mjr : 16;
	} bits;
};

#define PLX_NVME_VERSION(mjr, mnr, ter) (((uint32_t)(mjr) << 16) | ((uint32_t)(mnr) << 8) | (ter))

enum plx_nvme_shn {
	PLX_NVME_SHN_NONE = 0,
	PLX_NVME_SHN_NORMAL = 1,
	PLX_NVME_SHN_ABRUPT = 2,
};

enum plx_nvme_shst {
	PLX_NVME_SHST_NORMAL = 0,
	PLX_NVME_SHST_OCCURRING = 1,
	PLX_NVME_SHST_COMPLETE = 2,
};

union plx_nvme_cc {
	uint32_t raw;
	struct {
		uint32_t en : 1;
		uint32_t rsvd1 : 3;
		uint32_t css : 3;
		uint32_t mps : 4;
		uint32_t ams : 3;
		uint32_t shn : 2;
		uint32_t iosqes : 4;
		uint32_t iocqes : 4;
		uint32_t crime : 1;
		uint32_t rsvd2 : 7;
	} bits;
};

union plx_nvme_csts {
	uint32_t raw;
	struct {
		uint32_t rdy : 1;
		uint32_t cfs : 1;
		uint32_t shst : 2;
		uint32_t nssro : 1;
		uint32_t pp : 1;
		uint32_t st : 1;
		uint32_t rsvd : 25;
	} bits;
};

union plx_nvme_aqa {
	uint32_t raw;
	struct {
		uint32_t asqs : 12;
		uint32_t rsvd1 : 4;
		uint32_t acqs : 12;
		uint32_t rsvd2 : 4;
	} bits;
};

/* ---- Identify ---- */

enum plx_nvme_identify_cns {
	PLX_NVME_IDENTIFY_NS = 0x00,
	PLX_NVME_IDENTIFY_CTRLR = 0x01,
	PLX_NVME_IDENTIFY_ACTIVE_NS_LIST = 0x02,
	PLX_NVME_IDENTIFY_NS_ID_DESCRIPTOR_LIST = 0x03,
	PLX_NVME_IDENTIFY_NVMSET_LIST = 0x04,
	PLX_NVME_IDENTIFY_NS_IOCS = 0x05,
	PLX_NVME_IDENTIFY_CTRLR_IOCS = 0x06,
	PLX_NVME_IDENTIFY_ACTIVE_NS_LIST_IOCS = 0x07,
	PLX_NVME_IDENTIFY_ALLOCATED_NS_LIST = 0x10,
	PLX_NVME_IDENTIFY_IOCS = 0x1c,
};

/* Command set identifiers (CSI, cdw11 bits 31:24 of Identify). */
enum plx_nvme_csi {
	PLX_NVME_CSI_NVM = 0x0,
	PLX_NVME_CSI_KV = 0x1,
	PLX_NVME_CSI_ZNS = 0x2,
};

struct plx_nvme_power_state {
	uint16_t mp; /* maximum power, centiwatts */
	uint8_t rsvd2;
	uint8_t mps_nops; /* bit 0 max power scale, bit 1 non-operational state */
	uint32_t enlat;
	uint32_t exlat;
	uint8_t rrt;
	uint8_t rrl;
	uint8_t rwt;
	uint8_t rwl;
	uint16_t idlp;
	uint8_t ips;
	uint8_t rsvd19;
	uint16_t actp;
	uint8_t apw_aps;
	uint8_t rsvd23[9];
};
static_assert(sizeof(struct plx_nvme_power_state) == 32, "power state descriptor is 32 bytes");

/* CMIC bits */
#define PLX_NVME_CMIC_MULTI_PORT    (1u << 0)
#define PLX_NVME_CMIC_MULTI_CTRLR   (1u << 1)
#define PLX_NVME_CMIC_ANA_REPORTING (1u << 3)

/* OACS bits */
#define PLX_NVME_OACS_SECURITY	(1u << 0)
#define PLX_NVME_OACS_FORMAT	(1u << 1)
#define PLX_NVME_OACS_FIRMWARE	(1u << 2)
#define PLX_NVME_OACS_NS_MANAGE (1u << 3)

/* ONCS bits */
#define PLX_NVME_ONCS_COMPARE		  (1u << 0)
#define PLX_NVME_ONCS_WRITE_UNCORRECTABLE (1u << 1)
#define PLX_NVME_ONCS_DSM		  (1u << 2)
#define PLX_NVME_ONCS_WRITE_ZEROES	  (1u << 3)
#define PLX_NVME_ONCS_SET_FEATURES_SAVE	  (1u << 4)
#define PLX_NVME_ONCS_RESERVATIONS	  (1u << 5)
#define PLX_NVME_ONCS_TIMESTAMP		  (1u << 6)
#define PLX_NVME_ONCS_VERIFY		  (1u << 7)
#define PLX_NVME_ONCS_COPY		  (1u << 8)

/* LPA bits */
#define PLX_NVME_LPA_SMART_PER_NS  (1u << 0)
#define PLX_NVME_LPA_CMD_EFFECTS   (1u << 1)
#define PLX_NVME_LPA_EXTENDED_DATA (1u << 2)

/* ANACAP bits */
#define PLX_NVME_ANACAP_OPTIMIZED	  (1u << 0)
#define PLX_NVME_ANACAP_NON_OPTIMIZED	  (1u << 1)
#define PLX_NVME_ANACAP_INACCESSIBLE	  (1u << 2)
#define PLX_NVME_ANACAP_PERSISTENT_LOSS	  (1u << 3)
#define PLX_NVME_ANACAP_CHANGE		  (1u << 4)
#define PLX_NVME_ANACAP_GRPID_NOT_CHANGED (1u << 6)
#define PLX_NVME_ANACAP_GRPID_MGMT	  (1u << 7)

/* OAES bits (optional asynchronous events supported) */
#define PLX_NVME_OAES_NS_ATTR		   (1u << 8)
#define PLX_NVME_OAES_FW_ACTIVATION	   (1u << 9)
#define PLX_NVME_OAES_ANA_CHANGE	   (1u << 11)
#define PLX_NVME_OAES_DISCOVERY_LOG_CHANGE (1u << 31)

/* SGLS bits */
#define PLX_NVME_SGLS_SUPPORTED	 (1u << 0) /* any alignment */
#define PLX_NVME_SGLS_KEYED	 (1u << 2)
#define PLX_NVME_SGLS_BIT_BUCKET (1u << 16)
#define PLX_NVME_SGLS_OFFSET	 (1u << 20) /* in-capsule data with an offset */
#define PLX_NVME_SGLS_TRANSPORT	 (1u << 21) /* transport SGL data block */

struct plx_nvme_ctrlr_data {
	/* 0: controller capabilities and features */
	uint16_t vid;
	uint16_t ssvid;
	char sn[20];
	char mn[40];
	char fr[8];
	uint8_t rab;
	uint8_t ieee[3];
	uint8_t cmic;
	uint8_t mdts; /* 2^mdts units of CAP.MPSMIN; 0 = no limit */
	uint16_t cntlid;
	uint32_t ver;
	uint32_t rtd3r;
	uint32_t rtd3e;
	uint32_t oaes;
	uint32_t ctratt;
	uint16_t rrls;
	uint8_t rsvd102[9];
	uint8_t cntrltype; /* 1 I/O, 2 discovery, 3 administrative */
	uint8_t fguid[16];
	uint16_t crdt1;
	uint16_t crdt2;
	uint16_t crdt3;
	uint8_t rsvd134[119];
	uint8_t nvmsr;
	uint8_t vwci;
	uint8_t mec;

	/* 256: admin command set attributes */
	uint16_t oacs;
	uint8_t acl;  /* abort command limit, 0's based */
	uint8_t aerl; /* async event request limit, 0's based */
	uint8_t frmw;
	uint8_t lpa;
	uint8_t elpe; /* error log page entries, 0's based */
	uint8_t npss;
	uint8_t avscc;
	uint8_t apsta;
	uint16_t wctemp;
	uint16_t cctemp;
	uint16_t mtfa;
	uint32_t hmpre;
	uint32_t hmmin;
	uint8_t tnvmcap[16];
	uint8_t unvmcap[16];
	uint32_t rpmbs;
	uint16_t edstt;
	uint8_t dsto;
	uint8_t fwug;
	uint16_t kas; /* keep alive support, 100 ms units */
	uint16_t hctma;
	uint16_t mntmt;
	uint16_t mxtmt;
	uint32_t sanicap;
	uint32_t hmminds;
	uint16_t hmmaxd;
	uint16_t nsetidmax;
	uint16_t endgidmax;
	uint8_t anatt;
	uint8_t anacap;
	uint32_t anagrpmax;
	uint32_t nanagrpid;
	uint32_t pels;
	uint16_t domainid;
	uint8_t rsvd358[10];
	uint8_t megcap[16];
	uint8_t rsvd384[128];

	/* 512: NVM command set attributes */
	uint8_t sqes;
	uint8_t cqes;
	uint16_t maxcmd;
	uint32_t nn;
	uint16_t oncs;
	uint16_t fuses; /* bit 0: compare and write */
	uint8_t fna;
	uint8_t vwc;
	uint16_t awun;
	uint16_t awupf;
	uint8_t icsvscc;
	uint8_t nwpc;
	uint16_t acwu;
	uint16_t ocfs;
	uint32_t sgls;
	uint32_t mnan;
	uint8_t maxdna[16];
	uint32_t maxcna;
	uint8_t rsvd564[204];
	char subnqn[256];
	uint8_t rsvd1024[768];

	/* 1792: NVMe over Fabrics attributes */
	uint32_t ioccsz; /* I/O queue command capsule size, 16-byte units */
	uint32_t iorcsz; /* I/O queue response capsule size, 16-byte units */
	uint16_t icdoff; /* in-capsule data offset, 16-byte units */
	uint8_t fcatt;	 /* bit 0: dynamic controller model when 0 */
	uint8_t msdbd;	 /* maximum SGL data block descriptors */
	uint16_t ofcs;
	uint8_t rsvd1806[242];

	/* 2048 */
	struct plx_nvme_power_state psd[32];
	uint8_t vs[1024];
};
static_assert(sizeof(struct plx_nvme_ctrlr_data) == 4096, "Identify Controller is 4096 bytes");
static_assert(offsetof(struct plx_nvme_ctrlr_data, cntlid) == 78, "cntlid offset");
static_assert(offsetof(struct plx_nvme_ctrlr_data, oaes) == 92, "oaes offset");
static_assert(offsetof(struct plx_nvme_ctrlr_data, crdt1) == 128, "crdt1 offset");
static_assert(offsetof(struct plx_nvme_ctrlr_data, oacs) == 256, "oacs offset");
static_assert(offsetof(struct plx_nvme_ctrlr_data, kas) == 320, "kas offset");
static_assert(offsetof(struct plx_nvme_ctrlr_data, anatt) == 342, "anatt offset");
static_assert(offsetof(struct plx_nvme_ctrlr_data, anagrpmax) == 344, "anagrpmax offset");
static_assert(offsetof(struct plx_nvme_ctrlr_data, sqes) == 512, "sqes offset");
static_assert(offsetof(struct plx_nvme_ctrlr_data, sgls) == 536, "sgls offset");
static_assert(offsetof(struct plx_nvme_ctrlr_data, subnqn) == 768, "subnqn offset");
static_assert(offsetof(struct plx_nvme_ctrlr_data, ioccsz) == 1792, "ioccsz offset");
static_assert(offsetof(struct plx_nvme_ctrlr_data, psd) == 2048, "psd offset");

struct plx_nvme_lbaf {
	uint16_t ms;	/* metadata bytes per block */
	uint8_t lbads;	/* block size 2^lbads */
	uint8_t rp : 2; /* relative performance */
	uint8_t rsvd : 6;
};

/* NSFEAT bits */
#define PLX_NVME_NSFEAT_THIN_PROV	  (1u << 0)
#define PLX_NVME_NSFEAT_NS_ATOMIC	  (1u << 1)
#define PLX_NVME_NSFEAT_DEALLOC_ERR	  (1u << 2)
#define PLX_NVME_NSFEAT_GUID_NEVER_REUSED (1u << 3)
#define PLX_NVME_NSFEAT_OPTPERF		  (1u << 4)

/* RESCAP bits */
#define PLX_NVME_RESCAP_PTPL			  (1u << 0)
#define PLX_NVME_RESCAP_WRITE_EXCLUSIVE		  (1u << 1)
#define PLX_NVME_RESCAP_EXCLUSIVE_ACCESS	  (1u << 2)
#define PLX_NVME_RESCAP_WRITE_EXCLUSIVE_REG_ONLY  (1u << 3)
#define PLX_NVME_RESCAP_EXCLUSIVE_ACCESS_REG_ONLY (1u << 4)
#define PLX_NVME_RESCAP_WRITE_EXCLUSIVE_ALL_REGS  (1u << 5)
#define PLX_NVME_RESCAP_EXCLUSIVE_ACCESS_ALL_REGS (1u << 6)
#define PLX_NVME_RESCAP_IEKEY_IGNORED		  (1u << 7)

struct plx_nvme_ns_data {
	uint64_t nsze;
	uint64_t ncap;
	uint64_t nuse;
	uint8_t nsfeat;
	uint8_t nlbaf; /* 0's based */
	uint8_t flbas; /* bits 3:0 format index */
	uint8_t mc;
	uint8_t dpc;
	uint8_t dps;
	uint8_t nmic; /* bit 0: may be attached to several controllers */
	uint8_t rescap;
	uint8_t fpi;
	uint8_t dlfeat; /* bits 2:0: 1 = deallocated blocks read as zeroes */
	uint16_t nawun;
	uint16_t nawupf;
	uint16_t nacwu;
	uint16_t nabsn;
	uint16_t nabo;
	uint16_t nabspf;
	uint16_t noiob; /* optimal I/O boundary, blocks */
	uint8_t nvmcap[16];
	uint16_t npwg;
	uint16_t npwa;
	uint16_t npdg;
	uint16_t npda;
	uint16_t nows;
	uint16_t mssrl;
	uint32_t mcl;
	uint8_t msrc;
	uint8_t rsvd81[11];
	uint32_t anagrpid;
	uint8_t rsvd96[3];
	uint8_t nsattr;
	uint16_t nvmsetid;
	uint16_t endgid;
	uint8_t nguid[16];
	uint8_t eui64[8];
	struct plx_nvme_lbaf lbaf[64];
	uint8_t vs[3712];
};
static_assert(sizeof(struct plx_nvme_ns_data) == 4096, "Identify Namespace is 4096 bytes");
static_assert(offsetof(struct plx_nvme_ns_data, anagrpid) == 92, "anagrpid offset");
static_assert(offsetof(struct plx_nvme_ns_data, nguid) == 104, "nguid offset");
static_assert(offsetof(struct plx_nvme_ns_data, lbaf) == 128, "lbaf offset");

/* Namespace identification descriptor types (Identify CNS 03h). */
enum plx_nvme_nidt {
	PLX_NVME_NIDT_EUI64 = 0x1,
	PLX_NVME_NIDT_NGUID = 0x2,
	PLX_NVME_NIDT_UUID = 0x3,
	PLX_NVME_NIDT_CSI = 0x4,
};

struct plx_nvme_ns_id_desc {
	uint8_t nidt;
	uint8_t nidl;
	uint8_t rsvd[2];
	uint8_t nid[];
};

/* ---- Get Log Page ---- */

enum plx_nvme_log_page {
	PLX_NVME_LOG_SUPPORTED_LOG_PAGES = 0x00,
	PLX_NVME_LOG_ERROR = 0x01,
	PLX_NVME_LOG_HEALTH_INFORMATION = 0x02,
	PLX_NVME_LOG_FIRMWARE_SLOT = 0x03,
	PLX_NVME_LOG_CHANGED_NS_LIST = 0x04,
	PLX_NVME_LOG_COMMAND_EFFECTS = 0x05,
	PLX_NVME_LOG_ASYMMETRIC_NAMESPACE_ACCESS = 0x0c,
	PLX_NVME_LOG_DISCOVERY = 0x70,
	PLX_NVME_LOG_RESERVATION_NOTIFICATION = 0x80,
};

/*
 * Get Log Page fields: cdw10 LID 7:0, LSP 14:8 (RAE bit 15), NUMDL 31:16; cdw11 NUMDU 15:0;
 * cdw12/13 the 64-bit byte offset. Number of dwords = ((NUMDU << 16) | NUMDL) + 1.
 */
#define PLX_NVME_LOG_RAE (1u << 15)

struct plx_nvme_error_info_entry {
	uint64_t error_count;
	uint16_t sqid;
	uint16_t cid;
	struct plx_nvme_status status;
	uint16_t error_location;
	uint64_t lba;
	uint32_t nsid;
	uint8_t vendor_specific;
	uint8_t trtype;
	uint8_t rsvd30[2];
	uint64_t command_specific;
	uint16_t trtype_specific;
	uint8_t rsvd42[22];
};
static_assert(sizeof(struct plx_nvme_error_info_entry) == 64, "error log entry is 64 bytes");

struct plx_nvme_health_information_page {
	uint8_t critical_warning;
	uint8_t temperature[2]; /* Kelvin; byte-aligned on the wire */
	uint8_t available_spare;
	uint8_t available_spare_threshold;
	uint8_t percentage_used;
	uint8_t endurance_group_critical_warning;
	uint8_t rsvd7[25];
	uint8_t data_units_read[16]; /* 128-bit counters, little-endian */
	uint8_t data_units_written[16];
	uint8_t host_read_commands[16];
	uint8_t host_write_commands[16];
	uint8_t controller_busy_time[16];
	uint8_t power_cycles[16];
	uint8_t power_on_hours[16];
	uint8_t unsafe_shutdowns[16];
	uint8_t media_errors[16];
	uint8_t num_error_info_log_entries[16];
	uint32_t warning_temp_time;
	uint32_t critical_temp_time;
	uint16_t temp_sensor[8];
	uint8_t rsvd216[296];
};
static_assert(sizeof(struct plx_nvme_health_information_page) == 512, "SMART log is 512 bytes");
static_assert(offsetof(struct plx_nvme_health_information_page, data_units_read) == 32, "dur");
static_assert(offsetof(struct plx_nvme_health_information_page, warning_temp_time) == 192, "wtt");

struct plx_nvme_firmware_page {
	uint8_t afi;
	uint8_t rsvd1[7];
	char revision[7][8];
	uint8_t rsvd64[448];
};
static_assert(sizeof(struct plx_nvme_firmware_page) == 512, "firmware slot log is 512 bytes");

#define PLX_NVME_MAX_CHANGED_NAMESPACES 1024
struct plx_nvme_ns_list {
	uint32_t ns_list[PLX_NVME_MAX_CHANGED_NAMESPACES];
};
static_assert(sizeof(struct plx_nvme_ns_list) == 4096, "namespace list is 4096 bytes");

/* Commands Supported and Effects: CSUPP bit 0, LBCC bit 1, NCC bit 2, NIC bit 3, CCC bit 4. */
#define PLX_NVME_CMD_EFFECT_CSUPP (1u << 0)
#define PLX_NVME_CMD_EFFECT_LBCC  (1u << 1)
#define PLX_NVME_CMD_EFFECT_NCC	  (1u << 2)
#define PLX_NVME_CMD_EFFECT_NIC	  (1u << 3)
#define PLX_NVME_CMD_EFFECT_CCC	  (1u << 4)
struct plx_nvme_cmds_and_effect_log_page {
	uint32_t admin_cmds_supported[256];
	uint32_t io_cmds_supported[256];
	uint8_t rsvd2048[2048];
};
static_assert(sizeof(struct plx_nvme_cmds_and_effect_log_page) == 4096, "effects log 4096");

/* ANA states */
enum plx_nvme_ana_state {
	PLX_NVME_ANA_OPTIMIZED_STATE = 0x1,
	PLX_NVME_ANA_NON_OPTIMIZED_STATE = 0x2,
	PLX_NVME_ANA_INACCESSIBLE_STATE = 0x3,
	PLX_NVME_ANA_PERSISTENT_LOSS_STATE = 0x4,
	PLX_NVME_ANA_CHANGE_STATE = 0xf,
};

/* ANA log page: a header, then one descriptor per ANA group, each followed by its NSIDs. */
struct plx_nvme_ana_page {
	uint64_t change_count;
	uint16_t num_ana_group_desc;
	uint8_t rsvd[6];
};
static_assert(sizeof(struct plx_nvme_ana_page) == 16, "ANA log header is 16 bytes");

/* Get Log Page LSP bit 0 for the ANA log: return groups only, without NSID lists. */
#define PLX_NVME_ANA_LSP_RGO 0x1

struct plx_nvme_ana_group_descriptor {
	uint32_t ana_group_id;
	uint32_t num_of_nsid;
	uint64_t change_count;
	uint8_t ana_state : 4;
	uint8_t rsvd0 : 4;
	uint8_t rsvd17[15];
	uint32_t nsid[];
};
static_assert(sizeof(struct plx_nvme_ana_group_descriptor) == 32, "ANA group descriptor 32");

/* Reservation notification log page (0x80). */
enum plx_nvme_reservation_notification_type {
	PLX_NVME_RESERVATION_LOG_PAGE_EMPTY = 0,
	PLX_NVME_REGISTRATION_PREEMPTED = 1,
	PLX_NVME_RESERVATION_RELEASED = 2,
	PLX_NVME_RESERVATION_PREEMPTED = 3,
};

struct plx_nvme_reservation_notification_log {
	uint64_t log_page_count;
	uint8_t type;
	uint8_t num_avail_log_pages;
	uint8_t rsvd10[2];
	uint32_t nsid;
	uint8_t rsvd16[48];
};
static_assert(sizeof(struct plx_nvme_reservation_notification_log) == 64, "resv log is 64");

/* ---- Features ---- */

enum plx_nvme_feat {
	PLX_NVME_FEAT_ARBITRATION = 0x01,
	PLX_NVME_FEAT_POWER_MANAGEMENT = 0x02,
	PLX_NVME_FEAT_LBA_RANGE_TYPE = 0x03,
	PLX_NVME_FEAT_TEMPERATURE_THRESHOLD = 0x04,
	PLX_NVME_FEAT_ERROR_RECOVERY = 0x05,
	PLX_NVME_FEAT_VOLATILE_WRITE_CACHE = 0x06,
	PLX_NVME_FEAT_NUMBER_OF_QUEUES = 0x07,
	PLX_NVME_FEAT_INTERRUPT_COALESCING = 0x08,
	PLX_NVME_FEAT_INTERRUPT_VECTOR_CONFIGURATION = 0x09,
	PLX_NVME_FEAT_WRITE_ATOMICITY = 0x0a,
	PLX_NVME_FEAT_ASYNC_EVENT_CONFIGURATION = 0x0b,
	PLX_NVME_FEAT_AUTONOMOUS_POWER_STATE_TRANSITION = 0x0c,
	PLX_NVME_FEAT_HOST_MEM_BUFFER = 0x0d,
	PLX_NVME_FEAT_TIMESTAMP = 0x0e,
	PLX_NVME_FEAT_KEEP_ALIVE_TIMER = 0x0f,
	PLX_NVME_FEAT_HOST_CONTROLLED_THERMAL_MANAGEMENT = 0x10,
	PLX_NVME_FEAT_NON_OPERATIONAL_POWER_STATE_CONFIG = 0x11,
	PLX_NVME_FEAT_HOST_IDENTIFIER = 0x81,
	PLX_NVME_FEAT_HOST_RESERVE_MASK = 0x82,
	PLX_NVME_FEAT_HOST_RESERVE_PERSIST = 0x83,
};

/* Get Features select (cdw10 bits 10:8). */
enum plx_nvme_feat_sel {
	PLX_NVME_FEAT_SEL_CURRENT = 0,
	PLX_NVME_FEAT_SEL_DEFAULT = 1,
	PLX_NVME_FEAT_SEL_SAVED = 2,
	PLX_NVME_FEAT_SEL_SUPPORTED = 3,
};

/* Asynchronous event configuration (feature 0x0b, cdw11) bits. */
#define PLX_NVME_AEC_CRIT_WARNING_MASK	  0xffu
#define PLX_NVME_AEC_NS_ATTR		  (1u << 8)
#define PLX_NVME_AEC_FW_ACTIVATION	  (1u << 9)
#define PLX_NVME_AEC_TELEMETRY		  (1u << 10)
#define PLX_NVME_AEC_ANA_CHANGE		  (1u << 11)
#define PLX_NVME_AEC_DISCOVERY_LOG_CHANGE (1u << 31)

/* Reservation notification mask (feature 0x82, cdw11) bits. */
#define PLX_NVME_RESV_MASK_REGPRE (1u << 1)
#define PLX_NVME_RESV_MASK_RESREL (1u << 2)
#define PLX_NVME_RESV_MASK_RESPRE (1u << 3)

/* ---- Asynchronous events (completion cdw0 of an AER) ---- */

enum plx_nvme_async_event_type {
	PLX_NVME_ASYNC_EVENT_TYPE_ERROR = 0x0,
	PLX_NVME_ASYNC_EVENT_TYPE_SMART = 0x1,
	PLX_NVME_ASYNC_EVENT_TYPE_NOTICE = 0x2,
	PLX_NVME_ASYNC_EVENT_TYPE_IO = 0x6,
	PLX_NVME_ASYNC_EVENT_TYPE_VENDOR = 0x7,
};

enum plx_nvme_async_event_notice_info {
	PLX_NVME_ASYNC_EVENT_NS_ATTR_CHANGED = 0x0,
	PLX_NVME_ASYNC_EVENT_FW_ACTIVATION_START = 0x1,
	PLX_NVME_ASYNC_EVENT_TELEMETRY_LOG_CHANGED = 0x2,
	PLX_NVME_ASYNC_EVENT_ANA_CHANGE = 0x3,
	PLX_NVME_ASYNC_EVENT_DISCOVERY_LOG_CHANGE = 0xf0,
};

enum plx_nvme_async_event_io_info {
	PLX_NVME_ASYNC_EVENT_RESERVATION_LOG_AVAIL = 0x0,
};

/* cdw0 = type (2:0) | info (15:8) | log page (23:16). */
static inline uint32_t plx_nvme_async_event_cdw0(uint8_t type, uint8_t info, uint8_t log_page)
{
	return (uint32_t)(type & 7) | ((uint32_t)info << 8) | ((uint32_t)log_page << 16);
}

/* ---- Dataset Management ---- */

#define PLX_NVME_DSM_ATTR_DEALLOCATE (1u << 2) /* cdw11 bit 2 */

struct plx_nvme_dsm_range {
	uint32_t attributes;
	uint32_t length; /* blocks */
	uint64_t starting_lba;
};
static_assert(sizeof(struct plx_nvme_dsm_range) == 16, "DSM range is 16 bytes");

/* ---- Reservations ---- */

enum plx_nvme_reservation_type {
	PLX_NVME_RESV_NONE = 0x0,
	PLX_NVME_RESV_WRITE_EXCLUSIVE = 0x1,
	PLX_NVME_RESV_EXCLUSIVE_ACCESS = 0x2,
	PLX_NVME_RESV_WRITE_EXCLUSIVE_REG_ONLY = 0x3,
	PLX_NVME_RESV_EXCLUSIVE_ACCESS_REG_ONLY = 0x4,
	PLX_NVME_RESV_WRITE_EXCLUSIVE_ALL_REGS = 0x5,
	PLX_NVME_RESV_EXCLUSIVE_ACCESS_ALL_REGS = 0x6,
};

/* Register (cdw10): RREGA 2:0, IEKEY 3, CPTPL 31:30. */
enum plx_nvme_reservation_register_action {
	PLX_NVME_RESV_REGISTER_KEY = 0x0,
	PLX_NVME_RESV_UNREGISTER_KEY = 0x1,
	PLX_NVME_RESV_REPLACE_KEY = 0x2,
};

enum plx_nvme_reservation_register_cptpl {
	PLX_NVME_RESV_PTPL_NO_CHANGES = 0x0,
	PLX_NVME_RESV_PTPL_CLEAR_POWER_ON = 0x2,
	PLX_NVME_RESV_PTPL_PERSIST_POWER_LOSS = 0x3,
};

/* Acquire (cdw10): RACQA 2:0, IEKEY 3, RTYPE 15:8. */
enum plx_nvme_reservation_acquire_action {
	PLX_NVME_RESV_ACQUIRE = 0x0,
	PLX_NVME_RESV_PREEMPT = 0x1,
	PLX_NVME_RESV_PREEMPT_ABORT = 0x2,
};

/* Release (cdw10): RRELA 2:0, IEKEY 3, RTYPE 15:8. */
enum plx_nvme_reservation_release_action {
	PLX_NVME_RESV_RELEASE = 0x0,
	PLX_NVME_RESV_CLEAR = 0x1,
};

struct plx_nvme_reservation_register_data {
	uint64_t crkey;
	uint64_t nrkey;
};

struct plx_nvme_reservation_acquire_data {
	uint64_t crkey;
	uint64_t prkey;
};

/* Report (cdw10 NUMD 0's based dwords; cdw11 bit 0 EDS = extended data structure). */
struct plx_nvme_reservation_status_data {
	uint32_t gen;
	uint8_t rtype;
	uint16_t regctl; /* number of registered controllers; byte-aligned on the wire */
	uint16_t rsvd7;
	uint8_t ptpls;
	uint8_t rsvd10[14];
} __attribute__((packed));
static_assert(sizeof(struct plx_nvme_reservation_status_data) == 24, "status header is 24");

struct plx_nvme_reservation_status_extended_data {
	struct plx_nvme_reservation_status_data data;
	uint8_t rsvd24[40];
};
static_assert(sizeof(struct plx_nvme_reservation_status_extended_data) == 64, "ext header 64");

struct plx_nvme_registered_ctrlr_data {
	uint16_t cntlid;
	uint8_t rcsts; /* bit 0: holds the reservation */
	uint8_t rsvd3[5];
	uint64_t hostid;
	uint64_t rkey;
};
static_assert(sizeof(struct plx_nvme_registered_ctrlr_data) == 24, "registrant is 24 bytes");

struct plx_nvme_registered_ctrlr_extended_data {
	uint16_t cntlid;
	uint8_t rcsts;
	uint8_t rsvd3[5];
	uint64_t rkey;
	uint8_t hostid[16];
	uint8_t rsvd32[32];
};
static_assert(sizeof(struct plx_nvme_registered_ctrlr_extended_data) == 64, "ext registrant 64");

/* ---- NVMe over Fabrics commands ---- */

/* Any fabrics command: opc 0x7f, fctype at byte 4. */
struct plx_nvmf_capsule_cmd {
	uint8_t opcode;
	uint8_t rsvd1;
	uint16_t cid;
	uint8_t fctype;
	uint8_t rsvd2[35];
	uint8_t fabric_specific[24];
};
static_assert(sizeof(struct plx_nvmf_capsule_cmd) == 64, "fabrics command is 64 bytes");

struct plx_nvmf_connect_cmd {
	uint8_t opcode;
	uint8_t rsvd1;
	uint16_t cid;
	uint8_t fctype;
	uint8_t rsvd2[19];
	struct plx_nvme_sgl_desc sgl1;
	uint16_t recfmt; /* 0 */
	uint16_t qid;	 /* 0 admin queue */
	uint16_t sqsize; /* 0's based */
	uint8_t cattr;	 /* bit 2: disable SQ flow control */
	uint8_t rsvd3;
	uint32_t kato; /* keep alive timeout, ms; admin queue only */
	uint8_t rsvd4[12];
};
static_assert(sizeof(struct plx_nvmf_connect_cmd) == 64, "Connect is 64 bytes");
static_assert(offsetof(struct plx_nvmf_connect_cmd, qid) == 42, "Connect qid offset");

#define PLX_NVMF_CATTR_DISABLE_SQ_FLOW_CONTROL (1u << 2)

struct plx_nvmf_connect_data {
	uint8_t hostid[16];
	uint16_t cntlid; /* 0xffff: dynamic controller model, any controller */
	uint8_t rsvd4[238];
	char subnqn[256];
	char hostnqn[256];
	uint8_t rsvd5[256];
};
static_assert(sizeof(struct plx_nvmf_connect_data) == 1024, "Connect data is 1024 bytes");
static_assert(offsetof(struct plx_nvmf_connect_data, subnqn) == 256, "SUBNQN at byte 256");
static_assert(offsetof(struct plx_nvmf_connect_data, hostnqn) == 512, "HOSTNQN at byte 512");

/* Connect response cdw0: cntlid (15:0), authreq (31:16); on SC_INVALID_PARAM ipo (15:0) and
 * iattr (23:16). */
union plx_nvmf_connect_rsp_cdw0 {
	uint32_t raw;
	struct {
		uint16_t cntlid;
		uint16_t authreq;
	} success;
	struct {
		uint16_t ipo; /* byte offset of the invalid parameter */
		uint8_t iattr; /* bit 0: 0 the field is in the command, 1 in the Connect data */
		uint8_t rsvd;
	} invalid;
};

struct plx_nvmf_property_set_cmd {
	uint8_t opcode;
	uint8_t rsvd1;
	uint16_t cid;
	uint8_t fctype;
	uint8_t rsvd2[35];
	uint8_t attrib; /* bits 2:0 size: 0 = 4 bytes, 1 = 8 bytes */
	uint8_t rsvd3[3];
	uint32_t ofst;
	uint64_t value;
	uint8_t rsvd4[8];
};
static_assert(sizeof(struct plx_nvmf_property_set_cmd) == 64, "Property Set is 64 bytes");

struct plx_nvmf_property_get_cmd {
	uint8_t opcode;
	uint8_t rsvd1;
	uint16_t cid;
	uint8_t fctype;
	uint8_t rsvd2[35];
	uint8_t attrib;
	uint8_t rsvd3[3];
	uint32_t ofst;
	uint8_t rsvd4[16];
};
static_assert(sizeof(struct plx_nvmf_property_get_cmd) == 64, "Property Get is 64 bytes");

#define PLX_NVMF_PROP_SIZE_4 0
#define PLX_NVMF_PROP_SIZE_8 1

/* Well-known NQNs and limits */
#define PLX_NVMF_DISCOVERY_NQN	  "nqn.2014-08.org.nvmexpress.discovery"
#define PLX_NVMF_NQN_MAX_LEN	  223 /* without the terminating NUL */
#define PLX_NVMF_NQN_UUID_PRE	  "nqn.2014-08.org.nvmexpress:uuid:"
#define PLX_NVMF_TRSTRING_MAX_LEN 32
#define PLX_NVMF_TRADDR_MAX_LEN	  256

/* ---- discovery log page (0x70) ---- */

enum plx_nvmf_trtype {
	PLX_NVMF_TRTYPE_RDMA = 0x1,
	PLX_NVMF_TRTYPE_FC = 0x2,
	PLX_NVMF_TRTYPE_TCP = 0x3,
	PLX_NVMF_TRTYPE_LOOP = 0xfe,
};

enum plx_nvmf_adrfam {
	PLX_NVMF_ADRFAM_IPV4 = 0x1,
	PLX_NVMF_ADRFAM_IPV6 = 0x2,
	PLX_NVMF_ADRFAM_IB = 0x3,
	PLX_NVMF_ADRFAM_FC = 0x4,
	PLX_NVMF_ADRFAM_INTRA_HOST = 0xfe,
};

enum plx_nvmf_subtype {
	PLX_NVMF_SUBTYPE_DISCOVERY = 0x1, /* a referral to another discovery service */
	PLX_NVMF_SUBTYPE_NVME = 0x2,
	PLX_NVMF_SUBTYPE_DISCOVERY_CURRENT = 0x3,
};

/* TREQ: bits 1:0 secure channel (1 required, 2 not required), bit 2 SQ flow control disable. */
#define PLX_NVMF_TREQ_SECURE_CHANNEL_REQUIRED	  0x1
#define PLX_NVMF_TREQ_SECURE_CHANNEL_NOT_REQUIRED 0x2
#define PLX_NVMF_TREQ_DISABLE_SQ_FLOW_CONTROL	  0x4

/* EFLAGS */
#define PLX_NVMF_DISC_EFLAG_EPCSD      (1u << 1) /* explicit persistent connection support */
#define PLX_NVMF_DISC_EFLAG_DUPRETINFO (1u << 0)

struct plx_nvmf_discovery_log_page_entry {
	uint8_t trtype;
	uint8_t adrfam;
	uint8_t subtype;
	uint8_t treq;
	uint16_t portid;
	uint16_t cntlid; /* 0xffff: dynamic */
	uint16_t asqsz;
	uint16_t eflags;
	uint8_t rsvd12[20];
	char trsvcid[32]; /* space padded, not NUL terminated */
	uint8_t rsvd64[192];
	char subnqn[256];
	char traddr[256]; /* space padded */
	uint8_t tsas[256];
};
static_assert(sizeof(struct plx_nvmf_discovery_log_page_entry) == 1024, "discovery entry 1024");

struct plx_nvmf_discovery_log_page {
	uint64_t genctr;
	uint64_t numrec;
	uint16_t recfmt;
	uint8_t rsvd18[1006];
	struct plx_nvmf_discovery_log_page_entry entries[];
};
static_assert(sizeof(struct plx_nvmf_discovery_log_page) == 1024, "discovery header 1024");

#ifdef __cplusplus
}
#endif

#endif /* POLLUX_NVME_SPEC_H */
