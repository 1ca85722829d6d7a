# SPDX-License-Identifier: BSD-3-Clause
"""The nvme bdev's JSON-RPC methods, end to end: one pollux_tgt serves an NVMe-oF/TCP subsystem
(a malloc namespace), a second pollux_tgt (or bdevperf) attaches to it as the host.

- rpc.py's bdev_nvme_* sub-commands (argument parsing only, against a fake server);
- attach / bdev_get_bdevs / get_controllers / get_io_paths / detach shapes;
- parameter errors (-32602 naming the field), connect failures, duplicate names,
  bdev_nvme_set_options once a controller exists;
- save_config and replaying it; I/O through the bdev with bdevperf verify, a controller reset
  and a multipath policy change under that load.

Bounded waits only detect hangs; nothing here asserts speed."""

import json
import os
import subprocess
import sys
import threading
import unittest

from fake_rpc_server import RUNTIME, STARTUP, FakeServer
from nvmf_helpers import (ADDR, BLOCK, INVALID_PARAMS, METHOD_NOT_FOUND, NUM_BLOCKS,
                          NvmfTestCase, free_port, require_nvmf, unique_nqn, wait_until)
from pollux_test import RPC_PY, JSONRPCClient, JSONRPCException, build_dir
from rpc.config import save_config

ENODEV = -19
EEXIST = -17
EPERM = -1
RUN_TIMEOUT = 120
HOSTNQN = 'nqn.2016-06.io.pollux:host-bdev-nvme'

# The keys of bdev_nvme_set_options in SPDK's saved config, in its order.
SPDK_SET_OPTIONS_KEYS = [
    'action_on_timeout', 'timeout_us', 'timeout_admin_us', 'keep_alive_timeout_ms',
    'arbitration_burst', 'low_priority_weight', 'medium_priority_weight', 'high_priority_weight',
    'nvme_adminq_poll_period_us', 'nvme_ioq_poll_period_us', 'io_queue_requests',
    'delay_cmd_submit', 'transport_retry_count', 'bdev_retry_count', 'transport_ack_timeout',
    'ctrlr_loss_timeout_sec', 'reconnect_delay_sec', 'fast_io_fail_timeout_sec',
    'disable_auto_failback', 'generate_uuids', 'transport_tos', 'nvme_error_stat',
    'rdma_srq_size', 'io_path_stat', 'allow_accel_sequence', 'rdma_max_cq_size',
    'rdma_cm_event_timeout_ms', 'dhchap_digests', 'dhchap_dhgroups', 'rdma_umr_per_io',
    'tcp_connect_timeout_ms', 'enable_flush', 'multipath_opts']


def bdevperf_binary():
    path = os.path.join(build_dir(), 'app', 'bdevperf', 'bdevperf')
    if not os.access(path, os.X_OK):
        raise unittest.SkipTest('bdevperf is not built: %s is missing' % path)
    return path


def require_bdev_nvme(tgt):
    """Skip when the daemon has no nvme bdev module yet."""
    try:
        tgt.rpc('bdev_nvme_get_controllers')
    except JSONRPCException as e:
        if e.code == METHOD_NOT_FOUND:
            raise unittest.SkipTest('pollux_tgt has no bdev_nvme_* methods yet') from None
        raise


def attach_params(port, nqn, name='Nvme0', **kw):
    p = {'name': name, 'trtype': 'tcp', 'adrfam': 'ipv4', 'traddr': ADDR,
         'trsvcid': str(port), 'subnqn': nqn}
    p.update(kw)
    return p


def bdev_config(*entries):
    return json.dumps({'subsystems': [{'subsystem': 'bdev', 'config': list(entries)}]})


# ---- rpc.py argument parsing (no daemon) -------------------------------------------------------

class RpcPyNvmeArgsTest(unittest.TestCase):
    """What rpc.py sends for each bdev_nvme_* command line (SPDK's options)."""

    def setUp(self):
        self.srv = FakeServer(handlers={
            'bdev_nvme_attach_controller': (RUNTIME, lambda p: ['%sn1' % p['name']]),
            'bdev_nvme_set_options': (STARTUP | RUNTIME, lambda p: True),
        })
        for m in ('bdev_nvme_set_hotplug', 'bdev_nvme_detach_controller',
                  'bdev_nvme_set_multipath_policy', 'bdev_nvme_reset_controller'):
            self.srv.handlers[m] = (RUNTIME, lambda p: True)
        for m in ('bdev_nvme_get_controllers', 'bdev_nvme_get_io_paths'):
            self.srv.handlers[m] = (RUNTIME, lambda p: [])
        self.addCleanup(self.srv.close)

    def run_cli(self, *args):
        cmd = [sys.executable, RPC_PY, '-s', self.srv.path] + [str(a) for a in args]
        return subprocess.run(cmd, capture_output=True, text=True, timeout=60)

    def sent(self, *args):
        """Run rpc.py; it must succeed; returns (params sent, stdout)."""
        cp = self.run_cli(*args)
        self.assertEqual(cp.returncode, 0, 'rpc.py %s: %s' % (' '.join(args), cp.stderr))
        method, params = self.srv.calls[-1]
        self.assertEqual(method, args[0])
        return params, cp.stdout

    def test_attach_tcp_short_options(self):
        params, out = self.sent('bdev_nvme_attach_controller', '-b', 'Nvme0', '-t', 'tcp',
                                '-a', '127.0.0.1', '-f', 'ipv4', '-s', '4420',
                                '-n', 'nqn.2016-06.io.spdk:cnode1', '-q', HOSTNQN, '-e', '-d',
                                '-x', 'multipath', '-l', '-1', '-o', '2', '-u', '4',
                                '--num-io-queues', '4', '--fabrics-timeout', '500000')
        self.assertEqual(params, {
            'name': 'Nvme0', 'trtype': 'tcp', 'traddr': '127.0.0.1', 'adrfam': 'ipv4',
            'trsvcid': '4420', 'subnqn': 'nqn.2016-06.io.spdk:cnode1', 'hostnqn': HOSTNQN,
            'hdgst': True, 'ddgst': True, 'multipath': 'multipath',
            'ctrlr_loss_timeout_sec': -1, 'reconnect_delay_sec': 2,
            'fast_io_fail_timeout_sec': 4, 'num_io_queues': 4,
            'fabrics_connect_timeout_us': 500000})
        # As SPDK's rpc.py: the bdev names on one line.
        self.assertEqual(out.strip(), 'Nvme0n1')

    def test_attach_minimal_and_the_rest(self):
        params, _ = self.sent('bdev_nvme_attach_controller', '--name', 'P0', '--trtype', 'pcie',
                              '--traddr', '0000:00:04.0')
        self.assertEqual(params, {'name': 'P0', 'trtype': 'pcie', 'traddr': '0000:00:04.0'})
        params, _ = self.sent('bdev_nvme_attach_controller', '-b', 'N', '-t', 'tcp', '-a', 'h',
                              '-p', '3', '-i', '10.0.0.1', '-c', '5000', '-r', '-g', '-k',
                              'key0', '-m', '16', '--dhchap-key', 'k1', '--dhchap-ctrlr-key',
                              'k2', '-U', '--policy', 'active_active', '--selector',
                              'queue_depth', '--min-io', '8')
        self.assertEqual(params['priority'], '3')
        self.assertEqual(params['hostaddr'], '10.0.0.1')
        self.assertEqual(params['hostsvcid'], '5000')
        self.assertIs(params['prchk_reftag'], True)
        self.assertIs(params['prchk_guard'], True)
        self.assertEqual(params['psk'], 'key0')
        self.assertEqual(params['max_bdevs'], 16)
        self.assertEqual(params['dhchap_key'], 'k1')
        self.assertEqual(params['dhchap_ctrlr_key'], 'k2')
        self.assertIs(params['allow_unrecognized_csi'], True)
        self.assertEqual(params['multipath_opts'],
                         {'policy': 'active_active', 'selector': 'queue_depth', 'min_io': 8})

    def test_attach_requires_name_trtype_traddr(self):
        for missing in ('-b', '-t', '-a'):
            args = {'-b': 'Nvme0', '-t': 'tcp', '-a': ADDR}
            del args[missing]
            flat = [x for kv in args.items() for x in kv]
            cp = self.run_cli('bdev_nvme_attach_controller', *flat)
            self.assertEqual(cp.returncode, 2, cp.stderr)

    def test_set_options(self):
        params, _ = self.sent('bdev_nvme_set_options', '-a', 'abort', '-t', '1000000',
                              '--timeout-admin-us', '2000000', '-k', '5000', '-p', '20000',
                              '-i', '10', '-s', '1024', '-d', '-c', '8', '-r', '-1', '-e', '7',
                              '-l', '30', '-o', '5', '-u', '10', '-f', '--generate-uuids',
                              '--io-path-stat', '--enable-flush', '--dhchap-digests',
                              'sha256,sha512', '--dhchap-dhgroups', 'null,ffdhe2048',
                              '--policy', 'active_active', '--selector', 'round_robin',
                              '--min-io', '3')
        self.assertEqual(params, {
            'action_on_timeout': 'abort', 'timeout_us': 1000000, 'timeout_admin_us': 2000000,
            'keep_alive_timeout_ms': 5000, 'nvme_adminq_poll_period_us': 20000,
            'nvme_ioq_poll_period_us': 10, 'io_queue_requests': 1024,
            'delay_cmd_submit': False, 'transport_retry_count': 8, 'bdev_retry_count': -1,
            'transport_ack_timeout': 7, 'ctrlr_loss_timeout_sec': 30, 'reconnect_delay_sec': 5,
            'fast_io_fail_timeout_sec': 10, 'disable_auto_failback': True,
            'generate_uuids': True, 'io_path_stat': True, 'enable_flush': True,
            'dhchap_digests': ['sha256', 'sha512'], 'dhchap_dhgroups': ['null', 'ffdhe2048'],
            'multipath_opts': {'policy': 'active_active', 'selector': 'round_robin',
                               'min_io': 3}})
        # Nothing given: nothing sent, so every option keeps its value.
        params, _ = self.sent('bdev_nvme_set_options')
        self.assertEqual(params, {})

    def test_set_hotplug(self):
        params, _ = self.sent('bdev_nvme_set_hotplug', '-e', '-r', '200000')
        self.assertEqual(params, {'enable': True, 'period_us': 200000})
        params, _ = self.sent('bdev_nvme_set_hotplug', '-d')
        self.assertEqual(params, {'enable': False})
        params, _ = self.sent('bdev_nvme_set_hotplug', '--no-hotplug')
        self.assertEqual(params, {'enable': False})
        self.assertEqual(self.run_cli('bdev_nvme_set_hotplug').returncode, 2)
        self.assertEqual(self.run_cli('bdev_nvme_set_hotplug', '-e', '-d').returncode, 2)

    def test_detach_get_reset_policy(self):
        params, _ = self.sent('bdev_nvme_detach_controller', 'Nvme0', '-t', 'tcp', '-a', ADDR,
                              '-f', 'ipv4', '-s', '4421', '-n', 'nqn.2016-06.io.spdk:c1',
                              '-i', '10.0.0.1', '-c', '7000')
        self.assertEqual(params, {'name': 'Nvme0', 'trtype': 'tcp', 'traddr': ADDR,
                                  'adrfam': 'ipv4', 'trsvcid': '4421',
                                  'subnqn': 'nqn.2016-06.io.spdk:c1', 'hostaddr': '10.0.0.1',
                                  'hostsvcid': '7000'})
        params, _ = self.sent('bdev_nvme_detach_controller', 'Nvme0')
        self.assertEqual(params, {'name': 'Nvme0'})
        params, _ = self.sent('bdev_nvme_get_controllers')
        self.assertIn(params, (None, {}))
        params, _ = self.sent('bdev_nvme_get_controllers', '-n', 'Nvme0')
        self.assertEqual(params, {'name': 'Nvme0'})
        params, _ = self.sent('bdev_nvme_get_io_paths', '-n', 'Nvme0n1')
        self.assertEqual(params, {'name': 'Nvme0n1'})
        params, _ = self.sent('bdev_nvme_reset_controller', 'Nvme0', '-c', '2')
        self.assertEqual(params, {'name': 'Nvme0', 'cntlid': 2})
        params, _ = self.sent('bdev_nvme_reset_controller', 'Nvme0')
        self.assertEqual(params, {'name': 'Nvme0'})
        params, _ = self.sent('bdev_nvme_set_multipath_policy', '-b', 'Nvme0n1', '-p',
                              'active_active', '-s', 'queue_depth', '-r', '4')
        self.assertEqual(params, {'name': 'Nvme0n1', 'policy': 'active_active',
                                  'selector': 'queue_depth', 'rr_min_io': 4})
        cp = self.run_cli('bdev_nvme_set_multipath_policy', '-b', 'Nvme0n1', '-p', 'random')
        self.assertEqual(cp.returncode, 2)


# ---- against real daemons ----------------------------------------------------------------------

class BdevNvmeTest(NvmfTestCase):
    """A target per test with subsystem self.nqn (Malloc0, nsid 1) on self.port, and a host
    daemon self.host on another core."""

    def setUp(self):
        self.tgt = self.start_nvmf_target('-m', '0x1')
        self.create_transport(self.tgt)
        self.malloc(self.tgt, 'Malloc0')
        self.nqn, self.port = self.subsystem(self.tgt, bdevs=['Malloc0'])
        self.host = self.start_host()

    def start_host(self, *args):
        host = self.start_target('-m', '0x2', *args)
        require_bdev_nvme(host)
        return host

    def tearDown(self):
        self.assertTrue(self.tgt.running(), 'the NVMe-oF target died')
        self.assertTrue(self.host.running(), 'the host pollux_tgt died')
        # A clean exit with its controllers still attached (under ASan: no leak, no UB).
        self.host.stop(expect_code=0)
        self.assertNotIn('runtime error', self.host.stderr())

    def attach(self, host=None, **kw):
        return (host or self.host).rpc('bdev_nvme_attach_controller',
                                       attach_params(self.port, self.nqn, **kw))

    def bdev(self, name, host=None):
        bdevs = (host or self.host).rpc('bdev_get_bdevs', {'name': name})
        self.assertEqual(len(bdevs), 1)
        return bdevs[0]

    def assertNoBdev(self, name, host=None):
        with self.assertRaises(JSONRPCException) as cm:
            (host or self.host).rpc('bdev_get_bdevs', {'name': name})
        self.assertEqual(cm.exception.code, ENODEV)

    # -- attach, shapes, detach -------------------------------------------------------------
    def test_attach_shows_bdev_and_detach_removes_it(self):
        self.assertEqual(self.attach(hostnqn=HOSTNQN), ['Nvme0n1'])
        b = self.bdev('Nvme0n1')
        self.assertEqual(b['block_size'], BLOCK)
        self.assertEqual(b['num_blocks'], NUM_BLOCKS)
        self.assertEqual(b['product_name'], 'NVMe disk')

        ctrlrs = self.host.rpc('bdev_nvme_get_controllers')
        self.assertEqual([c['name'] for c in ctrlrs], ['Nvme0'])
        self.assertEqual(self.host.rpc('bdev_nvme_get_controllers', {'name': 'Nvme0'}), ctrlrs)
        paths = ctrlrs[0]['ctrlrs']
        self.assertEqual(len(paths), 1)
        c = paths[0]
        self.assertEqual(c['state'], 'enabled')
        self.assertEqual(c['trid']['trtype'], 'TCP')
        self.assertEqual(c['trid']['adrfam'], 'IPv4')
        self.assertEqual(c['trid']['traddr'], ADDR)
        self.assertEqual(c['trid']['trsvcid'], str(self.port))
        self.assertEqual(c['trid']['subnqn'], self.nqn)
        self.assertIsInstance(c['cntlid'], int)
        self.assertEqual(c['host']['nqn'], HOSTNQN)
        # The target sees the same controller.
        tctrlrs = self.controllers(self.tgt, self.nqn)
        self.assertEqual([t['cntlid'] for t in tctrlrs], [c['cntlid']])
        self.assertEqual(tctrlrs[0]['hostnqn'], HOSTNQN)

        self.check_io_paths_shape(self.host.rpc('bdev_nvme_get_io_paths'))
        self.check_io_paths_shape(self.host.rpc('bdev_nvme_get_io_paths', {'name': 'Nvme0n1'}))

        self.assertIs(self.host.rpc('bdev_nvme_detach_controller', {'name': 'Nvme0'}), True)
        self.assertNoBdev('Nvme0n1')
        self.assertEqual(self.host.rpc('bdev_nvme_get_controllers'), [])
        wait_until(lambda: self.controllers(self.tgt, self.nqn) == [],
                   what='the target dropping the controller')

    def check_io_paths_shape(self, res, bdev='Nvme0n1'):
        """{"poll_groups": [{"io_paths": [...]}]}; a path exists only on threads that have a
        channel to the bdev, so an idle daemon may list none."""
        self.assertIsInstance(res['poll_groups'], list)
        found = []
        for pg in res['poll_groups']:
            for p in pg['io_paths']:
                self.assertEqual(p['bdev_name'], bdev)
                for k in ('cntlid', 'current', 'connected', 'accessible', 'transport'):
                    self.assertIn(k, p)
                self.assertEqual(p['transport']['trtype'], 'TCP')
                self.assertEqual(p['transport']['traddr'], ADDR)
                self.assertEqual(p['transport']['trsvcid'], str(self.port))
                found.append(p)
        return found

    def test_unknown_names(self):
        for method, params in (('bdev_nvme_get_controllers', {'name': 'Nope0'}),
                               ('bdev_nvme_detach_controller', {'name': 'Nope0'}),
                               ('bdev_nvme_reset_controller', {'name': 'Nope0'}),
                               ('bdev_nvme_get_io_paths', {'name': 'Nope0n1'}),
                               ('bdev_nvme_set_multipath_policy',
                                {'name': 'Nope0n1', 'policy': 'active_passive'})):
            self.assertRpcError(ENODEV, self.host, method, params, contains='Nope0')

    def test_bad_params_name_the_field(self):
        p = self.port
        nqn = self.nqn
        cases = (
            (attach_params(p, nqn, trtype='foo'), ("trtype", "'foo'")),
            (attach_params(p, nqn, subnqn='not-an-nqn'), ('subnqn',)),
            ({k: v for k, v in attach_params(p, nqn).items() if k != 'subnqn'}, ('subnqn',)),
            ({k: v for k, v in attach_params(p, nqn).items() if k != 'name'}, ('name',)),
            (attach_params(p, nqn, trsvcid='http'), ('trsvcid',)),
            (attach_params(p, nqn, adrfam='ipx'), ('adrfam',)),
            (attach_params(p, nqn, hostnqn='host'), ('hostnqn',)),
            (attach_params(p, nqn, psk='key0'), ('psk', 'TLS')),
            (attach_params(p, nqn, dhchap_key='k0'), ('dhchap_key', 'DH-HMAC-CHAP')),
            (attach_params(p, nqn, dhchap_ctrlr_key='k1'), ('dhchap_ctrlr_key',)),
            (attach_params(p, nqn, multipath='sometimes'), ('multipath', 'sometimes')),
            (attach_params(p, nqn, ctrlr_loss_timeout_sec=10, reconnect_delay_sec=0),
             ('reconnect_delay_sec',)),
            (attach_params(p, nqn, ctrlr_loss_timeout_sec=2, reconnect_delay_sec=5),
             ('ctrlr_loss_timeout_sec',)),
            (attach_params(p, nqn, ctrlr_loss_timeout_sec=10, reconnect_delay_sec=2,
                           fast_io_fail_timeout_sec=1), ('fast_io_fail_timeout_sec',)),
            (attach_params(p, nqn, ctrlr_loss_timeout_sec=10, reconnect_delay_sec=2,
                           fast_io_fail_timeout_sec=10), ('fast_io_fail_timeout_sec',)),
            (attach_params(p, nqn, ctrlr_loss_timeout_sec=-2, reconnect_delay_sec=1),
             ('ctrlr_loss_timeout_sec',)),
            (attach_params(p, nqn, num_io_queues=70000), ('num_io_queues',)),
            (attach_params(p, nqn, multipath_opts={'policy': 'random'}),
             ('multipath_opts.policy',)),
            (attach_params(p, nqn, foo=1), ('foo',)),
        )
        for params, needles in cases:
            with self.subTest(params=params):
                self.assertRpcError(INVALID_PARAMS, self.host, 'bdev_nvme_attach_controller',
                                    params, contains=needles)
        self.assertEqual(self.host.rpc('bdev_nvme_get_controllers'), [])
        self.assertEqual(self.controllers(self.tgt, self.nqn), [])

        others = (
            ('bdev_nvme_set_options', {'transport_ack_timeout': 40}, 'transport_ack_timeout'),
            ('bdev_nvme_set_options', {'dhchap_digests': ['md5']}, 'dhchap_digests'),
            ('bdev_nvme_set_options', {'dhchap_dhgroups': 'null'}, 'dhchap_dhgroups'),
            ('bdev_nvme_set_options', {'action_on_timeout': 'explode'}, 'action_on_timeout'),
            ('bdev_nvme_set_options', {'multipath_opts': {'selector': 'fastest'}},
             'multipath_opts.selector'),
            ('bdev_nvme_set_options', {'multipath_opts': {'min_io': 0}},
             'multipath_opts.min_io'),
            ('bdev_nvme_set_options', {'ctrlr_loss_timeout_sec': -1, 'reconnect_delay_sec': 0},
             'reconnect_delay_sec'),
            ('bdev_nvme_set_hotplug', {}, 'enable'),
            ('bdev_nvme_set_hotplug', {'enable': False, 'period_us': 20000000}, 'period_us'),
            ('bdev_nvme_set_multipath_policy', {'name': 'Nvme0n1', 'policy': 'random'},
             'policy'),
            ('bdev_nvme_set_multipath_policy',
             {'name': 'Nvme0n1', 'policy': 'active_passive', 'selector': 'queue_depth'},
             'selector'),
            ('bdev_nvme_set_multipath_policy',
             {'name': 'Nvme0n1', 'policy': 'active_active', 'rr_min_io': 0}, 'rr_min_io'),
            ('bdev_nvme_reset_controller', {'name': 'Nvme0', 'cntlid': 70000}, 'cntlid'),
            ('bdev_nvme_detach_controller', {'name': 'Nvme0', 'trtype': 'foo'}, 'trtype'),
            ('bdev_nvme_get_controllers', {'name': 1}, 'name'),
        )
        for method, params, needle in others:
            with self.subTest(method=method, params=params):
                self.assertRpcError(INVALID_PARAMS, self.host, method, params, contains=needle)
        # None of that changed the options.
        opts = self.saved_bdev_entries(self.host)['bdev_nvme_set_options']
        self.assertEqual(opts['transport_ack_timeout'], 0)
        self.assertEqual(opts['dhchap_digests'], ['sha256', 'sha384', 'sha512'])

    def test_rpc_py_attach_prints_names_and_errors(self):
        out = self.host.rpc_cli('bdev_nvme_attach_controller', '-b', 'Nvme0', '-t', 'tcp',
                                '-a', ADDR, '-f', 'ipv4', '-s', self.port, '-n', self.nqn)
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertEqual(out.stdout.strip(), 'Nvme0n1')
        err, _ = self.cli_error(self.host, 'bdev_nvme_attach_controller', '-b', 'Nvme1', '-t',
                                'foo', '-a', ADDR, '-s', self.port, '-n', self.nqn,
                                code=INVALID_PARAMS)
        self.assertIn('trtype', err['message'])
        got = self.cli_ok(self.host, 'bdev_nvme_get_controllers', '-n', 'Nvme0')
        self.assertEqual(got[0]['name'], 'Nvme0')
        self.assertIs(self.cli_ok(self.host, 'bdev_nvme_detach_controller', 'Nvme0'), True)
        self.assertNoBdev('Nvme0n1')

    # -- failures -----------------------------------------------------------------------------
    def test_nothing_listening(self):
        e = self.assertRpcError_any(self.host, 'bdev_nvme_attach_controller',
                                    attach_params(free_port(), self.nqn))
        self.assertNotEqual(e.code, INVALID_PARAMS)
        self.assertTrue(self.host.running())
        self.assertEqual(self.host.rpc('bdev_nvme_get_controllers'), [])
        # A wrong subsystem NQN on a live port is refused by the target's Connect.
        e = self.assertRpcError_any(self.host, 'bdev_nvme_attach_controller',
                                    attach_params(self.port, unique_nqn('none')))
        self.assertNotEqual(e.code, INVALID_PARAMS)
        self.assertEqual(self.host.rpc('bdev_nvme_get_controllers'), [])
        # And the daemon still attaches fine afterwards.
        self.assertEqual(self.attach(), ['Nvme0n1'])

    def assertRpcError_any(self, target, method, params):
        with self.assertRaises(JSONRPCException) as cm:
            target.rpc(method, params)
        self.assertIsNotNone(cm.exception.error, cm.exception.message)
        return cm.exception

    def test_duplicate_name_with_multipath_disable(self):
        self.assertEqual(self.attach(), ['Nvme0n1'])
        e = self.assertRpcError_any(self.host, 'bdev_nvme_attach_controller',
                                    attach_params(self.port, self.nqn, multipath='disable'))
        self.assertEqual(e.code, EEXIST)
        ctrlrs = self.host.rpc('bdev_nvme_get_controllers')
        self.assertEqual(len(ctrlrs), 1)
        self.assertEqual(len(ctrlrs[0]['ctrlrs']), 1)
        self.bdev('Nvme0n1')

    def test_set_options_only_before_attach(self):
        self.assertIs(self.host.rpc('bdev_nvme_set_options', {'bdev_retry_count': 5}), True)
        self.assertEqual(self.attach(), ['Nvme0n1'])
        self.assertRpcError(EPERM, self.host, 'bdev_nvme_set_options', {'bdev_retry_count': 1})
        opts = self.saved_bdev_entries(self.host)['bdev_nvme_set_options']
        self.assertEqual(opts['bdev_retry_count'], 5)
        # Once every controller is gone it is allowed again (as in SPDK).
        self.assertIs(self.host.rpc('bdev_nvme_detach_controller', {'name': 'Nvme0'}), True)
        self.assertIs(self.host.rpc('bdev_nvme_set_options', {'bdev_retry_count': 1}), True)

    def test_reset_controller_on_idle_daemon(self):
        self.attach()
        self.assertIs(self.host.rpc('bdev_nvme_reset_controller', {'name': 'Nvme0'}), True)
        # A fabrics reset reconnects: the target may hand out a new controller ID.
        cntlid = self.host.rpc('bdev_nvme_get_controllers')[0]['ctrlrs'][0]['cntlid']
        self.assertIs(self.host.rpc('bdev_nvme_reset_controller',
                                    {'name': 'Nvme0', 'cntlid': cntlid}), True)
        # 0xfffe is reserved: no controller has it.
        self.assertRpcError(ENODEV, self.host, 'bdev_nvme_reset_controller',
                            {'name': 'Nvme0', 'cntlid': 0xfffe})
        c = self.host.rpc('bdev_nvme_get_controllers')[0]['ctrlrs'][0]
        self.assertEqual(c['state'], 'enabled')
        self.bdev('Nvme0n1')

    def test_set_multipath_policy_then_io_paths(self):
        self.attach()
        self.assertIs(self.host.rpc('bdev_nvme_set_multipath_policy', {
            'name': 'Nvme0n1', 'policy': 'active_active', 'selector': 'queue_depth'}), True)
        self.assertIs(self.host.rpc('bdev_nvme_set_multipath_policy', {
            'name': 'Nvme0n1', 'policy': 'active_active', 'rr_min_io': 4}), True)
        self.assertIs(self.host.rpc('bdev_nvme_set_multipath_policy', {
            'name': 'Nvme0n1', 'policy': 'active_passive'}), True)
        self.check_io_paths_shape(self.host.rpc('bdev_nvme_get_io_paths', {'name': 'Nvme0n1'}))

    # -- save_config ------------------------------------------------------------------------
    def saved_bdev_entries(self, host):
        with host.client() as c:
            cfg = save_config(c)
        bdev = [s for s in cfg['subsystems'] if s['subsystem'] == 'bdev'][0]['config']
        out = {}
        for e in bdev:
            if e['method'].startswith('bdev_nvme_'):
                out.setdefault(e['method'], e['params'])
        return out

    def test_save_config_and_replay(self):
        self.assertIs(self.host.rpc('bdev_nvme_set_options', {
            'bdev_retry_count': -1, 'dhchap_digests': ['sha384'],
            'multipath_opts': {'policy': 'active_active', 'selector': 'queue_depth',
                               'min_io': 2}}), True)
        self.assertIs(self.host.rpc('bdev_nvme_set_hotplug',
                                    {'enable': False, 'period_us': 200000}), True)
        self.assertEqual(self.attach(hdgst=True, ctrlr_loss_timeout_sec=-1,
                                     reconnect_delay_sec=1), ['Nvme0n1'])
        with self.host.client() as c:
            cfg = save_config(c)
        bdev = [s for s in cfg['subsystems'] if s['subsystem'] == 'bdev'][0]['config']
        methods = [e['method'] for e in bdev]
        for m in ('bdev_nvme_set_options', 'bdev_nvme_attach_controller',
                  'bdev_nvme_set_hotplug'):
            self.assertIn(m, methods)
        self.assertLess(methods.index('bdev_nvme_set_options'),
                        methods.index('bdev_nvme_attach_controller'))
        entries = {e['method']: e.get('params') for e in bdev}
        opts = entries['bdev_nvme_set_options']
        self.assertEqual(list(opts), SPDK_SET_OPTIONS_KEYS)
        self.assertEqual(opts['bdev_retry_count'], -1)
        self.assertEqual(opts['dhchap_digests'], ['sha384'])
        self.assertEqual(opts['multipath_opts'],
                         {'policy': 'active_active', 'selector': 'queue_depth', 'min_io': 2})
        self.assertEqual(entries['bdev_nvme_set_hotplug'], {'period_us': 200000,
                                                           'enable': False})
        a = entries['bdev_nvme_attach_controller']
        self.assertEqual(a['name'], 'Nvme0')
        self.assertEqual(a['trtype'], 'TCP')
        self.assertEqual(a['adrfam'], 'IPv4')
        self.assertEqual(a['traddr'], ADDR)
        self.assertEqual(a['trsvcid'], str(self.port))
        self.assertEqual(a['subnqn'], self.nqn)
        self.assertIs(a['hdgst'], True)
        self.assertEqual(a['ctrlr_loss_timeout_sec'], -1)
        self.assertEqual(a['reconnect_delay_sec'], 1)

        path = self.host.write_file('saved.json', json.dumps(cfg))
        third = self.start_host('--json', path)
        b = self.bdev('Nvme0n1', host=third)
        self.assertEqual(b['num_blocks'], NUM_BLOCKS)
        again = self.saved_bdev_entries(third)
        self.assertEqual(again['bdev_nvme_set_options'], opts)
        self.assertEqual(again['bdev_nvme_set_hotplug'], entries['bdev_nvme_set_hotplug'])
        self.assertEqual(again['bdev_nvme_attach_controller'], a)
        third.stop()

    def test_hotplug_enable_is_accepted_and_saved(self):
        before = self.saved_bdev_entries(self.host)['bdev_nvme_set_hotplug']
        self.assertEqual(before, {'period_us': 100000, 'enable': False})
        self.assertIs(self.host.rpc('bdev_nvme_set_hotplug', {'enable': True}), True)
        self.assertEqual(self.saved_bdev_entries(self.host)['bdev_nvme_set_hotplug'],
                         {'period_us': 100000, 'enable': True})
        self.assertIn('not implemented', self.host.stderr())
        self.assertIs(self.host.rpc('bdev_nvme_set_hotplug',
                                    {'enable': False, 'period_us': 0}), True)
        self.assertEqual(self.saved_bdev_entries(self.host)['bdev_nvme_set_hotplug'],
                         {'period_us': 100000, 'enable': False})


# ---- I/O with bdevperf as the host -------------------------------------------------------------

class BdevNvmeIoTest(NvmfTestCase):
    def setUp(self):
        self.bdevperf = bdevperf_binary()
        self.tgt = self.start_nvmf_target('-m', '0x1')
        require_nvmf(self.tgt)
        self.create_transport(self.tgt)
        self.malloc(self.tgt, 'Malloc0')
        self.nqn, self.port = self.subsystem(self.tgt, bdevs=['Malloc0'])
        self.conf = self.tgt.write_file('host.json', bdev_config(
            {'method': 'bdev_nvme_attach_controller',
             'params': attach_params(self.port, self.nqn)}))

    def tearDown(self):
        self.assertTrue(self.tgt.running(), 'the NVMe-oF target died')

    def run_bdevperf(self, *args):
        cmd = [self.bdevperf, '-m', '0x2', '--json', self.conf] + [str(a) for a in args]
        return subprocess.run(cmd, capture_output=True, text=True, timeout=RUN_TIMEOUT,
                              stdin=subprocess.DEVNULL)

    def skip_without_module(self, cp):
        if cp.returncode != 0 and 'bdev_nvme_attach_controller' in cp.stderr and \
                'no such method' in cp.stderr:
            self.skipTest('bdevperf has no bdev_nvme_* methods yet')

    def test_verify_through_nvme_bdev(self):
        cp = self.run_bdevperf('-q', '16', '-o', '4096', '-w', 'verify', '-t', '2')
        self.skip_without_module(cp)
        self.assertEqual(cp.returncode, 0, 'stdout:\n%s\nstderr:\n%s' % (cp.stdout, cp.stderr))
        self.assertIn('Job: Nvme0n1', cp.stdout)
        total = [line for line in cp.stdout.splitlines() if line.startswith('Total')]
        self.assertEqual(len(total), 1, cp.stdout)
        fields = total[0].split(':', 1)[1].split()
        self.assertGreater(float(fields[1]), 0, 'no I/O completed')
        self.assertEqual(float(fields[3]), 0.0, 'failed I/O:\n' + cp.stdout)

    def test_reset_and_policy_under_load(self):
        sock = os.path.join(self.tgt.tmpdir, 'bp.sock')
        cmd = [self.bdevperf, '-m', '0x2', '-z', '-r', sock, '--json', self.conf, '-q', '16',
               '-o', '4096', '-w', 'verify', '-t', '4']
        err = open(os.path.join(self.tgt.tmpdir, 'bp.err'), 'w+')
        self.addCleanup(err.close)
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=err, text=True,
                                stdin=subprocess.DEVNULL)
        self.addCleanup(self._kill, proc)
        ready = threading.Event()
        out = []

        def reader():
            for line in proc.stdout:
                out.append(line)
                if 'waiting for the perform_tests RPC' in line:
                    ready.set()
            ready.set()
        threading.Thread(target=reader, daemon=True).start()
        ready.wait(60)
        if proc.poll() is not None:
            err.seek(0)
            text = err.read()
            if 'bdev_nvme_attach_controller' in text and 'no such method' in text:
                self.skipTest('bdevperf has no bdev_nvme_* methods yet')
            self.fail('bdevperf -z exited: %s\n%s' % (''.join(out), text))

        def client():
            return JSONRPCClient(sock, timeout=RUN_TIMEOUT, connect_timeout=10)

        answer = {}

        def run():
            try:
                with client() as c:
                    answer['result'] = c.call('perform_tests')
            except JSONRPCException as e:
                answer['error'] = e
        t = threading.Thread(target=run, daemon=True)
        t.start()
        with client() as c:
            # A thread's path becomes current once it has sent I/O on it.
            paths = wait_until(lambda: [p for pg in c.call('bdev_nvme_get_io_paths')
                                        ['poll_groups'] for p in pg['io_paths']
                                        if p['current']],
                               what='a current I/O path while bdevperf runs')
            self.assertEqual(paths[0]['bdev_name'], 'Nvme0n1')
            self.assertIs(paths[0]['connected'], True)
            self.assertIs(c.call('bdev_nvme_reset_controller', {'name': 'Nvme0'}), True)
            self.assertIs(c.call('bdev_nvme_set_multipath_policy', {
                'name': 'Nvme0n1', 'policy': 'active_active', 'selector': 'round_robin'}), True)
            res = c.call('bdev_nvme_get_io_paths', {'name': 'Nvme0n1'})
            self.assertTrue(all(p['bdev_name'] == 'Nvme0n1'
                                for pg in res['poll_groups'] for p in pg['io_paths']))
        t.join(RUN_TIMEOUT)
        self.assertFalse(t.is_alive(), 'perform_tests did not answer')
        self.assertIn('result', answer, answer)
        r = answer['result']['results'][0]
        self.assertEqual(r['job'], 'Nvme0n1')
        self.assertEqual(r['status'], 'finished')
        self.assertEqual(r['io_failed'], 0, r)
        self.assertGreater(r['iops'], 0)

    def _kill(self, proc):
        if proc.poll() is None:
            proc.kill()
        proc.wait()
        proc.stdout.close()


if __name__ == '__main__':
    unittest.main()
