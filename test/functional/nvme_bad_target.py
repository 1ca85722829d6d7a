# SPDX-License-Identifier: BSD-3-Clause
"""A small NVMe/TCP target in Python (stdlib only) that misbehaves on purpose, for testing how
Pollux's NVMe host driver (lib/nvme) copes with a broken controller.

It behaves correctly enough for hello_nvme, nvme_identify and nvme_perf: ICReq/ICResp (with
header/data digests when the host asks), Fabrics Connect (admin and I/O queues), Property
Get/Set (CAP, VS, CC, CSTS with the enable and shutdown handshakes), Identify (controller,
namespace, active namespace list, namespace identification descriptors), Set/Get Features
(Number of Queues, Asynchronous Event Configuration, Keep Alive Timer), Get Log Page (ANA with
one optimized group, error log and anything else zero-filled), Asynchronous Event Requests
(held, never completed), Keep Alive, Abort (never aborts), and Read/Write/Flush/Write Zeroes/
Dataset Management on one 1 MiB namespace of 512-byte blocks held in memory. Write data comes
in the capsule or after an R2T (one R2T per command; the host splits it into H2CData PDUs of at
most maxh2cdata), read data goes out in C2HData PDUs of at most c2h_chunk bytes followed by a
CapsuleResp (or with the SUCCESS flag when c2h_success is set).

One named misbehaviour (see MISBEHAVIOURS) fires once, at a chosen point: the at-th ICResp,
Connect, Identify Controller, I/O Read or I/O Write the target handles. After it the target
keeps serving (so a host that does not notice hangs, and the test's timeout catches it),
except 'close_mid_pdu', which closes the connection.

    with BadTarget('c2h_overflow') as t:      # fires on the first I/O read
        subprocess.run([hello_nvme, '-r', t.trid()], timeout=60)
        assert t.fired.is_set()

The target listens on 127.0.0.1 on an ephemeral port, serves each connection on its own
thread and stops by itself after `lifetime` seconds (or on stop() / leaving the with block)."""

import socket
import struct
import threading
import time
import uuid

from nvmf_client import (FLAG_DDGSTF, FLAG_HDGSTF, FLAG_LAST_PDU, FLAG_SUCCESS, PDU_C2H_DATA,
                         PDU_C2H_TERM_REQ, PDU_CAPSULE_CMD, PDU_CAPSULE_RESP, PDU_H2C_DATA,
                         PDU_H2C_TERM_REQ, PDU_IC_REQ, PDU_IC_RESP, PDU_R2T, build_pdu, crc32c)

# The digest everything below relies on: the standard CRC32C check value.
assert crc32c(b'123456789') == 0xE3069283, 'crc32c is broken'

ADDR = '127.0.0.1'
DEFAULT_NQN = 'nqn.2016-06.io.pollux:badtarget'
BLOCK = 512
NS_SIZE = 1 << 20
SERIAL = 'BADTGT0001'
MODEL = 'Pollux Bad Target'
MAX_PLEN = 16 << 20  # anything bigger from the host is a host bug

# Points at which a misbehaviour can fire (each counted separately, from 1).
POINTS = ('icresp', 'connect', 'identify', 'read', 'write')

# name -> (phase, default point). Phases: 'icresp' replaces an ICResp, 'connect' answers a
# Connect, 'r2t' replaces the R2T of a write without in-capsule data, 'complete' replaces the
# response (data and completion) of the command at the point.
MISBEHAVIOURS = {
    'unknown_pdu_type': ('complete', 'read'),  # a PDU of reserved type 0x0B
    'bad_hlen': ('complete', 'read'),  # a CapsuleResp with hlen 32
    'plen_lt_hlen': ('complete', 'read'),  # a CapsuleResp with plen 16 < hlen 24
    'plen_huge': ('complete', 'read'),  # a C2HData claiming 1 GiB
    'c2h_unknown_cid': ('complete', 'read'),  # data for a cid that is not outstanding
    'c2h_overflow': ('complete', 'read'),  # datao + datal past the command's buffer
    'resp_unknown_cid': ('complete', 'read'),  # a CapsuleResp for a cid not outstanding
    'resp_twice': ('complete', 'write'),  # the completion, then the same completion again
    'resp_before_data': ('complete', 'read'),  # a successful read completion without data
    'r2t_for_read': ('complete', 'read'),  # an R2T for a read command
    'r2t_unknown_cid': ('r2t', 'write'),  # an R2T for a cid that is not outstanding
    'r2t_zero': ('r2t', 'write'),  # an R2T of length 0
    'r2t_beyond': ('r2t', 'write'),  # an R2T past the end of the command's data
    'bad_hdgst': ('complete', 'read'),  # a C2HData with a wrong header digest
    'bad_ddgst': ('complete', 'read'),  # a C2HData with a wrong data digest
    'icresp_bad_pfv': ('icresp', 'icresp'),  # pfv 1
    'icresp_small_maxh2cdata': ('icresp', 'icresp'),  # maxh2cdata 1024
    'icresp_bad_cpda': ('icresp', 'icresp'),  # cpda 32
    'connect_error': ('connect', 'connect'),  # Connect Invalid Parameters (sct 1 sc 0x82)
    'close_mid_pdu': ('complete', 'read'),  # half a C2HData header, then close
    'resp_bad_sqhd': ('complete', 'read'),  # a correct answer whose SQHD and SQID are nonsense
    'c2h_success_then_resp': ('complete', 'read'),  # C2HData with SUCCESS, then a CapsuleResp
    'term_req': ('complete', 'read'),  # a C2HTermReq (invalid header field)
    'silent': ('complete', 'read'),  # no answer at all
    'silent_icresp': ('icresp', 'icresp'),  # no ICResp at all
}

# Status codes (sct, sc)
SC_SUCCESS = (0, 0x00)
SC_INVALID_OPCODE = (0, 0x01)
SC_INVALID_FIELD = (0, 0x02)
SC_INVALID_NS = (0, 0x0B)
SC_SGL_LENGTH_INVALID = (0, 0x0F)
SC_LBA_OUT_OF_RANGE = (0, 0x80)
SC_CONNECT_INVALID_PARAM = (1, 0x82)

REG_CAP, REG_VS, REG_CC, REG_CSTS = 0x00, 0x08, 0x14, 0x1C


class Closed(Exception):
    """The host closed the connection."""


class HostError(Exception):
    """The host sent something this target cannot accept."""


def status_word(code, dnr=False):
    sct, sc = code
    return (sc << 1) | (sct << 9) | (0x8000 if dnr else 0)


class Cmd:
    """One capsule command: the SQE fields the target looks at."""

    def __init__(self, sqe):
        self.sqe = sqe
        self.opc = sqe[0]
        self.cid = struct.unpack_from('<H', sqe, 2)[0]
        self.nsid = struct.unpack_from('<I', sqe, 4)[0]
        self.sgl_len = struct.unpack_from('<I', sqe, 32)[0]
        self.sgl_type = sqe[39]
        self.cdw = struct.unpack_from('<6I', sqe, 40)  # cdw10..cdw15
        self.fctype = sqe[4] if self.opc == 0x7F else None

    @property
    def xfer(self):
        """0 none, 1 host to controller, 2 controller to host."""
        return (self.fctype if self.fctype is not None else self.opc) & 3


class Ctx:
    """What a misbehaviour handler gets: the command, its data and where it happened."""

    def __init__(self, cmd, data=b'', cdw0=0, status=SC_SUCCESS):
        self.cmd, self.cid, self.data, self.cdw0, self.status = cmd, cmd.cid, data, cdw0, status


class BadTarget:
    def __init__(self, misbehaviour=None, at=1, point=None, subnqn=DEFAULT_NQN, icd=4096,
                 maxh2cdata=65536, c2h_chunk=16384, c2h_success=False, lifetime=150.0):
        if misbehaviour is not None and misbehaviour not in MISBEHAVIOURS:
            raise ValueError('unknown misbehaviour %r' % misbehaviour)
        self.misbehaviour = misbehaviour
        phase, default_point = MISBEHAVIOURS.get(misbehaviour, (None, None))
        self.phase = phase
        self.point = point or default_point
        if self.point is not None and self.point not in POINTS:
            raise ValueError('unknown point %r' % self.point)
        self.at = at
        self.subnqn = subnqn
        # R2T misbehaviours need writes that are not in the capsule.
        self.icd = 0 if phase == 'r2t' else icd
        self.maxh2cdata = maxh2cdata
        self.c2h_chunk = c2h_chunk
        self.c2h_success = c2h_success
        self.lifetime = lifetime
        self.fired = threading.Event()
        self.errors = []  # what the host did wrong (a good run has none)
        self.log = []
        self.ns = bytearray(NS_SIZE)
        self.cc = 0
        self.kato = 0
        self.num_queues = 0
        self.reads = self.writes = 0
        self._counts = {}  # (point, phase) -> commands seen
        self._lock = threading.Lock()
        self._conns = []
        self._threads = []
        self._stopped = threading.Event()
        self._listener = None
        self._timer = None
        self.port = None

    # -- lifecycle ----------------------------------------------------------------------------
    def start(self):
        self._listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._listener.bind((ADDR, 0))
        self._listener.listen(16)
        self.port = self._listener.getsockname()[1]
        self._spawn(self._accept_loop)
        self._timer = threading.Timer(self.lifetime, self.stop)
        self._timer.daemon = True
        self._timer.start()
        return self

    def stop(self):
        if self._stopped.is_set():
            return
        self._stopped.set()
        if self._timer is not None:
            self._timer.cancel()
        for s in [self._listener] + list(self._conns):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            try:
                s.close()
            except OSError:
                pass
        for t in self._threads:
            if t is not threading.current_thread():
                t.join(timeout=5)

    def __enter__(self):
        return self.start() if self.port is None else self

    def __exit__(self, *exc):
        self.stop()

    def trid(self, subnqn=None):
        return ('trtype:tcp adrfam:IPv4 traddr:%s trsvcid:%d subnqn:%s'
                % (ADDR, self.port, subnqn or self.subnqn))

    def _spawn(self, fn, *args):
        t = threading.Thread(target=fn, args=args, daemon=True)
        self._threads.append(t)
        t.start()

    def _accept_loop(self):
        while not self._stopped.is_set():
            try:
                sock, _ = self._listener.accept()
            except OSError:
                return
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            self._conns.append(sock)
            self._spawn(Conn(self, sock).run)

    # -- shared state -------------------------------------------------------------------------
    def note(self, msg):
        with self._lock:
            self.log.append('%.3f %s' % (time.monotonic(), msg))

    def fire(self, point, phase):
        """True (once) when the misbehaviour is due at this point in this phase."""
        with self._lock:
            n = self._counts[point, phase] = self._counts.get((point, phase), 0) + 1
            due = (self.misbehaviour is not None and point == self.point and
                   phase == self.phase and n == self.at and not self.fired.is_set())
            if due:
                self.fired.set()
                self.log.append('%.3f fired %s at %s #%d' % (time.monotonic(),
                                                              self.misbehaviour, point,
                                                              self.at))
            return due

    def csts(self):
        rdy = self.cc & 1
        shst = 2 if (self.cc >> 14) & 3 else 0
        return rdy | (shst << 2)


class Conn:
    """One TCP connection: one queue pair."""

    def __init__(self, tgt, sock):
        self.tgt = tgt
        self.sock = sock
        self.buf = bytearray()
        self.hdgst = self.ddgst = False
        self.cpda = 0
        self.qid = None
        self.sqsize = 127
        self.sqhd = 0
        self.pending = {}  # cid -> [cmd, bytearray, received, ttag]: writes waiting for data
        self.next_ttag = 1

    # -- bytes --------------------------------------------------------------------------------
    def _recv_exact(self, n):
        while len(self.buf) < n:
            try:
                chunk = self.sock.recv(65536)
            except OSError:
                chunk = b''
            if not chunk:
                raise Closed()
            self.buf += chunk
        out = bytes(self.buf[:n])
        del self.buf[:n]
        return out

    def send(self, data):
        self.sock.sendall(data)

    def recv_pdu(self):
        ch = self._recv_exact(8)
        ptype, flags, hlen, pdo, plen = struct.unpack('<BBBBI', ch)
        if hlen < 8 or plen < hlen or plen > MAX_PLEN:
            raise HostError('bad common header %s' % ch.hex())
        header = ch + self._recv_exact(hlen - 8)
        if ptype == PDU_IC_REQ:
            return ptype, flags, header, self._recv_exact(plen - hlen)
        hd = 4 if flags & FLAG_HDGSTF else 0
        if bool(hd) != self.hdgst:
            raise HostError('PDU type %d: HDGSTF %d, negotiated %d' % (ptype, bool(hd),
                                                                     self.hdgst))
        if hd and struct.unpack('<I', self._recv_exact(4))[0] != crc32c(header):
            raise HostError('header digest mismatch (PDU type %d)' % ptype)
        data = b''
        rest = plen - hlen - hd
        if rest > 0:
            pad = pdo - hlen - hd if pdo else 0
            if pad < 0 or pad > rest:
                raise HostError('bad pdo %d (hlen %d plen %d)' % (pdo, hlen, plen))
            self._recv_exact(pad)
            dd = 4 if flags & FLAG_DDGSTF else 0
            if bool(dd) != self.ddgst:
                raise HostError('PDU type %d: DDGSTF %d, negotiated %d' % (ptype, bool(dd),
                                                                         self.ddgst))
            data = self._recv_exact(rest - pad - dd)
            if dd and struct.unpack('<I', self._recv_exact(4))[0] != crc32c(data):
                raise HostError('data digest mismatch (PDU type %d)' % ptype)
        return ptype, flags, header, data

    # -- PDUs the target sends ----------------------------------------------------------------
    def resp_pdu(self, cid, code=SC_SUCCESS, cdw0=0, cdw1=0, sqhd=None, sqid=None, dnr=False,
                 **kw):
        if sqhd is None:
            sqhd = self.sqhd
        if sqid is None:
            sqid = self.qid or 0
        psh = struct.pack('<IIHHHH', cdw0 & 0xFFFFFFFF, cdw1 & 0xFFFFFFFF, sqhd, sqid, cid,
                          status_word(code, dnr))
        return build_pdu(PDU_CAPSULE_RESP, psh, hdgst=self.hdgst, **kw)

    def c2h_pdu(self, cid, datao, data, last=True, success=False, datal=None, **kw):
        flags = (FLAG_LAST_PDU if last else 0) | (FLAG_SUCCESS if success else 0)
        psh = struct.pack('<HHII4x', cid, 0, datao, len(data) if datal is None else datal)
        args = dict(hdgst=self.hdgst, ddgst=self.ddgst, cpda=self.cpda)
        args.update(kw)
        return build_pdu(PDU_C2H_DATA, psh, data, flags=flags, **args)

    def r2t_pdu(self, cid, ttag, r2to, r2tl):
        psh = struct.pack('<HHII4x', cid, ttag, r2to, r2tl)
        return build_pdu(PDU_R2T, psh, hdgst=self.hdgst)

    def respond(self, cmd, code=SC_SUCCESS, cdw0=0, cdw1=0, data=b''):
        """The normal answer: data in C2HData PDUs, then the completion."""
        out = bytearray()
        use_success = self.tgt.c2h_success and data and code == SC_SUCCESS
        for off in range(0, len(data), self.tgt.c2h_chunk):
            chunk = data[off:off + self.tgt.c2h_chunk]
            last = off + len(chunk) == len(data)
            out += self.c2h_pdu(cmd.cid, off, chunk, last=last, success=last and use_success)
        if not use_success:
            out += self.resp_pdu(cmd.cid, code, cdw0, cdw1)
        self.send(bytes(out))

    # -- the connection -----------------------------------------------------------------------
    def run(self):
        try:
            self._icreq()
            while True:
                ptype, flags, header, data = self.recv_pdu()
                if ptype == PDU_CAPSULE_CMD:
                    self._capsule(Cmd(header[8:72]), data)
                elif ptype == PDU_H2C_DATA:
                    self._h2c_data(flags, header, data)
                elif ptype == PDU_H2C_TERM_REQ:
                    fes, fei = struct.unpack_from('<HI', header, 8)
                    self.tgt.errors.append('H2CTermReq fes 0x%x fei %d' % (fes, fei))
                    return
                else:
                    raise HostError('unexpected PDU type 0x%x from the host' % ptype)
        except Closed:
            pass
        except HostError as e:
            self.tgt.errors.append(str(e))
            self.tgt.note('host error: %s' % e)
        except OSError:
            pass  # the target is stopping, or the host reset the connection
        finally:
            try:
                self.sock.close()
            except OSError:
                pass

    def _icreq(self):
        ptype, _, header, _ = self.recv_pdu()
        if ptype != PDU_IC_REQ or len(header) != 128:
            raise HostError('expected ICReq, got PDU type 0x%x' % ptype)
        pfv, hpda, dgst, maxr2t = struct.unpack_from('<HBBI', header, 8)
        pfv_out, cpda, maxh2cdata = 0, 0, self.tgt.maxh2cdata
        if self.tgt.fire('icresp', 'icresp'):
            mb = self.tgt.misbehaviour
            if mb == 'silent_icresp':
                self._hold()
            pfv_out = 1 if mb == 'icresp_bad_pfv' else 0
            cpda = 32 if mb == 'icresp_bad_cpda' else 0
            maxh2cdata = 1024 if mb == 'icresp_small_maxh2cdata' else maxh2cdata
        psh = struct.pack('<HBBI', pfv_out, cpda, dgst & 3, maxh2cdata).ljust(120, b'\0')
        self.send(build_pdu(PDU_IC_RESP, psh))
        self.hdgst, self.ddgst = bool(dgst & 1), bool(dgst & 2)
        self.cpda = cpda

    def _hold(self):
        """Say nothing more; read (and drop) whatever comes until the host gives up."""
        while True:
            if not self.sock.recv(65536):
                raise Closed()

    def _capsule(self, cmd, icd):
        self.sqhd = (self.sqhd + 1) % (self.sqsize + 1)
        if cmd.xfer == 1 and cmd.sgl_len > 0 and not icd:
            # Data after an R2T (host to controller, not in the capsule).
            is_write = self.qid and cmd.opc == 0x01
            if is_write and self.tgt.fire('write', 'r2t'):
                self._misbehave_r2t(cmd)
                return
            ttag = self.next_ttag
            self.next_ttag = self.next_ttag % 0xFFFF + 1
            self.pending[cmd.cid] = [cmd, bytearray(cmd.sgl_len), 0, ttag]
            self.send(self.r2t_pdu(cmd.cid, ttag, 0, cmd.sgl_len))
            return
        if icd and len(icd) != cmd.sgl_len:
            raise HostError('cid %d: %d bytes in the capsule, SGL says %d'
                            % (cmd.cid, len(icd), cmd.sgl_len))
        self._execute(cmd, icd)

    def _h2c_data(self, flags, header, data):
        cccid, ttag, datao, datal = struct.unpack_from('<HHII', header, 8)
        p = self.pending.get(cccid)
        if p is None or p[3] != ttag:
            raise HostError('H2CData for cid %d ttag %d: no such R2T' % (cccid, ttag))
        cmd, buf, got, _ = p
        if datal != len(data) or datao != got or datao + datal > len(buf):
            raise HostError('H2CData cid %d datao %d datal %d (have %d of %d)'
                            % (cccid, datao, datal, got, len(buf)))
        if datal > self.tgt.maxh2cdata:
            raise HostError('H2CData of %d bytes > maxh2cdata' % datal)
        buf[datao:datao + datal] = data
        p[2] = got + datal
        if p[2] == len(buf):
            if not flags & FLAG_LAST_PDU:
                raise HostError('H2CData cid %d: all data but no LAST_PDU' % cccid)
            del self.pending[cccid]
            self._execute(cmd, bytes(buf))
        elif flags & FLAG_LAST_PDU:
            raise HostError('H2CData cid %d: LAST_PDU at %d of %d' % (cccid, p[2], len(buf)))

    # -- commands -----------------------------------------------------------------------------
    def _execute(self, cmd, data_out):
        if cmd.opc == 0x7F:
            res = self._fabrics(cmd, data_out)
            point = None
        elif self.qid == 0:
            res = self._admin(cmd, data_out)
            point = 'identify' if cmd.opc == 0x06 and cmd.cdw[0] & 0xFF == 1 else None
        else:
            res = self._io(cmd, data_out)
            point = {0x02: 'read', 0x01: 'write'}.get(cmd.opc)
        if res is None:
            return  # held (AER)
        code, cdw0, data = res
        if point is not None and self.tgt.fire(point, 'complete'):
            self._misbehave(Ctx(cmd, data, cdw0, code))
            return
        self._respond_res(cmd, code, cdw0, data)

    def _respond_res(self, cmd, code, cdw0, data):
        cdw1 = 0
        if isinstance(cdw0, tuple):
            cdw0, cdw1 = cdw0
        self.respond(cmd, code, cdw0, cdw1, data)

    def _fabrics(self, cmd, data_out):
        t = self.tgt
        if cmd.fctype == 0x01:  # Connect
            qid, sqsize, _, kato = struct.unpack_from('<HHBxI', cmd.sqe, 42)
            if len(data_out) != 1024:
                return SC_INVALID_FIELD, 0, b''
            subnqn = data_out[256:512].split(b'\0', 1)[0].decode('ascii', 'replace')
            if t.fire('connect', 'connect'):
                t.note('Connect qid %d: answered with an error' % qid)
                return SC_CONNECT_INVALID_PARAM, 0, b''
            if subnqn != t.subnqn:
                return SC_CONNECT_INVALID_PARAM, 256, b''
            self.qid, self.sqsize = qid, sqsize
            if qid == 0:
                t.kato = kato
            t.note('Connect qid %d sqsize %d' % (qid, sqsize))
            return SC_SUCCESS, 1, b''  # cntlid 1
        if self.qid is None:
            raise HostError('fabrics command 0x%x before Connect' % cmd.fctype)
        attrib = cmd.sqe[40] & 1
        ofst = struct.unpack_from('<I', cmd.sqe, 44)[0]
        if cmd.fctype == 0x04:  # Property Get
            if ofst == REG_CAP:
                v = 127 | (1 << 16) | (10 << 24) | (1 << 37)
            elif ofst == REG_VS:
                v = 0x00010400
            elif ofst == REG_CC:
                v = t.cc
            elif ofst == REG_CSTS:
                v = t.csts()
            else:
                return SC_INVALID_FIELD, 0, b''
            return SC_SUCCESS, ((v & 0xFFFFFFFF, v >> 32) if attrib else v & 0xFFFFFFFF), b''
        if cmd.fctype == 0x00:  # Property Set
            v = struct.unpack_from('<Q', cmd.sqe, 48)[0]
            if ofst != REG_CC:
                return SC_INVALID_FIELD, 0, b''
            t.cc = v & 0xFFFFFFFF
            return SC_SUCCESS, 0, b''
        if cmd.fctype == 0x08:  # Disconnect
            return SC_SUCCESS, 0, b''
        return SC_INVALID_OPCODE, 0, b''

    def _admin(self, cmd, data_out):
        t = self.tgt
        cdw10, cdw11 = cmd.cdw[0], cmd.cdw[1]
        if cmd.opc == 0x06:  # Identify
            cns = cdw10 & 0xFF
            if cns == 1:
                page = identify_ctrlr(t)
            elif cns == 0:
                if cmd.nsid != 1:
                    return SC_INVALID_NS, 0, b''
                page = identify_ns()
            elif cns == 2:
                page = struct.pack('<I', 1) if cmd.nsid < 1 else b''
            elif cns == 3:
                if cmd.nsid != 1:
                    return SC_INVALID_NS, 0, b''
                page = (bytes([2, 16, 0, 0]) + NGUID + bytes([3, 16, 0, 0]) + NS_UUID)
            else:
                return SC_INVALID_FIELD, 0, b''
            return SC_SUCCESS, 0, page.ljust(4096, b'\0')[:cmd.sgl_len]
        if cmd.opc == 0x09:  # Set Features
            fid = cdw10 & 0xFF
            if fid == 0x07:
                n = min(cdw11 & 0xFFFF, 3), min(cdw11 >> 16, 3)
                t.num_queues = n
                return SC_SUCCESS, n[0] | (n[1] << 16), b''
            if fid == 0x0F:
                t.kato = cdw11
            return SC_SUCCESS, 0, b''
        if cmd.opc == 0x0A:  # Get Features
            fid = cdw10 & 0xFF
            if fid == 0x0F:
                return SC_SUCCESS, t.kato, b''
            if fid == 0x07 and t.num_queues:
                return SC_SUCCESS, t.num_queues[0] | (t.num_queues[1] << 16), b''
            return SC_SUCCESS, 0, b''
        if cmd.opc == 0x02:  # Get Log Page
            lid = cdw10 & 0xFF
            numd = ((cdw10 >> 16) | ((cdw11 & 0xFFFF) << 16)) + 1
            offset = cmd.cdw[2] | (cmd.cdw[3] << 32)
            page = ana_log() if lid == 0x0C else b''
            page = page[offset:offset + numd * 4].ljust(numd * 4, b'\0')
            return SC_SUCCESS, 0, page[:cmd.sgl_len]
        if cmd.opc == 0x0C:  # Asynchronous Event Request: nothing ever happens here
            return None
        if cmd.opc == 0x18:  # Keep Alive
            return SC_SUCCESS, 0, b''
        if cmd.opc == 0x08:  # Abort: the command is not aborted (cdw0 bit 0)
            return SC_SUCCESS, 1, b''
        return SC_INVALID_OPCODE, 0, b''

    def _io(self, cmd, data_out):
        t = self.tgt
        if cmd.opc in (0x00, 0x09):  # Flush, DSM
            return SC_SUCCESS, 0, b''
        if cmd.opc not in (0x01, 0x02, 0x08):
            return SC_INVALID_OPCODE, 0, b''
        if cmd.nsid != 1:
            return SC_INVALID_NS, 0, b''
        slba = cmd.cdw[0] | (cmd.cdw[1] << 32)
        nlb = (cmd.cdw[2] & 0xFFFF) + 1
        if (slba + nlb) * BLOCK > NS_SIZE:
            return SC_LBA_OUT_OF_RANGE, 0, b''
        off, n = slba * BLOCK, nlb * BLOCK
        if cmd.opc == 0x08:  # Write Zeroes
            t.ns[off:off + n] = bytes(n)
            return SC_SUCCESS, 0, b''
        if cmd.sgl_len != n:
            return SC_SGL_LENGTH_INVALID, 0, b''
        if cmd.opc == 0x01:
            t.writes += 1
            t.ns[off:off + n] = data_out
            return SC_SUCCESS, 0, b''
        t.reads += 1
        return SC_SUCCESS, 0, bytes(t.ns[off:off + n])

    # -- misbehaviours ------------------------------------------------------------------------
    def _misbehave_r2t(self, cmd):
        mb, n = self.tgt.misbehaviour, cmd.sgl_len
        # Remember the command so a host that answers the bad R2T finds a target listening.
        self.pending[cmd.cid] = [cmd, bytearray(n), 0, 0x7777]
        if mb == 'r2t_unknown_cid':
            pdu = self.r2t_pdu((cmd.cid + 1) & 0xFFFF, 0x7777, 0, n)
        elif mb == 'r2t_zero':
            pdu = self.r2t_pdu(cmd.cid, 0x7777, 0, 0)
        else:  # r2t_beyond
            pdu = self.r2t_pdu(cmd.cid, 0x7777, 0, n + 4096)
        self.send(pdu)

    def _misbehave(self, ctx):
        mb = self.tgt.misbehaviour
        cid, data = ctx.cid, ctx.data
        if mb == 'unknown_pdu_type':
            self.send(build_pdu(0x0B, bytes(16), hdgst=self.hdgst))
        elif mb == 'bad_hlen':
            self.send(build_pdu(PDU_CAPSULE_RESP, self._cqe(ctx), hlen=32,
                                hdgst=self.hdgst))
        elif mb == 'plen_lt_hlen':
            self.send(build_pdu(PDU_CAPSULE_RESP, self._cqe(ctx), plen=16))
        elif mb == 'plen_huge':
            payload = data or bytes(BLOCK)
            self.send(self.c2h_pdu(cid, 0, payload, plen=1 << 30))
        elif mb == 'c2h_unknown_cid':
            self.send(self.c2h_pdu((cid + 1) & 0xFFFF, 0, data or bytes(BLOCK)))
        elif mb == 'c2h_overflow':
            self.send(self.c2h_pdu(cid, 0, data + bytes(BLOCK)))
        elif mb == 'resp_unknown_cid':
            self._send_data(ctx)
            self.send(self.resp_pdu((cid + 1) & 0xFFFF))
        elif mb == 'resp_twice':
            self._send_data(ctx)
            self.send(self.resp_pdu(cid, ctx.status, ctx.cdw0) * 2)
        elif mb == 'resp_before_data':
            self.send(self.resp_pdu(cid))
        elif mb == 'r2t_for_read':
            self.send(self.r2t_pdu(cid, 1, 0, max(len(data), BLOCK)))
        elif mb == 'bad_hdgst':
            self.send(self.c2h_pdu(cid, 0, data, bad_hdgst=True, hdgst=True))
        elif mb == 'bad_ddgst':
            self.send(self.c2h_pdu(cid, 0, data, bad_ddgst=True, ddgst=True))
        elif mb == 'close_mid_pdu':
            self.send(self.c2h_pdu(cid, 0, data or bytes(BLOCK))[:12])
            time.sleep(0.05)
            self.sock.shutdown(socket.SHUT_RDWR)
            raise Closed()
        elif mb == 'resp_bad_sqhd':
            self._send_data(ctx)
            self.send(self.resp_pdu(cid, ctx.status, ctx.cdw0, sqhd=0xFFFF, sqid=0x1234))
        elif mb == 'c2h_success_then_resp':
            self.send(self.c2h_pdu(cid, 0, data, success=True) + self.resp_pdu(cid))
        elif mb == 'term_req':
            psh = struct.pack('<HI10x', 0x01, 8)
            hdr = build_pdu(PDU_C2H_TERM_REQ, psh, plen=24 + 24)
            self.send(hdr + bytes(24))
        elif mb == 'silent':
            pass
        else:
            raise AssertionError('misbehaviour %r has no handler at this point' % mb)

    def _cqe(self, ctx):
        return struct.pack('<IIHHHH', ctx.cdw0 if isinstance(ctx.cdw0, int) else 0, 0,
                           self.sqhd, self.qid or 0, ctx.cid, status_word(ctx.status))

    def _send_data(self, ctx):
        if ctx.data:
            self.send(self.c2h_pdu(ctx.cid, 0, ctx.data))


# ---- Identify and log pages ----

NGUID = bytes.fromhex('0b5a7a2e0c1d4e5fa1b2c3d4e5f60718')
NS_UUID = uuid.UUID('6c0c1a0e-5b2d-4a8e-9d3f-0a1b2c3d4e5f').bytes


def identify_ctrlr(t):
    d = bytearray(4096)
    struct.pack_into('<HH', d, 0, 0x1B36, 0x1AF4)
    d[4:24] = SERIAL.encode().ljust(20, b' ')
    d[24:64] = MODEL.encode().ljust(40, b' ')
    d[64:72] = b'1.0'.ljust(8, b' ')
    d[76] = 0x0B  # cmic: multi-port, multi-controller, ANA reporting
    d[77] = 5  # mdts: 128 KiB
    struct.pack_into('<H', d, 78, 1)  # cntlid
    struct.pack_into('<I', d, 80, 0x00010400)  # ver 1.4
    struct.pack_into('<I', d, 92, (1 << 8) | (1 << 11))  # oaes: ns attr, ANA change
    d[111] = 1  # cntrltype: I/O controller
    d[258] = 3  # acl
    d[259] = 3  # aerl (0's based): 4 AERs
    d[261] = 0x0F  # lpa
    struct.pack_into('<H', d, 320, 10)  # kas: 100 ms units
    d[342] = 10  # anatt
    d[343] = 0x03  # anacap: optimized, non-optimized
    struct.pack_into('<II', d, 344, 1, 1)  # anagrpmax, nanagrpid
    d[512], d[513] = 0x66, 0x44  # sqes, cqes
    struct.pack_into('<HI', d, 514, 128, 1)  # maxcmd, nn
    struct.pack_into('<H', d, 520, 0x0C)  # oncs: write zeroes, DSM
    d[525] = 1  # vwc
    struct.pack_into('<I', d, 536, 0x00100005)  # sgls
    nqn = t.subnqn.encode()
    d[768:768 + len(nqn)] = nqn
    ioccsz = (64 + t.icd) // 16
    struct.pack_into('<IIHBB', d, 1792, ioccsz, 1, 0, 0, 0)
    return bytes(d)


def identify_ns():
    d = bytearray(4096)
    blocks = NS_SIZE // BLOCK
    struct.pack_into('<QQQ', d, 0, blocks, blocks, blocks)
    d[25] = 0  # nlbaf (0's based)
    d[26] = 0  # flbas
    d[30] = 1  # nmic: shared
    struct.pack_into('<I', d, 92, 1)  # anagrpid
    d[104:120] = NGUID
    struct.pack_into('<HBB', d, 128, 0, 9, 0)  # lbaf0: 512-byte blocks
    return bytes(d)


def ana_log():
    head = struct.pack('<QH6x', 1, 1)
    group = struct.pack('<IIQB15x', 1, 1, 1, 0x01) + struct.pack('<I', 1)
    return head + group
