# SPDX-License-Identifier: BSD-3-Clause
"""The split bdev over RPC on a malloc base: create through rpc.py, bad parameters, a split
configured before its base (attached when the base appears), bdevperf verify on a part, base
hot remove, delete, and the save_config / --json round trip."""

import unittest

from bm_helpers import ModuleTestCase

INVALID = -32602


def malloc(name='Malloc0', num_blocks=8192, block_size=4096):
    return {'method': 'bdev_malloc_create',
            'params': {'name': name, 'num_blocks': num_blocks, 'block_size': block_size}}


def split(base='Malloc0', count=4, **kw):
    return {'method': 'bdev_split_create',
            'params': dict(base_bdev=base, split_count=count, **kw)}


class SplitTest(ModuleTestCase):
    def test_cli_create_delete(self):
        self.require_cli('bdev_split_create', 'bdev_split_delete')
        tgt = self.start_target()
        tgt.rpc('bdev_malloc_create', malloc()['params'])
        self.assertEqual(self.cli_ok(tgt, 'bdev_split_create', 'Malloc0', 3, '-s', 8),
                         ['Malloc0p0', 'Malloc0p1', 'Malloc0p2'])
        bdevs = self.bdevs(tgt)
        self.assertTrue(bdevs['Malloc0']['claimed'])
        self.assertEqual(bdevs['Malloc0p2']['num_blocks'], 2048)
        self.assertEqual(bdevs['Malloc0p2']['driver_specific']['split'],
                         {'base_bdev': 'Malloc0', 'offset_blocks': 4096})
        self.assertIs(self.cli_ok(tgt, 'bdev_split_delete', 'Malloc0'), True)
        self.assertEqual(list(self.bdevs(tgt)), ['Malloc0'])
        self.cli_error(tgt, 'bdev_split_delete', 'Malloc0', code=-19)

    def test_bad_params(self):
        tgt = self.start_target()
        tgt.rpc('bdev_malloc_create', malloc()['params'])
        self.assertRpcError(INVALID, tgt, 'bdev_split_create', {'base_bdev': 'Malloc0'},
                            'split_count')
        self.assertRpcError(INVALID, tgt, 'bdev_split_create', split(count=0)['params'],
                            'split_count: must be greater than 0')
        self.assertRpcError(INVALID, tgt, 'bdev_split_create',
                            split(count=4, split_size_mb=16)['params'], 'split_size_mb')
        self.assertEqual(tgt.rpc('bdev_split_create', split(count=2)['params']),
                         ['Malloc0p0', 'Malloc0p1'])
        self.assertRpcError(-17, tgt, 'bdev_split_create', split(count=2)['params'], 'already')
        self.assertRpcError(-19, tgt, 'bdev_split_delete', {'base_bdev': 'Nope'}, 'Nope')
        self.assertIs(tgt.rpc('bdev_split_delete', {'base_bdev': 'Malloc0'}), True)

    def test_configured_before_base(self):
        tgt = self.start_target()
        self.assertEqual(tgt.rpc('bdev_split_create', split(count=2)['params']), [])
        self.assertEqual(self.bdevs(tgt), {})
        tgt.rpc('bdev_malloc_create', malloc()['params'])
        tgt.rpc('bdev_wait_for_examine')
        self.assertEqual(sorted(self.bdevs(tgt)), ['Malloc0', 'Malloc0p0', 'Malloc0p1'])

    def test_bdevperf_verify(self):
        self.verify([malloc(), split()], 'Malloc0p2')

    def test_base_hot_remove(self):
        tgt = self.start_target()
        tgt.rpc('bdev_malloc_create', malloc()['params'])
        tgt.rpc('bdev_split_create', split()['params'])
        self.assertIs(tgt.rpc('bdev_malloc_delete', {'name': 'Malloc0'}), True)
        self.assertEqual(self.bdevs(tgt), {})
        # The configuration stays: a new base of that name is split again.
        tgt.rpc('bdev_malloc_create', malloc()['params'])
        tgt.rpc('bdev_wait_for_examine')
        self.assertEqual(len(self.bdevs(tgt)), 5)

    def test_save_config_restart(self):
        tgt = self.start_target()
        tgt.rpc('bdev_malloc_create', malloc()['params'])
        tgt.rpc('bdev_split_create', split(count=2, split_size_mb=4)['params'])
        tgt.rpc('bdev_passthru_create', {'name': 'PT0', 'base_bdev_name': 'Malloc0p1'})
        tgt2, after = self.config_roundtrip(tgt, ['Malloc0', 'Malloc0p0', 'Malloc0p1', 'PT0'])
        self.assertEqual(after['Malloc0p1']['num_blocks'], 1024)
        self.assertTrue(after['Malloc0p1']['claimed'])


if __name__ == '__main__':
    unittest.main()
