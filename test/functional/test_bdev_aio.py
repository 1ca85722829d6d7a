# SPDX-License-Identifier: BSD-3-Clause
"""The aio bdev over RPC on files in /tmp: create through rpc.py, rescan after the file grows,
bad parameters (missing file, block size 1000, duplicate name, nowait on a file), bdevperf
verify (O_DIRECT on /tmp, and on tmpfs), delete, and the save_config / --json round trip."""

import os
import tempfile
import unittest

from bm_helpers import ModuleTestCase

INVALID = -32602
MIB = 1024 * 1024


class FileBdevTestCase(ModuleTestCase):
    """A fresh sparse file per test, removed afterwards."""

    def make_file(self, size_mib=64, directory='/tmp'):
        fd, path = tempfile.mkstemp(prefix='pollux-ft-', suffix='.img', dir=directory)
        os.ftruncate(fd, size_mib * MIB)
        os.close(fd)
        self.addCleanup(os.unlink, path)
        return path


def aio(filename, name='Aio0', **kw):
    return {'method': 'bdev_aio_create', 'params': dict(name=name, filename=filename, **kw)}


class AioTest(FileBdevTestCase):
    def test_cli_create_rescan_delete(self):
        self.require_cli('bdev_aio_create', 'bdev_aio_rescan', 'bdev_aio_delete')
        path = self.make_file(16)
        tgt = self.start_target()
        self.assertEqual(self.cli_ok(tgt, 'bdev_aio_create', path, 'Aio0', 4096, '--fallocate',
                                     '-u', '5e0c1c2a-7d3b-4f6e-9a1b-2c3d4e5f6a7b'), 'Aio0')
        b = self.bdevs(tgt)['Aio0']
        self.assertEqual((b['num_blocks'], b['block_size']), (4096, 4096))
        self.assertEqual(b['uuid'], '5e0c1c2a-7d3b-4f6e-9a1b-2c3d4e5f6a7b')
        self.assertEqual(b['product_name'], 'AIO disk')
        self.assertTrue(b['supported_io_types']['unmap'])
        self.assertEqual(b['driver_specific']['aio']['filename'], path)
        os.truncate(path, 32 * MIB)
        self.assertIs(self.cli_ok(tgt, 'bdev_aio_rescan', 'Aio0'), True)
        self.assertEqual(self.bdevs(tgt)['Aio0']['num_blocks'], 8192)
        self.assertIs(self.cli_ok(tgt, 'bdev_aio_delete', 'Aio0'), True)
        self.assertEqual(self.bdevs(tgt), {})
        self.cli_error(tgt, 'bdev_aio_delete', 'Aio0', code=-19)

    def test_bad_params(self):
        path = self.make_file(4)
        tgt = self.start_target()
        self.assertRpcError(-2, tgt, 'bdev_aio_create', aio('/tmp/pollux-no-such-file')['params'],
                            ['/tmp/pollux-no-such-file', 'No such file'])
        self.assertRpcError(INVALID, tgt, 'bdev_aio_create', aio(path, block_size=1000)['params'],
                            'block_size: 1000 is not a multiple of 512')
        self.assertRpcError(INVALID, tgt, 'bdev_aio_create', aio(path, nowait=True)['params'],
                            'nowait')
        self.assertRpcError(INVALID, tgt, 'bdev_aio_create', aio(path, uuid='xyz')['params'],
                            'uuid')
        self.assertRpcError(INVALID, tgt, 'bdev_aio_create', {'name': 'A'}, 'filename')
        self.assertEqual(tgt.rpc('bdev_aio_create', aio(path)['params']), 'Aio0')
        self.assertRpcError(-17, tgt, 'bdev_aio_create', aio(path)['params'],
                            'bdev Aio0 already exists')
        self.assertRpcError(-19, tgt, 'bdev_aio_rescan', {'name': 'Nope'}, 'Nope')
        self.assertRpcError(-19, tgt, 'bdev_aio_delete', {'name': 'Nope'}, 'Nope')
        self.assertIs(tgt.rpc('bdev_aio_delete', {'name': 'Aio0'}), True)

    def test_bdevperf_verify(self):
        self.verify([aio(self.make_file(64))], 'Aio0')
        self.verify([aio(self.make_file(64), block_size=4096)], 'Aio0')

    def test_bdevperf_verify_tmpfs(self):
        if not os.access('/dev/shm', os.W_OK):
            self.skipTest('no writable tmpfs at /dev/shm')
        self.verify([aio(self.make_file(32, '/dev/shm'))], 'Aio0')

    def test_save_config_restart(self):
        tgt = self.start_target()
        tgt.rpc('bdev_aio_create', aio(self.make_file(8), block_size=4096, fallocate=True)['params'])
        tgt.rpc('bdev_aio_create', aio(self.make_file(8), name='Aio1', readonly=True)['params'])
        tgt2, after = self.config_roundtrip(tgt, ['Aio0', 'Aio1'])
        self.assertTrue(after['Aio0']['supported_io_types']['unmap'])
        self.assertFalse(after['Aio1']['supported_io_types']['write'])


if __name__ == '__main__':
    unittest.main()
