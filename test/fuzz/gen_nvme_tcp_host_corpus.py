#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Write the seed corpus of nvme_tcp_host_fuzz (test/fuzz/nvme_tcp_host_fuzz.c).

Each seed is the harness's 16-byte header followed by what a controller sends after the
ICResp and the Connect response (the harness answers those itself):

  h[0]  bit 0/1 host asks for header / data digests; bit 2/3 the ICResp refuses them;
        bit 4 the harness fixes the stream's digests; bit 5 small socket buffers;
        bits 7:6 chunking: 0 per PDU, 1 one write, 2 each PDU in two writes, 3 random sizes
  h[1]  bits 4:0 CPDA; bits 7:5 MAXH2CDATA index (4096, 8192, 4100, 16384, 65536, 131072,
        12292, 0xfffffffc)
  h[2]  bits 2:0 commands - 1; bit 3 4 KiB in-capsule data; bits 5:4 completions per poll;
        bit 6 delay_cmd_submit; bit 7 completions resubmit
  h[3]  bits 1:0 retries; bits 3:2 draining; bits 5:4 queue size index (32, 4, 2, 8);
        bits 7:6 polls per chunk - 1
  h[4]  chunk seed
  h[8+i] command i: bits 1:0 read/write/flush/read; bits 4:2 size index (512, 4096, 8192,
        1000, 4100, 16384, 65536, 131072); bit 5 scatter-gather; bits 7:6 segment size
        (512, 1000, 4096, 7)

Command i has cid i while the first commands are outstanding.

usage: test/fuzz/gen_nvme_tcp_host_corpus.py [OUTDIR]   (default test/fuzz/corpus/nvme_tcp_host)
"""
import os
import struct
import sys

HDGSTF, DDGSTF, LAST_PDU, SUCCESS = 0x01, 0x02, 0x04, 0x08
C2H_TERM_REQ, CAPSULE_RESP, C2H_DATA, R2T = 0x03, 0x05, 0x07, 0x09
READ, WRITE, FLUSH = 0, 1, 2
SIZES = {512: 0, 4096: 1, 8192: 2, 1000: 3, 4100: 4, 16384: 5, 65536: 6, 131072: 7}
SEG_SIZES = {512: 0, 1000: 1, 4096: 2, 7: 3}
CHUNK_PER_PDU, CHUNK_ONE_WRITE, CHUNK_SPLIT, CHUNK_RANDOM = 0x00, 0x40, 0x80, 0xc0


# One CRC32C for both generators (independent of the C code it cross-checks).
from gen_nvmf_tcp_corpus import crc32c  # noqa: E402


def cmd(kind, size=512, sgl=False, seg=512):
    return kind | SIZES[size] << 2 | (0x20 if sgl else 0) | SEG_SIZES[seg] << 6


def header(cmds, hd=False, dd=False, chunk=CHUNK_PER_PDU, cpda=0, maxh2c=0, icd=False,
           max_cpl=0, delay=False, resubmit=False, retries=0, drain=0, qsize=0, polls=1,
           seed=0, small=False, refuse=0, fix=False):
    h = bytearray(16)
    h[0] = (1 if hd else 0) | (2 if dd else 0) | refuse << 2 | (0x10 if fix else 0) | \
        (0x20 if small else 0) | chunk
    h[1] = cpda | maxh2c << 5
    h[2] = (len(cmds) - 1) | (8 if icd else 0) | max_cpl << 4 | (0x40 if delay else 0) | \
        (0x80 if resubmit else 0)
    h[3] = retries | drain << 2 | qsize << 4 | (polls - 1) << 6
    h[4] = seed
    h[8:8 + len(cmds)] = bytes(cmds)
    return bytes(h)


class Link:
    """What the ICResp granted: the digests every PDU of the stream carries."""

    def __init__(self, hd=False, dd=False):
        self.hd = hd
        self.dd = dd

    def pdu(self, ptype, rest, data=b'', flags=0, pad=0):
        hlen = 8 + len(rest)
        hdl = 4 if self.hd else 0
        ddl = 4 if self.dd and data else 0
        flags |= (HDGSTF if hdl else 0) | (DDGSTF if ddl else 0)
        pdo = hlen + hdl + pad if data else 0
        plen = (pdo + len(data) + ddl) if data else hlen + hdl
        hdr = struct.pack('<BBBBI', ptype, flags, hlen, pdo, plen) + rest
        out = hdr + (crc32c(hdr) if hdl else b'')
        if data:
            out += bytes(pad) + data + (crc32c(data) if ddl else b'')
        return out

    def resp(self, cid, sct=0, sc=0, cdw0=0, dnr=False):
        status = (sc << 1) | (sct << 9) | (0x8000 if dnr else 0)
        return self.pdu(CAPSULE_RESP, struct.pack('<IIHHHH', cdw0, 0, 0, 1, cid, status))

    def c2h(self, cid, datao, data, flags=0, pad=0):
        return self.pdu(C2H_DATA, struct.pack('<HHII4x', cid, 0, datao, len(data)), data,
                        flags, pad)

    def r2t(self, cid, ttag, offset, length):
        return self.pdu(R2T, struct.pack('<HHII4x', cid, ttag, offset, length))

    def read_all(self, cid, size, piece, flags_last=LAST_PDU, pad=0):
        out = b''
        for off in range(0, size, piece):
            n = min(piece, size - off)
            data = bytes((off + i) * 7 & 0xff for i in range(n))
            out += self.c2h(cid, off, data, flags_last if off + n == size else 0, pad)
        return out


def term_req(fes=1, fei=0):
    return struct.pack('<BBBBIHI10x', C2H_TERM_REQ, 0, 24, 0, 24, fes, fei)


def seeds():
    plain = Link()
    both = Link(True, True)
    hd_only = Link(True, False)
    s = {}
    s['01_read_c2h_resp'] = header([cmd(READ, 4096)]) + \
        plain.read_all(0, 4096, 4096) + plain.resp(0)
    s['02_read_success_flag_digests'] = header([cmd(READ, 8192)], hd=True, dd=True) + \
        both.read_all(0, 8192, 4096, LAST_PDU | SUCCESS)
    s['03_write_r2t'] = header([cmd(WRITE, 16384)]) + \
        plain.r2t(0, 1, 0, 16384) + plain.resp(0)
    s['04_write_r2t_digests_split'] = header([cmd(WRITE, 8192)], hd=True, dd=True,
                                             maxh2c=2, cpda=3, chunk=CHUNK_SPLIT, seed=7) + \
        both.r2t(0, 5, 0, 4096) + both.r2t(0, 6, 4096, 4096) + both.resp(0)
    mix = [cmd(READ, 4096), cmd(WRITE, 8192), cmd(FLUSH), cmd(READ, 8192, sgl=True, seg=1000)]
    s['05_mix_digests_random'] = header(mix, hd=True, dd=True, chunk=CHUNK_RANDOM, seed=3) + \
        both.c2h(0, 0, bytes(1000), pad=8) + both.r2t(1, 9, 0, 4096) + \
        both.c2h(0, 1000, bytes(3096), LAST_PDU, pad=4) + both.resp(0) + \
        both.r2t(1, 10, 4096, 4096) + both.resp(2) + \
        both.read_all(3, 8192, 3000) + both.resp(3) + both.resp(1)
    s['06_read_64k_hdgst_split'] = header([cmd(READ, 65536)], hd=True, chunk=CHUNK_SPLIT,
                                          seed=11) + \
        hd_only.read_all(0, 65536, 30000) + hd_only.resp(0)
    # An error status without DNR is retried, and the completion resubmits it again.
    s['07_error_retry_resubmit'] = header([cmd(FLUSH), cmd(READ, 512)], retries=1,
                                          resubmit=True) + \
        plain.resp(0, sct=0, sc=0x06) + plain.resp(1, sct=0, sc=0x80, dnr=True) + \
        plain.resp(0) + plain.resp(1, sct=0, sc=0x02, dnr=True) + plain.resp(0) + \
        plain.read_all(1, 512, 512) + plain.resp(1)
    s['08_term_req'] = header([cmd(READ, 4096), cmd(WRITE, 4096)]) + \
        plain.c2h(0, 0, bytes(512)) + term_req(1, 8)
    s['09_icd_write_one_write'] = header([cmd(WRITE, 4096), cmd(WRITE, 512, sgl=True)],
                                         icd=True, dd=True, chunk=CHUNK_ONE_WRITE) + \
        plain.resp(1) + plain.resp(0)
    s['10_flushes_one_per_poll'] = header([cmd(FLUSH)] * 8, max_cpl=1,
                                          chunk=CHUNK_ONE_WRITE) + \
        b''.join(plain.resp(i) for i in reversed(range(8)))
    # Queue of 2: commands 2 and 3 wait in the core's retry queue for cids 0 and 1.
    s['11_queue_full'] = header([cmd(FLUSH), cmd(READ, 512), cmd(FLUSH), cmd(FLUSH)],
                                qsize=2, delay=True) + \
        plain.resp(0) + plain.read_all(1, 512, 512) + plain.resp(1) + plain.resp(0) + \
        plain.resp(1)
    # A write through eight R2Ts with small socket buffers: partial writevs of H2CData.
    s['12_write_small_buffers'] = header([cmd(WRITE, 65536, sgl=True, seg=4096),
                                          cmd(READ, 1000)],
                                         small=True, drain=0, polls=4, maxh2c=0) + \
        plain.read_all(1, 1000, 1000) + plain.resp(1) + \
        b''.join(plain.r2t(0, i, i * 8192, 8192) for i in range(8)) + plain.resp(0)
    # Digests asked for and refused by the ICResp: the stream carries none.
    s['13_digests_refused'] = header([cmd(READ, 4100)], hd=True, dd=True, refuse=3,
                                     chunk=CHUNK_RANDOM, seed=99) + \
        plain.read_all(0, 4100, 2048) + plain.resp(0)
    # Digests left as zeros for the harness to fix (mutations keep them valid).
    zero = both.c2h(0, 0, bytes(range(256)) * 2, LAST_PDU)
    zero = zero[:24] + bytes(4) + zero[28:-4] + bytes(4)
    s['14_fix_digests'] = header([cmd(READ, 512)], hd=True, dd=True, fix=True) + \
        zero + both.resp(0)[:24] + bytes(4)
    # Small buffers, six in-capsule writes: command 6's capsule is stuck in the host's writev
    # when its completion arrives (deferred), then an R2T names it: a protocol error.
    s['15_pdu_after_deferred_completion'] = header([cmd(WRITE, 4096)] * 6 + [cmd(WRITE, 8192)],
                                                   icd=True, small=True, drain=2,
                                                   delay=True) + \
        plain.resp(6) + plain.r2t(6, 1, 0, 8192)
    return s


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(here, 'corpus', 'nvme_tcp_host')
    os.makedirs(out, exist_ok=True)
    all_seeds = seeds()
    for name, data in sorted(all_seeds.items()):
        with open(os.path.join(out, name), 'wb') as f:
            f.write(data)
    print('%d seeds in %s' % (len(all_seeds), out))


if __name__ == '__main__':
    main()
