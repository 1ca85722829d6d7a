# SPDX-License-Identifier: BSD-3-Clause
"""The nvme bdev's multipath and reconnect under load (issue 6, Tests: Multipath, Reconnect).

Each test starts its own pollux_tgt (the NVMe-oF/TCP target) and bdevperf -z as the host, on
free ports and sockets in temp dirs, and runs verify while it changes the paths:

- ANA state flips (active_passive): I/O follows the optimized path, fails back (or not, with
  disable_auto_failback), and waits while no path is accessible;
- a listener removed: I/O carries on over the other path; the lost path reconnects when the
  listener comes back, or is deleted past its ctrlr_loss_timeout_sec;
- active_active: round_robin spreads I/O over both paths; queue_depth moves it to the fast
  path when a second target with a delay bdev serves the other one;
- reconnect: the target killed and restarted under load, I/O resumes; past
  ctrlr_loss_timeout_sec the controller and its bdev go; fast_io_fail_timeout_sec fails I/O
  early while the controller still tries.

What is asserted are counts and states, never durations; every wait is bounded and only
catches hangs."""

import os
import shutil
import signal
import socket
import sys
import tempfile
import time
import unittest
import uuid

from nvme_mp_helpers import (Bdevperf, NvmfTargetMixin, attach_entry, attach_params, bdev_config,
                             ops_delta, sample_run, wait_growth)
from nvmf_helpers import NvmfTestCase, free_port, unique_nqn, wait_until
from pollux_test import tail

IO_ARGS = ('-q', '16', '-o', '4096', '-w', 'verify')
MALLOC_BLOCKS = 16384  # 8 MiB of 512-byte blocks
MIN_SAMPLE = 100  # fewest I/Os a distribution is judged on
SOME_IOS = 200  # "the path is taking I/O": enough completions to rule out stragglers


def _try_bind(sock, port):
    try:
        sock.bind(('127.0.0.1', port))
        return True
    except OSError:
        return False


class StopTargetsMixin:
    """tearDown: every target still up exits cleanly on SIGTERM (under ASan: no leak, no UB);
    target B of the delay test runs the nvme bdev too."""

    def tearDown(self):
        for name in ('tgt_b', 'tgt'):
            t = getattr(self, name, None)
            if t is None:
                continue
            self.assertTrue(t.running(), '%s died' % name)
            t.stop(expect_code=0)
            self.assertNotIn('runtime error', t.stderr())


class MultipathTestBase(StopTargetsMixin, NvmfTargetMixin, NvmfTestCase):
    """A target (core 0) with subsystem self.nqn (ANA reporting, Malloc0) listening on
    self.port1 and self.port2; bdevperf (core 1) attaches both as Nvme0 with multipath."""

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix='pollux-mp-')
        self.addCleanup(shutil.rmtree, self.tmp, True)
        self.tgt = self.start_nvmf_target('-m', '0x1')
        self.create_transport(self.tgt)
        self.malloc(self.tgt, 'Malloc0', num_blocks=MALLOC_BLOCKS)
        self.nqn = unique_nqn('mp')
        self.tgt.rpc('nvmf_create_subsystem', {'nqn': self.nqn, 'allow_any_host': True,
                                               'serial_number': 'POLLUXMP0001',
                                               'ana_reporting': True})
        self.tgt.rpc('nvmf_subsystem_add_ns', {'nqn': self.nqn,
                                               'namespace': {'bdev_name': 'Malloc0'}})
        self.port1, self.port2 = free_port(), free_port()
        while self.port2 == self.port1:
            self.port2 = free_port()
        for p in (self.port1, self.port2):
            self.add_listener(self.tgt, self.nqn, p)
        self.p1, self.p2 = str(self.port1), str(self.port2)

    def start_bdevperf(self, *args, entries=None):
        entries = entries or [attach_entry(self.port1, self.nqn, multipath='multipath'),
                              attach_entry(self.port2, self.nqn, multipath='multipath')]
        bp = Bdevperf(self.tmp, bdev_config(*entries), *args)
        self.addCleanup(bp.close)
        self.addCleanup(self._dump_bdevperf, bp)
        bp.start()
        return bp

    def _dump_bdevperf(self, bp):
        result = getattr(getattr(self, '_outcome', None), 'result', None)
        if result is not None and any(t is self for t, _ in
                                      list(result.failures) + list(result.errors)):
            print('--- bdevperf stdout ---\n%s\n--- bdevperf stderr (tail) ---\n%s'
                  % (tail(bp.stdout()), tail(bp.stderr(), 80)), file=sys.stderr)

    def finish(self, bp, run):
        """Wait for the run; it must have succeeded without a failed I/O; bdevperf exits 0."""
        run.wait()
        job = run.job()
        self.assertEqual(job['status'], 'finished', job)
        self.assertEqual(job['io_failed'], 0, job)
        self.assertGreater(job['iops'], 0, job)
        self.assertTrue(self.tgt.running(), 'the target died')
        self.assertEqual(bp.stop(), 0, tail(bp.stderr()))
        self.assertNotIn('runtime error', bp.stderr())
        self.assertNotIn('verify failed', bp.stdout())
        return job

    def wait_current(self, bp, port, ana=None):
        """Wait until every thread's current path is port (and its ANA state is ana)."""
        def ok():
            paths = bp.io_paths()
            cur = [p for p in paths if p['current']]
            if not cur or any(p['transport']['trsvcid'] != str(port) for p in cur):
                return None
            if ana is not None and any(p['ana_state'] != ana for p in paths
                                       if p['transport']['trsvcid'] == str(port)):
                return None
            return paths
        return wait_until(ok, what='current path %s (%s)' % (port, ana))

    def wait_ana(self, bp, port, state):
        return wait_until(lambda: all(p['ana_state'] == state for p in bp.io_paths()
                                      if p['transport']['trsvcid'] == str(port)),
                          what='path %s in ANA state %s' % (port, state))

    def assert_only(self, bp, port, other):
        """I/O goes to port and never to other: after some settling I/O on port, other's
        counter stays put while port's grows."""
        wait_growth(bp, port, SOME_IOS, 'I/O on path %s' % port)
        before = bp.path_ops()
        after = wait_growth(bp, port, SOME_IOS, 'more I/O on path %s' % port)
        d = ops_delta(before, after)
        self.assertGreaterEqual(d[str(port)], SOME_IOS, d)
        self.assertEqual(d.get(str(other), 0), 0, 'path %s still got I/O: %r' % (other, d))


class AnaFailoverTest(MultipathTestBase):
    def test_ana_flips_under_verify(self):
        bp = self.start_bdevperf(*IO_ARGS, '-t', '7')
        run = bp.perform_tests()
        p1, p2 = self.port1, self.port2
        # active_passive: the first path attached is preferred.
        self.wait_current(bp, p1, 'optimized')
        self.assert_only(bp, p1, p2)

        # (ANA changes on the target, the path I/O must then use and its state): failover,
        # auto failback, optimized beating non-optimized in either order, and a
        # non-optimized path used when no optimized one is left.
        steps = [({p1: 'inaccessible'}, p2, 'optimized'),
                 ({p1: 'optimized'}, p1, 'optimized'),
                 ({p2: 'non_optimized'}, p1, 'optimized'),
                 ({p1: 'non_optimized', p2: 'optimized'}, p2, 'optimized'),
                 ({p2: 'inaccessible'}, p1, 'non_optimized')]
        for changes, port, ana in steps:
            for p, state in changes.items():
                self.set_ana(self.tgt, self.nqn, p, state)
            for p, state in changes.items():
                self.wait_ana(bp, p, state)
            self.wait_current(bp, port, ana)
            self.assert_only(bp, port, p2 if port == p1 else p1)

        # No usable path at all: I/O waits (nothing completes) instead of failing, and
        # resumes on the first path that comes back.
        self.set_ana(self.tgt, self.nqn, p1, 'inaccessible')
        self.wait_ana(bp, p1, 'inaccessible')
        self.wait_ana(bp, p2, 'inaccessible')
        before = bp.path_ops()
        time.sleep(0.5)
        d = ops_delta(before, bp.path_ops())
        self.assertEqual(d, {self.p1: 0, self.p2: 0}, 'I/O completed on an inaccessible path')
        self.set_ana(self.tgt, self.nqn, p2, 'optimized')
        self.wait_current(bp, p2, 'optimized')
        self.assert_only(bp, p2, p1)

        self.set_ana(self.tgt, self.nqn, p1, 'optimized')
        self.wait_current(bp, p1, 'optimized')
        self.assertFalse(run.done(), 'the run ended before the flips were done: raise -t')
        self.finish(bp, run)


    def test_disable_auto_failback(self):
        opts = {'method': 'bdev_nvme_set_options', 'params': {'disable_auto_failback': True}}
        bp = self.start_bdevperf(*IO_ARGS, '-t', '4', entries=[
            opts, attach_entry(self.port1, self.nqn, multipath='multipath'),
            attach_entry(self.port2, self.nqn, multipath='multipath')])
        run = bp.perform_tests()
        self.wait_current(bp, self.port1, 'optimized')
        self.set_ana(self.tgt, self.nqn, self.port1, 'inaccessible')
        self.wait_current(bp, self.port2, 'optimized')
        self.set_ana(self.tgt, self.nqn, self.port1, 'optimized')
        self.wait_ana(bp, self.port1, 'optimized')
        # The preferred path is back, but I/O stays where it moved to.
        self.assert_only(bp, self.port2, self.port1)
        self.assertEqual(bp.current_ports(), [self.p2])
        self.assertFalse(run.done(), 'the run ended before the checks: raise -t')
        self.finish(bp, run)


class ListenerRemovedTest(MultipathTestBase):
    def test_remove_listener_under_verify(self):
        bp = self.start_bdevperf(*IO_ARGS, '-t', '4')
        run = bp.perform_tests()
        self.wait_current(bp, self.port1, 'optimized')
        wait_growth(bp, self.port1, SOME_IOS, 'I/O on path %s' % self.port1)

        self.remove_listener(self.tgt, self.nqn, self.port1)
        self.assert_only(bp, self.port2, self.port1)
        # The lost path is reconnecting or failed, the other one is fine.
        states = wait_until(lambda: (lambda s: s if s.get(self.p1) != 'enabled' else None)(
            bp.ctrlr_states()), what='path %s leaving the enabled state' % self.p1)
        self.assertEqual(states[self.p2], 'enabled', states)
        self.assertFalse(run.done(), 'the run ended before the checks: raise -t')
        self.finish(bp, run)
        # The target's subsystem still has the other listener.
        listeners = self.tgt.rpc('nvmf_subsystem_get_listeners', {'nqn': self.nqn})
        self.assertEqual([l['address']['trsvcid'] for l in listeners], [self.p2])


    def test_listener_back_path_reconnects(self):
        rc = {'ctrlr_loss_timeout_sec': -1, 'reconnect_delay_sec': 1}
        bp = self.start_bdevperf(*IO_ARGS, '-t', '6', entries=[
            attach_entry(self.port1, self.nqn, multipath='multipath', **rc),
            attach_entry(self.port2, self.nqn, multipath='multipath', **rc)])
        run = bp.perform_tests()
        self.wait_current(bp, self.port1, 'optimized')
        self.remove_listener(self.tgt, self.nqn, self.port1)
        self.assert_only(bp, self.port2, self.port1)
        self.wait_until_state(bp, self.p1, ('resetting', 'reconnect_is_delayed'))
        self.add_listener(self.tgt, self.nqn, self.port1)
        # The path reconnects, and active_passive fails back to it.
        self.wait_until_state(bp, self.p1, ('enabled',))
        self.wait_current(bp, self.port1, 'optimized')
        self.assert_only(bp, self.port1, self.port2)
        self.assertEqual(bp.ctrlr_states(), {self.p1: 'enabled', self.p2: 'enabled'})
        self.assertFalse(run.done(), 'the run ended before the checks: raise -t')
        self.finish(bp, run)

    def test_lost_path_deleted_other_carries_on(self):
        rc = {'ctrlr_loss_timeout_sec': 2, 'reconnect_delay_sec': 1}
        bp = self.start_bdevperf(*IO_ARGS, '-t', '6', entries=[
            attach_entry(self.port1, self.nqn, multipath='multipath', **rc),
            attach_entry(self.port2, self.nqn, multipath='multipath', **rc)])
        run = bp.perform_tests()
        self.wait_current(bp, self.port1, 'optimized')
        self.remove_listener(self.tgt, self.nqn, self.port1)
        # Past ctrlr_loss_timeout_sec only the lost path goes; the bdev stays.
        wait_until(lambda: bp.ctrlr_states() == {self.p2: 'enabled'},
                   what='only path %s left' % self.p2)
        self.assertEqual(bp.bdev_names(), ['Nvme0n1'])
        self.assertEqual(sorted(p['transport']['trsvcid'] for p in bp.io_paths()), [self.p2])
        wait_growth(bp, self.port2, SOME_IOS, 'I/O on path %s' % self.p2)
        self.assertFalse(run.done(), 'the run ended before the checks: raise -t')
        self.finish(bp, run)

    def test_silent_address_does_not_stall_other_path(self):
        """A path whose address accepts TCP but never answers: its reconnect hangs until the
        connect timeout, off the reactors, while the other path carries the I/O and the app
        thread answers RPCs (it reports the path as resetting meanwhile: a blocked app thread
        could only answer after the attempt ended)."""
        rc = {'ctrlr_loss_timeout_sec': -1, 'reconnect_delay_sec': 1}
        bp = self.start_bdevperf(*IO_ARGS, '-t', '8', entries=[
            attach_entry(self.port1, self.nqn, multipath='multipath', **rc),
            attach_entry(self.port2, self.nqn, multipath='multipath', **rc)])
        run = bp.perform_tests()
        self.wait_current(bp, self.port1, 'optimized')
        self.remove_listener(self.tgt, self.nqn, self.port1)
        silent = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.addCleanup(silent.close)
        silent.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        wait_until(lambda: _try_bind(silent, self.port1), what='port %s free' % self.p1)
        silent.listen(16)  # accepted by the kernel, never read: ICReq gets no ICResp
        # While path 1 is stuck connecting, path 2 takes the I/O and RPCs are answered.
        self.wait_until_state(bp, self.p1, ('resetting',))
        self.assert_only(bp, self.port2, self.port1)
        self.assertEqual(bp.ctrlr_states(), {self.p1: 'resetting', self.p2: 'enabled'})
        self.assertFalse(run.done(), 'the run ended before the checks: raise -t')
        self.finish(bp, run)

    def wait_until_state(self, bp, port, states):
        return wait_until(lambda: bp.ctrlr_states().get(port) in states,
                          what='path %s in state %r' % (port, states))


class ActiveActiveTest(MultipathTestBase):
    def test_round_robin_spreads_io(self):
        bp = self.start_bdevperf(*IO_ARGS, '-t', '4')
        self.assertIs(bp.rpc('bdev_nvme_set_multipath_policy', {
            'name': 'Nvme0n1', 'policy': 'active_active', 'selector': 'round_robin'}), True)
        run = bp.perform_tests()
        d = sample_run(bp, run, 4000, (self.p1, self.p2))
        total = d.get(self.p1, 0) + d.get(self.p2, 0)
        self.assertGreaterEqual(total, MIN_SAMPLE, 'too few I/Os sampled: %r' % d)
        for p in (self.p1, self.p2):
            self.assertGreaterEqual(d.get(p, 0) * 5, total, 'round robin: %r' % d)
        self.finish(bp, run)


class QueueDepthDelayTest(MultipathTestBase):
    """Two targets serve one namespace: A exports Malloc0 directly; B attaches A's namespace
    (the nvme bdev again), puts a delay bdev over it and exports that under the same NQN and
    the same namespace ids. Writes through B land on A, so verify stays consistent."""

    DELAY_US = 5000
    NS_UUID = str(uuid.UUID('6c3e9f2a-1d4b-4c5e-9a7f-0b1c2d3e4f50'))

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix='pollux-mp-')
        self.addCleanup(shutil.rmtree, self.tmp, True)
        self.nqn = unique_nqn('qd')
        nguid = self.NS_UUID.replace('-', '').upper()
        ns = {'bdev_name': 'Malloc0', 'uuid': self.NS_UUID, 'nguid': nguid}

        self.tgt = self.start_nvmf_target('-m', '0x1')
        self.create_transport(self.tgt)
        self.malloc(self.tgt, 'Malloc0', num_blocks=MALLOC_BLOCKS)
        self.tgt.rpc('nvmf_create_subsystem', {'nqn': self.nqn, 'allow_any_host': True,
                                               'serial_number': 'POLLUXQD0001'})
        self.tgt.rpc('nvmf_subsystem_add_ns', {'nqn': self.nqn, 'namespace': ns})
        self.port1 = free_port()
        self.add_listener(self.tgt, self.nqn, self.port1)

        # B: the same subsystem once more, slowed down; other controller IDs than A's.
        self.tgt_b = self.start_nvmf_target('-m', '0x1')
        self.assertEqual(self.tgt_b.rpc('bdev_nvme_attach_controller',
                                        attach_params(self.port1, self.nqn, name='Fwd0')),
                         ['Fwd0n1'])
        self.tgt_b.rpc('bdev_delay_create', {
            'base_bdev_name': 'Fwd0n1', 'name': 'Delay0',
            'avg_read_latency': self.DELAY_US, 'p99_read_latency': self.DELAY_US,
            'avg_write_latency': self.DELAY_US, 'p99_write_latency': self.DELAY_US})
        self.create_transport(self.tgt_b)
        self.tgt_b.rpc('nvmf_create_subsystem', {'nqn': self.nqn, 'allow_any_host': True,
                                                 'serial_number': 'POLLUXQD0001',
                                                 'min_cntlid': 1000})
        self.tgt_b.rpc('nvmf_subsystem_add_ns', {'nqn': self.nqn,
                                                 'namespace': dict(ns, bdev_name='Delay0')})
        self.port2 = free_port()
        while self.port2 == self.port1:
            self.port2 = free_port()
        self.add_listener(self.tgt_b, self.nqn, self.port2)
        self.p1, self.p2 = str(self.port1), str(self.port2)

    def sample(self, bp, run, total):
        d = sample_run(bp, run, total, (self.p1, self.p2))
        self.assertGreaterEqual(sum(d.values()), MIN_SAMPLE,
                                'too few I/Os sampled before the run ended: %r' % d)
        return d

    def test_queue_depth_prefers_fast_path_round_robin_does_not(self):
        bp = self.start_bdevperf(*IO_ARGS, '-t', '3')
        paths = bp.io_paths()
        ctrlrs = bp.rpc('bdev_nvme_get_controllers', {'name': 'Nvme0'})[0]['ctrlrs']
        self.assertEqual(sorted(c['trid']['trsvcid'] for c in ctrlrs),
                         sorted([self.p1, self.p2]), 'the two namespaces did not merge')
        self.assertEqual(bp.bdev_names(), ['Nvme0n1'], paths)

        self.assertIs(bp.rpc('bdev_nvme_set_multipath_policy', {
            'name': 'Nvme0n1', 'policy': 'active_active', 'selector': 'queue_depth'}), True)
        run = bp.perform_tests()
        d = self.sample(bp, run, 2000)
        self.assertGreater(d.get(self.p1, 0), 3 * d.get(self.p2, 0), 'queue_depth: %r (fast %s)'
                           % (d, self.p1))
        run.wait()
        self.assertEqual(run.job()['status'], 'finished', run.job())
        self.assertEqual(run.job()['io_failed'], 0, run.job())

        self.assertIs(bp.rpc('bdev_nvme_set_multipath_policy', {
            'name': 'Nvme0n1', 'policy': 'active_active', 'selector': 'round_robin'}), True)
        run = bp.perform_tests()
        d = self.sample(bp, run, 1000)
        total = d[self.p1] + d[self.p2]
        for p in (self.p1, self.p2):
            self.assertGreaterEqual(d.get(p, 0) * 10, total * 3, 'round_robin: %r' % d)
        self.finish(bp, run)
        self.assertTrue(self.tgt_b.running(), 'target B died')


class ReconnectTestBase(StopTargetsMixin, NvmfTargetMixin, NvmfTestCase):
    """A target whose namespace is an aio bdev over a file in the temp dir, so the data
    survives a restart of the target; the namespace ids are fixed for the same reason.
    bdevperf attaches it once (no second path) with the reconnect parameters of the test."""

    NS_UUID = '0f1e2d3c-4b5a-4697-8877-665544332211'

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix='pollux-rc-')
        self.addCleanup(shutil.rmtree, self.tmp, True)
        self.file = os.path.join(self.tmp, 'ns.img')
        with open(self.file, 'wb') as f:
            f.truncate(MALLOC_BLOCKS * 512)
        self.nqn = unique_nqn('rc')
        self.port = free_port()
        self.tgt = self.start_ns_target()

    def start_ns_target(self):
        tgt = self.start_nvmf_target('-m', '0x1')
        self.create_transport(tgt)
        tgt.rpc('bdev_aio_create', {'name': 'Aio0', 'filename': self.file,
                                    'block_size': 512})
        tgt.rpc('nvmf_create_subsystem', {'nqn': self.nqn, 'allow_any_host': True,
                                          'serial_number': 'POLLUXRC0001'})
        tgt.rpc('nvmf_subsystem_add_ns', {'nqn': self.nqn, 'namespace': {
            'bdev_name': 'Aio0', 'uuid': self.NS_UUID,
            'nguid': self.NS_UUID.replace('-', '')}})
        self.add_listener(tgt, self.nqn, self.port)
        return tgt

    def kill_target(self):
        self.tgt.proc.send_signal(signal.SIGKILL)
        self.tgt.proc.wait(30)
        self.tgt = None  # its temp dir goes at cleanup

    def start_bdevperf(self, *args, **attach):
        bp = Bdevperf(self.tmp, bdev_config(attach_entry(self.port, self.nqn, **attach)),
                      *args)
        self.addCleanup(bp.close)
        self.addCleanup(MultipathTestBase._dump_bdevperf, self, bp)
        bp.start()
        return bp

    def wait_io(self, bp):
        wait_growth(bp, self.port, SOME_IOS, 'I/O on the path')

    def wait_state(self, bp, *states):
        return wait_until(lambda: (lambda s: s if s.get(str(self.port)) in states else None)(
            bp.ctrlr_states()), what='controller state in %r' % (states,))

    def stop_bdevperf(self, bp):
        self.assertEqual(bp.stop(), 0, tail(bp.stderr()))
        self.assertNotIn('runtime error', bp.stderr())


class ReconnectTest(ReconnectTestBase):
    def test_target_restart_under_verify(self):
        bp = self.start_bdevperf(*IO_ARGS, '-t', '8', ctrlr_loss_timeout_sec=10,
                                 reconnect_delay_sec=1, fast_io_fail_timeout_sec=0)
        run = bp.perform_tests()
        self.wait_io(bp)
        time.sleep(1)  # a little data written before the kill
        self.kill_target()
        self.wait_state(bp, 'resetting', 'reconnect_is_delayed')
        time.sleep(2)
        self.tgt = self.start_ns_target()
        self.wait_state(bp, 'enabled')
        self.wait_io(bp)
        self.assertFalse(run.done(), 'the run ended before the reconnect: raise -t')
        run.wait()
        job = run.job()
        self.assertEqual(job['status'], 'finished', job)
        self.assertEqual(job['io_failed'], 0, job)
        self.assertEqual(bp.ctrlr_states(), {str(self.port): 'enabled'})
        self.assertEqual(bp.bdev_names(), ['Nvme0n1'])
        self.stop_bdevperf(bp)


class CtrlrLossTimeoutTest(ReconnectTestBase):
    def test_controller_given_up(self):
        bp = self.start_bdevperf(*IO_ARGS, '-t', '10', ctrlr_loss_timeout_sec=3,
                                 reconnect_delay_sec=1)
        run = bp.perform_tests()
        self.wait_io(bp)
        self.kill_target()
        # Bounded: past ctrlr_loss_timeout_sec the controller and its only bdev go.
        wait_until(lambda: bp.ctrlr_states() == {}, what='the controller being deleted')
        wait_until(lambda: bp.bdev_names() == [], what='Nvme0n1 being removed')
        run.wait()
        # The run ends because I/O failed or the bdev went away, never "finished" cleanly.
        if run.result is not None:
            job = run.job()
            self.assertIn(job['status'], ('failed', 'removed'), job)
        else:
            self.assertIsNotNone(getattr(run.error, 'error', None), run.error)
            self.assertIn('bdev missing or removed', run.error.message)
        self.assertEqual(bp.rpc('bdev_nvme_get_controllers'), [])
        self.assertTrue(bp.running())
        self.stop_bdevperf(bp)


class FastIoFailTest(ReconnectTestBase):
    def test_io_fails_early_then_controller_comes_back(self):
        bp = self.start_bdevperf(*IO_ARGS, '-t', '4', ctrlr_loss_timeout_sec=10,
                                 reconnect_delay_sec=1, fast_io_fail_timeout_sec=2)
        run = bp.perform_tests()
        self.wait_io(bp)
        self.kill_target()
        run.wait()
        # I/O failed (fast_io_fail) while the controller still exists and keeps trying.
        if run.result is not None:
            job = run.job()
            self.assertTrue(job['status'] == 'failed' or job['io_failed'] > 0, job)
        else:
            self.assertIsNotNone(getattr(run.error, 'error', None), run.error)
            self.assertIn('I/O failed', run.error.message)
        ctrlrs = bp.rpc('bdev_nvme_get_controllers', {'name': 'Nvme0'})[0]['ctrlrs']
        self.assertEqual(len(ctrlrs), 1)
        self.assertIn(ctrlrs[0]['state'], ('resetting', 'reconnect_is_delayed'), ctrlrs)
        self.assertIs(ctrlrs[0]['fast_io_fail_timedout'], True, ctrlrs)
        self.assertEqual(bp.bdev_names(), ['Nvme0n1'])

        self.tgt = self.start_ns_target()
        self.wait_state(bp, 'enabled')
        c = bp.rpc('bdev_nvme_get_controllers', {'name': 'Nvme0'})[0]['ctrlrs'][0]
        self.assertIs(c['fast_io_fail_timedout'], False, c)
        run = bp.perform_tests()
        run.wait()
        job = run.job()
        self.assertEqual(job['status'], 'finished', job)
        self.assertEqual(job['io_failed'], 0, job)
        self.assertGreater(job['iops'], 0, job)
        self.stop_bdevperf(bp)


if __name__ == '__main__':
    unittest.main()
