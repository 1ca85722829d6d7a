# SPDX-License-Identifier: BSD-3-Clause
"""sock_* methods: socket implementations ("posix", "uring") and their options."""


def sock_impl_get_options(client, impl_name):
    return client.call('sock_impl_get_options', {'impl_name': impl_name})


def sock_impl_set_options(client, impl_name, recv_buf_size=None, send_buf_size=None,
                          enable_recv_pipe=None, enable_quickack=None, enable_placement_id=None,
                          enable_zerocopy_send_server=None, enable_zerocopy_send_client=None,
                          zerocopy_threshold=None, tls_version=None, enable_ktls=None):
    params = {'impl_name': impl_name}
    for name, value in (('recv_buf_size', recv_buf_size), ('send_buf_size', send_buf_size),
                        ('enable_recv_pipe', enable_recv_pipe),
                        ('enable_quickack', enable_quickack),
                        ('enable_placement_id', enable_placement_id),
                        ('enable_zerocopy_send_server', enable_zerocopy_send_server),
                        ('enable_zerocopy_send_client', enable_zerocopy_send_client),
                        ('zerocopy_threshold', zerocopy_threshold),
                        ('tls_version', tls_version), ('enable_ktls', enable_ktls)):
        if value is not None:
            params[name] = value
    return client.call('sock_impl_set_options', params)


def sock_set_default_impl(client, impl_name):
    return client.call('sock_set_default_impl', {'impl_name': impl_name})


def sock_get_default_impl(client):
    return client.call('sock_get_default_impl')


def _on_off(parser, name, what):
    """--enable-NAME / --disable-NAME, absent when neither is given."""
    g = parser.add_mutually_exclusive_group()
    dest = 'enable_' + name.replace('-', '_')
    g.add_argument('--enable-' + name, dest=dest, action='store_true', default=None,
                   help='enable ' + what)
    g.add_argument('--disable-' + name, dest=dest, action='store_false',
                   help='disable ' + what)


def add_parsers(sub):
    p = sub.add_parser('sock_impl_get_options',
                       help='Get the options of a socket implementation')
    p.add_argument('-i', '--impl', dest='impl', required=True,
                   help='implementation name, e.g. posix or uring')
    p.set_defaults(run=lambda c, a: sock_impl_get_options(c, a.impl))

    p = sub.add_parser('sock_impl_set_options',
                       help='Set the options of a socket implementation (before '
                       'framework_start_init)')
    p.add_argument('-i', '--impl', dest='impl', required=True,
                   help='implementation name, e.g. posix or uring')
    p.add_argument('-r', '--recv-buf-size', dest='recv_buf_size', type=int,
                   help='SO_RCVBUF of new sockets in bytes (0: the kernel\'s)')
    p.add_argument('-s', '--send-buf-size', dest='send_buf_size', type=int,
                   help='SO_SNDBUF of new sockets in bytes (0: the kernel\'s)')
    p.add_argument('-p', '--enable-placement-id', dest='enable_placement_id', type=int,
                   help='placement id source: 0 none, 1 incoming NAPI id, 2 incoming cpu')
    _on_off(p, 'recv-pipe', 'the receive pipe')
    _on_off(p, 'quickack', 'TCP_QUICKACK on accepted sockets')
    _on_off(p, 'zerocopy-send-server', 'MSG_ZEROCOPY sends on accepted sockets')
    _on_off(p, 'zerocopy-send-client', 'MSG_ZEROCOPY sends on connected sockets')
    p.add_argument('--zerocopy-threshold', dest='zerocopy_threshold', type=int,
                   help='sends smaller than this many bytes never use zero copy')
    p.add_argument('--tls-version', dest='tls_version', type=int,
                   help='TLS version (accepted and saved; no TLS yet)')
    _on_off(p, 'ktls', 'kernel TLS (accepted and saved; no TLS yet)')
    p.set_defaults(run=lambda c, a: sock_impl_set_options(
        c, a.impl, recv_buf_size=a.recv_buf_size, send_buf_size=a.send_buf_size,
        enable_recv_pipe=a.enable_recv_pipe, enable_quickack=a.enable_quickack,
        enable_placement_id=a.enable_placement_id,
        enable_zerocopy_send_server=a.enable_zerocopy_send_server,
        enable_zerocopy_send_client=a.enable_zerocopy_send_client,
        zerocopy_threshold=a.zerocopy_threshold, tls_version=a.tls_version,
        enable_ktls=a.enable_ktls))

    p = sub.add_parser('sock_set_default_impl',
                       help='Set the default socket implementation (before '
                       'framework_start_init)')
    p.add_argument('-i', '--impl', dest='impl', required=True,
                   help='implementation name, e.g. posix or uring')
    p.set_defaults(run=lambda c, a: sock_set_default_impl(c, a.impl))

    p = sub.add_parser('sock_get_default_impl',
                       help='Get the name of the default socket implementation')
    p.set_defaults(run=lambda c, a: sock_get_default_impl(c))
