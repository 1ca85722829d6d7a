# SPDX-License-Identifier: BSD-3-Clause
"""scripts/rpc.py's own logic (argument mapping, stream decoding, error printing,
save_config/load_config ordering) against a tiny fake server. Needs no pollux_tgt."""

import json
import os
import subprocess
import sys
import tempfile
import unittest

from fake_rpc_server import RUNTIME, STARTUP, FakeServer, RpcError
from pollux_test import RPC_PY, JSONRPCClient, JSONRPCException

BOTH = STARTUP | RUNTIME


def cli(server, *args, input=None):
    return subprocess.run([sys.executable, RPC_PY, '-s', server.path, '-t', '20'] + list(args),
                          input=input, capture_output=True, text=True, timeout=60)


def echo(params):
    return params if params is not None else True


class ClientTest(unittest.TestCase):
    def server(self, **kw):
        s = FakeServer(**kw)
        self.addCleanup(s.close)
        return s

    def test_call_returns_result(self):
        s = self.server(handlers={'echo': (BOTH, echo)})
        with JSONRPCClient(s.path, timeout=20) as c:
            self.assertEqual(c.call('echo', {'a': [1, 2]}), {'a': [1, 2]})
            self.assertEqual(c.call('echo'), True)
        self.assertEqual(s.calls, [('echo', {'a': [1, 2]}), ('echo', None)])

    def test_response_split_into_single_bytes(self):
        s = self.server(handlers={'echo': (BOTH, echo)}, chunk=1)
        with JSONRPCClient(s.path, timeout=20) as c:
            self.assertEqual(c.call('echo', {'s': 'caf\u00e9 \u2603'}), {'s': 'caf\u00e9 \u2603'})

    def test_unmatched_value_before_response_is_skipped(self):
        note = json.dumps({'jsonrpc': '2.0', 'method': 'note', 'params': {}}).encode()
        s = self.server(handlers={'echo': (BOTH, echo)}, extra_before_response=note + b'\n')
        with JSONRPCClient(s.path, timeout=20) as c:
            self.assertEqual(c.call('echo', {'x': 1}), {'x': 1})

    def test_error_response_raises_with_code(self):
        def bad(params):
            raise RpcError(-32602, "level: 'FOO' is not one of ERROR")
        s = self.server(handlers={'bad': (BOTH, bad)})
        with JSONRPCClient(s.path, timeout=20) as c:
            with self.assertRaises(JSONRPCException) as cm:
                c.call('bad', {'level': 'FOO'})
        self.assertEqual(cm.exception.code, -32602)
        self.assertIn('FOO', cm.exception.message)

    def test_connect_failure_names_socket(self):
        path = os.path.join(tempfile.gettempdir(), 'pollux-no-such-dir', 'rpc.sock')
        with self.assertRaises(JSONRPCException) as cm:
            JSONRPCClient(path, timeout=0.3)
        self.assertIn(path, cm.exception.message)
        cp = subprocess.run([sys.executable, RPC_PY, '-s', path, '-t', '0.3', 'spdk_get_version'],
                            capture_output=True, text=True, timeout=60)
        self.assertEqual(cp.returncode, 1)
        self.assertIn(path, cp.stderr)


class CliTest(unittest.TestCase):
    def setUp(self):
        self.s = FakeServer(handlers={m: (BOTH, echo) for m in (
            'log_set_level', 'log_enable_timestamps', 'framework_set_scheduler',
            'framework_get_config', 'spdk_kill_instance')})
        self.addCleanup(self.s.close)

    def test_result_printed_as_indented_json(self):
        cp = cli(self.s, 'log_set_level', 'INFO')
        self.assertEqual(cp.returncode, 0, cp.stderr)
        self.assertEqual(cp.stdout, json.dumps({'level': 'INFO'}, indent=2) + '\n')

    def test_argument_mapping(self):
        cases = [
            (['log_enable_timestamps'], ('log_enable_timestamps', {'enabled': True})),
            (['log_enable_timestamps', '--disable'], ('log_enable_timestamps', {'enabled': False})),
            (['log_enable_timestamps', '-e'], ('log_enable_timestamps', {'enabled': True})),
            (['framework_set_scheduler', 'static', '-p', '5000', '--load-limit', '10',
              '--core-limit', '70', '--core-busy', '90', '--mappings', '1:0'],
             ('framework_set_scheduler', {'name': 'static', 'period': 5000, 'load_limit': 10,
                                          'core_limit': 70, 'core_busy': 90, 'mappings': '1:0'})),
            (['framework_set_scheduler', 'static'], ('framework_set_scheduler', {'name': 'static'})),
            (['framework_get_config', 'scheduler'], ('framework_get_config', {'name': 'scheduler'})),
            (['spdk_kill_instance', 'SIGTERM'], ('spdk_kill_instance', {'sig_name': 'SIGTERM'})),
            (['rpc_get_methods', '--current'], ('rpc_get_methods', {'current': True})),
        ]
        for args, call in cases:
            with self.subTest(args=args):
                del self.s.calls[:]
                cp = cli(self.s, *args)
                self.assertEqual(cp.returncode, 0, cp.stderr)
                self.assertEqual(self.s.calls, [call])

    def test_error_printed_like_spdk(self):
        # An unknown sub-command is an argparse error (exit 2), not an RPC.
        cp = cli(self.s, 'no_such_method_here')
        self.assertEqual(cp.returncode, 2)
        # A server error: the request, the marker line and the error object, exit 1.
        self.s.handlers['log_set_level'] = (BOTH, self._reject)
        cp = cli(self.s, 'log_set_level', 'FOO')
        self.assertEqual(cp.returncode, 1)
        self.assertEqual(cp.stdout, '')
        self.assertTrue(cp.stderr.startswith('request:\n'), cp.stderr)
        req = json.loads(cp.stderr.split('request:\n', 1)[1].split('Got JSON-RPC')[0])
        self.assertEqual(req['method'], 'log_set_level')
        self.assertEqual(req['level'], 'FOO')
        self.assertIn('\nGot JSON-RPC error response\nresponse:\n', cp.stderr)
        err = json.loads(cp.stderr.split('response:\n', 1)[1])
        self.assertEqual(err, {'code': -32602, 'message': "level: 'FOO' is bad"})

    @staticmethod
    def _reject(params):
        raise RpcError(-32602, "level: '%s' is bad" % params['level'])

    def test_verbose_prints_request_and_response(self):
        cp = cli(self.s, '-v', 'log_set_level', 'INFO')
        self.assertEqual(cp.returncode, 0, cp.stderr)
        self.assertIn('request:', cp.stderr)
        self.assertIn('"method": "log_set_level"', cp.stderr)
        self.assertIn('response:', cp.stderr)


def config_server(wait_for_rpc):
    """A server with a startup-only, a both-state and a runtime-only method, and two subsystems."""
    handlers = {
        'startup_set': (STARTUP, echo),
        'any_set': (BOTH, echo),
        'runtime_add': (RUNTIME, echo),
        'framework_get_subsystems': (RUNTIME, lambda p: [
            {'subsystem': 'first', 'depends_on': []},
            {'subsystem': 'second', 'depends_on': ['first']}]),
        'framework_get_config': (RUNTIME, lambda p: {
            'first': [{'method': 'startup_set', 'params': {'a': 1}}],
            'second': [{'method': 'runtime_add', 'params': {'b': 2}},
                       {'method': 'any_set', 'params': {'c': 3}}]}[p['name']]),
    }
    return FakeServer(handlers=handlers, wait_for_rpc=wait_for_rpc)


CONFIG = {'subsystems': [
    {'subsystem': 'first', 'config': [{'method': 'startup_set', 'params': {'a': 1}}]},
    {'subsystem': 'empty', 'config': []},
    {'subsystem': 'nulled', 'config': None},
    {'subsystem': 'second', 'config': [{'method': 'runtime_add', 'params': {'b': 2}},
                                       {'method': 'any_set', 'params': {'c': 3}}]},
]}


class ConfigTest(unittest.TestCase):
    def server(self, wait_for_rpc):
        s = config_server(wait_for_rpc)
        self.addCleanup(s.close)
        return s

    def applied(self, s):
        return [(m, p) for m, p in s.calls if m != 'rpc_get_methods']

    def test_save_config(self):
        s = self.server(False)
        cp = cli(s, 'save_config')
        self.assertEqual(cp.returncode, 0, cp.stderr)
        self.assertEqual(json.loads(cp.stdout), {'subsystems': [
            {'subsystem': 'first', 'config': [{'method': 'startup_set', 'params': {'a': 1}}]},
            {'subsystem': 'second', 'config': [{'method': 'runtime_add', 'params': {'b': 2}},
                                               {'method': 'any_set', 'params': {'c': 3}}]}]})
        self.assertTrue(cp.stdout.startswith('{\n  "subsystems": [\n'))

    def test_load_config_startup_then_init_then_runtime(self):
        s = self.server(True)
        cp = cli(s, 'load_config', input=json.dumps(CONFIG))
        self.assertEqual(cp.returncode, 0, cp.stderr)
        self.assertEqual(self.applied(s), [
            ('startup_set', {'a': 1}), ('any_set', {'c': 3}),
            ('framework_start_init', None), ('framework_wait_init', None),
            ('runtime_add', {'b': 2})])

    def test_load_config_at_runtime_from_file(self):
        s = self.server(False)
        cfg = {'subsystems': [CONFIG['subsystems'][3]]}
        with tempfile.NamedTemporaryFile('w', suffix='.json') as f:
            json.dump(cfg, f)
            f.flush()
            cp = cli(s, 'load_config', '-j', f.name)
        self.assertEqual(cp.returncode, 0, cp.stderr)
        self.assertEqual(self.applied(s), [('runtime_add', {'b': 2}), ('any_set', {'c': 3})])

    def test_load_config_startup_only_entry_at_runtime_is_reported(self):
        s = self.server(False)
        cp = cli(s, 'load_config', input=json.dumps({'subsystems': [CONFIG['subsystems'][0]]}))
        self.assertEqual(cp.returncode, 0, cp.stderr)
        self.assertIn("'first'", cp.stderr)
        self.assertIn("'startup_set'", cp.stderr)
        self.assertEqual(self.applied(s), [])

    def test_load_config_empty_starts_init(self):
        s = self.server(True)
        cp = cli(s, 'load_config', input='{"subsystems": []}')
        self.assertEqual(cp.returncode, 0, cp.stderr)
        self.assertEqual(self.applied(s), [('framework_start_init', None),
                                           ('framework_wait_init', None)])

    def test_load_config_unknown_method_applies_nothing(self):
        s = self.server(True)
        cfg = json.loads(json.dumps(CONFIG))
        cfg['subsystems'][3]['config'].append({'method': 'bogus_method', 'params': {}})
        cp = cli(s, 'load_config', input=json.dumps(cfg))
        self.assertEqual(cp.returncode, 1)
        self.assertIn("'bogus_method'", cp.stderr)
        self.assertIn("'second'", cp.stderr)
        self.assertEqual(self.applied(s), [])

    def test_load_config_failed_entry_names_subsystem_and_method(self):
        s = self.server(True)

        def fail(params):
            raise RpcError(-22, 'Invalid argument')
        s.handlers['any_set'] = (BOTH, fail)
        cp = cli(s, 'load_config', input=json.dumps(CONFIG))
        self.assertEqual(cp.returncode, 1)
        self.assertIn("subsystem 'second', method 'any_set'", cp.stderr)
        self.assertIn('Invalid argument', cp.stderr)

    def test_load_config_bad_input(self):
        s = self.server(True)
        for text in ('{not json', '[]', '{"subsystems": [{"config": []}]}',
                     '{"subsystems": [{"subsystem": "x", "config": [{"params": {}}]}]}'):
            with self.subTest(text=text):
                cp = cli(s, 'load_config', input=text)
                self.assertEqual(cp.returncode, 1)
                self.assertIn('load_config', cp.stderr)
        self.assertEqual(self.applied(s), [])


if __name__ == '__main__':
    unittest.main()
