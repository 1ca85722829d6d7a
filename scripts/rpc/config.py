# SPDX-License-Identifier: BSD-3-Clause
"""save_config / load_config: client-side commands built on framework_get_subsystems,
framework_get_config and rpc_get_methods. The file format is SPDK's:
{"subsystems": [{"subsystem": NAME, "config": [{"method": M, "params": P}, ...]}, ...]}"""

import json
import sys

from rpc.client import JSONRPCException
from rpc.app import rpc_get_methods
from rpc.framework import (framework_get_config, framework_get_subsystems, framework_start_init,
                           framework_wait_init)


def save_config(client):
    """Return the whole configuration of the target as a dict."""
    subsystems = []
    for s in framework_get_subsystems(client):
        name = s['subsystem']
        subsystems.append({'subsystem': name, 'config': framework_get_config(client, name)})
    return {'subsystems': subsystems}


def _parse_config(cfg):
    """Validate cfg and return [(subsystem, [entry, ...]), ...] for the non-empty subsystems."""
    if not isinstance(cfg, dict) or not isinstance(cfg.get('subsystems'), list):
        raise JSONRPCException('load_config: expected an object with a "subsystems" array')
    pending = []
    for i, s in enumerate(cfg['subsystems']):
        if not isinstance(s, dict) or not isinstance(s.get('subsystem'), str):
            raise JSONRPCException('load_config: subsystems[%d]: missing "subsystem" name' % i)
        name = s['subsystem']
        entries = s.get('config') or []
        if not isinstance(entries, list):
            raise JSONRPCException("load_config: subsystem '%s': \"config\" is not an array" % name)
        for j, e in enumerate(entries):
            if not isinstance(e, dict) or not isinstance(e.get('method'), str):
                raise JSONRPCException("load_config: subsystem '%s': config[%d] has no method"
                                       % (name, j))
        if entries:
            pending.append((name, list(entries)))
    return pending


def _apply_allowed(client, pending, allowed):
    """Call every pending entry whose method is allowed now, in order; True if any ran."""
    progress = False
    for name, entries in pending:
        for e in list(entries):
            if e['method'] not in allowed:
                continue
            try:
                client.call(e['method'], e.get('params'))
            except JSONRPCException as exc:
                exc.context = "load_config: subsystem '%s', method '%s' failed" % (name, e['method'])
                raise
            entries.remove(e)
            progress = True
    pending[:] = [(n, es) for n, es in pending if es]
    return progress


def load_config(client, cfg, log=sys.stderr):
    """Apply cfg (a dict in save_config's format). Entries allowed in the current state run
    first; if the target waits for framework_start_init, that is called next and the
    remaining (runtime) entries follow."""
    pending = _parse_config(cfg)
    known = set(rpc_get_methods(client))
    for name, entries in pending:
        for e in entries:
            if e['method'] not in known:
                raise JSONRPCException("load_config: subsystem '%s': unknown method '%s'"
                                       % (name, e['method']))
    started = False
    while True:
        allowed = set(rpc_get_methods(client, current=True))
        progress = _apply_allowed(client, pending, allowed)
        if not started and 'framework_start_init' in allowed:
            framework_start_init(client)
            framework_wait_init(client)
            started = progress = True
        if not pending or not progress:
            break
    for name, entries in pending:
        for e in entries:
            print("load_config: skipped subsystem '%s', method '%s': not allowed in the current "
                  "state" % (name, e['method']), file=log)


def _read_json(path):
    try:
        if path is None or path == '-':
            return json.load(sys.stdin)
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError) as e:
        raise JSONRPCException('load_config: cannot read %s: %s'
                               % ('stdin' if path in (None, '-') else path, e)) from None


def _run_save(client, args):
    print(json.dumps(save_config(client), indent=args.indent))


def _run_load(client, args):
    load_config(client, _read_json(args.json_conf))


def add_parsers(sub):
    p = sub.add_parser('save_config', help='Print the configuration of the target as JSON')
    p.add_argument('-i', '--indent', type=int, default=2, help='JSON indentation (default 2)')
    p.set_defaults(run=_run_save)

    p = sub.add_parser('load_config', help='Apply a configuration read from stdin or a file')
    p.add_argument('-j', '--json-conf', '--json', metavar='FILE',
                   help='configuration file (default: stdin)')
    p.set_defaults(run=_run_load)
