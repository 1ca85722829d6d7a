#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Pollux test runner (used by `make check`).

    test/run_tests.py --build DIR [--build DIR2 ...] [--fuzz-build DIR] [--fuzz-seconds N]
                      [--only unit|functional|fuzz] [--interop-quick]

For each build directory: every executable *_ut under DIR/test/unit/ (their last stdout line
is "<suite>: N passed, N failed", see test/common/ut.h), then every test/functional/test_*.py
through unittest with POLLUX_BUILD=DIR. Then every *_fuzz under FUZZDIR/test/fuzz/ for N
seconds over a copy of test/fuzz/corpus/<name>/. With --interop-quick, last, the quick QEMU
guest scenarios (test/interop/run.sh --quick; one skip when QEMU is not installed).
The last line printed is "N passed, N failed[, N skipped]"; the exit code is 1 if anything
failed.
"""

import argparse
import importlib.util
import io
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import traceback
import unittest

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FUNCTIONAL_DIR = os.path.join(REPO, 'test', 'functional')
CORPUS_DIR = os.path.join(REPO, 'test', 'fuzz', 'corpus')
UNIT_TIMEOUT = 120
FUNCTIONAL_FILE_TIMEOUT = 1800
FUZZ_GRACE = 180  # start-up and final merge on top of -max_total_time, generous for ASan
INTEROP_RUN = os.path.join(REPO, 'test', 'interop', 'run.sh')
# A cold guest cache build plus the quick scenarios, with room for a shared, loaded machine.
INTEROP_TIMEOUT = 1200
INTEROP_SUMMARY_RE = re.compile(r'^(\d+) passed, (\d+) failed(?:, (\d+) skipped)?$')
UT_LINE_RE = re.compile(r'^(\S+): (\d+) passed, (\d+) failed$')
TAIL_LINES = 50


def say(*args):
    print(*args, flush=True)


def tail(text, n=TAIL_LINES):
    return '\n'.join(text.rstrip('\n').splitlines()[-n:])


def joined(*texts):
    return '\n'.join(t.rstrip('\n') for t in texts if t.strip())


def indent(text, prefix='    '):
    return '\n'.join(prefix + line for line in text.splitlines())


def run_proc(cmd, timeout, env=None, cwd=None):
    """Run cmd in its own process group; returns (exit code or None on timeout, stdout, stderr).
    On timeout the whole group (cmd and anything it started) is killed."""
    proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, env=env, cwd=cwd, text=True,
                            errors='replace', start_new_session=True)
    try:
        out, err = proc.communicate(timeout=timeout)
        return proc.returncode, out, err
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        out, err = proc.communicate()
        return None, out, err
    except BaseException:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        raise


def describe_exit(rc, timeout):
    if rc is None:
        return 'timed out after %ss' % timeout
    if rc < 0:
        return 'killed by %s' % signal.Signals(-rc).name
    return 'exit code %d' % rc


class Totals:
    def __init__(self):
        self.passed = self.failed = self.skipped = 0

    def summary(self):
        s = '%d passed, %d failed' % (self.passed, self.failed)
        if self.skipped:
            s += ', %d skipped' % self.skipped
        return s


def find_executables(root, suffix):
    found = []
    for dirpath, _, names in os.walk(root):
        for n in names:
            path = os.path.join(dirpath, n)
            if n.endswith(suffix) and os.path.isfile(path) and os.access(path, os.X_OK):
                found.append(path)
    return sorted(found, key=os.path.basename)


# -- unit tests ----------------------------------------------------------------------------------
def run_unit(build, label, totals):
    tests = find_executables(os.path.join(build, 'test', 'unit'), '_ut')
    if not tests:
        say('[%s] unit: skipped: no *_ut executables under %s/test/unit' % (label, build))
        totals.skipped += 1
        return
    for exe in tests:
        name = os.path.basename(exe)
        rc, out, err = run_proc([exe], UNIT_TIMEOUT, cwd=os.path.dirname(exe))
        lines = [line for line in out.splitlines() if line.strip()]
        m = UT_LINE_RE.match(lines[-1]) if lines else None
        if m:
            passed, failed = int(m.group(2)), int(m.group(3))
            if rc != 0 and failed == 0:
                failed = 1  # e.g. a sanitizer report at exit, or cases not registered
        else:
            passed, failed = 0, 1
        totals.passed += passed
        totals.failed += failed
        say('[%s] unit %s: %d passed, %d failed%s' % (label, name, passed, failed,
                                                      '' if rc == 0 else
                                                      ' (%s)' % describe_exit(rc, UNIT_TIMEOUT)))
        if failed:
            # stderr first: the CUnit summary on stdout names the failed assertions.
            say(indent(tail(joined(err, out))))


# -- functional tests: the parent runs each file in a child process ----------------------------
def run_functional(build, label, totals):
    files = sorted(f for f in os.listdir(FUNCTIONAL_DIR)
                   if f.startswith('test_') and f.endswith('.py'))
    env = dict(os.environ, POLLUX_BUILD=os.path.abspath(build), PYTHONDONTWRITEBYTECODE='1')
    for f in files:
        with tempfile.NamedTemporaryFile(prefix='pollux-ft-result-', suffix='.json') as res:
            cmd = [sys.executable, os.path.abspath(__file__), '--functional-child',
                   os.path.join(FUNCTIONAL_DIR, f), '--child-result', res.name]
            rc, out, err = run_proc(cmd, FUNCTIONAL_FILE_TIMEOUT, env=env, cwd=REPO)
            try:
                with open(res.name) as r:
                    records = json.load(r)
            except (OSError, ValueError):
                records = None
        if records is None:
            totals.failed += 1
            say('[%s] functional %s: runner %s' % (label, f,
                                                   describe_exit(rc, FUNCTIONAL_FILE_TIMEOUT)))
            say(indent(tail(joined(out, err))))
            continue
        report_functional(label, f, records, totals)


def report_functional(label, f, records, totals):
    counts = {'passed': 0, 'failed': 0, 'skipped': 0}
    for r in records:
        counts[r['status']] += 1
    totals.passed += counts['passed']
    totals.failed += counts['failed']
    totals.skipped += counts['skipped']
    line = '[%s] functional %s: %d passed, %d failed' % (label, f, counts['passed'],
                                                       counts['failed'])
    if counts['skipped']:
        line += ', %d skipped' % counts['skipped']
    say(line)
    reasons = {}
    for r in records:
        if r['status'] == 'skipped':
            reasons.setdefault(r['detail'], []).append(r['name'])
    for reason, names in reasons.items():
        who = names[0] if len(names) == 1 else '%d tests' % len(names)
        say('    skipped (%s): %s' % (who, reason))
    for r in records:
        if r['status'] == 'failed':
            say('    FAIL %s' % r['name'])
            say(indent(tail(r['detail']), '      '))


class _RecordingResult(unittest.TestResult):
    """Records one {name, status, detail} per test; captures each test's stdout/stderr
    (including what its cleanups print) and attaches it to failures."""

    def __init__(self):
        super().__init__()
        self.records = []
        self._current = None

    def startTest(self, test):
        super().startTest(test)
        self._current = {'name': test.id(), 'status': 'passed', 'detail': ''}
        self._saved = (sys.stdout, sys.stderr)
        self._capture = io.StringIO()
        sys.stdout = sys.stderr = self._capture

    def stopTest(self, test):
        sys.stdout, sys.stderr = self._saved
        rec, self._current = self._current, None
        out = self._capture.getvalue()
        if rec['status'] == 'failed' and out.strip():
            rec['detail'] += '--- captured output ---\n' + out
        self.records.append(rec)
        super().stopTest(test)

    def _mark(self, test, status, detail):
        if self._current is None:  # setUpClass/setUpModule problems have no startTest
            self.records.append({'name': str(test), 'status': status, 'detail': detail})
            return
        if self._current['status'] != 'failed':
            self._current['status'] = status
        if status == 'skipped':
            self._current['detail'] = detail
        else:
            self._current['detail'] += detail

    def addFailure(self, test, err):
        super().addFailure(test, err)
        self._mark(test, 'failed', self._exc_info_to_string(err, test))

    def addError(self, test, err):
        super().addError(test, err)
        self._mark(test, 'failed', self._exc_info_to_string(err, test))

    def addSubTest(self, test, subtest, err):
        super().addSubTest(test, subtest, err)
        if err is not None:
            self._mark(test, 'failed', '%s\n%s' % (subtest, self._exc_info_to_string(err, test)))

    def addSkip(self, test, reason):
        super().addSkip(test, reason)
        self._mark(test, 'skipped', reason)

    def addUnexpectedSuccess(self, test):
        super().addUnexpectedSuccess(test)
        self._mark(test, 'failed', 'unexpected success')


def functional_child(path, result_path):
    sys.path.insert(0, os.path.dirname(path))
    name = os.path.splitext(os.path.basename(path))[0]
    try:
        spec = importlib.util.spec_from_file_location(name, path)
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
        suite = unittest.defaultTestLoader.loadTestsFromModule(module)
    except Exception:
        records = [{'name': name, 'status': 'failed', 'detail': traceback.format_exc()}]
    else:
        result = _RecordingResult()
        suite.run(result)
        records = result.records
    with open(result_path, 'w') as f:
        json.dump(records, f)
    return 0


# -- fuzzing -------------------------------------------------------------------------------------
def run_fuzz(fuzz_build, seconds, totals):
    if not fuzz_build:
        say('fuzz: skipped: no --fuzz-build given')
        totals.skipped += 1
        return
    fuzzers = find_executables(os.path.join(fuzz_build, 'test', 'fuzz'), '_fuzz')
    if not fuzzers:
        say('fuzz: skipped: no *_fuzz executables under %s/test/fuzz (configure it with '
            'CC=clang -Dfuzz=true and build it)' % fuzz_build)
        totals.skipped += 1
        return
    label = os.path.basename(os.path.normpath(fuzz_build))
    for exe in fuzzers:
        name = os.path.basename(exe)
        corpus_name = name[:-len('_fuzz')]
        artifacts = os.path.join(os.path.abspath(fuzz_build), 'fuzz-artifacts', corpus_name)
        os.makedirs(artifacts, exist_ok=True)
        with tempfile.TemporaryDirectory(prefix='pollux-corpus-%s-' % corpus_name) as tmp:
            corpus = os.path.join(tmp, 'corpus')
            seed = os.path.join(CORPUS_DIR, corpus_name)
            if os.path.isdir(seed):
                shutil.copytree(seed, corpus)
            else:
                os.mkdir(corpus)
            cmd = [exe, '-max_total_time=%d' % seconds, '-artifact_prefix=%s/' % artifacts,
                   corpus]
            rc, out, err = run_proc(cmd, seconds + FUZZ_GRACE, cwd=tmp)
        if rc == 0:
            totals.passed += 1
            say('[%s] fuzz %s: passed (%ds)' % (label, name, seconds))
        else:
            totals.failed += 1
            say('[%s] fuzz %s: FAILED (%s); artifacts in %s' % (
                label, name, describe_exit(rc, seconds + FUZZ_GRACE), artifacts))
            say(indent(tail(joined(out, err))))


# -- interop (QEMU guest) quick subset -----------------------------------------------------------
def run_interop_quick(totals):
    if not shutil.which('qemu-system-x86_64'):
        say('interop: skipped: qemu-system-x86_64 is not installed (scripts/pkgdep.sh installs '
            'qemu-system-x86)')
        totals.skipped += 1
        return
    rc, out, err = run_proc([INTEROP_RUN, '--quick'], INTEROP_TIMEOUT, cwd=REPO)
    lines = [line for line in out.splitlines() if line.strip()]
    m = INTEROP_SUMMARY_RE.match(lines[-1]) if lines else None
    if m:
        passed, failed, skipped = int(m.group(1)), int(m.group(2)), int(m.group(3) or 0)
        if rc != 0 and failed == 0:
            failed = 1
    else:
        passed, failed, skipped = 0, 1, 0
    totals.passed += passed
    totals.failed += failed
    totals.skipped += skipped
    say('interop --quick: %d passed, %d failed%s%s' % (
        passed, failed, ', %d skipped' % skipped if skipped else '',
        '' if rc == 0 else ' (%s)' % describe_exit(rc, INTEROP_TIMEOUT)))
    for line in lines[:-1]:
        if line.startswith(('not ok - ', 'skip - ', '== ', 'interop: ', '  ')):
            say('    ' + line)
    if failed:
        say(indent(tail(joined(err, out))))


def parse_args(argv):
    p = argparse.ArgumentParser(description='Run Pollux unit, functional and fuzz tests')
    p.add_argument('--build', action='append', default=[], metavar='DIR',
                   help='a meson build directory to test (repeatable)')
    p.add_argument('--fuzz-build', metavar='DIR', help='a build configured with -Dfuzz=true')
    p.add_argument('--fuzz-seconds', type=int, default=20, metavar='N',
                   help='seconds per fuzzer (default 20)')
    p.add_argument('--only', choices=('unit', 'functional', 'fuzz'))
    p.add_argument('--interop-quick', action='store_true',
                   help='also run the quick QEMU interop scenarios (test/interop/run.sh --quick)')
    p.add_argument('--functional-child', help=argparse.SUPPRESS)
    p.add_argument('--child-result', help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if not args.functional_child and not args.build and args.only != 'fuzz':
        p.error('at least one --build DIR is needed')
    for d in args.build:
        if not os.path.isdir(d):
            p.error('build directory %s does not exist' % d)
    # Tests run from other working directories: hand them absolute paths.
    args.build = [os.path.abspath(d) for d in args.build]
    if args.fuzz_build:
        args.fuzz_build = os.path.abspath(args.fuzz_build)
    return args


def main(argv=None):
    args = parse_args(argv)
    if args.functional_child:
        return functional_child(args.functional_child, args.child_result)
    totals = Totals()
    for build in args.build:
        label = os.path.basename(os.path.normpath(build))
        if args.only in (None, 'unit'):
            run_unit(build, label, totals)
        if args.only in (None, 'functional'):
            run_functional(build, label, totals)
    if args.only in (None, 'fuzz'):
        run_fuzz(args.fuzz_build, args.fuzz_seconds, totals)
    if args.interop_quick and args.only is None:
        run_interop_quick(totals)
    say(totals.summary())
    return 1 if totals.failed else 0


if __name__ == '__main__':
    sys.exit(main())
