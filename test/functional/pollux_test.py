# SPDX-License-Identifier: BSD-3-Clause
"""Helpers for the functional tests: start pollux_tgt from the build named by $POLLUX_BUILD,
talk to it through the client library and through scripts/rpc.py, stop it.

Timeouts are generous (the tests also run under ASan/UBSan on a busy 2-vCPU VM) and are
upper bounds for hang detection only, never performance assertions."""

import json
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import unittest

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SCRIPTS = os.path.join(REPO, 'scripts')
RPC_PY = os.path.join(SCRIPTS, 'rpc.py')
if SCRIPTS not in sys.path:
    sys.path.insert(0, SCRIPTS)

from rpc import JSONRPCClient, JSONRPCException  # noqa: E402

READY_TIMEOUT = 30.0
RPC_TIMEOUT = 60.0
STOP_TIMEOUT = 30.0
READY_RE = re.compile(r'^pollux_tgt: ready, pid (\d+), rpc (.+), (\d+) reactor\(s\)$')

__all__ = ['Target', 'TargetTestCase', 'JSONRPCClient', 'JSONRPCException', 'build_dir',
           'tgt_binary', 'RPC_PY', 'REPO']


def build_dir():
    """The build directory under test; skips the test when there is none."""
    d = os.environ.get('POLLUX_BUILD')
    if not d:
        d = os.path.join(REPO, 'build')
        if not os.path.isdir(d):
            raise unittest.SkipTest('POLLUX_BUILD is not set (and %s does not exist)' % d)
    return os.path.abspath(d)


def tgt_binary():
    path = os.path.join(build_dir(), 'app', 'pollux_tgt', 'pollux_tgt')
    if not os.access(path, os.X_OK):
        raise unittest.SkipTest('pollux_tgt is not built: %s is missing' % path)
    return path


def tail(text, n=50):
    return '\n'.join(text.splitlines()[-n:])


class RawStream:
    """A raw socket reader for protocol tests: read_value() returns the next complete JSON
    value the server sent (None once the server closed the connection)."""

    def __init__(self, sock):
        self.sock = sock
        self.buf = b''
        self.closed = False
        self._decoder = json.JSONDecoder()

    def _decoded(self):
        text = self.buf.decode('utf-8', errors='replace')
        stripped = text.lstrip()
        if not stripped:
            return None
        try:
            value, end = self._decoder.raw_decode(stripped)
        except ValueError:
            return None
        rest = stripped[end:].encode()
        self.buf = rest
        return (value,)

    def read_value(self):
        while True:
            got = self._decoded()
            if got is not None:
                return got[0]
            if self.closed:
                if self.buf.strip():
                    raise AssertionError('server closed the connection after sending '
                                         'an incomplete value: %r' % self.buf[:200])
                return None
            self._recv()

    def _recv(self):
        try:
            data = self.sock.recv(65536)
        except ConnectionResetError:
            data = b''
        if not data:
            self.closed = True
        self.buf += data

    def wait_closed(self):
        """True when the server closes the connection (anything it sends first is ignored)."""
        while not self.closed:
            self._recv()
        return True


class TargetError(AssertionError):
    pass


class Target:
    """One pollux_tgt process with its own RPC socket in a private temp dir.

    Target(*extra_args).start() waits for the ready line (unless wait_ready=False);
    use as a context manager, or call close(): the process is always killed at the end."""

    def __init__(self, *args, sock=None, ready_timeout=READY_TIMEOUT):
        self.binary = tgt_binary()
        self.tmpdir = tempfile.mkdtemp(prefix='pollux-ft-')
        self.sock = sock or os.path.join(self.tmpdir, 'rpc.sock')
        self.args = [str(a) for a in args]
        self.ready_timeout = ready_timeout
        self.proc = None
        self.pid = None
        self.reactors = None
        self.ready_rpc_path = None
        self.stdout_lines = []
        self._ready = threading.Event()
        self._stderr = open(os.path.join(self.tmpdir, 'stderr.log'), 'w+')
        self._reader = None

    # -- lifecycle ---------------------------------------------------------------------------
    def start(self, wait_ready=True):
        cmd = [self.binary, '-r', self.sock] + self.args
        self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                     stderr=self._stderr, text=True, errors='replace')
        self._reader = threading.Thread(target=self._read_stdout, daemon=True)
        self._reader.start()
        if wait_ready:
            self.wait_ready()
        return self

    def _read_stdout(self):
        for line in self.proc.stdout:
            line = line.rstrip('\n')
            self.stdout_lines.append(line)
            m = READY_RE.match(line)
            if m and not self._ready.is_set():
                self.pid, self.reactors = int(m.group(1)), int(m.group(3))
                self.ready_rpc_path = m.group(2)
                self._ready.set()
        self._ready.set()  # EOF: wake a waiter so it sees the exit

    def wait_ready(self, timeout=None):
        timeout = self.ready_timeout if timeout is None else timeout
        if not self._ready.wait(timeout):
            raise TargetError('pollux_tgt %s: no ready line within %ss\nstdout: %s\nstderr:\n%s'
                              % (' '.join(self.args), timeout, self.stdout_lines,
                                 tail(self.stderr())))
        if self.pid is None:
            rc = self.proc.wait(timeout=STOP_TIMEOUT)
            raise TargetError('pollux_tgt %s exited (%s) before it was ready\nstderr:\n%s'
                              % (' '.join(self.args), rc, tail(self.stderr())))
        return self

    def running(self):
        return self.proc is not None and self.proc.poll() is None

    def wait_exit(self, timeout=STOP_TIMEOUT):
        """Wait for the process to exit by itself; returns its exit code."""
        try:
            return self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            raise TargetError('pollux_tgt %s did not exit within %ss\nstderr:\n%s'
                              % (' '.join(self.args), timeout, tail(self.stderr()))) from None

    def stop(self, sig=signal.SIGTERM, expect_code=0, timeout=STOP_TIMEOUT):
        """Send sig and wait; asserts the exit code when expect_code is not None."""
        if self.running():
            self.proc.send_signal(sig)
        rc = self.wait_exit(timeout)
        if expect_code is not None and rc != expect_code:
            raise TargetError('pollux_tgt exited with %s after %s, expected %s\nstderr:\n%s'
                              % (rc, signal.Signals(sig).name, expect_code, tail(self.stderr())))
        return rc

    def kill(self):
        if self.running():
            self.proc.kill()
            self.proc.wait()

    def close(self):
        self.kill()
        if self._reader is not None:
            self._reader.join(timeout=5)
        if self.proc is not None and self.proc.stdout is not None:
            self.proc.stdout.close()
        self._stderr.close()
        for name in os.listdir(self.tmpdir):
            path = os.path.join(self.tmpdir, name)
            if not os.path.isdir(path):
                os.unlink(path)
        os.rmdir(self.tmpdir)

    def __enter__(self):
        if self.proc is None:
            self.start()
        return self

    def __exit__(self, exc_type, exc, tb):
        if exc_type is not None and self.proc is not None:
            print('--- pollux_tgt %s stderr (tail) ---\n%s' % (' '.join(self.args),
                                                             tail(self.stderr())),
                  file=sys.stderr)
        self.close()

    def stderr(self):
        self._stderr.flush()
        with open(self._stderr.name, errors='replace') as f:
            return f.read()

    # -- talking to it -----------------------------------------------------------------------
    def client(self, timeout=RPC_TIMEOUT):
        return JSONRPCClient(self.sock, timeout=timeout, connect_timeout=10)

    def rpc(self, method, params=None, timeout=RPC_TIMEOUT):
        """Call through the client library; returns the result or raises JSONRPCException."""
        with self.client(timeout) as c:
            return c.call(method, params)

    def rpc_cli(self, *args, input=None, timeout=RPC_TIMEOUT * 2):
        """Run scripts/rpc.py -s SOCK ARGS...; returns the CompletedProcess (text mode)."""
        cmd = [sys.executable, RPC_PY, '-s', self.sock] + [str(a) for a in args]
        return subprocess.run(cmd, input=input, capture_output=True, text=True, timeout=timeout)

    def raw_connect(self, timeout=RPC_TIMEOUT):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(timeout)
        s.connect(self.sock)
        return s

    def write_file(self, name, text):
        path = os.path.join(self.tmpdir, name)
        with open(path, 'w') as f:
            f.write(text)
        return path


class TargetTestCase(unittest.TestCase):
    """Base class: start_target() registers cleanup; assertion helpers for RPC results."""

    def start_target(self, *args, wait_ready=True, **kw):
        t = Target(*args, **kw)
        self.addCleanup(t.close)
        self.addCleanup(self._dump_on_failure, t)
        t.start(wait_ready=wait_ready)
        return t

    def _dump_on_failure(self, t):
        # Failures are reported to the result as they happen, before cleanups run.
        result = getattr(getattr(self, '_outcome', None), 'result', None)
        failed = result is not None and any(
            test is self for test, _ in list(result.failures) + list(result.errors))
        if failed:
            print('--- pollux_tgt %s stderr (tail) ---\n%s' % (' '.join(t.args),
                                                             tail(t.stderr())),
                  file=sys.stderr)

    def cli_ok(self, target, *args, input=None):
        """rpc.py must succeed; returns its parsed JSON stdout (None when it printed nothing)."""
        cp = target.rpc_cli(*args, input=input)
        self.assertEqual(cp.returncode, 0, 'rpc.py %s failed (%d):\nstdout: %s\nstderr: %s'
                         % (' '.join(map(str, args)), cp.returncode, cp.stdout, cp.stderr))
        return json.loads(cp.stdout) if cp.stdout.strip() else None

    def cli_error(self, target, *args, code=None, input=None):
        """rpc.py must fail with a JSON-RPC error; returns (error object, stderr)."""
        cp = target.rpc_cli(*args, input=input)
        self.assertEqual(cp.returncode, 1, 'rpc.py %s: expected exit 1, got %d\nstdout: %s\n'
                         'stderr: %s' % (' '.join(map(str, args)), cp.returncode, cp.stdout,
                                         cp.stderr))
        self.assertIn('Got JSON-RPC error response', cp.stderr)
        err = json.loads(cp.stderr.split('response:\n', 1)[1])
        if code is not None:
            self.assertEqual(err['code'], code, cp.stderr)
        return err, cp.stderr

    def assertRpcError(self, code, target, method, params=None, contains=()):
        """The call must fail with code; the message must contain every string in contains."""
        with self.assertRaises(JSONRPCException) as cm:
            target.rpc(method, params)
        e = cm.exception
        self.assertIsNotNone(e.error, 'transport failure instead of an error response: %s'
                             % e.message)
        self.assertEqual(e.code, code, 'method %s params %r: %r' % (method, params, e.error))
        for s in ([contains] if isinstance(contains, str) else contains):
            self.assertIn(s, e.message, 'method %s params %r' % (method, params))
        return e


class SharedTargetTestCase(TargetTestCase):
    """One target for the whole class, started with TARGET_ARGS; tests leave it as they found it."""

    TARGET_ARGS = ()

    @classmethod
    def setUpClass(cls):
        cls.tgt = Target(*cls.TARGET_ARGS)
        try:
            cls.tgt.start()
        except BaseException:
            cls.tgt.close()
            raise

    @classmethod
    def tearDownClass(cls):
        try:
            cls.tgt.stop(expect_code=0)
        finally:
            cls.tgt.close()

    def setUp(self):
        self.addCleanup(self._dump_on_failure, self.tgt)
