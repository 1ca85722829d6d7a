#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Raw NVMe/TCP exchange with a target, from the host: ICReq/ICResp, then a Fabrics Connect
on the admin queue and a Property Get of VS. Prints one "ok - NAME" / "not ok - NAME: why"
line per step and exits 1 if a step failed.

    nvme_tcp_probe.py HOST PORT SUBNQN
"""

import socket
import struct
import sys
import uuid

PDU_ICREQ, PDU_ICRESP, PDU_CAPSULE_CMD, PDU_CAPSULE_RESP = 0x00, 0x01, 0x04, 0x05
FABRICS_OPC = 0x7F
FCTYPE_CONNECT, FCTYPE_PROPERTY_GET = 0x01, 0x04
SGL_METABUF = 0x40  # PSDT 01b: SGLs, as NVMe over Fabrics requires
SGL_DATA_BLOCK_OFFSET = 0x01  # descriptor type 0 (data block), subtype 1 (offset): in-capsule
HOSTNQN = 'nqn.2024-01.io.pollux:host-probe'
TIMEOUT = 20


class Failed(Exception):
    pass


def recv_exact(sock, n):
    buf = b''
    while len(buf) < n:
        chunk = sock.recv(n - len(buf))
        if not chunk:
            raise Failed('connection closed after %d of %d bytes' % (len(buf), n))
        buf += chunk
    return buf


def recv_pdu(sock):
    ch = recv_exact(sock, 8)
    pdu_type, flags, hlen, pdo, plen = struct.unpack('<BBBBI', ch)
    if plen < 8 or plen > 1 << 20:
        raise Failed('bad PDU length %d' % plen)
    return pdu_type, hlen, ch + recv_exact(sock, plen - 8)


def icreq(sock):
    pdu = struct.pack('<BBBBIHBBI', PDU_ICREQ, 0, 128, 0, 128, 0, 0, 0, 0).ljust(128, b'\0')
    sock.sendall(pdu)
    pdu_type, hlen, resp = recv_pdu(sock)
    if pdu_type != PDU_ICRESP or hlen != 128 or len(resp) != 128:
        raise Failed('expected ICResp (type 1, hlen 128), got type %d hlen %d len %d' %
                     (pdu_type, hlen, len(resp)))
    pfv, cpda, dgst, maxh2cdata = struct.unpack_from('<HBBI', resp, 8)
    if pfv != 0 or dgst != 0 or maxh2cdata < 4096:
        raise Failed('ICResp pfv=%d dgst=%d maxh2cdata=%d' % (pfv, dgst, maxh2cdata))
    return 'pfv=%d cpda=%d maxh2cdata=%d' % (pfv, cpda, maxh2cdata)


def capsule(sock, sqe, data=b''):
    hlen = 8 + 64
    pdu = struct.pack('<BBBBI', PDU_CAPSULE_CMD, 0, hlen, hlen if data else 0,
                      hlen + len(data)) + sqe + data
    sock.sendall(pdu)
    pdu_type, _, resp = recv_pdu(sock)
    if pdu_type != PDU_CAPSULE_RESP or len(resp) != 24:
        raise Failed('expected CapsuleResp, got type %d len %d' % (pdu_type, len(resp)))
    dw0, dw1, _sqhd, _sqid, cid, status = struct.unpack_from('<IIHHHH', resp, 8)
    return dw0, dw1, cid, status >> 1


def connect(sock, subnqn):
    data = bytearray(1024)
    data[0:16] = uuid.uuid4().bytes
    struct.pack_into('<H', data, 16, 0xFFFF)  # any controller (dynamic model)
    data[256:256 + len(subnqn)] = subnqn.encode()
    data[512:512 + len(HOSTNQN)] = HOSTNQN.encode()
    sqe = bytearray(64)
    struct.pack_into('<BBHB', sqe, 0, FABRICS_OPC, SGL_METABUF, 1, FCTYPE_CONNECT)
    struct.pack_into('<QIxxxB', sqe, 24, 0, len(data), SGL_DATA_BLOCK_OFFSET)
    struct.pack_into('<HHHBxI', sqe, 40, 0, 0, 31, 0, 30000)  # recfmt, qid 0, sqsize, kato
    dw0, _, cid, status = capsule(sock, bytes(sqe), bytes(data))
    if cid != 1 or status != 0:
        raise Failed('Connect cid=%d status=0x%x' % (cid, status))
    return 'cntlid=%d' % (dw0 & 0xFFFF)


def property_get_vs(sock):
    sqe = bytearray(64)
    struct.pack_into('<BBHB', sqe, 0, FABRICS_OPC, SGL_METABUF, 2, FCTYPE_PROPERTY_GET)
    struct.pack_into('<BxxxI', sqe, 40, 0, 0x08)  # 4-byte property at offset 8: VS
    dw0, _, cid, status = capsule(sock, bytes(sqe))
    major, minor = dw0 >> 16, (dw0 >> 8) & 0xFF
    if cid != 2 or status != 0 or major < 1:
        raise Failed('Property Get VS cid=%d status=0x%x value=0x%08x' % (cid, status, dw0))
    return 'VS=%d.%d' % (major, minor)


def main():
    if len(sys.argv) != 4:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    host, port, subnqn = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    steps = [('nvme_tcp_icreq_icresp', icreq), ('nvme_tcp_fabrics_connect',
                                                   lambda s: connect(s, subnqn)),
             ('nvme_tcp_property_get_vs', property_get_vs)]
    try:
        sock = socket.create_connection((host, port), timeout=TIMEOUT)
    except OSError as e:
        print('not ok - nvme_tcp_host_connect: %s:%d: %s' % (host, port, e))
        return 1
    with sock:
        for name, step in steps:
            try:
                detail = step(sock)
            except (Failed, OSError) as e:
                print('not ok - %s: %s' % (name, e))
                return 1
            print('ok - %s (%s)' % (name, detail))
    return 0


if __name__ == '__main__':
    sys.exit(main())
