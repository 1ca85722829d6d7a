# SPDX-License-Identifier: BSD-3-Clause
"""Shared helpers of the nvme bdev's multipath and reconnect tests: bdevperf started with -z as
the host (its RPC socket, its stdout, perform_tests in the background), per-path I/O counters
from bdev_nvme_get_io_paths, and target-side ANA and listener changes.

Every wait is bounded and only detects hangs; nothing here measures speed."""

import json
import os
import subprocess
import threading
import time
import unittest

from nvmf_helpers import ADDR, listen_address, wait_until
from pollux_test import JSONRPCClient, JSONRPCException, build_dir, tail

RUN_TIMEOUT = 120.0  # upper bound for one bdevperf run to answer
READY_TIMEOUT = 60.0
STOP_TIMEOUT = 30.0


def bdevperf_binary():
    path = os.path.join(build_dir(), 'app', 'bdevperf', 'bdevperf')
    if not os.access(path, os.X_OK):
        raise unittest.SkipTest('bdevperf is not built: %s is missing' % path)
    return path


def attach_params(port, nqn, name='Nvme0', **kw):
    p = {'name': name, 'trtype': 'tcp', 'adrfam': 'ipv4', 'traddr': ADDR,
         'trsvcid': str(port), 'subnqn': nqn}
    p.update(kw)
    return p


def bdev_config(*entries):
    return json.dumps({'subsystems': [{'subsystem': 'bdev', 'config': list(entries)}]})


def attach_entry(port, nqn, **kw):
    return {'method': 'bdev_nvme_attach_controller', 'params': attach_params(port, nqn, **kw)}


class PerformTests:
    """One perform_tests call running in a background thread."""

    def __init__(self, sock):
        self.sock = sock
        self.result = None
        self.error = None
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self):
        try:
            with JSONRPCClient(self.sock, timeout=RUN_TIMEOUT, connect_timeout=10) as c:
                self.result = c.call('perform_tests')
        except JSONRPCException as e:
            self.error = e
        except OSError as e:  # the daemon went away: reported by wait()
            self.error = e

    def done(self):
        return not self._thread.is_alive()

    def wait(self, timeout=RUN_TIMEOUT):
        self._thread.join(timeout)
        if self._thread.is_alive():
            raise AssertionError('perform_tests did not answer within %ss' % timeout)
        return self

    def job(self, name='Nvme0n1'):
        """The result entry of job name (the call must have succeeded)."""
        if self.result is None:
            raise AssertionError('perform_tests failed: %r' % (self.error,))
        jobs = [r for r in self.result['results'] if r['job'] == name]
        if len(jobs) != 1:
            raise AssertionError('no single job %s in %r' % (name, self.result))
        return jobs[0]


class Bdevperf:
    """bdevperf -z -r SOCK --json CONF ARGS..., idle until perform_tests arrives."""

    def __init__(self, tmpdir, conf_text, *args, core_mask='0x2'):
        self.tmpdir = tmpdir
        self.sock = os.path.join(tmpdir, 'bdevperf.sock')
        self.conf = os.path.join(tmpdir, 'bdevperf.json')
        with open(self.conf, 'w') as f:
            f.write(conf_text)
        self.cmd = [bdevperf_binary(), '-m', core_mask, '-z', '-r', self.sock,
                    '--json', self.conf] + [str(a) for a in args]
        self.lines = []
        self._ready = threading.Event()
        self._err = open(os.path.join(tmpdir, 'bdevperf.err'), 'w+')
        self.proc = None

    def start(self):
        self.proc = subprocess.Popen(self.cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                     stderr=self._err, text=True, errors='replace')
        threading.Thread(target=self._read, daemon=True).start()
        if not self._ready.wait(READY_TIMEOUT) or self.proc.poll() is not None:
            raise AssertionError('bdevperf -z did not get ready (exit %s)\nstdout:\n%s\n'
                                 'stderr:\n%s' % (self.proc.poll(), self.stdout(),
                                                  tail(self.stderr())))
        return self

    def _read(self):
        for line in self.proc.stdout:
            self.lines.append(line.rstrip('\n'))
            if 'waiting for the perform_tests RPC' in line:
                self._ready.set()
        self._ready.set()

    def stdout(self):
        return '\n'.join(self.lines)

    def stderr(self):
        self._err.flush()
        with open(self._err.name, errors='replace') as f:
            return f.read()

    def running(self):
        return self.proc is not None and self.proc.poll() is None

    def rpc(self, method, params=None, timeout=60.0):
        with JSONRPCClient(self.sock, timeout=timeout, connect_timeout=10) as c:
            return c.call(method, params)

    def perform_tests(self):
        return PerformTests(self.sock)

    def stop(self):
        """SIGTERM; returns the exit code (kills after STOP_TIMEOUT and fails)."""
        if self.running():
            self.proc.terminate()
        try:
            return self.proc.wait(STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise AssertionError('bdevperf did not exit within %ss after SIGTERM\n%s'
                                 % (STOP_TIMEOUT, tail(self.stderr()))) from None

    def close(self):
        if self.proc is not None:
            if self.proc.poll() is None:
                self.proc.kill()
            self.proc.wait()
            self.proc.stdout.close()
        self._err.close()

    # -- the nvme bdev's view ------------------------------------------------------------------
    def io_paths(self, bdev='Nvme0n1'):
        res = self.rpc('bdev_nvme_get_io_paths', {'name': bdev})
        return [p for pg in res['poll_groups'] for p in pg['io_paths']]

    def path_ops(self, bdev='Nvme0n1'):
        """{trsvcid: read+write ops} summed over every thread's channel."""
        ops = {}
        for p in self.io_paths(bdev):
            key = p['transport']['trsvcid']
            ops[key] = ops.get(key, 0) + p['stat']['num_read_ops'] + p['stat']['num_write_ops']
        return ops

    def current_ports(self, bdev='Nvme0n1'):
        return sorted({p['transport']['trsvcid'] for p in self.io_paths(bdev) if p['current']})

    def ctrlr_states(self, name='Nvme0'):
        """{trsvcid: state} of every controller (path) of name; {} when name is gone."""
        try:
            got = self.rpc('bdev_nvme_get_controllers', {'name': name})
        except JSONRPCException as e:
            if e.error is not None and e.code == -19:
                return {}
            raise
        return {c['trid']['trsvcid']: c['state'] for g in got for c in g['ctrlrs']}

    def bdev_names(self):
        return sorted(b['name'] for b in self.rpc('bdev_get_bdevs'))


def ops_delta(before, after):
    keys = set(before) | set(after)
    return {k: after.get(k, 0) - before.get(k, 0) for k in keys}


def wait_growth(bp, port, n, what, timeout=30.0):
    """Wait until path port has done n more I/Os than now; returns the counters then."""
    base = bp.path_ops().get(str(port), 0)
    return wait_until(lambda: (lambda o: o if o.get(str(port), 0) - base >= n else None)(
        bp.path_ops()), timeout=timeout, what=what)


def sample_run(bp, run, total, ports, timeout=30.0):
    """Per-path I/O counts over the next total I/Os of the run (fewer if the run ends
    first: the counts then go with the run's channels, so only samples taken while it was
    still going count). Starts once every path in ports has taken I/O."""
    ports = [str(p) for p in ports]
    wait_until(lambda: run.done() or all(bp.path_ops().get(p, 0) > 0 for p in ports),
               timeout=timeout, what='I/O on paths %s' % ports)
    before = bp.path_ops()
    last = before
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and not run.done():
        now = bp.path_ops()
        if any(now.get(p, 0) < before.get(p, 0) for p in before) or run.done():
            break  # the run's channels are gone
        last = now
        if sum(ops_delta(before, last).values()) >= total:
            break
        time.sleep(0.05)
    return ops_delta(before, last)


class NvmfTargetMixin:
    """Target-side changes (self.tgt) over RPC."""

    def set_ana(self, tgt, nqn, port, state):
        tgt.rpc('nvmf_subsystem_listener_set_ana_state',
                {'nqn': nqn, 'ana_state': state, 'listen_address': listen_address(port)})

    def add_listener(self, tgt, nqn, port):
        tgt.rpc('nvmf_subsystem_add_listener', {'nqn': nqn,
                                                'listen_address': listen_address(port)})

    def remove_listener(self, tgt, nqn, port):
        tgt.rpc('nvmf_subsystem_remove_listener', {'nqn': nqn,
                                                   'listen_address': listen_address(port)})
