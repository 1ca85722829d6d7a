# SPDX-License-Identifier: BSD-3-Clause
"""The nvmf_* JSON-RPC methods: SPDK's result shapes, errors that name what is wrong,
rpc.py sub-commands, the start-up-only methods, and the save_config / --json round trip."""

import json
import os
import socket
import unittest
import uuid

import nvmf_client as nc
from nvmf_helpers import (ADDR, NvmfTestCase, free_port, listen_address, unique_nqn,
                          wait_until)
from pollux_test import JSONRPCException

NQN = 'nqn.2016-06.io.pollux:cnode1'
HOST1 = 'nqn.2014-08.org.nvmexpress:uuid:11111111-2222-3333-4444-555555555555'
HOST2 = 'nqn.2014-08.org.nvmexpress:uuid:66666666-7777-8888-9999-000000000000'
DEFAULT_SN = 'Pollux00000000000001'
DEFAULT_MN = 'Pollux_Controller1'

# Referrals are not ranked: where they go is not part of the order the loader depends on.
CONFIG_ORDER = ('nvmf_set_config', 'nvmf_set_max_subsystems', 'nvmf_set_crdt',
                'nvmf_create_transport', 'nvmf_create_subsystem')


class NvmfRpcTest(NvmfTestCase):

    def setUp(self):
        self.tgt = self.start_nvmf_target()

    def fails(self, method, params, *mentions, tgt=None):
        """The call must fail with a JSON-RPC error whose message names every mention."""
        tgt = tgt or self.tgt
        with self.assertRaises(JSONRPCException, msg='%s %r succeeded' % (method, params)) as cm:
            tgt.rpc(method, params)
        e = cm.exception
        self.assertIsNotNone(e.error, 'transport failure instead of an error: %s' % e.message)
        self.assertNotEqual(e.code, 0)
        for m in mentions:
            self.assertIn(m.lower(), e.message.lower(), '%s %r' % (method, params))
        return e

    def subsystems(self, tgt=None):
        return {s['nqn']: s for s in (tgt or self.tgt).rpc('nvmf_get_subsystems')}

    # ---- transports ----

    def test_transport(self):
        self.assertEqual(self.tgt.rpc('nvmf_get_transports'), [])
        self.assertIs(self.create_transport(self.tgt, max_queue_depth=64,
                                            in_capsule_data_size=8192, max_io_size=65536,
                                            io_unit_size=8192, c2h_success=False), True)
        ts = self.tgt.rpc('nvmf_get_transports')
        self.assertEqual(len(ts), 1)
        t = ts[0]
        self.assertEqual(t['trtype'], 'TCP')
        self.assertEqual((t['max_queue_depth'], t['in_capsule_data_size'], t['max_io_size'],
                          t['io_unit_size'], t['c2h_success']), (64, 8192, 65536, 8192, False))
        for key in ('max_io_qpairs_per_ctrlr', 'max_aq_depth', 'zcopy', 'sock_priority',
                    'abort_timeout_sec'):
            self.assertIn(key, t)
        self.assertEqual(t['max_io_qpairs_per_ctrlr'], 127)
        self.assertEqual(self.tgt.rpc('nvmf_get_transports', {'trtype': 'tcp'}), ts)
        self.fails('nvmf_get_transports', {'trtype': 'RDMA'}, 'RDMA')
        self.fails('nvmf_create_transport', {'trtype': 'TCP'}, 'TCP')  # already exists
        self.fails('nvmf_create_transport', {'trtype': 'FOO'}, 'FOO')
        self.fails('nvmf_create_transport', {'trtype': 'TCP', 'bogus': 1}, 'bogus')
        # The options apply: reads complete with a CapsuleResp (no C2H SUCCESS), a 64 KiB
        # write fits in max_io_size and 8 KiB go in the capsule.
        self.malloc(self.tgt, 'Malloc0')
        nqn, port = self.subsystem(self.tgt, NQN, ['Malloc0'])
        c = self.ctrlr(port, nqn, io_queues=1)
        ident = c.identify_ctrlr()
        self.assertEqual((ident['ioccsz'], ident['mdts']), ((64 + 8192) // 16, 4))
        q = c.io_queues[0]
        self.assertTrue(q.write(1, 0, bytes(range(256)) * 32, in_capsule=True).ok)
        r = q.read(1, 0, 16)
        self.assertEqual((r.ok, r.c2h_success, r.data), (True, False, bytes(range(256)) * 32))
        self.assertTrue(q.write(1, 0, bytes(65536)).ok)
        self.assertFalse(q.read(1, 0, 256).ok)  # 128 KiB > max_io_size

    def test_transport_bad_options(self):
        self.fails('nvmf_create_transport', {'trtype': 'TCP', 'max_queue_depth': 1},
                   'max_queue_depth')
        self.fails('nvmf_create_transport', {'trtype': 'TCP', 'max_io_size': 1000},
                   'max_io_size')
        self.fails('nvmf_create_transport', {'trtype': 'TCP', 'max_queue_depth': 'x'},
                   'max_queue_depth')
        self.assertEqual(self.tgt.rpc('nvmf_get_transports'), [])

    # ---- subsystems ----

    def test_subsystem_lifecycle(self):
        subs = self.tgt.rpc('nvmf_get_subsystems')
        self.assertEqual(len(subs), 1)
        disc = subs[0]
        self.assertEqual((disc['nqn'], disc['subtype']), (nc.DISCOVERY_NQN, 'Discovery'))
        self.assertIs(disc['allow_any_host'], True)
        self.assertEqual(disc['listen_addresses'], [])
        self.assertIs(self.tgt.rpc('nvmf_create_subsystem', {
            'nqn': NQN, 'serial_number': 'SN0001', 'model_number': 'Model One',
            'max_namespaces': 8, 'min_cntlid': 5, 'max_cntlid': 50, 'ana_reporting': True}),
            True)
        s = self.subsystems()[NQN]
        self.assertEqual(s['subtype'], 'NVMe')
        self.assertEqual((s['serial_number'], s['model_number'], s['max_namespaces'],
                          s['min_cntlid'], s['max_cntlid']), ('SN0001', 'Model One', 8, 5, 50))
        self.assertIs(s['allow_any_host'], False)
        self.assertEqual((s['hosts'], s['namespaces'], s['listen_addresses']), ([], [], []))
        self.assertEqual(self.tgt.rpc('nvmf_get_subsystems', {'nqn': NQN}), [s])
        self.tgt.rpc('nvmf_create_subsystem', {'nqn': NQN + 'x', 'allow_any_host': True})
        s2 = self.subsystems()[NQN + 'x']
        self.assertEqual((s2['serial_number'], s2['model_number']), (DEFAULT_SN, DEFAULT_MN))
        self.assertIs(s2['allow_any_host'], True)
        self.fails('nvmf_create_subsystem', {'nqn': NQN}, NQN)
        self.fails('nvmf_get_subsystems', {'nqn': 'nqn.2016-06.io.pollux:none'},
                   'nqn.2016-06.io.pollux:none')
        self.assertIs(self.tgt.rpc('nvmf_delete_subsystem', {'nqn': NQN}), True)
        self.fails('nvmf_delete_subsystem', {'nqn': NQN}, NQN)
        self.fails('nvmf_delete_subsystem', {'nqn': nc.DISCOVERY_NQN})
        self.assertEqual(sorted(self.subsystems()), sorted([nc.DISCOVERY_NQN, NQN + 'x']))

    def test_subsystem_bad_params(self):
        self.fails('nvmf_create_subsystem', {'nqn': 'not-an-nqn'}, 'not-an-nqn')
        self.fails('nvmf_create_subsystem', {'nqn': 'nqn.2016-06.io.pollux:' + 'a' * 230},
                   'nqn')
        self.fails('nvmf_create_subsystem', {'nqn': nc.DISCOVERY_NQN}, nc.DISCOVERY_NQN)
        self.fails('nvmf_create_subsystem', {'nqn': NQN, 'serial_number': 'x' * 21},
                   'serial_number')
        self.fails('nvmf_create_subsystem', {'nqn': NQN, 'model_number': 'x' * 41},
                   'model_number')
        self.fails('nvmf_create_subsystem', {'nqn': NQN, 'min_cntlid': 100, 'max_cntlid': 10},
                   'cntlid')
        self.fails('nvmf_create_subsystem', {'nqn': NQN, 'max_cntlid': 0xFFFF}, 'cntlid')
        self.fails('nvmf_create_subsystem', {}, 'nqn')
        self.assertEqual(list(self.subsystems()), [nc.DISCOVERY_NQN])

    # ---- namespaces ----

    def test_namespaces(self):
        self.tgt.rpc('nvmf_create_subsystem', {'nqn': NQN, 'max_namespaces': 3})
        for name in ('M0', 'M1', 'M2', 'M3'):
            self.malloc(self.tgt, name, num_blocks=256)
        self.assertEqual(self.tgt.rpc('nvmf_subsystem_add_ns',
                                      {'nqn': NQN, 'namespace': {'bdev_name': 'M0'}}), 1)
        u = 'a0b1c2d3-e4f5-4a6b-8c7d-9e0f1a2b3c4d'
        self.assertEqual(self.tgt.rpc('nvmf_subsystem_add_ns', {'nqn': NQN, 'namespace': {
            'bdev_name': 'M1', 'nsid': 3, 'nguid': '00112233445566778899AABBCCDDEEFF',
            'eui64': '0011223344556677', 'uuid': u, 'anagrpid': 2}}), 3)
        self.fails('nvmf_subsystem_add_ns', {'nqn': NQN, 'namespace': {'bdev_name': 'M2',
                                                                       'nsid': 3}}, '3')
        self.fails('nvmf_subsystem_add_ns', {'nqn': NQN, 'namespace': {'bdev_name': 'Nope'}},
                   'Nope')
        self.fails('nvmf_subsystem_add_ns', {'nqn': NQN + 'z', 'namespace': {'bdev_name': 'M2'}},
                   NQN + 'z')
        self.fails('nvmf_subsystem_add_ns', {'nqn': NQN, 'namespace': {'bdev_name': 'M2',
                                                                       'nguid': 'xyz'}},
                   'nguid')
        self.fails('nvmf_subsystem_add_ns', {'nqn': NQN, 'namespace': {'bdev_name': 'M2',
                                                                       'nsid': 4}}, 'nsid')
        ns = {n['nsid']: n for n in self.subsystems()[NQN]['namespaces']}
        self.assertEqual(sorted(ns), [1, 3])
        self.assertEqual((ns[1]['bdev_name'], ns[1]['name']), ('M0', 'M0'))
        self.assertEqual(ns[3]['nguid'], '00112233445566778899AABBCCDDEEFF')
        self.assertEqual(ns[3]['eui64'], '0011223344556677')
        self.assertEqual(ns[3]['uuid'], u)
        self.assertEqual(ns[3]['anagrpid'], 2)
        self.assertEqual(ns[1]['anagrpid'], 1)
        uuid.UUID(ns[1]['uuid'])  # a default UUID (the bdev's)
        self.assertEqual(len(ns[1]['nguid']), 32)
        self.assertEqual(self.tgt.rpc('nvmf_subsystem_add_ns',
                                      {'nqn': NQN, 'namespace': {'bdev_name': 'M2'}}), 2)
        self.fails('nvmf_subsystem_add_ns', {'nqn': NQN, 'namespace': {'bdev_name': 'M3'}})
        self.assertIs(self.tgt.rpc('nvmf_subsystem_set_ns_ana_group',
                                   {'nqn': NQN, 'nsid': 1, 'anagrpid': 3}), True)
        ns = {n['nsid']: n for n in self.subsystems()[NQN]['namespaces']}
        self.assertEqual(ns[1]['anagrpid'], 3)
        # ANA group ids go up to max_namespaces.
        self.fails('nvmf_subsystem_set_ns_ana_group', {'nqn': NQN, 'nsid': 1, 'anagrpid': 4},
                   'anagrpid')
        self.fails('nvmf_subsystem_set_ns_ana_group', {'nqn': NQN, 'nsid': 9, 'anagrpid': 1},
                   '9')
        self.assertIs(self.tgt.rpc('nvmf_subsystem_remove_ns', {'nqn': NQN, 'nsid': 2}), True)
        self.fails('nvmf_subsystem_remove_ns', {'nqn': NQN, 'nsid': 2}, '2')
        # A bdev in use by a namespace cannot be claimed twice.
        self.fails('nvmf_subsystem_add_ns', {'nqn': NQN, 'namespace': {'bdev_name': 'M0'}},
                   'M0')
        self.assertEqual(sorted(n['nsid'] for n in self.subsystems()[NQN]['namespaces']),
                         [1, 3])
        self.assertIs(self.tgt.rpc('nvmf_delete_subsystem', {'nqn': NQN}), True)
        # The bdevs are free again.
        self.assertIs(self.tgt.rpc('bdev_malloc_delete', {'name': 'M0'}), True)

    # ---- listeners ----

    def test_listeners(self):
        self.create_transport(self.tgt)
        self.tgt.rpc('nvmf_create_subsystem', {'nqn': NQN, 'ana_reporting': True})
        p1, p2 = free_port(), free_port()
        self.assertIs(self.tgt.rpc('nvmf_subsystem_add_listener', {
            'nqn': NQN, 'listen_address': listen_address(p1)}), True)
        self.tgt.rpc('nvmf_subsystem_add_listener', {
            'nqn': NQN, 'listen_address': {'trtype': 'tcp', 'adrfam': 'ipv4', 'traddr': ADDR,
                                           'trsvcid': str(p2)}, 'ana_state': 'non_optimized'})
        self.fails('nvmf_subsystem_add_listener', {'nqn': NQN,
                                                   'listen_address': listen_address(p1)},
                   str(p1))
        s = self.subsystems()[NQN]
        self.assertEqual(sorted(s['listen_addresses'], key=lambda a: int(a['trsvcid'])),
                         sorted([listen_address(p1), listen_address(p2)],
                                key=lambda a: int(a['trsvcid'])))
        lis = {li['address']['trsvcid']: li
               for li in self.tgt.rpc('nvmf_subsystem_get_listeners', {'nqn': NQN})}
        self.assertEqual(lis[str(p1)]['address'], listen_address(p1))
        # As SPDK: one entry per ANA group (1 .. max_namespaces).
        self.assertEqual(len(lis[str(p1)]['ana_states']), 32)
        self.assertEqual(lis[str(p1)]['ana_states'][0], {'ana_group': 1,
                                                         'ana_state': 'optimized'})
        self.assertEqual({a['ana_state'] for a in lis[str(p2)]['ana_states']},
                         {'non_optimized'})
        self.assertIs(self.tgt.rpc('nvmf_subsystem_listener_set_ana_state', {
            'nqn': NQN, 'listen_address': listen_address(p1), 'ana_state': 'inaccessible'}),
            True)
        lis = {li['address']['trsvcid']: li
               for li in self.tgt.rpc('nvmf_subsystem_get_listeners', {'nqn': NQN})}
        self.assertEqual(lis[str(p1)]['ana_states'][0]['ana_state'], 'inaccessible')
        self.fails('nvmf_subsystem_listener_set_ana_state', {
            'nqn': NQN, 'listen_address': listen_address(p1), 'ana_state': 'sideways'},
            'ana_state')
        self.fails('nvmf_subsystem_listener_set_ana_state', {
            'nqn': NQN, 'listen_address': listen_address(free_port()),
            'ana_state': 'optimized'})
        self.fails('nvmf_subsystem_add_listener', {
            'nqn': NQN, 'listen_address': listen_address(free_port()), 'ana_state': 'up'},
            'ana_state')
        self.fails('nvmf_subsystem_add_listener', {'nqn': NQN, 'listen_address': {
            'trtype': 'RDMA', 'traddr': ADDR, 'trsvcid': str(free_port())}}, 'RDMA')
        self.fails('nvmf_subsystem_add_listener', {'nqn': NQN, 'listen_address': {
            'trtype': 'TCP', 'traddr': 'not.an.address', 'trsvcid': str(free_port())}})
        # A port some other process listens on.
        with socket.socket() as busy:
            busy.bind((ADDR, 0))
            busy.listen(1)
            port = busy.getsockname()[1]
            self.fails('nvmf_subsystem_add_listener',
                       {'nqn': NQN, 'listen_address': listen_address(port)}, str(port))
        self.assertIs(self.tgt.rpc('nvmf_subsystem_remove_listener', {
            'nqn': NQN, 'listen_address': listen_address(p2)}), True)
        self.fails('nvmf_subsystem_remove_listener', {'nqn': NQN,
                                                      'listen_address': listen_address(p2)})
        self.assertEqual(self.subsystems()[NQN]['listen_addresses'], [listen_address(p1)])
        # Removed listener: the port is closed.
        with self.assertRaises(OSError):
            socket.create_connection((ADDR, p2), timeout=5).close()
        # The discovery subsystem can listen too.
        pd = free_port()
        self.tgt.rpc('nvmf_subsystem_add_listener', {'nqn': nc.DISCOVERY_NQN,
                                                     'listen_address': listen_address(pd)})
        self.assertIn(listen_address(pd), self.subsystems()[nc.DISCOVERY_NQN]
                      ['listen_addresses'])

    def test_listener_without_transport(self):
        self.tgt.rpc('nvmf_create_subsystem', {'nqn': NQN})
        self.fails('nvmf_subsystem_add_listener', {
            'nqn': NQN, 'listen_address': listen_address(free_port())}, 'TCP')

    # ---- hosts ----

    def test_hosts(self):
        self.tgt.rpc('nvmf_create_subsystem', {'nqn': NQN})
        self.assertIs(self.tgt.rpc('nvmf_subsystem_add_host', {'nqn': NQN, 'host': HOST1}),
                      True)
        self.tgt.rpc('nvmf_subsystem_add_host', {'nqn': NQN, 'host': HOST2})
        self.fails('nvmf_subsystem_add_host', {'nqn': NQN, 'host': HOST1}, HOST1)
        self.fails('nvmf_subsystem_add_host', {'nqn': NQN, 'host': 'bad host'}, 'bad host')
        self.assertEqual(sorted(h['nqn'] for h in self.subsystems()[NQN]['hosts']),
                         sorted([HOST1, HOST2]))
        self.assertIs(self.tgt.rpc('nvmf_subsystem_remove_host', {'nqn': NQN, 'host': HOST1}),
                      True)
        self.fails('nvmf_subsystem_remove_host', {'nqn': NQN, 'host': HOST1}, HOST1)
        self.assertEqual(self.subsystems()[NQN]['hosts'], [{'nqn': HOST2}])
        self.assertIs(self.tgt.rpc('nvmf_subsystem_allow_any_host',
                                   {'nqn': NQN, 'allow_any_host': True}), True)
        self.assertIs(self.subsystems()[NQN]['allow_any_host'], True)
        self.tgt.rpc('nvmf_subsystem_allow_any_host', {'nqn': NQN, 'allow_any_host': False})
        self.assertIs(self.subsystems()[NQN]['allow_any_host'], False)
        self.fails('nvmf_subsystem_allow_any_host', {'nqn': NQN}, 'allow_any_host')

    # ---- controllers, qpairs, stats ----

    def test_controllers_qpairs_stats(self):
        self.create_transport(self.tgt)
        self.malloc(self.tgt, 'Malloc0')
        nqn, port = self.subsystem(self.tgt, NQN, ['Malloc0'])
        self.assertEqual(self.tgt.rpc('nvmf_subsystem_get_controllers', {'nqn': nqn}), [])
        self.assertEqual(self.tgt.rpc('nvmf_subsystem_get_qpairs', {'nqn': nqn}), [])
        c = self.ctrlr(port, nqn, io_queues=2, hostnqn=HOST1)
        c.io_queues[0].write(1, 0, bytes(4096))
        ctrls = self.tgt.rpc('nvmf_subsystem_get_controllers', {'nqn': nqn})
        self.assertEqual(len(ctrls), 1)
        ct = ctrls[0]
        self.assertEqual((ct['cntlid'], ct['hostnqn'], ct['num_io_qpairs']),
                         (c.cntlid, HOST1, 2))
        self.assertEqual(uuid.UUID(ct['hostid']).bytes, c.hostid)
        qps = self.tgt.rpc('nvmf_subsystem_get_qpairs', {'nqn': nqn})
        self.assertEqual(sorted(q['qid'] for q in qps), [0, 1, 2])
        for q in qps:
            self.assertEqual((q['cntlid'], q['hostnqn'], q['state']), (c.cntlid, HOST1,
                                                                       'active'))
            self.assertEqual(q['listen_address'], listen_address(port))
            self.assertEqual((q['peer_address']['trtype'], q['peer_address']['traddr']),
                             ('TCP', ADDR))
            self.assertRegex(q['thread'], r'^nvmf_tgt_poll_group_\d{3}$')
        stats = self.tgt.rpc('nvmf_get_stats')
        self.assertGreater(stats['tick_rate'], 0)
        groups = stats['poll_groups']
        self.assertEqual(len(groups), self.tgt.reactors)
        for g in groups:
            for k in ('name', 'admin_qpairs', 'io_qpairs', 'current_admin_qpairs',
                      'current_io_qpairs', 'pending_bdev_io', 'completed_nvme_io',
                      'transports'):
                self.assertIn(k, g)
            self.assertEqual([t['trtype'] for t in g['transports']], ['TCP'])
        self.assertEqual(sum(g['current_admin_qpairs'] for g in groups), 1)
        self.assertEqual(sum(g['current_io_qpairs'] for g in groups), 2)
        self.assertGreaterEqual(sum(g['completed_nvme_io'] for g in groups), 1)
        c.close()
        wait_until(lambda: self.tgt.rpc('nvmf_subsystem_get_controllers', {'nqn': nqn}) == [],
                   what='controller gone after close')
        wait_until(lambda: sum(g['current_io_qpairs'] for g in
                               self.tgt.rpc('nvmf_get_stats')['poll_groups']) == 0,
                   what='io qpairs gone from stats')
        self.fails('nvmf_subsystem_get_controllers', {'nqn': NQN + 'q'}, NQN + 'q')

    # ---- referrals ----

    def test_referrals(self):
        self.create_transport(self.tgt)
        self.assertEqual(self.tgt.rpc('nvmf_discovery_get_referrals'), [])
        ref = listen_address(4430, '10.0.0.7')
        self.assertIs(self.tgt.rpc('nvmf_discovery_add_referral', {'address': ref}), True)
        self.tgt.rpc('nvmf_discovery_add_referral', {'address': listen_address(4431, '10.0.0.8'),
                                                     'subnqn': NQN, 'secure_channel': False})
        refs = self.tgt.rpc('nvmf_discovery_get_referrals')
        self.assertEqual(len(refs), 2)
        by_port = {r['address']['trsvcid']: r for r in refs}
        self.assertEqual(by_port['4430']['address'], ref)
        # SPDK always reports subnqn (empty or the discovery NQN when none was given).
        self.assertIn(by_port['4430'].get('subnqn', 'MISSING'), ('', nc.DISCOVERY_NQN))
        self.assertEqual(by_port['4431']['subnqn'], NQN)
        self.assertIs(by_port['4430']['secure_channel'], False)
        # The discovery log lists them (a referral to a discovery service is subtype 1).
        pd = free_port()
        self.tgt.rpc('nvmf_subsystem_add_listener', {'nqn': nc.DISCOVERY_NQN,
                                                     'listen_address': listen_address(pd)})
        d = self.ctrlr(pd, nc.DISCOVERY_NQN)
        entries = d.discovery_log()['entries']
        r = [e for e in entries if e['traddr'] == '10.0.0.7']
        self.assertEqual(len(r), 1, entries)
        self.assertEqual((r[0]['subtype'], r[0]['trsvcid']), (1, '4430'))
        self.assertIn('10.0.0.8', [e['traddr'] for e in entries])
        self.assertIs(self.tgt.rpc('nvmf_discovery_remove_referral', {'address': ref}), True)
        self.fails('nvmf_discovery_remove_referral', {'address': ref})
        self.assertEqual(len(self.tgt.rpc('nvmf_discovery_get_referrals')), 1)

    # ---- start-up only methods ----

    def startup_target(self):
        tgt = self.start_target('--wait-for-rpc')
        if 'nvmf_set_max_subsystems' not in tgt.rpc('rpc_get_methods'):
            self.skipTest('pollux_tgt has no nvmf_set_max_subsystems yet')
        return tgt

    def test_startup_methods(self):
        tgt = self.startup_target()
        self.assertIs(tgt.rpc('nvmf_set_max_subsystems', {'max_subsystems': 3}), True)
        self.assertIs(tgt.rpc('nvmf_set_config', {'discovery_filters': ['transport'],
                                                  'dhchap_digests': ['sha256']}), True)
        self.fails('nvmf_set_config', {'discovery_filters': ['nonsense']}, 'discovery_filters',
                   tgt=tgt)
        tgt.rpc('framework_start_init')
        tgt.rpc('framework_wait_init')
        # 3 subsystems including discovery.
        tgt.rpc('nvmf_create_subsystem', {'nqn': NQN})
        tgt.rpc('nvmf_create_subsystem', {'nqn': NQN + 'b'})
        self.fails('nvmf_create_subsystem', {'nqn': NQN + 'c'}, tgt=tgt)
        self.fails('nvmf_set_max_subsystems', {'max_subsystems': 10}, tgt=tgt)
        cfg = self.nvmf_config(tgt)
        by = {e['method']: e['params'] for e in cfg}
        self.assertEqual(by['nvmf_set_max_subsystems'], {'max_subsystems': 3})
        self.assertEqual(by['nvmf_set_config']['discovery_filters'], ['transport'])

    # ---- save_config / --json ----

    def nvmf_config(self, tgt):
        cp = tgt.rpc_cli('save_config')
        self.assertEqual(cp.returncode, 0, cp.stderr)
        config = json.loads(cp.stdout)
        subs = [s for s in config['subsystems'] if s['subsystem'] == 'nvmf']
        self.assertEqual(len(subs), 1, [s['subsystem'] for s in config['subsystems']])
        self.last_config = config
        return subs[0]['config']

    def check_order(self, entries):
        methods = [e['method'] for e in entries]
        rank = {m: i for i, m in enumerate(CONFIG_ORDER)}
        last = -1
        for m in methods:
            if m == 'nvmf_discovery_add_referral':
                continue
            r = rank.get(m, len(CONFIG_ORDER))
            self.assertGreaterEqual(r, last, 'method order: %s' % methods)
            last = max(last, r)
        # Per subsystem: create, then its namespaces, then its listeners.
        seen = {}
        for e in entries:
            nqn = e['params'].get('nqn')
            if e['method'] == 'nvmf_create_subsystem':
                seen[nqn] = 'create'
            elif e['method'] == 'nvmf_subsystem_add_ns':
                self.assertIn(seen.get(nqn), ('create', 'host', 'ns'), methods)
                seen[nqn] = 'ns'
            elif e['method'] == 'nvmf_subsystem_add_host':
                self.assertIn(seen.get(nqn), ('create', 'host'), methods)
                seen[nqn] = 'host'
            elif e['method'] == 'nvmf_subsystem_add_listener' and nqn != nc.DISCOVERY_NQN:
                self.assertIn(seen.get(nqn), ('create', 'host', 'ns', 'listener'), methods)
                seen[nqn] = 'listener'

    def test_save_config_restart(self):
        tgt = self.tgt
        self.create_transport(tgt, max_queue_depth=64, in_capsule_data_size=8192)
        self.malloc(tgt, 'Malloc0')
        self.malloc(tgt, 'Malloc1')
        port = free_port()
        tgt.rpc('nvmf_create_subsystem', {'nqn': NQN, 'serial_number': 'SAVESN',
                                          'model_number': 'Saved Model', 'max_namespaces': 4,
                                          'ana_reporting': True, 'min_cntlid': 3})
        tgt.rpc('nvmf_subsystem_add_host', {'nqn': NQN, 'host': HOST1})
        tgt.rpc('nvmf_subsystem_add_ns', {'nqn': NQN, 'namespace': {'bdev_name': 'Malloc0'}})
        tgt.rpc('nvmf_subsystem_add_ns', {'nqn': NQN, 'namespace': {
            'bdev_name': 'Malloc1', 'nsid': 4, 'nguid': 'FFEEDDCCBBAA99887766554433221100',
            'anagrpid': 2}})
        tgt.rpc('nvmf_subsystem_add_listener', {'nqn': NQN, 'listen_address':
                                                listen_address(port)})
        tgt.rpc('nvmf_discovery_add_referral', {'address': listen_address(4430, '10.0.0.7')})
        before = self.subsystems(tgt)
        referrals = tgt.rpc('nvmf_discovery_get_referrals')
        cfg = self.nvmf_config(tgt)
        self.check_order(cfg)
        methods = [e['method'] for e in cfg]
        for m in ('nvmf_set_config', 'nvmf_set_max_subsystems', 'nvmf_create_transport',
                  'nvmf_create_subsystem', 'nvmf_subsystem_add_ns',
                  'nvmf_subsystem_add_listener', 'nvmf_subsystem_add_host',
                  'nvmf_discovery_add_referral'):
            self.assertIn(m, methods)
        tr = [e['params'] for e in cfg if e['method'] == 'nvmf_create_transport'][0]
        self.assertEqual((tr['trtype'], tr['max_queue_depth'], tr['in_capsule_data_size']),
                         ('TCP', 64, 8192))
        # bdevs come before nvmf in the saved file.
        names = [s['subsystem'] for s in self.last_config['subsystems']]
        self.assertLess(names.index('bdev'), names.index('nvmf'))
        path = tgt.write_file('nvmf.json', json.dumps(self.last_config))
        tgt.stop()
        tgt2 = self.start_target('--json', path)
        after = self.subsystems(tgt2)
        self.assertEqual(after, before)
        self.assertEqual(tgt2.rpc('nvmf_discovery_get_referrals'), referrals)
        c = self.ctrlr(port, NQN, io_queues=1, hostnqn=HOST1)
        ident = c.identify_ctrlr()
        self.assertEqual((ident['sn'], ident['mn']), ('SAVESN', 'Saved Model'))
        self.assertGreaterEqual(c.cntlid, 3)
        self.assertEqual(c.active_ns_list(), [1, 4])
        self.assertTrue(c.io_queues[0].write(4, 0, bytes(4096)).ok)
        # Saving again gives the same nvmf config.
        self.assertEqual(self.nvmf_config(tgt2), cfg)

    def test_ptpl_persists_reservations(self):
        """A namespace with ptpl_file keeps a registration made with CPTPL=persist across a
        restart of the target from its saved config."""
        tgt = self.tgt
        self.create_transport(tgt)
        self.malloc(tgt, 'Malloc0')
        ptpl = os.path.join(tgt.tmpdir, 'ptpl.json')
        port = free_port()
        tgt.rpc('nvmf_create_subsystem', {'nqn': NQN, 'allow_any_host': True})
        tgt.rpc('nvmf_subsystem_add_ns', {'nqn': NQN, 'namespace': {'bdev_name': 'Malloc0',
                                                                    'ptpl_file': ptpl}})
        tgt.rpc('nvmf_subsystem_add_listener', {'nqn': NQN,
                                                'listen_address': listen_address(port)})
        hostid = uuid.uuid4().bytes
        c = self.ctrlr(port, NQN, io_queues=1, hostid=hostid)
        q = c.io_queues[0]
        self.assertTrue(c.identify_ns(1)[1]['rescap'] & 1, 'PTPL not in RESCAP')
        self.assertTrue(q.resv_register(1, 0, nrkey=0x77, cptpl=3).ok)
        self.assertTrue(q.resv_acquire(1, 0, 1, crkey=0x77).ok)
        cpl, rep = q.resv_report(1)
        self.assertEqual((rep['rtype'], rep['regctl'], rep['ptpls']), (1, 1, 1))
        c.close()
        cfg = self.nvmf_config(tgt)
        ns = [e['params']['namespace'] for e in cfg if e['method'] == 'nvmf_subsystem_add_ns']
        self.assertEqual(ns[0]['ptpl_file'], ptpl)
        path = tgt.write_file('ptpl-config.json', json.dumps(self.last_config))
        tgt.stop()
        self.assertTrue(os.path.exists(ptpl), 'no PTPL file written')
        tgt2 = self.start_target('--json', path)
        c = self.ctrlr(port, NQN, io_queues=1, hostid=hostid)
        cpl, rep = c.io_queues[0].resv_report(1)
        self.assertTrue(cpl.ok, cpl)
        self.assertEqual((rep['rtype'], rep['regctl'], rep['ptpls']), (1, 1, 1))
        self.assertEqual(rep['registrants'][0]['hostid'], hostid)
        self.assertEqual(rep['registrants'][0]['rkey'], 0x77)
        self.assertTrue(tgt2.running())


class NvmfCliTest(NvmfTestCase):
    """scripts/rpc.py nvmf_* sub-commands against a live target."""

    def test_cli(self):
        tgt = self.start_nvmf_target()
        ok = lambda *a: self.cli_ok(tgt, *a)  # noqa: E731
        ok('bdev_malloc_create', '-b', 'Malloc0', 16, 512)
        self.assertIs(ok('nvmf_create_transport', '-t', 'TCP', '-q', 64, '-c', 4096, '-o'), True)
        t = ok('nvmf_get_transports', '--trtype', 'TCP')[0]
        self.assertEqual((t['max_queue_depth'], t['c2h_success']), (64, False))
        self.assertIs(ok('nvmf_create_subsystem', NQN, '-s', 'CLISN', '-d', 'CLI Model',
                         '-m', 4, '-r', '-i', 2, '-I', 20), True)
        s = ok('nvmf_get_subsystems', NQN)[0]
        self.assertEqual((s['serial_number'], s['model_number'], s['max_namespaces'],
                          s['min_cntlid'], s['max_cntlid'], s['allow_any_host']),
                         ('CLISN', 'CLI Model', 4, 2, 20, False))
        self.assertEqual(ok('nvmf_subsystem_add_ns', NQN, 'Malloc0', '-n', 2, '-a', 3), 2)
        port, port2 = free_port(), free_port()
        self.assertIs(ok('nvmf_subsystem_add_listener', NQN, '-t', 'tcp', '-a', ADDR, '-s',
                         port, '-f', 'ipv4'), True)
        ok('nvmf_subsystem_add_listener', NQN, '-t', 'tcp', '-a', ADDR, '-s', port2,
           '-n', 'non_optimized')
        ok('nvmf_subsystem_add_listener', 'discovery', '-t', 'tcp', '-a', ADDR, '-s', port2)
        ok('nvmf_subsystem_listener_set_ana_state', NQN, '-n', 'inaccessible', '-t', 'tcp',
           '-a', ADDR, '-s', port, '-g', 3)
        lis = {li['address']['trsvcid']: li for li in ok('nvmf_subsystem_get_listeners', NQN)}
        ana = {a['ana_group']: a['ana_state'] for a in lis[str(port)]['ana_states']}
        self.assertEqual(ana, {1: 'optimized', 2: 'optimized', 3: 'inaccessible',
                               4: 'optimized'})
        self.assertIs(ok('nvmf_subsystem_add_host', NQN, HOST1), True)
        self.assertEqual(ok('nvmf_get_subsystems', NQN)[0]['hosts'], [{'nqn': HOST1}])
        ok('nvmf_subsystem_allow_any_host', NQN, '-e')
        self.assertIs(ok('nvmf_get_subsystems', NQN)[0]['allow_any_host'], True)
        ok('nvmf_subsystem_allow_any_host', NQN, '-d')
        self.assertIs(ok('nvmf_get_subsystems', NQN)[0]['allow_any_host'], False)
        c = self.ctrlr(port2, NQN, io_queues=1, hostnqn=HOST1)
        self.assertEqual(ok('nvmf_subsystem_get_controllers', NQN)[0]['cntlid'], c.cntlid)
        self.assertEqual(len(ok('nvmf_subsystem_get_qpairs', NQN)), 2)
        self.assertIn('poll_groups', ok('nvmf_get_stats'))
        ok('nvmf_subsystem_set_ns_ana_group', NQN, 2, 4)
        self.assertEqual(ok('nvmf_get_subsystems', NQN)[0]['namespaces'][0]['anagrpid'], 4)
        ok('nvmf_discovery_add_referral', '-t', 'tcp', '-a', '10.1.1.1', '-s', 4420, '-f',
           'ipv4')
        self.assertEqual(len(ok('nvmf_discovery_get_referrals')), 1)
        ok('nvmf_discovery_remove_referral', '-t', 'tcp', '-a', '10.1.1.1', '-s', 4420)
        self.assertEqual(ok('nvmf_discovery_get_referrals'), [])
        c.close()
        ok('nvmf_subsystem_remove_host', NQN, HOST1)
        ok('nvmf_subsystem_remove_listener', NQN, '-t', 'tcp', '-a', ADDR, '-s', port2)
        ok('nvmf_subsystem_remove_ns', NQN, 2)
        self.assertEqual(ok('nvmf_get_subsystems', NQN)[0]['namespaces'], [])
        self.assertIs(ok('nvmf_delete_subsystem', NQN), True)
        err, _ = self.cli_error(tgt, 'nvmf_delete_subsystem', NQN)
        self.assertIn(NQN, err['message'])
        err, _ = self.cli_error(tgt, 'nvmf_create_subsystem', 'bad')
        self.assertIn('bad', err['message'])

    def test_cli_startup(self):
        tgt = NvmfRpcTest.startup_target(self)
        self.cli_ok(tgt, 'nvmf_set_max_subsystems', '-x', 5)
        self.cli_ok(tgt, 'nvmf_set_config', '--discovery-filters', 'transport,address',
                    '--dhchap-digests', 'sha256,sha512')
        self.cli_ok(tgt, 'framework_start_init')
        cfg = [s for s in json.loads(tgt.rpc_cli('save_config').stdout)['subsystems']
               if s['subsystem'] == 'nvmf'][0]['config']
        by = {e['method']: e['params'] for e in cfg}
        self.assertEqual(by['nvmf_set_max_subsystems']['max_subsystems'], 5)
        self.assertEqual(sorted(by['nvmf_set_config']['discovery_filters']),
                         ['address', 'transport'])
        self.assertEqual(sorted(by['nvmf_set_config']['dhchap_digests']), ['sha256', 'sha512'])


if __name__ == '__main__':
    unittest.main()
