# SPDX-License-Identifier: BSD-3-Clause
"""Shared helpers of the NVMe-oF functional tests: free ports, a target with a TCP transport
and subsystems built over RPC, bounded waits, and a skip when the target has no nvmf yet."""

import itertools
import socket
import time
import unittest

from pollux_test import JSONRPCException, SharedTargetTestCase, TargetTestCase
import nvmf_client as nc

ADDR = '127.0.0.1'
WAIT_TIMEOUT = 30.0  # upper bound for anything the target does asynchronously
METHOD_NOT_FOUND = -32601
INVALID_PARAMS = -32602
BLOCK = 512
NUM_BLOCKS = 32768  # 16 MiB malloc namespaces
_seq = itertools.count(1)


def free_port(addr=ADDR):
    """A TCP port nobody listens on right now (the kernel picks it)."""
    family = socket.AF_INET6 if ':' in addr else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as s:
        s.bind((addr, 0))
        return s.getsockname()[1]


def have_ipv6_loopback():
    try:
        free_port('::1')
        return True
    except OSError:
        return False


def unique_nqn(tag='sub'):
    return 'nqn.2016-06.io.pollux:%s%d' % (tag, next(_seq))


def wait_until(fn, timeout=WAIT_TIMEOUT, interval=0.05, what='condition'):
    """Poll fn() until it returns a true value (returned); fails the test after timeout."""
    deadline = time.monotonic() + timeout
    while True:
        v = fn()
        if v:
            return v
        if time.monotonic() > deadline:
            raise AssertionError('%s not reached within %ss (last value %r)'
                                 % (what, timeout, v))
        time.sleep(interval)


def require_nvmf(tgt):
    """Skip when the target does not serve nvmf_* methods yet."""
    try:
        tgt.rpc('nvmf_get_transports')
    except JSONRPCException as e:
        if e.code == METHOD_NOT_FOUND:
            raise unittest.SkipTest('pollux_tgt has no nvmf_* methods yet') from None
        raise


def listen_address(port, addr=ADDR):
    return {'trtype': 'TCP', 'adrfam': 'IPv6' if ':' in addr else 'IPv4', 'traddr': addr,
            'trsvcid': str(port)}


class NvmfMixin:
    """Building blocks over RPC. self.tgt must be the target."""

    def create_transport(self, tgt, **opts):
        params = {'trtype': 'TCP'}
        params.update(opts)
        return tgt.rpc('nvmf_create_transport', params)

    def malloc(self, tgt, name, num_blocks=NUM_BLOCKS, block_size=BLOCK):
        return tgt.rpc('bdev_malloc_create', {'name': name, 'num_blocks': num_blocks,
                                              'block_size': block_size})

    def subsystem(self, tgt, nqn=None, bdevs=(), port=None, allow_any_host=True, **kw):
        """Create a subsystem with a namespace per bdev (nsid 1, 2, ...) and a listener on a
        free port (or port); returns (nqn, port)."""
        nqn = nqn or unique_nqn()
        params = {'nqn': nqn, 'allow_any_host': allow_any_host}
        params.update(kw)
        tgt.rpc('nvmf_create_subsystem', params)
        for b in bdevs:
            tgt.rpc('nvmf_subsystem_add_ns', {'nqn': nqn, 'namespace': {'bdev_name': b}})
        port = port or free_port()
        tgt.rpc('nvmf_subsystem_add_listener', {'nqn': nqn,
                                                'listen_address': listen_address(port)})
        return nqn, port

    def controllers(self, tgt, nqn):
        return tgt.rpc('nvmf_subsystem_get_controllers', {'nqn': nqn})

    def ctrlr(self, port, nqn, io_queues=0, addr=ADDR, **kw):
        """A connected, enabled controller (closed at cleanup) with io_queues I/O queues."""
        c = nc.Controller(addr, port, nqn, **kw)
        self.addCleanup(c.close)
        c.connect()
        for _ in range(io_queues):
            c.add_io_queue()
        return c


class NvmfTestCase(NvmfMixin, TargetTestCase):
    """A target per test (for tests that restart it or change global settings)."""

    def start_nvmf_target(self, *args, **kw):
        tgt = self.start_target(*args, **kw)
        require_nvmf(tgt)
        return tgt


class SharedNvmfTestCase(NvmfMixin, SharedTargetTestCase):
    """One target per class with a TCP transport (TRANSPORT_OPTS) and one subsystem with
    malloc namespace Malloc0 (nsid 1): self.nqn, self.port."""

    TARGET_ARGS = ('-m', '0x3')
    TRANSPORT_OPTS = {}

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        try:
            require_nvmf(cls.tgt)
            NvmfMixin.create_transport(cls, cls.tgt, **cls.TRANSPORT_OPTS)
            NvmfMixin.malloc(cls, cls.tgt, 'Malloc0')
            cls.nqn = 'nqn.2016-06.io.pollux:shared'
            cls.port = free_port()
            cls.tgt.rpc('nvmf_create_subsystem', {'nqn': cls.nqn, 'allow_any_host': True,
                                                  'serial_number': 'POLLUXSN0001',
                                                  'model_number': 'Pollux Test Model'})
            cls.tgt.rpc('nvmf_subsystem_add_ns', {'nqn': cls.nqn,
                                                  'namespace': {'bdev_name': 'Malloc0'}})
            cls.tgt.rpc('nvmf_subsystem_add_listener',
                        {'nqn': cls.nqn, 'listen_address': listen_address(cls.port)})
        except BaseException:
            cls.tgt.close()
            raise

    def tearDown(self):
        # Every test must leave the target alive.
        self.assertTrue(self.tgt.running(), 'pollux_tgt died')
