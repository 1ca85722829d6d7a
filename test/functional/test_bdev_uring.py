# SPDX-License-Identifier: BSD-3-Clause
"""The uring bdev over RPC on files in /tmp: create through rpc.py, rescan after the file
grows, bad parameters (missing file, block size 1000, duplicate name), bdevperf verify, delete,
and the save_config / --json round trip."""

import os
import unittest

from test_bdev_aio import FileBdevTestCase, INVALID, MIB


def uring(filename, name='Uring0', **kw):
    return {'method': 'bdev_uring_create', 'params': dict(name=name, filename=filename, **kw)}


class UringTest(FileBdevTestCase):
    def test_cli_create_rescan_delete(self):
        self.require_cli('bdev_uring_create', 'bdev_uring_rescan', 'bdev_uring_delete')
        path = self.make_file(16)
        tgt = self.start_target()
        self.assertEqual(self.cli_ok(tgt, 'bdev_uring_create', path, 'Uring0', 4096,
                                     '-u', '6f1d2e3a-8c4b-4a5d-9e6f-7a8b9c0d1e2f'), 'Uring0')
        b = self.bdevs(tgt)['Uring0']
        self.assertEqual((b['num_blocks'], b['block_size']), (4096, 4096))
        self.assertEqual(b['uuid'], '6f1d2e3a-8c4b-4a5d-9e6f-7a8b9c0d1e2f')
        self.assertEqual(b['product_name'], 'URING disk')
        self.assertEqual(b['driver_specific']['uring']['filename'], path)
        os.truncate(path, 32 * MIB)
        self.assertIs(self.cli_ok(tgt, 'bdev_uring_rescan', 'Uring0'), True)
        self.assertEqual(self.bdevs(tgt)['Uring0']['num_blocks'], 8192)
        self.assertIs(self.cli_ok(tgt, 'bdev_uring_delete', 'Uring0'), True)
        self.assertEqual(self.bdevs(tgt), {})
        self.cli_error(tgt, 'bdev_uring_delete', 'Uring0', code=-19)

    def test_bad_params(self):
        path = self.make_file(4)
        tgt = self.start_target()
        self.assertRpcError(-2, tgt, 'bdev_uring_create',
                            uring('/tmp/pollux-no-such-file')['params'],
                            ['/tmp/pollux-no-such-file', 'No such file'])
        self.assertRpcError(INVALID, tgt, 'bdev_uring_create',
                            uring(path, block_size=1000)['params'],
                            'block_size: 1000 is not a multiple of 512')
        self.assertRpcError(INVALID, tgt, 'bdev_uring_create', uring(path, readonly=True)['params'],
                            'readonly')
        self.assertEqual(tgt.rpc('bdev_uring_create', uring(path)['params']), 'Uring0')
        self.assertRpcError(-17, tgt, 'bdev_uring_create', uring(path)['params'],
                            'bdev Uring0 already exists')
        self.assertRpcError(-19, tgt, 'bdev_uring_rescan', {'name': 'Nope'}, 'Nope')
        self.assertRpcError(-19, tgt, 'bdev_uring_delete', {'name': 'Nope'}, 'Nope')
        self.assertIs(tgt.rpc('bdev_uring_delete', {'name': 'Uring0'}), True)

    def test_bdevperf_verify(self):
        self.verify([uring(self.make_file(64))], 'Uring0')
        self.verify([uring(self.make_file(64), block_size=4096)], 'Uring0')

    def test_bdevperf_verify_tmpfs(self):
        if not os.access('/dev/shm', os.W_OK):
            self.skipTest('no writable tmpfs at /dev/shm')
        self.verify([uring(self.make_file(32, '/dev/shm'))], 'Uring0')

    def test_save_config_restart(self):
        tgt = self.start_target()
        tgt.rpc('bdev_uring_create', uring(self.make_file(8), block_size=4096)['params'])
        tgt.rpc('bdev_uring_create', uring(self.make_file(8), name='Uring1')['params'])
        self.config_roundtrip(tgt, ['Uring0', 'Uring1'])


if __name__ == '__main__':
    unittest.main()
