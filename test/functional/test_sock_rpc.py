# SPDX-License-Identifier: BSD-3-Clause
"""The sock_* RPCs: options get/set (before framework_start_init, as SPDK), the default
implementation, unknown names, the "sock" entries of save_config and their restore by --json."""

import json
import unittest

from pollux_test import TargetTestCase

INVALID = -32602
NOT_FOUND = -32601
OPTION_NAMES = ('impl_name', 'recv_buf_size', 'send_buf_size', 'enable_recv_pipe',
                'enable_quickack', 'enable_placement_id', 'enable_zerocopy_send_server',
                'enable_zerocopy_send_client', 'zerocopy_threshold', 'tls_version',
                'enable_ktls')


def sock_config(config):
    """The config array of the "sock" subsystem in a save_config result."""
    for s in config['subsystems']:
        if s['subsystem'] == 'sock':
            return s['config']
    raise AssertionError('no sock subsystem in %s' % json.dumps(config))


class SockRpcTest(TargetTestCase):
    def impls(self, tgt):
        """Implementations the target has: posix always, uring where io_uring works."""
        names = ['posix']
        try:
            tgt.rpc('sock_impl_get_options', {'impl_name': 'uring'})
            names.append('uring')
        except Exception:  # noqa: BLE001 - absent where io_uring is unavailable
            pass
        return names

    def test_get_options_shape(self):
        tgt = self.start_target()
        opts = self.cli_ok(tgt, 'sock_impl_get_options', '-i', 'posix')
        self.assertEqual(sorted(opts), sorted(OPTION_NAMES))
        self.assertEqual(opts['impl_name'], 'posix')
        self.assertEqual(self.cli_ok(tgt, 'sock_get_default_impl'), {'impl_name': 'posix'})
        # Setting options and the default is for start-up only, as in SPDK.
        self.cli_error(tgt, 'sock_impl_set_options', '-i', 'posix', '-r', '4096',
                       code=NOT_FOUND)
        self.cli_error(tgt, 'sock_set_default_impl', '-i', 'posix', code=NOT_FOUND)

    def test_set_options_roundtrip_at_startup(self):
        tgt = self.start_target('--wait-for-rpc')
        impls = self.impls(tgt)
        self.assertIs(self.cli_ok(tgt, 'sock_impl_set_options', '-i', 'posix', '-r', '131072',
                                  '-s', '262144', '-p', '1', '--enable-quickack',
                                  '--enable-zerocopy-send-server', '--zerocopy-threshold',
                                  '4096', '--tls-version', '13', '--enable-ktls',
                                  '--enable-recv-pipe'), True)
        want = {'impl_name': 'posix', 'recv_buf_size': 131072, 'send_buf_size': 262144,
                'enable_recv_pipe': True, 'enable_quickack': True, 'enable_placement_id': 1,
                'enable_zerocopy_send_server': True, 'enable_zerocopy_send_client': False,
                'zerocopy_threshold': 4096, 'tls_version': 13, 'enable_ktls': True}
        self.assertEqual(self.cli_ok(tgt, 'sock_impl_get_options', '-i', 'posix'), want)
        # Options not given keep their values; --disable-* clears.
        self.assertIs(self.cli_ok(tgt, 'sock_impl_set_options', '-i', 'posix',
                                  '--disable-quickack', '--disable-ktls'), True)
        want.update(enable_quickack=False, enable_ktls=False)
        self.assertEqual(tgt.rpc('sock_impl_get_options', {'impl_name': 'posix'}), want)
        if 'uring' in impls:
            tgt.rpc('sock_impl_set_options', {'impl_name': 'uring', 'send_buf_size': 65536})
            self.assertEqual(tgt.rpc('sock_impl_get_options',
                                     {'impl_name': 'uring'})['send_buf_size'], 65536)
            self.assertIs(self.cli_ok(tgt, 'sock_set_default_impl', '-i', 'uring'), True)
            self.assertEqual(self.cli_ok(tgt, 'sock_get_default_impl'),
                             {'impl_name': 'uring'})
        self.assertIs(self.cli_ok(tgt, 'framework_start_init'), True)
        self.assertEqual(tgt.rpc('sock_impl_get_options', {'impl_name': 'posix'}), want)
        self.assertEqual(tgt.rpc('sock_get_default_impl'),
                         {'impl_name': 'uring' if 'uring' in impls else 'posix'})

    def test_errors(self):
        tgt = self.start_target('--wait-for-rpc')
        for method in ('sock_impl_get_options', 'sock_impl_set_options',
                       'sock_set_default_impl'):
            with self.subTest(method=method):
                self.assertRpcError(INVALID, tgt, method, {'impl_name': 'ssl'},
                                    ('impl_name', 'ssl'))
                self.assertRpcError(INVALID, tgt, method, {}, 'impl_name')
        err, _ = self.cli_error(tgt, 'sock_impl_get_options', '-i', 'nope', code=INVALID)
        self.assertIn("'nope'", err['message'])
        self.assertRpcError(INVALID, tgt, 'sock_impl_set_options',
                            {'impl_name': 'posix', 'recv_buf_size': -1}, 'recv_buf_size')
        self.assertRpcError(INVALID, tgt, 'sock_impl_set_options',
                            {'impl_name': 'posix', 'enable_quickack': 1}, 'enable_quickack')
        self.assertRpcError(INVALID, tgt, 'sock_impl_set_options',
                            {'impl_name': 'posix', 'bogus': 1}, 'bogus')
        self.assertRpcError(INVALID, tgt, 'sock_get_default_impl', {'impl_name': 'posix'})
        # A failed set changed nothing.
        self.assertEqual(tgt.rpc('sock_get_default_impl'), {'impl_name': 'posix'})

    def test_save_config_and_restore(self):
        tgt = self.start_target('--wait-for-rpc')
        impls = self.impls(tgt)
        tgt.rpc('sock_impl_set_options', {'impl_name': 'posix', 'recv_buf_size': 65536,
                                          'enable_zerocopy_send_client': True,
                                          'zerocopy_threshold': 1024})
        default = 'uring' if 'uring' in impls else 'posix'
        tgt.rpc('sock_set_default_impl', {'impl_name': default})
        self.assertIs(tgt.rpc('framework_start_init'), True)
        config = self.cli_ok(tgt, 'save_config')
        entries = sock_config(config)
        self.assertEqual(entries[0], {'method': 'sock_set_default_impl',
                                      'params': {'impl_name': default}})
        self.assertEqual([e['method'] for e in entries[1:]],
                         ['sock_impl_set_options'] * len(impls))
        self.assertEqual([e['params']['impl_name'] for e in entries[1:]], impls)
        for e in entries[1:]:
            self.assertEqual(sorted(e['params']), sorted(OPTION_NAMES))
            self.assertEqual(e['params'],
                             tgt.rpc('sock_impl_get_options',
                                     {'impl_name': e['params']['impl_name']}))
        posix = entries[1]['params']
        self.assertEqual((posix['recv_buf_size'], posix['enable_zerocopy_send_client'],
                          posix['zerocopy_threshold']), (65536, True, 1024))

        path = tgt.write_file('saved.json', json.dumps(config))
        tgt2 = self.start_target('--json', path)
        self.assertEqual(tgt2.rpc('sock_get_default_impl'), {'impl_name': default})
        for e in entries[1:]:
            self.assertEqual(tgt2.rpc('sock_impl_get_options',
                                      {'impl_name': e['params']['impl_name']}), e['params'])
        self.assertEqual(sock_config(self.cli_ok(tgt2, 'save_config')), entries)


if __name__ == '__main__':
    unittest.main()
