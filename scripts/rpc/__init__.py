# SPDX-License-Identifier: BSD-3-Clause
"""Pollux's JSON-RPC client library and rpc.py sub-commands.

`from rpc import JSONRPCClient` works with scripts/ on sys.path (the package shadows rpc.py,
which only parses the command line). Each subsystem module holds one small function per
method plus an add_parsers(subparsers) that registers its sub-commands; COMMAND_MODULES lists
them in the order rpc.py registers them.
"""

from rpc.client import JSONRPCClient, JSONRPCException, DEFAULT_SOCKET, DEFAULT_PORT
from rpc import app, bdev, bdev_core, bdevperf, config, framework, log, sock, thread
from rpc import nvmf

COMMAND_MODULES = (app, framework, log, thread, sock, bdev_core, bdev, bdevperf, config,
                   nvmf)

__all__ = ['JSONRPCClient', 'JSONRPCException', 'DEFAULT_SOCKET', 'DEFAULT_PORT', 'COMMAND_MODULES']
