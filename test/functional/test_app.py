# SPDX-License-Identifier: BSD-3-Clause
"""pollux_tgt as an application: options, --wait-for-rpc and framework_start_init, --json
config files, save_config/load_config round trips, signals, socket ownership."""

import json
import os
import signal
import subprocess
import threading
import unittest

from pollux_test import REPO, JSONRPCClient, RawStream, Target, TargetTestCase, tgt_binary

VERSION_LINE = 'pollux_tgt Pollux v0.1.0'
SPDK_METHODS = os.path.join(REPO, '..', 'shared', 'spdk-compat', 'rpc-methods.txt')
FOUNDATION = ('rpc_get_methods', 'spdk_get_version', 'spdk_kill_instance', 'framework_start_init',
              'framework_wait_init', 'framework_get_subsystems', 'framework_get_config',
              'framework_get_reactors', 'framework_set_scheduler', 'framework_get_scheduler',
              'log_set_level', 'log_set_print_level', 'log_get_level', 'log_get_print_level',
              'log_set_flag', 'log_clear_flag', 'log_get_flags', 'log_enable_timestamps',
              'thread_get_stats', 'thread_get_pollers', 'thread_get_io_channels')


def spdk_states():
    """{method: set of 'STARTUP'/'RUNTIME'} for the foundation methods, from SPDK's list
    (the states a method may be called in follow SPDK); hard-coded when the list is absent."""
    states = {}
    try:
        with open(SPDK_METHODS) as f:
            for line in f:
                if line.startswith('#') or '\t' not in line:
                    continue
                name, when = line.rstrip('\n').split('\t', 1)
                states[name] = {w.strip() for w in when.split('|')}
    except OSError:
        pass
    runtime_only = {'framework_get_config', 'framework_get_reactors', 'framework_get_subsystems',
                    'log_enable_timestamps', 'thread_get_stats', 'thread_get_pollers',
                    'thread_get_io_channels', 'spdk_kill_instance'}
    fallback = {m: {'RUNTIME'} if m in runtime_only else {'STARTUP', 'RUNTIME'}
                for m in FOUNDATION}
    fallback['framework_start_init'] = {'STARTUP'}
    return {m: states.get(m, fallback[m]) for m in FOUNDATION}


def scheduler_config(*entries):
    return json.dumps({'subsystems': [{'subsystem': 'scheduler', 'config': list(entries)}]})


def set_scheduler(name='static', period=None):
    params = {'name': name}
    if period is not None:
        params['period'] = period
    return {'method': 'framework_set_scheduler', 'params': params}


class OptionsTest(unittest.TestCase):
    def run_tgt(self, *args):
        return subprocess.run([tgt_binary()] + list(args), capture_output=True, text=True,
                              timeout=60, stdin=subprocess.DEVNULL)

    def test_version(self):
        for opt in ('-v', '--version'):
            with self.subTest(opt=opt):
                cp = self.run_tgt(opt)
                self.assertEqual(cp.returncode, 0, cp.stderr)
                self.assertIn(VERSION_LINE, cp.stdout)

    def test_help(self):
        cp = self.run_tgt('-h')
        self.assertEqual(cp.returncode, 0, cp.stderr)
        text = cp.stdout + cp.stderr
        for opt in ('--cpumask', '--rpc-socket', '--json', '--wait-for-rpc', '--logflag'):
            self.assertIn(opt, text)

    def test_bad_options(self):
        for args in (['--no-such-option'], ['-m', 'zzz'], ['-m', '0x0'], ['-L', 'no_such_flag']):
            with self.subTest(args=args):
                t = Target(*args)
                self.addCleanup(t.close)
                t.start(wait_ready=False)
                self.assertNotEqual(t.wait_exit(), 0)
                self.assertIsNone(t.pid, 'printed a ready line: %s' % t.stdout_lines)


class StartupTest(TargetTestCase):
    def test_wait_for_rpc_then_start_init(self):
        t = self.start_target('--wait-for-rpc')
        states = spdk_states()
        current = self.cli_ok(t, 'rpc_get_methods', '--current')
        # SPDK scripts may call these before init; Pollux may allow more (not less) then.
        missing = sorted(m for m in FOUNDATION if 'STARTUP' in states[m] and m not in current)
        self.assertEqual(missing, [], 'SPDK allows these before framework_start_init '
                         '(rpc-methods.txt)')
        self.assertIn('framework_start_init', current)
        self.cli_error(t, 'framework_get_reactors', code=-32601)

        # A framework_wait_init sent before start_init is answered once init completes.
        waited = []

        def waiter():
            try:
                with JSONRPCClient(t.sock, timeout=120) as c:
                    waited.append(c.call('framework_wait_init'))
            except Exception as e:  # noqa: BLE001 - asserted below
                waited.append(e)
        th = threading.Thread(target=waiter, daemon=True)
        th.start()

        self.assertIs(self.cli_ok(t, 'framework_set_scheduler', 'static', '-p', '200000'), True)
        self.assertIs(self.cli_ok(t, 'framework_start_init'), True)
        self.assertIs(self.cli_ok(t, 'framework_wait_init'), True)
        th.join(timeout=120)
        self.assertEqual(waited, [True])

        current = self.cli_ok(t, 'rpc_get_methods', '--current')
        wrong = sorted(m for m in FOUNDATION if ('RUNTIME' in states[m]) != (m in current))
        self.assertEqual(wrong, [], 'methods whose availability after framework_start_init '
                         'differs from SPDK (rpc-methods.txt)')
        self.cli_error(t, 'framework_start_init', code=-32601)
        self.assertEqual(self.cli_ok(t, 'framework_get_scheduler'),
                         {'scheduler_name': 'static', 'scheduler_period': 200000})
        self.assertEqual(len(self.cli_ok(t, 'framework_get_reactors')['reactors']), 1)
        t.stop(expect_code=0)

    def test_sigterm_while_waiting_for_rpc(self):
        t = self.start_target('--wait-for-rpc')
        t.stop(signal.SIGTERM, expect_code=0)
        self.assertFalse(os.path.exists(t.sock))


class ConfigFileTest(TargetTestCase):
    def config_target(self, text, *args):
        t = Target(*args)
        self.addCleanup(t.close)
        path = t.write_file('config.json', text)
        t.args += ['--json', path]
        return t, path

    def test_bad_entry_fails_startup(self):
        t, path = self.config_target(scheduler_config(set_scheduler('foo')))
        t.start(wait_ready=False)
        self.assertNotEqual(t.wait_exit(), 0)
        err = t.stderr()
        self.assertIn("'scheduler'", err)
        self.assertIn("'framework_set_scheduler'", err)
        self.assertIn("scheduler 'foo' is not available", err)
        self.assertFalse(os.path.exists(t.sock), 'socket file left behind')

    def test_unknown_method_fails_startup(self):
        t, path = self.config_target(scheduler_config({'method': 'no_such_method', 'params': {}}))
        t.start(wait_ready=False)
        self.assertNotEqual(t.wait_exit(), 0)
        self.assertIn('no_such_method', t.stderr())

    def test_bad_params_fail_startup(self):
        t, path = self.config_target(scheduler_config(
            {'method': 'framework_set_scheduler', 'params': {'name': 'static', 'bogus': 1}}))
        t.start(wait_ready=False)
        self.assertNotEqual(t.wait_exit(), 0)
        self.assertIn('bogus', t.stderr())

    def test_ignore_init_errors_carries_on(self):
        t, path = self.config_target(scheduler_config(set_scheduler('foo'),
                                                      set_scheduler('static', 250000)),
                                     '--json-ignore-init-errors')
        t.start()
        self.assertIn("scheduler 'foo' is not available", t.stderr())
        self.assertEqual(self.cli_ok(t, 'framework_get_scheduler'),
                         {'scheduler_name': 'static', 'scheduler_period': 250000})
        t.stop(expect_code=0)

    def test_missing_file(self):
        t = Target('--json', '/nonexistent-dir/pollux-config.json')
        self.addCleanup(t.close)
        t.start(wait_ready=False)
        self.assertNotEqual(t.wait_exit(), 0)
        self.assertIn('/nonexistent-dir/pollux-config.json', t.stderr())

    def test_invalid_json_file(self):
        for text in ('{"subsystems": [', 'not json at all', ''):
            with self.subTest(text=text):
                t, path = self.config_target(text)
                t.start(wait_ready=False)
                self.assertNotEqual(t.wait_exit(), 0)
                self.assertIn(path, t.stderr())

    def test_good_file_applied(self):
        t, path = self.config_target(scheduler_config(set_scheduler('static', 123456)),
                                     '-m', '0x3')
        t.start()
        self.assertEqual(self.cli_ok(t, 'framework_get_scheduler'),
                         {'scheduler_name': 'static', 'scheduler_period': 123456})
        t.stop(expect_code=0)


class SaveLoadTest(TargetTestCase):
    def saved_config(self):
        """A config saved from a target whose scheduler period was changed."""
        t = self.start_target('-m', '0x3')
        self.assertIs(self.cli_ok(t, 'framework_set_scheduler', 'static', '-p', '300000'), True)
        cp = t.rpc_cli('save_config')
        self.assertEqual(cp.returncode, 0, cp.stderr)
        cfg = json.loads(cp.stdout)
        self.assertIn(set_scheduler('static', 300000),
                      [e for s in cfg['subsystems'] if s['subsystem'] == 'scheduler'
                       for e in s['config']])
        t.stop(expect_code=0)
        return cp.stdout, cfg

    def test_round_trip_through_json_option(self):
        text, cfg = self.saved_config()
        t = Target('-m', '0x3')
        self.addCleanup(t.close)
        t.args += ['--json', t.write_file('saved.json', text)]
        t.start()
        self.assertEqual(self.cli_ok(t, 'save_config'), cfg)
        self.assertEqual(t.rpc_cli('save_config').stdout, text)
        t.stop(expect_code=0)

    def test_load_config_with_wait_for_rpc(self):
        text, cfg = self.saved_config()
        t = self.start_target('-m', '0x3', '--wait-for-rpc')
        cp = t.rpc_cli('load_config', input=text)
        self.assertEqual(cp.returncode, 0, cp.stderr)
        self.assertNotIn('framework_start_init', self.cli_ok(t, 'rpc_get_methods', '--current'))
        self.assertEqual(self.cli_ok(t, 'framework_get_scheduler')['scheduler_period'], 300000)
        self.assertEqual(self.cli_ok(t, 'save_config'), cfg)
        t.stop(expect_code=0)

    def test_load_config_at_runtime_from_file(self):
        t = self.start_target()
        path = t.write_file('cfg.json', scheduler_config(set_scheduler('static', 350000)))
        self.assertIsNone(self.cli_ok(t, 'load_config', '-j', path))
        self.assertEqual(self.cli_ok(t, 'framework_get_scheduler')['scheduler_period'], 350000)
        t.stop(expect_code=0)

    def test_load_config_bad_entry(self):
        t = self.start_target()
        cp = t.rpc_cli('load_config', input=scheduler_config(set_scheduler('foo')))
        self.assertEqual(cp.returncode, 1)
        self.assertIn("subsystem 'scheduler', method 'framework_set_scheduler'", cp.stderr)
        self.assertIn("scheduler 'foo' is not available", cp.stderr)
        t.stop(expect_code=0)


class SignalTest(TargetTestCase):
    def test_sigterm_with_clients_connected(self):
        t = self.start_target('-m', '0x3')
        idle = [t.raw_connect(timeout=60) for _ in range(3)]
        half = t.raw_connect(timeout=60)
        half.sendall(b'{"jsonrpc": "2.0", "id": 1, "method": "spdk_get_')
        busy = JSONRPCClient(t.sock, timeout=60)
        for s in idle + [half]:
            self.addCleanup(s.close)
        self.addCleanup(busy.close)
        self.assertEqual(busy.call('log_get_level'), 'NOTICE')
        t.stop(signal.SIGTERM, expect_code=0)
        self.assertFalse(os.path.exists(t.sock), 'socket file left behind')
        for s in idle + [half]:
            self.assertTrue(RawStream(s).wait_closed())

    def test_sigint(self):
        t = self.start_target()
        t.stop(signal.SIGINT, expect_code=0)
        self.assertFalse(os.path.exists(t.sock), 'socket file left behind')

    def test_second_instance_on_same_socket(self):
        first = self.start_target()
        second = Target(sock=first.sock)
        self.addCleanup(second.close)
        second.start(wait_ready=False)
        self.assertNotEqual(second.wait_exit(), 0)
        self.assertIn('in use', second.stderr())
        self.assertTrue(os.path.exists(first.sock), 'the second instance removed the socket')
        self.assertEqual(first.rpc('spdk_get_version')['version'], 'Pollux v0.1.0')
        self.assertEqual(self.cli_ok(first, 'log_get_level'), 'NOTICE')
        first.stop(expect_code=0)

    def test_restart_after_crash_on_same_socket(self):
        # SIGKILL leaves the socket file behind; a new instance must not call it "in use".
        first = self.start_target()
        first.stop(signal.SIGKILL, expect_code=None)
        second = self.start_target(sock=first.sock)
        self.assertEqual(self.cli_ok(second, 'log_get_level'), 'NOTICE')
        second.stop(expect_code=0)


if __name__ == '__main__':
    unittest.main()
