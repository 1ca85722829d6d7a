# SPDX-License-Identifier: BSD-3-Clause
"""The error bdev over RPC: create EE_<base> through rpc.py, inject and clear errors, bad
parameters (missing or claimed base, duplicate, unknown types), bdevperf verify through it,
injected failures and corruption seen by bdevperf, base hot remove, delete, and the
save_config / --json round trip."""

import unittest

from bm_helpers import BdevperfServer, ModuleTestCase, hot_remove_under_load
from pollux_test import JSONRPCException

INVALID = -32602


def malloc(name='Malloc0', num_blocks=8192, block_size=4096):
    return {'method': 'bdev_malloc_create',
            'params': {'name': name, 'num_blocks': num_blocks, 'block_size': block_size}}


def error(base='Malloc0', **kw):
    return {'method': 'bdev_error_create', 'params': dict(base_name=base, **kw)}


class ErrorTest(ModuleTestCase):
    def test_cli_create_inject_delete(self):
        self.require_cli('bdev_error_create', 'bdev_error_inject_error', 'bdev_error_delete')
        tgt = self.start_target()
        tgt.rpc('bdev_malloc_create', malloc()['params'])
        self.assertEqual(self.cli_ok(tgt, 'bdev_error_create', 'Malloc0'), 'EE_Malloc0')
        bdevs = self.bdevs(tgt)
        self.assertTrue(bdevs['Malloc0']['claimed'])
        self.assertEqual(bdevs['EE_Malloc0']['num_blocks'], 8192)
        self.assertIs(self.cli_ok(tgt, 'bdev_error_inject_error', 'EE_Malloc0', 'write',
                                  'failure', '-n', 2), True)
        self.assertIs(self.cli_ok(tgt, 'bdev_error_inject_error', 'EE_Malloc0', 'clear',
                                  'failure'), True)
        err, _ = self.cli_error(tgt, 'bdev_error_inject_error', 'EE_Malloc0', 'read',
                                'corrupt_data', code=INVALID)
        self.assertIn('corrupt_value', err['message'])
        self.assertIs(self.cli_ok(tgt, 'bdev_error_resume_pending', 'EE_Malloc0'), True)
        self.assertIs(self.cli_ok(tgt, 'bdev_error_delete', 'EE_Malloc0'), True)
        self.assertFalse(self.bdevs(tgt)['Malloc0']['claimed'])
        self.cli_error(tgt, 'bdev_error_delete', 'EE_Malloc0', code=-19)

    def test_bad_params(self):
        tgt = self.start_target()
        tgt.rpc('bdev_malloc_create', malloc()['params'])
        tgt.rpc('bdev_malloc_create', malloc('Malloc1')['params'])
        self.assertRpcError(-19, tgt, 'bdev_error_create', error('Nope')['params'],
                            'base bdev Nope not found')
        self.assertEqual(tgt.rpc('bdev_error_create', error()['params']), 'EE_Malloc0')
        self.assertRpcError(-17, tgt, 'bdev_error_create', error()['params'],
                            'bdev EE_Malloc0 already exists')
        tgt.rpc('bdev_delay_create', {'name': 'D1', 'base_bdev_name': 'Malloc1',
                                      'avg_read_latency': 0, 'p99_read_latency': 0,
                                      'avg_write_latency': 0, 'p99_write_latency': 0})
        self.assertRpcError(-1, tgt, 'bdev_error_create', error('Malloc1')['params'],
                            'already claimed by module delay')
        inject = {'name': 'EE_Malloc0', 'io_type': 'read', 'error_type': 'failure'}
        self.assertRpcError(INVALID, tgt, 'bdev_error_inject_error',
                            dict(inject, io_type='reset'), 'io_type')
        self.assertRpcError(INVALID, tgt, 'bdev_error_inject_error',
                            dict(inject, error_type='explode'), 'error_type')
        self.assertRpcError(INVALID, tgt, 'bdev_error_inject_error',
                            dict(inject, error_type='nvme_failure'), 'nvme_failure')
        self.assertRpcError(INVALID, tgt, 'bdev_error_inject_error',
                            dict(inject, num=-1), 'num')
        self.assertRpcError(INVALID, tgt, 'bdev_error_inject_error',
                            dict(inject, corrupt_value=256), 'corrupt_value')
        self.assertRpcError(-19, tgt, 'bdev_error_inject_error', dict(inject, name='Malloc0'),
                            'Malloc0')
        self.assertIs(tgt.rpc('bdev_error_delete', {'name': 'EE_Malloc0'}), True)

    def test_bdevperf_verify(self):
        self.verify([malloc(), error()], 'EE_Malloc0')

    def test_bdevperf_sees_injected_failures(self):
        bp = BdevperfServer(self, [malloc(), error()], '-q', 8, '-o', 4096, '-w', 'randread',
                            '-t', 1, '-f', '-T', 'EE_Malloc0')
        self.assertIs(bp.rpc('bdev_error_inject_error', {'name': 'EE_Malloc0', 'io_type': 'read',
                                                         'error_type': 'failure', 'num': 50}),
                      True)
        res = bp.rpc('perform_tests')['results'][0]
        self.assertEqual(res['job'], 'EE_Malloc0')
        self.assertGreater(res['io_failed'], 0)
        # Out-of-resources answers are retried by the layer: the caller never sees them.
        bp.rpc('bdev_error_inject_error', {'name': 'EE_Malloc0', 'io_type': 'all',
                                           'error_type': 'nomem', 'num': 1000})
        res = bp.rpc('perform_tests')['results'][0]
        self.assertEqual(res['io_failed'], 0)
        self.assertEqual(res['status'], 'finished')
        self.assertEqual(bp.stop(), 0)

    def test_bdevperf_verify_catches_corruption(self):
        bp = BdevperfServer(self, [malloc(), error()], '-q', 8, '-o', 4096, '-w', 'verify',
                            '-t', 1, '-T', 'EE_Malloc0')
        bp.rpc('bdev_error_inject_error', {'name': 'EE_Malloc0', 'io_type': 'read',
                                           'error_type': 'corrupt_data', 'num': 1,
                                           'corrupt_offset': 100, 'corrupt_value': 1})
        with self.assertRaises(JSONRPCException) as cm:
            bp.rpc('perform_tests')
        self.assertIn('failed', cm.exception.message)
        bp.stop()
        self.assertIn('verify failed', bp.output())

    def test_base_hot_remove(self):
        tgt = self.start_target()
        tgt.rpc('bdev_malloc_create', malloc()['params'])
        tgt.rpc('bdev_error_create', error()['params'])
        tgt.rpc('bdev_error_inject_error', {'name': 'EE_Malloc0', 'io_type': 'all',
                                            'error_type': 'pending'})
        self.assertIs(tgt.rpc('bdev_malloc_delete', {'name': 'Malloc0'}), True)
        self.assertEqual(self.bdevs(tgt), {})

    def test_base_hot_remove_under_load(self):
        # Held I/O would keep bdevperf from ever closing: the error bdev aborts it.
        bp = BdevperfServer(self, [malloc(), error()], '-q', 32, '-o', 4096, '-w', 'randrw',
                            '-t', 30, '-T', 'EE_Malloc0', '-f')
        hot_remove_under_load(self, bp, 'Malloc0', 'EE_Malloc0', before_remove=lambda: bp.rpc(
            'bdev_error_inject_error', {'name': 'EE_Malloc0', 'io_type': 'all',
                                        'error_type': 'pending', 'num': 10}))

    def test_save_config_restart(self):
        tgt = self.start_target()
        tgt.rpc('bdev_malloc_create', malloc()['params'])
        tgt.rpc('bdev_error_create', error(uuid='11111111-2222-4333-8444-555555555555')['params'])
        tgt2, after = self.config_roundtrip(tgt, ['Malloc0', 'EE_Malloc0'])
        self.assertEqual(after['EE_Malloc0']['uuid'], '11111111-2222-4333-8444-555555555555')
        self.assertTrue(after['Malloc0']['claimed'])
        self.assertIs(tgt2.rpc('bdev_error_delete', {'name': 'EE_Malloc0'}), True)


if __name__ == '__main__':
    unittest.main()
