# SPDX-License-Identifier: BSD-3-Clause
"""The NVMe host tools (hello_nvme, nvme_identify, nvme_perf) against a controller that
misbehaves (nvme_bad_target.BadTarget): malformed PDUs, wrong completions, bad digests, bad
ICResp and Connect answers, a connection cut in the middle of a PDU, silence.

For every misbehaviour the tool must exit by itself (no hang: a subprocess timeout fails the
test), with a positive exit status (no crash: a signal gives a negative one), say on stderr
what went wrong, and, under a sanitizer build, print no sanitizer report. The good-behaviour
tests first prove the target serves the tools correctly, so a failure in a bad case is the
misbehaviour's doing.

POLLUX_BUILD names the build under test (a release or an ASan/UBSan build dir)."""

import os
import subprocess
import unittest

from nvme_bad_target import BadTarget
from pollux_test import TargetTestCase
from test_nvme_tools import VERIFY_RE, perf_core, tool

RUN_TIMEOUT = 120  # hang detection only
SANITIZER_MARKERS = ('AddressSanitizer', 'LeakSanitizer', 'UndefinedBehaviorSanitizer',
                     'runtime error:')


class BadTargetTestCase(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.hello = tool('examples', 'hello_nvme', 'hello_nvme')
        cls.identify = tool('app', 'nvme_identify', 'nvme_identify')
        cls.perf = tool('app', 'nvme_perf', 'nvme_perf')

    def target(self, misbehaviour=None, **kw):
        t = BadTarget(misbehaviour, **kw).start()
        self.addCleanup(t.stop)
        return t

    def run_tool(self, t, binary, *args, timeout=RUN_TIMEOUT):
        argv = [binary, '-r', t.trid()] + [str(a) for a in args]
        try:
            cp = subprocess.run(argv, capture_output=True, text=True, errors='replace',
                                timeout=timeout, stdin=subprocess.DEVNULL)
        except subprocess.TimeoutExpired as e:
            self.fail('%s hung (no exit within %ss) against misbehaviour %s\nstdout:\n%s\n'
                      'stderr:\n%s\ntarget log:\n%s'
                      % (os.path.basename(binary), timeout, t.misbehaviour, e.stdout, e.stderr,
                         '\n'.join(t.log)))
        for m in SANITIZER_MARKERS:
            self.assertNotIn(m, cp.stderr, 'sanitizer report from %s:\n%s'
                             % (os.path.basename(binary), cp.stderr))
        return cp

    def describe(self, t, binary, cp):
        return ('%s against misbehaviour %s: exit %s\nstdout:\n%s\nstderr:\n%s\ntarget log:\n%s'
                % (os.path.basename(binary), t.misbehaviour, cp.returncode, cp.stdout[-3000:],
                   cp.stderr[-3000:], '\n'.join(t.log[-20:])))

    def perf_args(self, *extra, time_sec=2):
        return ['-q', 16, '-o', 4096, '-w', 'randrw', '-M', 50, '-t', time_sec, '-c',
                perf_core(), '-V'] + list(extra)

    def bad(self, misbehaviour, binary, *args, message=(), timeout=RUN_TIMEOUT, **kw):
        """The tool must fail cleanly: exit > 0, the messages on stderr, the target having
        actually misbehaved. Returns the CompletedProcess."""
        t = self.target(misbehaviour, **kw)
        cp = self.run_tool(t, binary, *args, timeout=timeout)
        info = self.describe(t, binary, cp)
        self.assertTrue(t.fired.is_set(), 'the misbehaviour never fired: ' + info)
        self.assertGreater(cp.returncode, 0, 'expected a clean failure: ' + info)
        for m in ([message] if isinstance(message, str) else message):
            self.assertIn(m, cp.stderr, info)
        self.assertEqual(t.errors, [], 'the host sent malformed PDUs: ' + info)
        self.assertNotIn('Hello world!', cp.stdout, info)
        m = VERIFY_RE.search(cp.stdout)
        if m:  # no wrong data slipped through as a success
            self.assertEqual(int(m.group(2)), 0, info)
        return cp


class GoodTargetTest(BadTargetTestCase):
    """Without a misbehaviour the target serves every tool: the bad cases mean something."""

    def good(self, binary, *args, **kw):
        t = self.target(**kw)
        cp = self.run_tool(t, binary, *args)
        self.assertEqual(cp.returncode, 0, self.describe(t, binary, cp))
        self.assertEqual(t.errors, [], self.describe(t, binary, cp))
        self.assertFalse(t.fired.is_set())
        return t, cp

    def test_hello(self):
        t, cp = self.good(self.hello)
        self.assertIn('Hello world!\n', cp.stdout)
        self.assertGreaterEqual(t.writes, 1)
        self.assertGreaterEqual(t.reads, 1)

    def test_hello_r2t_and_c2h_success(self):
        # No in-capsule data (the write and the I/O Connect go after an R2T), read data
        # completed by the C2HData SUCCESS flag.
        t, cp = self.good(self.hello, icd=0, c2h_success=True)
        self.assertIn('Hello world!\n', cp.stdout)

    def test_identify(self):
        _, cp = self.good(self.identify)
        self.assertIn('BADTGT0001', cp.stdout)
        self.assertIn('Pollux Bad Target', cp.stdout)
        self.assertIn('Namespace ID:1', cp.stdout)
        self.assertRegex(cp.stdout, r'Size \(NSZE\):\s+2048 blocks, 1048576 bytes')
        self.assertRegex(cp.stdout, r'ANA Group ID:\s+1 \(optimized\)')

    def check_verified(self, cp):
        m = VERIFY_RE.search(cp.stdout)
        self.assertIsNotNone(m, cp.stdout)
        self.assertGreater(int(m.group(1)), 0, cp.stdout)
        self.assertEqual(int(m.group(2)), 0, cp.stdout)

    def test_perf_verify(self):
        _, cp = self.good(self.perf, *self.perf_args())
        self.check_verified(cp)

    def test_perf_verify_digests(self):
        _, cp = self.good(self.perf, *self.perf_args('-H', '-I'))
        self.check_verified(cp)

    def test_perf_split_pdus_digests(self):
        # 8 KiB I/O: R2Ts answered with two H2CData PDUs, reads in 1 KiB C2HData PDUs with
        # padding (cpda stays 0), SUCCESS flag; header and data digests on.
        _, cp = self.good(self.perf, '-q', 8, '-o', 8192, '-w', 'randrw', '-t', 2, '-c',
                          perf_core(), '-V', '-H', '-I', icd=0, maxh2cdata=4096,
                          c2h_chunk=1024, c2h_success=True)
        self.check_verified(cp)


class HelloBadTargetTest(BadTargetTestCase):
    """hello_nvme: the first I/O read (or write) goes wrong; the I/O qpair fails cleanly."""

    QPAIR = 'NVMe/TCP qpair 1'

    def io_bad(self, misbehaviour, message, failed='read failed', **kw):
        self.bad(misbehaviour, self.hello, message=(self.QPAIR, message, failed), **kw)

    def test_unknown_pdu_type(self):
        self.io_bad('unknown_pdu_type', 'unexpected PDU type 0xb')

    def test_bad_hlen(self):
        self.io_bad('bad_hlen', 'PDU type 0x5: invalid hlen 32')

    def test_plen_smaller_than_hlen(self):
        self.io_bad('plen_lt_hlen', 'PDU type 0x5: invalid plen 16')

    def test_plen_huge(self):
        self.io_bad('plen_huge', 'C2HData: datal 512 but')

    def test_c2h_unknown_cid(self):
        self.io_bad('c2h_unknown_cid', 'C2HData for unknown cid')

    def test_c2h_overflow(self):
        self.io_bad('c2h_overflow', 'C2HData datao 0 datal 1024 out of order or range')

    def test_resp_unknown_cid(self):
        self.io_bad('resp_unknown_cid', 'CapsuleResp for unknown cid')

    def test_resp_twice(self):
        # The write's completion comes twice; the read after it finds the qpair failed.
        self.io_bad('resp_twice', 'CapsuleResp for unknown cid')

    def test_resp_before_data(self):
        # A successful read completion without its data must not pass as a read.
        self.io_bad('resp_before_data', 'CapsuleResp: success after 0 of 512 bytes of data')

    def test_r2t_for_read(self):
        self.io_bad('r2t_for_read', 'that expects none')

    def test_r2t_unknown_cid(self):
        self.io_bad('r2t_unknown_cid', 'that expects none', failed='write failed')

    def test_r2t_zero_length(self):
        self.io_bad('r2t_zero', 'R2T r2to 0 r2tl 0 out of order or range',
                    failed='write failed')

    def test_r2t_beyond_data(self):
        self.io_bad('r2t_beyond', 'R2T r2to 0 r2tl 4608 out of order or range',
                    failed='write failed')

    def test_close_mid_pdu(self):
        self.io_bad('close_mid_pdu', 'connection closed by the controller')

    def test_term_req(self):
        self.io_bad('term_req', 'C2HTermReq from the controller: FES 0x1')

    def test_io_queue_icresp_bad_pfv(self):
        # The second ICResp is the I/O queue's.
        self.bad('icresp_bad_pfv', self.hello, at=2,
                 message=('qpair 1: ICResp: unsupported pfv 1',
                          'cannot allocate an I/O queue pair'))

    def test_io_queue_connect_error(self):
        self.bad('connect_error', self.hello, at=2,
                 message=('Connect (qid 1) rejected', 'sct 1 sc 0x82',
                          'cannot allocate an I/O queue pair'))

    def test_resp_bad_sqhd(self):
        # Over TCP the host does not use SQHD; nonsense there (and in SQID) may be ignored, but
        # then the data must be right; or the qpair fails cleanly.
        t = self.target('resp_bad_sqhd')
        cp = self.run_tool(t, self.hello)
        info = self.describe(t, self.hello, cp)
        self.assertTrue(t.fired.is_set(), info)
        if cp.returncode == 0:
            self.assertIn('Hello world!\n', cp.stdout, info)
        else:
            self.assertGreater(cp.returncode, 0, info)
            self.assertIn(self.QPAIR, cp.stderr, info)


class IdentifyBadTargetTest(BadTargetTestCase):
    """nvme_identify: the misbehaviour comes while the controller is being set up."""

    def admin_bad(self, misbehaviour, message, **kw):
        return self.bad(misbehaviour, self.identify, message=('cannot connect', message), **kw)

    def test_icresp_bad_pfv(self):
        self.admin_bad('icresp_bad_pfv', 'ICResp: unsupported pfv 1')

    def test_icresp_small_maxh2cdata(self):
        self.admin_bad('icresp_small_maxh2cdata', 'ICResp: invalid maxh2cdata 1024')

    def test_icresp_bad_cpda(self):
        self.admin_bad('icresp_bad_cpda', 'ICResp: invalid cpda 32')

    def test_connect_error(self):
        self.admin_bad('connect_error', 'Connect (qid 0) rejected')

    def at_identify(self, misbehaviour, message):
        cp = self.admin_bad(misbehaviour, 'Identify Controller', point='identify')
        self.assertIn('NVMe/TCP qpair 0', cp.stderr)
        self.assertIn(message, cp.stderr)
        self.assertNotIn('BADTGT0001', cp.stdout)

    def test_identify_unknown_pdu_type(self):
        self.at_identify('unknown_pdu_type', 'unexpected PDU type 0xb')

    def test_identify_bad_hlen(self):
        self.at_identify('bad_hlen', 'invalid hlen 32')

    def test_identify_plen_huge(self):
        self.at_identify('plen_huge', 'C2HData: datal 4096 but')

    def test_identify_c2h_overflow(self):
        self.at_identify('c2h_overflow', 'out of order or range')

    def test_identify_resp_unknown_cid(self):
        self.at_identify('resp_unknown_cid', 'CapsuleResp for unknown cid')

    def test_identify_resp_twice(self):
        self.at_identify('resp_twice', 'CapsuleResp for unknown cid')

    def test_identify_resp_before_data(self):
        self.at_identify('resp_before_data', 'success after 0 of 4096 bytes')

    def test_identify_close_mid_pdu(self):
        self.at_identify('close_mid_pdu', 'connection closed by the controller')

    def test_identify_term_req(self):
        self.at_identify('term_req', 'C2HTermReq from the controller')

    # The tools have no timeout option, but the driver bounds the connect (10 s) and admin
    # commands during set-up (30 s): silence there must end in a failure, not a hang.
    def test_silent_icresp(self):
        self.admin_bad('silent_icresp', 'ICResp: none within')

    def test_silent_identify(self):
        self.bad('silent', self.identify, point='identify',
                 message=('not answered within', 'cannot connect'))


class PerfBadTargetTest(BadTargetTestCase):
    """nvme_perf -V under load: the 50th read (or write) goes wrong. The run fails, says so,
    and verification saw no wrong data."""

    def perf_bad(self, misbehaviour, message, *extra, **kw):
        kw.setdefault('at', 50)
        cp = self.bad(misbehaviour, self.perf, *self.perf_args(*extra),
                      message=('NVMe/TCP qpair 1', message), **kw)
        self.assertRegex(cp.stderr, r'(failed: ABORTED - SQ DELETION|submission failed)')
        return cp

    def test_c2h_success_then_resp(self):
        self.perf_bad('c2h_success_then_resp', 'CapsuleResp')

    def test_resp_twice(self):
        self.perf_bad('resp_twice', 'CapsuleResp')

    def test_resp_unknown_cid(self):
        # Under load the wrong cid is often another outstanding read: completing that one
        # without its data is refused too.
        cp = self.perf_bad('resp_unknown_cid', 'CapsuleResp')
        self.assertRegex(cp.stderr, r'CapsuleResp(: success after 0 of 4096| for unknown cid)')

    def test_resp_before_data(self):
        self.perf_bad('resp_before_data', 'success after 0 of 4096 bytes')

    def test_c2h_overflow(self):
        self.perf_bad('c2h_overflow', 'out of order or range')

    def test_r2t_beyond(self):
        self.perf_bad('r2t_beyond', 'out of order or range', point='write')

    def test_bad_header_digest(self):
        self.perf_bad('bad_hdgst', 'header digest mismatch', '-H', '-I')

    def test_bad_data_digest(self):
        self.perf_bad('bad_ddgst', 'data digest mismatch', '-H', '-I')

    def test_silent_read(self):
        # One read never answered: perf stops at -t, waits its drain period for the
        # outstanding I/O, then reports it and fails.
        t = self.target('silent', at=50)
        cp = self.run_tool(t, self.perf, *self.perf_args())
        info = self.describe(t, self.perf, cp)
        self.assertTrue(t.fired.is_set(), info)
        self.assertGreater(cp.returncode, 0, info)
        self.assertIn('still outstanding', cp.stderr, info)


class BdevNvmeBadTargetTest(TargetTestCase):
    """A pollux_tgt attaching the bad target as an nvme bdev: the RPC answers (an error, or
    the bdev names), and the daemon stays alive and keeps answering."""

    def setUp(self):
        self.tgt = self.start_target()
        if 'bdev_nvme_attach_controller' not in self.tgt.rpc('rpc_get_methods'):
            raise unittest.SkipTest('pollux_tgt has no bdev_nvme_attach_controller yet')

    def attach(self, t, name='Bad'):
        # No reconnect: a failed controller stays failed instead of retrying in a loop.
        return self.tgt.rpc_cli('bdev_nvme_attach_controller', '-b', name, '-t', 'tcp',
                                '-a', '127.0.0.1', '-f', 'ipv4', '-s', t.port, '-n', t.subnqn,
                                '-o', 0, '-l', 0)

    def assert_alive(self, what):
        self.assertTrue(self.tgt.running(), 'pollux_tgt died after ' + what)
        self.assertIn('version', self.tgt.rpc('spdk_get_version'))
        self.assertIn('bdev_get_bdevs', self.tgt.rpc('rpc_get_methods'))

    def test_attach_fails_cleanly(self):
        cases = (('icresp_bad_pfv', {}), ('connect_error', {}),
                 ('unknown_pdu_type', {'point': 'identify'}),
                 ('resp_before_data', {'point': 'identify'}))
        for i, (mb, kw) in enumerate(cases):
            with self.subTest(misbehaviour=mb):
                t = BadTarget(mb, **kw).start()
                self.addCleanup(t.stop)
                cp = self.attach(t, 'Bad%d' % i)
                self.assertTrue(t.fired.is_set(), '\n'.join(t.log))
                self.assertNotEqual(cp.returncode, 0, 'attach succeeded against %s:\n%s'
                                    % (mb, cp.stdout))
                self.assertIn('Got JSON-RPC error response', cp.stderr)
                self.assert_alive('attach against ' + mb)
                names = [b['name'] for b in self.tgt.rpc('bdev_get_bdevs')]
                self.assertNotIn('Bad%dn1' % i, names)

    def test_io_misbehaviour(self):
        # The controller attaches; whatever reads the bdev layer then makes go wrong, the
        # daemon survives them and detaches the controller on request.
        t = BadTarget('c2h_overflow', point='read').start()
        self.addCleanup(t.stop)
        cp = self.attach(t)
        self.assert_alive('attach')
        if cp.returncode == 0:
            self.tgt.rpc('bdev_nvme_get_controllers')
            self.tgt.rpc_cli('bdev_nvme_detach_controller', 'Bad')
            self.assert_alive('detach')
        self.tgt.stop(expect_code=0)


if __name__ == '__main__':
    unittest.main()
