# SPDX-License-Identifier: BSD-3-Clause
"""Every bdev module and the layer's own settings in one target: save_config, restart with
--json, and the same bdevs (names, UUIDs, geometry, claims, QoS limits) come back; saving
again gives the same config. Then the layer's methods on those bdevs: iostat, histograms,
QoS, examine."""

import json
import os
import shutil
import tempfile
import unittest

from pollux_test import TargetTestCase


class BdevConfigRoundTrip(TargetTestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix='pollux-cfg-')
        self.addCleanup(shutil.rmtree, self.dir, True)
        for name in ('aio.img', 'uring.img'):
            with open(os.path.join(self.dir, name), 'wb') as f:
                f.truncate(8 * 1024 * 1024)

    def build_all(self, tgt):
        rpc = tgt.rpc
        for i in range(5):
            rpc('bdev_malloc_create', {'name': 'Malloc%d' % i, 'num_blocks': 4096,
                                       'block_size': 512})
        rpc('bdev_null_create', {'name': 'Null0', 'num_blocks': 1024, 'block_size': 4096})
        rpc('bdev_aio_create', {'name': 'Aio0', 'filename': os.path.join(self.dir, 'aio.img'),
                                'block_size': 512})
        rpc('bdev_uring_create', {'name': 'Uring0',
                                  'filename': os.path.join(self.dir, 'uring.img')})
        rpc('bdev_delay_create', {'name': 'Delay0', 'base_bdev_name': 'Malloc0',
                                  'avg_read_latency': 10, 'p99_read_latency': 20,
                                  'avg_write_latency': 30, 'p99_write_latency': 40})
        rpc('bdev_error_create', {'base_name': 'Malloc1'})
        rpc('bdev_passthru_create', {'name': 'Pass0', 'base_bdev_name': 'Malloc2'})
        rpc('bdev_split_create', {'base_bdev': 'Malloc3', 'split_count': 2})
        rpc('bdev_set_qos_limit', {'name': 'Malloc4', 'rw_ios_per_sec': 20000,
                                   'w_mbytes_per_sec': 10})

    def snapshot(self, tgt):
        keep = ('name', 'uuid', 'block_size', 'num_blocks', 'claimed', 'product_name',
                'assigned_rate_limits')
        return {b['name']: {k: b[k] for k in keep} for b in tgt.rpc('bdev_get_bdevs')}

    def test_round_trip_every_module(self):
        t1 = self.start_target()
        self.build_all(t1)
        before = self.snapshot(t1)
        self.assertEqual(len(before), 13, sorted(before))
        self.assertTrue(before['Malloc0']['claimed'])
        self.assertEqual(before['Malloc4']['assigned_rate_limits']['rw_ios_per_sec'], 20000)
        self.assertEqual(before['Malloc4']['assigned_rate_limits']['w_mbytes_per_sec'], 10)
        saved = self.cli_ok(t1, 'save_config')
        t1.stop(expect_code=0)

        path = os.path.join(self.dir, 'saved.json')
        with open(path, 'w') as f:
            json.dump(saved, f)
        t2 = self.start_target('--json', path)
        self.assertEqual(self.snapshot(t2), before)
        self.assertEqual(self.cli_ok(t2, 'save_config'), saved)
        t2.stop(expect_code=0)

    def test_layer_methods(self):
        t = self.start_target()
        self.build_all(t)
        st = t.rpc('bdev_get_iostat', {'names': ['Malloc0', 'Null0']})
        self.assertEqual([b['name'] for b in st['bdevs']], ['Malloc0', 'Null0'])
        self.assertIn('num_read_ops', st['bdevs'][0])
        per = t.rpc('bdev_get_iostat', {'names': ['Null0'], 'per_channel': True})
        self.assertIn('channels', per['bdevs'][0])
        self.assertTrue(t.rpc('bdev_reset_iostat', {'mode': 'all'}))
        self.assertRpcError(-19, t, 'bdev_get_iostat', {'names': ['Nope']}, contains=['Nope'])
        self.assertRpcError(-32602, t, 'bdev_get_iostat', {'reset_mode': 'some'},
                            contains=['reset_mode'])

        self.assertTrue(t.rpc('bdev_enable_histogram', {'name': 'Null0', 'enable': True}))
        h = t.rpc('bdev_get_histogram', {'name': 'Null0'})
        self.assertEqual(h['granularity'], 7)
        self.assertTrue(h['histogram'])
        self.assertRpcError(-32602, t, 'bdev_enable_histogram',
                            {'name': 'Null0', 'enable': True, 'granularity': 40},
                            contains=['granularity'])
        self.assertTrue(t.rpc('bdev_enable_histogram', {'name': 'Null0', 'enable': False}))
        self.assertRpcError(-22, t, 'bdev_get_histogram', {'name': 'Null0'},
                            contains=['not enabled'])

        self.assertRpcError(-32602, t, 'bdev_set_qos_limit',
                            {'name': 'Null0', 'rw_ios_per_sec': 1500}, contains=['1000'])
        self.assertRpcError(-32602, t, 'bdev_set_qos_limit', {'name': 'Null0'})
        self.assertRpcError(-19, t, 'bdev_set_qos_limit',
                            {'name': 'Nope', 'rw_ios_per_sec': 1000})
        # Removing the last limit turns QoS off for the bdev.
        self.assertTrue(t.rpc('bdev_set_qos_limit', {'name': 'Malloc4', 'rw_ios_per_sec': 0,
                                                     'w_mbytes_per_sec': 0}))
        limits = self.snapshot(t)['Malloc4']['assigned_rate_limits']
        self.assertEqual(set(limits.values()), {0})

        self.assertTrue(t.rpc('bdev_wait_for_examine'))
        self.assertRpcError(-19, t, 'bdev_examine', {'name': 'Nope'})
        self.assertRpcError(-19, t, 'bdev_get_bdevs', {'name': 'Nope'}, contains=['Nope'])
        # timeout: wait for a bdev that never comes, then answer not found.
        self.assertRpcError(-19, t, 'bdev_get_bdevs', {'name': 'Later', 'timeout': 200})
        # The same through rpc.py, whose -t after the method is this timeout, not its own.
        self.assertEqual(self.cli_ok(t, 'bdev_get_bdevs', '-b', 'Null0', '-t', '100')[0]['name'],
                         'Null0')
        self.cli_error(t, 'bdev_get_bdevs', '-b', 'Later', '-t', '100', code=-19)
        stats = t.rpc('iobuf_get_stats')
        self.assertEqual(stats[0]['small_pool']['count'], stats[0]['small_pool']['available'])
        t.stop(expect_code=0)

    def test_startup_options(self):
        path = os.path.join(self.dir, 'opts.json')
        with open(path, 'w') as f:
            json.dump({'subsystems': [
                {'subsystem': 'iobuf', 'config': [
                    {'method': 'iobuf_set_options',
                     'params': {'small_pool_count': 512, 'large_pool_count': 64}}]},
                {'subsystem': 'bdev', 'config': [
                    {'method': 'bdev_set_options',
                     'params': {'bdev_io_pool_size': 1024, 'bdev_io_cache_size': 64}}]}]}, f)
        t = self.start_target('--json', path)
        stats = t.rpc('iobuf_get_stats')
        self.assertEqual(stats[0]['small_pool']['count'], 512)
        cfg = {e['method']: e.get('params') for e in t.rpc('framework_get_config', {'name': 'bdev'})}
        self.assertEqual(cfg['bdev_set_options']['bdev_io_pool_size'], 1024)
        # Startup-only methods are refused at runtime.
        self.assertRpcError(-32601, t, 'bdev_set_options', {'bdev_io_pool_size': 2048})
        t.stop(expect_code=0)

    def test_bad_startup_options(self):
        path = os.path.join(self.dir, 'bad.json')
        with open(path, 'w') as f:
            json.dump({'subsystems': [{'subsystem': 'bdev', 'config': [
                {'method': 'bdev_set_options', 'params': {'bdev_io_pool_size': 10}}]}]}, f)
        t = self.start_target('--json', path, wait_ready=False)
        self.assertNotEqual(t.wait_exit(), 0)
        self.assertIn('bdev_io_pool_size', t.stderr())


if __name__ == '__main__':
    unittest.main()
