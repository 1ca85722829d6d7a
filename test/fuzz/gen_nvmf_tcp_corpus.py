#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Write the seed corpus of nvmf_tcp_fuzz (test/fuzz/nvmf_tcp_fuzz.c).

Each seed is the harness's mode byte followed by a raw NVMe/TCP PDU stream:

  mode bits 1:0  what the harness does before the input: 0 nothing, 1 ICReq, 2 ICReq + admin
                 Connect + CC.EN, 3 an I/O queue (qid 1) of a live controller
  mode bit 2/3   header / data digest asked for in the harness's ICReq
  mode bit 4     the harness recomputes the digests each input PDU's flags announce
  mode bit 5     half-close after sending
  mode bits 7:6  0 one write per PDU, 1 one write, 2 each PDU in two writes, 3 wait for
                 answers after each PDU

usage: test/fuzz/gen_nvmf_tcp_corpus.py [OUTDIR]   (default test/fuzz/corpus/nvmf_tcp)
"""
import os
import struct
import sys

SUBNQN = b'nqn.2016-06.io.pollux:fuzz'
HOSTNQN = b'nqn.2014-08.org.nvmexpress:uuid:6f7a7a00-0000-4000-8000-0000000f0022'
DISCOVERY_NQN = b'nqn.2014-08.org.nvmexpress.discovery'

LEVEL_NONE, LEVEL_ICREQ, LEVEL_ADMIN, LEVEL_IO = 0, 1, 2, 3
M_HDGST, M_DDGST, M_FIX, M_HALF_CLOSE = 0x04, 0x08, 0x10, 0x20
SEND_PER_PDU, SEND_ONE_WRITE, SEND_SPLIT, SEND_WAIT = 0x00, 0x40, 0x80, 0xc0

HDGSTF, DDGSTF, LAST_PDU = 0x01, 0x02, 0x04
BLOCK = 512  # the fuzz target's malloc bdev


def _crc_table():
    table = []
    for i in range(256):
        c = i
        for _ in range(8):
            c = (c >> 1) ^ 0x82f63b78 if c & 1 else c >> 1
        table.append(c)
    return table


CRC_TABLE = _crc_table()


def crc32c(data):
    c = 0xffffffff
    for b in data:
        c = CRC_TABLE[(c ^ b) & 0xff] ^ (c >> 8)
    return struct.pack('<I', c ^ 0xffffffff)


class Digests:
    def __init__(self, hdgst=False, ddgst=False):
        self.hdgst = hdgst
        self.ddgst = ddgst


NO_DGST = Digests()


def pdu(ptype, hdr_rest, data=b'', dg=NO_DGST, flags=0):
    """A PDU: common header + the rest of its header [+ HDGST] [+ data [+ DDGST]]."""
    hlen = 8 + len(hdr_rest)
    hd = 4 if dg.hdgst else 0
    dd = 4 if dg.ddgst and data else 0
    flags |= (HDGSTF if hd else 0) | (DDGSTF if dd else 0)
    pdo = hlen + hd if data else 0
    plen = hlen + hd + len(data) + dd
    hdr = struct.pack('<BBBBI', ptype, flags, hlen, pdo, plen) + hdr_rest
    out = hdr + (crc32c(hdr) if hd else b'')
    if data:
        out += data + (crc32c(data) if dd else b'')
    return out


def icreq(dgst=0):
    return pdu(0x00, struct.pack('<HBBI', 0, 0, dgst, 0) + bytes(112))


def sgl_icd(length):
    return struct.pack('<QI3xB', 0, length, 0x01)  # data block, offset subtype


def sgl_transport(length):
    return struct.pack('<QI3xB', 0, length, 0x5a)  # transport data block, transport subtype


def sqe(opc, cid, nsid=0, sgl=None, cdws=(0, 0, 0, 0, 0, 0), fuse=0):
    """A 64-byte submission queue entry; psdt = 1 (SGL) like Linux hosts send."""
    sgl = sgl if sgl is not None else bytes(16)
    head = struct.pack('<BBHIIIQ', opc, 0x40 | fuse, cid, nsid, 0, 0, 0)
    return head + sgl + struct.pack('<6I', *cdws)


def fabrics(fctype, cid, sgl, specific):
    """A fabrics command: opcode 0x7f, fctype at byte 4, 24 specific bytes at 40."""
    sgl = sgl if sgl is not None else bytes(16)
    cmd = struct.pack('<BBHB19x', 0x7f, 0x40, cid, fctype) + sgl + specific
    assert len(cmd) == 64
    return cmd


def capsule(cmd, data=b'', dg=NO_DGST):
    return pdu(0x04, cmd, data, dg)


def connect(qid=0, cntlid=0xffff, subnqn=SUBNQN, dg=NO_DGST, cid=1, sqsize=31, kato=30000):
    specific = struct.pack('<HHHBBI12x', 0, qid, sqsize, 0, 0, kato)
    data = (bytes([0x5a] * 16) + struct.pack('<H', cntlid) + bytes(238) +
            subnqn.ljust(256, b'\0') + HOSTNQN.ljust(256, b'\0') + bytes(256))
    return capsule(fabrics(0x01, cid, sgl_icd(len(data)), specific), data, dg)


def prop_set(ofst, value, cid, size8=False, dg=NO_DGST):
    specific = struct.pack('<B3xIQ8x', 1 if size8 else 0, ofst, value)
    return capsule(fabrics(0x00, cid, None, specific), b'', dg)


def prop_get(ofst, cid, size8=False, dg=NO_DGST):
    specific = struct.pack('<B3xI16x', 1 if size8 else 0, ofst)
    return capsule(fabrics(0x04, cid, None, specific), b'', dg)


def cc_enable(cid=2, dg=NO_DGST):
    return prop_set(0x14, 0x00460001, cid, dg=dg)


def identify(cns, cid, nsid=0, dg=NO_DGST):
    return capsule(sqe(0x06, cid, nsid, sgl_transport(4096), (cns, 0, 0, 0, 0, 0)), b'', dg)


def get_log_page(lid, length, cid, nsid=0xffffffff):
    numd = length // 4 - 1
    cdw10 = lid | (numd & 0xffff) << 16
    return capsule(sqe(0x02, cid, nsid, sgl_transport(length), (cdw10, numd >> 16, 0, 0, 0, 0)))


def admin_nodata(opc, cid, nsid=0, cdws=(0, 0, 0, 0, 0, 0)):
    """An admin command without data; opcodes whose bits 1:0 announce a transfer (Get/Set
    Features) carry a zero-length transport SGL, as Linux hosts send them."""
    sgl = sgl_transport(0) if opc & 3 else None
    return capsule(sqe(opc, cid, nsid, sgl, cdws))


def rw(opc, cid, slba, nblocks, sgl, data=b'', dg=NO_DGST, fuse=0):
    cdws = (slba & 0xffffffff, slba >> 32, nblocks - 1, 0, 0, 0)
    return capsule(sqe(opc, cid, 1, sgl, cdws, fuse), data, dg)


def h2c_data(cid, ttag, offset, data, last=True, dg=NO_DGST):
    hdr = struct.pack('<HHII4x', cid, ttag, offset, len(data))
    return pdu(0x06, hdr, data, dg, LAST_PDU if last else 0)


def pattern(n, seed):
    return bytes((i * 31 + seed) & 0xff for i in range(n))


def admin_setup(dg=NO_DGST, icreq_dgst=0, subnqn=SUBNQN):
    return icreq(icreq_dgst) + connect(0, subnqn=subnqn, dg=dg) + cc_enable(dg=dg)


def seeds():
    both = Digests(True, True)
    hdr_only = Digests(True, False)
    s = {}
    # Raw streams from the first byte, built up one step at a time.
    s['01_icreq'] = [LEVEL_NONE, icreq()]
    # A host waits for the Connect to complete before it sends more: SEND_WAIT does that.
    raw = LEVEL_NONE | SEND_WAIT
    s['02_icreq_connect'] = [raw, icreq() + connect(0)]
    s['03_icreq_connect_cc_en'] = [raw, admin_setup() + prop_get(0x1c, 3)]
    s['04_identify'] = [raw, admin_setup() + identify(1, 4) + identify(0, 5, nsid=1)]
    s['05_prop_get_cap_vs'] = [raw, icreq() + connect(0) + prop_get(0x0, 2, True) +
                               prop_get(0x8, 3) + prop_get(0x14, 4) + cc_enable(5)]
    # Digests negotiated in the ICReq and correct on every PDU.
    s['06_digests_raw'] = [raw, admin_setup(both, 3) + identify(1, 4, dg=both)]
    s['07_hdgst_only_raw'] = [raw, admin_setup(hdr_only, 1) + identify(2, 4, dg=hdr_only)]
    # Admin commands on an enabled controller.
    s['08_admin_mix'] = [LEVEL_ADMIN, b''.join([
        identify(2, 10), identify(3, 11, nsid=1), identify(0x06, 12),
        get_log_page(0x01, 256, 13), get_log_page(0x02, 512, 14), get_log_page(0x03, 512, 15),
        get_log_page(0x04, 4096, 16), get_log_page(0x05, 4096, 17), get_log_page(0x0c, 4096, 18),
        get_log_page(0x80, 64, 19),
        admin_nodata(0x0a, 20, cdws=(0x07, 0, 0, 0, 0, 0)),          # Get Features: queues
        admin_nodata(0x09, 21, cdws=(0x07, 0x00030003, 0, 0, 0, 0)),  # Set Features: queues
        admin_nodata(0x09, 22, cdws=(0x0b, 0x900, 0, 0, 0, 0)),      # async event config
        admin_nodata(0x0a, 23, cdws=(0x0f, 0, 0, 0, 0, 0)),          # keep alive timer
        admin_nodata(0x0a, 24, cdws=(0x06, 0, 0, 0, 0, 0)),          # volatile write cache
        admin_nodata(0x0c, 25), admin_nodata(0x18, 26),             # AER, Keep Alive
        admin_nodata(0x08, 27, cdws=(25, 0, 0, 0, 0, 0)),            # Abort the AER
        admin_nodata(0x7e, 28),                                     # an unknown opcode
    ])]
    s['09_discovery'] = [raw, admin_setup(subnqn=DISCOVERY_NQN) +
                         identify(1, 4) + get_log_page(0x70, 1024, 5, nsid=0)]
    s['10_h2c_termreq'] = [LEVEL_ICREQ, pdu(0x02, struct.pack('<HI10x', 1, 0))]
    # I/O queue seeds (the harness connects an admin queue and queue 1 first).
    data = pattern(4096, 7)
    s['11_write_icd'] = [LEVEL_IO, rw(0x01, 1, 8, 8, sgl_icd(4096), data)]
    s['12_read'] = [LEVEL_IO, rw(0x02, 1, 0, 8, sgl_transport(4096)) +
                    rw(0x02, 2, 8184, 8, sgl_transport(4096))]
    big = pattern(8192, 3)
    s['13_write_r2t_h2c'] = [LEVEL_IO | SEND_WAIT, rw(0x01, 1, 16, 16, sgl_transport(8192)) +
                             h2c_data(1, 0, 0, big)]
    s['14_write_r2t_two_h2c'] = [LEVEL_IO | SEND_WAIT, rw(0x01, 1, 32, 16, sgl_transport(8192)) +
                                 h2c_data(1, 0, 0, big[:4096], last=False) +
                                 h2c_data(1, 0, 4096, big[4096:])]
    s['15_digests_io'] = [LEVEL_IO | M_HDGST | M_DDGST | M_FIX,
                          rw(0x01, 1, 0, 8, sgl_icd(4096), data, both) +
                          rw(0x02, 2, 0, 8, sgl_transport(4096), b'', both)]
    s['16_digests_r2t'] = [LEVEL_IO | M_HDGST | M_DDGST | M_FIX | SEND_WAIT,
                           rw(0x01, 1, 64, 16, sgl_transport(8192), b'', both) +
                           h2c_data(1, 0, 0, big, dg=both)]
    dsm_range = struct.pack('<IIQ', 0, 16, 100)
    resv_reg = struct.pack('<QQ', 0, 0x1234)
    s['17_io_mix'] = [LEVEL_IO, b''.join([
        capsule(sqe(0x00, 1, 1)),                                                 # Flush
        capsule(sqe(0x08, 2, 1, None, (40, 0, 15, 0, 0, 0))),                     # Write Zeroes
        capsule(sqe(0x09, 3, 1, sgl_icd(16), (0, 0x4, 0, 0, 0, 0)), dsm_range),   # DSM deallocate
        rw(0x05, 4, 8, 8, sgl_icd(4096), data),                                   # Compare
        capsule(sqe(0x0d, 5, 1, sgl_icd(16), (0, 0, 0, 0, 0, 0)), resv_reg),      # Resv Register
        capsule(sqe(0x0e, 6, 1, sgl_transport(4096), (1023, 1, 0, 0, 0, 0))),     # Resv Report
        rw(0x02, 7, 1 << 40, 1, sgl_transport(512)),                              # LBA out of range
        capsule(sqe(0x99, 8, 1)),                                                 # unknown opcode
    ])]
    s['18_fused_compare_write'] = [LEVEL_IO | SEND_WAIT,
                                   rw(0x01, 1, 8, 1, sgl_icd(512), data[:512]) +
                                   rw(0x05, 2, 8, 1, sgl_icd(512), data[:512], fuse=1) +
                                   rw(0x01, 3, 8, 1, sgl_icd(512), big[:512], fuse=2) +
                                   rw(0x05, 4, 8, 1, sgl_icd(512), data[:512], fuse=1) +
                                   rw(0x01, 5, 8, 1, sgl_icd(512), big[:512], fuse=2)]
    s['19_split_writes'] = [LEVEL_IO | SEND_SPLIT, rw(0x01, 1, 0, 8, sgl_icd(4096), data) +
                            rw(0x02, 2, 0, 8, sgl_transport(4096))]
    s['20_half_close'] = [LEVEL_ADMIN | M_HALF_CLOSE | SEND_ONE_WRITE, identify(1, 3)]
    return s


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(here, 'corpus', 'nvmf_tcp')
    os.makedirs(out, exist_ok=True)
    for name, (mode, stream) in sorted(seeds().items()):
        with open(os.path.join(out, name), 'wb') as f:
            f.write(bytes([mode]) + stream)
    print('%d seeds in %s' % (len(seeds()), out))


if __name__ == '__main__':
    main()
