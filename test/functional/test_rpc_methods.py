# SPDX-License-Identifier: BSD-3-Clause
"""Every method of the pollux_tgt foundation, called through scripts/rpc.py, with the shape
and values of its result (notes/rpc-api.md)."""

import os
import unittest

from pollux_test import SharedTargetTestCase, TargetTestCase

ALL_METHODS = [
    'rpc_get_methods', 'spdk_get_version', 'spdk_kill_instance', 'framework_start_init',
    'framework_wait_init', 'framework_get_subsystems', 'framework_get_config',
    'framework_get_reactors', 'framework_set_scheduler', 'framework_get_scheduler',
    'log_set_level', 'log_set_print_level', 'log_get_level', 'log_get_print_level',
    'log_set_flag', 'log_clear_flag', 'log_get_flags', 'log_enable_timestamps',
    'thread_get_stats', 'thread_get_pollers', 'thread_get_io_channels',
]
LEVELS = ['ERROR', 'WARNING', 'NOTICE', 'INFO', 'DEBUG']
BASE_FLAGS = ['app', 'reactor', 'rpc', 'thread']


def is_uint(v):
    return isinstance(v, int) and not isinstance(v, bool) and v >= 0


class MethodsTest(SharedTargetTestCase):
    """One shared two-core target; tests that change settings put them back."""

    TARGET_ARGS = ('-m', '0x3')

    def ok(self, *args):
        return self.cli_ok(self.tgt, *args)

    def err(self, *args, code=None):
        return self.cli_error(self.tgt, *args, code=code)

    # -- app ------------------------------------------------------------------------------
    def test_spdk_get_version(self):
        self.assertEqual(self.ok('spdk_get_version'), {
            'version': 'Pollux v0.1.0',
            'fields': {'major': 0, 'minor': 1, 'patch': 0, 'suffix': ''}})

    def test_rpc_get_methods(self):
        methods = self.ok('rpc_get_methods')
        self.assertIsInstance(methods, list)
        self.assertEqual(methods, sorted(methods))
        self.assertEqual(len(methods), len(set(methods)))
        for m in ALL_METHODS:
            self.assertIn(m, methods)

    def test_rpc_get_methods_current_at_runtime(self):
        current = self.ok('rpc_get_methods', '--current')
        self.assertEqual(current, sorted(current))
        self.assertNotIn('framework_start_init', current)
        for m in ('spdk_get_version', 'framework_wait_init', 'thread_get_stats',
                  'spdk_kill_instance', 'log_get_flags'):
            self.assertIn(m, current)
        self.assertLessEqual(set(current), set(self.ok('rpc_get_methods')))

    def test_spdk_kill_instance_bad_signal(self):
        err, stderr = self.err('spdk_kill_instance', 'SIGFOO', code=-32602)
        self.assertIn('sig_name', err['message'])

    # -- framework ------------------------------------------------------------------------
    def test_framework_wait_init_at_runtime(self):
        self.assertIs(self.ok('framework_wait_init'), True)

    def test_framework_start_init_at_runtime_refused(self):
        self.err('framework_start_init', code=-32601)

    def test_framework_get_subsystems(self):
        subsystems = self.ok('framework_get_subsystems')
        self.assertIsInstance(subsystems, list)
        names = [s['subsystem'] for s in subsystems]
        self.assertIn('scheduler', names)
        self.assertEqual(len(names), len(set(names)))
        for i, s in enumerate(subsystems):
            self.assertEqual(set(s), {'subsystem', 'depends_on'})
            self.assertIsInstance(s['depends_on'], list)
            for dep in s['depends_on']:  # init order: dependencies come first
                self.assertIn(dep, names[:i], '%s depends on %s' % (s['subsystem'], dep))

    def test_framework_get_config_every_subsystem(self):
        known = self.ok('rpc_get_methods')
        for s in self.ok('framework_get_subsystems'):
            with self.subTest(subsystem=s['subsystem']):
                cfg = self.ok('framework_get_config', s['subsystem'])
                self.assertIsInstance(cfg, list)
                for entry in cfg:
                    self.assertIsInstance(entry['method'], str)
                    self.assertIn(entry['method'], known)
                    self.assertIsInstance(entry.get('params', {}), dict)

    def test_framework_get_config_unknown_subsystem(self):
        err, _ = self.err('framework_get_config', 'no_such_subsystem', code=-32602)
        self.assertIn('no_such_subsystem', err['message'])

    def test_framework_get_reactors_two_cores(self):
        r = self.ok('framework_get_reactors')
        self.assertTrue(is_uint(r['tick_rate']) and r['tick_rate'] > 0, r)
        self.assertEqual(r['pid'], self.tgt.pid)
        self.assertEqual(sorted(x['lcore'] for x in r['reactors']), [0, 1])
        threads = {}
        for reactor in r['reactors']:
            for key in ('busy', 'idle', 'irq', 'sys', 'usr'):
                self.assertTrue(is_uint(reactor[key]), (key, reactor))
            self.assertIsInstance(reactor['in_interrupt'], bool)
            for t in reactor['lw_threads']:
                self.assertTrue(is_uint(t['id']) and is_uint(t['elapsed']), t)
                self.assertIsInstance(t['cpumask'], str)
                threads[t['name']] = (reactor['lcore'], t)
        self.assertIn('app_thread', threads)
        lcore, app = threads['app_thread']
        self.assertEqual(lcore, 0)
        self.assertEqual(app['id'], 1)
        self.assertEqual(app['cpumask'], '1')
        self.assertIn('reactor_1', threads)

    def test_framework_scheduler(self):
        self.assertEqual(self.ok('framework_get_scheduler'),
                         {'scheduler_name': 'static', 'scheduler_period': 1000000})
        try:
            self.assertIs(self.ok('framework_set_scheduler', 'static', '-p', '500000'), True)
            got = self.ok('framework_get_scheduler')
            self.assertEqual(got['scheduler_name'], 'static')
            self.assertEqual(got['scheduler_period'], 500000)
            self.assertEqual(self.ok('framework_get_config', 'scheduler'), [
                {'method': 'framework_set_scheduler',
                 'params': {'name': 'static', 'period': 500000}}])
        finally:
            self.ok('framework_set_scheduler', 'static', '-p', '1000000')
        self.assertEqual(self.ok('framework_get_config', 'scheduler'), [
            {'method': 'framework_set_scheduler', 'params': {'name': 'static', 'period': 1000000}}])

    def test_framework_set_scheduler_unavailable(self):
        err, _ = self.err('framework_set_scheduler', 'dynamic', code=-32602)
        self.assertIn("scheduler 'dynamic' is not available", err['message'])
        self.assertIn('static', err['message'])
        self.assertEqual(self.ok('framework_get_scheduler')['scheduler_name'], 'static')

    # -- log ------------------------------------------------------------------------------
    def test_log_level_round_trip(self):
        try:
            for level in LEVELS:
                with self.subTest(level=level):
                    self.assertIs(self.ok('log_set_level', level), True)
                    self.assertEqual(self.ok('log_get_level'), level)
        finally:
            self.ok('log_set_level', 'NOTICE')

    def test_log_print_level_round_trip(self):
        try:
            for level in LEVELS:
                with self.subTest(level=level):
                    self.assertIs(self.ok('log_set_print_level', level), True)
                    self.assertEqual(self.ok('log_get_print_level'), level)
        finally:
            self.ok('log_set_print_level', 'NOTICE')

    def test_log_set_level_bad_enum(self):
        before = self.ok('log_get_level')
        err, _ = self.err('log_set_level', 'FOO', code=-32602)
        self.assertIn('level', err['message'])
        self.assertIn('FOO', err['message'])
        self.assertEqual(self.ok('log_get_level'), before)
        err, _ = self.err('log_set_print_level', 'LOUD', code=-32602)
        self.assertIn('LOUD', err['message'])

    def test_log_flags(self):
        flags = self.ok('log_get_flags')
        self.assertIsInstance(flags, dict)
        for f in BASE_FLAGS:
            self.assertIn(f, flags)
        for v in flags.values():
            self.assertIsInstance(v, bool)
        try:
            self.assertIs(self.ok('log_set_flag', 'rpc'), True)
            after = self.ok('log_get_flags')
            self.assertIs(after['rpc'], True)
            self.assertEqual({k: v for k, v in after.items() if k != 'rpc'},
                             {k: v for k, v in flags.items() if k != 'rpc'})
            self.assertIs(self.ok('log_clear_flag', 'rpc'), True)
            self.assertIs(self.ok('log_get_flags')['rpc'], False)
            self.assertIs(self.ok('log_set_flag', 'all'), True)
            self.assertTrue(all(self.ok('log_get_flags').values()))
            self.assertIs(self.ok('log_clear_flag', 'all'), True)
            self.assertFalse(any(self.ok('log_get_flags').values()))
        finally:
            self.ok('log_clear_flag', 'all')

    def test_log_unknown_flag(self):
        for method in ('log_set_flag', 'log_clear_flag'):
            with self.subTest(method=method):
                err, _ = self.err(method, 'no_such_flag', code=-32602)
                self.assertIn("unknown log flag 'no_such_flag'", err['message'])

    def test_log_enable_timestamps(self):
        self.assertIs(self.ok('log_enable_timestamps', '--disable'), True)
        self.assertIs(self.ok('log_enable_timestamps', '--enable'), True)
        self.assertIs(self.ok('log_enable_timestamps'), True)

    # -- thread ---------------------------------------------------------------------------
    def test_thread_get_stats(self):
        r = self.ok('thread_get_stats')
        self.assertTrue(is_uint(r['tick_rate']) and r['tick_rate'] > 0)
        names = [t['name'] for t in r['threads']]
        self.assertIn('app_thread', names)
        self.assertIn('reactor_1', names)
        for t in r['threads']:
            self.assertIsInstance(t['cpumask'], str)
            for key in ('id', 'busy', 'idle', 'active_pollers_count', 'timed_pollers_count',
                        'paused_pollers_count'):
                self.assertTrue(is_uint(t[key]), (key, t))
        app = r['threads'][names.index('app_thread')]
        self.assertEqual(app['id'], 1)
        self.assertGreaterEqual(app['timed_pollers_count'], 1)  # rpc_server

    def test_thread_get_pollers(self):
        r = self.ok('thread_get_pollers')
        self.assertTrue(is_uint(r['tick_rate']))
        threads = {t['name']: t for t in r['threads']}
        self.assertIn('app_thread', threads)
        for t in r['threads']:
            self.assertTrue(is_uint(t['id']))
            for kind in ('active_pollers', 'timed_pollers', 'paused_pollers'):
                for p in t[kind]:
                    self.assertIsInstance(p['name'], str)
                    self.assertIsInstance(p['state'], str)
                    for key in ('id', 'run_count', 'busy_count'):
                        self.assertTrue(is_uint(p[key]), (key, p))
                    if kind == 'timed_pollers':
                        self.assertTrue(is_uint(p['period_ticks']), p)
        timed = {p['name']: p for p in threads['app_thread']['timed_pollers']}
        self.assertIn('rpc_server', timed)
        self.assertGreaterEqual(timed['rpc_server']['run_count'], 1)

    def test_thread_get_io_channels(self):
        r = self.ok('thread_get_io_channels')
        self.assertTrue(is_uint(r['tick_rate']))
        self.assertIn('app_thread', [t['name'] for t in r['threads']])
        for t in r['threads']:
            self.assertIsInstance(t['name'], str)
            for ch in t['io_channels']:
                self.assertIsInstance(ch['name'], str)
                self.assertTrue(is_uint(ch['ref']) and ch['ref'] >= 1, ch)

    def test_save_config(self):
        cfg = self.ok('save_config')
        names = [s['subsystem'] for s in self.ok('framework_get_subsystems')]
        self.assertEqual([s['subsystem'] for s in cfg['subsystems']], names)
        sched = cfg['subsystems'][names.index('scheduler')]['config']
        self.assertEqual(sched[0]['method'], 'framework_set_scheduler')
        self.assertEqual(sched[0]['params']['name'], 'static')


class FreshTargetTest(TargetTestCase):
    """Defaults of a target started with no options; the ready line."""

    def test_defaults(self):
        t = self.start_target()
        self.assertEqual(t.reactors, 1)
        self.assertEqual(t.pid, t.proc.pid)
        self.assertEqual(t.ready_rpc_path, t.sock)
        self.assertTrue(os.path.exists(t.sock))
        self.assertEqual(self.cli_ok(t, 'log_get_level'), 'NOTICE')
        self.assertEqual(self.cli_ok(t, 'log_get_print_level'), 'NOTICE')
        flags = self.cli_ok(t, 'log_get_flags')
        self.assertFalse(any(flags.values()), flags)
        self.assertEqual(self.cli_ok(t, 'framework_get_scheduler'),
                         {'scheduler_name': 'static', 'scheduler_period': 1000000})
        self.assertEqual(self.cli_ok(t, 'framework_get_config', 'scheduler'), [
            {'method': 'framework_set_scheduler', 'params': {'name': 'static', 'period': 1000000}}])
        reactors = self.cli_ok(t, 'framework_get_reactors')['reactors']
        self.assertEqual([r['lcore'] for r in reactors], [0])
        threads = [th['name'] for th in reactors[0]['lw_threads']]
        # The app thread, and the NVMe-oF target's poll group for this core (as SPDK's target).
        self.assertEqual(threads, ['app_thread', 'nvmf_tgt_poll_group_000'])
        t.stop(expect_code=0)

    def test_cpumask_list_form(self):
        t = self.start_target('-m', '[0,1]')
        self.assertEqual(t.reactors, 2)
        reactors = self.cli_ok(t, 'framework_get_reactors')['reactors']
        self.assertEqual(sorted(r['lcore'] for r in reactors), [0, 1])
        t.stop(expect_code=0)

    def test_logflag_option(self):
        t = self.start_target('-L', 'rpc', '-L', 'thread')
        flags = self.cli_ok(t, 'log_get_flags')
        self.assertIs(flags['rpc'], True)
        self.assertIs(flags['thread'], True)
        self.assertIs(flags['app'], False)
        t.stop(expect_code=0)

    def test_spdk_kill_instance_sigterm(self):
        t = self.start_target()
        self.assertIs(self.cli_ok(t, 'spdk_kill_instance', 'SIGTERM'), True)
        self.assertEqual(t.wait_exit(), 0)
        self.assertFalse(os.path.exists(t.sock), 'socket file left behind')

    def test_spdk_kill_instance_sigint(self):
        t = self.start_target()
        self.assertIs(self.cli_ok(t, 'spdk_kill_instance', 'SIGINT'), True)
        self.assertEqual(t.wait_exit(), 0)
        self.assertFalse(os.path.exists(t.sock), 'socket file left behind')


if __name__ == '__main__':
    unittest.main()
