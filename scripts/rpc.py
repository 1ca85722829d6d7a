#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Command-line JSON-RPC client for pollux_tgt, shaped like SPDK's rpc.py:

    rpc.py [-s SOCKET] [-t TIMEOUT] [-v] [-p PORT] METHOD [positional args] [--flags]

The client library and the sub-commands live in the rpc package next to this file
(scripts/rpc/); add a method by adding a function and a parser to its subsystem module.
"""

import argparse
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from rpc import COMMAND_MODULES, DEFAULT_PORT, DEFAULT_SOCKET  # noqa: E402
from rpc.client import JSONRPCClient, JSONRPCException  # noqa: E402


def build_parser():
    parser = argparse.ArgumentParser(
        description='Pollux JSON-RPC command line client',
        epilog='Use "rpc.py METHOD -h" for the arguments of a method.')
    parser.add_argument('-s', '--server', dest='server_addr', default=DEFAULT_SOCKET,
                        help='RPC UNIX socket path, or an IP address (then -p is the port); '
                        'default: %(default)s')
    parser.add_argument('-p', '--port', type=int, default=None,
                        help='TCP port when -s is an IP address (default %d)' % DEFAULT_PORT)
    parser.add_argument('-t', '--timeout', type=float, default=60.0,
                        help='seconds to wait for the connection and for each response; '
                        'default: %(default)s')
    parser.add_argument('-r', '--conn-retries', type=int, default=0,
                        help='retry connecting N times, 0.2 s apart (for a daemon still '
                        'starting); default: %(default)s')
    parser.add_argument('-v', '--verbose', action='store_true',
                        help='print every request and response to stderr')
    sub = parser.add_subparsers(dest='method', metavar='METHOD', help='RPC method')
    sub.required = True
    for module in COMMAND_MODULES:
        module.add_parsers(sub)
    return parser


def print_error(exc):
    """Report a failed call on stderr the way SPDK's rpc.py does."""
    context = getattr(exc, 'context', None)
    if context:
        print(context, file=sys.stderr)
    if exc.error is None:
        print(exc.message, file=sys.stderr)
        return
    if exc.request is not None:
        params = exc.request.get('params')
        req = dict(params) if isinstance(params, dict) else {'params': params} if params else {}
        req['method'] = exc.request['method']
        req['req_id'] = exc.request['id']
        print('request:\n' + json.dumps(req, indent=2), file=sys.stderr)
    print('Got JSON-RPC error response', file=sys.stderr)
    print('response:\n' + json.dumps(exc.error, indent=2), file=sys.stderr)


def main(argv=None):
    args = build_parser().parse_args(argv)
    try:
        with JSONRPCClient(args.server_addr, args.port, timeout=args.timeout,
                           connect_timeout=max(args.conn_retries, 0) * 0.2,
                           verbose=args.verbose) as client:
            result = args.run(client, args)
    except JSONRPCException as exc:
        print_error(exc)
        return 1
    except KeyboardInterrupt:
        return 130
    if result is not None:
        print(json.dumps(result, indent=2))
    return 0


if __name__ == '__main__':
    sys.exit(main())
