# SPDX-License-Identifier: BSD-3-Clause
"""The NVMe host tools against Pollux's own NVMe/TCP target: hello_nvme writes and reads back
"Hello world!", nvme_identify shows the subsystem and its namespace, nvme_perf runs random
reads and writes (also with verification, digests, several queue pairs and controllers) and
fails cleanly, with a message, on bad transport IDs and unreachable or unknown subsystems.

Runs are short (2 s) and only their outcome is asserted, never their speed."""

import os
import re
import subprocess
import unittest

from nvmf_helpers import ADDR, BLOCK, NUM_BLOCKS, SharedNvmfTestCase, free_port, unique_nqn
from pollux_test import build_dir

RUN_TIMEOUT = 120
TOTAL_RE = re.compile(r'^Total\s*:\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)$',
                      re.M)
ROW_RE = re.compile(r'^TCP \(addr:([^ ]+) subnqn:(\S+)\) NSID (\d+) from core\s+(\d+)\s*:'
                    r'\s+([\d.]+)\s+([\d.]+)', re.M)
VERIFY_RE = re.compile(r'^Verify: (\d+) blocks checked, (\d+) errors', re.M)


def tool(*parts):
    path = os.path.join(build_dir(), *parts)
    if not os.access(path, os.X_OK):
        raise unittest.SkipTest('%s is not built: %s is missing' % (parts[-1], path))
    return path


def perf_core():
    """Run nvme_perf on the core the target does not poll (core 1) when there is one."""
    return '0x2' if (os.cpu_count() or 1) > 1 else '0x1'


class NvmeToolsTest(SharedNvmfTestCase):
    # The target polls core 0; nvme_perf's worker gets core 1.
    TARGET_ARGS = ('-m', '0x1')

    def trid(self, nqn=None, port=None, addr=ADDR):
        return ('trtype:tcp adrfam:IPv4 traddr:%s trsvcid:%d subnqn:%s'
                % (addr, port or self.port, nqn or self.nqn))

    def run_tool(self, binary, *args):
        args = [str(a) for a in args]
        cp = subprocess.run([binary] + args, capture_output=True, text=True,
                            timeout=RUN_TIMEOUT, stdin=subprocess.DEVNULL)
        self.assertTrue(self.tgt.running(), 'pollux_tgt died running %s' % ' '.join(args))
        return cp

    def ok(self, binary, *args):
        cp = self.run_tool(binary, *args)
        self.assertEqual(cp.returncode, 0, '%s %s failed (%d)\nstdout:\n%s\nstderr:\n%s'
                         % (os.path.basename(binary), ' '.join(map(str, args)), cp.returncode,
                            cp.stdout, cp.stderr))
        return cp

    def fails(self, binary, *args, message=()):
        cp = self.run_tool(binary, *args)
        self.assertNotEqual(cp.returncode, 0, '%s %s succeeded\nstdout:\n%s'
                            % (os.path.basename(binary), ' '.join(map(str, args)), cp.stdout))
        self.assertNotIn('Sanitizer', cp.stderr)
        for m in ([message] if isinstance(message, str) else message):
            self.assertIn(m, cp.stderr)
        return cp

    # -- hello_nvme ---------------------------------------------------------------------------
    def test_hello_nvme(self):
        hello = tool('examples', 'hello_nvme', 'hello_nvme')
        cp = self.ok(hello, '-r', self.trid())
        self.assertIn('Hello world!\n', cp.stdout)

    def test_hello_nvme_unreachable(self):
        hello = tool('examples', 'hello_nvme', 'hello_nvme')
        cp = self.fails(hello, '-r', self.trid(port=free_port()))
        self.assertNotIn('Hello world!', cp.stdout)

    # -- nvme_identify ------------------------------------------------------------------------
    def test_identify(self):
        identify = tool('app', 'nvme_identify', 'nvme_identify')
        out = self.ok(identify, '-r', self.trid()).stdout
        self.assertIn('POLLUXSN0001', out)
        self.assertIn('Pollux Test Model', out)
        self.assertRegex(out, r'Subsystem NQN:\s+%s\n' % re.escape(self.nqn))
        self.assertIn('Namespace ID:1', out)
        self.assertRegex(out, r'Size \(NSZE\):\s+%d blocks, %d bytes'
                         % (NUM_BLOCKS, NUM_BLOCKS * BLOCK))
        self.assertRegex(out, r'Sector Size:\s+%d bytes' % BLOCK)
        self.assertRegex(out, r'LBA Format #00: Data Size:\s+%d .*\(in use\)' % BLOCK)
        self.assertRegex(out, r'Max Data Transfer Size \(MDTS\):\s+(\d+ bytes|unlimited)')
        self.assertIn('I/O Command Capsule Size:', out)
        self.assertNotIn('00000000 ', out)

    def test_identify_hex(self):
        identify = tool('app', 'nvme_identify', 'nvme_identify')
        out = self.ok(identify, '-x', '-r', self.trid()).stdout
        self.assertIn('Identify Controller data (4096 bytes):', out)
        self.assertIn('Identify Namespace data (4096 bytes):', out)
        # The serial number sits at byte 4 of Identify Controller: it shows in the ASCII column.
        self.assertRegex(out, r'00000000 .*\|....POLLUXSN0001')

    def test_identify_discovery(self):
        # No subnqn: the discovery controller lists the subsystem, which is then identified.
        identify = tool('app', 'nvme_identify', 'nvme_identify')
        out = self.ok(identify, '-r', 'trtype:tcp adrfam:IPv4 traddr:%s trsvcid:%d'
                      % (ADDR, self.port)).stdout
        self.assertIn('NVMe over Fabrics controller at %s:%d (TCP, IPv4): %s'
                      % (ADDR, self.port, self.nqn), out)
        self.assertIn('POLLUXSN0001', out)

    def test_identify_errors(self):
        identify = tool('app', 'nvme_identify', 'nvme_identify')
        self.fails(identify, '-r', 'trtype:bogus traddr:1.2.3.4', message="-r 'trtype:bogus")
        self.fails(identify, '-r', self.trid(port=free_port()), message='cannot connect')
        self.fails(identify, '-r', self.trid(nqn=unique_nqn('nosuch')),
                   message='cannot connect')

    # -- nvme_perf ----------------------------------------------------------------------------
    def perf(self, *args, time_sec=2, trids=None):
        perf = tool('app', 'nvme_perf', 'nvme_perf')
        argv = []
        for t in (trids or [self.trid()]):
            argv += ['-r', t]
        argv += ['-c', perf_core(), '-t', time_sec] + list(args)
        return self.ok(perf, *argv).stdout

    def total(self, out):
        m = TOTAL_RE.search(out)
        self.assertIsNotNone(m, 'no Total line in:\n' + out)
        return tuple(float(x) for x in m.groups())

    def assert_ran(self, out, rows=1):
        iops, mibs, avg, mn, mx = self.total(out)
        self.assertGreater(iops, 0, out)
        self.assertGreater(mibs, 0, out)
        self.assertLessEqual(mn, avg, out)
        self.assertLessEqual(avg, mx, out)
        found = ROW_RE.findall(out)
        self.assertEqual(len(found), rows, out)
        for row in found:
            self.assertGreater(float(row[4]), 0, out)
        return found

    def test_perf_randread(self):
        out = self.perf('-q', 32, '-o', 4096, '-w', 'randread')
        row = self.assert_ran(out)[0]
        self.assertEqual(row[0], '%s:%d' % (ADDR, self.port))
        self.assertEqual(row[1], self.nqn)
        self.assertEqual(row[2], '1')
        self.assertIn('Attached to NVMe over Fabrics controller at %s:%d: %s'
                      % (ADDR, self.port, self.nqn), out)
        self.assertRegex(out, r'Core\s+\d+: initiator busy .* ns per I/O \(submission batching on\)')

    def test_perf_randwrite(self):
        self.assert_ran(self.perf('-q', 32, '-o', '4k', '-w', 'randwrite'))

    def test_perf_sequential_and_mixed(self):
        self.assert_ran(self.perf('-q', 8, '-o', 8192, '-w', 'read', time_sec=1))
        self.assert_ran(self.perf('-q', 8, '-o', 512, '-w', 'rw', '-M', 70, time_sec=1))

    def test_perf_verify(self):
        out = self.perf('-q', 32, '-o', 4096, '-w', 'randrw', '-M', 50, '-V', '-s', 7)
        self.assert_ran(out)
        m = VERIFY_RE.search(out)
        self.assertIsNotNone(m, out)
        self.assertGreater(int(m.group(1)), 0, out)
        self.assertEqual(int(m.group(2)), 0, out)

    def test_perf_verify_across_runs(self):
        # Write the whole namespace with one seed, then a read-only run checks every block.
        self.assert_ran(self.perf('-q', 16, '-o', 4096, '-w', 'write', '-V', '-s', 99))
        out = self.perf('-q', 16, '-o', 4096, '-w', 'randread', '-V', '-s', 99)
        m = VERIFY_RE.search(out)
        self.assertIsNotNone(m, out)
        self.assertGreater(int(m.group(1)), 0, out)
        self.assertEqual(int(m.group(2)), 0, out)

    def test_perf_digests(self):
        out = self.perf('-q', 32, '-o', 4096, '-w', 'randrw', '-H', '-I', '-V')
        self.assert_ran(out)
        self.assertEqual(int(VERIFY_RE.search(out).group(2)), 0, out)

    def test_perf_latency_percentiles(self):
        out = self.perf('-q', 16, '-o', 4096, '-w', 'randread', '-L', time_sec=1)
        self.assert_ran(out)
        self.assertIn('Summary latency data for TCP', out)
        self.assertRegex(out, r'99\.00000% :\s+[\d.]+us')
        self.assertNotIn('Latency histogram', out)
        out = self.perf('-q', 16, '-o', 4096, '-w', 'randread', '-LL', time_sec=1)
        self.assertIn('Latency histogram for TCP', out)
        self.assertRegex(out, r'100\.0000%')

    def test_perf_no_batch_and_qpairs(self):
        out = self.perf('-q', 16, '-o', 4096, '-w', 'randread', '--no-batch', time_sec=1)
        self.assert_ran(out)
        self.assertIn('submission batching off', out)
        self.assert_ran(self.perf('-q', 16, '-o', 4096, '-w', 'randwrite', '-P', 2, time_sec=1))

    def test_perf_two_controllers(self):
        nqn2 = unique_nqn('perf')
        self.malloc(self.tgt, 'PerfMalloc1')
        self.addCleanup(self.tgt.rpc, 'bdev_malloc_delete', {'name': 'PerfMalloc1'})
        _, port2 = self.subsystem(self.tgt, nqn=nqn2, bdevs=['PerfMalloc1'])
        self.addCleanup(self.tgt.rpc, 'nvmf_delete_subsystem', {'nqn': nqn2})
        out = self.perf('-q', 8, '-o', 4096, '-w', 'randrw', '-V', time_sec=1,
                        trids=[self.trid(), self.trid(nqn=nqn2, port=port2)])
        rows = self.assert_ran(out, rows=2)
        self.assertEqual({r[1] for r in rows}, {self.nqn, nqn2})
        self.assertEqual(int(VERIFY_RE.search(out).group(2)), 0, out)

    def test_perf_bad_input(self):
        perf = tool('app', 'nvme_perf', 'nvme_perf')
        base = ['-q', 4, '-o', 4096, '-w', 'randread', '-t', 1, '-c', perf_core()]
        self.fails(perf, '-r', 'trtype:tcp traddr:127.0.0.1 trsvcid:1 bogus:1', *base,
                   message='-r ')
        self.fails(perf, '-r', self.trid(port=free_port()), *base,
                   message='cannot connect to TCP (addr:%s' % ADDR)
        self.fails(perf, '-r', self.trid(nqn=unique_nqn('nosuch')), *base,
                   message='cannot connect')
        self.fails(perf, '-r', self.trid(), '-q', 4, '-o', 4096, '-t', 1,
                   message='-q, -o, -w and -t are required')
        self.fails(perf, '-r', self.trid(), *(base[:4] + ['-w', 'sideways'] + base[6:]),
                   message="unknown workload 'sideways'")
        self.fails(perf, '-r', self.trid(), *(['-q', 4, '-o', 1000] + base[4:]),
                   message='no namespace')


if __name__ == '__main__':
    unittest.main()
