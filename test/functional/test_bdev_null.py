# SPDX-License-Identifier: BSD-3-Clause
"""The null bdev over RPC: create through rpc.py, resize, bad parameters, bdevperf runs,
delete, and the save_config / --json round trip."""

import unittest

from bm_helpers import ModuleTestCase

INVALID = -32602


def null(name='Null0', num_blocks=262144, block_size=4096, **kw):
    return {'method': 'bdev_null_create',
            'params': dict(name=name, num_blocks=num_blocks, block_size=block_size, **kw)}


class NullTest(ModuleTestCase):
    def test_cli_create_resize_delete(self):
        self.require_cli('bdev_null_create', 'bdev_null_resize', 'bdev_null_delete')
        tgt = self.start_target()
        self.assertEqual(self.cli_ok(tgt, 'bdev_null_create', 'Null0', 64, 4096), 'Null0')
        b = self.bdevs(tgt)['Null0']
        self.assertEqual((b['num_blocks'], b['block_size']), (16384, 4096))
        self.assertEqual(b['product_name'], 'Null disk')
        self.assertFalse(b['claimed'])
        self.assertIs(self.cli_ok(tgt, 'bdev_null_resize', 'Null0', 128), True)
        self.assertEqual(self.bdevs(tgt)['Null0']['num_blocks'], 32768)
        err, _ = self.cli_error(tgt, 'bdev_null_resize', 'Null0', 32, code=INVALID)
        self.assertIn('new_size', err['message'])
        err, _ = self.cli_error(tgt, 'bdev_null_create', 'Null1', 0, 512, code=INVALID)
        self.assertIn('num_blocks: must be greater than 0', err['message'])
        self.assertIs(self.cli_ok(tgt, 'bdev_null_delete', 'Null0'), True)
        self.assertNotIn('Null0', self.bdevs(tgt))
        self.cli_error(tgt, 'bdev_null_delete', 'Null0', code=-19)

    def test_bad_params(self):
        tgt = self.start_target()
        self.assertRpcError(INVALID, tgt, 'bdev_null_create',
                            null(num_blocks=0)['params'], 'num_blocks: must be greater than 0')
        self.assertRpcError(INVALID, tgt, 'bdev_null_create',
                            null(block_size=1000)['params'],
                            'block_size: 1000 is not a multiple of 512')
        self.assertRpcError(INVALID, tgt, 'bdev_null_create',
                            null(md_size=8)['params'], 'md_size: metadata is not supported')
        self.assertRpcError(INVALID, tgt, 'bdev_null_create',
                            null(num_blocks=-1)['params'], 'num_blocks')
        self.assertRpcError(INVALID, tgt, 'bdev_null_create', {'block_size': 512,
                                                               'num_blocks': 8}, 'name')
        self.assertEqual(tgt.rpc('bdev_null_create', null()['params']), 'Null0')
        self.assertRpcError(-17, tgt, 'bdev_null_create', null()['params'],
                            'bdev Null0 already exists')
        self.assertRpcError(-19, tgt, 'bdev_null_resize', {'name': 'Nope', 'new_size': 8},
                            'Nope')
        self.assertRpcError(-19, tgt, 'bdev_null_delete', {'name': 'Nope'}, 'Nope')
        self.assertIs(tgt.rpc('bdev_null_delete', {'name': 'Null0'}), True)

    def test_bdevperf(self):
        # No data is kept, so verify does not apply; every other workload runs clean.
        for w in ('randread', 'randwrite', 'unmap', 'flush', 'write_zeroes'):
            with self.subTest(workload=w):
                self.bdevperf([null()], '-q', 32, '-o', 4096, '-w', w, '-t', 1)

    def test_save_config_restart(self):
        tgt = self.start_target()
        tgt.rpc('bdev_null_create', null('Null0', 1024, 512,
                                         uuid='5d6a2c1e-3f4b-4a5c-8d9e-0f1a2b3c4d5e')['params'])
        tgt.rpc('bdev_null_create', null('Null1', 256, 4096)['params'])
        tgt.rpc('bdev_null_resize', {'name': 'Null1', 'new_size': 2})
        tgt2, after = self.config_roundtrip(tgt, ['Null0', 'Null1'])
        self.assertEqual(after['Null0']['uuid'], '5d6a2c1e-3f4b-4a5c-8d9e-0f1a2b3c4d5e')
        self.assertEqual(after['Null1']['num_blocks'], 512)
        self.assertIs(tgt2.rpc('bdev_null_delete', {'name': 'Null1'}), True)


if __name__ == '__main__':
    unittest.main()
