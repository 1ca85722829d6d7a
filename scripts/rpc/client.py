# SPDX-License-Identifier: BSD-3-Clause
"""A blocking JSON-RPC 2.0 client for pollux_tgt's UNIX (or TCP) socket."""

import codecs
import errno
import ipaddress
import json
import socket
import sys
import time

DEFAULT_SOCKET = '/var/tmp/pollux.sock'
DEFAULT_PORT = 5260

# Errors that mean "nobody is listening yet": worth retrying while a daemon starts.
_RETRY_ERRNOS = (errno.ENOENT, errno.ECONNREFUSED, errno.EAGAIN)


class JSONRPCException(Exception):
    """A failed call: either an error response (error is the server's error object) or a
    transport problem (error is None)."""

    def __init__(self, message, request=None, error=None):
        super().__init__(message)
        self.message = message
        self.request = request
        self.error = error

    @property
    def code(self):
        return self.error.get('code') if isinstance(self.error, dict) else None


def is_ip_address(addr):
    try:
        ipaddress.ip_address(addr)
    except ValueError:
        return False
    return True


class JSONRPCClient:
    """One connection; call() sends a request and returns its result or raises
    JSONRPCException. connect_timeout bounds how long connecting is retried (default:
    timeout), timeout bounds each call's wait for its response."""

    def __init__(self, addr=DEFAULT_SOCKET, port=None, timeout=60.0, connect_timeout=None,
                 verbose=False, log=None):
        self.addr = addr
        self.port = port
        self.timeout = timeout
        self.verbose = verbose
        self.log = log if log is not None else sys.stderr
        self._next_id = 1
        self._buf = ''
        self._utf8 = codecs.getincrementaldecoder('utf-8')()
        self._decoder = json.JSONDecoder()
        self._eof = False
        self.sock = self._connect(timeout if connect_timeout is None else connect_timeout)

    def _describe(self):
        if self.port is not None or is_ip_address(self.addr):
            return 'TCP %s:%s' % (self.addr, self.port if self.port is not None else DEFAULT_PORT)
        return 'socket %s' % self.addr

    def _new_socket(self):
        if self.port is not None or is_ip_address(self.addr):
            port = self.port if self.port is not None else DEFAULT_PORT
            info = socket.getaddrinfo(self.addr, port, type=socket.SOCK_STREAM)[0]
            return socket.socket(info[0], info[1], info[2]), info[4]
        return socket.socket(socket.AF_UNIX, socket.SOCK_STREAM), self.addr

    def _connect(self, connect_timeout):
        deadline = time.monotonic() + max(connect_timeout, 0)
        while True:
            sock, target = self._new_socket()
            try:
                sock.settimeout(max(connect_timeout, 0.1))
                sock.connect(target)
                return sock
            except OSError as e:
                sock.close()
                retry = e.errno in _RETRY_ERRNOS or isinstance(e, socket.timeout)
                if not retry or time.monotonic() >= deadline:
                    raise JSONRPCException('cannot connect to %s: %s' % (self._describe(),
                                                                      e.strerror or e)) from None
            time.sleep(0.1)

    def close(self):
        if self.sock is not None:
            self.sock.close()
            self.sock = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def _trace(self, title, obj):
        if self.verbose:
            print('%s:\n%s' % (title, json.dumps(obj, indent=2)), file=self.log, flush=True)

    def send(self, method, params=None):
        """Send one request; returns it (with its id) for recv()."""
        req = {'jsonrpc': '2.0', 'method': method, 'id': self._next_id}
        self._next_id += 1
        if params is not None:
            req['params'] = params
        self._trace('request', req)
        try:
            self.sock.sendall(json.dumps(req).encode())
        except OSError as e:
            raise JSONRPCException('sending to %s failed: %s' % (self._describe(), e),
                                   request=req) from None
        return req

    def _next_value(self):
        """Decode the next complete JSON value from the stream, or None at end of stream."""
        while True:
            start = len(self._buf) - len(self._buf.lstrip())
            if start < len(self._buf):
                try:
                    value, end = self._decoder.raw_decode(self._buf, start)
                    self._buf = self._buf[end:]
                    return value
                except json.JSONDecodeError:
                    # Most often the value is simply incomplete: read more.
                    if self._eof:
                        raise JSONRPCException('invalid JSON from %s: %r' %
                                               (self._describe(), self._buf[:200])) from None
            elif self._eof:
                return None
            self._read_more()

    def _read_more(self):
        remaining = self._deadline - time.monotonic()
        if remaining <= 0:
            raise socket.timeout()
        self.sock.settimeout(remaining)
        data = self.sock.recv(65536)
        if not data:
            self._eof = True
            self._buf += self._utf8.decode(b'', final=True)
        else:
            self._buf += self._utf8.decode(data)

    def recv(self, req):
        """Wait for the response to req; returns the whole response object."""
        self._deadline = time.monotonic() + self.timeout
        try:
            while True:
                resp = self._next_value()
                if resp is None:
                    raise JSONRPCException('connection to %s closed before a response arrived'
                                           % self._describe(), request=req)
                if isinstance(resp, dict) and resp.get('id') == req['id']:
                    self._trace('response', resp)
                    return resp
                # Not ours (e.g. a notification): keep reading.
                self._trace('unmatched response', resp)
        except socket.timeout:
            raise JSONRPCException('timed out after %ss waiting for the response from %s'
                                   % (self.timeout, self._describe()), request=req) from None
        except OSError as e:
            raise JSONRPCException('receiving from %s failed: %s' % (self._describe(), e),
                                   request=req) from None

    def call(self, method, params=None):
        req = self.send(method, params)
        resp = self.recv(req)
        if 'error' in resp:
            err = resp['error']
            msg = err.get('message') if isinstance(err, dict) else None
            raise JSONRPCException(msg if msg is not None else json.dumps(err),
                                   request=req, error=err)
        if 'result' not in resp:
            raise JSONRPCException('response has neither result nor error: %s' % json.dumps(resp),
                                   request=req)
        return resp['result']
