# SPDX-License-Identifier: BSD-3-Clause
"""Malformed NVMe/TCP input: every case gets a C2HTermReq (with the right FES), an NVMe error
status, or a closed connection; never a crash or a hang. After each case a fresh,
well-behaved connection still does I/O and the target process is alive. Ends with a loop of
random-bytes and mutated-PDU connections."""

import random
import socket
import struct
import unittest

import nvmf_client as nc
from nvmf_helpers import ADDR, SharedNvmfTestCase

CASE_TIMEOUT = 15.0


def write_sqe(nsid, slba, nlb, sgl_type, length):
    return lambda cid, d: nc.sqe(nc.OPC_WRITE, cid, nsid, slba, 0, nlb - 1,
                                 dptr=nc.sgl(sgl_type, length))


class NvmfBadInputTest(SharedNvmfTestCase):
    TRANSPORT_OPTS = {'max_io_size': 262144}  # twice MAXH2CDATA: see the H2CData limit test

    def tearDown(self):
        super().tearDown()
        self.check_healthy()

    def check_healthy(self):
        """A fresh connection does I/O; the target is alive."""
        self.assertTrue(self.tgt.running(), 'pollux_tgt died')
        c = nc.Controller(ADDR, self.port, self.nqn, timeout=CASE_TIMEOUT)
        try:
            c.connect()
            q = c.add_io_queue()
            data = bytes(range(256)) * 16
            self.assertTrue(q.write(1, 100, data).ok)
            self.assertEqual(q.read(1, 100, 8).data, data)
        finally:
            c.close()

    def raw(self, icreq=True, **kw):
        q = nc.Queue(ADDR, self.port, timeout=CASE_TIMEOUT)
        self.addCleanup(q.close)
        if icreq:
            q.icreq(**kw)
        return q

    def io_queue(self, hdgst=False, ddgst=False):
        c = self.ctrlr(self.port, self.nqn, io_queues=1, hdgst=hdgst, ddgst=ddgst,
                       timeout=CASE_TIMEOUT)
        return c, c.io_queues[0]

    def expect_term(self, q, fes=None, fei=None):
        """A C2HTermReq (fes one of `fes`), then the connection closes."""
        t = q.expect_term_req(CASE_TIMEOUT)
        self.assertIsNotNone(t, 'the target closed the connection without a C2HTermReq')
        if fes is not None:
            self.assertIn(t.fes, fes if isinstance(fes, tuple) else (fes,), t)
        if fei is not None:
            self.assertEqual(t.fei, fei, t)
        self.assertLessEqual(len(t.data), nc.HLEN[nc.PDU_C2H_TERM_REQ] + 128)
        self.assertTrue(q.wait_closed(CASE_TIMEOUT), 'connection not closed after TermReq')
        return t

    # ---- ICReq ----

    def test_icreq_wrong_hlen(self):
        q = self.raw(icreq=False)
        pdu = bytearray(nc.icreq_pdu())
        pdu[2] = 64
        q.send_raw(bytes(pdu))
        self.expect_term(q, nc.FES_INVALID_HEADER_FIELD, 2)

    def test_icreq_wrong_plen(self):
        q = self.raw(icreq=False)
        pdu = bytearray(nc.icreq_pdu())
        struct.pack_into('<I', pdu, 4, 132)
        q.send_raw(bytes(pdu) + bytes(4))
        self.expect_term(q, nc.FES_INVALID_HEADER_FIELD, 4)

    def test_icreq_bad_pfv(self):
        q = self.raw(icreq=False)
        q.send_raw(nc.icreq_pdu(pfv=1))
        self.expect_term(q, (nc.FES_INVALID_HEADER_FIELD, nc.FES_UNSUPPORTED_PARAMETER), 8)

    def test_icreq_bad_hpda(self):
        q = self.raw(icreq=False)
        q.send_raw(nc.icreq_pdu(hpda=32))
        self.expect_term(q, (nc.FES_INVALID_HEADER_FIELD, nc.FES_UNSUPPORTED_PARAMETER), 10)

    def test_capsule_before_icreq(self):
        q = self.raw(icreq=False)
        q.send_raw(nc.capsule_cmd_pdu(nc.sqe(nc.OPC_KEEP_ALIVE, 1)))
        self.expect_term(q, (nc.FES_INVALID_HEADER_FIELD, nc.FES_PDU_SEQUENCE_ERROR))

    def test_second_icreq(self):
        q = self.raw()
        q.send_raw(nc.icreq_pdu())
        self.expect_term(q, (nc.FES_INVALID_HEADER_FIELD, nc.FES_PDU_SEQUENCE_ERROR))

    # ---- common header ----

    def test_unknown_pdu_type(self):
        q = self.raw()
        q.send_raw(nc.build_pdu(0x0F, bytes(16)))
        self.expect_term(q, nc.FES_INVALID_HEADER_FIELD, 0)

    def test_controller_only_pdu_from_host(self):
        q = self.raw()
        q.send_raw(nc.build_pdu(nc.PDU_CAPSULE_RESP, bytes(16)))
        self.expect_term(q, (nc.FES_INVALID_HEADER_FIELD, nc.FES_PDU_SEQUENCE_ERROR))

    def test_capsule_wrong_hlen(self):
        q = self.raw()
        q.send_raw(nc.build_pdu(nc.PDU_CAPSULE_CMD, nc.sqe(nc.OPC_KEEP_ALIVE, 1), hlen=64))
        self.expect_term(q, nc.FES_INVALID_HEADER_FIELD, 2)

    def test_capsule_bad_pdo(self):
        q = self.raw()
        cmd = nc.fabrics_sqe(nc.FCTYPE_CONNECT, 1, b'', nc.sgl(nc.SGL_IN_CAPSULE, 1024))
        q.send_raw(nc.build_pdu(nc.PDU_CAPSULE_CMD, cmd, bytes(1024), pdo=16))
        self.expect_term(q, nc.FES_INVALID_HEADER_FIELD, 3)

    def test_capsule_plen_too_small(self):
        q = self.raw()
        pdu = bytearray(nc.capsule_cmd_pdu(nc.sqe(nc.OPC_KEEP_ALIVE, 1)))
        struct.pack_into('<I', pdu, 4, 40)
        q.send_raw(bytes(pdu))
        self.expect_term(q, nc.FES_INVALID_HEADER_FIELD, 4)

    def test_capsule_plen_too_large(self):
        q = self.raw()
        cmd = nc.fabrics_sqe(nc.FCTYPE_CONNECT, 1, b'', nc.sgl(nc.SGL_IN_CAPSULE, 1 << 20))
        # Only the header is sent: the target must judge plen before waiting for the data.
        pdu = nc.build_pdu(nc.PDU_CAPSULE_CMD, cmd, b'', pdo=72, plen=72 + (1 << 20))
        q.send_raw(pdu)
        self.expect_term(q, (nc.FES_INVALID_HEADER_FIELD,
                             nc.FES_DATA_TRANSFER_LIMIT_EXCEEDED), 4)

    def test_digest_flag_not_negotiated(self):
        q = self.raw()
        q.send_raw(nc.capsule_cmd_pdu(nc.sqe(nc.OPC_KEEP_ALIVE, 1), hdgst=True))
        self.expect_term(q, nc.FES_INVALID_HEADER_FIELD)

    def test_h2c_term_req_closes(self):
        q = self.raw()
        q.send_raw(nc.h2c_term_req_pdu(nc.FES_INVALID_HEADER_FIELD))
        self.assertTrue(q.wait_closed(CASE_TIMEOUT))

    def test_truncated_then_close(self):
        for cut in (1, 7, 8, 40, 72 + 100):
            with self.subTest(cut=cut):
                q = self.raw()
                cmd = nc.fabrics_sqe(nc.FCTYPE_CONNECT, 1, b'', nc.sgl(nc.SGL_IN_CAPSULE, 1024))
                q.send_raw(nc.build_pdu(nc.PDU_CAPSULE_CMD, cmd, bytes(1024))[:cut])
                q.close()
        q = self.raw(icreq=False)
        q.send_raw(nc.icreq_pdu()[:100])
        q.close()

    # ---- digests ----

    def test_header_digest_mismatch(self):
        q = self.raw(hdgst=True)
        self.assertTrue(q.hdgst, 'target did not accept header digests')
        q.send_raw(nc.build_pdu(nc.PDU_CAPSULE_CMD, nc.sqe(nc.OPC_KEEP_ALIVE, 1), hdgst=True,
                                bad_hdgst=True))
        self.expect_term(q, nc.FES_HDGST_ERROR)

    def test_data_digest_mismatch(self):
        c, q = self.io_queue(ddgst=True)
        self.assertTrue(q.ddgst)
        data = bytes(4096)
        q.send_raw(nc.build_pdu(nc.PDU_CAPSULE_CMD,
                                nc.sqe(nc.OPC_WRITE, 77, 1, 0, 0, 7,
                                       dptr=nc.sgl(nc.SGL_IN_CAPSULE, 4096)),
                                data, ddgst=True, bad_ddgst=True))
        q.pending[77] = nc._Request(77, data, 0)
        try:
            cpl = q.wait(77, CASE_TIMEOUT)
        except nc.TermReq:
            return  # a TermReq is allowed too
        except nc.ConnectionClosed:
            self.fail('closed without a TermReq or a status')
        self.assertIn(cpl.code, ((0, 0x22), nc.SC_DATA_TRANSFER_ERROR), cpl)

    # ---- R2T / H2CData ----

    def start_r2t_write(self, q):
        data = bytes(64 * 1024)
        cid = q.submit(write_sqe(1, 0, 128, nc.SGL_TRANSPORT, len(data)), data,
                       in_capsule=False)
        pdu = q.recv_pdu()
        self.assertEqual(pdu.type, nc.PDU_R2T, pdu)
        cccid, ttag, r2to, r2tl = struct.unpack_from('<HHII', pdu.header, 8)
        self.assertEqual((cccid, r2to), (cid, 0))
        self.assertGreater(r2tl, 0)
        return cid, ttag, r2tl

    def test_h2c_wrong_ttag(self):
        c, q = self.io_queue()
        cid, ttag, r2tl = self.start_r2t_write(q)
        q.send_raw(nc.h2c_data_pdu(cid, (ttag + 1) & 0xFFFF, 0, bytes(min(r2tl, 4096)),
                                   last=False))
        self.expect_term(q, nc.FES_INVALID_HEADER_FIELD, 10)

    def test_h2c_wrong_offset(self):
        c, q = self.io_queue()
        cid, ttag, r2tl = self.start_r2t_write(q)
        q.send_raw(nc.h2c_data_pdu(cid, ttag, 512, bytes(min(r2tl, 4096) - 512), last=False))
        self.expect_term(q, (nc.FES_DATA_TRANSFER_OUT_OF_RANGE, nc.FES_INVALID_HEADER_FIELD))

    def test_h2c_beyond_r2t(self):
        c, q = self.io_queue()
        cid, ttag, r2tl = self.start_r2t_write(q)
        q.send_raw(nc.h2c_data_pdu(cid, ttag, 0, bytes(4096), datal=r2tl + 4096))
        self.expect_term(q, (nc.FES_DATA_TRANSFER_OUT_OF_RANGE, nc.FES_INVALID_HEADER_FIELD,
                             nc.FES_DATA_TRANSFER_LIMIT_EXCEEDED))

    def test_h2c_without_r2t(self):
        c, q = self.io_queue()
        q.send_raw(nc.h2c_data_pdu(5, 1, 0, bytes(512)))
        self.expect_term(q, (nc.FES_INVALID_HEADER_FIELD, nc.FES_PDU_SEQUENCE_ERROR))

    def test_h2c_larger_than_maxh2cdata(self):
        # max_io_size (TRANSPORT_OPTS) is twice MAXH2CDATA, so one R2T asks for more than one
        # H2CData PDU may carry.
        c, q = self.io_queue()
        data = bytes(256 * 1024)
        cid = q.submit(write_sqe(1, 0, 512, nc.SGL_TRANSPORT, len(data)), data,
                       in_capsule=False)
        pdu = q.recv_pdu()
        cccid, ttag, r2to, r2tl = struct.unpack_from('<HHII', pdu.header, 8)
        self.assertGreater(r2tl, q.maxh2cdata)
        q.send_raw(nc.h2c_data_pdu(cid, ttag, 0, data[:q.maxh2cdata + 4096]))
        self.expect_term(q, (nc.FES_DATA_TRANSFER_LIMIT_EXCEEDED, nc.FES_INVALID_HEADER_FIELD,
                             nc.FES_DATA_TRANSFER_OUT_OF_RANGE))

    # ---- commands ----

    def cmd_fails(self, q, make_sqe, data_out=b'', data_in_len=0):
        """The command gets an error status (or the connection a TermReq)."""
        try:
            cpl = q.cmd(make_sqe, data_out, data_in_len)
        except nc.TermReq:
            return None
        self.assertFalse(cpl.ok, cpl)
        return cpl

    def test_command_before_connect(self):
        q = self.raw()
        cpl = self.cmd_fails(q, lambda cid, d: nc.sqe(nc.OPC_IDENTIFY, cid, 0, 1, dptr=d),
                             data_in_len=4096)
        if cpl is not None:
            self.assertEqual(cpl.code, nc.SC_COMMAND_SEQUENCE_ERROR, cpl)

    def test_in_capsule_length_mismatch(self):
        c, q = self.io_queue()
        q.send_raw(nc.capsule_cmd_pdu(write_sqe(1, 0, 8, nc.SGL_IN_CAPSULE, 4096)(9, None),
                                      bytes(1000)))
        q.pending[9] = nc._Request(9, b'', 0)
        try:
            cpl = q.wait(9, CASE_TIMEOUT)
        except nc.TermReq:
            return
        self.assertFalse(cpl.ok, cpl)

    def test_in_capsule_too_big_for_icd(self):
        c, q = self.io_queue()
        data = bytes(16 * 1024)  # more than in_capsule_data_size (4 KiB)
        try:
            cpl = q.write(1, 0, data, in_capsule=True)
        except nc.TermReq as t:
            self.assertIn(t.fes, (nc.FES_DATA_TRANSFER_LIMIT_EXCEEDED,
                                  nc.FES_INVALID_HEADER_FIELD))
            return
        except nc.ConnectionClosed:
            self.fail('closed without a TermReq or a status')
        self.assertFalse(cpl.ok, cpl)

    def test_bad_sgl_type(self):
        c, q = self.io_queue()
        cpl = q.cmd(lambda cid, d: nc.sqe(nc.OPC_READ, cid, 1, 0, 0, 0,
                                          dptr=nc.sgl(0x20, 512)), data_in_len=512)
        self.assertFalse(cpl.ok, cpl)
        self.assertTrue(q.read(1, 0, 1).ok)

    def test_duplicate_cid(self):
        c, q = self.io_queue()
        a = q.io(nc.OPC_READ, 1, 0, 1, data_in_len=512, submit_only=True)
        q.send_raw(nc.capsule_cmd_pdu(nc.sqe(nc.OPC_READ, a, 1, 0, 0, 0,
                                             dptr=nc.sgl(nc.SGL_TRANSPORT, 512))))
        # Whatever the target answers, it must answer within the timeout and stay alive.
        try:
            q.wait(a, CASE_TIMEOUT)
        except (nc.TermReq, nc.ConnectionClosed, nc.ProtocolError):
            pass

    def test_too_many_outstanding(self):
        c = self.ctrlr(self.port, self.nqn, timeout=CASE_TIMEOUT)
        q = c.open_queue(4096)
        self.addCleanup(q.close)
        self.assertTrue(q.connect(1, self.nqn, c.hostnqn, c.hostid, c.cntlid, sqsize=7).ok)
        cids = []
        answered = 0
        try:
            for i in range(300):
                cids.append(q.io(nc.OPC_READ, 1, i, 1, data_in_len=512, submit_only=True))
            for cid in cids:
                q.wait(cid, CASE_TIMEOUT)
                answered += 1
        except (nc.TermReq, nc.ConnectionClosed, BrokenPipeError, ConnectionResetError):
            pass
        self.assertGreaterEqual(answered, 1)

    def test_connect_garbage_data(self):
        spec = struct.pack('<HHHBxI', 0, 0, 31, 0, 0)
        connect = lambda cid, d: nc.fabrics_sqe(nc.FCTYPE_CONNECT, cid, spec, d)  # noqa: E731
        self.cmd_fails(self.raw(), connect, b'\xff' * 1024)  # NQNs without a NUL
        self.cmd_fails(self.raw(), connect, b'x' * 10)  # short Connect data
        self.cmd_fails(self.raw(), lambda cid, d: nc.fabrics_sqe(0x55, cid, b'', d))
        bad_qid = struct.pack('<HHHBxI', 0, 3, 31, 0, 0)  # an I/O queue with no controller
        data = struct.pack('<16sH238x256s256s256x', bytes(16), 0xFFFF, self.nqn.encode(),
                           b'nqn.2014-08.org.nvmexpress:uuid:0-0')
        self.cmd_fails(self.raw(), lambda cid, d: nc.fabrics_sqe(nc.FCTYPE_CONNECT, cid,
                                                                 bad_qid, d), data)

    # ---- fuzz-ish ----

    def fuzz_one(self, rng, payload):
        try:
            q = nc.Queue(ADDR, self.port, timeout=5)
        except OSError as e:
            self.fail('cannot connect during fuzzing: %s' % e)
        try:
            q.send_raw(payload)
            # Read what comes back for a moment; the target may also just wait for more.
            q.sock.settimeout(0.2 if rng.random() < 0.9 else 1.0)
            try:
                while q.sock.recv(65536):
                    pass
            except (socket.timeout, ConnectionResetError):
                pass
        except (BrokenPipeError, ConnectionResetError):
            pass
        finally:
            q.close()

    def test_random_commands(self):
        """Commands with random opcodes and fields on the admin and I/O queues of a
        subsystem of their own: each gets a completion (or the connection a TermReq)."""
        self.malloc(self.tgt, 'FuzzM')
        self.addCleanup(self.tgt.rpc, 'bdev_malloc_delete', {'name': 'FuzzM'})
        nqn, port = self.subsystem(self.tgt, None, ['FuzzM'])
        self.addCleanup(self.tgt.rpc, 'nvmf_delete_subsystem', {'nqn': nqn})
        rng = random.Random(0xF022)
        c = None
        for i in range(300):
            if c is None:
                c = nc.Controller(ADDR, port, nqn, timeout=CASE_TIMEOUT)
                self.addCleanup(c.close)
                c.connect()
                c.add_io_queue()
            admin = rng.random() < 0.3
            q = c.admin if admin else c.io_queues[0]
            opc = rng.choice([rng.randrange(256), rng.randrange(0x20)])
            if admin and opc in (nc.OPC_AER, 0x7F):
                continue  # an AER stays outstanding; fabrics commands are tested elsewhere
            nsid = rng.choice([0, 1, 2, 0xFFFFFFFF, rng.getrandbits(32)])
            cdws = [rng.choice([0, rng.getrandbits(32), rng.getrandbits(8)]) for _ in range(6)]
            length = rng.choice([0, 16, 512, 4096])
            direction = opc & 3
            data_out = bytes(rng.getrandbits(8) for _ in range(length)) \
                if direction == 1 and length else b''
            data_in = length if direction in (2, 3) else 0

            def make(cid, d, opc=opc, nsid=nsid, cdws=cdws):
                return nc.sqe(opc, cid, nsid, *cdws, dptr=d)
            try:
                q.cmd(make, data_out, data_in, timeout=CASE_TIMEOUT)
            except (nc.TermReq, nc.ConnectionClosed, BrokenPipeError, ConnectionResetError):
                c.close()
                c = None
            if i % 100 == 99:
                self.assertTrue(self.tgt.running(), 'pollux_tgt died at command %d' % i)

    def test_random_bytes_connections(self):
        rng = random.Random(0x5EED)
        valid_capsule = nc.capsule_cmd_pdu(nc.fabrics_sqe(
            nc.FCTYPE_CONNECT, 1, struct.pack('<HHHBxI', 0, 0, 31, 0, 0),
            nc.sgl(nc.SGL_IN_CAPSULE, 1024)), bytes(1024))
        for i in range(200):
            kind = i % 4
            if kind == 0:
                payload = bytes(rng.getrandbits(8) for _ in range(rng.randint(1, 600)))
            elif kind == 1:
                payload = nc.icreq_pdu() + bytes(rng.getrandbits(8)
                                                 for _ in range(rng.randint(1, 600)))
            else:
                base = bytearray(nc.icreq_pdu() + valid_capsule)
                for _ in range(rng.randint(1, 8)):
                    pos = rng.randrange(128 if kind == 2 else 0, len(base))
                    base[pos] = rng.getrandbits(8)
                payload = bytes(base)
            self.fuzz_one(rng, payload)
            if i % 50 == 49:
                self.assertTrue(self.tgt.running(), 'pollux_tgt died at iteration %d' % i)
                self.check_healthy()


if __name__ == '__main__':
    unittest.main()
