# SPDX-License-Identifier: BSD-3-Clause
"""thread_* methods: per-thread statistics, pollers and I/O channels."""


def thread_get_stats(client):
    return client.call('thread_get_stats')


def thread_get_pollers(client):
    return client.call('thread_get_pollers')


def thread_get_io_channels(client):
    return client.call('thread_get_io_channels')


def add_parsers(sub):
    p = sub.add_parser('thread_get_stats', help='Get statistics of every thread')
    p.set_defaults(run=lambda c, a: thread_get_stats(c))

    p = sub.add_parser('thread_get_pollers', help='Get the pollers of every thread')
    p.set_defaults(run=lambda c, a: thread_get_pollers(c))

    p = sub.add_parser('thread_get_io_channels', help='Get the I/O channels of every thread')
    p.set_defaults(run=lambda c, a: thread_get_io_channels(c))
