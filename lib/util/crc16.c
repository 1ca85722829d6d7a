/* SPDX-License-Identifier: BSD-3-Clause */
/* CRC-16 T10-DIF: the guard tag of SCSI/NVMe protection information. */
#include "pollux/util.h"

#define CRC16_T10DIF_POLY 0x8BB7u

/* g_crc16_table[b]: the CRC register change caused by top byte b (MSB-first, unreflected). */
static uint16_t g_crc16_table[256];

__attribute__((constructor)) static void crc16_t10dif_init(void)
{
	for (uint32_t b = 0; b < 256; b++) {
		uint32_t crc = b << 8;

		for (int bit = 0; bit < 8; bit++) {
			crc = (crc & 0x8000u) ? (crc << 1) ^ CRC16_T10DIF_POLY : crc << 1;
		}
		g_crc16_table[b] = (uint16_t)crc;
	}
}

uint16_t plx_crc16_t10dif(uint16_t init_crc, const void *buf, size_t len)
{
	const uint8_t *p = buf;
	uint16_t crc = init_crc;

	for (size_t i = 0; i < len; i++) {
		crc = (uint16_t)((crc << 8) ^ g_crc16_table[((crc >> 8) ^ p[i]) & 0xffu]);
	}
	return crc;
}
