# SPDX-License-Identifier: BSD-3-Clause
"""A tiny in-process JSON-RPC server used only to test scripts/rpc.py's client logic
(stream decoding, id matching, error printing, save_config/load_config ordering).
It is NOT a stand-in for pollux_tgt: the daemon is tested for real by the other test files."""

import json
import os
import socket
import tempfile
import threading

STARTUP, RUNTIME = 1, 2


class RpcError(Exception):
    def __init__(self, code, message):
        super().__init__(message)
        self.code = code
        self.message = message


class FakeServer:
    """Serves handlers {method: (states, fn(params) -> result)} on a UNIX socket.
    self.calls records every (method, params) in arrival order. framework_start_init and
    rpc_get_methods are built in and follow self.state."""

    def __init__(self, handlers=None, wait_for_rpc=False, chunk=None, extra_before_response=None):
        self.handlers = dict(handlers or {})
        self.state = STARTUP if wait_for_rpc else RUNTIME
        self.calls = []
        self.chunk = chunk  # send responses in pieces of this many bytes
        self.extra_before_response = extra_before_response  # raw bytes sent before each response
        self.dir = tempfile.mkdtemp(prefix='pollux-fake-')
        self.path = os.path.join(self.dir, 'rpc.sock')
        self.listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.listener.bind(self.path)
        self.listener.listen(16)
        self.handlers.setdefault('rpc_get_methods', (STARTUP | RUNTIME, self._get_methods))
        self.handlers.setdefault('framework_start_init', (STARTUP, self._start_init))
        self.handlers.setdefault('framework_wait_init', (STARTUP | RUNTIME, lambda p: True))
        self._thread = threading.Thread(target=self._accept_loop, daemon=True)
        self._thread.start()

    def _get_methods(self, params):
        current = bool(params and params.get('current'))
        return sorted(m for m, (states, _) in self.handlers.items()
                      if not current or states & self.state)

    def _start_init(self, params):
        self.state = RUNTIME
        return True

    def _accept_loop(self):
        while True:
            try:
                conn, _ = self.listener.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _dispatch(self, req):
        method, params = req.get('method'), req.get('params')
        self.calls.append((method, params))
        if method not in self.handlers:
            raise RpcError(-32601, 'Method not found')
        states, fn = self.handlers[method]
        if not states & self.state:
            raise RpcError(-32601, "method '%s' is not allowed in the current state" % method)
        return fn(params)

    def _respond(self, conn, req):
        try:
            resp = {'jsonrpc': '2.0', 'id': req.get('id'), 'result': self._dispatch(req)}
        except RpcError as e:
            resp = {'jsonrpc': '2.0', 'id': req.get('id'),
                    'error': {'code': e.code, 'message': e.message}}
        data = json.dumps(resp, indent=1).encode()
        if self.extra_before_response:
            data = self.extra_before_response + data
        step = self.chunk or len(data)
        for i in range(0, len(data), step):
            conn.sendall(data[i:i + step])

    def _serve(self, conn):
        decoder = json.JSONDecoder()
        buf = ''
        with conn:
            while True:
                data = conn.recv(65536)
                if not data:
                    return
                buf += data.decode()
                while buf.strip():
                    try:
                        req, end = decoder.raw_decode(buf, len(buf) - len(buf.lstrip()))
                    except ValueError:
                        break
                    buf = buf[end:]
                    self._respond(conn, req)

    def close(self):
        try:
            self.listener.shutdown(socket.SHUT_RDWR)  # wakes the blocked accept()
        except OSError:
            pass
        self.listener.close()
        try:
            os.unlink(self.path)
            os.rmdir(self.dir)
        except OSError:
            pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
