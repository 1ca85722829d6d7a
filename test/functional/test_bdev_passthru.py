# SPDX-License-Identifier: BSD-3-Clause
"""The passthru bdev over RPC on a malloc base: create through rpc.py, bad parameters (missing
or claimed base, duplicate name, bad uuid), bdevperf verify through it, base hot remove (also
under load), delete, and the save_config / --json round trip."""

import unittest

from bm_helpers import BdevperfServer, ModuleTestCase, hot_remove_under_load

INVALID = -32602


def malloc(name='Malloc0', num_blocks=8192, block_size=4096):
    return {'method': 'bdev_malloc_create',
            'params': {'name': name, 'num_blocks': num_blocks, 'block_size': block_size}}


def passthru(name='PT0', base='Malloc0', **kw):
    return {'method': 'bdev_passthru_create',
            'params': dict(name=name, base_bdev_name=base, **kw)}


class PassthruTest(ModuleTestCase):
    def test_cli_create_delete(self):
        self.require_cli('bdev_passthru_create', 'bdev_passthru_delete')
        tgt = self.start_target()
        tgt.rpc('bdev_malloc_create', malloc()['params'])
        self.assertEqual(self.cli_ok(tgt, 'bdev_passthru_create', '-b', 'Malloc0', '-p', 'PT0'),
                         'PT0')
        bdevs = self.bdevs(tgt)
        self.assertTrue(bdevs['Malloc0']['claimed'])
        self.assertEqual(bdevs['PT0']['driver_specific']['passthru'],
                         {'name': 'PT0', 'base_bdev_name': 'Malloc0'})
        self.assertEqual((bdevs['PT0']['num_blocks'], bdevs['PT0']['block_size']), (8192, 4096))
        self.assertIs(self.cli_ok(tgt, 'bdev_passthru_delete', 'PT0'), True)
        self.assertFalse(self.bdevs(tgt)['Malloc0']['claimed'])
        self.cli_error(tgt, 'bdev_passthru_delete', 'PT0', code=-19)

    def test_bad_params(self):
        tgt = self.start_target()
        self.assertRpcError(-19, tgt, 'bdev_passthru_create', passthru()['params'],
                            'base bdev Malloc0 not found')
        tgt.rpc('bdev_malloc_create', malloc()['params'])
        self.assertRpcError(INVALID, tgt, 'bdev_passthru_create', {'name': 'PT0'},
                            'base_bdev_name')
        self.assertRpcError(INVALID, tgt, 'bdev_passthru_create',
                            passthru(uuid='nope')['params'], 'uuid')
        self.assertRpcError(-17, tgt, 'bdev_passthru_create', passthru(name='Malloc0')['params'],
                            'bdev Malloc0 already exists')
        self.assertEqual(tgt.rpc('bdev_passthru_create', passthru()['params']), 'PT0')
        self.assertRpcError(-17, tgt, 'bdev_passthru_create', passthru()['params'],
                            'bdev PT0 already exists')
        self.assertRpcError(-1, tgt, 'bdev_passthru_create', passthru(name='PT1')['params'],
                            'claimed')
        self.assertRpcError(-19, tgt, 'bdev_passthru_delete', {'name': 'Nope'}, 'Nope')
        self.assertIs(tgt.rpc('bdev_passthru_delete', {'name': 'PT0'}), True)

    def test_bdevperf_verify(self):
        self.verify([malloc(), passthru()], 'PT0')

    def test_base_hot_remove(self):
        tgt = self.start_target()
        tgt.rpc('bdev_malloc_create', malloc()['params'])
        tgt.rpc('bdev_passthru_create', passthru()['params'])
        self.assertIs(tgt.rpc('bdev_malloc_delete', {'name': 'Malloc0'}), True)
        self.assertEqual(self.bdevs(tgt), {})

    def test_base_hot_remove_under_load(self):
        bp = BdevperfServer(self, [malloc(), passthru()], '-q', 32, '-o', 4096, '-w', 'randrw',
                            '-t', 30, '-T', 'PT0')
        hot_remove_under_load(self, bp, 'Malloc0', 'PT0')

    def test_save_config_restart(self):
        tgt = self.start_target()
        tgt.rpc('bdev_malloc_create', malloc()['params'])
        tgt.rpc('bdev_passthru_create', passthru()['params'])
        tgt.rpc('bdev_passthru_create', passthru(name='PT1', base='PT0')['params'])
        tgt2, after = self.config_roundtrip(tgt, ['Malloc0', 'PT0', 'PT1'])
        self.assertTrue(after['PT0']['claimed'])
        self.assertIs(tgt2.rpc('bdev_passthru_delete', {'name': 'PT1'}), True)


if __name__ == '__main__':
    unittest.main()
