# SPDX-License-Identifier: BSD-3-Clause
"""pollux_tgt's NVMe/TCP target, driven by the Python host in nvmf_client.py: discovery,
Connect, Identify, I/O with and without digests (in-capsule and R2T), log pages, features,
AER on namespace hot add/remove and ANA changes, reservations from two hosts, keep-alive
timeout, the host allow-list and Disconnect.

Every wait is bounded; nothing asserts how fast anything happened."""

import struct
import unittest
import uuid

import nvmf_client as nc
from nvmf_helpers import (ADDR, BLOCK, NUM_BLOCKS, WAIT_TIMEOUT, SharedNvmfTestCase,
                          free_port, have_ipv6_loopback, listen_address, unique_nqn,
                          wait_until)

KB = 1024
AEC_NS_ATTR = 1 << 8
AEC_ANA_CHANGE = 1 << 11
RESV_WRITE_EXCLUSIVE = 1
RESV_EXCLUSIVE_ACCESS = 2


def pattern(n, seed):
    return bytes((i * 7 + seed) & 0xFF for i in range(n))


class NvmfTcpTest(SharedNvmfTestCase):

    def own_subsystem(self, bdevs=1, **kw):
        """A subsystem of this test with `bdevs` fresh malloc namespaces; deleted at the end
        (after the controllers the test opens, which are closed first)."""
        nqn = unique_nqn('t')
        names = []
        for i in range(bdevs):
            name = '%s_m%d' % (nqn.rsplit(':', 1)[1], i)
            self.malloc(self.tgt, name)
            names.append(name)
            self.addCleanup(self.tgt.rpc, 'bdev_malloc_delete', {'name': name})
        nqn, port = self.subsystem(self.tgt, nqn, names, **kw)
        self.addCleanup(self.tgt.rpc, 'nvmf_delete_subsystem', {'nqn': nqn})
        return nqn, port

    # ---- discovery ----

    def test_discovery(self):
        d = self.ctrlr(self.port, nc.DISCOVERY_NQN)
        ident = d.identify_ctrlr()
        self.assertEqual(ident['subnqn'], nc.DISCOVERY_NQN)
        self.assertEqual(ident['cntrltype'], 2)
        log = d.discovery_log()
        self.assertEqual(log['numrec'], len(log['entries']))
        mine = [e for e in log['entries'] if e['subnqn'] == self.nqn]
        self.assertEqual(len(mine), 1, log)
        e = mine[0]
        self.assertEqual((e['trtype'], e['adrfam'], e['subtype']), (3, 1, 2))
        self.assertEqual((e['traddr'], e['trsvcid']), (ADDR, str(self.port)))
        self.assertEqual(e['cntlid'], 0xFFFF)
        current = [e for e in log['entries'] if e['subtype'] == 3]
        self.assertTrue(current, 'no current discovery subsystem entry: %r' % log)
        self.assertTrue(all(e['subnqn'] == nc.DISCOVERY_NQN for e in current))
        self.assertIn(str(self.port), [e['trsvcid'] for e in current])
        # Reading at an offset returns the same bytes.
        whole = d.get_log_page(nc.LID_DISCOVERY, 2048, nsid=0)
        part = d.get_log_page(nc.LID_DISCOVERY, 1024, offset=1024, nsid=0)
        self.assertTrue(whole.ok and part.ok)
        self.assertEqual(whole.data[1024:2048], part.data)

    def test_discovery_log_generation_changes(self):
        d = self.ctrlr(self.port, nc.DISCOVERY_NQN)
        before = d.discovery_log()
        nqn, port = self.own_subsystem(0)
        after = d.discovery_log()
        self.assertGreater(after['genctr'], before['genctr'])
        self.assertIn((nqn, str(port)), [(e['subnqn'], e['trsvcid']) for e in after['entries']])

    # ---- connect and identify ----

    def test_connect_identify(self):
        c = self.ctrlr(self.port, self.nqn, io_queues=2)
        ident = c.identify_ctrlr()
        self.assertEqual(ident['sn'], 'POLLUXSN0001')
        self.assertEqual(ident['mn'], 'Pollux Test Model')
        self.assertEqual(ident['sn_raw'], b'POLLUXSN0001'.ljust(20))  # space padded
        self.assertEqual(ident['subnqn'], self.nqn)
        self.assertEqual(ident['cntlid'], c.cntlid)
        self.assertEqual(ident['cntrltype'], 1)
        self.assertGreaterEqual(ident['nn'], 1)
        self.assertEqual(ident['mdts'], 5)  # 128 KiB max_io_size / 4 KiB pages
        self.assertEqual(ident['ioccsz'], (64 + 4096) // 16)  # default in_capsule_data_size
        self.assertEqual(ident['iorcsz'], 1)
        self.assertEqual((ident['sqes'], ident['cqes']), (0x66, 0x44))
        self.assertTrue(ident['sgls'] & (1 << 21), 'transport SGL not advertised')
        self.assertTrue(ident['oncs'] & 0x2D == 0x2D, hex(ident['oncs']))  # cmp dsm wz resv
        self.assertTrue(ident['fuses'] & 1)
        self.assertEqual(c.active_ns_list(), [1])
        cpl, ns = c.identify_ns(1)
        self.assertTrue(cpl.ok, cpl)
        self.assertEqual((ns['nsze'], ns['ncap'], ns['block_size']), (NUM_BLOCKS, NUM_BLOCKS,
                                                                       BLOCK))
        cpl, descs = c.ns_id_descriptors(1)
        self.assertTrue(cpl.ok, cpl)
        self.assertIn(3, descs)  # a UUID
        sub = self.tgt.rpc('nvmf_get_subsystems', {'nqn': self.nqn})[0]
        self.assertEqual(str(uuid.UUID(bytes=descs[3])),
                         sub['namespaces'][0]['uuid'].lower())
        ctrls = self.controllers(self.tgt, self.nqn)
        me = [x for x in ctrls if x['cntlid'] == c.cntlid]
        self.assertEqual(len(me), 1, ctrls)
        self.assertEqual(me[0]['hostnqn'], c.hostnqn)
        self.assertEqual(me[0]['num_io_qpairs'], 2)
        qps = [q for q in self.tgt.rpc('nvmf_subsystem_get_qpairs', {'nqn': self.nqn})
               if q['cntlid'] == c.cntlid]
        self.assertEqual(sorted(q['qid'] for q in qps), [0, 1, 2])

    @unittest.skipUnless(have_ipv6_loopback(), 'no IPv6 loopback')
    def test_ipv6_listener(self):
        nqn, port4 = self.own_subsystem(1)
        port6 = free_port('::1')
        self.tgt.rpc('nvmf_subsystem_add_listener',
                     {'nqn': nqn, 'listen_address': listen_address(port6, '::1')})
        self.assertIn(listen_address(port6, '::1'),
                      self.tgt.rpc('nvmf_get_subsystems', {'nqn': nqn})[0]['listen_addresses'])
        c = self.ctrlr(port6, nqn, io_queues=1, addr='::1')
        q = c.io_queues[0]
        self.assertTrue(q.write(1, 0, pattern(4 * KB, 50)).ok)
        self.assertEqual(q.read(1, 0, 8).data, pattern(4 * KB, 50))
        qp = [x for x in self.tgt.rpc('nvmf_subsystem_get_qpairs', {'nqn': nqn})
              if x['cntlid'] == c.cntlid]
        self.assertEqual({x['listen_address']['adrfam'] for x in qp}, {'IPv6'})
        d = self.ctrlr(port6, nc.DISCOVERY_NQN, addr='::1')
        e = [e for e in d.discovery_log()['entries'] if e['subnqn'] == nqn]
        self.assertIn((2, '::1', str(port6)), [(x['adrfam'], x['traddr'], x['trsvcid'])
                                               for x in e])

    def test_properties(self):
        c = self.ctrlr(self.port, self.nqn)
        cpl, cap = c.admin.property_get(nc.REG_CAP, 8)
        self.assertTrue(cpl.ok, cpl)
        self.assertGreaterEqual(cap & 0xFFFF, 31)  # MQES
        self.assertTrue((cap >> 37) & 1)  # CSS: NVM command set
        cpl, vs = c.admin.property_get(nc.REG_VS)
        self.assertTrue(cpl.ok)
        self.assertGreaterEqual(vs, 0x10200)
        cpl, csts = c.admin.property_get(nc.REG_CSTS)
        self.assertEqual(csts & 1, 1)
        # A bad offset is an error, not a crash.
        cpl, _ = c.admin.property_get(0x1234)
        self.assertFalse(cpl.ok)
        # Normal shutdown: CSTS.SHST reaches "complete".
        cpl, cc = c.admin.property_get(nc.REG_CC)
        self.assertTrue(c.admin.property_set(nc.REG_CC, cc | (1 << 14)).ok)
        wait_until(lambda: (c.admin.property_get(nc.REG_CSTS)[1] >> 2) & 3 == 2,
                   what='CSTS.SHST complete')

    def test_io_queue_before_enable_rejected(self):
        c = nc.Controller(ADDR, self.port, self.nqn)
        self.addCleanup(c.close)
        c.connect(enable=False)
        q = c.open_queue(4096)
        self.addCleanup(q.close)
        cpl = q.connect(1, self.nqn, c.hostnqn, c.hostid, c.cntlid)
        self.assertFalse(cpl.ok, 'I/O queue connected to a disabled controller')

    def test_io_queue_wrong_cntlid(self):
        c = self.ctrlr(self.port, self.nqn)
        q = c.open_queue(4096)
        self.addCleanup(q.close)
        cpl = q.connect(1, self.nqn, c.hostnqn, c.hostid, (c.cntlid + 100) & 0xFFFF)
        self.assertEqual(cpl.code, nc.SC_CONNECT_INVALID_PARAM, cpl)

    def test_connect_unknown_subsystem(self):
        q = nc.Queue(ADDR, self.port)
        self.addCleanup(q.close)
        q.icreq()
        cpl = q.connect(0, 'nqn.2016-06.io.pollux:nope', nc.random_hostnqn(), bytes(16))
        self.assertEqual(cpl.code, nc.SC_CONNECT_INVALID_PARAM, cpl)
        # IATTR (23:16) 1: a field of the Connect data; IPO (15:0): SUBNQN's offset.
        self.assertEqual(cpl.cdw0, (1 << 16) | 256, hex(cpl.cdw0))

    # ---- I/O ----

    def io_roundtrip(self, hdgst, ddgst):
        c = self.ctrlr(self.port, self.nqn, io_queues=1, hdgst=hdgst, ddgst=ddgst)
        q = c.io_queues[0]
        self.assertEqual((q.hdgst, q.ddgst), (hdgst, ddgst))
        self.assertEqual(c.admin.hdgst, hdgst)
        small = pattern(4 * KB, 1 + hdgst + 2 * ddgst)
        self.assertTrue(q.write(1, 0, small, in_capsule=True).ok)
        r = q.read(1, 0, 8)
        self.assertTrue(r.ok, r)
        self.assertEqual(r.data, small)
        # The transport's c2h_success (SPDK's default: on) decides how a read completes:
        # a C2HData with SUCCESS and no CapsuleResp, or a CapsuleResp.
        c2h_success = self.tgt.rpc('nvmf_get_transports')[0]['c2h_success']
        if not ddgst:
            self.assertEqual(r.c2h_success, c2h_success, r)
        big = pattern(128 * KB, 9 + hdgst + 2 * ddgst)
        self.assertTrue(q.write(1, 64, big, in_capsule=False).ok)  # R2T + H2CData
        r = q.read(1, 64, 256)
        self.assertTrue(r.ok, r)
        self.assertEqual(r.data, big)
        # A 4 KiB write through R2T too (the host may choose).
        self.assertTrue(q.write(1, 8, small[::-1], in_capsule=False).ok)
        self.assertEqual(q.read(1, 8, 8).data, small[::-1])

    def test_io_no_digests(self):
        self.io_roundtrip(False, False)

    def test_io_header_digest(self):
        self.io_roundtrip(True, False)

    def test_io_data_digest(self):
        self.io_roundtrip(False, True)

    def test_io_both_digests(self):
        self.io_roundtrip(True, True)

    def test_many_in_flight(self):
        c = self.ctrlr(self.port, self.nqn, io_queues=2)
        q1, q2 = c.io_queues
        cids = [q1.io(nc.OPC_WRITE, 1, 1024 + 8 * i, 8, data_out=pattern(4 * KB, i),
                      submit_only=True) for i in range(24)]
        cids2 = [q2.io(nc.OPC_WRITE, 1, 2048 + 256 * i, 256, data_out=pattern(128 * KB, i),
                       submit_only=True) for i in range(4)]
        for cid in cids:
            self.assertTrue(q1.wait(cid).ok)
        for cid in cids2:
            self.assertTrue(q2.wait(cid).ok)
        reads = [q2.io(nc.OPC_READ, 1, 1024 + 8 * i, 8, data_in_len=4 * KB, submit_only=True)
                 for i in range(24)]
        for i, cid in enumerate(reads):
            self.assertEqual(q2.wait(cid).data, pattern(4 * KB, i))
        for i in range(4):
            self.assertEqual(q1.read(1, 2048 + 256 * i, 256).data, pattern(128 * KB, i))

    def test_flush_write_zeroes_dsm(self):
        c = self.ctrlr(self.port, self.nqn, io_queues=1)
        q = c.io_queues[0]
        self.assertTrue(q.write(1, 4096, pattern(16 * KB, 3)).ok)
        self.assertTrue(q.flush(1).ok)
        self.assertTrue(q.write_zeroes(1, 4096, 32).ok)
        self.assertEqual(q.read(1, 4096, 32).data, bytes(16 * KB))
        self.assertTrue(q.write(1, 4200, pattern(8 * KB, 4)).ok)
        self.assertTrue(q.dsm(1, [(4200, 8), (4208, 8)]).ok)
        _, ns = c.identify_ns(1)
        if ns['dlfeat'] & 7 == 1:  # deallocated blocks read as zeroes
            self.assertEqual(q.read(1, 4200, 16).data, bytes(8 * KB))

    def test_compare_and_fused_write(self):
        c = self.ctrlr(self.port, self.nqn, io_queues=1)
        q = c.io_queues[0]
        old, new = pattern(4 * KB, 20), pattern(4 * KB, 21)
        self.assertTrue(q.write(1, 6000, old).ok)
        self.assertTrue(q.compare(1, 6000, old).ok)
        self.assertEqual(q.compare(1, 6000, new).code, nc.SC_COMPARE_FAILURE)
        c1, c2 = q.compare_and_write(1, 6000, old, new)
        self.assertTrue(c1.ok and c2.ok, (c1, c2))
        self.assertEqual(q.read(1, 6000, 8).data, new)
        # Compare fails: the write is not done.
        c1, c2 = q.compare_and_write(1, 6000, old, pattern(4 * KB, 22))
        self.assertEqual(c1.code, nc.SC_COMPARE_FAILURE)
        self.assertEqual(c2.code, nc.SC_ABORTED_FAILED_FUSED)
        self.assertEqual(q.read(1, 6000, 8).data, new)
        # A lone second half of a fused pair is rejected.
        cpl = q.io(nc.OPC_WRITE, 1, 6000, 8, data_out=old, fuse=2)
        self.assertFalse(cpl.ok)
        self.assertEqual(q.read(1, 6000, 8).data, new)

    def test_io_errors(self):
        c = self.ctrlr(self.port, self.nqn, io_queues=1)
        q = c.io_queues[0]
        self.assertEqual(q.read(1, NUM_BLOCKS, 1).code, nc.SC_LBA_OUT_OF_RANGE)
        self.assertEqual(q.read(1, NUM_BLOCKS - 1, 2).code, nc.SC_LBA_OUT_OF_RANGE)
        self.assertEqual(q.write(1, NUM_BLOCKS - 4, bytes(8 * BLOCK)).code,
                         nc.SC_LBA_OUT_OF_RANGE)
        self.assertEqual(q.read(1, (1 << 64) - 1, 1).code, nc.SC_LBA_OUT_OF_RANGE)
        self.assertEqual(q.read(77, 0, 1).code, nc.SC_INVALID_NAMESPACE_OR_FORMAT)
        self.assertEqual(q.read(0, 0, 1).code, nc.SC_INVALID_NAMESPACE_OR_FORMAT)
        self.assertEqual(q.cmd(lambda cid, d: nc.sqe(0x7E, cid, 1, dptr=d)).code,
                         nc.SC_INVALID_OPCODE)
        # Less data than NLB says: SGL length invalid.
        cpl = q.io(nc.OPC_WRITE, 1, 0, 2, data_out=bytes(BLOCK))
        self.assertEqual(cpl.code, nc.SC_DATA_SGL_LENGTH_INVALID, cpl)
        cpl = q.io(nc.OPC_READ, 1, 0, 2, data_in_len=BLOCK)
        self.assertEqual(cpl.code, nc.SC_DATA_SGL_LENGTH_INVALID, cpl)
        # Larger than max_io_size (128 KiB).
        cpl = q.read(1, 0, 512)
        self.assertFalse(cpl.ok)
        # The queue still works.
        self.assertTrue(q.read(1, 0, 1).ok)
        # An I/O command on the admin queue is not an admin command.
        self.assertEqual(c.admin.cmd(lambda cid, d: nc.sqe(0x7E, cid, dptr=d)).code,
                         nc.SC_INVALID_OPCODE)

    # ---- admin: logs and features ----

    def test_log_pages(self):
        c = self.ctrlr(self.port, self.nqn, io_queues=1)
        c.io_queues[0].write(1, 0, bytes(4 * KB))
        smart = c.get_log_page(nc.LID_SMART, 512)
        self.assertTrue(smart.ok, smart)
        self.assertEqual(nc.parse_smart(smart.data)['critical_warning'], 0)
        part = c.get_log_page(nc.LID_SMART, 256, offset=256)
        self.assertTrue(part.ok)
        self.assertEqual(part.data, smart.data[256:])
        for lid, size in ((nc.LID_ERROR, 64), (nc.LID_FIRMWARE, 512),
                          (nc.LID_CHANGED_NS, 4096), (nc.LID_CMD_EFFECTS, 4096)):
            with self.subTest(lid=lid):
                self.assertTrue(c.get_log_page(lid, size).ok)
        eff = c.get_log_page(nc.LID_CMD_EFFECTS, 4096).data
        io_write = struct.unpack_from('<I', eff, 1024 + 4 * nc.OPC_WRITE)[0]
        self.assertTrue(io_write & 1, 'write not in the commands supported log')
        bad = c.get_log_page(0x55, 512)
        self.assertIn(bad.code, (nc.SC_INVALID_LOG_PAGE, nc.SC_INVALID_FIELD))
        # Offset beyond the page: an error, or zeroes (as SPDK does).
        far = c.get_log_page(nc.LID_SMART, 512, offset=4096)
        self.assertTrue(not far.ok or far.data == bytes(512), far)

    def test_features(self):
        c = self.ctrlr(self.port, self.nqn)
        cpl = c.get_features(nc.FEAT_NUMBER_OF_QUEUES)
        self.assertTrue(cpl.ok)
        self.assertGreaterEqual(cpl.cdw0 & 0xFFFF, 0)
        self.assertTrue(c.set_features(nc.FEAT_ASYNC_EVENT_CONFIG, AEC_NS_ATTR).ok)
        self.assertEqual(c.get_features(nc.FEAT_ASYNC_EVENT_CONFIG).cdw0 & AEC_NS_ATTR,
                         AEC_NS_ATTR)
        for fid in (0x01, 0x02, 0x04, 0x05, 0x06, 0x08, 0x0F):
            with self.subTest(fid=fid):
                self.assertTrue(c.get_features(fid).ok)
        hid = c.get_features(nc.FEAT_HOST_IDENTIFIER, cdw11=1, data_in_len=16)
        self.assertTrue(hid.ok, hid)
        self.assertEqual(hid.data, c.hostid)
        self.assertFalse(c.get_features(0x77).ok)
        self.assertTrue(c.keep_alive().ok)

    # ---- asynchronous events ----

    def test_aer_namespace_hot_add_remove(self):
        nqn, port = self.own_subsystem(1)
        c = self.ctrlr(port, nqn, io_queues=1)
        self.assertTrue(c.set_features(nc.FEAT_ASYNC_EVENT_CONFIG, AEC_NS_ATTR).ok)
        self.assertEqual(c.active_ns_list(), [1])
        aer = c.submit_aer()
        name = nqn.rsplit(':', 1)[1] + '_hot'
        self.malloc(self.tgt, name)
        self.addCleanup(self.tgt.rpc, 'bdev_malloc_delete', {'name': name})
        nsid = self.tgt.rpc('nvmf_subsystem_add_ns', {'nqn': nqn,
                                                      'namespace': {'bdev_name': name}})
        self.assertEqual(nsid, 2)
        cpl = c.admin.wait(aer, WAIT_TIMEOUT)
        self.assertTrue(cpl.ok)
        self.assertEqual(nc.aer_fields(cpl.cdw0), (2, 0, nc.LID_CHANGED_NS))
        changed = nc.parse_changed_ns_list(c.get_log_page(nc.LID_CHANGED_NS, 4096).data)
        self.assertEqual(changed, [2])
        self.assertEqual(c.active_ns_list(), [1, 2])
        q = c.io_queues[0]
        self.assertTrue(q.write(2, 0, pattern(4 * KB, 5)).ok)
        self.assertEqual(q.read(2, 0, 8).data, pattern(4 * KB, 5))
        # Reading the log cleared it.
        self.assertEqual(nc.parse_changed_ns_list(
            c.get_log_page(nc.LID_CHANGED_NS, 4096).data), [])
        aer = c.submit_aer()
        self.tgt.rpc('nvmf_subsystem_remove_ns', {'nqn': nqn, 'nsid': 2})
        cpl = c.admin.wait(aer, WAIT_TIMEOUT)
        self.assertEqual(nc.aer_fields(cpl.cdw0), (2, 0, nc.LID_CHANGED_NS))
        self.assertEqual(nc.parse_changed_ns_list(
            c.get_log_page(nc.LID_CHANGED_NS, 4096).data), [2])
        self.assertEqual(c.active_ns_list(), [1])
        self.assertEqual(q.read(2, 0, 8).code, nc.SC_INVALID_NAMESPACE_OR_FORMAT)
        self.assertTrue(q.read(1, 0, 8).ok)

    def test_aer_limit(self):
        c = self.ctrlr(self.port, self.nqn)
        aerl = c.identify_ctrlr()['aerl']
        cids = [c.submit_aer() for _ in range(aerl + 1)]
        extra = c.submit_aer()
        cpl = c.admin.wait(extra)
        self.assertEqual(cpl.code, (1, 0x05))  # async event request limit exceeded
        self.assertTrue(c.keep_alive().ok)
        self.assertFalse(any(cid in c.admin.done for cid in cids))

    # ---- ANA ----

    def test_ana_states(self):
        nqn, port1 = self.own_subsystem(1, ana_reporting=True)
        port2 = free_port()
        self.tgt.rpc('nvmf_subsystem_add_listener', {'nqn': nqn,
                                                     'listen_address': listen_address(port2)})
        host = uuid.uuid4().bytes
        a = self.ctrlr(port1, nqn, io_queues=1, hostid=host)
        b = self.ctrlr(port2, nqn, io_queues=1, hostid=host)
        ident = a.identify_ctrlr()
        self.assertTrue(ident['cmic'] & (1 << 3), 'ANA reporting not in CMIC')
        self.assertTrue(ident['anacap'] & 0x7)
        self.assertEqual(a.identify_ns(1)[1]['anagrpid'], 1)
        log = nc.parse_ana_log(a.get_log_page(nc.LID_ANA, 4096).data)
        self.assertEqual([(g['anagrpid'], g['state'], g['nsids']) for g in log['groups']],
                         [(1, 1, [1])])
        self.assertTrue(a.set_features(nc.FEAT_ASYNC_EVENT_CONFIG, AEC_ANA_CHANGE).ok)
        aer = a.submit_aer()
        self.tgt.rpc('nvmf_subsystem_listener_set_ana_state',
                     {'nqn': nqn, 'listen_address': listen_address(port1),
                      'ana_state': 'inaccessible'})
        cpl = a.admin.wait(aer, WAIT_TIMEOUT)
        self.assertEqual(nc.aer_fields(cpl.cdw0), (2, 3, nc.LID_ANA))
        log_a = nc.parse_ana_log(a.get_log_page(nc.LID_ANA, 4096).data)
        self.assertEqual(log_a['groups'][0]['state'], 3)
        self.assertGreater(log_a['change_count'], log['change_count'])
        log_b = nc.parse_ana_log(b.get_log_page(nc.LID_ANA, 4096).data)
        self.assertEqual(log_b['groups'][0]['state'], 1)
        rgo = nc.parse_ana_log(a.get_log_page(nc.LID_ANA, 4096, lsp=1).data, rgo=True)
        self.assertEqual(rgo['groups'][0]['num_nsid'], 0)
        cpl = a.io_queues[0].read(1, 0, 8)
        self.assertEqual(cpl.code, nc.SC_ANA_INACCESSIBLE, cpl)
        self.assertTrue(b.io_queues[0].write(1, 0, pattern(4 * KB, 30)).ok)
        listeners = self.tgt.rpc('nvmf_subsystem_get_listeners', {'nqn': nqn})
        states = {li['address']['trsvcid']: {a['ana_group']: a['ana_state']
                                             for a in li['ana_states']} for li in listeners}
        self.assertEqual(states[str(port1)][1], 'inaccessible')
        self.assertEqual(states[str(port2)][1], 'optimized')
        self.tgt.rpc('nvmf_subsystem_listener_set_ana_state',
                     {'nqn': nqn, 'listen_address': listen_address(port1),
                      'ana_state': 'non_optimized'})
        wait_until(lambda: nc.parse_ana_log(a.get_log_page(nc.LID_ANA, 4096).data)
                   ['groups'][0]['state'] == 2, what='ANA state non-optimized')
        self.assertEqual(a.io_queues[0].read(1, 0, 8).data, pattern(4 * KB, 30))

    # ---- reservations ----

    def test_reservations_two_hosts(self):
        nqn, port = self.own_subsystem(1)
        h1 = self.ctrlr(port, nqn, io_queues=1, hostnqn=nc.random_hostnqn())
        h2 = self.ctrlr(port, nqn, io_queues=1, hostnqn=nc.random_hostnqn())
        q1, q2 = h1.io_queues[0], h2.io_queues[0]
        _, ns = h1.identify_ns(1)
        self.assertTrue(ns['rescap'] & 0x7E, hex(ns['rescap']))
        self.assertTrue(q1.resv_register(1, 0, nrkey=0xA1).ok)
        self.assertTrue(q2.resv_register(1, 0, nrkey=0xB2).ok)
        # Registering again with another key is a conflict.
        self.assertEqual(q1.resv_register(1, 0, nrkey=0xCC).code, nc.SC_RESERVATION_CONFLICT)
        self.assertTrue(q1.resv_acquire(1, 0, RESV_WRITE_EXCLUSIVE, crkey=0xA1).ok)
        cpl, rep = q2.resv_report(1)
        self.assertTrue(cpl.ok, cpl)
        self.assertEqual((rep['rtype'], rep['regctl']), (RESV_WRITE_EXCLUSIVE, 2))
        holders = {r['hostid']: r for r in rep['registrants']}
        self.assertEqual(holders[h1.hostid]['rkey'], 0xA1)
        self.assertEqual(holders[h1.hostid]['rcsts'] & 1, 1)
        self.assertEqual(holders[h2.hostid]['rcsts'] & 1, 0)
        # Write exclusive: h2 reads but does not write.
        self.assertTrue(q2.read(1, 0, 8).ok)
        self.assertEqual(q2.write(1, 0, bytes(4 * KB)).code, nc.SC_RESERVATION_CONFLICT)
        self.assertTrue(q1.write(1, 0, pattern(4 * KB, 40)).ok)
        # h2 cannot acquire a held reservation nor release h1's, and a wrong key conflicts.
        self.assertEqual(q2.resv_acquire(1, 0, RESV_WRITE_EXCLUSIVE, crkey=0xB2).code,
                         nc.SC_RESERVATION_CONFLICT)
        self.assertEqual(q1.resv_acquire(1, 0, RESV_WRITE_EXCLUSIVE, crkey=0xFF).code,
                         nc.SC_RESERVATION_CONFLICT)
        self.assertEqual(q1.resv_release(1, 0, RESV_EXCLUSIVE_ACCESS, crkey=0xA1).code,
                         nc.SC_INVALID_FIELD)
        # h2 preempts h1: h2 holds it, h1 is unregistered.
        self.assertTrue(q2.resv_acquire(1, 1, RESV_EXCLUSIVE_ACCESS, crkey=0xB2,
                                        prkey=0xA1).ok)
        cpl, rep = q1.resv_report(1)
        self.assertEqual((rep['rtype'], rep['regctl']), (RESV_EXCLUSIVE_ACCESS, 1))
        self.assertEqual(rep['registrants'][0]['hostid'], h2.hostid)
        self.assertEqual(q1.read(1, 0, 8).code, nc.SC_RESERVATION_CONFLICT)
        self.assertEqual(q2.read(1, 0, 8).data, pattern(4 * KB, 40))
        self.assertTrue(q2.resv_release(1, 0, RESV_EXCLUSIVE_ACCESS, crkey=0xB2).ok)
        self.assertTrue(q1.read(1, 0, 8).ok)
        self.assertTrue(q2.resv_register(1, 1, crkey=0xB2).ok)  # unregister
        cpl, rep = q1.resv_report(1)
        self.assertEqual((rep['rtype'], rep['regctl']), (0, 0))
        # The preempted host has a reservation notification log entry.
        log = h1.get_log_page(nc.LID_RESV_NOTIFICATION, 64)
        self.assertTrue(log.ok)

    # ---- hosts, keep alive, disconnect ----

    def test_host_allow_list(self):
        nqn, port = self.own_subsystem(1, allow_any_host=False)
        good, bad = nc.random_hostnqn(), nc.random_hostnqn()
        self.tgt.rpc('nvmf_subsystem_add_host', {'nqn': nqn, 'host': good})
        c = nc.Controller(ADDR, port, nqn, hostnqn=bad)
        self.addCleanup(c.close)
        with self.assertRaises(nc.NvmeError) as cm:
            c.connect()
        self.assertEqual(cm.exception.cpl.code, nc.SC_CONNECT_INVALID_HOST)
        self.assertEqual(cm.exception.cpl.cdw0, (1 << 16) | 512)  # IATTR 1, IPO: HOSTNQN
        ok = self.ctrlr(port, nqn, io_queues=1, hostnqn=good)
        self.assertTrue(ok.io_queues[0].read(1, 0, 1).ok)
        self.tgt.rpc('nvmf_subsystem_allow_any_host', {'nqn': nqn, 'allow_any_host': True})
        self.ctrlr(port, nqn, hostnqn=bad)
        # Discovery only lists the subsystem for allowed hosts.
        self.tgt.rpc('nvmf_subsystem_allow_any_host', {'nqn': nqn, 'allow_any_host': False})
        d = self.ctrlr(port, nc.DISCOVERY_NQN, hostnqn=bad)
        self.assertNotIn(nqn, [e['subnqn'] for e in d.discovery_log()['entries']])
        d = self.ctrlr(port, nc.DISCOVERY_NQN, hostnqn=good)
        self.assertIn(nqn, [e['subnqn'] for e in d.discovery_log()['entries']])

    def test_keep_alive_timeout(self):
        nqn, port = self.own_subsystem(1)
        c = self.ctrlr(port, nqn, io_queues=1, kato=1000)
        self.assertTrue(c.keep_alive().ok)
        kato = c.get_features(nc.FEAT_KEEP_ALIVE_TIMER).cdw0
        self.assertGreaterEqual(kato, 1000)
        self.assertEqual(len(self.controllers(self.tgt, nqn)), 1)
        # Stop sending anything: the target must drop the controller, within a bound far
        # larger than any plausible KATO (min_kato may raise it to 10 s).
        wait_until(lambda: self.controllers(self.tgt, nqn) == [], timeout=max(60, kato / 250),
                   interval=0.5, what='controller dropped after keep-alive timeout')
        self.assertTrue(c.admin.wait_closed(WAIT_TIMEOUT), 'admin connection still open')
        self.assertTrue(c.io_queues[0].wait_closed(WAIT_TIMEOUT), 'I/O connection still open')
        self.assertEqual(self.tgt.rpc('nvmf_subsystem_get_qpairs', {'nqn': nqn}), [])

    def test_kato_zero_keeps_controller(self):
        nqn, port = self.own_subsystem(0)
        c = self.ctrlr(port, nqn, kato=0)
        self.assertTrue(c.keep_alive().ok)
        self.assertEqual(len(self.controllers(self.tgt, nqn)), 1)

    def test_disconnect(self):
        nqn, port = self.own_subsystem(1)
        c = self.ctrlr(port, nqn, io_queues=2)
        qpairs = lambda: self.tgt.rpc('nvmf_subsystem_get_qpairs', {'nqn': nqn})  # noqa: E731
        self.assertEqual(len(qpairs()), 3)
        q = c.io_queues[1]
        cpl = q.disconnect()
        self.assertTrue(cpl.ok, cpl)
        self.assertTrue(q.wait_closed(WAIT_TIMEOUT))
        wait_until(lambda: len(qpairs()) == 2, what='qpair gone after Disconnect')
        self.assertTrue(c.io_queues[0].read(1, 0, 8).ok)
        self.assertEqual(self.controllers(self.tgt, nqn)[0]['num_io_qpairs'], 1)
        # Closing the admin queue's socket ends the association.
        c.admin.close()
        wait_until(lambda: self.controllers(self.tgt, nqn) == [], what='controller gone')
        self.assertTrue(c.io_queues[0].wait_closed(WAIT_TIMEOUT))

    def test_io_qpair_limit(self):
        nqn, port = self.own_subsystem(0)
        c = self.ctrlr(port, nqn)
        q = c.open_queue(4096)
        self.addCleanup(q.close)
        # qid 0xFFFF is beyond max_io_qpairs_per_ctrlr.
        cpl = q.connect(0xFFFF, nqn, c.hostnqn, c.hostid, c.cntlid)
        self.assertFalse(cpl.ok)
        # A queue with sqsize 0 (a 1-entry queue) is invalid.
        q2 = c.open_queue(4096)
        self.addCleanup(q2.close)
        self.assertFalse(q2.connect(1, nqn, c.hostnqn, c.hostid, c.cntlid, sqsize=0).ok)


if __name__ == '__main__':
    unittest.main()
