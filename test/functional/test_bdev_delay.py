# SPDX-License-Identifier: BSD-3-Clause
"""The delay bdev over RPC: create through rpc.py over a malloc base, update latencies, bad
parameters (negative or absurd latency, p99 below average, missing or claimed base,
duplicate name), bdevperf verify through it, base hot remove, delete, and the save_config /
--json round trip."""

import unittest

from bm_helpers import BdevperfServer, ModuleTestCase, hot_remove_under_load

INVALID = -32602


def malloc(name='Malloc0', num_blocks=8192, block_size=4096):
    return {'method': 'bdev_malloc_create',
            'params': {'name': name, 'num_blocks': num_blocks, 'block_size': block_size}}


def delay(name='Delay0', base='Malloc0', lat=(10, 50, 10, 50), **kw):
    params = {'name': name, 'base_bdev_name': base, 'avg_read_latency': lat[0],
              'p99_read_latency': lat[1], 'avg_write_latency': lat[2],
              'p99_write_latency': lat[3]}
    params.update(kw)
    return {'method': 'bdev_delay_create', 'params': params}


class DelayTest(ModuleTestCase):
    def test_cli_create_update_delete(self):
        self.require_cli('bdev_delay_create', 'bdev_delay_update_latency', 'bdev_delay_delete')
        tgt = self.start_target()
        tgt.rpc('bdev_malloc_create', malloc()['params'])
        self.assertEqual(self.cli_ok(tgt, 'bdev_delay_create', '-b', 'Malloc0', '-d', 'Delay0',
                                     '-r', 100, '-t', 200, '-w', 300, '-n', 400), 'Delay0')
        bdevs = self.bdevs(tgt)
        self.assertTrue(bdevs['Malloc0']['claimed'])
        d = bdevs['Delay0']
        self.assertEqual((d['num_blocks'], d['block_size']), (8192, 4096))
        self.assertEqual(d['driver_specific']['delay']['base_bdev_name'], 'Malloc0')
        self.assertEqual(d['driver_specific']['delay']['p99_write_latency'], 400)
        self.assertIs(self.cli_ok(tgt, 'bdev_delay_update_latency', 'Delay0', 'avg_read', 150),
                      True)
        d = self.bdevs(tgt)['Delay0']
        self.assertEqual(d['driver_specific']['delay']['avg_read_latency'], 150)
        err, _ = self.cli_error(tgt, 'bdev_delay_update_latency', 'Delay0', 'p99_read', 10,
                                code=INVALID)
        self.assertIn('p99_read_latency', err['message'])
        err, _ = self.cli_error(tgt, 'bdev_delay_create', '-b', 'Malloc0', '-d', 'Delay1',
                                '-r', -5, '-t', 1, '-w', 1, '-n', 1, code=INVALID)
        self.assertIn('avg_read_latency', err['message'])
        self.assertIs(self.cli_ok(tgt, 'bdev_delay_delete', 'Delay0'), True)
        self.assertFalse(self.bdevs(tgt)['Malloc0']['claimed'])
        self.cli_error(tgt, 'bdev_delay_delete', 'Delay0', code=-19)

    def test_bad_params(self):
        tgt = self.start_target()
        tgt.rpc('bdev_malloc_create', malloc()['params'])
        self.assertRpcError(-19, tgt, 'bdev_delay_create', delay(base='Nope')['params'],
                            'base bdev Nope not found')
        self.assertRpcError(INVALID, tgt, 'bdev_delay_create',
                            delay(lat=(-1, 10, 10, 10))['params'], 'avg_read_latency')
        self.assertRpcError(INVALID, tgt, 'bdev_delay_create',
                            delay(lat=(10, 10, 10, -7))['params'], 'p99_write_latency')
        self.assertRpcError(INVALID, tgt, 'bdev_delay_create',
                            delay(lat=(100, 10, 10, 10))['params'],
                            'p99_read_latency: 10 us is less than avg_read_latency')
        self.assertRpcError(INVALID, tgt, 'bdev_delay_create',
                            delay(lat=(1, 1, 1, 10 ** 12))['params'], 'exceeds the maximum')
        self.assertRpcError(-17, tgt, 'bdev_delay_create', delay(name='Malloc0')['params'],
                            'bdev Malloc0 already exists')
        self.assertEqual(tgt.rpc('bdev_delay_create', delay()['params']), 'Delay0')
        self.assertRpcError(-1, tgt, 'bdev_delay_create', delay(name='Delay1')['params'],
                            'already claimed by module delay')
        self.assertRpcError(INVALID, tgt, 'bdev_delay_update_latency',
                            {'delay_bdev_name': 'Delay0', 'latency_type': 'median',
                             'latency_us': 5}, 'latency_type')
        self.assertRpcError(-19, tgt, 'bdev_delay_update_latency',
                            {'delay_bdev_name': 'Malloc0', 'latency_type': 'avg_read',
                             'latency_us': 5}, 'Malloc0')
        self.assertIs(tgt.rpc('bdev_delay_delete', {'name': 'Delay0'}), True)

    def test_bdevperf_verify(self):
        self.verify([malloc(), delay()], 'Delay0')

    def test_base_hot_remove(self):
        tgt = self.start_target()
        tgt.rpc('bdev_malloc_create', malloc()['params'])
        tgt.rpc('bdev_delay_create', delay()['params'])
        self.assertIs(tgt.rpc('bdev_malloc_delete', {'name': 'Malloc0'}), True)
        self.assertEqual(self.bdevs(tgt), {})

    def test_base_hot_remove_under_load(self):
        bp = BdevperfServer(self, [malloc(), delay(lat=(100, 1000, 100, 1000))], '-q', 32,
                            '-o', 4096, '-w', 'randrw', '-t', 30, '-T', 'Delay0')
        hot_remove_under_load(self, bp, 'Malloc0', 'Delay0')

    def test_save_config_restart(self):
        tgt = self.start_target()
        tgt.rpc('bdev_malloc_create', malloc()['params'])
        tgt.rpc('bdev_delay_create', delay(lat=(1, 2, 3, 4))['params'])
        tgt.rpc('bdev_delay_update_latency', {'delay_bdev_name': 'Delay0',
                                              'latency_type': 'p99_write', 'latency_us': 40})
        tgt2, after = self.config_roundtrip(tgt, ['Malloc0', 'Delay0'])
        self.assertEqual(after['Delay0']['driver_specific']['delay'],
                         {'name': 'Delay0', 'base_bdev_name': 'Malloc0', 'avg_read_latency': 1,
                          'p99_read_latency': 2, 'avg_write_latency': 3,
                          'p99_write_latency': 40})
        self.assertTrue(after['Malloc0']['claimed'])
        self.assertIs(tgt2.rpc('bdev_delay_delete', {'name': 'Delay0'}), True)


if __name__ == '__main__':
    unittest.main()
