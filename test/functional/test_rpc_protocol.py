# SPDX-License-Identifier: BSD-3-Clause
"""The JSON-RPC server of pollux_tgt under bad and hostile input: parse errors, invalid
requests, wrong parameters, oversized requests, many clients, stalled clients."""

import json
import socket
import threading
import unittest

from pollux_test import JSONRPCClient, JSONRPCException, RawStream, SharedTargetTestCase

MAX_REQUEST = 32 * 1024 * 1024
VERSION = {'version': 'Pollux v0.1.0', 'fields': {'major': 0, 'minor': 1, 'patch': 0, 'suffix': ''}}


def request(method, params=None, req_id=1):
    req = {'jsonrpc': '2.0', 'method': method, 'id': req_id}
    if params is not None:
        req['params'] = params
    return json.dumps(req).encode()


class ProtocolTest(SharedTargetTestCase):
    def tearDown(self):
        # Whatever a test threw at it, the server must still answer a well-behaved client.
        self.assertEqual(self.tgt.rpc('spdk_get_version', timeout=60), VERSION)

    def raw(self, timeout=60):
        s = self.tgt.raw_connect(timeout)
        self.addCleanup(s.close)
        return s, RawStream(s)

    def raw_exchange(self, data):
        s, stream = self.raw()
        s.sendall(data)
        return s, stream, stream.read_value()

    def assertErrorResponse(self, resp, code, req_id='any'):
        self.assertIsInstance(resp, dict, resp)
        self.assertEqual(resp.get('jsonrpc'), '2.0', resp)
        self.assertIn('error', resp, resp)
        self.assertNotIn('result', resp, resp)
        self.assertEqual(resp['error']['code'], code, resp)
        self.assertIsInstance(resp['error']['message'], str)
        if req_id != 'any':
            self.assertEqual(resp.get('id'), req_id, resp)

    # -- malformed input --------------------------------------------------------------------
    def test_parse_error_closes_connection(self):
        for junk in (b'{"jsonrpc": "2.0", "method": }', b'hello world\n', b'{"a": 1]',
                     b'\xff\xfe{}'):
            with self.subTest(junk=junk):
                s, stream, resp = self.raw_exchange(junk)
                self.assertErrorResponse(resp, -32700)
                self.assertIsNone(resp.get('id'), resp)
                self.assertTrue(stream.wait_closed())

    def test_invalid_requests(self):
        cases = [
            b'{"jsonrpc": "2.0", "id": 1}',                             # no method
            b'{"jsonrpc": "2.0", "id": 1, "method": 5}',                # method not a string
            b'{"jsonrpc": "1.0", "id": 1, "method": "spdk_get_version"}',
            b'{"jsonrpc": "2.0", "id": 1, "method": "spdk_get_version", "params": "x"}',
            b'[{"jsonrpc": "2.0", "id": 1, "method": "spdk_get_version"}]',  # batch
            b'[]',
            b'"just a string"',
        ]
        for data in cases:
            with self.subTest(data=data):
                _, _, resp = self.raw_exchange(data)
                self.assertErrorResponse(resp, -32600)

    def test_unknown_method(self):
        e = self.assertRpcError(-32601, self.tgt, 'no_such_method')
        self.assertIsInstance(e.message, str)
        _, _, resp = self.raw_exchange(request('no_such_method', req_id=42))
        self.assertErrorResponse(resp, -32601, req_id=42)

    def test_unknown_method_with_params(self):
        with JSONRPCClient(self.tgt.sock, timeout=60) as c:
            with self.assertRaises(JSONRPCException) as cm:
                c.call('bdev_malloc_create_not_here', {'x': 1})
        self.assertEqual(cm.exception.code, -32601)

    def test_ids_echoed(self):
        for req_id in ('abc', 7, 0):
            with self.subTest(req_id=req_id):
                data = json.dumps({'jsonrpc': '2.0', 'method': 'log_get_level',
                                   'id': req_id}).encode()
                _, _, resp = self.raw_exchange(data)
                self.assertEqual(resp.get('id'), req_id, resp)
                self.assertIsInstance(resp.get('result'), str, resp)

    # -- parameters -------------------------------------------------------------------------
    def test_invalid_params(self):
        cases = [
            ('log_set_level', {}, ['level']),                                       # missing
            ('log_set_level', None, ['level']),                                     # no params
            ('log_set_level', {'level': 'INFO', 'bogus_param': 1}, ['bogus_param']),  # extra
            ('log_set_level', {'level': 'FOO'}, ['level', 'FOO']),                  # bad enum
            ('log_set_level', {'level': 3}, ['level']),                             # wrong type
            ('log_set_flag', {'flag': 5}, ['flag']),
            ('log_clear_flag', {}, ['flag']),
            ('log_enable_timestamps', {'enabled': 'yes'}, ['enabled']),
            ('log_enable_timestamps', {}, ['enabled']),
            ('rpc_get_methods', {'current': 'yes'}, ['current']),
            ('rpc_get_methods', {'nope': True}, ['nope']),
            ('spdk_kill_instance', {'sig_name': 'SIGFOO'}, ['sig_name']),
            ('spdk_kill_instance', {}, ['sig_name']),
            ('framework_get_config', {}, ['name']),
            ('framework_get_config', {'name': 3}, ['name']),
            ('framework_get_config', {'name': 'nowhere'}, ['nowhere']),
            ('framework_set_scheduler', {}, ['name']),
            ('framework_set_scheduler', {'name': 'foo'}, ['foo', 'not available']),
            ('framework_set_scheduler', {'name': 'static', 'period': -1}, ['period']),
            ('framework_set_scheduler', {'name': 'static', 'period': 'x'}, ['period']),
            ('framework_set_scheduler', {'name': 'static', 'core_busy': 300}, ['core_busy']),
            ('framework_set_scheduler', {'name': 'static', 'load_limit': 1.5}, ['load_limit']),
        ]
        for method, params, words in cases:
            with self.subTest(method=method, params=params):
                self.assertRpcError(-32602, self.tgt, method, params, contains=words)
        self.assertEqual(self.tgt.rpc('log_get_level'), 'NOTICE')
        self.assertEqual(self.tgt.rpc('framework_get_scheduler'),
                         {'scheduler_name': 'static', 'scheduler_period': 1000000})

    def test_contract_messages(self):
        self.assertRpcError(-32602, self.tgt, 'log_set_level', {'level': 'FOO'},
                            "level: 'FOO' is not one of ERROR, WARNING, NOTICE, INFO, DEBUG")
        self.assertRpcError(-32602, self.tgt, 'log_set_level', {},
                            "missing required parameter 'level'")
        self.assertRpcError(-32602, self.tgt, 'log_set_level', {'level': 'INFO', 'x': 1},
                            "unknown parameter 'x'")
        self.assertRpcError(-32602, self.tgt, 'log_set_flag', {'flag': 1},
                            'flag: expected a string, got integer')
        self.assertRpcError(-32602, self.tgt, 'framework_set_scheduler', {'name': 'foo'},
                            "name: scheduler 'foo' is not available (available: static)")

    def test_wrong_params_via_cli(self):
        err, stderr = self.cli_error(self.tgt, 'log_set_flag', 'nonexistent_flag', code=-32602)
        self.assertIn('nonexistent_flag', err['message'])
        self.assertIn('"method": "log_set_flag"', stderr)
        cp = self.tgt.rpc_cli('framework_set_scheduler', 'static', '-p', 'notanumber')
        self.assertEqual(cp.returncode, 2)  # argparse rejects it before any request

    # -- framing ----------------------------------------------------------------------------
    def test_pipelined_requests(self):
        data = b''.join(request(m, req_id=i) for i, m in enumerate(
            ['spdk_get_version', 'log_get_level', 'no_such_method', 'log_get_print_level'], 1))
        s, stream = self.raw()
        s.sendall(data)
        got = {}
        for _ in range(4):
            resp = stream.read_value()
            self.assertIsNotNone(resp, 'connection closed early')
            got[resp['id']] = resp
        self.assertEqual(got[1]['result'], VERSION)
        self.assertEqual(got[2]['result'], 'NOTICE')
        self.assertEqual(got[3]['error']['code'], -32601)
        self.assertEqual(got[4]['result'], 'NOTICE')

    def test_request_split_in_small_pieces(self):
        data = b'  \n' + request('spdk_get_version', req_id=9) + b'\n'
        s, stream = self.raw()
        for i in range(0, len(data), 3):
            s.sendall(data[i:i + 3])
        resp = stream.read_value()
        self.assertEqual(resp['id'], 9)
        self.assertEqual(resp['result'], VERSION)

    def test_oversized_request(self):
        head = b'{"jsonrpc": "2.0", "id": 1, "method": "spdk_get_version", "params": {"pad": "'
        tail = b'"}}'
        pad = MAX_REQUEST + 1024 * 1024 - len(head)
        s, stream = self.raw(timeout=120)
        send_error = []

        def sender():
            try:
                chunk = b'a' * (1024 * 1024)
                s.sendall(head)
                for _ in range(pad // len(chunk)):
                    s.sendall(chunk)
                s.sendall(b'a' * (pad % len(chunk)) + tail)
            except OSError as e:  # the server may stop reading and close: expected
                send_error.append(e)

        th = threading.Thread(target=sender, daemon=True)
        th.start()
        resp = stream.read_value()
        self.assertErrorResponse(resp, -32600)
        self.assertTrue(stream.wait_closed())
        th.join(timeout=120)
        self.assertFalse(th.is_alive(), 'sender still blocked after the server closed')

    # -- concurrency ------------------------------------------------------------------------
    def test_hundred_concurrent_clients(self):
        n = 100
        barrier = threading.Barrier(n, timeout=120)
        errors, done = [], []

        def client(i):
            try:
                with JSONRPCClient(self.tgt.sock, timeout=120, connect_timeout=60) as c:
                    barrier.wait()  # every client is connected before anyone calls
                    results = [c.call('spdk_get_version'), c.call('log_get_level'),
                               c.call('rpc_get_methods', {'current': True})]
                    if results[0] != VERSION or results[1] != 'NOTICE' or \
                            'spdk_get_version' not in results[2]:
                        errors.append((i, 'wrong results', results[:2]))
                    done.append(i)
            except Exception as e:  # noqa: BLE001 - reported below
                errors.append((i, repr(e)))

        threads = [threading.Thread(target=client, args=(i,), daemon=True) for i in range(n)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=300)
        self.assertEqual(errors, [])
        self.assertEqual(sorted(done), list(range(n)))

    def test_stalled_client_does_not_block_others(self):
        stalled, stream = self.raw()
        first = request('spdk_get_version', req_id=77)
        stalled.sendall(first[:25])  # half a request, then nothing
        self.assertEqual(self.tgt.rpc('log_get_level', timeout=60), 'NOTICE')
        self.assertEqual(self.cli_ok(self.tgt, 'spdk_get_version'), VERSION)
        stalled.sendall(first[25:])
        resp = stream.read_value()
        self.assertEqual(resp['id'], 77)
        self.assertEqual(resp['result'], VERSION)

    def test_client_that_does_not_read(self):
        # Requests whose answers are never read, then a vanishing client.
        lazy, _ = self.raw()
        lazy.sendall(b''.join(request('rpc_get_methods', req_id=i) for i in range(2000)))
        self.assertEqual(self.tgt.rpc('spdk_get_version', timeout=60), VERSION)
        lazy.shutdown(socket.SHUT_RDWR)

    def test_abrupt_disconnects(self):
        for data in (b'', b'{"jsonrpc": "2.0", "id": 1, "meth', request('thread_get_stats')):
            with self.subTest(data=data):
                s = self.tgt.raw_connect()
                if data:
                    s.sendall(data)
                s.close()
        self.assertEqual(self.tgt.rpc('log_get_level'), 'NOTICE')


if __name__ == '__main__':
    unittest.main()
