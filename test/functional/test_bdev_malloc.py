# SPDX-License-Identifier: BSD-3-Clause
"""The malloc bdev over RPC: create through rpc.py (named and default names), bad parameters,
bdevperf verify, delete, and the save_config / --json round trip."""

import unittest

from bm_helpers import ModuleTestCase

INVALID = -32602


def malloc(name='Malloc0', num_blocks=8192, block_size=4096, **kw):
    params = dict(num_blocks=num_blocks, block_size=block_size, **kw)
    if name is not None:
        params['name'] = name
    return {'method': 'bdev_malloc_create', 'params': params}


class MallocTest(ModuleTestCase):
    def test_cli_create_delete(self):
        self.require_cli('bdev_malloc_create', 'bdev_malloc_delete')
        tgt = self.start_target()
        self.assertEqual(self.cli_ok(tgt, 'bdev_malloc_create', '-b', 'Malloc7', 32, 512,
                                     '-o', 16, '-u', 'a0b1c2d3-e4f5-4a6b-8c7d-9e0f1a2b3c4d'),
                         'Malloc7')
        b = self.bdevs(tgt)['Malloc7']
        self.assertEqual((b['num_blocks'], b['block_size'], b['optimal_io_boundary']),
                         (65536, 512, 16))
        self.assertEqual(b['uuid'], 'a0b1c2d3-e4f5-4a6b-8c7d-9e0f1a2b3c4d')
        self.assertEqual(b['product_name'], 'Malloc disk')
        self.assertTrue(b['supported_io_types']['compare'])
        default = self.cli_ok(tgt, 'bdev_malloc_create', 1, 4096)
        self.assertRegex(default, r'^Malloc\d+$')
        self.assertEqual(self.bdevs(tgt)[default]['num_blocks'], 256)
        err, _ = self.cli_error(tgt, 'bdev_malloc_create', '-b', 'M', 1, 1000, code=INVALID)
        self.assertIn('block_size: 1000 is not a multiple of 512', err['message'])
        self.assertIs(self.cli_ok(tgt, 'bdev_malloc_delete', 'Malloc7'), True)
        self.assertIs(self.cli_ok(tgt, 'bdev_malloc_delete', default), True)
        self.assertEqual(self.bdevs(tgt), {})
        self.cli_error(tgt, 'bdev_malloc_delete', 'Malloc7', code=-19)

    def test_bad_params(self):
        tgt = self.start_target()
        self.assertRpcError(INVALID, tgt, 'bdev_malloc_create', malloc(num_blocks=0)['params'],
                            'num_blocks: must be greater than 0')
        self.assertRpcError(INVALID, tgt, 'bdev_malloc_create',
                            malloc(block_size=1000)['params'],
                            'block_size: 1000 is not a multiple of 512')
        self.assertRpcError(INVALID, tgt, 'bdev_malloc_create', malloc(md_size=8)['params'],
                            'md_size')
        self.assertRpcError(INVALID, tgt, 'bdev_malloc_create', malloc(dif_type=1)['params'],
                            'dif_type')
        self.assertRpcError(INVALID, tgt, 'bdev_malloc_create', malloc(uuid='xyz')['params'],
                            'uuid')
        self.assertEqual(tgt.rpc('bdev_malloc_create', malloc()['params']), 'Malloc0')
        self.assertRpcError(-17, tgt, 'bdev_malloc_create', malloc()['params'],
                            'bdev Malloc0 already exists')
        self.assertRpcError(-19, tgt, 'bdev_malloc_delete', {'name': 'Nope'}, 'Nope')
        self.assertIs(tgt.rpc('bdev_malloc_delete', {'name': 'Malloc0'}), True)

    def test_bdevperf_verify(self):
        self.verify([malloc()], 'Malloc0')
        # Split at an optimal boundary smaller than the I/O.
        self.bdevperf([malloc(optimal_io_boundary=2, block_size=512, num_blocks=65536)],
                      '-q', 16, '-o', 8192, '-w', 'verify', '-t', 1)

    def test_bdevperf_workloads(self):
        for w in ('randread', 'randwrite', 'unmap', 'write_zeroes', 'flush', 'reset'):
            with self.subTest(workload=w):
                self.bdevperf([malloc()], '-q', 32, '-o', 4096, '-w', w, '-t', 1)

    def test_save_config_restart(self):
        tgt = self.start_target()
        tgt.rpc('bdev_malloc_create', malloc('Malloc0', 2048, 512, optimal_io_boundary=8)['params'])
        name = tgt.rpc('bdev_malloc_create', malloc(None, 64, 4096)['params'])
        tgt2, after = self.config_roundtrip(tgt, ['Malloc0', name])
        self.assertEqual(after['Malloc0']['optimal_io_boundary'], 8)
        self.assertIs(tgt2.rpc('bdev_malloc_delete', {'name': 'Malloc0'}), True)


if __name__ == '__main__':
    unittest.main()
