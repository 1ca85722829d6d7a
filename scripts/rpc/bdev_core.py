# SPDX-License-Identifier: BSD-3-Clause
"""The bdev layer's own methods (modules' methods are in bdev.py): listing, examine, options,
buffer pools, QoS limits, I/O statistics and latency histograms."""


def _opt(params, **kw):
    params.update({k: v for k, v in kw.items() if v is not None})
    return params


def bdev_get_bdevs(client, name=None, timeout=None):
    return client.call('bdev_get_bdevs', _opt({}, name=name, timeout=timeout))


def bdev_examine(client, name):
    return client.call('bdev_examine', {'name': name})


def bdev_wait_for_examine(client):
    return client.call('bdev_wait_for_examine')


def bdev_set_options(client, bdev_io_pool_size=None, bdev_io_cache_size=None,
                     bdev_auto_examine=None, iobuf_small_cache_size=None,
                     iobuf_large_cache_size=None):
    return client.call('bdev_set_options', _opt(
        {}, bdev_io_pool_size=bdev_io_pool_size, bdev_io_cache_size=bdev_io_cache_size,
        bdev_auto_examine=bdev_auto_examine, iobuf_small_cache_size=iobuf_small_cache_size,
        iobuf_large_cache_size=iobuf_large_cache_size))


def iobuf_set_options(client, small_pool_count=None, large_pool_count=None,
                      small_bufsize=None, large_bufsize=None):
    return client.call('iobuf_set_options', _opt(
        {}, small_pool_count=small_pool_count, large_pool_count=large_pool_count,
        small_bufsize=small_bufsize, large_bufsize=large_bufsize))


def iobuf_get_stats(client):
    return client.call('iobuf_get_stats')


def bdev_set_qos_limit(client, name, rw_ios_per_sec=None, rw_mbytes_per_sec=None,
                       r_mbytes_per_sec=None, w_mbytes_per_sec=None):
    return client.call('bdev_set_qos_limit', _opt(
        {'name': name}, rw_ios_per_sec=rw_ios_per_sec, rw_mbytes_per_sec=rw_mbytes_per_sec,
        r_mbytes_per_sec=r_mbytes_per_sec, w_mbytes_per_sec=w_mbytes_per_sec))


def bdev_get_iostat(client, names=None, per_channel=None, reset_mode=None):
    return client.call('bdev_get_iostat', _opt({}, names=names, per_channel=per_channel,
                                               reset_mode=reset_mode))


def bdev_reset_iostat(client, name=None, mode=None):
    return client.call('bdev_reset_iostat', _opt({}, name=name, mode=mode))


def bdev_enable_histogram(client, name, enable, opc=None, granularity=None):
    return client.call('bdev_enable_histogram', _opt({'name': name, 'enable': enable},
                                                     opc=opc, granularity=granularity))


def bdev_get_histogram(client, name):
    return client.call('bdev_get_histogram', {'name': name})


RESET_MODES = ('all', 'maxmin', 'error', 'none')


def add_parsers(sub):
    p = sub.add_parser('bdev_get_bdevs', help='List bdevs, or one with -b')
    p.add_argument('-b', '--name', help='bdev name')
    # dest differs from the global -t (seconds to wait for an answer), which it would clobber.
    p.add_argument('-t', '--timeout', type=int, dest='wait_ms',
                   help='ms to wait for the bdev to appear')
    p.set_defaults(run=lambda c, a: bdev_get_bdevs(c, a.name, a.wait_ms))

    p = sub.add_parser('bdev_examine', help='Have the modules examine a bdev')
    p.add_argument('name', help='bdev name')
    p.set_defaults(run=lambda c, a: bdev_examine(c, a.name))

    p = sub.add_parser('bdev_wait_for_examine', help='Wait until every examine is done')
    p.set_defaults(run=lambda c, a: bdev_wait_for_examine(c))

    p = sub.add_parser('bdev_set_options', help='Set bdev layer options (before init)')
    p.add_argument('-p', '--bdev-io-pool-size', type=int, help='bdev_ios in the pool')
    p.add_argument('-c', '--bdev-io-cache-size', type=int, help='bdev_ios cached per thread')
    p.add_argument('--iobuf-small-cache-size', type=int)
    p.add_argument('--iobuf-large-cache-size', type=int)
    g = p.add_mutually_exclusive_group()
    g.add_argument('-e', '--enable-auto-examine', dest='auto_examine', action='store_true',
                   default=None)
    g.add_argument('-d', '--disable-auto-examine', dest='auto_examine', action='store_false')
    p.set_defaults(run=lambda c, a: bdev_set_options(
        c, a.bdev_io_pool_size, a.bdev_io_cache_size, a.auto_examine,
        a.iobuf_small_cache_size, a.iobuf_large_cache_size))

    p = sub.add_parser('iobuf_set_options', help='Size the data buffer pools (before init)')
    p.add_argument('--small-pool-count', type=int)
    p.add_argument('--large-pool-count', type=int)
    p.add_argument('--small-bufsize', type=int)
    p.add_argument('--large-bufsize', type=int)
    p.set_defaults(run=lambda c, a: iobuf_set_options(
        c, a.small_pool_count, a.large_pool_count, a.small_bufsize, a.large_bufsize))

    p = sub.add_parser('iobuf_get_stats', help='Data buffer pool usage')
    p.set_defaults(run=lambda c, a: iobuf_get_stats(c))

    p = sub.add_parser('bdev_set_qos_limit', help='Set rate limits on a bdev (0 removes one)')
    p.add_argument('name', help='bdev name')
    p.add_argument('--rw-ios-per-sec', type=int, help='IOPS, a multiple of 1000')
    p.add_argument('--rw-mbytes-per-sec', type=int)
    p.add_argument('--r-mbytes-per-sec', type=int)
    p.add_argument('--w-mbytes-per-sec', type=int)
    p.set_defaults(run=lambda c, a: bdev_set_qos_limit(
        c, a.name, a.rw_ios_per_sec, a.rw_mbytes_per_sec, a.r_mbytes_per_sec,
        a.w_mbytes_per_sec))

    p = sub.add_parser('bdev_get_iostat', help='I/O statistics of bdevs')
    p.add_argument('-b', '--name', action='append', dest='names', help='bdev name (repeatable)')
    p.add_argument('-c', '--per-channel', action='store_true', default=None)
    p.add_argument('--reset-mode', choices=RESET_MODES)
    p.set_defaults(run=lambda c, a: bdev_get_iostat(c, a.names, a.per_channel, a.reset_mode))

    p = sub.add_parser('bdev_reset_iostat', help='Reset I/O statistics')
    p.add_argument('-b', '--name', help='bdev name (default: all)')
    p.add_argument('-m', '--mode', choices=RESET_MODES)
    p.set_defaults(run=lambda c, a: bdev_reset_iostat(c, a.name, a.mode))

    p = sub.add_parser('bdev_enable_histogram', help='Enable or disable a latency histogram')
    p.add_argument('name', help='bdev name')
    g = p.add_mutually_exclusive_group(required=True)
    g.add_argument('-e', '--enable', dest='enable', action='store_true')
    g.add_argument('-d', '--disable', dest='enable', action='store_false')
    p.add_argument('--opc', help='only this I/O type (read, write, ...)')
    p.add_argument('--granularity', type=int, help='buckets per power of two, log2 (1..16)')
    p.set_defaults(run=lambda c, a: bdev_enable_histogram(c, a.name, a.enable, a.opc,
                                                          a.granularity))

    p = sub.add_parser('bdev_get_histogram', help='Get a latency histogram (base64 buckets)')
    p.add_argument('name', help='bdev name')
    p.set_defaults(run=lambda c, a: bdev_get_histogram(c, a.name))
