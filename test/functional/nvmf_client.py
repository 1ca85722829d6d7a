# SPDX-License-Identifier: BSD-3-Clause
"""A small NVMe/TCP host in pure Python (stdlib only), for functional tests of pollux_tgt.

Layers, bottom up:
- crc32c(): the digest of NVMe/TCP (CRC32C, table driven).
- build_pdu() / Pdu: PDU encoding and decoding (NVMe/TCP transport spec 1.0; the C layouts are
  include/pollux/nvme_tcp_spec.h). build_pdu() also makes malformed PDUs for bad-input tests.
- Queue: one TCP connection = one NVMe queue pair. ICReq/ICResp, capsule commands with
  in-capsule data or a transport SGL (R2T/H2CData), C2HData (with the SUCCESS flag) and
  capsule responses. Several commands may be in flight (tracked by cid); submit() + wait(),
  or cmd() for both. Every receive is bounded by a timeout: a silent target raises
  socket.timeout instead of hanging the test.
- Controller: an association (admin queue + I/O queues) with Connect, Property Get/Set and
  enable, and the admin commands; Queue has the NVM commands.
- parse_*(): Identify and log page decoders returning dicts.

Byte offsets follow the NVMe base spec 2.0 and the NVMe-oF spec (C versions in
include/pollux/nvme_spec.h)."""

import os
import socket
import struct
import time
import uuid

DISCOVERY_NQN = 'nqn.2014-08.org.nvmexpress.discovery'
DEFAULT_TIMEOUT = 15.0

# ---- CRC32C (Castagnoli, reflected polynomial 0x82F63B78) ----


def _crc32c_table():
    table = []
    for i in range(256):
        c = i
        for _ in range(8):
            c = (c >> 1) ^ 0x82F63B78 if c & 1 else c >> 1
        table.append(c)
    return tuple(table)


_CRC_TABLE = _crc32c_table()


def crc32c(data, crc=0):
    """CRC32C of data; pass a previous result as crc to continue over more bytes."""
    c = crc ^ 0xFFFFFFFF
    t = _CRC_TABLE
    for b in data:
        c = t[(c ^ b) & 0xFF] ^ (c >> 8)
    return c ^ 0xFFFFFFFF


# ---- PDUs ----

PDU_IC_REQ = 0x00
PDU_IC_RESP = 0x01
PDU_H2C_TERM_REQ = 0x02
PDU_C2H_TERM_REQ = 0x03
PDU_CAPSULE_CMD = 0x04
PDU_CAPSULE_RESP = 0x05
PDU_H2C_DATA = 0x06
PDU_C2H_DATA = 0x07
PDU_R2T = 0x09

FLAG_HDGSTF = 0x01
FLAG_DDGSTF = 0x02
FLAG_LAST_PDU = 0x04
FLAG_SUCCESS = 0x08

HLEN = {PDU_IC_REQ: 128, PDU_IC_RESP: 128, PDU_H2C_TERM_REQ: 24, PDU_C2H_TERM_REQ: 24,
        PDU_CAPSULE_CMD: 72, PDU_CAPSULE_RESP: 24, PDU_H2C_DATA: 24, PDU_C2H_DATA: 24,
        PDU_R2T: 24}

FES_INVALID_HEADER_FIELD = 0x01
FES_PDU_SEQUENCE_ERROR = 0x02
FES_HDGST_ERROR = 0x03
FES_DATA_TRANSFER_OUT_OF_RANGE = 0x04
FES_DATA_TRANSFER_LIMIT_EXCEEDED = 0x05
FES_UNSUPPORTED_PARAMETER = 0x06


class TermReq(Exception):
    """The target sent a C2HTermReq: the connection is dead."""

    def __init__(self, fes, fei, data):
        super().__init__('C2HTermReq fes=0x%x fei=%d (%d bytes of offending header)'
                         % (fes, fei, len(data)))
        self.fes, self.fei, self.data = fes, fei, data


class ProtocolError(Exception):
    """The target sent something this host does not accept (our check, not the target's)."""


class ConnectionClosed(Exception):
    """The target closed the connection."""


def _pad(n, align):
    return (n + align - 1) // align * align


def build_pdu(ptype, psh=b'', data=b'', flags=0, hdgst=False, ddgst=False, cpda=0, hlen=None,
              pdo=None, plen=None, bad_hdgst=False, bad_ddgst=False):
    """Encode one PDU. psh is the PDU-specific header (after the 8-byte common header); it is
    zero-padded to hlen. hlen/pdo/plen default to the correct values; pass them (and the
    bad_* switches) to build malformed PDUs."""
    real_hlen = 8 + len(psh) if hlen is None else hlen
    hdr_len = max(real_hlen, 8 + len(psh))
    if hdgst:
        flags |= FLAG_HDGSTF
    if ddgst and data:
        flags |= FLAG_DDGSTF
    hd = 4 if hdgst else 0
    dd = 4 if ddgst and data else 0
    if pdo is None:
        pdo = _pad(hdr_len + hd, (cpda + 1) * 4) if data else 0
    data_start = pdo if data else hdr_len + hd
    if plen is None:
        plen = data_start + len(data) + dd
    header = struct.pack('<BBBBI', ptype, flags, real_hlen & 0xFF, pdo & 0xFF,
                         plen & 0xFFFFFFFF) + psh
    header = header.ljust(hdr_len, b'\0')
    out = bytearray(header)
    if hdgst:
        d = crc32c(header)
        out += struct.pack('<I', d ^ 1 if bad_hdgst else d)
    if data:
        out += b'\0' * (data_start - len(out))
        out += data
        if dd:
            d = crc32c(data)
            out += struct.pack('<I', d ^ 1 if bad_ddgst else d)
    return bytes(out)


class Pdu:
    """A received PDU: the common header fields, the whole header (hlen bytes) and data."""

    def __init__(self, header, data):
        self.type, self.flags, self.hlen, self.pdo, self.plen = struct.unpack_from('<BBBBI',
                                                                                   header)
        self.header = header
        self.data = data

    def __repr__(self):
        return 'Pdu(type=0x%x flags=0x%x hlen=%d pdo=%d plen=%d data=%d)' % (
            self.type, self.flags, self.hlen, self.pdo, self.plen, len(self.data))


def icreq_pdu(hpda=0, dgst=0, maxr2t=0, pfv=0):
    return build_pdu(PDU_IC_REQ, struct.pack('<HBBI', pfv, hpda, dgst, maxr2t).ljust(120, b'\0'))


def capsule_cmd_pdu(sqe, data=b'', hdgst=False, ddgst=False, cpda=0):
    assert len(sqe) == 64
    return build_pdu(PDU_CAPSULE_CMD, sqe, data, hdgst=hdgst, ddgst=ddgst, cpda=cpda)


def h2c_data_pdu(cccid, ttag, datao, data, last=True, hdgst=False, ddgst=False, cpda=0,
                 datal=None, **kw):
    psh = struct.pack('<HHII4x', cccid, ttag, datao, len(data) if datal is None else datal)
    return build_pdu(PDU_H2C_DATA, psh, data, flags=FLAG_LAST_PDU if last else 0, hdgst=hdgst,
                     ddgst=ddgst, cpda=cpda, **kw)


def h2c_term_req_pdu(fes, fei=0, data=b''):
    return build_pdu(PDU_H2C_TERM_REQ, struct.pack('<HI10x', fes, fei), b'', plen=24 + len(data)) \
        + data


# ---- submission queue entries ----

SGL_IN_CAPSULE = 0x01  # data block, offset subtype
SGL_TRANSPORT = 0x5A  # transport data block, transport subtype
PSDT_SGL = 0x40  # cmd byte 1 bits 7:6 = 01b: SGLs for the data


def sgl(desc_type, length, address=0):
    return struct.pack('<QI3xB', address, length, desc_type)


def sqe(opc, cid=0, nsid=0, cdw10=0, cdw11=0, cdw12=0, cdw13=0, cdw14=0, cdw15=0, fuse=0,
        dptr=None, cdw2=0, cdw3=0, mptr=0):
    dptr = dptr if dptr is not None else bytes(16)
    return struct.pack('<BBHIIIQ16s6I', opc, (fuse & 3) | PSDT_SGL, cid, nsid, cdw2, cdw3,
                       mptr, dptr, cdw10, cdw11, cdw12, cdw13, cdw14, cdw15)


def fabrics_sqe(fctype, cid=0, specific=b'', dptr=None):
    """A fabrics command: opcode 0x7f, fctype at byte 4, fctype-specific bytes 40..63."""
    dptr = dptr if dptr is not None else bytes(16)
    return struct.pack('<BBHB19x16s24s', 0x7F, PSDT_SGL, cid, fctype, dptr,
                       specific.ljust(24, b'\0'))


FCTYPE_PROPERTY_SET = 0x00
FCTYPE_CONNECT = 0x01
FCTYPE_PROPERTY_GET = 0x04
FCTYPE_DISCONNECT = 0x08

# Admin opcodes
OPC_GET_LOG_PAGE = 0x02
OPC_IDENTIFY = 0x06
OPC_ABORT = 0x08
OPC_SET_FEATURES = 0x09
OPC_GET_FEATURES = 0x0A
OPC_AER = 0x0C
OPC_KEEP_ALIVE = 0x18
# NVM opcodes
OPC_FLUSH = 0x00
OPC_WRITE = 0x01
OPC_READ = 0x02
OPC_COMPARE = 0x05
OPC_WRITE_ZEROES = 0x08
OPC_DSM = 0x09
OPC_RESV_REGISTER = 0x0D
OPC_RESV_REPORT = 0x0E
OPC_RESV_ACQUIRE = 0x11
OPC_RESV_RELEASE = 0x15

# Status (sct, sc)
SC_SUCCESS = (0, 0x00)
SC_INVALID_OPCODE = (0, 0x01)
SC_INVALID_FIELD = (0, 0x02)
SC_COMMAND_ID_CONFLICT = (0, 0x03)
SC_DATA_TRANSFER_ERROR = (0, 0x04)
SC_ABORTED_FAILED_FUSED = (0, 0x09)
SC_ABORTED_MISSING_FUSED = (0, 0x0A)
SC_INVALID_NAMESPACE_OR_FORMAT = (0, 0x0B)
SC_COMMAND_SEQUENCE_ERROR = (0, 0x0C)
SC_DATA_SGL_LENGTH_INVALID = (0, 0x0F)
SC_LBA_OUT_OF_RANGE = (0, 0x80)
SC_RESERVATION_CONFLICT = (0, 0x83)
SC_INVALID_LOG_PAGE = (1, 0x09)
SC_CONNECT_INVALID_PARAM = (1, 0x82)
SC_CONNECT_INVALID_HOST = (1, 0x84)
SC_COMPARE_FAILURE = (2, 0x85)
SCT_PATH = 3
SC_ANA_INACCESSIBLE = (3, 0x02)

# Log pages
LID_ERROR = 0x01
LID_SMART = 0x02
LID_FIRMWARE = 0x03
LID_CHANGED_NS = 0x04
LID_CMD_EFFECTS = 0x05
LID_ANA = 0x0C
LID_DISCOVERY = 0x70
LID_RESV_NOTIFICATION = 0x80

# Features
FEAT_NUMBER_OF_QUEUES = 0x07
FEAT_ASYNC_EVENT_CONFIG = 0x0B
FEAT_KEEP_ALIVE_TIMER = 0x0F
FEAT_HOST_IDENTIFIER = 0x81

# Properties
REG_CAP = 0x00
REG_VS = 0x08
REG_CC = 0x14
REG_CSTS = 0x1C


class Completion:
    """A completion queue entry (plus the data a read-type command returned)."""

    def __init__(self, cdw0=0, cdw1=0, sqhd=0, sqid=0, cid=0, status=0, data=b'',
                 c2h_success=False):
        self.cdw0, self.cdw1, self.sqhd, self.sqid, self.cid = cdw0, cdw1, sqhd, sqid, cid
        self.status = status
        self.sc = (status >> 1) & 0xFF
        self.sct = (status >> 9) & 0x7
        self.more = bool(status & (1 << 14))
        self.dnr = bool(status & (1 << 15))
        self.data = data
        self.c2h_success = c2h_success  # completed by a C2HData SUCCESS flag, no CapsuleResp

    @classmethod
    def unpack(cls, cqe):
        cdw0, cdw1, sqhd, sqid, cid, status = struct.unpack('<IIHHHH', cqe)
        return cls(cdw0, cdw1, sqhd, sqid, cid, status)

    @property
    def ok(self):
        return self.sc == 0 and self.sct == 0

    @property
    def code(self):
        return (self.sct, self.sc)

    def __repr__(self):
        return 'Completion(cid=%d sct=%d sc=0x%x dnr=%d cdw0=0x%x sqhd=%d)' % (
            self.cid, self.sct, self.sc, self.dnr, self.cdw0, self.sqhd)


class _Request:
    def __init__(self, cid, data_out, data_in_len):
        self.cid = cid
        self.data_out = data_out
        self.data_in = bytearray(data_in_len)
        self.received = 0
        self.completion = None


class Queue:
    """One NVMe/TCP connection (a queue pair)."""

    def __init__(self, addr, port, timeout=DEFAULT_TIMEOUT, icd_limit=8192, sock=None):
        self.addr, self.port, self.timeout = addr, port, timeout
        self.sock = sock or socket.create_connection((addr, port), timeout=timeout)
        self.sock.settimeout(timeout)
        self.hdgst = self.ddgst = False
        self.cpda = 0
        self.maxh2cdata = 0
        self.icd_limit = icd_limit  # bytes of in-capsule data this queue accepts
        self.pending = {}
        self.done = {}
        self.next_cid = 1
        self.qid = None
        self.sq_head = None
        self.unsolicited = []  # completions of cids nobody waits for (e.g. stale AERs)

    # -- raw bytes ------------------------------------------------------------------------
    def send_raw(self, data):
        self.sock.sendall(data)

    def _recv_exact(self, n):
        buf = bytearray()
        while len(buf) < n:
            try:
                chunk = self.sock.recv(n - len(buf))
            except ConnectionResetError:
                chunk = b''
            if not chunk:
                raise ConnectionClosed('connection closed after %d of %d bytes' % (len(buf), n))
            buf += chunk
        return bytes(buf)

    def recv_pdu(self, timeout=None):
        """Read one PDU (checks its digests); a C2HTermReq is returned, not raised."""
        if timeout is not None:
            self.sock.settimeout(timeout)
        try:
            ch = self._recv_exact(8)
            ptype, flags, hlen, pdo, plen = struct.unpack('<BBBBI', ch)
            if hlen < 8 or plen < hlen:
                raise ProtocolError('bad common header: %r' % ch)
            header = ch + self._recv_exact(hlen - 8)
            if ptype == PDU_C2H_TERM_REQ:
                return Pdu(header, self._recv_exact(plen - hlen))
            hd = 4 if flags & FLAG_HDGSTF else 0
            if hd:
                got = struct.unpack('<I', self._recv_exact(4))[0]
                if got != crc32c(header):
                    raise ProtocolError('header digest mismatch in %r' % header[:8])
            data = b''
            rest = plen - hlen - hd
            if rest > 0:
                pad = max(pdo - hlen - hd, 0) if pdo else 0
                self._recv_exact(pad)
                dd = 4 if flags & FLAG_DDGSTF else 0
                data = self._recv_exact(rest - pad - dd)
                if dd:
                    got = struct.unpack('<I', self._recv_exact(4))[0]
                    if got != crc32c(data):
                        raise ProtocolError('data digest mismatch')
            return Pdu(header, data)
        finally:
            if timeout is not None:
                self.sock.settimeout(self.timeout)

    def expect_term_req(self, timeout=None):
        """Read until a C2HTermReq (returned as TermReq) or the close (None). Other PDUs
        are collected in self.skipped."""
        self.skipped = []
        deadline = time.monotonic() + (timeout or self.timeout)
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise socket.timeout('no TermReq and no close within the timeout')
            try:
                pdu = self.recv_pdu(timeout=left)
            except ConnectionClosed:
                return None
            if pdu.type == PDU_C2H_TERM_REQ:
                fes, fei = struct.unpack_from('<HI', pdu.header, 8)
                return TermReq(fes, fei, pdu.data)
            self.skipped.append(pdu)

    def wait_closed(self, timeout=None):
        """True once the target closes the connection (anything sent first is dropped)."""
        deadline = time.monotonic() + (timeout or self.timeout)
        while time.monotonic() < deadline:
            self.sock.settimeout(max(deadline - time.monotonic(), 0.01))
            try:
                if not self.sock.recv(65536):
                    return True
            except (ConnectionResetError, BrokenPipeError):
                return True
            except socket.timeout:
                break
        return False

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass

    # -- connection setup -----------------------------------------------------------------
    def icreq(self, hdgst=False, ddgst=False, hpda=0, maxr2t=0):
        """ICReq/ICResp; returns the ICResp fields as a dict and applies the digests."""
        dgst = (1 if hdgst else 0) | (2 if ddgst else 0)
        self.send_raw(icreq_pdu(hpda, dgst, maxr2t))
        pdu = self.recv_pdu()
        if pdu.type == PDU_C2H_TERM_REQ:
            fes, fei = struct.unpack_from('<HI', pdu.header, 8)
            raise TermReq(fes, fei, pdu.data)
        if pdu.type != PDU_IC_RESP or pdu.hlen != 128 or pdu.plen != 128:
            raise ProtocolError('expected ICResp, got %r' % pdu)
        pfv, cpda, dgst_resp, maxh2cdata = struct.unpack_from('<HBBI', pdu.header, 8)
        self.hdgst = bool(dgst_resp & 1)
        self.ddgst = bool(dgst_resp & 2)
        self.cpda = cpda
        self.maxh2cdata = maxh2cdata
        return {'pfv': pfv, 'cpda': cpda, 'dgst': dgst_resp, 'maxh2cdata': maxh2cdata}

    # -- commands -------------------------------------------------------------------------
    def alloc_cid(self):
        for _ in range(0x10000):
            cid = self.next_cid
            self.next_cid = (self.next_cid + 1) & 0xFFFF or 1
            if cid not in self.pending:
                return cid
        raise ProtocolError('no free command identifier')

    def submit(self, make_sqe, data_out=b'', data_in_len=0, in_capsule=None, cid=None):
        """Send a command. make_sqe(cid, dptr) returns the 64-byte SQE. Data to the target
        goes in the capsule when it fits icd_limit (or in_capsule says so), else after an
        R2T. Returns the cid; collect the completion with wait(cid)."""
        cid = self.alloc_cid() if cid is None else cid
        if data_out:
            if in_capsule is None:
                in_capsule = len(data_out) <= self.icd_limit
            desc = sgl(SGL_IN_CAPSULE if in_capsule else SGL_TRANSPORT, len(data_out))
        else:
            in_capsule = False
            desc = sgl(SGL_TRANSPORT, data_in_len)
        cmd = make_sqe(cid, desc)
        self.pending[cid] = _Request(cid, data_out, data_in_len)
        self.send_raw(capsule_cmd_pdu(cmd, data_out if in_capsule else b'', self.hdgst,
                                      self.ddgst, self.cpda))
        return cid

    def poll(self, timeout=None):
        """Receive and handle one PDU. Raises TermReq on a C2HTermReq."""
        pdu = self.recv_pdu(timeout)
        if pdu.type == PDU_CAPSULE_RESP:
            cpl = Completion.unpack(pdu.header[8:24])
            self.sq_head = cpl.sqhd
            req = self.pending.pop(cpl.cid, None)
            if req is None:
                self.unsolicited.append(cpl)
                return
            cpl.data = bytes(req.data_in)
            self.done[cpl.cid] = cpl
        elif pdu.type == PDU_C2H_DATA:
            self._c2h_data(pdu)
        elif pdu.type == PDU_R2T:
            self._r2t(pdu)
        elif pdu.type == PDU_C2H_TERM_REQ:
            fes, fei = struct.unpack_from('<HI', pdu.header, 8)
            raise TermReq(fes, fei, pdu.data)
        else:
            raise ProtocolError('unexpected PDU %r' % pdu)

    def _c2h_data(self, pdu):
        cccid, datao, datal = struct.unpack_from('<H2xII', pdu.header, 8)
        req = self.pending.get(cccid)
        if req is None:
            raise ProtocolError('C2HData for unknown cid %d' % cccid)
        if datal != len(pdu.data) or datao + datal > len(req.data_in):
            raise ProtocolError('C2HData out of range: datao %d datal %d (buffer %d, pdu %d)'
                                % (datao, datal, len(req.data_in), len(pdu.data)))
        if datao != req.received:
            raise ProtocolError('C2HData offset %d, expected %d' % (datao, req.received))
        req.data_in[datao:datao + datal] = pdu.data
        req.received += datal
        if pdu.flags & FLAG_SUCCESS:
            if not pdu.flags & FLAG_LAST_PDU:
                raise ProtocolError('C2HData SUCCESS without LAST_PDU')
            del self.pending[cccid]
            self.done[cccid] = Completion(cid=cccid, data=bytes(req.data_in), c2h_success=True)

    def _r2t(self, pdu):
        cccid, ttag, r2to, r2tl = struct.unpack_from('<HHII', pdu.header, 8)
        req = self.pending.get(cccid)
        if req is None or r2to + r2tl > len(req.data_out):
            raise ProtocolError('bad R2T cid %d offset %d len %d' % (cccid, r2to, r2tl))
        if not self.maxh2cdata:
            raise ProtocolError('R2T before ICResp')
        off, end = r2to, r2to + r2tl
        while off < end:
            n = min(self.maxh2cdata, end - off)
            self.send_raw(h2c_data_pdu(cccid, ttag, off, req.data_out[off:off + n],
                                       last=off + n == end, hdgst=self.hdgst,
                                       ddgst=self.ddgst, cpda=self.cpda))
            off += n

    def wait(self, cid, timeout=None):
        """The completion of cid (other PDUs are handled meanwhile)."""
        deadline = time.monotonic() + (timeout or self.timeout)
        while cid not in self.done:
            left = deadline - time.monotonic()
            if left <= 0:
                raise socket.timeout('no completion for cid %d' % cid)
            self.poll(left)
        return self.done.pop(cid)

    def cmd(self, make_sqe, data_out=b'', data_in_len=0, in_capsule=None, timeout=None):
        return self.wait(self.submit(make_sqe, data_out, data_in_len, in_capsule), timeout)

    # -- fabrics --------------------------------------------------------------------------
    def connect(self, qid, subnqn, hostnqn, hostid, cntlid=0xFFFF, sqsize=31, kato=0,
                cattr=0):
        data = struct.pack('<16sH238x256s256s256x', hostid, cntlid, subnqn.encode(),
                           hostnqn.encode())
        spec = struct.pack('<HHHBxI', 0, qid, sqsize, cattr, kato)
        cpl = self.cmd(lambda cid, d: fabrics_sqe(FCTYPE_CONNECT, cid, spec, d), data)
        if cpl.ok:
            self.qid = qid
        return cpl

    def property_get(self, ofst, size=4):
        spec = struct.pack('<B3xI', 1 if size == 8 else 0, ofst)
        cpl = self.cmd(lambda cid, d: fabrics_sqe(FCTYPE_PROPERTY_GET, cid, spec, d))
        return cpl, (cpl.cdw0 | (cpl.cdw1 << 32) if size == 8 else cpl.cdw0)

    def property_set(self, ofst, value, size=4):
        spec = struct.pack('<B3xIQ', 1 if size == 8 else 0, ofst, value)
        return self.cmd(lambda cid, d: fabrics_sqe(FCTYPE_PROPERTY_SET, cid, spec, d))

    def disconnect(self):
        return self.cmd(lambda cid, d: fabrics_sqe(FCTYPE_DISCONNECT, cid, b'', d))

    # -- NVM commands (I/O queues) --------------------------------------------------------
    def io(self, opc, nsid, slba=0, nlb=1, data_out=b'', data_in_len=0, cdw12_flags=0,
           fuse=0, in_capsule=None, submit_only=False, cdw13=0):
        """A command on blocks: cdw10/11 SLBA, cdw12 NLB (0's based) plus flags."""
        def make(cid, d):
            return sqe(opc, cid, nsid, slba & 0xFFFFFFFF, slba >> 32,
                       ((nlb - 1) & 0xFFFF) | cdw12_flags, cdw13, fuse=fuse, dptr=d)
        if submit_only:
            return self.submit(make, data_out, data_in_len, in_capsule)
        return self.cmd(make, data_out, data_in_len, in_capsule)

    def write(self, nsid, slba, data, block_size=512, **kw):
        return self.io(OPC_WRITE, nsid, slba, len(data) // block_size, data_out=data, **kw)

    def read(self, nsid, slba, nlb, block_size=512, **kw):
        return self.io(OPC_READ, nsid, slba, nlb, data_in_len=nlb * block_size, **kw)

    def compare(self, nsid, slba, data, block_size=512, **kw):
        return self.io(OPC_COMPARE, nsid, slba, len(data) // block_size, data_out=data, **kw)

    def write_zeroes(self, nsid, slba, nlb, **kw):
        return self.io(OPC_WRITE_ZEROES, nsid, slba, nlb, **kw)

    def flush(self, nsid):
        return self.cmd(lambda cid, d: sqe(OPC_FLUSH, cid, nsid, dptr=d))

    def dsm(self, nsid, ranges, deallocate=True):
        """ranges: [(slba, nlb)]."""
        data = b''.join(struct.pack('<IIQ', 0, n, s) for s, n in ranges)
        return self.cmd(lambda cid, d: sqe(OPC_DSM, cid, nsid, len(ranges) - 1,
                                           4 if deallocate else 0, dptr=d), data)

    def compare_and_write(self, nsid, slba, expect, new, block_size=512):
        """Fused Compare (first) + Write (second); returns both completions."""
        nlb = len(expect) // block_size
        c1 = self.io(OPC_COMPARE, nsid, slba, nlb, data_out=expect, fuse=1, submit_only=True)
        c2 = self.io(OPC_WRITE, nsid, slba, nlb, data_out=new, fuse=2, submit_only=True)
        return self.wait(c1), self.wait(c2)

    def resv_register(self, nsid, action, crkey=0, nrkey=0, iekey=False, cptpl=0):
        data = struct.pack('<QQ', crkey, nrkey)
        cdw10 = (action & 7) | (8 if iekey else 0) | (cptpl << 30)
        return self.cmd(lambda cid, d: sqe(OPC_RESV_REGISTER, cid, nsid, cdw10, dptr=d), data)

    def resv_acquire(self, nsid, action, rtype, crkey=0, prkey=0, iekey=False):
        data = struct.pack('<QQ', crkey, prkey)
        cdw10 = (action & 7) | (8 if iekey else 0) | (rtype << 8)
        return self.cmd(lambda cid, d: sqe(OPC_RESV_ACQUIRE, cid, nsid, cdw10, dptr=d), data)

    def resv_release(self, nsid, action, rtype, crkey=0, iekey=False):
        data = struct.pack('<Q', crkey)
        cdw10 = (action & 7) | (8 if iekey else 0) | (rtype << 8)
        return self.cmd(lambda cid, d: sqe(OPC_RESV_RELEASE, cid, nsid, cdw10, dptr=d), data)

    def resv_report(self, nsid, length=4096, eds=True):
        cpl = self.cmd(lambda cid, d: sqe(OPC_RESV_REPORT, cid, nsid, length // 4 - 1,
                                          1 if eds else 0, dptr=d), data_in_len=length)
        return cpl, (parse_resv_report(cpl.data, eds) if cpl.ok else None)


class Controller:
    """An association with one subsystem: the admin queue plus I/O queues."""

    def __init__(self, addr, port, subnqn, hostnqn=None, hostid=None, hdgst=False,
                 ddgst=False, kato=0, timeout=DEFAULT_TIMEOUT):
        self.addr, self.port, self.subnqn = addr, port, subnqn
        self.hostid = hostid if hostid is not None else uuid.uuid4().bytes
        self.hostnqn = hostnqn or 'nqn.2014-08.org.nvmexpress:uuid:%s' % uuid.UUID(
            bytes=self.hostid)
        self.hdgst, self.ddgst, self.kato, self.timeout = hdgst, ddgst, kato, timeout
        self.admin = None
        self.io_queues = []
        self.cntlid = None
        self.ioccsz = None

    def open_queue(self, icd_limit):
        q = Queue(self.addr, self.port, self.timeout, icd_limit)
        try:
            q.icreq(self.hdgst, self.ddgst)
        except BaseException:
            q.close()
            raise
        return q

    def connect(self, enable=True, sqsize=31):
        """Connect the admin queue (raises on a failed Connect) and enable the controller."""
        self.admin = self.open_queue(8192)
        cpl = self.admin.connect(0, self.subnqn, self.hostnqn, self.hostid, 0xFFFF, sqsize,
                                 self.kato)
        if not cpl.ok:
            raise NvmeError('Connect (admin)', cpl)
        self.cntlid = cpl.cdw0 & 0xFFFF
        if enable:
            self.enable()
        return self

    def enable(self, timeout=None):
        cpl, cc = self.admin.property_get(REG_CC)
        check(cpl, 'Property Get CC')
        cc = (cc & ~((0xF << 16) | (0xF << 20))) | (6 << 16) | (4 << 20) | 1
        check(self.admin.property_set(REG_CC, cc), 'Property Set CC')
        deadline = time.monotonic() + (timeout or self.timeout)
        while True:
            cpl, csts = self.admin.property_get(REG_CSTS)
            check(cpl, 'Property Get CSTS')
            if csts & 1:
                return
            if time.monotonic() > deadline:
                raise socket.timeout('CSTS.RDY did not become 1')
            time.sleep(0.01)

    def add_io_queue(self, sqsize=31, qid=None):
        """Connect one more I/O queue; raises on a failed Connect."""
        if self.ioccsz is None:
            self.ioccsz = self.identify_ctrlr()['ioccsz']
        q = self.open_queue(max(self.ioccsz * 16 - 64, 0))
        qid = qid if qid is not None else len(self.io_queues) + 1
        cpl = q.connect(qid, self.subnqn, self.hostnqn, self.hostid, self.cntlid, sqsize)
        if not cpl.ok:
            q.close()
            raise NvmeError('Connect (I/O queue %d)' % qid, cpl)
        self.io_queues.append(q)
        return q

    def close(self):
        for q in self.io_queues:
            q.close()
        self.io_queues = []
        if self.admin is not None:
            self.admin.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    # -- admin commands -------------------------------------------------------------------
    def identify(self, cns, nsid=0, cntid=0, csi=0, length=4096):
        return self.admin.cmd(lambda cid, d: sqe(OPC_IDENTIFY, cid, nsid, cns | (cntid << 16),
                                                 csi << 24, dptr=d), data_in_len=length)

    def identify_ctrlr(self):
        return parse_identify_ctrlr(check(self.identify(1), 'Identify controller').data)

    def identify_ns(self, nsid):
        cpl = self.identify(0, nsid)
        return cpl, (parse_identify_ns(cpl.data) if cpl.ok else None)

    def active_ns_list(self, start=0):
        cpl = check(self.identify(2, start), 'Identify active namespace list')
        ids = struct.unpack('<1024I', cpl.data)
        return [n for n in ids if n]

    def ns_id_descriptors(self, nsid):
        cpl = self.identify(3, nsid)
        return cpl, (parse_ns_id_descs(cpl.data) if cpl.ok else None)

    def get_log_page(self, lid, length, offset=0, lsp=0, rae=False, nsid=0xFFFFFFFF):
        numd = length // 4 - 1
        cdw10 = lid | (lsp << 8) | (0x8000 if rae else 0) | ((numd & 0xFFFF) << 16)
        return self.admin.cmd(lambda cid, d: sqe(OPC_GET_LOG_PAGE, cid, nsid, cdw10,
                                                 numd >> 16, offset & 0xFFFFFFFF,
                                                 offset >> 32, dptr=d), data_in_len=length)

    def get_features(self, fid, sel=0, cdw11=0, nsid=0, data_in_len=0):
        return self.admin.cmd(lambda cid, d: sqe(OPC_GET_FEATURES, cid, nsid, fid | (sel << 8),
                                                 cdw11, dptr=d), data_in_len=data_in_len)

    def set_features(self, fid, cdw11=0, save=False, nsid=0, data_out=b''):
        return self.admin.cmd(lambda cid, d: sqe(OPC_SET_FEATURES, cid, nsid,
                                                 fid | (0x80000000 if save else 0), cdw11,
                                                 dptr=d), data_out)

    def keep_alive(self):
        return self.admin.cmd(lambda cid, d: sqe(OPC_KEEP_ALIVE, cid, dptr=d))

    def submit_aer(self):
        """Submit an Asynchronous Event Request; returns its cid (wait on self.admin)."""
        return self.admin.submit(lambda cid, d: sqe(OPC_AER, cid, dptr=d))

    def discovery_log(self):
        """The whole discovery log: header then every entry (re-read if genctr moved)."""
        for _ in range(5):
            head = check(self.get_log_page(LID_DISCOVERY, 1024, nsid=0), 'discovery log').data
            genctr, numrec = struct.unpack_from('<QQ', head)
            size = 1024 + numrec * 1024
            page = check(self.get_log_page(LID_DISCOVERY, size, nsid=0), 'discovery log').data
            log = parse_discovery_log(page)
            if log['genctr'] == genctr:
                return log
        raise ProtocolError('discovery log kept changing')


class NvmeError(Exception):
    def __init__(self, what, cpl):
        super().__init__('%s failed: %r' % (what, cpl))
        self.cpl = cpl


def check(cpl, what='command'):
    if not cpl.ok:
        raise NvmeError(what, cpl)
    return cpl


# ---- decoders ----

def _str(b):
    return b.split(b'\0', 1)[0].decode('ascii', 'replace').rstrip(' ')


def parse_identify_ctrlr(d):
    u8 = lambda o: d[o]  # noqa: E731
    u16 = lambda o: struct.unpack_from('<H', d, o)[0]  # noqa: E731
    u32 = lambda o: struct.unpack_from('<I', d, o)[0]  # noqa: E731
    return {
        'vid': u16(0), 'ssvid': u16(2), 'sn': _str(d[4:24]), 'mn': _str(d[24:64]),
        'fr': _str(d[64:72]), 'rab': u8(72), 'cmic': u8(76), 'mdts': u8(77), 'cntlid': u16(78),
        'ver': u32(80), 'oaes': u32(92), 'ctratt': u32(96), 'cntrltype': u8(111),
        'oacs': u16(256), 'acl': u8(258), 'aerl': u8(259), 'frmw': u8(260), 'lpa': u8(261),
        'elpe': u8(262), 'kas': u16(320), 'anatt': u8(342), 'anacap': u8(343),
        'anagrpmax': u32(344), 'nanagrpid': u32(348), 'sqes': u8(512), 'cqes': u8(513),
        'maxcmd': u16(514), 'nn': u32(516), 'oncs': u16(520), 'fuses': u16(522),
        'vwc': u8(525), 'sgls': u32(536), 'subnqn': _str(d[768:1024]), 'ioccsz': u32(1792),
        'iorcsz': u32(1796), 'icdoff': u16(1800), 'fcatt': u8(1802), 'msdbd': u8(1803),
        'sn_raw': bytes(d[4:24]), 'mn_raw': bytes(d[24:64]),
    }


def parse_identify_ns(d):
    nsze, ncap, nuse = struct.unpack_from('<QQQ', d)
    nlbaf, flbas = d[25], d[26]
    lbafs = [struct.unpack_from('<HBB', d, 128 + 4 * i) for i in range(nlbaf + 1)]
    fmt = lbafs[flbas & 0xF] if (flbas & 0xF) < len(lbafs) else (0, 0, 0)
    return {'nsze': nsze, 'ncap': ncap, 'nuse': nuse, 'nsfeat': d[24], 'nlbaf': nlbaf,
            'flbas': flbas, 'nmic': d[30], 'rescap': d[31], 'dlfeat': d[33],
            'noiob': struct.unpack_from('<H', d, 46)[0],
            'anagrpid': struct.unpack_from('<I', d, 92)[0], 'nguid': bytes(d[104:120]),
            'eui64': bytes(d[120:128]), 'block_size': 1 << fmt[1] if fmt[1] else 0,
            'ms': fmt[0]}


def parse_ns_id_descs(d):
    """{nidt: nid bytes} from an Identify CNS 03h page."""
    out, off = {}, 0
    while off + 4 <= len(d):
        nidt, nidl = d[off], d[off + 1]
        if nidt == 0:
            break
        out[nidt] = bytes(d[off + 4:off + 4 + nidl])
        off += 4 + nidl
    return out


def parse_discovery_log(d):
    genctr, numrec, recfmt = struct.unpack_from('<QQH', d)
    entries = []
    for i in range(numrec):
        off = 1024 + i * 1024
        if off + 1024 > len(d):
            break
        e = d[off:off + 1024]
        trtype, adrfam, subtype, treq, portid, cntlid, asqsz, eflags = struct.unpack_from(
            '<BBBBHHHH', e)
        entries.append({'trtype': trtype, 'adrfam': adrfam, 'subtype': subtype, 'treq': treq,
                        'portid': portid, 'cntlid': cntlid, 'asqsz': asqsz, 'eflags': eflags,
                        'trsvcid': _str(e[32:64]), 'subnqn': _str(e[256:512]),
                        'traddr': _str(e[512:768])})
    return {'genctr': genctr, 'numrec': numrec, 'recfmt': recfmt, 'entries': entries}


def parse_ana_log(d, rgo=False):
    chgcnt, ngrps = struct.unpack_from('<QH', d)
    groups, off = [], 16
    for _ in range(ngrps):
        grpid, nns, gchg, state = struct.unpack_from('<IIQB', d, off)
        off += 32
        nsids = [] if rgo else list(struct.unpack_from('<%dI' % nns, d, off))
        off += 0 if rgo else 4 * nns
        groups.append({'anagrpid': grpid, 'num_nsid': nns, 'change_count': gchg,
                       'state': state & 0xF, 'nsids': nsids})
    return {'change_count': chgcnt, 'groups': groups}


def parse_changed_ns_list(d):
    ids = struct.unpack_from('<%dI' % (len(d) // 4), d)
    return [n for n in ids if n]


def parse_smart(d):
    u128 = lambda o: int.from_bytes(d[o:o + 16], 'little')  # noqa: E731
    return {'critical_warning': d[0], 'temperature': d[1] | (d[2] << 8),
            'available_spare': d[3], 'available_spare_threshold': d[4],
            'percentage_used': d[5], 'data_units_read': u128(32),
            'data_units_written': u128(48), 'host_read_commands': u128(64),
            'host_write_commands': u128(80), 'power_cycles': u128(112),
            'power_on_hours': u128(128), 'unsafe_shutdowns': u128(144),
            'media_errors': u128(160), 'num_err_log_entries': u128(176)}


def parse_resv_report(d, eds=True):
    gen, rtype, regctl, ptpls = struct.unpack_from('<IBH2xB', d)
    regs = []
    if eds:
        for i in range(regctl):
            off = 64 + 64 * i
            if off + 64 > len(d):
                break
            cntlid, rcsts, rkey = struct.unpack_from('<HB5xQ', d, off)
            regs.append({'cntlid': cntlid, 'rcsts': rcsts, 'rkey': rkey,
                         'hostid': bytes(d[off + 16:off + 32])})
    else:
        for i in range(regctl):
            off = 24 + 24 * i
            if off + 24 > len(d):
                break
            cntlid, rcsts, hostid, rkey = struct.unpack_from('<HB5xQQ', d, off)
            regs.append({'cntlid': cntlid, 'rcsts': rcsts, 'rkey': rkey, 'hostid': hostid})
    return {'gen': gen, 'rtype': rtype, 'regctl': regctl, 'ptpls': ptpls, 'registrants': regs}


def aer_fields(cdw0):
    """(type, info, log page id) of an AER completion."""
    return cdw0 & 7, (cdw0 >> 8) & 0xFF, (cdw0 >> 16) & 0xFF


def random_hostnqn():
    return 'nqn.2014-08.org.nvmexpress:uuid:%s' % uuid.uuid4()


def random_bytes(n):
    return os.urandom(n)
