# SPDX-License-Identifier: BSD-3-Clause
"""Shared helpers of the null, malloc, delay and error bdev functional tests: bdevperf runs
on a config, the save_config / --json restart round trip, and rpc.py sub-command checks.

Runs are short and only their outcome is asserted, never their speed."""

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import unittest

from pollux_test import RPC_PY, JSONRPCClient, JSONRPCException, TargetTestCase, build_dir

BDEVPERF_TIMEOUT = 120


def bdevperf_binary():
    path = os.path.join(build_dir(), 'app', 'bdevperf', 'bdevperf')
    if not os.access(path, os.X_OK):
        raise unittest.SkipTest('bdevperf is not built: %s is missing' % path)
    return path


def bdev_config(entries):
    return {'subsystems': [{'subsystem': 'bdev', 'config': list(entries)}]}


def cli_has(method):
    """Whether scripts/rpc.py knows the sub-command yet (it is wired in rpc/__init__.py)."""
    cp = subprocess.run([sys.executable, RPC_PY, method, '-h'], capture_output=True, text=True,
                        timeout=60)
    return cp.returncode == 0


class ModuleTestCase(TargetTestCase):
    """A target per test; helpers for bdev listings, bdevperf and config round trips."""

    def bdevs(self, tgt):
        return {b['name']: b for b in tgt.rpc('bdev_get_bdevs')}

    def require_cli(self, *methods):
        for m in methods:
            if not cli_has(m):
                self.skipTest('rpc.py has no %s sub-command yet (scripts/rpc/bdev.py '
                              'add_parsers not wired in scripts/rpc/__init__.py)' % m)

    def bdevperf(self, entries, *args, expect_ok=True):
        """Run bdevperf on a config holding entries; returns the CompletedProcess."""
        binary = bdevperf_binary()
        d = tempfile.mkdtemp(prefix='pollux-bm-')
        path = os.path.join(d, 'c.json')
        self.addCleanup(shutil.rmtree, d, True)
        with open(path, 'w') as f:
            json.dump(bdev_config(entries), f)
        cmd = [binary, '--json', path] + [str(a) for a in args]
        cp = subprocess.run(cmd, capture_output=True, text=True, timeout=BDEVPERF_TIMEOUT,
                            stdin=subprocess.DEVNULL)
        if expect_ok:
            self.assertEqual(cp.returncode, 0, 'bdevperf %s: exit %d\nstdout:\n%s\nstderr:\n%s'
                             % (' '.join(cmd[1:]), cp.returncode, cp.stdout[-3000:],
                                cp.stderr[-3000:]))
            self.assertIn('Total', cp.stdout)
        return cp

    def verify(self, entries, bdev):
        return self.bdevperf(entries, '-q', 32, '-o', 4096, '-w', 'verify', '-t', 2, '-T', bdev)

    def config_roundtrip(self, tgt, names):
        """save_config, restart with --json, and check that names come back the same."""
        before = self.bdevs(tgt)
        cp = tgt.rpc_cli('save_config')
        self.assertEqual(cp.returncode, 0, cp.stderr)
        config = json.loads(cp.stdout)
        path = tgt.write_file('saved.json', json.dumps(config))
        tgt.stop()
        tgt2 = self.start_target('--json', path)
        after = self.bdevs(tgt2)
        for n in names:
            self.assertIn(n, after, 'bdev %s not recreated from %s' % (n, json.dumps(config)))
            for key in ('uuid', 'num_blocks', 'block_size', 'product_name',
                        'optimal_io_boundary', 'claimed'):
                self.assertEqual(after[n][key], before[n][key], '%s: %s' % (n, key))
        return tgt2, after


class BdevperfServer:
    """bdevperf -z with its own RPC socket: configure over RPC, then run perform_tests."""

    def __init__(self, testcase, entries, *args):
        self.dir = tempfile.mkdtemp(prefix='pollux-bmz-')
        testcase.addCleanup(shutil.rmtree, self.dir, True)
        self.sock = os.path.join(self.dir, 'rpc.sock')
        conf = os.path.join(self.dir, 'c.json')
        with open(conf, 'w') as f:
            json.dump(bdev_config(entries), f)
        cmd = [bdevperf_binary(), '-z', '-r', self.sock, '--json', conf] + [str(a) for a in args]
        self.stderr = open(os.path.join(self.dir, 'stderr.log'), 'w')
        testcase.addCleanup(self.stderr.close)
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=self.stderr, text=True,
                                     stdin=subprocess.DEVNULL)
        testcase.addCleanup(self.kill)
        self.out = []
        ready = threading.Event()

        def reader():
            for line in self.proc.stdout:
                self.out.append(line)
                if 'waiting for the perform_tests RPC' in line:
                    ready.set()
            ready.set()
        self.reader = threading.Thread(target=reader, daemon=True)
        self.reader.start()
        testcase.assertTrue(ready.wait(60) and self.proc.poll() is None,
                            'bdevperf -z did not come up: %s' % ''.join(self.out))

    def rpc(self, method, params=None):
        with JSONRPCClient(self.sock, timeout=BDEVPERF_TIMEOUT, connect_timeout=10) as c:
            return c.call(method, params)

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        rc = self.proc.wait(60)
        self.reader.join(10)
        return rc

    def output(self):
        return ''.join(self.out)

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()
        self.proc.stdout.close()


def hot_remove_under_load(testcase, bp, victim, job, before_remove=None):
    """Run perform_tests on bp, delete bdev victim (a malloc bdev) meanwhile: the run must end
    with an error for job's bdev going away, and bdevperf must stop cleanly."""
    answer = {}

    def run():
        try:
            answer['result'] = bp.rpc('perform_tests')
        except JSONRPCException as e:
            answer['error'] = e
    t = threading.Thread(target=run, daemon=True)
    t.start()
    time.sleep(1.0)
    if before_remove is not None:
        before_remove()
        time.sleep(0.2)
    testcase.assertIs(bp.rpc('bdev_malloc_delete', {'name': victim}), True)
    t.join(60)
    testcase.assertFalse(t.is_alive(), 'perform_tests did not answer after the hot remove')
    testcase.assertIn('error', answer, 'the run on %s should fail when it goes away' % job)
    testcase.assertEqual(answer['error'].code, -19)
    names = [b['name'] for b in bp.rpc('bdev_get_bdevs')]
    testcase.assertNotIn(job, names)
    testcase.assertNotIn(victim, names)
    testcase.assertEqual(bp.stop(), 0)
