# SPDX-License-Identifier: BSD-3-Clause
"""Self-test of the Python NVMe/TCP host (nvmf_client.py), no target needed: CRC32C against
known vectors, PDU and SQE layouts, and a whole exchange (ICReq, Connect, Property Get,
in-capsule and R2T writes, C2HData reads with and without SUCCESS, digests) against a
scripted fake controller on a socketpair."""

import socket
import struct
import threading
import unittest

import nvmf_client as nc


class Crc32cTest(unittest.TestCase):
    def test_vectors(self):
        # The check value of CRC-32C and the iSCSI vectors of RFC 3720 (appendix B.4).
        self.assertEqual(nc.crc32c(b'123456789'), 0xE3069283)
        self.assertEqual(nc.crc32c(bytes(32)), 0x8A9136AA)
        self.assertEqual(nc.crc32c(b'\xff' * 32), 0x62A8AB43)
        self.assertEqual(nc.crc32c(bytes(range(32))), 0x46DD794E)
        self.assertEqual(nc.crc32c(bytes(range(31, -1, -1))), 0x113FDB5C)
        self.assertEqual(nc.crc32c(b''), 0)

    def test_incremental(self):
        data = bytes(range(200))
        self.assertEqual(nc.crc32c(data[50:], nc.crc32c(data[:50])), nc.crc32c(data))


class LayoutTest(unittest.TestCase):
    def test_sqe(self):
        s = nc.sqe(0x02, cid=0x1234, nsid=7, cdw10=1, cdw11=2, cdw12=3, cdw15=9, fuse=1,
                   dptr=nc.sgl(nc.SGL_TRANSPORT, 4096))
        self.assertEqual(len(s), 64)
        self.assertEqual(s[0], 2)
        self.assertEqual(s[1], 0x41)
        self.assertEqual(struct.unpack_from('<HI', s, 2), (0x1234, 7))
        self.assertEqual(struct.unpack_from('<QIB', s, 24)[0:2], (0, 4096))
        self.assertEqual(s[39], 0x5A)
        self.assertEqual(struct.unpack_from('<6I', s, 40), (1, 2, 3, 0, 0, 9))

    def test_connect_layout(self):
        spec = struct.pack('<HHHBxI', 0, 3, 127, 0, 5000)
        s = nc.fabrics_sqe(nc.FCTYPE_CONNECT, 9, spec, nc.sgl(nc.SGL_IN_CAPSULE, 1024))
        self.assertEqual(len(s), 64)
        self.assertEqual((s[0], s[4]), (0x7F, 1))
        self.assertEqual(struct.unpack_from('<HHHBxI', s, 40), (0, 3, 127, 0, 5000))
        self.assertEqual(s[39], 0x01)

    def test_connect_data_layout(self):
        a, b = socket.socketpair()
        q = nc.Queue('fake', 0, timeout=5, sock=a)
        q.submit = lambda make, data, *args: self.__dict__.setdefault('data', data) and 1
        q.wait = lambda cid, timeout=None: nc.Completion()
        q.connect(0, 'nqn.2016-06.io.pollux:sub', 'nqn.2014-08.org.nvmexpress:uuid:h',
                  bytes(range(16)), cntlid=0x1234)
        d = self.data
        self.assertEqual(len(d), 1024)
        self.assertEqual(d[:16], bytes(range(16)))
        self.assertEqual(struct.unpack_from('<H', d, 16)[0], 0x1234)
        self.assertEqual(d[256:256 + 26], b'nqn.2016-06.io.pollux:sub\0')  # SUBNQN
        self.assertEqual(d[512:512 + 34], b'nqn.2014-08.org.nvmexpress:uuid:h\0')  # HOSTNQN
        q.close()
        b.close()

    def test_pdu_lengths(self):
        icreq = nc.icreq_pdu(hpda=0, dgst=3, maxr2t=0)
        self.assertEqual(len(icreq), 128)
        self.assertEqual(struct.unpack_from('<BBBBIHBBI', icreq), (0, 0, 128, 0, 128, 0, 0, 3, 0))
        cmd = nc.capsule_cmd_pdu(nc.sqe(1), b'a' * 100, hdgst=True, ddgst=True)
        self.assertEqual(struct.unpack_from('<BBBBI', cmd), (4, 3, 72, 76, 72 + 4 + 100 + 4))
        self.assertEqual(struct.unpack_from('<I', cmd, 72)[0], nc.crc32c(cmd[:72]))
        self.assertEqual(struct.unpack_from('<I', cmd, 176)[0], nc.crc32c(b'a' * 100))
        # cpda 3: data aligned to 16 bytes after header and digest
        cmd = nc.capsule_cmd_pdu(nc.sqe(1), b'a', hdgst=True, cpda=3)
        self.assertEqual(cmd[3], 80)
        nodata = nc.capsule_cmd_pdu(nc.sqe(0x18))
        self.assertEqual(struct.unpack_from('<BBBBI', nodata), (4, 0, 72, 0, 72))
        h2c = nc.h2c_data_pdu(5, 6, 4096, b'z' * 8, last=True)
        self.assertEqual(struct.unpack_from('<BBBBIHHII', h2c),
                         (6, 4, 24, 24, 32, 5, 6, 4096, 8))
        self.assertEqual(len(nc.h2c_term_req_pdu(1, 2, b'x' * 24)), 48)

    def test_completion(self):
        status = (1 << 15) | (2 << 9) | (0x85 << 1)
        c = nc.Completion.unpack(struct.pack('<IIHHHH', 7, 0, 3, 1, 42, status))
        self.assertEqual((c.cdw0, c.sqhd, c.sqid, c.cid), (7, 3, 1, 42))
        self.assertEqual(c.code, nc.SC_COMPARE_FAILURE)
        self.assertTrue(c.dnr)
        self.assertFalse(c.ok)

    def test_parsers(self):
        d = bytearray(4096)
        d[4:24] = b'SN123'.ljust(20)
        d[24:64] = b'Model X'.ljust(40)
        struct.pack_into('<H', d, 78, 0x21)
        struct.pack_into('<I', d, 516, 32)
        d[768:768 + 9] = b'nqn.a:b:c'
        struct.pack_into('<I', d, 1792, 260)
        c = nc.parse_identify_ctrlr(bytes(d))
        self.assertEqual((c['sn'], c['mn'], c['cntlid'], c['nn'], c['subnqn'], c['ioccsz']),
                         ('SN123', 'Model X', 0x21, 32, 'nqn.a:b:c', 260))
        ana = struct.pack('<QH6x', 9, 2) + struct.pack('<IIQB15x', 1, 2, 4, 1) \
            + struct.pack('<2I', 1, 3) + struct.pack('<IIQB15x', 2, 1, 5, 3) \
            + struct.pack('<I', 2)
        a = nc.parse_ana_log(ana)
        self.assertEqual(a['change_count'], 9)
        self.assertEqual([(g['anagrpid'], g['state'], g['nsids']) for g in a['groups']],
                         [(1, 1, [1, 3]), (2, 3, [2])])
        descs = bytes([3, 16, 0, 0]) + bytes(range(16)) + bytes([2, 16, 0, 0]) + b'\x11' * 16
        self.assertEqual(nc.parse_ns_id_descs(descs.ljust(4096, b'\0')),
                         {3: bytes(range(16)), 2: b'\x11' * 16})


class FakeController(threading.Thread):
    """Plays the controller side of one connection: answers ICReq, Connect, Property Get,
    writes (in-capsule or through R2T) and reads (C2HData, optionally with SUCCESS)."""

    MAXH2CDATA = 8192

    def __init__(self, sock, c2h_success):
        super().__init__(daemon=True)
        self.q = nc.Queue('fake', 0, timeout=10, sock=sock)
        self.c2h_success = c2h_success
        self.disk = bytearray(1 << 20)
        self.error = None

    def send(self, ptype, psh, data=b'', flags=0):
        self.q.send_raw(nc.build_pdu(ptype, psh, data, flags=flags, hdgst=self.q.hdgst,
                                     ddgst=self.q.ddgst))

    def resp(self, cid, cdw0=0, status=0):
        self.send(nc.PDU_CAPSULE_RESP, struct.pack('<IIHHHH', cdw0, 0, 1, 0, cid, status))

    def run(self):
        try:
            self._run()
        except nc.ConnectionClosed:
            pass
        except Exception as e:  # reported by the test
            self.error = e

    def _run(self):
        ic = self.q.recv_pdu()
        dgst = ic.header[11]
        self.q.send_raw(nc.build_pdu(nc.PDU_IC_RESP, struct.pack(
            '<HBBI', 0, 0, dgst, self.MAXH2CDATA).ljust(120, b'\0')))
        self.q.hdgst, self.q.ddgst = bool(dgst & 1), bool(dgst & 2)
        while True:
            pdu = self.q.recv_pdu()
            assert pdu.type == nc.PDU_CAPSULE_CMD, pdu
            cmd = pdu.header[8:72]
            opc, cid = cmd[0], struct.unpack_from('<H', cmd, 2)[0]
            length, sgl_type = struct.unpack_from('<I', cmd, 32)[0], cmd[39]
            if opc == 0x7F:
                self.resp(cid, 5 if cmd[4] == nc.FCTYPE_CONNECT else 0x460001)
            elif opc == nc.OPC_WRITE:
                slba = struct.unpack_from('<Q', cmd, 40)[0] * 512
                if sgl_type == nc.SGL_IN_CAPSULE:
                    data = pdu.data
                else:
                    data = self._r2t(cid, length)
                self.disk[slba:slba + len(data)] = data
                self.resp(cid)
            elif opc == nc.OPC_READ:
                slba = struct.unpack_from('<Q', cmd, 40)[0] * 512
                self._c2h(cid, self.disk[slba:slba + length])
            else:
                self.resp(cid, status=nc.SC_INVALID_OPCODE[1] << 1)

    def _r2t(self, cid, length):
        # Two R2Ts to check that the host follows offsets and lengths.
        half = length // 2
        data = bytearray()
        for ttag, (off, n) in enumerate(((0, half), (half, length - half))):
            self.send(nc.PDU_R2T, struct.pack('<HHII4x', cid, ttag + 1, off, n))
            got = 0
            while got < n:
                pdu = self.q.recv_pdu()
                assert pdu.type == nc.PDU_H2C_DATA, pdu
                cccid, tt, datao, datal = struct.unpack_from('<HHII', pdu.header, 8)
                assert (cccid, tt, datao) == (cid, ttag + 1, off + got), (cccid, tt, datao)
                assert datal == len(pdu.data) <= self.MAXH2CDATA
                assert bool(pdu.flags & nc.FLAG_LAST_PDU) == (got + datal == n)
                data += pdu.data
                got += datal
        return bytes(data)

    def _c2h(self, cid, data):
        off = 0
        while off < len(data):
            n = min(4096, len(data) - off)
            last = off + n == len(data)
            flags = (nc.FLAG_LAST_PDU if last else 0) | \
                (nc.FLAG_SUCCESS if last and self.c2h_success else 0)
            self.send(nc.PDU_C2H_DATA, struct.pack('<H2xII4x', cid, off, n),
                      bytes(data[off:off + n]), flags)
            off += n
        if not self.c2h_success:
            self.resp(cid)


class ExchangeTest(unittest.TestCase):
    def exchange(self, digests, c2h_success):
        a, b = socket.socketpair()
        fake = FakeController(b, c2h_success)
        fake.start()
        q = nc.Queue('fake', 0, timeout=10, sock=a, icd_limit=4096)
        try:
            ic = q.icreq(hdgst=digests, ddgst=digests)
            self.assertEqual(ic['maxh2cdata'], 8192)
            self.assertEqual((q.hdgst, q.ddgst), (digests, digests))
            cpl = q.connect(0, 'nqn.2016-06.io.pollux:a', nc.random_hostnqn(), bytes(16))
            self.assertTrue(cpl.ok)
            self.assertEqual(cpl.cdw0, 5)
            cpl, cc = q.property_get(nc.REG_CC)
            self.assertEqual(cc, 0x460001)
            small = nc.random_bytes(4096)
            self.assertTrue(q.write(1, 0, small).ok)
            big = nc.random_bytes(128 * 1024)
            self.assertTrue(q.write(1, 8, big).ok)  # 16 KiB+ H2CData chunks via R2T
            r = q.read(1, 0, 8)
            self.assertTrue(r.ok)
            self.assertEqual(r.c2h_success, c2h_success)
            self.assertEqual(r.data, small)
            self.assertEqual(q.read(1, 8, 256).data, big)
            # Several in flight, completed out of submission order by the fake.
            cids = [q.io(nc.OPC_READ, 1, 8 * i, 8, data_in_len=4096, submit_only=True)
                    for i in range(4)]
            results = [q.wait(c) for c in reversed(cids)]
            self.assertEqual(results[-1].data, small)
            self.assertEqual(q.flush(1).code, nc.SC_INVALID_OPCODE)
        finally:
            q.close()
            fake.join(10)
            fake.q.close()
        self.assertIsNone(fake.error)

    def test_plain(self):
        self.exchange(False, False)

    def test_digests_and_success(self):
        self.exchange(True, True)

    def test_term_req_raised(self):
        a, b = socket.socketpair()
        q = nc.Queue('fake', 0, timeout=5, sock=a)
        b.sendall(nc.build_pdu(nc.PDU_C2H_TERM_REQ, struct.pack('<HI10x', 2, 0), b'',
                               plen=24 + 8) + b'\x04' * 8)
        with self.assertRaises(nc.TermReq) as cm:
            q.icreq()
        self.assertEqual((cm.exception.fes, len(cm.exception.data)), (2, 8))
        b.close()
        q.close()

    def test_header_digest_checked(self):
        a, b = socket.socketpair()
        q = nc.Queue('fake', 0, timeout=5, sock=a)
        b.sendall(nc.build_pdu(nc.PDU_CAPSULE_RESP, bytes(16), hdgst=True, bad_hdgst=True))
        with self.assertRaises(nc.ProtocolError):
            q.recv_pdu()
        b.close()
        q.close()


if __name__ == '__main__':
    unittest.main()
