# SPDX-License-Identifier: BSD-3-Clause
"""Application-level methods: rpc_get_methods, spdk_get_version, spdk_kill_instance."""

SIGNALS = ('SIGINT', 'SIGTERM', 'SIGQUIT', 'SIGHUP', 'SIGKILL', 'SIGUSR1')


def rpc_get_methods(client, current=None, include_aliases=None):
    params = {}
    if current:
        params['current'] = True
    if include_aliases:
        params['include_aliases'] = True
    return client.call('rpc_get_methods', params or None)


def spdk_get_version(client):
    return client.call('spdk_get_version')


def spdk_kill_instance(client, sig_name):
    return client.call('spdk_kill_instance', {'sig_name': sig_name})


def add_parsers(sub):
    p = sub.add_parser('rpc_get_methods', help='List the RPC methods the target knows')
    p.add_argument('-c', '--current', action='store_true',
                   help='only the methods callable in the current state')
    p.add_argument('-i', '--include-aliases', action='store_true',
                   help='include deprecated aliases')
    p.set_defaults(run=lambda c, a: rpc_get_methods(c, a.current, a.include_aliases))

    p = sub.add_parser('spdk_get_version', help='Get the version of the running target')
    p.set_defaults(run=lambda c, a: spdk_get_version(c))

    p = sub.add_parser('spdk_kill_instance', help='Send a signal to the target')
    p.add_argument('sig_name', help='one of ' + ', '.join(SIGNALS))
    p.set_defaults(run=lambda c, a: spdk_kill_instance(c, a.sig_name))
