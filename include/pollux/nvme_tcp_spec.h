/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * NVMe/TCP transport PDUs (NVM Express TCP Transport Specification 1.0).
 *
 * A PDU is a common header (8 bytes), the rest of its PDU-specific header (hlen bytes in all),
 * an optional header digest (CRC32C, 4 bytes, when HDGSTF is set), padding up to pdo, the
 * data, and an optional data digest (CRC32C over the data, when DDGSTF is set). plen counts
 * all of it. Shared by the target (lib/nvmf/tcp*) and the host (lib/nvme, test clients).
 */
#ifndef POLLUX_NVME_TCP_SPEC_H
#define POLLUX_NVME_TCP_SPEC_H

#include <assert.h>
#include <stdint.h>

#include "pollux/nvme_spec.h"

#ifdef __cplusplus
extern "C" {
#endif

enum plx_nvme_tcp_pdu_type {
	PLX_NVME_TCP_PDU_IC_REQ = 0x00,
	PLX_NVME_TCP_PDU_IC_RESP = 0x01,
	PLX_NVME_TCP_PDU_H2C_TERM_REQ = 0x02,
	PLX_NVME_TCP_PDU_C2H_TERM_REQ = 0x03,
	PLX_NVME_TCP_PDU_CAPSULE_CMD = 0x04,
	PLX_NVME_TCP_PDU_CAPSULE_RESP = 0x05,
	PLX_NVME_TCP_PDU_H2C_DATA = 0x06,
	PLX_NVME_TCP_PDU_C2H_DATA = 0x07,
	PLX_NVME_TCP_PDU_R2T = 0x09,
};

/* Common header flags */
#define PLX_NVME_TCP_CH_FLAGS_HDGSTF (1u << 0)
#define PLX_NVME_TCP_CH_FLAGS_DDGSTF (1u << 1)
/* H2CData / C2HData flags */
#define PLX_NVME_TCP_DATA_FLAGS_LAST_PDU    (1u << 2)
#define PLX_NVME_TCP_C2H_DATA_FLAGS_SUCCESS (1u << 3)

/* ICReq/ICResp dgst bits */
#define PLX_NVME_TCP_HDGST_ENABLE (1u << 0)
#define PLX_NVME_TCP_DDGST_ENABLE (1u << 1)

#define PLX_NVME_TCP_PFV_1_0	       0
#define PLX_NVME_TCP_DIGEST_LEN	       4
#define PLX_NVME_TCP_TERM_REQ_MAX_DATA 152 /* the offending header, at most */
#define PLX_NVME_TCP_CPDA_MAX	       31
#define PLX_NVME_TCP_HPDA_MAX	       31
#define PLX_NVME_TCP_PDU_HLEN_MAX      128

/* Header lengths (hlen) of each PDU type */
#define PLX_NVME_TCP_IC_REQ_HLEN       128
#define PLX_NVME_TCP_IC_RESP_HLEN      128
#define PLX_NVME_TCP_TERM_REQ_HLEN     24
#define PLX_NVME_TCP_CAPSULE_CMD_HLEN  72
#define PLX_NVME_TCP_CAPSULE_RESP_HLEN 24
#define PLX_NVME_TCP_DATA_HLEN	       24
#define PLX_NVME_TCP_R2T_HLEN	       24

/* Fatal error status of a TermReq */
enum plx_nvme_tcp_term_req_fes {
	PLX_NVME_TCP_FES_INVALID_HEADER_FIELD = 0x01,
	PLX_NVME_TCP_FES_PDU_SEQUENCE_ERROR = 0x02,
	PLX_NVME_TCP_FES_HDGST_ERROR = 0x03,
	PLX_NVME_TCP_FES_DATA_TRANSFER_OUT_OF_RANGE = 0x04,
	PLX_NVME_TCP_FES_R2T_LIMIT_EXCEEDED = 0x05,
	PLX_NVME_TCP_FES_DATA_TRANSFER_LIMIT_EXCEEDED = 0x05,
	PLX_NVME_TCP_FES_UNSUPPORTED_PARAMETER = 0x06,
};

struct plx_nvme_tcp_common_hdr {
	uint8_t pdu_type;
	uint8_t flags;
	uint8_t hlen;
	uint8_t pdo;
	uint32_t plen;
};
static_assert(sizeof(struct plx_nvme_tcp_common_hdr) == 8, "common header is 8 bytes");

struct plx_nvme_tcp_ic_req {
	struct plx_nvme_tcp_common_hdr common;
	uint16_t pfv;
	uint8_t hpda; /* host PDU data alignment, 4-byte units, 0's based */
	uint8_t dgst;
	uint32_t maxr2t; /* 0's based */
	uint8_t rsvd16[112];
};
static_assert(sizeof(struct plx_nvme_tcp_ic_req) == 128, "ICReq is 128 bytes");

struct plx_nvme_tcp_ic_resp {
	struct plx_nvme_tcp_common_hdr common;
	uint16_t pfv;
	uint8_t cpda; /* controller PDU data alignment */
	uint8_t dgst;
	uint32_t maxh2cdata; /* bytes; at least 4096, a multiple of 4 */
	uint8_t rsvd16[112];
};
static_assert(sizeof(struct plx_nvme_tcp_ic_resp) == 128, "ICResp is 128 bytes");

struct plx_nvme_tcp_term_req_hdr {
	struct plx_nvme_tcp_common_hdr common;
	uint16_t fes;
	uint32_t fei; /* field error information: byte offset of the bad field */
	uint8_t rsvd14[10];
} __attribute__((packed));
static_assert(sizeof(struct plx_nvme_tcp_term_req_hdr) == 24, "TermReq header is 24 bytes");

struct plx_nvme_tcp_cmd {
	struct plx_nvme_tcp_common_hdr common;
	struct plx_nvme_cmd ccsqe;
};
static_assert(sizeof(struct plx_nvme_tcp_cmd) == 72, "CapsuleCmd header is 72 bytes");

struct plx_nvme_tcp_rsp {
	struct plx_nvme_tcp_common_hdr common;
	struct plx_nvme_cpl rccqe;
};
static_assert(sizeof(struct plx_nvme_tcp_rsp) == 24, "CapsuleResp is 24 bytes");

struct plx_nvme_tcp_h2c_data_hdr {
	struct plx_nvme_tcp_common_hdr common;
	uint16_t cccid;
	uint16_t ttag;
	uint32_t datao;
	uint32_t datal;
	uint8_t rsvd20[4];
};
static_assert(sizeof(struct plx_nvme_tcp_h2c_data_hdr) == 24, "H2CData header is 24 bytes");

struct plx_nvme_tcp_c2h_data_hdr {
	struct plx_nvme_tcp_common_hdr common;
	uint16_t cccid;
	uint8_t rsvd10[2];
	uint32_t datao;
	uint32_t datal;
	uint8_t rsvd20[4];
};
static_assert(sizeof(struct plx_nvme_tcp_c2h_data_hdr) == 24, "C2HData header is 24 bytes");

struct plx_nvme_tcp_r2t_hdr {
	struct plx_nvme_tcp_common_hdr common;
	uint16_t cccid;
	uint16_t ttag;
	uint32_t r2to;
	uint32_t r2tl;
	uint8_t rsvd20[4];
};
static_assert(sizeof(struct plx_nvme_tcp_r2t_hdr) == 24, "R2T header is 24 bytes");

/* Any PDU header, for receive buffers sized to the largest header plus its digest. */
union plx_nvme_tcp_pdu_hdr {
	struct plx_nvme_tcp_common_hdr common;
	struct plx_nvme_tcp_ic_req ic_req;
	struct plx_nvme_tcp_ic_resp ic_resp;
	struct plx_nvme_tcp_term_req_hdr term_req;
	struct plx_nvme_tcp_cmd capsule_cmd;
	struct plx_nvme_tcp_rsp capsule_resp;
	struct plx_nvme_tcp_h2c_data_hdr h2c_data;
	struct plx_nvme_tcp_c2h_data_hdr c2h_data;
	struct plx_nvme_tcp_r2t_hdr r2t;
	uint8_t raw[PLX_NVME_TCP_PDU_HLEN_MAX + PLX_NVME_TCP_DIGEST_LEN];
};

/* Header length each PDU type must carry (0 for types a given side never receives). */
static inline uint8_t plx_nvme_tcp_pdu_hlen(uint8_t pdu_type)
{
	switch (pdu_type) {
	case PLX_NVME_TCP_PDU_IC_REQ:
	case PLX_NVME_TCP_PDU_IC_RESP:
		return 128;
	case PLX_NVME_TCP_PDU_H2C_TERM_REQ:
	case PLX_NVME_TCP_PDU_C2H_TERM_REQ:
	case PLX_NVME_TCP_PDU_CAPSULE_RESP:
	case PLX_NVME_TCP_PDU_H2C_DATA:
	case PLX_NVME_TCP_PDU_C2H_DATA:
	case PLX_NVME_TCP_PDU_R2T:
		return 24;
	case PLX_NVME_TCP_PDU_CAPSULE_CMD:
		return 72;
	default:
		return 0;
	}
}

#ifdef __cplusplus
}
#endif

#endif /* POLLUX_NVME_TCP_SPEC_H */
